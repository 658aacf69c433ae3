/**
 * The one pixel-count rule of an RX fit, shared by the plain and the robust fit.
 *
 * @module
 */

/**
 * Refuses a fit from no more pixels than bands. The covariance of `count` pixels has rank at most
 * count − 1 < bands, so the background model is degenerate, and inverting it still costs bands³:
 * a file of a few bytes with thousands of bands would take minutes for a meaningless result.
 *
 * @param count Pixels in the fit.
 * @param bands Bands per pixel.
 * @throws {RangeError} When `count ≤ bands`, saying how many pixels are needed.
 * @example
 * ```ts
 * import { checkPixelsOverBands } from "./_rx_pixels.ts";
 * import assert from "node:assert";
 * checkPixelsOverBands(4, 3);
 * assert.throws(() => checkPixelsOverBands(2, 3000), /give at least 3001 pixels/);
 * ```
 */
export function checkPixelsOverBands(count: number, bands: number): void {
  if (count > bands) return;
  throw new RangeError(
    `RX needs more pixels than bands: got ${count} pixels for ${bands} bands, so the ` +
      `background covariance has rank at most ${Math.max(0, count - 1)} and inverting it would ` +
      `cost ${bands}³ work for nothing; give at least ${bands + 1} pixels, or select fewer bands ` +
      `(the bands option, --bands)`,
  );
}
