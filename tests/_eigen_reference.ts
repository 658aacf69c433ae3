/**
 * A float64 reference for symmetric eigenproblems in plain loops (cyclic Jacobi rotations),
 * independent of the `prism_eigh_f64` kernel: what the PCA and MNF tests compare against.
 *
 * @module
 */

import { uniform } from "../synth/uniform.ts";

/**
 * Eigenvalues (descending) and eigenvectors (columns, row-major `n × n`) of a symmetric matrix,
 * by cyclic Jacobi sweeps until the off-diagonal is below 1e-15 of the Frobenius norm.
 *
 * @param a `n × n` symmetric, row-major (not modified).
 * @param n The order.
 * @returns `values` descending and `vectors` (column j belongs to `values[j]`).
 */
export function jacobiEigen(
  a: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const norm = Math.sqrt(m.reduce((s, x) => s + x * x, 0));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (Math.sqrt(off) <= 1e-15 * norm) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, j) => {
    for (let k = 0; k < n; k++) vectors[k * n + j] = v[k * n + src];
  });
  return { values, vectors };
}

/**
 * Per-column sample variance (ddof 1) of a row-major `rows × cols` matrix, in float64.
 *
 * @param data The values.
 * @param cols Columns.
 * @returns The `cols` variances.
 */
export function columnVariances(data: ArrayLike<number>, cols: number): Float64Array {
  const rows = data.length / cols;
  const mean = new Float64Array(cols);
  for (let i = 0; i < data.length; i++) mean[i % cols] += data[i] / rows;
  const out = new Float64Array(cols);
  for (let i = 0; i < data.length; i++) out[i % cols] += (data[i] - mean[i % cols]) ** 2;
  return out.map((s) => s / (rows - 1));
}

/**
 * An n×n orthogonal matrix, the product of three Householder reflections (row-major).
 *
 * @param n The order.
 * @param seed Seed of the reflections' vectors.
 * @returns `Q`, row-major.
 */
export function orthogonal(n: number, seed: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const next = uniform(seed);
  for (let h = 0; h < 3; h++) {
    const v = Float64Array.from({ length: n }, next);
    const vv = v.reduce((s, x) => s + x * x, 0);
    if (vv === 0) continue;
    // Q ← Q·(I − 2vvᵀ/vᵀv)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += q[i * n + j] * v[j];
      const f = (2 * s) / vv;
      for (let j = 0; j < n; j++) q[i * n + j] -= f * v[j];
    }
  }
  return q;
}

/**
 * `Q·diag(λ)·Qᵀ` in float64, with `Q` from {@linkcode orthogonal}: a symmetric matrix whose
 * spectrum is `lambda`.
 *
 * @param lambda The eigenvalues.
 * @param seed Seed of `Q`.
 * @returns The full `n × n` matrix, row-major.
 */
export function withSpectrum(lambda: ArrayLike<number>, seed: number): Float64Array {
  const n = lambda.length;
  const q = orthogonal(n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}
