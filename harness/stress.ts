/**
 * The stress suite of `EXPERIMENTS.md` §1, run by `cli.ts stress`: the scale's dataset streamed
 * one sample at a time through the RX pipeline (throughput, memory delta and peak, detection
 * quality), then §1's fixed-size sections: forward latency at batch 1/4/8/16, the channel and
 * spatial sweeps with their fitted growth exponents, and the convolution net's gradient check.
 *
 * Memory stays bounded at every scale: one sample is alive at a time (an `xl` sample,
 * 512×512×200 float32, is 210 MB). `maxSeconds` stops the stream early and projects the whole
 * scale's time from the measured rate; a stop signal (Ctrl-C) ends the stream and skips the
 * sections not yet begun, keeping what is done.
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { rocAuc } from "../ops/roc_auc.ts";
import { RxDetector } from "../ops/rx.ts";
import { ConvNet } from "../nn/convnet.ts";
import { checkGradients } from "../nn/gradient_check.ts";
import { builtinSpec, countParameters } from "../nn/spec.ts";
import { synthCube } from "../synth/cube.ts";
import { type IndexedSample, synthDataset } from "../synth/datasets.ts";
import { randomF32 } from "../synth/uniform.ts";
import { growthExponent, type GrowthFit } from "./growth.ts";
import { type RssFigures, RssWatch } from "./memory.ts";
import { normaliseMinMax, rxPipeline } from "./stress_pipeline.ts";
import type { StressPlan } from "./stress_plan.ts";
import { measure, summarise, type Timing } from "./timing.ts";

/** Options of {@linkcode runStress}. */
export interface StressOptions {
  /** Backend of the RX work and the gradient check (default `"auto"`). */
  readonly backend?: Backend;
  /** Seed of the dataset and the network (default 0). */
  readonly seed?: number;
  /** Stop the stream after this many seconds and project the rest (default: no limit). */
  readonly maxSeconds?: number;
  /** Stops cleanly: the stream ends, sections not begun are skipped, results are kept. */
  readonly signal?: AbortSignal;
  /** Called after each streamed sample. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called as each section starts, with its name. */
  readonly onSection?: (name: string) => void;
}

/** The smallest, mean and largest of some values. */
export interface Range3 {
  /** How many values. */
  readonly count: number;
  /** The smallest. */
  readonly min: number;
  /** The mean. */
  readonly mean: number;
  /** The largest. */
  readonly max: number;
}

/** Why the stream ended. */
export type StreamEnd = "complete" | "max-time" | "interrupted";

/** The streamed pass over the scale's dataset. */
export interface StreamResult {
  /** Samples in the scale. */
  readonly planned: number;
  /** Samples that went through the pipeline. */
  readonly done: number;
  /** Why it ended. */
  readonly end: StreamEnd;
  /** Wall time of the pass (generation, pipeline, plain AUC), seconds; not the robust fits. */
  readonly seconds: number;
  /** Wall time of the robust fits of the detection table, seconds. */
  readonly robustSeconds: number;
  /** `done / seconds`, or `null` with no sample done. */
  readonly samplesPerSecond: number | null;
  /** `planned / samplesPerSecond`: the whole scale's time at the measured rate, seconds. */
  readonly projectedSeconds: number | null;
  /** Generating one sample, ms. */
  readonly generate: Timing | null;
  /** The pipeline (normalise, fit, score) on one sample, ms. */
  readonly pipeline: Timing | null;
  /** Process RSS over the pass, bytes. */
  readonly rss: RssFigures;
  /** One sample's cube, bytes (float32). */
  readonly sampleBytes: number;
  /** ROC AUC of the plain RX scores against the planted anomalies, per sample. */
  readonly plainAuc: Range3 | null;
  /** The same with the robust background fit, on the first samples. */
  readonly robustAuc: Range3 | null;
}

/** Forward latency at one batch size. */
export interface LatencyRow {
  /** Samples per forward. */
  readonly batch: number;
  /** The forward's timing, ms. */
  readonly timing: Timing;
  /** Median ms per sample. */
  readonly msPerSample: number;
}

/** One point of a sweep. */
export interface SweepPoint {
  /** The swept size: bands, or the image side. */
  readonly size: number;
  /** The size the exponent is fitted over: bands, or pixels (side²). */
  readonly fitSize: number;
  /** The pipeline over the sweep's samples, ms. */
  readonly timing: Timing;
}

/** A sweep and its growth exponent. */
export interface SweepResult {
  /** The points measured. */
  readonly points: readonly SweepPoint[];
  /** The log–log fit of median time against `fitSize`, or `null` with fewer than 2 points. */
  readonly fit: GrowthFit | null;
  /** The exponent the reference reports (2 for channels, 1 for pixels). */
  readonly reference: number;
}

/** The convolution net's gradient check. */
export interface GradientResult {
  /** The built-in spec checked. */
  readonly spec: string;
  /** Its parameters. */
  readonly parameters: number;
  /** The input's shape, NHWC. */
  readonly inputShape: readonly number[];
  /** The worst relative error of any checked element. */
  readonly maxRelativeError: number;
  /** The bound it must stay under (the gradient check tests' 1e-3). */
  readonly tolerance: number;
  /** Parameter tensors checked (plus the input). */
  readonly tensors: number;
  /** Wall time, ms. */
  readonly ms: number;
}

/** Everything a stress run found. */
export interface StressReport {
  /** The plan that ran. */
  readonly plan: StressPlan;
  /** The backend asked for. */
  readonly backend: Backend;
  /** When it started. */
  readonly startedAt: Date;
  /** Wall time of the run, seconds. */
  readonly seconds: number;
  /** The streamed pass. */
  readonly stream: StreamResult;
  /** Forward latency per batch size, or `null` when skipped. */
  readonly latency: readonly LatencyRow[] | null;
  /** Time against bands, or `null` when skipped. */
  readonly channelSweep: SweepResult | null;
  /** Time against pixels, or `null` when skipped. */
  readonly spatialSweep: SweepResult | null;
  /** The gradient check, or `null` when skipped. */
  readonly gradient: GradientResult | null;
  /** Sections skipped, with why. */
  readonly skipped: readonly string[];
  /** Process RSS over the whole run, bytes. */
  readonly rss: RssFigures;
}

/** The relative error the gradient check must stay under (as in its tests). */
export const GRADIENT_TOLERANCE = 1e-3;

/**
 * Runs the stress suite of a plan.
 *
 * @param plan From `stressPlan(scale)`.
 * @param options Backend, seed, time limit, stop signal, progress hooks.
 * @returns What every section found.
 * @throws {RangeError} When `maxSeconds` is not a positive number.
 * @throws {BackendUnavailableError} When `webgpu` is asked for and unavailable.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runStress } from "./stress.ts";
 * import { stressPlan } from "./stress_plan.ts";
 * const r = await runStress(stressPlan("tiny"), { backend: "wasm" });
 * assert.strictEqual(r.stream.done, 3);
 * assert(r.gradient !== null && r.gradient.maxRelativeError < r.gradient.tolerance);
 * ```
 */
export async function runStress(
  plan: StressPlan,
  options: StressOptions = {},
): Promise<StressReport> {
  const { maxSeconds, signal } = options;
  if (maxSeconds !== undefined && !(maxSeconds > 0 && Number.isFinite(maxSeconds))) {
    throw new RangeError(`maxSeconds must be a positive number of seconds, got ${maxSeconds}`);
  }
  const backend = options.backend ?? "auto";
  const seed = options.seed ?? 0;
  const startedAt = new Date();
  const t0 = performance.now();
  using watch = new RssWatch();
  const section = (name: string) => options.onSection?.(name);
  section("stream");
  const stream = await runStream(plan, { ...options, backend, seed });
  const skipped: string[] = [];
  // A section not begun when the stop came is skipped, and says so in the report.
  const guarded = async <T>(name: string, run: () => Promise<T>): Promise<T | null> => {
    if (signal?.aborted) {
      skipped.push(`${name}: interrupted before it began`);
      return null;
    }
    section(name);
    try {
      return await run();
    } catch (error) {
      if (!signal?.aborted) throw error;
      skipped.push(`${name}: interrupted`);
      return null;
    }
  };
  const latency = await guarded("latency", () => runLatency(plan, { backend, seed, signal }));
  const channelSweep = await guarded(
    "channel sweep",
    () => runSweep(plan, { backend, seed, signal, axis: "bands" }),
  );
  const spatialSweep = await guarded(
    "spatial sweep",
    () => runSweep(plan, { backend, seed, signal, axis: "side" }),
  );
  const gradient = await guarded("gradient check", () => runGradient(plan, { backend, seed }));
  return {
    plan,
    backend,
    startedAt,
    seconds: (performance.now() - t0) / 1000,
    stream,
    latency,
    channelSweep,
    spatialSweep,
    gradient,
    skipped,
    rss: watch.figures(),
  };
}

type Settings = { backend: Backend; seed: number; signal?: AbortSignal };

async function runStream(
  plan: StressPlan,
  options: StressOptions & Settings,
): Promise<StreamResult> {
  const { dataset } = plan;
  const { backend, signal, maxSeconds } = options;
  using watch = new RssWatch();
  const t0 = performance.now();
  const generateMs: number[] = [];
  const pipelineMs: number[] = [];
  const plain: number[] = [];
  const robust: number[] = [];
  let robustMs = 0;
  const pastDeadline = () =>
    maxSeconds !== undefined && performance.now() - t0 >= maxSeconds * 1000;
  let end: StreamEnd = "complete";
  const samples = synthDataset(dataset, { seed: options.seed })[Symbol.asyncIterator]();
  try {
    while (pipelineMs.length < dataset.samples) {
      // A stop between samples ends the pass; one sample is always done, so a rate exists.
      if (pipelineMs.length > 0 && signal?.aborted) {
        end = "interrupted";
        break;
      }
      if (pipelineMs.length > 0 && pastDeadline()) {
        end = "max-time";
        break;
      }
      let next: IteratorResult<IndexedSample> | undefined;
      const gen = await measure(async () => {
        next = await samples.next();
      }, { warmup: 0, iterations: 1 });
      if (next === undefined || next.done) break;
      const sample = next.value;
      generateMs.push(gen.medianMs);
      let scores: Float32Array | undefined;
      const run = await measure(async () => {
        scores = await rxPipeline(sample.cube, { backend });
      }, { warmup: 0, iterations: 1 });
      pipelineMs.push(run.medianMs);
      plain.push(rocAuc(scores!, sample.mask));
      if (robust.length < plan.robustSamples && !pastDeadline()) {
        // An evaluation, not the pipeline: its time is kept out of the rate and the projection.
        const t = performance.now();
        const rx = await new RxDetector().fit(sample.cube, { backend, robust: true });
        robust.push(rocAuc(await rx.score(sample.cube, { backend }), sample.mask));
        robustMs += performance.now() - t;
      }
      watch.sample();
      options.onProgress?.(pipelineMs.length, dataset.samples);
    }
  } finally {
    await samples.return?.(undefined);
  }
  const seconds = (performance.now() - t0 - robustMs) / 1000;
  const done = pipelineMs.length;
  const rate = done > 0 && seconds > 0 ? done / seconds : null;
  return {
    planned: dataset.samples,
    done,
    end,
    seconds,
    robustSeconds: robustMs / 1000,
    samplesPerSecond: rate,
    projectedSeconds: rate === null ? null : dataset.samples / rate,
    generate: done > 0 ? summarise(generateMs) : null,
    pipeline: done > 0 ? summarise(pipelineMs) : null,
    rss: watch.figures(),
    sampleBytes: dataset.height * dataset.width * dataset.bands * 4,
    plainAuc: range3(plain),
    robustAuc: range3(robust),
  };
}

function range3(values: readonly number[]): Range3 | null {
  if (values.length === 0) return null;
  return {
    count: values.length,
    min: Math.min(...values),
    mean: values.reduce((s, v) => s + v, 0) / values.length,
    max: Math.max(...values),
  };
}

/** The samples of a sweep point, normalised once so repeated runs time the same work. */
function cubes(count: number, side: number, bands: number, seed: number) {
  return Array.from({ length: count }, (_, i) => {
    const { cube } = synthCube({ height: side, width: side, bands, seed, sampleIndex: i });
    normaliseMinMax(cube.data);
    return cube;
  });
}

async function runLatency(plan: StressPlan, settings: Settings): Promise<LatencyRow[]> {
  const { side, bands, batches } = plan.latency;
  const { backend, signal } = settings;
  const most = Math.max(...batches);
  const batch = cubes(most, side, bands, settings.seed);
  // The forward of a fitted detector: fitted on the first sample, scoring a batch as one matrix.
  const rx = await new RxDetector().fit(batch[0], { backend });
  const pixels = side * side;
  const all = new Float32Array(most * pixels * bands);
  batch.forEach((c, i) => all.set(c.data, i * pixels * bands));
  const rows: LatencyRow[] = [];
  for (const b of batches) {
    const input = { data: all.subarray(0, b * pixels * bands), rows: b * pixels, cols: bands };
    const timing = await measure(() => rx.score(input, { backend }), {
      warmup: plan.warmup + 1,
      iterations: plan.iterations,
      signal,
    });
    rows.push({ batch: b, timing, msPerSample: timing.medianMs / b });
  }
  return rows;
}

async function runSweep(
  plan: StressPlan,
  settings: Settings & { axis: "bands" | "side" },
): Promise<SweepResult> {
  const { backend, signal, seed } = settings;
  const channels = settings.axis === "bands";
  const sizes = channels ? plan.channelSweep.bands : plan.spatialSweep.sides;
  const points: SweepPoint[] = [];
  for (const size of sizes) {
    const [side, bands, count] = channels
      ? [plan.channelSweep.side, size, plan.channelSweep.samples]
      : [size, plan.spatialSweep.bands, plan.spatialSweep.samples];
    const batch = cubes(count, side, bands, seed);
    const timing = await measure(async () => {
      for (const cube of batch) await rxPipeline(cube, { backend, signal });
    }, { warmup: plan.warmup, iterations: plan.iterations, signal });
    points.push({ size, fitSize: channels ? size : side * side, timing });
  }
  return {
    points,
    fit: points.length >= 2
      ? growthExponent(points.map((p) => p.fitSize), points.map((p) => p.timing.medianMs))
      : null,
    reference: channels ? 2 : 1,
  };
}

async function runGradient(
  plan: StressPlan,
  settings: Omit<Settings, "signal">,
): Promise<GradientResult> {
  const { spec: name, side, samples } = plan.gradient;
  const spec = builtinSpec(name);
  using net = await ConvNet.fromSpec(spec, { seed: settings.seed });
  const channels = spec.input.channels;
  const inputShape = [1, side, side, channels];
  const input = { data: randomF32(side * side * channels, settings.seed + 1), shape: inputShape };
  const t0 = performance.now();
  const r = await checkGradients(net, { input, samples, backend: settings.backend });
  return {
    spec: name,
    parameters: countParameters(spec.layers),
    inputShape,
    maxRelativeError: r.maxRelativeError,
    tolerance: GRADIENT_TOLERANCE,
    tensors: r.parameters.size,
    ms: performance.now() - t0,
  };
}
