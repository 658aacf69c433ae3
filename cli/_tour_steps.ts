/**
 * The steps of the tour (`./tour.ts`): one small function per operation, each returning the
 * lines it prints. An operation that lands adds its step here.
 *
 * @module
 */

import type { Cube, Matrix } from "../core/types.ts";
import { cubeAsMatrix } from "../core/validate.ts";
import { capabilities } from "../ops/capabilities.ts";
import { columnSums } from "../ops/column_sums.ts";
import { synthCube } from "../synth/cube.ts";
import { writeNpy } from "../io/npy.ts";
import { covariance } from "../ops/covariance.ts";
import { RxDetector } from "../ops/rx.ts";
import { rxLocal } from "../ops/rx_local.ts";
import { rocAuc } from "../ops/roc_auc.ts";
import { pca } from "../ops/pca.ts";
import { spectrumOf } from "../ops/spectrum.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { runTrackingExperiment } from "../track/experiment.ts";
import { Rng } from "../synth/rng.ts";
import { convStep, convTiledStep, convTrainStep } from "./_tour_conv.ts";
import { profiled } from "../harness/memory.ts";
import type { TourLine, TourStep } from "./_tour_types.ts";

export type { TourContext, TourLine, TourStep } from "./_tour_types.ts";

/** The data every step shares, made once: the reference pipeline's small-scale sample. */
const SAMPLE = { height: 64, width: 64, bands: 10, seed: 7 } as const;
let sample: { cube: Cube; labels: Int32Array; mask: Uint8Array; pixels: Matrix } | undefined;

const machine: TourStep = async () => {
  const caps = await capabilities();
  const routes = Object.entries(caps.routes).map(([f, r]) => `${f}→${r.backend}`).join(", ");
  return [{
    title: "machine",
    detail: `${caps.runtime.cpus} CPUs, WASM SIMD ${caps.wasm.simd ? "yes" : "no"}, ` +
      `${caps.wasm.workers} workers; GPU: ${
        caps.gpu.available
          ? `${caps.gpu.adapter.description}${caps.gpu.adapter.isSoftware ? " (software)" : ""}`
          : "none"
      }; auto: ${routes}`,
  }];
};

const synthesize: TourStep = async (ctx) => {
  const { value: made, ms, peakRssBytes } = await profiled(() => synthCube(SAMPLE));
  sample = { ...made, pixels: cubeAsMatrix(made.cube) };
  const { height: h, width: w, bands: c } = SAMPLE;
  const cubeFile = `${ctx.outDir}/cube.npy`;
  const labelsFile = `${ctx.outDir}/labels.npy`;
  await writeNpy(cubeFile, { data: made.cube.data, shape: [h, w, c] });
  await writeNpy(labelsFile, { data: made.labels, shape: [h, w] });
  const anomalous = made.mask.reduce((n, v) => n + v, 0);
  return [{
    title: `synthCube ${h}×${w}×${c}`,
    backend: "js",
    ms,
    peakRssBytes,
    work: { amount: h * w, unit: "px" },
    detail: `${anomalous} anomalous pixels (${(100 * anomalous / (h * w)).toFixed(1)} %)`,
    files: [cubeFile, labelsFile],
  }];
};

const means: TourStep = async (ctx) => {
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value: result, ms, peakRssBytes } = await profiled(() =>
      columnSums(sample!.pixels, { backend })
    );
    lines.push({
      title: "columnSums (band means)",
      backend,
      ms,
      peakRssBytes,
      work: { amount: sample!.pixels.rows, unit: "px" },
      result: result.means,
      detail: `mean of band 0 = ${result.means[0].toFixed(3)}`,
    });
  }
  return lines;
};

const covarianceStep: TourStep = async (ctx) => {
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value: stats, ms, peakRssBytes } = await profiled(() =>
      covariance(sample!.cube, { backend })
    );
    const file = `${ctx.outDir}/covariance_${backend}.npy`;
    await writeNpy(file, { data: stats.covariance, shape: [stats.bands, stats.bands] });
    lines.push({
      title: `covariance ${stats.count} px × ${stats.bands}`,
      backend,
      ms,
      peakRssBytes,
      work: { amount: stats.count, unit: "px" },
      result: stats.covariance,
      detail: `var(band 0) = ${stats.covariance[0].toFixed(2)}`,
      files: [file],
    });
  }
  return lines;
};

/**
 * Global RX, fit and scored, on the reference sample and on one with sparse anomalies. At the
 * reference settings about 11 % of pixels carry one identical noise-free anomaly signature,
 * so they shape the covariance itself and RX cannot single them out; with sparse anomalies (the
 * case RX is made for) it separates them cleanly. The tour shows both, honestly.
 */
const rxStep: TourStep = async (ctx) => {
  const sparse = synthCube({ ...SAMPLE, anomalyRatio: 0.005 });
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value: scores, ms, peakRssBytes } = await profiled(async () => {
      const rx = await new RxDetector().fit(sample!.cube, { backend });
      return await rx.score(sample!.cube, { backend });
    });
    const file = `${ctx.outDir}/rx_scores_${backend}.npy`;
    await writeNpy(file, { data: scores, shape: [SAMPLE.height, SAMPLE.width] });
    const sparseRx = await new RxDetector().fit(sparse.cube, { backend });
    const sparseAuc = rocAuc(await sparseRx.score(sparse.cube, { backend }), sparse.mask);
    lines.push({
      title: "RX fit + score",
      backend,
      ms,
      peakRssBytes,
      work: { amount: SAMPLE.height * SAMPLE.width, unit: "px" },
      result: scores,
      detail: `AUC ${rocAuc(scores, sample!.mask).toFixed(3)} at the reference settings ` +
        `(11 % identical anomalies); ${sparseAuc.toFixed(3)} with sparse anomalies`,
      files: [file],
    });
    if (backend === "wasm") {
      const saved = `${ctx.outDir}/rx_detector.h5`;
      await sparseRx.save(saved);
      lines.push({
        title: "RxDetector.save",
        detail: "mean, covariance, eps, rank",
        files: [saved],
      });
    }
  }
  return lines;
};

/**
 * RX with a robust background fit on the same reference sample: the reweighted MCD fit leaves the
 * identical anomalies out of the background, so RX finds them; then PCA of the same pixels.
 */
const rxRobustStep: TourStep = async (ctx) => {
  const { value: fitted, ms, peakRssBytes } = await profiled(async () => {
    const rx = await new RxDetector().fit(sample!.cube, { robust: true });
    return { rx, scores: await rx.score(sample!.cube) };
  });
  const { rx, scores } = fitted;
  const file = `${ctx.outDir}/rx_robust_scores.npy`;
  await writeNpy(file, { data: scores, shape: [SAMPLE.height, SAMPLE.width] });
  const r = rx.stats.robust!;
  const pcaRun = await profiled(() => pca(sample!.cube, { components: 3 }));
  const explained = pcaRun.value.explainedVarianceRatio.reduce((a, b) => a + b, 0);
  const pixels = SAMPLE.height * SAMPLE.width;
  return [{
    title: "RX robust fit + score",
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: pixels, unit: "px" },
    detail: `AUC ${rocAuc(scores, sample!.mask).toFixed(3)} at the reference settings; ` +
      `${r.passes} passes, ${(r.trimmed * 100).toFixed(1)} % of pixels trimmed`,
    files: [file],
  }, {
    title: "PCA, 3 components",
    backend: "wasm",
    ms: pcaRun.ms,
    peakRssBytes: pcaRun.peakRssBytes,
    work: { amount: pixels, unit: "px" },
    detail: `${(explained * 100).toFixed(1)} % of the variance explained`,
  }];
};

const rxLocalStep: TourStep = async (ctx) => {
  const window = { inner: 3, outer: 9 };
  const { value: scores, ms, peakRssBytes } = await profiled(() => rxLocal(sample!.cube, window));
  const file = `${ctx.outDir}/rx_local_scores.npy`;
  await writeNpy(file, { data: scores, shape: [SAMPLE.height, SAMPLE.width] });
  return [{
    title: `rxLocal window (${window.inner}, ${window.outer})`,
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: SAMPLE.height * SAMPLE.width, unit: "px" },
    detail: `max score ${scores.reduce((m, v) => Math.max(m, v), 0).toFixed(1)}`,
    files: [file],
  }];
};

/**
 * An activation-like matrix: `rank` random directions plus a little noise, so its spectrum has
 * a clear knee at `rank`.
 */
function activations(rows: number, cols: number, rank: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const u = Float32Array.from({ length: rows * rank }, () => rng.normal());
  const v = Float32Array.from({ length: rank * cols }, () => rng.normal());
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rank; k++) {
      const a = u[r * rank + k];
      for (let c = 0; c < cols; c++) data[r * cols + c] += a * v[k * cols + c];
    }
    for (let c = 0; c < cols; c++) data[r * cols + c] += 0.01 * rng.normal();
  }
  return { data, rows, cols };
}

const spectrumStep: TourStep = async (ctx) => {
  const a = activations(512, 768, 20, 3);
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value, ms, peakRssBytes } = await profiled(() => spectrumOf(a, { backend }));
    const { singularValues: s, metrics } = value;
    const file = `${ctx.outDir}/singular_values_${backend}.npy`;
    await writeNpy(file, { data: s, shape: [s.length] });
    lines.push({
      title: `singularValues 512 × 768 (rank 20)`,
      backend,
      ms,
      peakRssBytes,
      // The Gram route's arithmetic: the 512 × 512 Gram matrix of 768-long rows.
      work: { amount: 2 * a.rows * a.rows * a.cols, unit: "FLOP" },
      result: s,
      detail: `s₁ ${s[0].toFixed(1)}, stable rank ${metrics.stable_rank.toFixed(2)}, ` +
        `cumulative_90 ${metrics.cumulative_90}, numerical rank ${metrics.numerical_rank}`,
      files: [file],
    });
  }
  return lines;
};

/** A tracker over a run whose activations lose rank half-way: a jump, found and exported. */
const trackerStep: TourStep = async (ctx) => {
  const tracker = new DimensionalityTracker({ samplingFrequency: 2 });
  const { ms, peakRssBytes } = await profiled(async () => {
    for (let step = 0; step < 120; step++) {
      const rank = step < 80 ? 24 : 4;
      await tracker.observe(step, {
        layer: "hidden",
        activations: activations(64, 128, rank, step),
        loss: 1 / (1 + step),
      });
    }
  });
  const files = ["csv", "json", "h5"].map((ext) => `${ctx.outDir}/tracking.${ext}`);
  for (const file of files) await tracker.export(file);
  const jump = tracker.jumps()[0];
  return [{
    title: "DimensionalityTracker 120 steps",
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: tracker.rows().length, unit: "obs" },
    detail: `${tracker.rows().length} measurements, ${tracker.memoryBytes()} bytes; ` +
      (jump ? `jump at step ${jump.step} (z ${jump.z.toFixed(1)})` : "no jump"),
    files,
  }];
};

/** The reference tracking experiment, shortened: overhead of tracking at sampling 10. */
const experimentStep: TourStep = async () => {
  const steps = 200;
  const { value: result, ms, peakRssBytes } = await profiled(() =>
    runTrackingExperiment({ steps, samplingFrequencies: [10], exportFrequency: null })
  );
  const f = result.frequencies[0];
  return [{
    title: `MLP 784-256-128-10, ${steps} steps ×2`,
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: 2 * steps, unit: "steps" },
    detail: `${result.stepMs.toFixed(1)} ms/step; tracking at sampling 10 costs ` +
      `${f.observeOverheadPercent.toFixed(1)} % (time in observe); ` +
      "`cli.ts track-demo` runs the full table",
  }];
};

/** The tour, in order. */
export const tourSteps: readonly TourStep[] = [
  machine,
  synthesize,
  means,
  covarianceStep,
  rxStep,
  rxRobustStep,
  rxLocalStep,
  spectrumStep,
  convStep,
  convTrainStep,
  convTiledStep,
  trackerStep,
  experimentStep,
];
