/**
 * The figures the sweeps derive from timed runs: mean and standard deviation (EXPERIMENTS.md §2
 * logs those, beside `measure`'s median and spread) and the growth exponent of time against a
 * size (§1: time grows ~C² with channels, ~pixels with area).
 *
 * @module
 */

/**
 * Mean and population standard deviation (numpy's default `ddof=0`, as the original logs).
 *
 * @param samples Values; at least one.
 * @returns `{ mean, std }`.
 * @throws {RangeError} When `samples` is empty.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { meanStd } from "./stats.ts";
 * assert.deepStrictEqual(meanStd([2, 4, 4, 4, 5, 5, 7, 9]), { mean: 5, std: 2 });
 * ```
 */
export function meanStd(samples: readonly number[]): { mean: number; std: number } {
  if (samples.length === 0) throw new RangeError("meanStd() needs at least one sample");
  let mean = 0;
  for (const s of samples) mean += s;
  mean /= samples.length;
  let sq = 0;
  for (const s of samples) sq += (s - mean) ** 2;
  return { mean, std: Math.sqrt(sq / samples.length) };
}

/**
 * The exponent `k` of the power law `y ≈ a·x^k` that fits the points best in least squares on
 * log–log axes: 2 for time ~C², 1 for time ~pixels.
 *
 * @param xs Sizes, all positive.
 * @param ys Times, all positive, one per size.
 * @returns The fitted exponent.
 * @throws {RangeError} When fewer than two distinct sizes are given, the lengths differ, or a
 *   value is not finite and positive (a log-log fit needs them).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { growthExponent } from "./stats.ts";
 * const k = growthExponent([10, 50, 100, 200], [10, 50, 100, 200].map((c) => 3 * c * c));
 * assert(Math.abs(k - 2) < 1e-12);
 * ```
 */
export function growthExponent(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) {
    throw new RangeError(`growthExponent() got ${xs.length} sizes but ${ys.length} times`);
  }
  for (const v of [...xs, ...ys]) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new RangeError(`growthExponent() needs finite positive values, got ${v}`);
    }
  }
  if (new Set(xs).size < 2) {
    throw new RangeError("growthExponent() needs at least two distinct sizes to fit a slope");
  }
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
}
