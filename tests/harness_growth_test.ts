/**
 * `growthExponent` (harness/growth.ts): the log–log fit of the stress sweeps recovers known
 * exponents from synthetic timings (exact and with seeded multiplicative noise), matches a
 * float64 normal-equations reference, and refuses what a log cannot take.
 */

import assert from "node:assert/strict";
import { growthExponent } from "../harness/growth.ts";
import { uniform } from "../synth/uniform.ts";

/** The least-squares slope and intercept of (log x, log y), written out in float64. */
function reference(xs: number[], ys: number[]): { k: number; a: number } {
  const n = xs.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.log(xs[i]), y = Math.log(ys[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const k = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { k, a: Math.exp((sy - k * sx) / n) };
}

Deno.test("growthExponent recovers C² and pixels¹ from exact power laws", () => {
  const channels = [10, 50, 100, 200];
  const c2 = growthExponent(channels, channels.map((c) => 0.004 * c * c));
  assert.ok(Math.abs(c2.exponent - 2) < 1e-12, `${c2.exponent}`);
  assert.ok(Math.abs(c2.scale - 0.004) < 1e-15);
  assert.ok(Math.abs(c2.r2 - 1) < 1e-12);
  const pixels = [64, 128, 256].map((s) => s * s);
  const p1 = growthExponent(pixels, pixels.map((p) => 3e-4 * p));
  assert.ok(Math.abs(p1.exponent - 1) < 1e-12);
});

Deno.test("growthExponent matches a float64 reference on noisy timings (primes, 2 and 7 points)", () => {
  const noise = uniform(11, { lo: 0.8, hi: 1.25 });
  for (const sizes of [[3, 7], [2, 3, 5, 7, 11, 13, 17]]) {
    const times = sizes.map((s) => 0.5 * s ** 1.7 * noise());
    const fit = growthExponent(sizes, times);
    const want = reference(sizes, times);
    assert.ok(Math.abs(fit.exponent - want.k) < 1e-12, `${fit.exponent} vs ${want.k}`);
    assert.ok(Math.abs(fit.scale - want.a) <= 1e-12 * want.a);
    assert.ok(fit.r2 > 0 && fit.r2 <= 1 + 1e-12);
    // Noise of ±25 % over a wide range still leaves the exponent near 1.7.
    if (sizes.length === 7) assert.ok(Math.abs(fit.exponent - 1.7) < 0.25, `${fit.exponent}`);
  }
});

Deno.test("growthExponent: flat timings give 0 with r² 1; a cost that shrinks gives a negative slope", () => {
  const flat = growthExponent([1, 10, 100], [5, 5, 5]);
  assert.equal(flat.exponent, 0);
  assert.equal(flat.r2, 1);
  assert.ok(growthExponent([1, 2, 4], [8, 4, 2]).exponent < -0.99);
});

Deno.test("growthExponent refuses mismatched lengths, one size, zeros, NaN and infinity", () => {
  assert.throws(() => growthExponent([1, 2], [1]), TypeError);
  assert.throws(() => growthExponent([], []), /two distinct sizes/);
  assert.throws(() => growthExponent([5], [1]), /two distinct sizes/);
  assert.throws(() => growthExponent([5, 5], [1, 2]), /two distinct sizes/);
  assert.throws(
    () => growthExponent([0, 2], [1, 2]),
    /every size must be finite and positive for a log–log fit, got 0/,
  );
  assert.throws(
    () => growthExponent([1, 2], [1, NaN]),
    /every time must be finite and positive for a log–log fit, got NaN/,
  );
  assert.throws(() => growthExponent([1, Infinity], [1, 2]), /got Infinity/);
});
