/**
 * Numeric helpers shared by the tests and the benchmarks: seeded data (from synth/rng.ts's
 * `Rng`, so a failure reproduces) and float64 references written as plain loops, independent of
 * any kernel's blocking. Process and file helpers (python3, error assertions, temporary folders)
 * are in `_io_helpers.ts`.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import type { Matrix } from "../core/types.ts";
import { Rng } from "../synth/rng.ts";

/**
 * A seeded stream of uniform numbers in `[lo, hi)`.
 *
 * @param seed A whole number in `[0, 2^53)`; equal seeds give equal streams.
 * @param lo Smallest value (default -1).
 * @param hi Bound above every value (default 1).
 * @returns The next number, each call.
 */
export function uniform(seed: number, lo = -1, hi = 1): () => number {
  const rng = new Rng(seed);
  return () => lo + (hi - lo) * rng.uniform();
}

/**
 * Fills `target` in place with seeded uniform numbers in `[lo, hi)`, e.g. a view into wasm
 * memory, so large inputs need no second copy.
 *
 * @param target The array to fill.
 * @param seed A whole number in `[0, 2^53)`.
 * @param lo Smallest value (default -1).
 * @param hi Bound above every value (default 1).
 * @returns `target`.
 */
export function fillUniform<T extends Float32Array | Float64Array>(
  target: T,
  seed: number,
  lo = -1,
  hi = 1,
): T {
  const next = uniform(seed, lo, hi);
  for (let i = 0; i < target.length; i++) target[i] = next();
  return target;
}

/**
 * `n` seeded uniform float32 numbers in `[lo, hi)`.
 *
 * @param n How many.
 * @param seed A whole number in `[0, 2^53)`.
 * @param lo Smallest value (default -1).
 * @param hi Bound above every value (default 1).
 * @returns The numbers.
 */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array<ArrayBuffer> {
  return fillUniform(new Float32Array(n), seed, lo, hi);
}

/**
 * `n` seeded uniform float64 numbers in `[lo, hi)`.
 *
 * @param n How many.
 * @param seed A whole number in `[0, 2^53)`.
 * @param lo Smallest value (default -1).
 * @param hi Bound above every value (default 1).
 * @returns The numbers.
 */
export function randomF64(n: number, seed: number, lo = -1, hi = 1): Float64Array<ArrayBuffer> {
  return fillUniform(new Float64Array(n), seed, lo, hi);
}

/**
 * A seeded `rows x cols` matrix of uniform numbers in `[lo, hi)`.
 *
 * @param rows Rows.
 * @param cols Columns.
 * @param seed A whole number in `[0, 2^53)`.
 * @param lo Smallest value (default -1).
 * @param hi Bound above every value (default 1).
 * @returns The matrix.
 */
export function randomMatrix(rows: number, cols: number, seed: number, lo = -1, hi = 1): Matrix {
  return { data: randomF32(rows * cols, seed, lo, hi), rows, cols };
}

/**
 * Float64 column sums of a row-major block, and the sums of absolute values (the scale an
 * error bound is relative to, robust to cancellation).
 *
 * @param data Row-major values, `rows x cols`.
 * @param cols Columns (`data.length` is a multiple).
 * @returns `sums` and `magnitudes`, `cols` each.
 */
export function columnSums64(
  data: ArrayLike<number>,
  cols: number,
): { sums: Float64Array; magnitudes: Float64Array } {
  const sums = new Float64Array(cols);
  const magnitudes = new Float64Array(cols);
  for (let i = 0; i < data.length; i++) {
    sums[i % cols] += data[i];
    magnitudes[i % cols] += Math.abs(data[i]);
  }
  return { sums, magnitudes };
}

/**
 * Asserts that `got` holds the column sums of `data`, each within `relTol` of the column's sum
 * of absolute values plus `absTol`: a relative bound that cancellation cannot loosen.
 *
 * @param got The sums under test.
 * @param data Row-major values, `rows x cols`.
 * @param cols Columns.
 * @param relTol Allowed error relative to the sum of absolute values.
 * @param what Names the case in messages.
 * @param absTol Allowed error on top (default 0).
 * @throws {AssertionError} When a sum is off or the length differs from `cols`.
 */
export function assertColumnSums(
  got: ArrayLike<number>,
  data: ArrayLike<number>,
  cols: number,
  relTol: number,
  what = "",
  absTol = 0,
): void {
  const { sums, magnitudes } = columnSums64(data, cols);
  equal(got.length, cols, `${what}: ${got.length} sums for ${cols} columns`);
  for (let c = 0; c < cols; c++) {
    const error = Math.abs(got[c] - sums[c]);
    ok(
      error <= relTol * magnitudes[c] + absTol,
      `${what}: column ${c} is ${got[c]}, float64 reference ${sums[c]} (error ${error})`,
    );
  }
}

/**
 * The upper triangle of `Σ_r d_rᵀ d_r` with `d_r = x[r] - shift` (the Gram matrix of the
 * columns, `XᵀX` for a zero shift), in float64, one row at a time. The strict lower triangle
 * stays zero. Benchmarks time it as the scalar baseline.
 *
 * @param x Row-major values, `rows x cols`.
 * @param rows Rows.
 * @param cols Columns.
 * @param shift Subtracted from every row (default none).
 * @returns `cols x cols`, row-major.
 */
export function gramColumns64(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  shift?: ArrayLike<number>,
): Float64Array {
  const gram = new Float64Array(cols * cols);
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = x[r * cols + c] - (shift === undefined ? 0 : shift[c]);
    for (let i = 0; i < cols; i++) {
      const di = d[i];
      for (let j = i; j < cols; j++) gram[i * cols + j] += di * d[j];
    }
  }
  return gram;
}

/**
 * The upper triangle of `A·Aᵀ` (the Gram matrix of the rows) in float64, one dot product per
 * entry. The strict lower triangle stays zero. Benchmarks time it as the scalar baseline.
 *
 * @param a Row-major values, `rows x cols`.
 * @param rows Rows.
 * @param cols Columns.
 * @returns `rows x rows`, row-major.
 */
export function gramRows64(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const gram = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += a[i * cols + c] * a[j * cols + c];
      gram[i * rows + j] = s;
    }
  }
  return gram;
}

/**
 * The upper triangle of the sample covariance (divisor `rows - 1`) in float64 by two passes:
 * the column means first, then the Gram matrix of the centred rows.
 *
 * @param x Row-major values, `rows x cols`, `rows >= 2`.
 * @param rows Rows.
 * @param cols Columns.
 * @returns `cols x cols`, row-major; the strict lower triangle is zero.
 */
export function covariance64(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const mean = columnSums64(x, cols).sums.map((s) => s / rows);
  return gramColumns64(x, rows, cols, mean).map((g) => g / (rows - 1));
}
