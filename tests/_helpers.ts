/**
 * Float64 references for the tests, written as plain loops, independent of any kernel's
 * blocking. Seeded data comes from `synth/uniform.ts`; the Gram references, which the benchmarks
 * also time as scalar baselines, from `bench/_scalar_baselines.ts`. Process and file helpers
 * (python3, error assertions, temporary folders) are in `_io_helpers.ts`.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { gramColumns64 } from "../bench/_scalar_baselines.ts";

export { gramColumns64, gramRows64 } from "../bench/_scalar_baselines.ts";

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
