/**
 * The shift a covariance accumulator subtracts before the Gram kernels: an estimate of the column
 * means, so the float32 sums of `(x - shift)` products lose no digits to the centring.
 *
 * Why a strided sample rather than the first chunk's exact mean: the exact mean costs a full
 * extra pass over the chunk (for a 328 MB matrix, a third of the covariance's time), while the
 * shift only has to be near the mean relative to the spread. Up to {@linkcode SAMPLE_ROWS} rows
 * spread evenly over the chunk (all of them in smaller chunks) put it within a few percent of a
 * standard deviation, where its effect on the error is negligible.
 *
 * Why it is rounded to a grid of about σ/32: `x - shift` then carries few significant bits, so on
 * quantised data (sensor counts, small integers) every float32 product and block sum is exact and
 * any split of the rows gives the same answer to float64 rounding. The rounding moves the shift
 * by at most σ/64, which costs nothing in accuracy.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";

/** The most rows sampled for the shift. */
export const SAMPLE_ROWS = 4096;

/**
 * Estimates the column means of `m` from evenly spaced rows, skipping rows with NaN or infinity.
 *
 * @param m A validated matrix with at least one row.
 * @returns The shift (float32), or `undefined` when no sampled row is finite.
 */
export function estimateShift(m: Matrix): Float32Array | undefined {
  const { data, rows, cols } = m;
  const take = Math.min(rows, SAMPLE_ROWS);
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  let used = 0;
  for (let s = 0; s < take; s++) {
    const base = Math.floor((s * rows) / take) * cols;
    let finite = true;
    for (let c = 0; c < cols; c++) {
      const v = data[base + c];
      if (v - v !== 0) finite = false;
    }
    if (!finite) continue;
    used++;
    // Welford: the sample can sit far from zero.
    for (let c = 0; c < cols; c++) {
      const d = data[base + c] - mean[c];
      mean[c] += d / used;
      sq[c] += d * (data[base + c] - mean[c]);
    }
  }
  if (used === 0) return undefined;
  const shift = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    const sigma = Math.sqrt(sq[c] / used);
    if (!(sigma > 0) || !Number.isFinite(sigma)) {
      shift[c] = mean[c]; // a constant sample: its value exactly, so a constant band centres to 0
      continue;
    }
    const grid = 2 ** (Math.ceil(Math.log2(sigma)) - 6);
    shift[c] = Math.round(mean[c] / grid) * grid;
  }
  return shift;
}
