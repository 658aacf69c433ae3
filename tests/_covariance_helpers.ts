/**
 * Shared by tests/covariance_test.ts and tests/covariance_gpu_test.ts: seeded data and float64
 * references computed independently of prism's kernels (two-pass, exact mean first).
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";

/** Seeded uniform numbers in [0, 1), so failures reproduce. */
export { seededUniform as random } from "../core/seeded_uniform.ts";

/** A `rows × cols` matrix with values `value(r, c)` rounded to float32. */
export function matrix(
  rows: number,
  cols: number,
  value: (r: number, c: number) => number,
): Matrix {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = value(r, c);
  return { data, rows, cols };
}

/** Two-pass float64 mean and covariance of the float32 values. */
export function reference(m: Matrix, ddof = 1): { mean: Float64Array; cov: Float64Array } {
  const { data, rows, cols } = m;
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  const cov = new Float64Array(cols * cols);
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = data[r * cols + c] - mean[c];
    for (let i = 0; i < cols; i++) {
      for (let j = 0; j < cols; j++) cov[i * cols + j] += d[i] * d[j];
    }
  }
  for (let i = 0; i < cov.length; i++) cov[i] /= rows - ddof;
  return { mean, cov };
}

/** ‖a - b‖_F / ‖b‖_F (absolute when ‖b‖ is 0). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Row-major transpose. */
export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[c * m.rows + r] = m.data[r * m.cols + c];
  }
  return { data: out, rows: m.cols, cols: m.rows };
}

/** Float64 `AᵀA` of a matrix (full). */
export function referenceGram(m: Matrix, shift?: Float32Array): Float64Array {
  const { data, rows, cols } = m;
  const g = new Float64Array(cols * cols);
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = data[r * cols + c] - (shift?.[c] ?? 0);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) g[i * cols + j] += d[i] * d[j];
  }
  return g;
}

/** The sizes issue 3 asks for. */
export const ROWS = [2, 3, 7, 257, 1000];
export const COLS = [1, 2, 3, 13, 50, 67];
