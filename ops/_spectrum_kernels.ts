/**
 * The float64 kernels behind `singularValues` (ops/spectrum.ts): eigenvalues of a symmetric
 * matrix (`prism_eigh_f64`, values only) and one-sided Jacobi singular values
 * (`prism_svd_jacobi_f64`), with their buffers managed.
 *
 * @module
 */

import type { Kernels } from "../wasm/kernels.ts";

/**
 * Eigenvalues of the symmetric `n × n` float64 matrix `a` (only its upper triangle is read),
 * descending. `a` itself is left unchanged (the kernel works on a copy in WASM memory).
 */
export function symmetricEigenvalues(kernels: Kernels, a: Float64Array, n: number): Float64Array {
  if (n === 0) return new Float64Array(0);
  const { exports } = kernels;
  let matrix = 0;
  let values = 0;
  let scratch = 0;
  try {
    matrix = kernels.alloc(n * n * 8);
    values = kernels.alloc(n * 8);
    scratch = kernels.alloc(exports.prism_eigh_f64_scratch_len(n) * 8);
    kernels.f64(matrix, n * n).set(a);
    kernels.check("prism_eigh_f64", exports.prism_eigh_f64(matrix, n, values, 0, scratch));
    return kernels.f64(values, n).slice();
  } finally {
    kernels.free(matrix);
    kernels.free(values);
    kernels.free(scratch);
  }
}

/**
 * Singular values of the row-major `rows × cols` float32 data, converted to float64, by
 * one-sided Jacobi; descending, `min(rows, cols)` of them. (The kernel scales badly scaled
 * input by a power of two itself.)
 */
export function jacobiSingularValues(
  kernels: Kernels,
  data: Float32Array,
  rows: number,
  cols: number,
): Float64Array {
  const count = Math.min(rows, cols);
  if (count === 0) return new Float64Array(0);
  const { exports } = kernels;
  let matrix = 0;
  let values = 0;
  let scratch = 0;
  try {
    matrix = kernels.alloc(rows * cols * 8);
    values = kernels.alloc(count * 8);
    scratch = kernels.alloc(Math.max(1, exports.prism_svd_jacobi_f64_scratch_len(rows, cols)) * 8);
    kernels.f64(matrix, rows * cols).set(data);
    kernels.check(
      "prism_svd_jacobi_f64",
      exports.prism_svd_jacobi_f64(matrix, rows, cols, values, scratch),
    );
    return kernels.f64(values, count).slice();
  } finally {
    kernels.free(matrix);
    kernels.free(values);
    kernels.free(scratch);
  }
}
