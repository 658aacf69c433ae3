/**
 * The dimensionality tracker: every `samplingFrequency` steps, measures the singular-value
 * metrics of each tracked layer's activations and keeps them, 40 bytes a measurement.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import { flattenActivations } from "./flatten.ts";
import { detectJumps, type JumpOptions, resolveJumpOptions } from "./jumps.ts";
import { spectrumMetrics } from "../ops/spectrum_metrics.ts";
import type { JumpMetric, LayerRow, TrackRow } from "./row.ts";
import type { MeasureFunction, Observation, TrackerOptions, TrackJump } from "./tracker_types.ts";
import {
  checkActivations,
  checkExtras,
  checkLayerName,
  checkMetadata,
  checkMetric,
  checkObservation,
  checkStep,
} from "./_tracker_checks.ts";
import { BYTES_PER_ROW, LayerStore } from "./_store.ts";
import { type ExportOptions, type LoadOptions, readTrack, writeTrack } from "./export.ts";
import { singularValues } from "../ops/spectrum.ts";

interface LayerState {
  readonly store: LayerStore;
  featureShape: readonly number[] | undefined;
  /** The last step accepted, measured or still being measured. */
  reservedStep: number;
  /** Settles when the layer's latest observation has stored its row (keeps rows in order). */
  tail: Promise<void>;
}

const SKIPPED: Promise<boolean> = Promise.resolve(false);
// On this thread, not a pool worker. Tried (2026-12-08, 2-core AMD EPYC): observe() copying the
// activations and the Gram and eigenvalues running on a worker while training went on. The time
// in observe() fell from 1.35 % to 0.3 %, but the training's own pool jobs then shared the cores
// with the measurement, and the step after a measured one took 0.65-0.8 ms longer: overhead
// 3.2-4.3 % against 1.1-1.3 % here.
const defaultMeasure: MeasureFunction = (matrix) => singularValues(matrix);
const MAX_STEP = 0xffffffff;

/**
 * Tracks the dimensionality of layer activations over training.
 *
 * For each measured step and layer it flattens the activations to a batch × features matrix
 * (NHWC conv output `[N, H, W, C]` → `N × H·W·C`, sequences `[B, T, D]` → `B·T × D`), gets its
 * singular values from `options.measure`, and stores the {@linkcode TrackRow} metrics
 * (see `spectrumMetrics` in `ops/spectrum_metrics.ts` for every formula) in columnar typed arrays: step,
 * cumulative_90 and numerical_rank as uint32, the other values as float32 (the activations are
 * float32, so the metrics hold no more digits than that; the loss and gradient norm are rounded
 * to float32 too), 40 bytes per measurement.
 *
 * @example
 * ```ts
 * import { DimensionalityTracker } from "./tracker.ts";
 * import assert from "node:assert";
 * // A stand-in solver: the activations below are diagonal, so their singular values are
 * // the absolute diagonal entries.
 * const measure = (m: { data: Float32Array; cols: number }) =>
 *   Promise.resolve(
 *     Float64Array.from({ length: m.cols }, (_, i) => Math.abs(m.data[i * m.cols + i]))
 *       .sort().reverse(),
 *   );
 * const tracker = new DimensionalityTracker({ samplingFrequency: 10, measure });
 * for (let step = 0; step < 30; step++) {
 *   const data = new Float32Array([3, 0, 0, 0, 2, 0, 0, 0, 1]);
 *   await tracker.observe(step, { layer: "fc1", activations: { data, rows: 3, cols: 3 }, loss: 1 / (step + 1) });
 * }
 * const rows = tracker.rows("fc1");
 * assert(rows.map((r) => r.step).join() === "0,10,20");
 * assert(Math.abs(rows[0].stable_rank - 14 / 9) < 1e-6);
 * ```
 */
export class DimensionalityTracker {
  /** Every `samplingFrequency`-th step is measured. */
  readonly samplingFrequency: number;
  /** Run metadata, as given. */
  readonly metadata: Readonly<Record<string, string | number>>;
  readonly #jump: Required<JumpOptions> & { metric: JumpMetric };
  readonly #measure: MeasureFunction;
  readonly #layers = new Map<string, LayerState>();

  /**
   * Creates a tracker with no measurements.
   *
   * @param options Sampling frequency, jump settings, the singular-value solver and metadata.
   * @throws {RangeError} When `samplingFrequency` is not a positive integer, a jump option is
   *   out of range, or a metadata key is reserved ({@linkcode RESERVED_METADATA_KEYS}).
   * @throws {TypeError} When `measure` is not a function or metadata values are not strings or
   *   finite numbers.
   */
  constructor(options: TrackerOptions = {}) {
    const { samplingFrequency = 1, jump = {}, measure, metadata = {} } = options;
    if (
      typeof samplingFrequency !== "number" || !Number.isInteger(samplingFrequency) ||
      samplingFrequency < 1 || samplingFrequency > MAX_STEP
    ) {
      throw new RangeError(
        `samplingFrequency must be a positive integer (1 = every step), got ${
          String(samplingFrequency)
        }`,
      );
    }
    this.samplingFrequency = samplingFrequency;
    const metric = jump.metric ?? "stable_rank";
    checkMetric(metric);
    this.#jump = { ...resolveJumpOptions(jump), metric };
    if (measure !== undefined && typeof measure !== "function") {
      throw new TypeError(
        `measure must be a function (matrix) => Promise<Float64Array>, got ${typeof measure}`,
      );
    }
    this.#measure = measure ?? defaultMeasure;
    this.metadata = Object.freeze({ ...checkMetadata(metadata) });
  }

  /**
   * Says whether `step` is a measured step (`step % samplingFrequency === 0`).
   *
   * @param step A training step, a non-negative integer.
   * @returns `true` when `observe` would measure this step.
   * @throws {TypeError} When `step` is not a whole number.
   * @throws {RangeError} When `step` is negative or above 2³² − 1.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * const t = new DimensionalityTracker({ samplingFrequency: 5 });
   * assert(t.shouldMeasure(10) && !t.shouldMeasure(11));
   * ```
   */
  shouldMeasure(step: number): boolean {
    checkInteger("step", step, 0, MAX_STEP);
    return step % this.samplingFrequency === 0;
  }

  /**
   * Records one layer's activations at one step. Off-sample steps return at once (the same
   * settled promise every time: no allocation, no work). On a measured step the activations
   * are checked, flattened (no copy), measured, and a row is stored. Do not change the
   * activations' data until the promise settles: the solver reads it asynchronously.
   *
   * Concurrent calls are allowed; each layer's rows are stored in step order.
   *
   * @param step The training step, an integer in `0 .. 2³² − 1`, increasing per layer.
   * @param observation `layer` (the layer's name, any non-empty string), `activations` (a
   *   batch × features matrix, or a tensor `[rows, cols]`, `[N, H, W, C]` or `[B, T, D]`), and
   *   optionally the `loss` and `gradNorm` at this step.
   * @returns `true` when the step was measured and stored, `false` when it was skipped.
   * @throws {TypeError} When `step` is not a whole number, `layer` is not a non-empty string,
   *   the activations have an unsupported shape, or the layer's feature shape changed.
   * @throws {RangeError} When `step` is out of range or not above the layer's last step, or the
   *   activations have no rows or no columns.
   * @throws {InvalidDataError} When an activation (or the loss, gradient norm) is NaN or
   *   infinite; `position` has `layer`, `step`, `row`, `col`.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * const tracker = new DimensionalityTracker({
   *   samplingFrequency: 2,
   *   measure: () => Promise.resolve(new Float64Array([2, 1])),
   * });
   * const x = { data: new Float32Array(4), rows: 2, cols: 2 };
   * assert((await tracker.observe(0, { layer: "fc", activations: x })) === true);
   * assert((await tracker.observe(1, { layer: "fc", activations: x })) === false);
   * ```
   */
  observe(step: number, observation: Observation): Promise<boolean> {
    if (Number.isInteger(step) && step >= 0 && step % this.samplingFrequency !== 0) {
      return SKIPPED;
    }
    return this.#observe(step, observation);
  }

  async #observe(step: number, observation: Observation): Promise<boolean> {
    checkInteger("step", step, 0, MAX_STEP);
    const { layer, activations } = checkObservation(observation);
    const measure = this.#measure;
    const { matrix, featureShape } = flattenActivations(activations);
    const state = this.#state(layer);
    const where = { layer, step };
    checkStep(where, state.reservedStep);
    checkActivations(where, { matrix, featureShape, previous: state.featureShape });
    const { loss, gradNorm } = checkExtras(observation, where);

    state.featureShape = featureShape;
    state.reservedStep = step;
    const previous = state.tail;
    let release!: () => void;
    state.tail = new Promise((resolve) => release = resolve);
    try {
      const s = await measure(matrix);
      const m = spectrumMetrics(s, { shape: [matrix.rows, matrix.cols] });
      await previous;
      // The metrics are named as the row's columns; the store keeps the ones a row has.
      state.store.push({ ...m, step, loss, grad_norm: gradNorm });
    } finally {
      release();
    }
    return true;
  }

  /**
   * The names of the layers with at least one stored measurement, in first-seen order.
   *
   * @returns The layer names.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * assert(new DimensionalityTracker().layers().length === 0);
   * ```
   */
  layers(): string[] {
    const names: string[] = [];
    for (const [name, state] of this.#layers) if (state.store.length > 0) names.push(name);
    return names;
  }

  /**
   * The stored rows as plain objects, each with its layer: one layer's, or every layer's
   * (layer by layer, in step order).
   *
   * @param layer A layer name; omit it for all layers.
   * @returns The rows.
   * @throws {RangeError} When `layer` was never observed.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * const t = new DimensionalityTracker({ measure: () => Promise.resolve(new Float64Array([1])) });
   * await t.observe(0, { layer: "head", activations: { data: new Float32Array([1]), rows: 1, cols: 1 }, loss: 0.5 });
   * assert(t.rows()[0].layer === "head" && t.rows("head")[0].loss === 0.5);
   * ```
   */
  rows(layer?: string): LayerRow[] {
    const names = layer === undefined ? this.layers() : [this.#known(layer)];
    const out: LayerRow[] = [];
    for (const name of names) {
      for (const row of this.#layers.get(name)!.store.rows()) out.push({ layer: name, ...row });
    }
    return out;
  }

  /**
   * Bytes held by the stored measurements: 40 per measurement, allocated in blocks of 512
   * rows per layer (so at most 20 KiB per layer sits unused).
   *
   * @returns The byte count of every layer's typed arrays.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * assert(new DimensionalityTracker().memoryBytes() === 0);
   * ```
   */
  memoryBytes(): number {
    let bytes = 0;
    for (const state of this.#layers.values()) bytes += state.store.byteLength;
    return bytes;
  }

  /**
   * Finds the jumps of a metric per layer with {@linkcode detectJumps} and the tracker's jump
   * settings.
   *
   * @param options `metric` (default: the constructor's, `"stable_rank"`) and `layer` (default:
   *   all layers).
   * @returns The jumps, layer by layer, each with its training step.
   * @throws {RangeError} When the metric is unknown or the layer was never observed.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * let scale = 1;
   * const t = new DimensionalityTracker({
   *   measure: () => Promise.resolve(new Float64Array([1, scale, 0.5])),
   * });
   * const x = { data: new Float32Array(9), rows: 3, cols: 3 };
   * for (let step = 0; step < 30; step++) {
   *   scale = step < 25 ? 0.1 + 0.01 * (step % 3) : 1;
   *   await t.observe(step, { layer: "conv", activations: x });
   * }
   * assert(t.jumps()[0].step === 25);
   * ```
   */
  jumps(options: { metric?: JumpMetric; layer?: string } = {}): TrackJump[] {
    const metric = options.metric ?? this.#jump.metric;
    checkMetric(metric);
    const names = options.layer === undefined ? this.layers() : [this.#known(options.layer)];
    const out: TrackJump[] = [];
    for (const layer of names) {
      const store = this.#layers.get(layer)!.store;
      const steps = store.column("step");
      for (const j of detectJumps(store.column(metric), this.#jump)) {
        out.push({ layer, metric, step: steps[j.index], ...j });
      }
    }
    return out;
  }

  /**
   * Writes the rows to `path`, the format chosen by its extension: `.csv`, `.json`, `.h5` /
   * `.hdf5`. See `writeTrack` in `./export.ts` for each layout. Writes are atomic.
   *
   * @param path The output file.
   * @param options `perLayer` (CSV: one file per layer), `append` (HDF5: add a run).
   * @returns Nothing; resolves when the file is in place.
   * @throws {RangeError} When the extension is unknown or an option does not apply.
   * @throws {Deno.errors.NotFound} Or another file-system error when the path is unwritable.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * const t = new DimensionalityTracker({ measure: () => Promise.resolve(new Float64Array([1])) });
   * await t.observe(0, { layer: "fc", activations: { data: new Float32Array([1]), rows: 1, cols: 1 } });
   * const dir = await Deno.makeTempDir();
   * await t.export(`${dir}/run.json`);
   * const back = await DimensionalityTracker.load(`${dir}/run.json`);
   * assert(back.rows()[0].stable_rank === t.rows()[0].stable_rank);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  export(path: string, options: ExportOptions = {}): Promise<void> {
    return writeTrack(path, {
      samplingFrequency: this.samplingFrequency,
      metadata: this.metadata,
      layers: this.layers().map((name) => ({
        name,
        rows: this.#layers.get(name)!.store.rows(),
      })),
    }, options);
  }

  /**
   * Reads a tracker back from a `.csv`, `.json`, `.h5` or `.hdf5` file that `export` wrote.
   * Its `rows()` equal the exported tracker's. HDF5 files also restore the sampling frequency
   * and metadata; CSV and JSON carry neither (pass them in `options`).
   *
   * @param path The file.
   * @param options Tracker options for the new tracker (e.g. `measure` to go on observing), and
   *   `run`: which HDF5 run to read (default: the last one).
   * @returns The loaded tracker.
   * @throws {InvalidDataError} When the file is corrupt or not a tracker export.
   * @throws {RangeError} When the extension is unknown or the run does not exist.
   * @throws {Deno.errors.NotFound} When the file does not exist.
   * @example
   * ```ts
   * import { DimensionalityTracker } from "./tracker.ts";
   * import assert from "node:assert";
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/empty.json`, "{}");
   * const t = await DimensionalityTracker.load(`${dir}/empty.json`);
   * assert(t.layers().length === 0);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async load(
    path: string,
    options: TrackerOptions & LoadOptions = {},
  ): Promise<DimensionalityTracker> {
    const track = await readTrack(path, options);
    const tracker = new DimensionalityTracker({
      samplingFrequency: track.samplingFrequency,
      metadata: track.metadata,
      ...stripUndefined(options),
    });
    for (const { name, rows } of track.layers) {
      checkLayerName(name);
      const state = tracker.#state(name);
      for (const row of rows) {
        checkStep({ layer: name, step: row.step }, state.reservedStep);
        state.reservedStep = row.step;
        state.store.push(row);
      }
    }
    return tracker;
  }

  #state(layer: string): LayerState {
    let state = this.#layers.get(layer);
    if (state === undefined) {
      state = {
        store: new LayerStore(),
        featureShape: undefined,
        reservedStep: -1,
        tail: Promise.resolve(),
      };
      this.#layers.set(layer, state);
    }
    return state;
  }

  #known(layer: string): string {
    if (!this.#layers.has(layer)) {
      throw new RangeError(
        `no layer named "${layer}" was observed; known layers: ${
          this.layers().map((l) => `"${l}"`).join(", ") || "none"
        }`,
      );
    }
    return layer;
  }
}

/** Bytes stored per measurement ({@linkcode DimensionalityTracker.memoryBytes} counts them). */
export const TRACKER_BYTES_PER_MEASUREMENT: number = BYTES_PER_ROW;

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// Re-exported so users of the tracker get its row and option types from one module.
export type { JumpMetric, LayerRow, TrackRow };
export type {
  MeasureFunction,
  Observation,
  ObserveExtras,
  TrackerOptions,
  TrackJump,
} from "./tracker_types.ts";
export { RESERVED_METADATA_KEYS } from "./_tracker_checks.ts";
