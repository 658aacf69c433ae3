/**
 * RX scoring and local RX: `deno bench -A bench/rx_bench.ts`. The baseline of each group is a
 * plain TypeScript float64 quadratic form over the same whitening matrix.
 *
 * @module
 */

import { RxDetector } from "../ops/rx.ts";
import { rxLocal } from "../ops/rx_local.ts";
import { synthCube } from "../synth/cube.ts";
import { GPU_BENCH, size } from "./_config.ts";

const side = size(256, 32);
const { cube } = synthCube({ height: side, width: side, bands: 50, seed: 1 });
const rx = await new RxDetector().fit(cube);
const { mean, covariance, bands } = rx.stats;
// The baseline's P = (S + eps·I)⁻¹ by float64 Gauss–Jordan (the covariance is full rank here).
const p = invert(covariance, bands, rx.stats.eps);

function invert(s: Float64Array, n: number, eps: number): Float64Array {
  const a = Float64Array.from(s), inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) (a[i * n + i] += eps, inv[i * n + i] = 1);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[piv * n + c])) piv = r;
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[piv * n + k]] = [a[piv * n + k], a[c * n + k]];
      [inv[c * n + k], inv[piv * n + k]] = [inv[piv * n + k], inv[c * n + k]];
    }
    const d = a[c * n + c];
    for (let k = 0; k < n; k++) (a[c * n + k] /= d, inv[c * n + k] /= d);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let k = 0; k < n; k++) {
        (a[r * n + k] -= f * a[c * n + k], inv[r * n + k] -= f * inv[c * n + k]);
      }
    }
  }
  return inv;
}

function tsScores(data: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows);
  const d = new Float64Array(bands);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < bands; c++) d[c] = data[r * bands + c] - mean[c];
    let s = 0;
    for (let i = 0; i < bands; i++) {
      let t = 0;
      for (let j = 0; j < bands; j++) t += p[i * bands + j] * d[j];
      s += d[i] * t;
    }
    out[r] = s;
  }
  return out;
}

Deno.bench({
  name: `TypeScript float64 quadratic form ${side}x${side}x50`,
  group: "rx score",
  baseline: true,
  fn: () => {
    tsScores(cube.data, side * side);
  },
});
Deno.bench({
  name: `RxDetector.score wasm ${side}x${side}x50`,
  group: "rx score",
  fn: async () => {
    await rx.score(cube, { backend: "wasm" });
  },
});

Deno.bench({
  name: `RxDetector.score webgpu ${side}x${side}x50`,
  group: "rx score",
  ignore: !GPU_BENCH,
  fn: async () => {
    await rx.score(cube, { backend: "webgpu" });
  },
});

// Fit and score the same pixels: two passes that each copy the cube into kernel memory, or
// fitScore(), which copies it once and runs both passes in place.
Deno.bench({
  name: `fit() then score() wasm ${side}x${side}x50`,
  group: "rx fit + score",
  baseline: true,
  fn: async () => {
    await (await new RxDetector().fit(cube, { backend: "wasm" })).score(cube, { backend: "wasm" });
  },
});
Deno.bench({
  name: `fitScore() wasm ${side}x${side}x50`,
  group: "rx fit + score",
  fn: async () => {
    await new RxDetector().fitScore(cube, { backend: "wasm" });
  },
});

const small = synthCube({ height: 64, width: 64, bands: 10, seed: 2 }).cube;
Deno.bench({
  name: "rxLocal 64x64x10 (3, 9)",
  group: "rx local",
  baseline: true,
  fn: async () => {
    await rxLocal(small, { inner: 3, outer: 9 });
  },
});
Deno.bench({
  name: "rxLocal 64x64x10 (5, 15)",
  group: "rx local",
  fn: async () => {
    await rxLocal(small, { inner: 5, outer: 15 });
  },
});
