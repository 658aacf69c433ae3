/**
 * Tests of `pca()` (ops/pca.ts) and its `Projection`: eigenpairs against a float64 Jacobi
 * reference of a two-pass float64 covariance (and numpy's `eigh` when python3/numpy exist),
 * explained variance, the transform's variances, streaming, odd sizes and refused input.
 */

import assert from "node:assert";
import { pca } from "../ops/pca.ts";
import { Projection } from "../ops/projection.ts";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import { mnf } from "../ops/mnf.ts";
import type { Matrix } from "../core/types.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { matrix, random, reference } from "./_covariance_helpers.ts";
import { columnVariances, jacobiEigen } from "./_eigen_reference.ts";
import { hasNumpy, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

/** Correlated data: `rows × cols` uniform noise mixed by a fixed matrix, offset by 500. */
function mixed(rows: number, cols: number, seed: number): Matrix {
  const r = random(seed);
  const mix = Float64Array.from({ length: cols * cols }, () => r() - 0.5);
  const z = Float64Array.from({ length: rows * cols }, () => r() - 0.5);
  return matrix(rows, cols, (i, c) => {
    let s = 500;
    for (let k = 0; k < cols; k++) s += z[i * cols + k] * mix[k * cols + c] * (k + 1);
    return s;
  });
}

/** Eigenvalues within 1e-5·λmax and vectors up to sign (|cos| > 1 − 1e-5) where separated. */
function checkAgainst(
  got: { eigenvalues: Float64Array; vectors: Float64Array; components: number },
  want: { values: Float64Array; vectors: Float64Array },
  n: number,
  what: string,
) {
  const lmax = Math.max(want.values[0], 1e-300);
  for (let j = 0; j < n; j++) {
    assert(
      Math.abs(got.eigenvalues[j] - want.values[j]) <= 1e-5 * lmax,
      `${what}: eigenvalue ${j} ${got.eigenvalues[j]} vs ${want.values[j]}`,
    );
  }
  const k = got.components;
  for (let j = 0; j < k; j++) {
    const gap = Math.min(
      j > 0 ? want.values[j - 1] - want.values[j] : Infinity,
      j + 1 < n ? want.values[j] - want.values[j + 1] : Infinity,
    );
    if (gap < 1e-2 * lmax) continue; // nearly equal eigenvalues: vectors are not unique
    let dot = 0;
    for (let i = 0; i < n; i++) dot += got.vectors[i * k + j] * want.vectors[i * n + j];
    assert(Math.abs(Math.abs(dot) - 1) < 1e-5, `${what}: vector ${j} |cos| = ${Math.abs(dot)}`);
  }
}

for (const [rows, cols] of [[2, 1], [3, 2], [257, 7], [1000, 13], [31, 40]]) {
  Deno.test(`pca() matches a float64 Jacobi reference on ${rows}x${cols}`, async () => {
    const m = mixed(rows, cols, rows * 31 + cols);
    const ref = reference(m);
    const want = jacobiEigen(ref.cov, cols);
    const k = Math.max(1, cols - 1);
    const p = await pca(m, { components: k });
    assert.equal(p.components, k);
    assert.equal(p.eigenvalues.length, cols);
    assert.equal(p.vectors.length, cols * k);
    for (let c = 0; c < cols; c++) assert(Math.abs(p.mean[c] - ref.mean[c]) < 1e-9 * 500);
    checkAgainst(p, want, cols, `${rows}x${cols}`);
    // The eigenvalues sum to the total variance (the covariance's trace).
    const trace = Array.from({ length: cols }, (_, c) => ref.cov[c * cols + c]);
    const total = trace.reduce((a, b) => a + b, 0);
    const sum = p.eigenvalues.reduce((a, b) => a + b, 0);
    assert(Math.abs(sum - total) <= 1e-5 * total, `trace ${total} vs Σλ ${sum}`);
  });
}

Deno.test("pca() explained variance: the first K eigenvalues, ratios summing to 1 over all", async () => {
  const m = mixed(500, 9, 3);
  const all = await pca(m);
  assert.equal(all.components, 9);
  const ratioSum = all.explainedVarianceRatio.reduce((a, b) => a + b, 0);
  assert(Math.abs(ratioSum - 1) < 1e-12, `Σ ratio ${ratioSum}`);
  const three = await pca(m, { components: 3 });
  assert.deepStrictEqual([...three.explainedVariance], [...all.eigenvalues.subarray(0, 3)]);
  assert.deepStrictEqual(
    [...three.explainedVarianceRatio],
    [...all.explainedVarianceRatio.subarray(0, 3)],
  );
  for (let j = 1; j < 9; j++) assert(all.eigenvalues[j] <= all.eigenvalues[j - 1]);
});

Deno.test("pca() transform of the training data has the eigenvalues as variances, uncorrelated", async () => {
  const m = mixed(2003, 11, 5);
  const p = await pca(m, { components: 6 });
  const y = await p.projection.transform(m);
  assert.equal(y.rows, 2003);
  assert.equal(y.cols, 6);
  const v = columnVariances(y.data, 6);
  for (let j = 0; j < 6; j++) {
    assert(
      Math.abs(v[j] - p.eigenvalues[j]) <= 1e-4 * p.eigenvalues[0],
      `component ${j}: variance ${v[j]} vs eigenvalue ${p.eigenvalues[j]}`,
    );
  }
  const cov = reference(y).cov;
  assert(Math.abs(cov[1]) <= 1e-4 * p.eigenvalues[0], `cov(y0, y1) = ${cov[1]}`);
});

Deno.test("pca() streams: a CubeSource file in small chunks gives the in-memory fit and transform", async () => {
  const m = mixed(12 * 17, 5, 9);
  const whole = await pca(m, { components: 3 });
  const want = await whole.projection.transform(m);
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: m.data, shape: [12, 17, 5] });
    const source = await openCubeSource(`${dir}/c.npy`);
    try {
      const rows = { chunks: () => source.chunks(17 * 2) };
      const p = await pca(rows, { components: 3 });
      for (let i = 0; i < 5; i++) {
        assert(Math.abs(p.eigenvalues[i] - whole.eigenvalues[i]) <= 1e-6 * whole.eigenvalues[0]);
      }
      const got: number[] = [];
      let chunks = 0;
      for await (const y of p.projection.transformChunks(rows)) {
        got.push(...y.data);
        chunks++;
      }
      assert.equal(chunks, 6);
      assert.equal(got.length, want.data.length);
      const scale = Math.sqrt(whole.eigenvalues[0]);
      got.forEach((g, i) => assert(Math.abs(g - want.data[i]) <= 1e-4 * scale, `value ${i}`));
    } finally {
      source.close();
    }
  });
});

Deno.test("pca() on a cube and a constant band: eigenvalue 0, ratio 0, finite transform", async () => {
  const r = random(2);
  const data = new Float32Array(6 * 7 * 4);
  for (let p = 0; p < 42; p++) data.set([r() * 10, 3.25, r() * 2 + r(), r() * 5], p * 4);
  const cube = { data, height: 6, width: 7, bands: 4 };
  const p = await pca(cube);
  assert.equal(p.count, 42);
  assert(p.eigenvalues[3] <= 1e-9 * p.eigenvalues[0], `smallest ${p.eigenvalues[3]}`);
  assert.equal(p.explainedVarianceRatio[3] < 1e-9, true);
  // The null direction is the constant band itself (up to sign).
  assert(Math.abs(Math.abs(p.vectors[1 * 4 + 3]) - 1) < 1e-9);
  const y = await p.projection.transform(cube);
  assert(y.data.every(Number.isFinite));
  // Every band constant: all eigenvalues 0, ratios 0 (not NaN).
  const flat = await pca({ data: new Float32Array(12).fill(7), rows: 4, cols: 3 });
  assert.deepStrictEqual([...flat.eigenvalues], [0, 0, 0]);
  assert.deepStrictEqual([...flat.explainedVarianceRatio], [0, 0, 0]);
});

Deno.test("pca() refuses components > bands, bad counts, 0 and 1 rows, NaN", async () => {
  const m = mixed(20, 4, 1);
  await rejectsWith(() => pca(m, { components: 5 }), RangeError, "at most 4 components");
  await rejectsWith(() => pca(m, { components: 0 }), RangeError, "options.components");
  await rejectsWith(() => pca(m, { components: 1.5 }), TypeError, "whole number");
  await rejectsWith(
    () => pca({ data: new Float32Array(0), rows: 0, cols: 4 }),
    RangeError,
    "input has 0 rows",
  );
  await rejectsWith(
    () => pca({ data: new Float32Array(4), rows: 1, cols: 4 }),
    RangeError,
    "input has 1 rows",
  );
  await rejectsWith(
    () => pca({ async *chunks() {} }),
    RangeError,
    "input has 0 rows",
  );
  const bad = mixed(5, 2, 1);
  bad.data[7] = NaN;
  await rejectsWith(() => pca(bad), InvalidDataError, "band 1");
});

Deno.test("Projection.transform() refuses another band count and NaN; 0 rows give 0 rows", async () => {
  const p = new Projection(new Float64Array([0, 0]), new Float64Array([1, 0, 0, 1]));
  await rejectsWith(
    () => p.transform({ data: new Float32Array(3), rows: 1, cols: 3 }),
    TypeError,
    "fitted on 2",
  );
  await rejectsWith(
    () => p.transform({ data: new Float32Array([1, NaN]), rows: 1, cols: 2 }),
    InvalidDataError,
    "pixel 0, band 1",
  );
  const none = await p.transform({ data: new Float32Array(0), rows: 0, cols: 2 });
  assert.equal(none.rows, 0);
  assert.throws(() => new Projection(new Float64Array(2), new Float64Array(3)), TypeError);
});

Deno.test({
  name: "pca() eigenvalues match numpy's eigh of np.cov within 1e-5 of the largest",
  ignore: !hasNumpy,
  async fn() {
    const m = mixed(301, 8, 12);
    const p = await pca(m, { components: 8 });
    await inTempDir(async (dir) => {
      await writeNpy(`${dir}/x.npy`, { data: m.data, shape: [301, 8] });
      const out = await python(
        `import numpy as np, sys, json
x = np.load(sys.argv[1]).astype(np.float64)
w, v = np.linalg.eigh(np.cov(x, rowvar=False))
print(json.dumps({"w": w[::-1].tolist(), "v": v[:, ::-1].tolist()}))`,
        `${dir}/x.npy`,
      );
      const { w, v } = JSON.parse(out) as { w: number[]; v: number[][] };
      checkAgainst(
        p,
        { values: Float64Array.from(w), vectors: Float64Array.from(v.flat()) },
        8,
        "numpy",
      );
    });
  },
});

Deno.test("an aborted pca(), mnf() or transform names the call", async () => {
  const controller = new AbortController();
  controller.abort("stop");
  const signal = controller.signal;
  const m = mixed(30, 3, 2);
  const cube = { data: m.data, height: 5, width: 6, bands: 3 };
  await rejectsWith(() => pca(m, { signal }), AbortedError, "pca() was aborted");
  await rejectsWith(() => mnf(cube, { signal }), AbortedError, "mnf() was aborted");
  const p = await pca(m);
  await rejectsWith(
    () => p.projection.transform(m, { signal }),
    AbortedError,
    "Projection.transform() was aborted",
  );
});
