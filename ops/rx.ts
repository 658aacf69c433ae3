/**
 * Global RX anomaly detection (Reed–Xiaoli): fit the mean and covariance of every pixel in one
 * streaming pass, then score each pixel by its squared Mahalanobis distance
 * `(x − μ)ᵀ (S + eps·I)⁺ (x − μ)` (no square root).
 *
 * The inverse is a float64 eigendecomposition pseudo-inverse (`./_pinv.ts` states the
 * tolerance), kept as a whitening factor `W` with `S⁺ = W·Wᵀ`, so a singular or near-singular
 * covariance (a constant band, rank-deficient data) gives finite scores: never NaN.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import type { NestedOptions } from "../core/operation.ts";
import { covariance, type CovarianceOptions } from "./covariance.ts";
import { type Whitening, whitening } from "./_pinv.ts";
import type { DeviceTensor } from "../tensor/device_tensor.ts";
import type { MatrixLike } from "./_placement.ts";
import { scoreRx } from "./_rx_score.ts";
import { checkBandBudget } from "./_band_budget.ts";
import { readRxFile, type RxJson, writeRxFile } from "./_rx_file.ts";
import { checkCovarianceMatrix, finiteNumbers } from "./_saved_state.ts";
import { checkInteger } from "../core/validate.ts";
import { checkPixelsOverBands } from "./_rx_pixels.ts";
import { type PixelChunk, spreadOverPixels } from "../io/pixel_selection.ts";
import {
  checkRobustSummary,
  type RobustFitOptions,
  type RobustFitSummary,
  robustSettings,
  robustStatistics,
} from "./_robust_fit.ts";
import { isRowSource, passesOf, type RowSource } from "./_row_passes.ts";
import { residentPixels } from "./_rx_resident.ts";

export type { RxJson } from "./_rx_file.ts";
export type { RobustFitOptions, RobustFitSummary } from "./_robust_fit.ts";
export type { RowSource } from "./_row_passes.ts";

/** What a fitted {@linkcode RxDetector} knows. */
export interface RxStats {
  /** Pixels the statistics came from (bad pixels skipped not included). */
  readonly count: number;
  /** Bands C. */
  readonly bands: number;
  /** `C` float64 mean. */
  readonly mean: Float64Array;
  /** `C × C` float64 unbiased covariance (ddof 1), row-major, without `eps`. */
  readonly covariance: Float64Array;
  /** The diagonal regularisation used for the inverse. */
  readonly eps: number;
  /** Rank of `S + eps·I` at the pseudo-inverse tolerance. */
  readonly rank: number;
  /** `λmax / λmin` over the kept eigenvalues of `S + eps·I`. */
  readonly conditionNumber: number;
  /** Pixels skipped for NaN or infinity (with `skipInvalid`). */
  readonly skipped: number;
  /** Pixels left out of the fit as no-data or masked (chunks of a pixel selection). */
  readonly excluded: number;
  /** How the robust fit went (passes, support, pixels kept); absent for a plain fit. */
  readonly robust?: RobustFitSummary;
}

/** Options of {@linkcode RxDetector.fit}. */
export interface RxFitOptions extends RunOptions {
  /** Added to the covariance diagonal before inverting; default 1e-6. */
  eps?: number;
  /** Skip pixels holding NaN or infinity (counted in `stats.skipped`) instead of throwing. */
  skipInvalid?: boolean;
  /**
   * Fit the background without outliers: `true` (support 0.75, at most 10 C-steps) or
   * `{ support, maxSteps }`; default false. A reweighted minimum covariance determinant fit that
   * reads the data `1 + steps + 1` times, so a stream must be re-readable (a `RowSource`).
   */
  robust?: boolean | RobustFitOptions;
}

/** Options of {@linkcode RxDetector.score}: `backend` (default `"auto"`) and `signal`. */
export interface RxScoreOptions extends Pick<RunOptions, "backend" | "signal"> {}

/** The statistics a detector is built from, e.g. a merged `CovarianceAccumulator` result. */
export interface RxStatistics {
  /** Pixels the statistics came from, at least 2. */
  readonly count: number;
  /** Bands C. */
  readonly bands: number;
  /** The `C` float64 means. */
  readonly mean: Float64Array;
  /** The `C × C` unbiased covariance (ddof 1), row-major. */
  readonly covariance: Float64Array;
  /** Pixels skipped for NaN or infinity (default 0). */
  readonly skipped?: number;
  /** Pixels left out as no-data or masked (default 0). */
  readonly excluded?: number;
  /** The summary of the robust fit these statistics came from, if any. */
  readonly robust?: RobustFitSummary;
}

/**
 * A global RX anomaly detector.
 *
 * @example
 * ```ts
 * import { RxDetector } from "./rx.ts";
 * import assert from "node:assert";
 * const data = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 10, 10]);
 * const rx = await new RxDetector().fit({ data, rows: 5, cols: 2 });
 * const scores = await rx.score({ data, rows: 5, cols: 2 });
 * assert(scores[4] > scores[0]);
 * ```
 */
export class RxDetector {
  #stats?: RxStats;
  #white?: Whitening;

  /**
   * Streams the mean and covariance of `data` (every pixel, one pass) and inverts them.
   *
   * With `robust`, the background is fitted without outliers instead: a reweighted minimum
   * covariance determinant (MCD) fit, FastMCD style. Pass 1 draws a seeded sample of
   * `max(4096, 20·bands)` pixels; C-steps on it from a robust start (coordinate-wise median,
   * MAD² diagonal) find a `support` fraction with a small covariance determinant; then each
   * full-data C-step is one pass (at most `maxSteps`, stopping when the fit repeats), and one
   * last pass reweights (keeps distances ≤ χ²(0.975)) with χ² consistency factors, so clean
   * Gaussian data gives about the plain fit. Cost: `1 + steps + 1` passes (`stats.robust`).
   * Breakdown point: `1 − support` (25 % at the default 0.75). A cluster of identical anomalies
   * that plain RX scores lowest (they shape the plain covariance) is left out and scores high.
   *
   * @param data Pixels as a matrix (row = pixel), a BIP cube, or an async iterable of matrices;
   *   also a `RowSource` (e.g. an open `CubeSource`), which a robust fit reads once per pass (a
   *   one-shot async generator cannot be read again and is refused with `robust`).
   * @param options `eps` (default 1e-6), `backend`, `signal`, `onProgress`, `skipInvalid`,
   *   `robust`.
   * @returns This detector, fitted.
   * @throws {TypeError} When the data is malformed, chunks disagree on the band count, `robust`
   *   has the wrong type or an unknown key, or `robust` is given a one-shot stream.
   * @throws {RangeError} When fewer than 2 (valid) pixels remain, no more pixels than bands
   *   (the covariance would be singular, and inverting it costs bands³), `eps` is negative, or
   *   `robust.support` is outside [0.5, 1) or `robust.maxSteps` outside 0..100.
   * @throws {InvalidDataError} When a pixel holds NaN or infinity (names pixel and band),
   *   unless `skipInvalid`.
   * @throws {AbortedError} When `signal` aborts.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await new RxDetector().fit({ data: new Float32Array([1, 2, 3, 5, 0, 4]), rows: 3, cols: 2 });
   * assert(rx.stats.count === 3 && rx.stats.rank === 2);
   * // 10 % of the pixels share one signature: the robust fit leaves them out.
   * const rows = 200, px = new Float32Array(rows * 2);
   * for (let i = 0; i < rows; i++) {
   *   px.set(i % 10 === 0 ? [50, 50] : [Math.sin(i * 12.9898) * 3, Math.cos(i * 78.233) * 3], 2 * i);
   * }
   * const robust = await new RxDetector().fit({ data: px, rows, cols: 2 }, { robust: true });
   * assert(robust.stats.robust!.kept < 185 && robust.stats.robust!.passes >= 3);
   * const s = await robust.score({ data: px, rows, cols: 2 });
   * assert(s[0] > 100 * s[1]);
   * ```
   */
  async fit(
    data: MatrixLike | Cube | AsyncIterable<Matrix> | RowSource,
    options: RxFitOptions = {},
  ): Promise<this> {
    const eps = options.eps ?? 1e-6;
    checkEps(eps);
    const robust = options.robust ?? false;
    if (robust !== false) {
      const settings = robustSettings(robust);
      const passes = await passesOf(data, "RxDetector.fit({ robust: true })");
      const result = await robustStatistics(passes, {
        ...settings,
        eps,
        backend: options.backend,
        signal: options.signal,
        onProgress: options.onProgress,
        skipInvalid: options.skipInvalid,
        operation: "RxDetector.fit()",
      });
      await this.#setStatistics(result, eps, true);
      return this;
    }
    const source = isRowSource(data) ? data.chunks() : data;
    const run: CovarianceOptions & NestedOptions = {
      backend: options.backend,
      ddof: 1,
      signal: options.signal,
      onProgress: options.onProgress,
      skipInvalid: options.skipInvalid,
      operation: "RxDetector.fit()",
    };
    const result = await covariance(source, run);
    await this.#setStatistics(result, eps, true);
    return this;
  }

  /**
   * Fits on `data` and scores the same pixels: `fit(data)` then `score(data)` with one copy of
   * the pixels into kernel memory instead of one per pass. On WASM, when the kernel memory has
   * the room without growing (after an earlier call as large, or an `allocMatrix` since freed:
   * fresh memory costs more in page faults than the copy saves), a plain array is copied in
   * once and both passes read that copy in place on every worker. Otherwise it is exactly
   * `fit(data, options)` then `score(data, options)`.
   *
   * @param data Pixels as a matrix (row = pixel) or a BIP cube (scores are then an H×W map).
   * @param options As {@linkcode RxDetector.fit}, except `skipInvalid` (every pixel is scored,
   *   so a NaN pixel is an error: fit with `skipInvalid`, then score the cleaned pixels).
   * @returns One score per pixel, as `score(data)` returns them.
   * @throws {TypeError} When the data is malformed, or `skipInvalid` is given.
   * @throws {RangeError} As `fit` (too few pixels, bad `eps` or `robust`).
   * @throws {InvalidDataError} When a pixel holds NaN or infinity (names pixel and band).
   * @throws {AbortedError} When `signal` aborts.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const data = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 10, 10]);
   * const rx = new RxDetector();
   * const scores = await rx.fitScore({ data, rows: 5, cols: 2 });
   * assert(rx.stats.count === 5 && scores[4] > scores[0]);
   * ```
   */
  async fitScore(
    data: MatrixLike | Cube,
    options: Omit<RxFitOptions, "skipInvalid"> = {},
  ): Promise<Float32Array> {
    if ((options as RxFitOptions).skipInvalid !== undefined) {
      throw new TypeError(
        "fitScore() scores every pixel, so it takes no skipInvalid: call fit(data, " +
          "{ skipInvalid: true }), then score the pixels you keep",
      );
    }
    using resident = await residentPixels(data, options);
    await this.fit(resident.pixels, options);
    return await this.score(resident.pixels, { backend: options.backend, signal: options.signal });
  }

  /**
   * Builds a detector from statistics computed elsewhere (a merged `CovarianceAccumulator`,
   * another process), with no pass over pixels.
   *
   * @param statistics `count`, `bands`, `mean`, `covariance` (ddof 1) and optional `skipped`.
   * @param options `eps` (default 1e-6).
   * @returns The fitted detector.
   * @throws {TypeError} When the lengths do not match `bands`.
   * @throws {RangeError} When `count < 2` or `eps` is negative.
   * @throws {InvalidDataError} When the statistics hold NaN or infinity, or the covariance is
   *   not symmetric and positive semi-definite (within rounding).
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await RxDetector.fromStatistics({
   *   count: 10, bands: 1, mean: new Float64Array([0]), covariance: new Float64Array([4]),
   * }, { eps: 0 });
   * const s = await rx.score({ data: new Float32Array([2]), rows: 1, cols: 1 });
   * assert(Math.abs(s[0] - 1) < 1e-6);
   * ```
   */
  static async fromStatistics(
    statistics: RxStatistics,
    options: { eps?: number } = {},
  ): Promise<RxDetector> {
    const eps = options.eps ?? 1e-6;
    checkEps(eps);
    const rx = new RxDetector();
    await rx.#setStatistics(statistics, eps);
    return rx;
  }

  /** Checks and installs statistics; `fromPixels`: they come from a fit (not a saved state). */
  async #setStatistics(s: RxStatistics, eps: number, fromPixels = false): Promise<void> {
    const { count, bands } = s;
    if (!Number.isInteger(bands) || bands < 1) {
      throw new TypeError(`bands must be a whole number ≥ 1, got ${String(bands)}`);
    }
    if (!(s.mean instanceof Float64Array) || s.mean.length !== bands) {
      throw new TypeError(`mean must be a Float64Array of ${bands} values`);
    }
    if (!(s.covariance instanceof Float64Array) || s.covariance.length !== bands * bands) {
      throw new TypeError(`covariance must be a Float64Array of ${bands}² values`);
    }
    if (!Number.isInteger(count) || count < 2) {
      throw new RangeError(
        `RX needs at least 2 pixels for a covariance, got ${String(count)}` +
          ((s.skipped ?? 0) > 0 ? ` (${s.skipped} skipped as invalid)` : ""),
      );
    }
    // Inverting: the covariance (kernel copy), its eigenvectors and the whitening factor.
    checkBandBudget(bands, 4, "RX's inverse covariance");
    // Before the checks below, which cost up to bands³ themselves.
    if (fromPixels) checkPixelsOverBands(count, bands);
    for (const [name, v] of [["mean", s.mean], ["covariance", s.covariance]] as const) {
      const i = v.findIndex((x) => !Number.isFinite(x));
      if (i >= 0) throw new InvalidDataError(`${name}[${i}] is ${v[i]}; refit from finite data`);
    }
    // A negative variance or an impossible correlation would score pixels wrongly (all 0).
    checkCovarianceMatrix("covariance", s.covariance, bands);
    // Lower trapezoidal: scoring skips its zeros, half the multiply-adds at full rank.
    const white = await whitening(s.covariance, bands, { eps, form: "lower" });
    this.#white = white;
    this.#stats = {
      count,
      bands,
      mean: s.mean,
      covariance: s.covariance,
      eps,
      rank: white.rank,
      conditionNumber: white.conditionNumber,
      skipped: s.skipped ?? 0,
      excluded: s.excluded ?? 0,
      ...s.robust === undefined ? {} : { robust: checkRobustSummary(s.robust, count) },
    };
  }

  /**
   * The fitted statistics.
   *
   * @returns `{ count, bands, mean, covariance, eps, rank, conditionNumber, skipped }`.
   * @throws {TypeError} When the detector is not fitted.
   */
  get stats(): RxStats {
    return this.#fitted().stats;
  }

  /** Whether `fit`, `fromStatistics`, `fromJSON` or `load` has run. */
  get fitted(): boolean {
    return this.#stats !== undefined;
  }

  #fitted(): { stats: RxStats; white: Whitening } {
    if (this.#stats === undefined || this.#white === undefined) {
      throw new TypeError(
        "this RxDetector is not fitted: call fit(), or make one with RxDetector.load() or fromJSON()",
      );
    }
    return { stats: this.#stats, white: this.#white };
  }

  /**
   * Squared Mahalanobis distance of every pixel (float32, no square root).
   *
   * @param data A matrix (row = pixel), a BIP cube (gives an H×W map, row-major), or a device
   *   tensor (scored where it lives: `auto` runs there, with no upload). A chunk of
   *   `openCubeSource` or `PixelSelection.apply` gets one score per pixel it covers
   *   (`chunk.pixels`), NaN for each pixel left out as no-data or masked.
   * @param options `backend` (`auto`, `wasm`, `webgpu`), `signal`, and `output`: `"array"`
   *   (default) or `"tensor"` (the overload below).
   * @returns One score per pixel, finite except NaN at left-out pixels of a selected chunk.
   * @throws {TypeError} When unfitted, malformed, or the band count differs from the fit.
   * @throws {InvalidDataError} When a pixel holds NaN or infinity (names pixel and band).
   * @throws {BackendUnavailableError} When `webgpu` is asked for and unavailable.
   * @throws {AbortedError} When `signal` aborts.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const cube = { data: new Float32Array([0, 1, 1, 0, 1, 1, 5, 5]), height: 2, width: 2, bands: 2 };
   * const rx = await new RxDetector().fit(cube, { eps: 0.1 });
   * const map = await rx.score(cube);
   * assert(map.length === 4 && map.every(Number.isFinite));
   * ```
   */
  score(
    data: MatrixLike | Cube,
    options?: RxScoreOptions & { output?: "array" },
  ): Promise<Float32Array>;
  /**
   * Scores as a device tensor `[pixels]` that stays where the scoring ran (see the overload
   * above); with this output, non-finite pixels give non-finite scores instead of an error,
   * since checking them would need a read-back.
   *
   * @param data Pixels: a matrix, a BIP cube or a device tensor.
   * @param options `output: "tensor"`, `backend`, `signal`.
   * @returns The scores on the backend that ran; the caller disposes the tensor.
   */
  score(
    data: MatrixLike | Cube,
    options: RxScoreOptions & { output: "tensor" },
  ): Promise<DeviceTensor>;
  async score(
    data: MatrixLike | Cube,
    options: RxScoreOptions & { output?: "array" | "tensor" } = {},
  ): Promise<Float32Array | DeviceTensor> {
    const { stats, white } = this.#fitted();
    const model = {
      bands: stats.bands,
      mean: stats.mean,
      w: white.w,
      rank: white.rank,
      lower: true,
    };
    const chunk = (data as Partial<PixelChunk>).kept === undefined ? undefined : data as PixelChunk;
    if (chunk === undefined) return await scoreRx(data, { ...options, model });
    if (options.output === "tensor") {
      throw new TypeError(
        `a chunk with left-out pixels scores as an array (NaN where a pixel was left out); ` +
          `drop output: "tensor"`,
      );
    }
    const kept = chunk.rows === 0
      ? new Float32Array(0)
      : await scoreRx(chunk, { ...options, output: "array", model }) as Float32Array;
    return spreadOverPixels(kept, chunk);
  }

  /**
   * The detector's statistics as plain JSON (the inverse is recomputed on load).
   *
   * @returns `{ format: "prism.rx", version: 1, count, bands, eps, skipped, mean, covariance }`,
   *   plus `robust` (the fit's summary) when the fit was robust.
   * @throws {TypeError} When the detector is not fitted.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await new RxDetector().fit({ data: new Float32Array([1, 2, 3, 5, 0, 4]), rows: 3, cols: 2 });
   * const copy = await RxDetector.fromJSON(JSON.parse(JSON.stringify(rx)));
   * assert(copy.stats.covariance[3] === rx.stats.covariance[3]);
   * ```
   */
  toJSON(): RxJson {
    const { stats } = this.#fitted();
    return {
      format: "prism.rx",
      version: 1,
      count: stats.count,
      bands: stats.bands,
      eps: stats.eps,
      skipped: stats.skipped,
      mean: [...stats.mean],
      covariance: [...stats.covariance],
      ...stats.robust === undefined ? {} : { robust: { ...stats.robust } },
    };
  }

  /**
   * Rebuilds a detector from {@linkcode RxDetector.toJSON} output.
   *
   * @param json The parsed JSON.
   * @returns The fitted detector.
   * @throws {TypeError} When `json` is not an object, a field has the wrong type, or its arrays
   *   do not match `bands`.
   * @throws {InvalidDataError} When `json` is not a prism RX model of a known version, a value
   *   is not a finite number, or the covariance is not symmetric and positive semi-definite
   *   (within rounding): a tampered or corrupt model. The message names the field.
   * @throws {RangeError} When `count < 2`, `bands` or `skipped` is out of range, or `eps` is
   *   negative.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await RxDetector.fromJSON({
   *   format: "prism.rx", version: 1, count: 3, bands: 1, eps: 0, skipped: 0,
   *   mean: [1], covariance: [2],
   * });
   * assert(rx.stats.rank === 1);
   * ```
   */
  static async fromJSON(json: RxJson): Promise<RxDetector> {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new TypeError(
        "RxDetector.fromJSON() takes the object toJSON() returned, got " +
          (json === null ? "null" : Array.isArray(json) ? "an array" : typeof json),
      );
    }
    if (json.format !== "prism.rx") {
      throw new InvalidDataError(`not a prism RX model: expected { format: "prism.rx", ... }`);
    }
    if (json.version !== 1) {
      throw new InvalidDataError(
        `prism RX model version ${String(json.version)} is not supported (this prism reads 1)`,
      );
    }
    if (!Array.isArray(json.mean) || !Array.isArray(json.covariance)) {
      throw new InvalidDataError("prism RX model lacks its mean or covariance arrays");
    }
    const bands = checkInteger("model.bands", json.bands, 1, 65535);
    const skipped = checkInteger("model.skipped", json.skipped ?? 0);
    if (typeof json.eps !== "number") {
      throw new TypeError(`model.eps must be a number, got ${typeof json.eps}`);
    }
    const mean = finiteNumbers("model.mean", json.mean, bands);
    const cov = finiteNumbers("model.covariance", json.covariance, bands * bands);
    return await RxDetector.fromStatistics({
      count: json.count,
      bands,
      mean: Float64Array.from(mean),
      covariance: Float64Array.from(cov),
      skipped,
      ...json.robust === undefined ? {} : { robust: checkRobustSummary(json.robust, json.count) },
    }, { eps: json.eps });
  }

  /**
   * Saves the fitted statistics atomically to `.json` or `.h5`/`.hdf5` (datasets `mean`,
   * `covariance`; root attributes `format`, `version`, `eps`, `count`, `rank`, `bands`,
   * `skipped`).
   *
   * @param path The file; its extension picks the format.
   * @throws {TypeError} When the detector is not fitted.
   * @throws {RangeError} When the extension is neither JSON nor HDF5.
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await new RxDetector().fit({ data: new Float32Array([1, 2, 3, 5, 0, 4]), rows: 3, cols: 2 });
   * const dir = await Deno.makeTempDir();
   * await rx.save(`${dir}/rx.json`);
   * assert((await RxDetector.load(`${dir}/rx.json`)).stats.count === 3);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async save(path: string): Promise<void> {
    await writeRxFile(path, { json: this.toJSON(), rank: this.#fitted().stats.rank });
  }

  /**
   * Loads a detector saved by {@linkcode RxDetector.save}.
   *
   * @param path A `.json` or `.h5`/`.hdf5` file.
   * @returns The fitted detector.
   * @throws {RangeError} When the extension is neither JSON nor HDF5.
   * @throws {Deno.errors.NotFound} When the file does not exist.
   * @throws {InvalidDataError} When the file is corrupt, not a prism RX model, or holds a
   *   model `fromJSON` refuses (the message starts with the file, then names the field).
   * @example
   * ```ts
   * import { RxDetector } from "./rx.ts";
   * import assert from "node:assert";
   * const rx = await new RxDetector().fit({ data: new Float32Array([1, 2, 3, 5, 0, 4]), rows: 3, cols: 2 });
   * const dir = await Deno.makeTempDir();
   * await rx.save(`${dir}/rx.h5`);
   * assert((await RxDetector.load(`${dir}/rx.h5`)).stats.rank === 2);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async load(path: string): Promise<RxDetector> {
    const json = await readRxFile(path);
    try {
      return await RxDetector.fromJSON(json);
    } catch (error) {
      throw inFile(path, error);
    }
  }
}

/** Prefixes a refused model's message with the file it came from, keeping the error's class. */
function inFile(path: string, error: unknown): unknown {
  if (error instanceof InvalidDataError) {
    return new InvalidDataError(`${path}: ${error.message}`, {
      cause: error,
      position: error.position as Record<string, number | string> | undefined,
    });
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    const Ctor = error.constructor as new (m: string, o: ErrorOptions) => Error;
    return new Ctor(`${path}: ${error.message}`, { cause: error });
  }
  return error;
}

function checkEps(eps: number): void {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`eps must be a finite number ≥ 0, got ${String(eps)}`);
  }
}
