/**
 * The float64 eigen family (`prism_eigh_f64`, `prism_eigvalsh_f64`, `prism_svd_jacobi_f64`,
 * kernels/src/eigen*; the one place that calls them): symmetric eigenvalues with optional
 * eigenvectors (values alone take the cheaper root-free QL), and one-sided Jacobi singular
 * values. Inputs are copied into kernel memory (the kernels destroy them);
 * results come back as plain `Float64Array`s.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { Matrix } from "../core/types.ts";
import { KernelArena } from "./arena.ts";
import { loadKernels } from "./loader.ts";
import type { Kernels } from "./kernels.ts";

/** A symmetric float64 matrix: `n × n` row-major, of which only the upper triangle is read. */
export interface SymmetricInput {
  readonly data: Float64Array;
  readonly n: number;
}

/** Options of {@linkcode symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** Also compute the eigenvectors; default false. */
  vectors?: boolean;
  /** Added to the diagonal first (`A + shift·I`, e.g. a regularising eps); default 0. */
  diagonalShift?: number;
}

/** Eigenvalues, descending, and the eigenvectors when asked for. */
export interface SymmetricEigen {
  /** `n` eigenvalues, descending. */
  readonly values: Float64Array;
  /** `n × n` row-major: column `j` is the eigenvector of `values[j]`. */
  readonly vectors?: Float64Array;
}

/**
 * Eigen-decomposes a symmetric float64 matrix. The input is left unchanged.
 *
 * @param input `data` (`n²` values, upper triangle read) and `n`.
 * @param options `vectors`, `diagonalShift`.
 * @returns The eigenvalues (descending) and, with `vectors`, the eigenvectors as columns.
 * @throws {TypeError} When `n` is not a whole number or `data` does not hold `n²` values.
 * @throws {InvalidDataError} When the upper triangle holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { symmetricEigen } from "./eigen.ts";
 * import assert from "node:assert";
 * const { values, vectors } = await symmetricEigen(
 *   { data: new Float64Array([2, 1, 1, 2]), n: 2 },
 *   { vectors: true },
 * );
 * assert(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
 * assert(Math.abs(Math.abs(vectors![0]) - Math.SQRT1_2) < 1e-12);
 * ```
 */
export async function symmetricEigen(
  input: SymmetricInput,
  options: SymmetricEigenOptions = {},
): Promise<SymmetricEigen> {
  const { data, n } = input;
  checkInteger("n", n);
  if (!(data instanceof Float64Array) || data.length !== n * n) {
    throw new TypeError(
      `data must be a Float64Array of n² = ${n * n} values, got ${data?.length ?? typeof data}`,
    );
  }
  const withVectors = options.vectors ?? false;
  if (n === 0) {
    return { values: new Float64Array(0), ...withVectors ? { vectors: new Float64Array(0) } : {} };
  }
  const kernels = await loadKernels();
  using arena = new KernelArena(kernels);
  const a = arena.f64(n * n);
  const view = kernels.f64(a, n * n);
  view.set(data);
  const shift = options.diagonalShift ?? 0;
  if (shift !== 0) { for (let i = 0; i < n; i++) view[i * n + i] += shift; }
  if (withVectors) {
    const values = arena.f64(n);
    const vectors = arena.f64(n * n);
    const scratch = arena.f64(kernels.exports.prism_eigh_f64_scratch_len(n));
    kernels.check(
      "prism_eigh_f64",
      kernels.exports.prism_eigh_f64(a, n, values, vectors, scratch),
    );
    return { values: kernels.f64(values, n).slice(), vectors: kernels.f64(vectors, n * n).slice() };
  }
  return { values: await eigenvaluesInPlace(kernels, a, n) };
}

/**
 * The eigenvalues, descending, of a symmetric float64 matrix already in kernel memory: the
 * route of the singular values, whose Gram is formed there, so no `n × n` array crosses into
 * JavaScript. Householder reduction to tridiagonal form, then root-free QL (no rotations).
 *
 * @param kernels The loaded module whose memory holds the matrix.
 * @param a Byte address of `n × n` row-major float64 values; only the upper triangle is read,
 *   and the whole matrix is destroyed.
 * @param n The order, at least 1.
 * @returns The `n` eigenvalues, descending, in a fresh array.
 * @throws {InvalidDataError} When the upper triangle holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { eigenvaluesInPlace } from "./eigen.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const a = kernels.alloc(4 * 8);
 * kernels.f64(a, 4).set([2, 1, 1, 2]);
 * const values = await eigenvaluesInPlace(kernels, a, 2);
 * kernels.free(a);
 * assert(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
 * ```
 */
export async function eigenvaluesInPlace(
  kernels: Kernels,
  a: number,
  n: number,
): Promise<Float64Array> {
  checkInteger("n", n);
  if (n < 1) throw new RangeError(`eigenvaluesInPlace() needs n >= 1, got ${n}`);
  await using arena = new KernelArena(kernels);
  const values = arena.f64(n);
  const scratch = arena.f64(kernels.exports.prism_eigvalsh_f64_scratch_len(n));
  kernels.check("prism_eigvalsh_f64", kernels.exports.prism_eigvalsh_f64(a, n, values, scratch));
  return kernels.f64(values, n).slice();
}

/**
 * Singular values of a float32 matrix, converted to float64, by one-sided Jacobi: descending,
 * `min(rows, cols)` of them; accurate down to tiny values. (The kernel scales badly scaled input
 * by a power of two itself.)
 *
 * @param input The row-major matrix, float32 or float64 (validated by the caller).
 * @returns The singular values.
 * @throws {InvalidDataError} When the data holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { jacobiSingularValues } from "./eigen.ts";
 * import assert from "node:assert";
 * const s = await jacobiSingularValues({ data: new Float32Array([3, 0, 4, 0, 0, 2]), rows: 3, cols: 2 });
 * assert(Math.abs(s[0] - 5) < 1e-12 && Math.abs(s[1] - 2) < 1e-12);
 * ```
 */
export async function jacobiSingularValues(
  input: Matrix | { data: Float64Array; rows: number; cols: number },
): Promise<Float64Array> {
  const { data, rows, cols } = input;
  const count = Math.min(rows, cols);
  if (count === 0) return new Float64Array(0);
  const kernels = await loadKernels();
  using arena = new KernelArena(kernels);
  const a = arena.f64(rows * cols);
  kernels.f64(a, rows * cols).set(data);
  const values = arena.f64(count);
  const scratch = arena.f64(kernels.exports.prism_svd_jacobi_f64_scratch_len(rows, cols));
  kernels.check(
    "prism_svd_jacobi_f64",
    kernels.exports.prism_svd_jacobi_f64(a, rows, cols, values, scratch),
  );
  return kernels.f64(values, count).slice();
}
