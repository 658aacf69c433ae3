/**
 * The figures the sweeps derive from timed runs: mean and standard deviation (EXPERIMENTS.md §2
 * logs those, beside `measure`'s median and spread). The growth exponent is `./growth.ts`.
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
