/**
 * A mergeable covariance state: count, mean and co-moment matrix `M2 = Σ (x - mean)ᵀ(x - mean)`
 * in float64, fed chunk by chunk through the Gram engine and combined by Chan's parallel update.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import type { Backend, RunOptions } from "../core/types.ts";
import { assertFinite, checkInteger } from "../core/validate.ts";
import { operationOf } from "../core/operation.ts";
import { gram } from "./gram.ts";
import { chooseBackend } from "./route.ts";
import { estimateShift } from "./_covariance_shift.ts";
import { hostMatrix, livesOn, type MatrixLike, shapeOf } from "./_placement.ts";
import { sampleForShift } from "./_shift_sample.ts";
import { finiteRows, finiteStats } from "./_finite_rows.ts";
import {
  checkCovarianceMatrix,
  checkMagnitude,
  finiteNumbers,
  FLOAT32_MAX,
} from "./_saved_state.ts";
import { checkBandBudget } from "./_band_budget.ts";

/** What `covariance()` and {@linkcode CovarianceAccumulator.result} return. */
export interface CovarianceResult {
  /** Pixels (rows) that entered the statistics. */
  count: number;
  /** Bands (columns). */
  bands: number;
  /** The column means. */
  mean: Float64Array;
  /** The `bands × bands` covariance, row-major, symmetric: `M2 / (count - ddof)`. */
  covariance: Float64Array;
  /** Pixels skipped for NaN or infinity (`skipInvalid`). */
  skipped: number;
  /**
   * Pixels left out before the statistics by a pixel selection (no-data or masked: chunks from
   * `openCubeSource` or `PixelSelection.apply` say how many pixels they cover).
   */
  excluded: number;
  /** The engine that ran the Gram kernels. */
  backend: "wasm" | "webgpu";
}

/**
 * Options of {@linkcode CovarianceAccumulator}. `backend` defaults to `"auto"`
 * (`chooseBackend("covariance", …)`, decided on the first chunk).
 */
export interface CovarianceAccumulatorOptions extends Pick<RunOptions, "backend"> {
  /** Skip pixels with NaN or infinity (counted in `skipped`) instead of throwing. */
  skipInvalid?: boolean;
}

/**
 * Options of {@linkcode CovarianceAccumulator.add}: `signal` cancels the chunk's work (the call
 * then rejects with `AbortedError`); `onProgress` reports progress within the chunk, in rows.
 */
export interface AddOptions extends Pick<RunOptions, "signal" | "onProgress"> {}

/** The JSON form of an accumulator (see {@linkcode CovarianceAccumulator.toJSON}). */
export interface CovarianceAccumulatorJson {
  /** Format version, 1. */
  version: 1;
  /** Bands (columns) per pixel. */
  bands: number;
  /** Valid pixels accumulated. */
  count: number;
  /** Pixels skipped for NaN or infinity. */
  skipped: number;
  /** Pixels left out by a pixel selection (no-data or masked); absent in older states: 0. */
  excluded?: number;
  /** Rows seen, valid or not: where the next chunk's row numbers start. */
  rowsSeen: number;
  /** The column means. */
  mean: number[];
  /** `bands × bands`, row-major. */
  m2: number[];
  /** The float32 shift the kernels subtract, once chosen. */
  shift: number[] | null;
  /** The engine chosen on the first chunk, or `null` before any. */
  backend: "wasm" | "webgpu" | null;
}

/** Set by the class's static block: {@linkcode takeResult}'s way to its private state. */
let consumeResult: (acc: CovarianceAccumulator, ddof: number) => CovarianceResult;

/**
 * Accumulates the mean and covariance of pixels (rows) arriving in chunks, in one pass.
 *
 * Each chunk's Gram is computed around a fixed float32 shift (an estimate of the first chunk's
 * mean), turned into the chunk's exact `(n, mean, M2)` in float64 and merged by Chan's update
 * `M2 += M2_b + d dᵀ · n m / (n + m)`; `merge()` applies the same update to another accumulator,
 * so partial states from workers, files or machines combine to the one-pass answer. The merge
 * itself adds only float64 rounding; what differs between splits is the float32 rounding inside
 * the kernels' 128-row blocks (at most ~1e-6 relative), and nothing at all on quantised data
 * (small integers), where the kernels are exact.
 *
 * @example
 * ```ts
 * import { CovarianceAccumulator } from "./covariance_accumulator.ts";
 * import assert from "node:assert";
 * const a = new CovarianceAccumulator(2, { backend: "wasm" });
 * await a.add({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 });
 * const b = new CovarianceAccumulator(2, { backend: "wasm" });
 * await b.add({ data: new Float32Array([5, 6]), rows: 1, cols: 2 });
 * const r = a.merge(b).result();
 * assert(r.count === 3 && r.mean[0] === 3 && r.covariance[0] === 4 && r.covariance[1] === 4);
 * ```
 */
export class CovarianceAccumulator {
  /** Bands (columns) of every chunk. */
  readonly bands: number;
  readonly #requested: Backend;
  readonly #skipInvalid: boolean;
  #backend?: "wasm" | "webgpu";
  #count = 0;
  #skipped = 0;
  #excluded = 0;
  #rowsSeen = 0;
  #chunks = 0;
  #mean: Float64Array;
  #m2: Float64Array;
  #shift?: Float32Array;

  /**
   * Creates an empty accumulator for pixels of `bands` bands.
   *
   * @param bands Bands (columns) per pixel, at least 1.
   * @param options `backend`, `skipInvalid`.
   * @throws {TypeError} When `bands` is not a whole number.
   * @throws {RangeError} When `bands` is below 1 or `backend` is unknown.
   * @throws {OutOfMemoryError} When the `bands × bands` float64 state is over the memory budget
   *   (`PRISM_MEMORY_BUDGET`), checked before anything is allocated.
   */
  constructor(bands: number, options: CovarianceAccumulatorOptions = {}) {
    this.bands = checkInteger("bands", bands, 1, 65535);
    // The running M2, one chunk's Gram and the result: bands² float64 each.
    checkBandBudget(bands, 3, "the covariance");
    const backend = options.backend ?? "auto";
    if (backend !== "auto" && backend !== "wasm" && backend !== "webgpu") {
      throw new RangeError(
        `backend must be "auto", "wasm" or "webgpu", got ${JSON.stringify(backend)}`,
      );
    }
    this.#requested = backend;
    this.#skipInvalid = options.skipInvalid === true;
    this.#mean = new Float64Array(bands);
    this.#m2 = new Float64Array(bands * bands);
  }

  static {
    consumeResult = (acc, ddof) => acc.#result(ddof, true);
  }

  /** Valid pixels accumulated so far. */
  get count(): number {
    return this.#count;
  }

  /** Pixels skipped for NaN or infinity. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Pixels left out by a pixel selection (no-data or masked) in the chunks added. */
  get excluded(): number {
    return this.#excluded;
  }

  /**
   * Adds a chunk of pixels (rows).
   *
   * @param chunk `{ data, rows, cols }` with `cols === bands`; a chunk of `openCubeSource` or
   *   `PixelSelection.apply` also adds its left-out pixels (`pixels - rows`) to `excluded`.
   * @param options `signal`, `onProgress` (rows of this chunk).
   * @returns When the chunk is in the statistics.
   * @throws {TypeError} When the chunk is malformed or has another band count (the message names
   *   the chunk, counted from 0).
   * @throws {InvalidDataError} When a value is NaN or infinite and `skipInvalid` is off; the
   *   message and `position` name the first bad pixel (counted over every chunk added) and band.
   * @throws {RangeError} When finite values are so large (beyond ~1e19 from the mean) that
   *   float32 products overflow.
   * @throws {AbortedError} When `signal` aborts.
   * @throws {BackendUnavailableError} When `"webgpu"` was asked for and there is none.
   */
  async add(chunk: MatrixLike, options: AddOptions = {}): Promise<void> {
    const index = this.#chunks;
    const m = shapeOf(chunk, `chunk ${index}`);
    if (m.cols !== this.bands) {
      throw new TypeError(
        `chunk ${index} has ${m.cols} bands but the accumulator has ${this.bands}; every chunk ` +
          `must have the same band count`,
      );
    }
    this.#chunks++;
    this.#excluded += leftOut(chunk, m.rows);
    const offset = this.#rowsSeen;
    this.#rowsSeen += m.rows;
    if (m.rows === 0) return;
    this.#backend ??= (await chooseBackend("covariance", {
      backend: this.#requested,
      work: (m.rows * m.cols * m.cols) / 2,
      lives: livesOn(chunk),
    })).backend;
    this.#shift ??= estimateShift(await sampleForShift(chunk));
    const shift = this.#shift ?? new Float32Array(m.cols);
    const run = {
      shift,
      backend: this.#backend,
      ...options,
      operation: operationOf(options, "CovarianceAccumulator.add()"),
    };
    let g = await gram(chunk, run);
    let rows = m.rows;
    if (!finiteStats(g.sum!, g.gram, m.cols)) {
      // Rare path: find the bad pixels only when the kernels saw one (a GPU tensor is read back).
      const values = await hostMatrix(chunk);
      if (!this.#skipInvalid) assertFinite(values.data, m.cols, "pixel", "band", offset);
      const valid = finiteRows(values);
      if (valid.rows < m.rows) {
        this.#skipped += m.rows - valid.rows;
        rows = valid.rows;
        if (rows === 0) return;
        this.#shift ??= estimateShift(valid);
        g = await gram(valid, { ...run, shift: this.#shift ?? shift });
      }
      if (!finiteStats(g.sum!, g.gram, m.cols)) {
        throw new RangeError(
          `chunk ${index} has finite values so far from the mean (beyond ~1e19) that float32 ` +
            `products overflow; rescale the data before computing its covariance`,
        );
      }
    }
    this.#mergeGram(rows, g.sum!, g.gram, run.shift);
  }

  /** Turns a chunk's shifted sums into `(n, mean, M2)` and merges them. */
  #mergeGram(n: number, sum: Float64Array, g: Float64Array, shift: Float32Array): void {
    const c = this.bands;
    const mean = new Float64Array(c);
    for (let i = 0; i < c; i++) mean[i] = shift[i] + sum[i] / n;
    // M2_b = Σ dᵀd - s sᵀ / n, with d = x - shift and s = Σ d.
    const m2 = g;
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) m2[i * c + j] -= (sum[i] * sum[j]) / n;
    }
    this.#chan(n, mean, m2);
  }

  /** Chan's parallel update with a state `(n, mean, m2)` (float64). */
  #chan(n: number, mean: Float64Array, m2: Float64Array): void {
    const c = this.bands;
    if (this.#count === 0) {
      this.#count = n;
      this.#mean.set(mean);
      // Adopted, not copied: `m2` is the chunk's own array (from `gram()` or `merge()`'s slice),
      // and a copy writes `bands²` float64 into pages never touched before, which cost about
      // 10 µs each here (a 2 MiB Float64Array allocated and filled: 4-8 ms of this thread).
      this.#m2 = m2;
      return;
    }
    const total = this.#count + n;
    const w = (this.#count * n) / total;
    const d = new Float64Array(c);
    for (let i = 0; i < c; i++) d[i] = mean[i] - this.#mean[i];
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) this.#m2[i * c + j] += m2[i * c + j] + d[i] * d[j] * w;
    }
    for (let i = 0; i < c; i++) this.#mean[i] += (d[i] * n) / total;
    this.#count = total;
  }

  /**
   * Merges another accumulator's state into this one (Chan's update, float64).
   *
   * @param other An accumulator with the same band count; it is not changed.
   * @returns This accumulator.
   * @throws {TypeError} When `other` is not an accumulator or has another band count.
   * @throws {RangeError} When the merged row count would exceed 2^53 - 1.
   */
  merge(other: CovarianceAccumulator): this {
    if (!(other instanceof CovarianceAccumulator)) {
      throw new TypeError("merge() takes a CovarianceAccumulator");
    }
    if (other.bands !== this.bands) {
      throw new TypeError(
        `cannot merge an accumulator of ${other.bands} bands into one of ${this.bands}`,
      );
    }
    if (this.#rowsSeen + other.#rowsSeen > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `cannot merge: ${this.#rowsSeen} + ${other.#rowsSeen} rows exceed 2^53 - 1, beyond ` +
          `exact counting; merge fewer states`,
      );
    }
    this.#skipped += other.#skipped;
    this.#excluded += other.#excluded;
    this.#rowsSeen += other.#rowsSeen;
    this.#backend ??= other.#backend;
    this.#shift ??= other.#shift?.slice();
    if (other.#count > 0) this.#chan(other.#count, other.#mean, other.#m2.slice());
    return this;
  }

  /**
   * The mean and covariance so far.
   *
   * @param ddof Delta degrees of freedom: the covariance is `M2 / (count - ddof)`; default 1.
   * @returns A new {@linkcode CovarianceResult}.
   * @throws {TypeError} When `ddof` is not a whole number.
   * @throws {RangeError} When `ddof` is negative, or `count` is below 2 or not above `ddof`.
   */
  result(ddof = 1): CovarianceResult {
    return this.#result(ddof, false);
  }

  /** {@linkcode CovarianceAccumulator.result}; `consume` writes the covariance over `M2`. */
  #result(ddof: number, consume: boolean): CovarianceResult {
    checkInteger("ddof", ddof, 0);
    const need = Math.max(2, ddof + 1);
    if (this.#count < need) {
      const skipped = this.#skipped > 0 ? ` (${this.#skipped} skipped for NaN or infinity)` : "";
      const excluded = this.#excluded > 0
        ? `; ${this.#excluded} pixels were left out as no-data or masked: check the no-data ` +
          `value, the mask and the band selection`
        : "";
      throw new RangeError(
        `Cannot compute covariance: input has ${this.#count} rows${skipped}, need at least ` +
          `${need}${excluded}`,
      );
    }
    const c = this.bands;
    // In place is safe: each pair (i, j) reads its two entries before it writes them.
    const covariance = consume ? this.#m2 : new Float64Array(c * c);
    const div = this.#count - ddof;
    // Symmetrise: chunks' rounding may leave the two triangles a few ulps apart.
    for (let i = 0; i < c; i++) {
      for (let j = i; j < c; j++) {
        const v = (this.#m2[i * c + j] + this.#m2[j * c + i]) / 2 / div;
        covariance[i * c + j] = v;
        covariance[j * c + i] = v;
      }
    }
    return {
      count: this.#count,
      bands: c,
      mean: this.#mean.slice(),
      covariance,
      skipped: this.#skipped,
      excluded: this.#excluded,
      backend: this.#backend ?? "wasm",
    };
  }

  /**
   * The state as plain JSON (numbers round-trip float64 exactly through `JSON.stringify`).
   *
   * @returns A {@linkcode CovarianceAccumulatorJson}.
   * @throws Never.
   */
  toJSON(): CovarianceAccumulatorJson {
    return {
      version: 1,
      bands: this.bands,
      count: this.#count,
      skipped: this.#skipped,
      excluded: this.#excluded,
      rowsSeen: this.#rowsSeen,
      mean: Array.from(this.#mean),
      m2: Array.from(this.#m2),
      shift: this.#shift === undefined ? null : Array.from(this.#shift),
      backend: this.#backend ?? null,
    };
  }

  /**
   * Restores an accumulator from {@linkcode CovarianceAccumulator.toJSON}'s output (or its parsed
   * string), validating every field.
   *
   * @param json The saved state.
   * @param options `backend` and `skipInvalid` for the chunks still to come.
   * @returns The accumulator. Asynchronous like `RxDetector.fromJSON`, so every saved state
   *   loads with `await`.
   * @throws {TypeError} When `json` is not an object, or a field is missing, of the wrong type
   *   or length.
   * @throws {InvalidDataError} When the state's version is unknown, a value is not finite or
   *   beyond what float32 pixels can give (a later merge would overflow to NaN), `m2` is not
   *   symmetric and positive semi-definite within rounding (a negative variance, say), or counts
   *   are inconsistent. The message names the field.
   * @throws {RangeError} When a count is negative or beyond 2^53 - 1.
   * @example
   * ```ts
   * import { CovarianceAccumulator } from "./covariance_accumulator.ts";
   * import assert from "node:assert";
   * const a = new CovarianceAccumulator(2, { backend: "wasm" });
   * await a.add({ data: new Float32Array([1, 2, 3, 5, 4, 4]), rows: 3, cols: 2 });
   * const b = await CovarianceAccumulator.fromJSON(JSON.parse(JSON.stringify(a)));
   * assert(b.result().covariance[1] === a.result().covariance[1]);
   * ```
   */
  static fromJSON(
    json: CovarianceAccumulatorJson,
    options: CovarianceAccumulatorOptions = {},
  ): Promise<CovarianceAccumulator> {
    // Every failure arrives through the promise, like every async API's.
    return Promise.resolve().then(() => CovarianceAccumulator.#restore(json, options));
  }

  static #restore(
    json: CovarianceAccumulatorJson,
    options: CovarianceAccumulatorOptions,
  ): CovarianceAccumulator {
    if (json === null || typeof json !== "object") {
      throw new TypeError(
        "CovarianceAccumulator.fromJSON() takes the object toJSON() returned, got " +
          (json === null ? "null" : typeof json),
      );
    }
    if (json.version !== 1) {
      throw new InvalidDataError(
        `covariance state version ${String(json.version)} is not supported (this prism reads 1)`,
      );
    }
    const bands = checkInteger("state.bands", json.bands, 1, 65535);
    const count = checkInteger("state.count", json.count);
    const skipped = checkInteger("state.skipped", json.skipped);
    const excluded = checkInteger("state.excluded", json.excluded ?? 0);
    const rowsSeen = checkInteger("state.rowsSeen", json.rowsSeen);
    if (rowsSeen < count + skipped) {
      throw new InvalidDataError(
        `state.rowsSeen (${rowsSeen}) is below count + skipped (${count + skipped}): corrupt state`,
      );
    }
    const mean = finiteNumbers("state.mean", json.mean, bands);
    const m2 = finiteNumbers("state.m2", json.m2, bands * bands);
    const shift = json.shift === null ? undefined : finiteNumbers("state.shift", json.shift, bands);
    // Pixels are float32: no honest mean lies beyond float32's range, and no co-moment beyond
    // count · (2 · FLOAT32_MAX)². Within those bounds, Chan's merge cannot overflow to NaN.
    checkMagnitude("state.mean", mean, FLOAT32_MAX, "the largest float32, which pixels are");
    if (shift !== undefined) {
      checkMagnitude("state.shift", shift, FLOAT32_MAX, "the largest float32, which pixels are");
    }
    const limit = Math.max(count, 1) * (2 * FLOAT32_MAX) ** 2;
    checkMagnitude("state.m2", m2, limit, "count · (2 · largest float32)²");
    if (count === 0 && (mean.some((x) => x !== 0) || m2.some((x) => x !== 0))) {
      throw new InvalidDataError(
        "state.count is 0 but state.mean or state.m2 is not all zeros: corrupt state",
        { position: { field: "state.count" } },
      );
    }
    checkCovarianceMatrix("state.m2", m2, bands);
    const backend = json.backend;
    if (backend !== null && backend !== "wasm" && backend !== "webgpu") {
      throw new TypeError(`state.backend must be "wasm", "webgpu" or null`);
    }
    const acc = new CovarianceAccumulator(bands, options);
    acc.#count = count;
    acc.#skipped = skipped;
    acc.#excluded = excluded;
    acc.#rowsSeen = rowsSeen;
    acc.#mean.set(mean);
    acc.#m2.set(m2);
    acc.#shift = shift === undefined ? undefined : Float32Array.from(shift);
    acc.#backend = options.backend === undefined || options.backend === "auto"
      ? backend ?? undefined
      : undefined;
    return acc;
  }
}

/**
 * The result of an accumulator that is dropped afterwards (`covariance()`'s own): the covariance
 * is written over the accumulator's `M2`, so the state is unusable after it. Why: a fresh
 * `bands²` float64 array costs a page fault per 4 KiB on first write (measured here: allocating
 * and filling 200² float64 took 1.3 ms of this thread, allocating alone 0.1-0.2 ms), which the
 * one-shot call need not pay a second time.
 *
 * @param acc The accumulator, not used again.
 * @param ddof Delta degrees of freedom.
 * @returns As {@linkcode CovarianceAccumulator.result}.
 * @throws {TypeError} When `ddof` is not a whole number.
 * @throws {RangeError} As {@linkcode CovarianceAccumulator.result}.
 */
export function takeResult(acc: CovarianceAccumulator, ddof: number): CovarianceResult {
  return consumeResult(acc, ddof);
}

/** A selected chunk's left-out pixels (`pixels - rows`); 0 for a plain matrix. */
function leftOut(chunk: MatrixLike, rows: number): number {
  const pixels = (chunk as { pixels?: unknown }).pixels;
  if (pixels === undefined) return 0;
  if (!Number.isSafeInteger(pixels) || (pixels as number) < rows) {
    throw new TypeError(
      `a chunk's pixels (${String(pixels)}) must be a whole number >= its rows (${rows})`,
    );
  }
  return (pixels as number) - rows;
}
