/**
 * How a cost grows with a size: the exponent `k` of `time ≈ a · size^k`, fitted by least squares
 * on log–log axes. The stress suite states its channel and spatial sweeps this way (the reference
 * pipeline reports time ~C² over channels and ~pixels over image area).
 *
 * @module
 */

/** What {@linkcode growthExponent} found. */
export interface GrowthFit {
  /** The slope on log–log axes: time grows as size^exponent. */
  readonly exponent: number;
  /** The factor `a` of `a · size^exponent`, in the times' unit. */
  readonly scale: number;
  /** The coefficient of determination on log–log axes (1 = every point on the line). */
  readonly r2: number;
}

/**
 * Fits `y ≈ a · x^k` by least squares on `log y = log a + k log x`.
 *
 * @param sizes The sizes (channels, pixels); at least two distinct, all finite and positive.
 * @param times The costs at those sizes, same length, all finite and positive.
 * @returns The exponent, the factor and r².
 * @throws {TypeError} When the lengths differ.
 * @throws {RangeError} When fewer than two distinct sizes are given, or a value is not finite
 *   and positive (a log needs one).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { growthExponent } from "./growth.ts";
 * const fit = growthExponent([10, 20, 40], [3, 12, 48]); // 0.03 · C²
 * assert(Math.abs(fit.exponent - 2) < 1e-12 && Math.abs(fit.scale - 0.03) < 1e-12);
 * ```
 */
export function growthExponent(sizes: readonly number[], times: readonly number[]): GrowthFit {
  if (sizes.length !== times.length) {
    throw new TypeError(`${sizes.length} sizes but ${times.length} times: give one time per size`);
  }
  for (const [name, values] of [["size", sizes], ["time", times]] as const) {
    const bad = values.find((v) => !Number.isFinite(v) || v <= 0);
    if (bad !== undefined) {
      throw new RangeError(
        `every ${name} must be finite and positive for a log–log fit, got ${bad}`,
      );
    }
  }
  if (new Set(sizes).size < 2) {
    throw new RangeError("a growth exponent needs at least two distinct sizes");
  }
  const lx = sizes.map(Math.log);
  const ly = times.map(Math.log);
  const n = lx.length;
  const mx = lx.reduce((s, v) => s + v, 0) / n;
  const my = ly.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
    syy += (ly[i] - my) ** 2;
  }
  const exponent = sxy / sxx;
  // All times equal: the line is flat and explains everything there is to explain.
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { exponent, scale: Math.exp(my - exponent * mx), r2 };
}
