import assert from "node:assert";
import { RxDetector, type RxJson } from "../ops/rx.ts";
import { whitening } from "../ops/_pinv.ts";
import { InvalidDataError, SingularMatrixError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { synthCube } from "../synth/cube.ts";
import { Rng } from "../synth/rng.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { hasH5py, hasNumpy, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

/** Scores by numpy in float64: mean, cov (ddof 1), pinv(S + eps I, hermitian), quadratic form. */
async function numpyScores(m: Matrix, eps: number): Promise<Float64Array> {
  let out!: Float64Array;
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/x.npy`, { data: m.data, shape: [m.rows, m.cols] });
    await python(
      `import numpy as np, sys
X = np.load(sys.argv[1]).astype(np.float64)
mu = X.mean(0); Xc = X - mu
S = Xc.T @ Xc / (len(X) - 1) + float(sys.argv[3]) * np.eye(X.shape[1])
w, V = np.linalg.eigh(S)
keep = w > w.max() * X.shape[1] * 2.0**-52
P = (V[:, keep] / w[keep]) @ V[:, keep].T
np.save(sys.argv[2], ((Xc @ P) * Xc).sum(1))`,
      `${dir}/x.npy`,
      `${dir}/s.npy`,
      String(eps),
    );
    out = (await readNpy(`${dir}/s.npy`)).data as Float64Array;
  });
  return out;
}

function relErr(a: Float32Array, ref: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (a[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function randomMatrix(rows: number, cols: number, seed: number, offset = 0): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  // Correlated bands: each band mixes a shared factor with its own noise.
  for (let r = 0; r < rows; r++) {
    const f = rng.normal();
    for (let c = 0; c < cols; c++) data[r * cols + c] = offset + f * (1 + c / cols) + rng.normal();
  }
  return { data, rows, cols };
}

const backends = ["wasm", "webgpu"] as const;
const gpu = await gpuStatus();

for (const backend of backends) {
  Deno.test({
    name:
      `RxDetector scores match a float64 numpy reference on 1009x13 data near 1000 (${backend})`,
    ignore: !hasNumpy || (backend === "webgpu" && !gpu.available),
    async fn() {
      try {
        const m = randomMatrix(1009, 13, 7, 1000);
        const rx = await new RxDetector().fit(m);
        const scores = await rx.score(m, { backend });
        const ref = await numpyScores(m, 1e-6);
        const err = relErr(scores, ref);
        assert(err < 1e-3, `relative error ${err}`);
        assert(rx.stats.rank === 13 && rx.stats.count === 1009);
      } finally {
        await releaseGpu();
      }
    },
  });

  Deno.test({
    name:
      `RxDetector gives finite pinv scores for a constant band and rank-deficient data (${backend})`,
    ignore: !hasNumpy || (backend === "webgpu" && !gpu.available),
    async fn() {
      try {
        const base = randomMatrix(257, 4, 3);
        const cols = 9;
        const data = new Float32Array(257 * cols);
        for (let r = 0; r < 257; r++) {
          const x = base.data.subarray(r * 4, r * 4 + 4);
          // bands 0-3 free, 4 constant, 5-8 linear combinations: rank 4 of 9
          data.set([x[0], x[1], x[2], x[3], 5, x[0] + x[1], x[2] - x[3], 2 * x[0], x[1]], r * cols);
        }
        const m = { data, rows: 257, cols };
        for (const eps of [1e-6, 0]) {
          const rx = await new RxDetector().fit(m, { eps });
          const scores = await rx.score(m, { backend });
          assert(scores.every(Number.isFinite));
          const ref = await numpyScores(m, eps);
          const err = relErr(scores, ref);
          assert(err < 1e-3, `eps ${eps}: relative error ${err}`);
          if (eps === 0) assert(rx.stats.rank === 4, `rank ${rx.stats.rank}`);
        }
      } finally {
        await releaseGpu();
      }
    },
  });
}

Deno.test("RxDetector scores 0, 1 and 257 rows of a fitted model; a cube gives an HxW map", async () => {
  const m = randomMatrix(300, 5, 11);
  const rx = await new RxDetector().fit(m);
  assert((await rx.score({ data: new Float32Array(0), rows: 0, cols: 5 })).length === 0);
  const one = await rx.score({ data: m.data.slice(0, 5), rows: 1, cols: 5 });
  const all = await rx.score(m);
  assert(one[0] === all[0]);
  const map = await rx.score({
    data: m.data.subarray(0, 257 * 5),
    height: 1,
    width: 257,
    bands: 5,
  });
  assert(map.length === 257 && map[256] === all[256]);
});

Deno.test("RxDetector fit streams an AsyncIterable to the one-shot statistics", async () => {
  const m = randomMatrix(1000, 6, 5);
  async function* chunks() {
    for (let r = 0; r < 1000; r += 333) {
      const n = Math.min(333, 1000 - r);
      yield { data: m.data.slice(r * 6, (r + n) * 6), rows: n, cols: 6 };
    }
  }
  const a = await new RxDetector().fit(m);
  const b = await new RxDetector().fit(chunks());
  for (let i = 0; i < 36; i++) {
    const d = Math.abs(a.stats.covariance[i] - b.stats.covariance[i]);
    assert(d <= 1e-6 * Math.abs(a.stats.covariance[i]) + 1e-9, `entry ${i}: ${d}`);
  }
});

/** Area under the ROC curve by the rank-sum statistic (ties count half). */
function auc(scores: Float32Array, labels: ArrayLike<number>): number {
  const idx = [...scores.keys()].sort((i, j) => scores[i] - scores[j]);
  let pos = 0, neg = 0, rankSum = 0;
  for (let k = 0; k < idx.length;) {
    let e = k;
    while (e + 1 < idx.length && scores[idx[e + 1]] === scores[idx[k]]) e++;
    const rank = (k + e) / 2 + 1;
    for (let t = k; t <= e; t++) if (labels[idx[t]]) rankSum += rank;
    k = e + 1;
  }
  for (let i = 0; i < labels.length; i++) labels[i] ? pos++ : neg++;
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
}

Deno.test("auc() is 1, 0.5 and 0 on separable, tied and reversed scores", () => {
  const labels = [0, 0, 1, 1];
  assert(auc(new Float32Array([1, 2, 3, 4]), labels) === 1);
  assert(auc(new Float32Array([1, 1, 1, 1]), labels) === 0.5);
  assert(auc(new Float32Array([4, 3, 2, 1]), labels) === 0);
});

Deno.test("RX reaches ROC AUC >= 0.99 on synthCube 64x64x10 with one anomaly disc", async () => {
  // anomalyRatio 0.005 gives max(1, floor(20) // 20) = 1 disc (<= 81 of 4096 pixels).
  for (const seed of [0, 1, 2]) {
    const { cube, labels } = synthCube({
      height: 64,
      width: 64,
      bands: 10,
      seed,
      anomalyRatio: 0.005,
    });
    const rx = await new RxDetector().fit(cube);
    const a = auc(await rx.score(cube), labels);
    assert(a >= 0.99, `seed ${seed}: AUC ${a}`);
  }
});

Deno.test("global RX ranks the §1 reference anomalies below background (AUC < 0.5)", async () => {
  // At the reference settings about 11% of the pixels are discs of one identical, noise-free
  // signature: they dominate the covariance along their own direction, so global RX scores them
  // lower than the noisy background. A property of the data, checked so a change is noticed.
  const { cube, labels } = synthCube({ height: 64, width: 64, bands: 10, seed: 0 });
  const rx = await new RxDetector().fit(cube);
  const a = auc(await rx.score(cube), labels);
  assert(a < 0.5, `AUC ${a}`);
});

Deno.test("RxDetector rejects a band mismatch, an unfitted score and fewer than 2 pixels", async () => {
  const m = randomMatrix(50, 4, 1);
  await rejectsWith(() => new RxDetector().score(m), TypeError, "not fitted");
  const rx = await new RxDetector().fit(m);
  const e = await rejectsWith(
    () => rx.score({ data: new Float32Array(10), rows: 2, cols: 5 }),
    TypeError,
    "5 bands",
  );
  assert(e.message.includes("fitted on 4"));
  await rejectsWith(
    () => new RxDetector().fit({ data: new Float32Array(4), rows: 1, cols: 4 }),
    RangeError,
    "at least 2",
  );
  await rejectsWith(() => new RxDetector().fit(m, { eps: -1 }), RangeError, "eps");
});

Deno.test("RxDetector names the pixel and band of a NaN at fit and at score", async () => {
  const m = randomMatrix(40, 4, 2);
  const bad = { data: m.data.slice(), rows: 40, cols: 4 };
  bad.data[17 * 4 + 2] = NaN;
  await rejectsWith(() => new RxDetector().fit(bad), InvalidDataError, /17.*2|2.*17/);
  const rx = await new RxDetector().fit(m);
  const e = await rejectsWith(() => rx.score(bad), InvalidDataError, "row 17, band 2");
  assert((e as InvalidDataError).position?.band === 2);
  const skip = await new RxDetector().fit(bad, { skipInvalid: true });
  assert(skip.stats.count === 39 && skip.stats.skipped === 1);
});

Deno.test("whitening() pseudo-inverts, reports rank and condition, and throws when asked", async () => {
  // diag(4, 1, 0): pinv diag(1/4, 1, 0), rank 2, condition 4
  const s = new Float64Array([4, 0, 0, 0, 1, 0, 0, 0, 0]);
  const r = await whitening(s, 3, { eps: 0 });
  assert(r.rank === 2 && Math.abs(r.conditionNumber - 4) < 1e-12);
  const p = (i: number, j: number) => r.w[i * 2] * r.w[j * 2] + r.w[i * 2 + 1] * r.w[j * 2 + 1];
  assert(Math.abs(p(0, 0) - 0.25) < 1e-15 && Math.abs(p(1, 1) - 1) < 1e-15 && p(2, 2) === 0);
  await rejectsWith(
    () => whitening(s, 3, { eps: 0, singular: "throw" }),
    SingularMatrixError,
    "rank 2",
  );
  const zero = await whitening(new Float64Array(4), 2, { eps: 0 });
  assert(zero.rank === 0 && zero.w.length === 0);
  await rejectsWith(() => whitening(new Float64Array(3), 2), TypeError, "4 values");
});

Deno.test("RxDetector.fromJSON() rejects a non-object with TypeError, a bad state with InvalidDataError", async () => {
  const json: RxJson = {
    format: "prism.rx",
    version: 1,
    count: 3,
    bands: 1,
    eps: 0,
    skipped: 0,
    mean: [1],
    covariance: [2],
  };
  await assert.rejects(RxDetector.fromJSON(null as never), TypeError);
  await assert.rejects(RxDetector.fromJSON({ ...json, version: 2 as 1 }), InvalidDataError);
  await assert.rejects(
    RxDetector.fromJSON({ ...json, format: "x" as "prism.rx" }),
    InvalidDataError,
  );
  assert((await RxDetector.fromJSON(json)).stats.count === 3);
});

Deno.test("RxDetector round-trips through JSON and HDF5 (read back by h5py)", async () => {
  const m = randomMatrix(120, 6, 9);
  const rx = await new RxDetector().fit(m, { eps: 1e-4 });
  const want = await rx.score(m);
  const fromJson = await RxDetector.fromJSON(JSON.parse(JSON.stringify(rx)));
  assert((await fromJson.score(m)).every((v, i) => v === want[i]));
  await inTempDir(async (dir) => {
    for (const name of ["rx.json", "rx.h5"]) {
      await rx.save(`${dir}/${name}`);
      const back = await RxDetector.load(`${dir}/${name}`);
      assert(back.stats.eps === 1e-4 && back.stats.count === 120);
      assert((await back.score(m)).every((v, i) => v === want[i]));
    }
    assert([...Deno.readDirSync(dir)].length === 2, "no temporary files left");
    if (hasH5py) {
      const out = await python(
        `import h5py, sys
f = h5py.File(sys.argv[1], "r")
print(f["covariance"].shape, f.attrs["count"], f.attrs["rank"], f.attrs["format"], f["mean"][0])`,
        `${dir}/rx.h5`,
      );
      assert(out.startsWith("(6, 6) 120 6 prism.rx"), out);
      assert(Math.abs(Number(out.trim().split(" ").at(-1)) - rx.stats.mean[0]) < 1e-12);
    }
    await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
    await rejectsWith(() => RxDetector.load(`${dir}/bad.json`), InvalidDataError, "not valid JSON");
    await Deno.writeFile(`${dir}/bad.h5`, new Uint8Array(100).fill(7));
    await rejectsWith(() => RxDetector.load(`${dir}/bad.h5`), InvalidDataError);
    await Deno.writeTextFile(`${dir}/other.json`, '{"format": "x"}');
    await rejectsWith(() => RxDetector.load(`${dir}/other.json`), InvalidDataError, "prism RX");
    await rejectsWith(() => rx.save(`${dir}/rx.txt`), RangeError, ".json");
  });
});

Deno.test("RX refuses a fit with no more pixels than bands, at once (a tiny file of many bands)", async () => {
  // 2 pixels x 3000 bands: a rank-1 covariance whose inverse would cost 3000³ for nothing.
  const wide = { data: new Float32Array(2 * 3000).map((_, i) => i % 7), rows: 2, cols: 3000 };
  await rejectsWith(
    () => new RxDetector().fit(wide),
    RangeError,
    "RX needs more pixels than bands: got 2 pixels for 3000 bands",
  );
  await rejectsWith(
    () => new RxDetector().fit(wide, { robust: true }),
    RangeError,
    "give at least 3001 pixels, or select fewer bands",
  );
  // The boundary: bands + 1 pixels fit.
  const square = { data: new Float32Array([1, 2, 3, 5, 4, 1]), rows: 3, cols: 2 };
  assert.strictEqual((await new RxDetector().fit(square)).stats.count, 3);
  await rejectsWith(
    () => new RxDetector().fit({ data: square.data.subarray(0, 4), rows: 2, cols: 2 }),
    RangeError,
    "more pixels than bands",
  );
});
