/**
 * Tests of `mnf()` (ops/mnf.ts): the noise covariance from neighbour differences and the
 * noise-whitened eigenproblem against a float64 Jacobi reference (and against numpy doing what
 * spectral Python's `mnf(calc_stats(X), noise_from_diffs(X))` does, when python3/numpy exist),
 * the transform's signal and noise variances, streaming over a CubeSource (3-D and 4-D), the
 * four directions, rank-deficient noise and refused input.
 */

import assert from "node:assert";
import { mnf, type NoiseDirection } from "../ops/mnf.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Cube, Matrix } from "../core/types.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { random, reference } from "./_covariance_helpers.ts";
import { columnVariances, jacobiEigen } from "./_eigen_reference.ts";
import { hasNumpy, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

/** A smooth signal (bands mix three slow spatial patterns) plus white noise of band-wise std. */
function noisyCube(height: number, width: number, bands: number, seed: number): Cube {
  const r = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const mix = Array.from({ length: 3 * bands }, () => r() * 20 - 10);
  const data = new Float32Array(height * width * bands);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = [Math.sin(y / 5), Math.cos(x / 7), (x + y) / (width + height)];
      for (let b = 0; b < bands; b++) {
        const s = 100 + p[0] * mix[b] + p[1] * mix[bands + b] + p[2] * mix[2 * bands + b];
        data[(y * width + x) * bands + b] = s + gauss() * (0.2 + b * 0.3);
      }
    }
  }
  return { data, height, width, bands };
}

const STEP: Record<NoiseDirection, [number, number]> = {
  lowerright: [1, 1],
  lowerleft: [1, -1],
  right: [0, 1],
  lower: [1, 0],
};

/** The difference rows of every in-image neighbour pair, as spectral Python forms them. */
function diffs(cube: Cube, direction: NoiseDirection = "lowerright"): Matrix {
  const { data, height, width, bands } = cube;
  const [dy, dx] = STEP[direction];
  const out: number[] = [];
  for (let y = 0; y + dy < height; y++) {
    for (let x = Math.max(0, -dx); x + dx < width && x < width; x++) {
      if (x + dx < 0) continue;
      for (let b = 0; b < bands; b++) {
        out.push(data[(y * width + x) * bands + b] - data[((y + dy) * width + x + dx) * bands + b]);
      }
    }
  }
  return { data: Float32Array.from(out), rows: out.length / bands, cols: bands };
}

/** Float64 MNF: eigenvalues of Wᵀ S W with N = V diag(λ) Vᵀ, W = V diag(λ^-½), and A = W·U. */
function referenceMnf(cube: Cube) {
  const c = cube.bands;
  const s = reference({ data: cube.data, rows: cube.height * cube.width, cols: c }).cov;
  const n = reference(diffs(cube)).cov.map((v) => v / 2);
  const ne = jacobiEigen(n, c);
  const w = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) w[i * c + j] = ne.vectors[i * c + j] / Math.sqrt(ne.values[j]);
  }
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      let t = 0;
      for (let p = 0; p < c; p++) {
        for (let q = 0; q < c; q++) t += w[p * c + i] * s[p * c + q] * w[q * c + j];
      }
      m[i * c + j] = t;
    }
  }
  const e = jacobiEigen(m, c);
  const a = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      for (let p = 0; p < c; p++) a[i * c + j] += w[i * c + p] * e.vectors[p * c + j];
    }
  }
  return { values: e.values, a, noise: n };
}

/** Columns of `got` (C × K) equal those of `want` (C × C) up to sign, within `tol` relative. */
function sameColumns(got: Float64Array, want: Float64Array, c: number, k: number, tol: number) {
  for (let j = 0; j < k; j++) {
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < c; i++) {
      dot += got[i * k + j] * want[i * c + j];
      norm += want[i * c + j] ** 2;
    }
    const sign = Math.sign(dot);
    for (let i = 0; i < c; i++) {
      const d = Math.abs(got[i * k + j] - sign * want[i * c + j]);
      assert(
        d <= tol * Math.sqrt(norm),
        `column ${j} row ${i}: ${got[i * k + j]} vs ±${want[i * c + j]}`,
      );
    }
  }
}

for (const [h, w, c] of [[24, 21, 6], [7, 5, 1], [13, 11, 2], [17, 19, 7]]) {
  Deno.test(`mnf() matches a float64 reference on a ${h}x${w}x${c} cube`, async () => {
    const cube = noisyCube(h, w, c, h * w + c);
    const ref = referenceMnf(cube);
    const k = Math.max(1, c - 1);
    const m = await mnf(cube, { components: k });
    assert.equal(m.count, h * w);
    assert.equal(m.noisePairs, (h - 1) * (w - 1));
    assert.equal(m.noiseRank, c);
    const nmax = Math.max(...ref.noise);
    ref.noise.forEach((v, i) =>
      assert(
        Math.abs(m.noiseCovariance[i] - v) <= 1e-5 * nmax,
        `noise[${i}] ${m.noiseCovariance[i]} vs ${v}`,
      )
    );
    for (let j = 0; j < c; j++) {
      assert(
        Math.abs(m.eigenvalues[j] - ref.values[j]) <= 1e-5 * ref.values[0],
        `eigenvalue ${j}: ${m.eigenvalues[j]} vs ${ref.values[j]}`,
      );
    }
    sameColumns(m.projection.matrix, ref.a, c, k, 1e-4);
  });
}

Deno.test("mnf() transform: signal variances are the eigenvalues, noise variances 1", async () => {
  const cube = noisyCube(30, 27, 5, 3);
  const m = await mnf(cube);
  const y = await m.projection.transform(cube);
  const v = columnVariances(y.data, 5);
  for (let j = 0; j < 5; j++) {
    assert(Math.abs(v[j] - m.eigenvalues[j]) <= 1e-4 * m.eigenvalues[0], `signal ${j}: ${v[j]}`);
  }
  // Projected neighbour differences: covariance / 2 is the identity (the noise is whitened).
  const nd = reference(await m.projection.transform(diffs(cube))).cov.map((x) => x / 2);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      assert(
        Math.abs(nd[i * 5 + j] - (i === j ? 1 : 0)) < 1e-4,
        `noise cov [${i}, ${j}] ${nd[i * 5 + j]}`,
      );
    }
  }
  // Ordered by signal-to-noise: the eigenvalues descend, and the first is far above noise (1).
  for (let j = 1; j < 5; j++) assert(m.eigenvalues[j] <= m.eigenvalues[j - 1]);
  assert(m.eigenvalues[0] > 10);
});

Deno.test("mnf() counts the pairs of each direction and matches the reference for each", async () => {
  const cube = noisyCube(9, 8, 3, 4);
  const counts = { lowerright: 8 * 7, lowerleft: 8 * 7, right: 9 * 7, lower: 8 * 8 };
  for (const d of Object.keys(counts) as NoiseDirection[]) {
    const m = await mnf(cube, { direction: d });
    assert.equal(m.noisePairs, counts[d], d);
    assert.equal(diffs(cube, d).rows, counts[d], `reference ${d}`);
    const want = reference(diffs(cube, d)).cov.map((v) => v / 2);
    want.forEach((v, i) =>
      assert(Math.abs(m.noiseCovariance[i] - v) <= 1e-5 * Math.max(...want), d)
    );
  }
});

Deno.test("mnf() streams a CubeSource in chunks of lines; a 4-D stack never pairs across images", async () => {
  const cube = noisyCube(20, 9, 4, 8);
  const whole = await mnf(cube, { components: 2 });
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [20, 9, 4] });
    const source = await openCubeSource(`${dir}/c.npy`);
    try {
      const lines = { ...source, chunks: () => source.chunks(9 * 3) };
      const m = await mnf(lines, { components: 2 });
      assert.equal(m.noisePairs, whole.noisePairs);
      for (let j = 0; j < 4; j++) {
        assert(Math.abs(m.eigenvalues[j] - whole.eigenvalues[j]) <= 1e-6 * whole.eigenvalues[0]);
      }
      // The whole source (one chunk) too.
      assert.equal((await mnf(source)).noisePairs, 19 * 8);
    } finally {
      source.close();
    }
    // The same pixels as a stack of two 10-line images: pairs stay inside each image.
    await writeNpy(`${dir}/s.npy`, { data: cube.data, shape: [2, 10, 9, 4] });
    const stack = await openCubeSource(`${dir}/s.npy`);
    try {
      const m = await mnf({ ...stack, chunks: () => stack.chunks(9 * 10) });
      assert.equal(m.noisePairs, 2 * 9 * 8);
      const half = (y0: number) => ({
        data: cube.data.subarray(y0 * 9 * 4, (y0 + 10) * 9 * 4),
        height: 10,
        width: 9,
        bands: 4,
      });
      const both = [...diffs(half(0)).data, ...diffs(half(10)).data];
      const want = reference({ data: Float32Array.from(both), rows: both.length / 4, cols: 4 }).cov
        .map((v) => v / 2);
      want.forEach((v, i) =>
        assert(Math.abs(m.noiseCovariance[i] - v) <= 1e-5 * Math.max(...want))
      );
    } finally {
      stack.close();
    }
  });
});

Deno.test("mnf() with a constant band: noise rank drops, more components are refused", async () => {
  const cube = noisyCube(10, 10, 4, 6);
  for (let p = 0; p < 100; p++) cube.data[p * 4 + 2] = 42;
  const m = await mnf(cube);
  assert.equal(m.noiseRank, 3);
  assert.equal(m.components, 3);
  assert.equal(m.eigenvalues.length, 3);
  const y = await m.projection.transform(cube);
  assert(y.data.every(Number.isFinite));
  await rejectsWith(() => mnf(cube, { components: 4 }), RangeError, "rank 3 of 4");
  const flat = { data: new Float32Array(5 * 5 * 2).fill(1), height: 5, width: 5, bands: 2 };
  await rejectsWith(() => mnf(flat), RangeError, "noise covariance is zero");
});

Deno.test("mnf() refuses pixel lists, tiny images, bad options, partial lines, 0 rows and NaN", async () => {
  const cube = noisyCube(6, 6, 3, 1);
  await rejectsWith(
    () => mnf({ bands: 3, pixelShape: [36], chunks: async function* () {} }),
    TypeError,
    "pixel list has no neighbours",
  );
  await rejectsWith(
    () => mnf({ data: cube.data, rows: 36, cols: 3 } as unknown as Cube),
    TypeError,
    "mnf() takes a cube",
  );
  await rejectsWith(
    () => mnf({ data: new Float32Array(3 * 3), height: 1, width: 3, bands: 3 }),
    RangeError,
    "neighbour pairs",
  );
  await rejectsWith(() => mnf(cube, { components: 4 }), RangeError, "at most 3 components");
  await rejectsWith(() => mnf(cube, { components: 0 }), RangeError, "options.components");
  await rejectsWith(
    () => mnf(cube, { direction: "up" as NoiseDirection }),
    TypeError,
    "options.direction must be one of lowerright",
  );
  await rejectsWith(
    () =>
      mnf({
        bands: 3,
        width: 6,
        async *chunks() {
          yield { data: new Float32Array(5 * 3), rows: 5, cols: 3 };
        },
      }),
    TypeError,
    "whole lines of 6 pixels",
  );
  await rejectsWith(
    () => mnf({ bands: 3, width: 6, async *chunks() {} }),
    RangeError,
    "input has 0 rows",
  );
  const bad = noisyCube(6, 6, 3, 1);
  bad.data[3 * 7 + 1] = Infinity;
  await rejectsWith(() => mnf(bad), InvalidDataError, "band 1");
});

Deno.test({
  name: "mnf() agrees with numpy doing spectral Python's mnf(calc_stats(X), noise_from_diffs(X))",
  ignore: !hasNumpy,
  async fn() {
    const cube = noisyCube(16, 15, 5, 21);
    const m = await mnf(cube);
    const y = await m.projection.transform(cube);
    await inTempDir(async (dir) => {
      await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [16, 15, 5] });
      const out = await python(
        `import numpy as np, sys, json
X = np.load(sys.argv[1]).astype(np.float64)
P = X.reshape(-1, X.shape[-1])
S = np.cov(P, rowvar=False)
D = (X[:-1, :-1, :] - X[1:, 1:, :]).reshape(-1, X.shape[-1])
N = np.cov(D, rowvar=False) / 2
l, v = np.linalg.eigh(N)
Nis = v @ np.diag(l ** -0.5) @ v.T   # spectral's noise.sqrt_inv_cov
L, V = np.linalg.eigh(Nis @ S @ Nis)
L, V = L[::-1], V[:, ::-1]
Y = (P - P.mean(axis=0)) @ (Nis @ V)
print(json.dumps({"L": L.tolist(), "Y": Y.tolist()}))`,
        `${dir}/c.npy`,
      );
      const { L, Y } = JSON.parse(out) as { L: number[]; Y: number[][] };
      L.forEach((v, j) => assert(Math.abs(m.eigenvalues[j] - v) <= 1e-5 * L[0], `λ${j}`));
      for (let j = 0; j < 5; j++) {
        const sign = Math.sign(Y.reduce((s, row, p) => s + row[j] * y.data[p * 5 + j], 0));
        const scale = Math.sqrt(L[j]);
        Y.forEach((row, p) =>
          assert(Math.abs(y.data[p * 5 + j] - sign * row[j]) <= 1e-3 * scale, `Y[${p}, ${j}]`)
        );
      }
    });
  },
});
