import assert from "node:assert/strict";
import { checkSynthOptions, synthCube } from "../synth/cube.ts";
import { throwsWith } from "./_io_helpers.ts";

/** The reference generator's formulas, written out again in float64. */
function background(i: number, j: number, k: number, h: number, w: number, c: number): number {
  const wk = c === 1 ? 0 : k / (c - 1);
  const sig = 100 * Math.exp(-((wk - 0.5) ** 2) / 0.1);
  return sig * (1 + 0.2 * Math.sin((2 * Math.PI * i) / h)) *
    (1 + 0.2 * Math.cos((2 * Math.PI * j) / w));
}
function anomaly(k: number, c: number, mag: number): number {
  const wk = c === 1 ? 0 : k / (c - 1);
  return 100 * mag *
    (0.5 * Math.exp(-((wk - 0.3) ** 2) / 0.05) + 0.5 * Math.exp(-((wk - 0.7) ** 2) / 0.05));
}

Deno.test("synthCube() without noise equals the background and anomaly formulas", () => {
  for (const [h, w, c] of [[17, 13, 7], [1, 1, 1], [5, 31, 2]]) {
    const { cube, mask } = synthCube({
      height: h,
      width: w,
      bands: c,
      noiseStd: 0,
      anomalyMagnitude: 2.5,
      seed: 9,
    });
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) {
          const want = mask[i * w + j] ? anomaly(k, c, 2.5) : background(i, j, k, h, w, c);
          const got = cube.data[(i * w + j) * c + k];
          assert.ok(
            Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-12,
            `${h}x${w}x${c} (${i},${j},${k}): ${got} vs ${want}`,
          );
        }
      }
    }
  }
});

Deno.test("synthCube() noise has std noiseStd * 100 around the background", () => {
  const h = 64, w = 64, c = 10;
  const clean = synthCube({ height: h, width: w, bands: c, noiseStd: 0, seed: 4 });
  const noisy = synthCube({ height: h, width: w, bands: c, noiseStd: 0.1, seed: 4 });
  assert.deepEqual(noisy.mask, clean.mask, "the anomaly layout does not depend on the noise");
  let n = 0, s = 0, ss = 0;
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) {
      const d = noisy.cube.data[p * c + k] - clean.cube.data[p * c + k];
      if (noisy.mask[p]) assert.equal(d, 0);
      else {
        n++;
        s += d;
        ss += d * d;
      }
    }
  }
  const std = Math.sqrt(ss / n - (s / n) ** 2);
  assert.ok(Math.abs(s / n) < 5 * 10 / Math.sqrt(n), `mean ${s / n}`);
  assert.ok(Math.abs(std - 10) < 0.3, `std ${std}`);
});

Deno.test("synthCube() is deterministic per (seed, sampleIndex) and differs otherwise", () => {
  const opts = { height: 23, width: 19, bands: 5 };
  const a = synthCube({ ...opts, seed: 1 });
  const b = synthCube({ ...opts, seed: 1 });
  assert.deepEqual(new Uint8Array(a.cube.data.buffer), new Uint8Array(b.cube.data.buffer));
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(synthCube({ ...opts, seed: 2 }).cube.data, a.cube.data);
  assert.notDeepEqual(synthCube({ ...opts, seed: 1, sampleIndex: 1 }).cube.data, a.cube.data);
});

Deno.test("synthCube() labels, mask and clusters agree", () => {
  const h = 61, w = 47;
  const { labels, mask, clusters } = synthCube({
    height: h,
    width: w,
    bands: 3,
    anomalyRatio: 0.2,
    seed: 11,
  });
  assert.equal(clusters.length, Math.max(1, Math.floor(Math.floor(h * w * 0.2) / 20)));
  const expect = new Int32Array(h * w);
  clusters.forEach((c, index) => {
    assert.ok(c.row >= 0 && c.row < h && c.col >= 0 && c.col < w && c.radius >= 2 && c.radius <= 5);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        if ((i - c.row) ** 2 + (j - c.col) ** 2 <= c.radius ** 2) expect[i * w + j] = index + 1;
      }
    }
  });
  assert.deepEqual(labels, expect);
  for (let p = 0; p < h * w; p++) assert.equal(mask[p], labels[p] > 0 ? 1 : 0);
  assert.deepEqual(new Set(clusters.map((c) => c.radius)), new Set([2, 3, 4, 5]));
});

Deno.test("synthCube() anomaly fraction is near the original's expectation for its ratio", () => {
  // Discs of radius 2..5 hold 13, 29, 49, 81 pixels (mean 43); clusters = H*W*ratio/20, so with
  // little overlap the anomalous fraction is about 43/20 * ratio.
  const h = 256, w = 256, ratio = 0.05;
  let anomalous = 0;
  const samples = 8;
  for (let s = 0; s < samples; s++) {
    const { mask } = synthCube({
      height: h,
      width: w,
      bands: 1,
      noiseStd: 0,
      anomalyRatio: ratio,
      seed: 5,
      sampleIndex: s,
    });
    anomalous += mask.reduce((a, m) => a + m, 0);
  }
  const fraction = anomalous / (samples * h * w);
  assert.ok(fraction > ratio * 1.6 && fraction < ratio * 2.3, `fraction ${fraction}`);
  const one = synthCube({ height: 64, width: 64, bands: 1, anomalyRatio: 0, seed: 1 });
  assert.equal(one.clusters.length, 1, "max(1, ...) keeps one cluster at ratio 0");
});

Deno.test("synthCube() rejects bad sizes and parameters", () => {
  const base = { height: 4, width: 4, bands: 2 };
  throwsWith(() => synthCube({ ...base, height: 0 }), RangeError, "height");
  throwsWith(() => synthCube({ ...base, width: 2.5 }), TypeError, "width");
  throwsWith(() => synthCube({ ...base, anomalyRatio: 1.5 }), RangeError, "anomalyRatio");
  throwsWith(() => synthCube({ ...base, noiseStd: -1 }), RangeError, "noiseStd");
  throwsWith(
    () => synthCube({ ...base, anomalyMagnitude: Infinity }),
    RangeError,
    "anomalyMagnitude",
  );
  throwsWith(() => synthCube({ ...base, noiseStd: NaN }), TypeError, "noiseStd");
  throwsWith(() => synthCube({ ...base, seed: -3 }), RangeError, "seed");
  throwsWith(() => checkSynthOptions(null as unknown as typeof base), TypeError, "options");
});
