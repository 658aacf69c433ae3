/**
 * The covariance accumulator's rare path: telling whether a chunk's statistics saw NaN or
 * infinity, and keeping only the finite rows when the caller asked to skip invalid pixels.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { firstNonFinite } from "../core/validate.ts";

/** True when the sums and the Gram's diagonal are finite (NaN/∞ in the data reach both). */
export function finiteStats(sum: Float64Array, g: Float64Array, c: number): boolean {
  for (let i = 0; i < c; i++) {
    if (!Number.isFinite(sum[i]) || !Number.isFinite(g[i * c + i])) return false;
  }
  return true;
}

/** The rows of `m` without NaN or infinity, copied. */
export function finiteRows(m: Matrix): Matrix {
  const { data, rows, cols } = m;
  const out = new Float32Array(data.length);
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * cols, (r + 1) * cols);
    if (firstNonFinite(row, cols) === undefined) out.set(row, kept++ * cols);
  }
  return { data: out.subarray(0, kept * cols), rows: kept, cols };
}
