/**
 * RX at the limit: the lower-trapezoidal whitening factor (`whitening({ form: "lower" })`), the
 * scoring kernel's `lower` flag that skips its zero triangle, and `RxDetector.fitScore()`, which
 * copies plain pixels into kernel memory once for both passes. Every result is held to a
 * float64 reference; run it under both kernel builds (`PRISM_WASM=simd` for the plain one).
 */

import assert from "node:assert";
import { RxDetector } from "../ops/rx.ts";
import { whitening } from "../ops/_pinv.ts";
import { residentPixels } from "../ops/_rx_resident.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { wasmRxScores } from "../wasm/rx_score.ts";
import { Rng } from "../synth/rng.ts";
import { covariance64 } from "./_helpers.ts";
import { relError } from "./_covariance_helpers.ts";
import { rejectsWith } from "./_io_helpers.ts";

const operation = "RxDetector.score()";

/** Correlated bands near `offset`; with `rank < cols`, bands past `rank` repeat earlier ones. */
function pixels(rows: number, cols: number, seed: number, offset = 0, rank = cols): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const f = rng.normal();
    for (let c = 0; c < cols; c++) {
      data[r * cols + c] = c < rank
        ? offset + f * (1 + c / cols) + rng.normal()
        : data[r * cols + (c % Math.max(1, rank))];
    }
  }
  return { data, rows, cols };
}

/** `W·Wᵀ` in float64 (`rows × k` row-major). */
function outer(w: Float64Array, rows: number, k: number): Float64Array {
  const p = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += w[i * k + t] * w[j * k + t];
      p[i * rows + j] = s;
    }
  }
  return p;
}

/** `‖(x − μ)·W‖²` of every row in float64 (x as the float32 values it holds). */
function scores64(m: Matrix, mean: Float64Array, w: Float64Array, k: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      let t = 0;
      for (let c = 0; c < m.cols; c++) t += (m.data[r * m.cols + c] - mean[c]) * w[c * k + j];
      s += t * t;
    }
    out[r] = s;
  }
  return out;
}

/** Largest `|a − ref|` over the rows, relative to the largest reference score. */
function maxGap(a: Float32Array, ref: Float64Array): number {
  let gap = 0, top = 0;
  for (let i = 0; i < ref.length; i++) {
    gap = Math.max(gap, Math.abs(a[i] - ref[i]));
    top = Math.max(top, Math.abs(ref[i]));
  }
  return top === 0 ? gap : gap / top;
}

/** Mean and unbiased covariance in float64. */
function stats64(m: Matrix): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) mean[c] += m.data[r * m.cols + c] / m.rows;
  }
  const cov = covariance64(m.data, m.rows, m.cols); // upper triangle: mirror it
  for (let i = 0; i < m.cols; i++) {
    for (let j = 0; j < i; j++) cov[i * m.cols + j] = cov[j * m.cols + i];
  }
  return { mean, cov };
}

Deno.test("whitening({ form: 'lower' }) is lower trapezoidal with the eigen factor's W·Wᵀ", async () => {
  const cases: [string, Matrix, number][] = [
    ["1 band", pixels(40, 1, 1), 1e-6],
    ["2 bands", pixels(40, 2, 2), 1e-6],
    ["13 bands near 1000", pixels(500, 13, 3, 1000), 1e-6],
    ["50 bands", pixels(900, 50, 4), 1e-6],
    ["9 bands of rank 4, eps 0", pixels(300, 9, 5, 0, 4), 0],
    ["257 bands", pixels(600, 257, 6), 1e-6],
  ];
  for (const [label, m, eps] of cases) {
    const { cov } = stats64(m);
    const eigen = await whitening(cov, m.cols, { eps });
    const lower = await whitening(cov, m.cols, { eps, form: "lower" });
    assert.strictEqual(lower.rank, eigen.rank, label);
    assert.strictEqual(lower.conditionNumber, eigen.conditionNumber, label);
    const k = lower.rank;
    for (let c = 0; c < m.cols; c++) {
      for (let j = c + 1; j < k; j++) {
        assert.strictEqual(lower.w[c * k + j], 0, `${label}: w[${c}][${j}]`);
      }
    }
    // An orthogonal rotation in float64: the product agrees to float64 rounding times the size.
    const gap = relError(outer(lower.w, m.cols, k), outer(eigen.w, m.cols, k));
    assert(gap < 1e-13 * m.cols, `${label}: W·Wᵀ differs by ${gap}`);
  }
  await rejectsWith(
    () => whitening(new Float64Array([1]), 1, { form: "upper" as "lower" }),
    TypeError,
    'form must be "eigen" or "lower"',
  );
});

Deno.test("the scoring kernel's lower flag skips zeros only: bitwise the dense result, within 1e-5 of float64", async () => {
  const pool = new WorkerPool({ size: 2, idleMs: 60_000 });
  try {
    for (const rows of [0, 1, 7, 257, 8209]) {
      for (const [cols, rank] of [[1, 1], [3, 3], [8, 8], [9, 9], [13, 13], [50, 50], [20, 7]]) {
        const m = pixels(rows, cols, rows + cols, 0, rank);
        const fit = stats64(pixels(Math.max(64, 3 * cols), cols, cols, 0, rank));
        const white = await whitening(fit.cov, cols, { form: "lower" });
        const model = { mean: fit.mean, w: white.w, rank: white.rank, operation, pool };
        const skip = await wasmRxScores(m, { ...model, lower: true });
        const dense = await wasmRxScores(m, model);
        const label = `${rows} x ${cols} (rank ${white.rank})`;
        assert.deepStrictEqual(skip, dense, label);
        const gap = maxGap(skip, scores64(m, fit.mean, white.w, white.rank));
        assert(gap < 1e-5, `${label}: ${gap}`);
      }
    }
  } finally {
    pool.close();
  }
});

Deno.test("scores do not depend on the worker count", async () => {
  const one = new WorkerPool({ size: 1, idleMs: 60_000 });
  const two = new WorkerPool({ size: 2, idleMs: 60_000 });
  try {
    const m = pixels(20_011, 17, 9, 500);
    const fit = stats64(m);
    const white = await whitening(fit.cov, 17, { form: "lower" });
    const model = { mean: fit.mean, w: white.w, rank: white.rank, lower: true, operation };
    assert.deepStrictEqual(
      await wasmRxScores(m, { ...model, pool: one }),
      await wasmRxScores(m, { ...model, pool: two }),
    );
  } finally {
    one.close();
    two.close();
  }
});

Deno.test("wasmRxScores refuses lower: true for a factor with an entry above the diagonal", async () => {
  const m = pixels(5, 2, 1);
  const w = new Float64Array([1, 0.5, 0, 1]); // w[0][1] = 0.5
  await rejectsWith(
    () => wasmRxScores(m, { mean: new Float64Array(2), w, rank: 2, lower: true, operation }),
    TypeError,
    "w[0][1] is 0.5, so w is not lower trapezoidal",
  );
});

Deno.test("fitScore() equals fit() then score() within float32 rounding, on every kind of input", async () => {
  const kernels = await loadKernels();
  const m = pixels(9001, 13, 21, 1000);
  const { mean, cov } = stats64(m);
  const ref = await whitening(cov, 13, { eps: 1e-6 });
  const want = scores64(m, mean, ref.w, ref.rank);
  (await allocMatrix(m.rows, m.cols)).free(); // room for the one copy (see _rx_resident.ts)
  const fused = new RxDetector();
  const got = await fused.fitScore(m, { backend: "wasm" });
  // Measured on a second call: the first starts the pool, whose worker stacks stay in the heap.
  const before = kernels.memory().inUseBytes;
  assert.deepStrictEqual(await new RxDetector().fitScore(m, { backend: "wasm" }), got);
  assert.strictEqual(kernels.memory().inUseBytes, before, "the resident copy is freed");
  const apart = await (await new RxDetector().fit(m, { backend: "wasm" })).score(m);
  // The stated RX tolerance (1e-3 against float64): near 1000, μ rounded to float32 moves
  // every centred value by up to 3e-5.
  assert(maxGap(got, want) < 1e-3, `fitScore vs float64: ${maxGap(got, want)}`);
  assert(maxGap(got, Float64Array.from(apart)) < 1e-5, "fitScore vs fit + score");
  assert(relError(fused.stats.mean, mean) < 1e-12);
  assert(relError(fused.stats.covariance, cov) < 1e-5);

  const cube = { data: m.data, height: 9001, width: 1, bands: 13 };
  assert.deepStrictEqual(await new RxDetector().fitScore(cube, { backend: "wasm" }), got);
  using km = await allocMatrix(m.rows, m.cols);
  km.data.set(m.data);
  assert.deepStrictEqual(await new RxDetector().fitScore(km, { backend: "wasm" }), got);
  const robust = new RxDetector();
  const r = await robust.fitScore(m, { backend: "wasm", robust: true });
  assert(robust.stats.robust !== undefined && r.length === 9001 && r.every(Number.isFinite));
  const tiny = pixels(3, 2, 5);
  const small = await new RxDetector().fitScore(tiny);
  assert.deepStrictEqual(small, await (await new RxDetector().fit(tiny)).score(tiny));
});

Deno.test("residentPixels copies into room the kernel memory has, and leaves the rest be", async () => {
  const kernels = await loadKernels();
  const m = pixels(300, 4, 2);
  {
    // Room for 300 x 4 floats: free after an allocation as large.
    (await allocMatrix(300, 4)).free();
    using r = await residentPixels(m, { backend: "wasm" });
    const copy = r.pixels as Matrix;
    assert(copy.data !== m.data && copy.data.buffer instanceof SharedArrayBuffer);
    assert.deepStrictEqual(copy.data, m.data);
  }
  using km = await allocMatrix(2, 2);
  using same = await residentPixels(km, { backend: "wasm" });
  assert.strictEqual(same.pixels, km);
  // Beyond the free room: handed back as is, nothing allocated (growing costs page faults).
  const { heapBytes, inUseBytes } = kernels.memory();
  const rows = Math.ceil((heapBytes - inUseBytes) / 16) + 1;
  const big = { data: new Float32Array(rows * 4), rows, cols: 4 };
  using handed = await residentPixels(big, { backend: "wasm" });
  assert.strictEqual(handed.pixels, big);
  assert.strictEqual(kernels.memory().heapBytes, heapBytes);
});

Deno.test("fitScore() refuses skipInvalid and names a NaN pixel and band", async () => {
  const m = pixels(50, 3, 4);
  await rejectsWith(
    () => new RxDetector().fitScore(m, { skipInvalid: true } as unknown as { eps: number }),
    TypeError,
    "takes no skipInvalid",
  );
  const bad = { ...m, data: m.data.slice() };
  bad.data[7 * 3 + 2] = NaN;
  const error = await rejectsWith(() => new RxDetector().fitScore(bad), InvalidDataError, "NaN");
  assert.match((error as Error).message, /7/);
  await rejectsWith(
    () => new RxDetector().fitScore(pixels(3, 5, 1)),
    RangeError,
    "more pixels than bands",
  );
});
