/**
 * Tests of `RxDetector.fit(data, { robust })` (ops/_robust_fit.ts): detection at the reference
 * generator's settings (where plain RX fails), the chunked CubeSource path, agreement with the
 * plain fit on clean Gaussian data, the summary, saving and loading, and refused options.
 */

import assert from "node:assert";
import { RxDetector } from "../ops/rx.ts";
import { rocAuc } from "../ops/roc_auc.ts";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { synthCube } from "../synth/cube.ts";
import { chi2Cdf, chi2Quantile } from "../ops/_chi2.ts";
import { random, reference, relError } from "./_covariance_helpers.ts";
import { hasH5py, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

// The reference generator's settings (anomaly ratio 0.05, noise 0.1, magnitude 3) at 96x96x40.
const reference96 = synthCube({ height: 96, width: 96, bands: 40, seed: 0 });

Deno.test("robust RX reaches AUC ≥ 0.99 at the reference settings, where plain RX scores anomalies lowest", async () => {
  const { cube, mask } = reference96;
  const anomalous = mask.reduce((a, b) => a + b, 0) / mask.length;
  assert(anomalous > 0.1, `the cube has ${anomalous} anomalous pixels`);
  const plain = rocAuc(await (await new RxDetector().fit(cube)).score(cube), mask);
  assert(plain < 0.5, `plain RX AUC ${plain}: the problem the robust fit solves`);
  const rx = await new RxDetector().fit(cube, { robust: true });
  const auc = rocAuc(await rx.score(cube), mask);
  assert(auc >= 0.99, `robust RX AUC ${auc}`);
  const r = rx.stats.robust!;
  assert.equal(r.method, "mcd");
  assert.equal(r.pixels, 96 * 96);
  assert.equal(r.passes, r.steps + 2);
  assert.equal(r.kept, rx.stats.count);
  // The anomalies are among the trimmed pixels.
  assert(r.trimmed >= anomalous, `trimmed ${r.trimmed} < anomalous ${anomalous}`);
});

Deno.test("robust RX streams a CubeSource file in chunks: the in-memory fit, one pass each", async () => {
  const { cube, mask } = reference96;
  const memory = await new RxDetector().fit(cube, { robust: true });
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [96, 96, 40] });
    const source = await openCubeSource(`${dir}/c.npy`);
    let passes = 0;
    try {
      const rows = {
        chunks: () => {
          passes++;
          return source.chunks(96 * 7);
        },
      };
      const progress: string[] = [];
      const rx = await new RxDetector().fit(rows, {
        robust: true,
        onProgress: (p) => progress.push(p.unit),
      });
      assert.equal(passes, rx.stats.robust!.passes);
      assert.equal(new Set(progress).size, passes);
      assert.deepStrictEqual(
        { ...rx.stats.robust, trimmed: 0 },
        { ...memory.stats.robust, trimmed: 0 },
      );
      assert(relError(rx.stats.covariance, memory.stats.covariance) < 1e-6);
      assert(rocAuc(await rx.score(cube), mask) >= 0.99);
      // The open source itself (its default chunks) works too.
      const whole = await new RxDetector().fit(source, { robust: true });
      assert(relError(whole.stats.covariance, memory.stats.covariance) < 1e-6);
    } finally {
      source.close();
    }
  });
});

/** `rows` Gaussian pixels of `cols` bands with a fixed correlation, mean 50. */
function gaussian(rows: number, cols: number, seed: number): Matrix {
  const r = random(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let prev = 0;
    for (let c = 0; c < cols; c++) {
      prev = 0.6 * prev + g() * (1 + c);
      data[i * cols + c] = 50 + prev;
    }
  }
  return { data, rows, cols };
}

Deno.test("robust fit of clean Gaussian data is close to the plain fit (consistency factors)", async () => {
  for (const [rows, cols] of [[20000, 5], [6007, 1], [8000, 13]]) {
    const m = gaussian(rows, cols, rows + cols);
    const plain = await new RxDetector().fit(m);
    const rx = await new RxDetector().fit(m, { robust: true });
    // Tolerances: 5 % (Frobenius) on the covariance and 0.05 σ on the mean, several standard
    // errors of a reweighted MCD at these sizes; trimming keeps about 97.5 %.
    const err = relError(rx.stats.covariance, plain.stats.covariance);
    assert(err < 0.05, `${rows}x${cols}: covariance off by ${err}`);
    for (let c = 0; c < cols; c++) {
      const sd = Math.sqrt(plain.stats.covariance[c * cols + c]);
      assert(Math.abs(rx.stats.mean[c] - plain.stats.mean[c]) < 0.05 * sd, `mean ${c}`);
    }
    const r = rx.stats.robust!;
    assert(r.trimmed > 0.005 && r.trimmed < 0.05, `${rows}x${cols}: trimmed ${r.trimmed}`);
    assert(r.converged, `${rows}x${cols}: not converged in ${r.steps} steps`);
  }
});

Deno.test("robust fit: odd sizes (3 pixels, 1 band, 7 bands), a constant band, maxSteps 0", async () => {
  const three = await new RxDetector().fit(
    { data: new Float32Array([1, 2, 3, 5, 4, 1]), rows: 3, cols: 2 },
    { robust: true },
  );
  assert.equal(three.stats.robust!.pixels, 3);
  const m = gaussian(3001, 7, 1);
  for (let i = 0; i < m.rows; i++) m.data[i * 7 + 4] = 9; // constant band
  const rx = await new RxDetector().fit(m, { robust: { support: 0.5, maxSteps: 0 } });
  const r = rx.stats.robust!;
  assert.equal(r.steps, 0);
  assert.equal(r.passes, 2);
  assert.equal(r.support, 0.5);
  assert.equal(rx.stats.rank, 6);
  assert((await rx.score(m)).every(Number.isFinite));
  const one = await new RxDetector().fit(gaussian(500, 1, 2), { robust: true });
  assert.equal(one.stats.bands, 1);
});

Deno.test("robust fit refuses bad options, one-shot streams, too few pixels; names NaN pixels", async () => {
  const m = gaussian(50, 3, 3);
  for (const support of [0.4, 1, NaN, "0.7"]) {
    await rejectsWith(
      () => new RxDetector().fit(m, { robust: { support: support as number } }),
      RangeError,
      "support must be a fraction in [0.5, 1)",
    );
  }
  await rejectsWith(
    () => new RxDetector().fit(m, { robust: { maxSteps: 101 } }),
    RangeError,
    "maxSteps",
  );
  await rejectsWith(
    () => new RxDetector().fit(m, { robust: { maxSteps: 1.5 } }),
    TypeError,
    "maxSteps",
  );
  await rejectsWith(
    () => new RxDetector().fit(m, { robust: { supprot: 0.6 } as never }),
    TypeError,
    "robust.supprot is not an option",
  );
  await rejectsWith(() => new RxDetector().fit(m, { robust: "yes" as never }), TypeError, "robust");
  async function* once() {
    yield m;
  }
  await rejectsWith(
    () => new RxDetector().fit(once(), { robust: true }),
    TypeError,
    "one-shot stream",
  );
  // A one-shot stream is still fine for the plain fit.
  assert.equal((await new RxDetector().fit(once())).stats.count, 50);
  await rejectsWith(
    () => new RxDetector().fit({ data: new Float32Array(3), rows: 1, cols: 3 }, { robust: true }),
    RangeError,
    "at least 2 pixels",
  );
  await rejectsWith(
    () => new RxDetector().fit({ async *chunks() {} }, { robust: true }),
    RangeError,
    "at least 2 pixels",
  );
  const bad = gaussian(50, 3, 4);
  bad.data[3 * 17 + 2] = NaN;
  await rejectsWith(
    () => new RxDetector().fit(bad, { robust: true }),
    InvalidDataError,
    "pixel 17, band 2",
  );
  const skipped = await new RxDetector().fit(bad, { robust: true, skipInvalid: true });
  assert.equal(skipped.stats.skipped, 1);
  assert.equal(skipped.stats.robust!.pixels, 49);
});

Deno.test("toJSON/fromJSON and save/load (.json, .h5) carry the robust fit; a plain fit has none", async () => {
  const m = gaussian(400, 4, 5);
  const rx = await new RxDetector().fit(m, { robust: true });
  const json = JSON.parse(JSON.stringify(rx));
  assert.deepStrictEqual(json.robust, { ...rx.stats.robust });
  const copy = await RxDetector.fromJSON(json);
  assert.deepStrictEqual(copy.stats.robust, rx.stats.robust);
  const plain = await new RxDetector().fit(m);
  assert.equal(plain.stats.robust, undefined);
  assert.equal("robust" in plain.toJSON(), false);
  await rejectsWith(
    () => RxDetector.fromJSON({ ...json, robust: { ...json.robust, kept: 3 } }),
    InvalidDataError,
    "model.robust .kept",
  );
  await rejectsWith(
    () => RxDetector.fromJSON({ ...json, robust: { ...json.robust, method: "x" } }),
    InvalidDataError,
    "model.robust .method",
  );
  await inTempDir(async (dir) => {
    for (const ext of ["json", "h5"]) {
      await rx.save(`${dir}/rx.${ext}`);
      const back = await RxDetector.load(`${dir}/rx.${ext}`);
      assert.deepStrictEqual(back.stats.robust, rx.stats.robust, ext);
      await plain.save(`${dir}/plain.${ext}`);
      assert.equal((await RxDetector.load(`${dir}/plain.${ext}`)).stats.robust, undefined);
    }
    if (hasH5py) {
      const out = await python(
        `import h5py, sys, json
print(json.loads(h5py.File(sys.argv[1], "r").attrs["robust"])["passes"])`,
        `${dir}/rx.h5`,
      );
      assert.equal(Number(out.trim()), rx.stats.robust!.passes);
    } else console.log("h5py is unavailable: the h5py read of the robust attribute is skipped");
  });
});

Deno.test("chi-square CDF and quantiles match tabulated values", () => {
  // Tabulated: χ²(1) 0.975 → 5.0239, χ²(10) 0.5 → 9.3418, χ²(40) 0.975 → 59.3417.
  for (const [p, df, x] of [[0.975, 1, 5.023886], [0.5, 10, 9.341818], [0.975, 40, 59.341707]]) {
    assert(Math.abs(chi2Quantile(p, df) - x) < 1e-5, `q(${p}, ${df}) = ${chi2Quantile(p, df)}`);
    assert(Math.abs(chi2Cdf(x, df) - p) < 1e-6);
  }
  // χ²(2) has CDF 1 − e^{−x/2}.
  for (const x of [0.1, 1, 7, 30]) assert(Math.abs(chi2Cdf(x, 2) - (1 - Math.exp(-x / 2))) < 1e-13);
});

Deno.test("robust fit leaves the identical anomalies out of the mean (against a float64 background fit)", async () => {
  const { cube, mask } = reference96;
  const rx = await new RxDetector().fit(cube, { robust: true });
  // Float64 mean and covariance of the background pixels alone.
  const bands = 40;
  const bg = cube.data.filter((_, i) => mask[Math.floor(i / bands)] === 0);
  const want = reference({ data: bg, rows: bg.length / bands, cols: bands });
  const meanErr = relError(rx.stats.mean, want.mean);
  assert(meanErr < 0.01, `mean off the background's by ${meanErr}`);
  const covErr = relError(rx.stats.covariance, want.cov);
  assert(covErr < 0.1, `covariance off the background's by ${covErr}`);
});

Deno.test("an aborted robust fit names RxDetector.fit()", async () => {
  const controller = new AbortController();
  controller.abort("stop");
  await rejectsWith(
    () => new RxDetector().fit(gaussian(100, 3, 1), { robust: true, signal: controller.signal }),
    AbortedError,
    "RxDetector.fit() was aborted",
  );
});
