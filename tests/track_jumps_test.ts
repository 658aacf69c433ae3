import assert from "node:assert/strict";
import { detectJumps } from "../track/jumps.ts";

/** Brute-force reference of §3's rule, written independently (slices, reduce). */
function referenceJumps(x: number[], window = 50, threshold = 3, minSamples = 20) {
  const out: { index: number; z: number }[] = [];
  for (let i = minSamples; i < x.length; i++) {
    const w = x.slice(Math.max(0, i - window), i);
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
    if (std < 1e-10) continue;
    const z = (x[i] - mean) / std;
    if (Math.abs(z) > threshold) out.push({ index: i, z });
  }
  return out;
}

Deno.test("detectJumps() flags the step of a flat-then-step series", () => {
  // Alternating 1.0 / 1.2 (mean 1.1, population std 0.1), then a step to 2.
  const x = Array.from({ length: 60 }, (_, i) => (i < 40 ? 1 + 0.2 * (i % 2) : 2));
  const jumps = detectJumps(x);
  assert.equal(jumps[0].index, 40);
  assert.equal(jumps[0].value, 2);
  assert.ok(Math.abs(jumps[0].mean - 1.1) < 1e-12);
  assert.ok(Math.abs(jumps[0].std - 0.1) < 1e-12);
  assert.ok(Math.abs(jumps[0].z - 9) < 1e-9);
  assert.deepEqual(
    jumps.map((j) => j.index),
    referenceJumps(x).map((j) => j.index),
  );
});

Deno.test("detectJumps() skips windows with zero spread", () => {
  const flat = [...new Array(30).fill(5), 100, ...new Array(5).fill(5)];
  // Index 30 sees a window of identical values: std 0, skipped, so the spike is not flagged.
  assert.deepEqual(detectJumps(flat).map((j) => j.index), []);
  assert.deepEqual(detectJumps(new Array(100).fill(3)), []);
});

Deno.test("detectJumps() tests no index below minSamples, and index minSamples itself", () => {
  const x = [1, 2, 1, 2, 1, 2, 50, 1, 2, 1];
  assert.deepEqual(detectJumps(x, { minSamples: 7 }).map((j) => j.index), []);
  assert.deepEqual(detectJumps(x, { minSamples: 6 }).map((j) => j.index), [6]);
  assert.deepEqual(detectJumps(x).map((j) => j.index), []); // default 20 > length
  assert.deepEqual(detectJumps([]), []);
});

Deno.test("detectJumps() uses only the previous `window` values, the current one excluded", () => {
  // Index 4 (value 11) against [10, 10.5]: z = 3. Against the whole past it would be 1.1, and
  // with itself in the window ([10.5, 11]) z = 1: neither would pass the threshold 1.5.
  const x = [0, 0.1, 10, 10.5, 11];
  const j = detectJumps(x, { window: 2, minSamples: 2, threshold: 1.5 });
  assert.deepEqual(j.map((v) => v.index), [2, 4]);
  assert.ok(Math.abs(j[1].mean - 10.25) < 1e-12);
  assert.ok(Math.abs(j[1].z - 3) < 1e-12);
});

Deno.test("detectJumps() matches the brute-force reference on a noisy series with drops", () => {
  let seed = 11;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const x = Array.from(
    { length: 1009 },
    (_, i) => 20 + Math.sin(i / 30) + rand() + (i % 257 === 0 ? -8 : 0),
  );
  for (const [window, threshold, minSamples] of [[50, 3, 20], [7, 2, 1], [1000, 2.5, 100]]) {
    const got = detectJumps(x, { window, threshold, minSamples });
    const want = referenceJumps(x, window, threshold, minSamples);
    assert.deepEqual(got.map((j) => j.index), want.map((j) => j.index));
    got.forEach((j, k) => assert.ok(Math.abs(j.z - want[k].z) < 1e-9));
  }
  assert.ok(detectJumps(x).some((j) => j.index === 257 && j.z < 0));
});

Deno.test("detectJumps() rejects bad values and options", () => {
  assert.throws(() => detectJumps([1, NaN]), { name: "InvalidDataError", position: { index: 1 } });
  assert.throws(() => detectJumps([1], { window: 0 }), { name: "RangeError", message: /window/ });
  assert.throws(() => detectJumps([1], { minSamples: 0 }), { name: "RangeError" });
  assert.throws(() => detectJumps([1], { window: 2.5 }), { name: "TypeError" });
  assert.throws(() => detectJumps([1], { threshold: -1 }), { name: "RangeError" });
  assert.throws(() => detectJumps(null as unknown as number[]), { name: "TypeError" });
});
