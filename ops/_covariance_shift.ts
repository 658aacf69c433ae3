/**
 * The shift a covariance accumulator subtracts before the Gram kernels: an estimate of the column
 * means, so the float32 sums of `(x - shift)` products lose no digits to the centring.
 *
 * Why a strided sample rather than the first chunk's exact mean: the exact mean costs a full
 * extra pass over the chunk (for a 328 MB matrix, a third of the covariance's time), while the
 * shift only has to be near the mean relative to the spread. {@linkcode sampledRows} rows spread
 * evenly over the chunk (all of them in smaller chunks; at least 512 unless the chunk is
 * shorter) put it within a few percent of a standard deviation (σ/√512 ≈ σ/23 at worst), where
 * its effect on the error is negligible.
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
/** Values (rows × columns) the sample holds at most, above its 512-row floor. */
const SAMPLE_VALUES = 2 ** 17;

/**
 * The rows of a `rows × cols` chunk the shift is estimated from: all of them up to 512, then
 * as many as {@linkcode SAMPLE_VALUES} values allow, at most {@linkcode SAMPLE_ROWS}. Why a
 * budget of values: the estimate runs in JavaScript at about 1.5 ns per value, so 4096 rows of
 * 200 bands took 1.3 ms, a tenth of the whole covariance of 20,480 such rows.
 *
 * @param rows Rows of the chunk.
 * @param cols Columns of the chunk.
 * @returns How many evenly spaced rows to sample.
 */
export function sampledRows(rows: number, cols: number): number {
  const budget = Math.max(512, Math.floor(SAMPLE_VALUES / Math.max(cols, 1)));
  return Math.min(rows, SAMPLE_ROWS, budget);
}

/** Per-column float64 sums of a sample's differences from a pivot row, and the rows summed. */
interface SampleSums {
  pivot: Float64Array;
  s1: Float64Array;
  s2: Float64Array;
  used: number;
}

/**
 * Estimates the column means of `m` from evenly spaced rows, skipping rows with NaN or infinity.
 *
 * @param m A validated matrix with at least one row.
 * @returns The shift (float32), or `undefined` when no sampled row is finite.
 */
export function estimateShift(m: Matrix): Float32Array | undefined {
  const { data, rows, cols } = m;
  const take = sampledRows(rows, cols);
  const { pivot, s1, s2, used } = sumsIfFinite(data, rows, cols, take) ??
    sumsOfFiniteRows(data, rows, cols, take);
  if (used === 0) return undefined;
  const shift = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    const mean = pivot[c] + s1[c] / used;
    const sigma = Math.sqrt(Math.max(0, s2[c] / used - (s1[c] / used) ** 2));
    if (!(sigma > 0) || !Number.isFinite(sigma)) {
      shift[c] = mean; // a constant sample: its value exactly, so a constant band centres to 0
      continue;
    }
    const grid = 2 ** (Math.ceil(Math.log2(sigma)) - 6);
    shift[c] = Math.round(mean / grid) * grid;
  }
  return shift;
}

/** The `s`-th of `take` evenly spaced rows of `rows`, as the offset of its first value. */
function sampleBase(s: number, rows: number, cols: number, take: number): number {
  return Math.floor((s * rows) / take) * cols;
}

/**
 * The sums over every sampled row in one pass, or `undefined` when the sample holds a NaN or an
 * infinity: one makes its column's sums non-finite (float32 differences squared and summed in
 * float64 cannot overflow), which one look at the sums finds, so no value is tested on its own
 * (testing each made the estimate 1.5 times as slow: 20,480 × 50, 379 µs against 252 µs).
 * Where it returns, the sums equal {@linkcode sumsOfFiniteRows}'s bit for bit: the same pivot
 * (row 0, finite), the same rows in the same order.
 */
function sumsIfFinite(
  data: Float32Array,
  rows: number,
  cols: number,
  take: number,
): SampleSums | undefined {
  const pivot = Float64Array.from(data.subarray(0, cols));
  const s1 = new Float64Array(cols);
  const s2 = new Float64Array(cols);
  for (let s = 1; s < take; s++) {
    addDifferences(data, sampleBase(s, rows, cols, take), pivot, s1, s2);
  }
  for (let c = 0; c < cols; c++) {
    if (!Number.isFinite(pivot[c]) || !Number.isFinite(s1[c]) || !Number.isFinite(s2[c])) {
      return undefined;
    }
  }
  return { pivot, s1, s2, used: take };
}

/**
 * Sums of `x - pivot` and its squares over the sampled rows that are finite, with the first of
 * them as the pivot: the pivot is a data row, so the differences are of the order of the spread
 * and the float64 sums keep the variance's digits however far the data sit from zero (what
 * Welford's update gave, without its division per value, which made this loop a seventh of a
 * 20,480 × 200 covariance).
 */
function sumsOfFiniteRows(
  data: Float32Array,
  rows: number,
  cols: number,
  take: number,
): SampleSums {
  const pivot = new Float64Array(cols);
  const s1 = new Float64Array(cols);
  const s2 = new Float64Array(cols);
  let used = 0;
  for (let s = 0; s < take; s++) {
    const base = sampleBase(s, rows, cols, take);
    let finite = true;
    for (let c = 0; c < cols; c++) {
      const v = data[base + c];
      if (v - v !== 0) finite = false;
    }
    if (!finite) continue;
    if (used++ === 0) {
      for (let c = 0; c < cols; c++) pivot[c] = data[base + c];
      continue; // its differences are zero
    }
    addDifferences(data, base, pivot, s1, s2);
  }
  return { pivot, s1, s2, used };
}

/** Adds the row at `base` less `pivot` into `s1`, and its squares into `s2`. */
function addDifferences(
  data: Float32Array,
  base: number,
  pivot: Float64Array,
  s1: Float64Array,
  s2: Float64Array,
): void {
  for (let c = 0; c < pivot.length; c++) {
    const d = data[base + c] - pivot[c];
    s1[c] += d;
    s2[c] += d * d;
  }
}
