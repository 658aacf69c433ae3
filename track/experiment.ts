/**
 * The reference dimensionality-tracking experiment: train a 784-256-128-10
 * MLP on a seeded synthetic task untracked and tracked at several sampling frequencies, and
 * report what tracking costs: time overhead, measurements, memory, jumps, export sizes.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix, RunOptions } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { Mlp } from "../nn/mlp.ts";
import { SyntheticClassification } from "../synth/classification.ts";
import { DimensionalityTracker, type MeasureFunction, type Observation } from "./tracker.ts";
import { singularValues } from "../ops/spectrum.ts";

/** The part of a tracker the experiment uses; `DimensionalityTracker` has it. */
export interface ExperimentTracker {
  /** Measures (or skips) one layer at one step. */
  observe(step: number, observation: Observation): Promise<boolean>;
  /** Every stored measurement. */
  rows(): readonly unknown[];
  /** The flagged jumps. */
  jumps(): readonly unknown[];
  /** Bytes the stored measurements take. */
  memoryBytes(): number;
  /** Writes the measurements to a `.csv`, `.json` or `.h5` file. */
  export(path: string): Promise<void>;
}

/**
 * Steps each twin trains before the other takes over (see {@linkcode runTrackingExperiment}):
 * short enough that a change in machine load falls on both, long enough that each block holds a
 * measurement at sampling 10.
 */
const LOCKSTEP_BLOCK = 10;

/** Makes a tracker for one run. */
export type TrackerFactory = (
  options: { samplingFrequency: number; measure: MeasureFunction },
) => ExperimentTracker;

/**
 * Options of {@linkcode runTrackingExperiment}. `onProgress` is called every 100 steps and at
 * the end with the steps done over all runs, both twins counted; `signal` cancels between steps
 * (the promise then rejects with `AbortedError`).
 */
export interface ExperimentOptions extends Pick<RunOptions, "signal" | "onProgress"> {
  /** Training steps per run (default 8000, as the reference). */
  steps?: number;
  /** Batch size (default 64). */
  batch?: number;
  /** One tracked run per value (default `[1, 5, 10, 20, 50, 100]`). */
  samplingFrequencies?: readonly number[];
  /** Seed of the data and the weights (default 0); every run uses it. */
  seed?: number;
  /** Makes each run's tracker (default: a `DimensionalityTracker` from `./tracker.ts`). */
  tracker?: TrackerFactory;
  /** The singular-value solver (default: `singularValues` from `ops/spectrum.ts`). */
  measure?: MeasureFunction;
  /** The frequency whose tracker is exported to CSV, JSON and HDF5 (default 5 when listed,
   * else the first); `null` skips the exports. */
  exportFrequency?: number | null;
}

/** Size and write time of one export. */
export interface ExportMeasurement {
  /** `csv`, `json` or `hdf5`. */
  readonly format: "csv" | "json" | "hdf5";
  /** File size in bytes. */
  readonly bytes: number;
  /** Seconds `export()` took. */
  readonly seconds: number;
}

/** The outcome of one tracked run. */
export interface FrequencyResult {
  /** Every `samplingFrequency`-th step was measured. */
  readonly samplingFrequency: number;
  /** Wall time of the tracked run (its blocks of steps, `observe()` included), seconds. */
  readonly seconds: number;
  /** Wall time of its untracked twin over the same steps, in lockstep with it, seconds. */
  readonly baselineSeconds: number;
  /** `100 · (seconds − baselineSeconds) / baselineSeconds`: what tracking adds to training. */
  readonly overheadPercent: number;
  /** Seconds spent inside `observe()` (all layers), timed directly. */
  readonly observeSeconds: number;
  /** `100 · observeSeconds / baselineSeconds`: the part of the overhead inside `observe()`. */
  readonly observeOverheadPercent: number;
  /** Rows the tracker stored (layers x measured steps). */
  readonly measurements: number;
  /** `tracker.memoryBytes()` at the end. */
  readonly memoryBytes: number;
  /** Jumps the tracker flagged (all layers, default series). */
  readonly jumps: number;
  /** Export sizes and times, for the export frequency only. */
  readonly exports?: readonly ExportMeasurement[];
}

/** The outcome of {@linkcode runTrackingExperiment}. */
export interface ExperimentResult {
  /** Steps per run. */
  readonly steps: number;
  /** Batch size. */
  readonly batch: number;
  /** The seed. */
  readonly seed: number;
  /** Wall time of each untracked twin, seconds, one per sampling frequency in order. */
  readonly baselineSeconds: readonly number[];
  /** Mean untracked milliseconds per training step. */
  readonly stepMs: number;
  /** Loss of the first and last step of the first untracked twin (every run's, when
   * `identicalTraining`). */
  readonly loss: { readonly first: number; readonly last: number };
  /** Whether every run, tracked or not, produced bit-identical losses at every step. */
  readonly identicalTraining: boolean;
  /** One entry per sampling frequency, in the order given. */
  readonly frequencies: readonly FrequencyResult[];
}

/**
 * Runs the reference experiment: a 784-256-128-10 ReLU MLP (Adam, lr 1e-3) on
 * `SyntheticClassification` (10 Gaussian classes in 784-d), `steps` steps of batch `batch`,
 * once untracked and once per sampling frequency with a tracker observing `hidden1`
 * (batch x 256), `hidden2` (batch x 128) and `logits` (batch x 10) after every step, with that
 * step's loss and gradient norm.
 *
 * Fair timing:
 * - Every run starts from the same seed and data, and the tracker only reads activations, so
 *   tracked and untracked runs do identical arithmetic; `identicalTraining` checks it by
 *   comparing every step's loss bit for bit.
 * - Two twin networks train side by side, one tracked and one not, taking turns every
 *   {@linkcode LOCKSTEP_BLOCK} steps (which goes first alternates), and each one's blocks are
 *   timed, so a change in machine load falls on both within milliseconds. Whole runs one after
 *   the other (a tracked run against the untracked runs either side) gave anything from −6 % to
 *   +15 % on a shared 2-core VM, where the cost being measured is 1–2 %.
 * - Both twins are warmed up first (50 steps, off the clock), so the JIT has compiled the step.
 * - `observeSeconds` times the `observe()` calls directly as well. `overheadPercent` also holds
 *   what the tracker leaves behind (caches it evicted), except that a garbage collection its
 *   allocations bring forward may land in either twin's block.
 *
 * Cost: `2n · steps` training steps for `n` frequencies, plus the warm-up. A step is three 1×1
 * convolutions forward and back on `ConvNet` (`nn/mlp.ts`) plus Adam, a few milliseconds on a
 * 2-core machine, so the full default experiment (6 pairs of 8000 steps) takes well over 10
 * minutes plus tracking; pass a smaller `steps` for CI and demos.
 *
 * @param options Steps, batch, frequencies, seed, and injected tracker / solver.
 * @returns Per-frequency overheads, measurements, memory, jumps and export figures.
 * @throws {TypeError} When `steps`, `batch` or a frequency is not a whole number.
 * @throws {RangeError} When one is below 1 or the frequency list is empty.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { runTrackingExperiment } from "./experiment.ts";
 * import assert from "node:assert";
 * // A toy solver keeps the example fast: the largest column norms stand in for the
 * // singular values (pass ops/spectrum.ts's singularValues, the default, for real ones).
 * const measure = (m: { data: Float32Array; rows: number; cols: number }) => {
 *   const s = new Float64Array(m.cols);
 *   for (let i = 0; i < m.data.length; i++) s[i % m.cols] += m.data[i] ** 2;
 *   const top = s.map(Math.sqrt).sort().reverse().slice(0, Math.min(m.rows, m.cols));
 *   return Promise.resolve(top);
 * };
 * const result = await runTrackingExperiment({
 *   steps: 4,
 *   samplingFrequencies: [2],
 *   measure,
 *   exportFrequency: null,
 * });
 * assert(result.frequencies[0].measurements === 2 * 3);
 * assert(result.identicalTraining);
 * ```
 */
export async function runTrackingExperiment(
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const steps = checkInteger("steps", options.steps ?? 8000, 1);
  const batch = checkInteger("batch", options.batch ?? 64, 1);
  const seed = checkInteger("seed", options.seed ?? 0, 0);
  const frequencies = options.samplingFrequencies ?? [1, 5, 10, 20, 50, 100];
  if (frequencies.length === 0) {
    throw new RangeError("samplingFrequencies is empty; give at least one, e.g. [5]");
  }
  frequencies.forEach((f, i) => checkInteger(`samplingFrequencies[${i}]`, f, 1));
  const exportFrequency = options.exportFrequency === undefined
    ? (frequencies.includes(5) ? 5 : frequencies[0])
    : options.exportFrequency;
  const makeTracker = options.tracker ??
    ((o: { samplingFrequency: number; measure: MeasureFunction }) => new DimensionalityTracker(o));
  const measure = options.measure ?? ((m: Matrix) => singularValues(m));

  const task = new SyntheticClassification({ seed });
  const x = new Float32Array(batch * task.features);
  const labels = new Int32Array(batch);
  const totalSteps = 2 * frequencies.length * steps;
  let done = 0;

  /** Trains `net` over steps `from` to `to`, storing each loss; times `observe()` apart. */
  const trainBlock = async (
    net: Mlp,
    tracker: ExperimentTracker | undefined,
    from: number,
    to: number,
    losses: Float64Array,
  ) => {
    let observeMs = 0;
    for (let step = from; step < to; step++) {
      throwIfAborted(options.signal, "runTrackingExperiment()");
      task.batch(step, { x, labels });
      const { loss, gradNorm } = await net.trainStep(x, labels);
      losses[step] = loss;
      if (tracker !== undefined) {
        const t0 = performance.now();
        // The next step replaces the activations: every layer's measurement settles first.
        await Promise.all(
          net.activations().map((a) =>
            tracker.observe(step, { layer: a.layer, activations: a.activations, loss, gradNorm })
          ),
        );
        observeMs += performance.now() - t0;
      }
      if (++done % 100 === 0 || done === totalSteps) {
        options.onProgress?.({ done, total: totalSteps, unit: "steps" });
      }
    }
    return observeMs;
  };

  using tracked = await Mlp.create({ batch, seed });
  using untracked = await Mlp.create({ batch, seed });
  // Warm-up, off the clock and the progress count: the JIT compiles the step on both nets.
  for (const net of [tracked, untracked]) {
    for (let step = 0; step < Math.min(steps, 50); step++) {
      throwIfAborted(options.signal, "runTrackingExperiment()");
      task.batch(step, { x, labels });
      await net.trainStep(x, labels);
    }
  }

  let identical = true;
  let referenceLosses: Float64Array | undefined;
  const baselines: number[] = [];
  const results: FrequencyResult[] = [];
  for (const samplingFrequency of frequencies) {
    const tracker = makeTracker({ samplingFrequency, measure });
    await tracked.reset(seed);
    await untracked.reset(seed);
    const trackedLosses = new Float64Array(steps), untrackedLosses = new Float64Array(steps);
    let trackedMs = 0, untrackedMs = 0, observeMs = 0;
    for (let from = 0, block = 0; from < steps; from += LOCKSTEP_BLOCK, block++) {
      const to = Math.min(steps, from + LOCKSTEP_BLOCK);
      // Which twin goes first alternates, so neither always follows the other's cache traffic.
      for (const trackedNow of block % 2 === 0 ? [false, true] : [true, false]) {
        const t0 = performance.now();
        if (trackedNow) {
          observeMs += await trainBlock(tracked, tracker, from, to, trackedLosses);
          trackedMs += performance.now() - t0;
        } else {
          await trainBlock(untracked, undefined, from, to, untrackedLosses);
          untrackedMs += performance.now() - t0;
        }
      }
    }
    referenceLosses ??= untrackedLosses;
    identical &&= sameBits(trackedLosses, referenceLosses) &&
      sameBits(untrackedLosses, referenceLosses);
    const seconds = trackedMs / 1000, baselineSeconds = untrackedMs / 1000;
    baselines.push(baselineSeconds);
    const observeSeconds = observeMs / 1000;
    results.push({
      samplingFrequency,
      seconds,
      baselineSeconds,
      overheadPercent: 100 * (seconds - baselineSeconds) / baselineSeconds,
      observeSeconds,
      observeOverheadPercent: 100 * observeSeconds / baselineSeconds,
      measurements: tracker.rows().length,
      memoryBytes: tracker.memoryBytes(),
      jumps: tracker.jumps().length,
      exports: samplingFrequency === exportFrequency ? await measureExports(tracker) : undefined,
    });
  }
  const mean = baselines.reduce((a, b) => a + b, 0) / baselines.length;
  return {
    steps,
    batch,
    seed,
    baselineSeconds: baselines,
    stepMs: 1000 * mean / steps,
    loss: { first: referenceLosses![0], last: referenceLosses![steps - 1] },
    identicalTraining: identical,
    frequencies: results,
  };
}

/** Exports a tracker to each format in a temporary folder; returns sizes and write times. */
async function measureExports(tracker: ExperimentTracker): Promise<ExportMeasurement[]> {
  const dir = await Deno.makeTempDir({ prefix: "prism-experiment-" });
  try {
    const out: ExportMeasurement[] = [];
    for (const [format, ext] of [["csv", "csv"], ["json", "json"], ["hdf5", "h5"]] as const) {
      const path = `${dir}/track.${ext}`;
      const t0 = performance.now();
      await tracker.export(path);
      const seconds = (performance.now() - t0) / 1000;
      out.push({ format, bytes: (await Deno.stat(path)).size, seconds });
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
