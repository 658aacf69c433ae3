/**
 * One shard's reduction state with its provenance, so that states computed anywhere (other
 * processes, machines, a Dask cluster) merge exactly into the one-pass answer, and a merge that
 * would be wrong is refused: states of different band counts, selections, prism versions or
 * operations, and shards that cover the same pixels twice.
 *
 * The state itself is a {@linkcode CovarianceAccumulator} (count, mean, co-moment `M2` in
 * float64), which all three operations need: `cov` finishes into the covariance, `rx-fit` into an
 * RX detector, and `gram` into the singular values of the stacked pixels, from
 * `XᵀX = M2 + n·mean·meanᵀ`. Merging is Chan's update in float64.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";
import { PRISM } from "../core/version.ts";
import { symmetricEigen } from "../wasm/eigen.ts";
import {
  CovarianceAccumulator,
  type CovarianceAccumulatorJson,
  type CovarianceResult,
} from "./covariance_accumulator.ts";
import { RxDetector } from "./rx.ts";

/** What a shard reduces its pixels for; `merge --finish` turns the merged state into it. */
export type ShardOp = "cov" | "rx-fit" | "gram";

/** The operations a {@linkcode ShardState} may record. */
export const SHARD_OPS: readonly ShardOp[] = ["cov", "rx-fit", "gram"];

/** Where one shard's pixels came from. */
export interface ShardSource {
  /** The input file, as the shard saw it (an absolute path on the cluster's shared storage). */
  input: string;
  /** The HDF5 dataset read, if any. */
  dataset?: string;
  /** Pixels `[start, end)` of the input, in its streaming order. */
  rows: [number, number];
  /** The machine that computed the shard (for messages). */
  host?: string;
}

/** The JSON form of a {@linkcode ShardState} (see {@linkcode ShardState.toJSON}). */
export interface ShardJson {
  /** Always `"prism.shard"`. */
  format: "prism.shard";
  /** Format version, 1. */
  version: 1;
  /** The operation the shards were computed for. */
  op: ShardOp;
  /** The prism version that computed them. */
  prism: string;
  /** Bands per pixel (after any band selection). */
  bands: number;
  /**
   * How pixels and bands were selected and laid out (`layout`, `bands`, `nodata`, `mask`, ...):
   * states merge only with states of the same selection. Empty when none was given.
   */
  selection: Record<string, string | number>;
  /** Every shard merged into this state. */
  sources: ShardSource[];
  /** The accumulator's state. */
  state: CovarianceAccumulatorJson;
}

/** What a shard records besides its accumulator (see {@linkcode ShardState.of}). */
export interface ShardProvenance {
  /** The operation. */
  op: ShardOp;
  /** The shards' sources (one for a fresh shard). */
  sources: ShardSource[];
  /** The selection flags in force, if any. */
  selection?: Record<string, string | number>;
}

/**
 * A mergeable shard state: an accumulator and what it came from.
 *
 * @example
 * ```ts
 * import { CovarianceAccumulator } from "./covariance_accumulator.ts";
 * import { ShardState } from "./shard_state.ts";
 * import assert from "node:assert";
 * const part = async (data: number[], rows: [number, number]) => {
 *   const acc = new CovarianceAccumulator(1, { backend: "wasm" });
 *   await acc.add({ data: new Float32Array(data), rows: data.length, cols: 1 });
 *   return ShardState.of(acc, { op: "cov", sources: [{ input: "/d/a.npy", rows }] });
 * };
 * const a = await part([1, 2], [0, 2]);
 * const b = await ShardState.fromJSON(JSON.parse(JSON.stringify(await part([3, 6], [2, 4]))));
 * assert(a.merge(b).covariance().covariance[0] === 14 / 3);
 * // The same pixels twice are refused.
 * assert.throws(() => a.merge(b), /overlap/);
 * ```
 */
export class ShardState {
  /** The operation the shards were computed for. */
  readonly op: ShardOp;
  /** The prism version that computed them. */
  readonly prism: string;
  readonly #selection: Record<string, string | number>;
  #sources: ShardSource[];
  readonly #acc: CovarianceAccumulator;

  private constructor(
    acc: CovarianceAccumulator,
    meta: ShardProvenance & { prism: string },
  ) {
    this.#acc = acc;
    this.op = meta.op;
    this.prism = meta.prism;
    this.#selection = { ...meta.selection };
    this.#sources = meta.sources.map(copySource);
    checkNoOverlap(this.#sources);
  }

  /**
   * Wraps an accumulator with its provenance (this prism's version is recorded).
   *
   * @param accumulator The shard's statistics; kept, not copied.
   * @param provenance `op`, `sources` and `selection`.
   * @returns The state.
   * @throws {TypeError} When `op` is unknown or a source is malformed.
   * @throws {InvalidDataError} When two sources cover the same pixels.
   */
  static of(accumulator: CovarianceAccumulator, provenance: ShardProvenance): ShardState {
    if (!(accumulator instanceof CovarianceAccumulator)) {
      throw new TypeError("ShardState.of() takes a CovarianceAccumulator");
    }
    checkOp(provenance.op);
    const sources = checkSources(provenance.sources);
    return new ShardState(accumulator, { ...provenance, sources, prism: PRISM.version });
  }

  /** Bands per pixel. */
  get bands(): number {
    return this.#acc.bands;
  }

  /** Valid pixels in the state. */
  get count(): number {
    return this.#acc.count;
  }

  /** The shards merged into this state, in merge order (copies). */
  get sources(): ShardSource[] {
    return this.#sources.map(copySource);
  }

  /**
   * Merges another state into this one (Chan's update in float64), after checking that they can
   * be merged at all.
   *
   * @param other A state of the same operation, bands, selection and prism version, whose
   *   shards cover none of this state's pixels; it is not changed.
   * @returns This state.
   * @throws {TypeError} When `other` is not a `ShardState`.
   * @throws {InvalidDataError} When the two differ in operation, band count, selection or prism
   *   version, or share pixels (a shard merged twice, overlapping row ranges); the message
   *   names the shards.
   */
  merge(other: ShardState): this {
    if (!(other instanceof ShardState)) throw new TypeError("merge() takes a ShardState");
    const mine = describe(this.#sources), theirs = describe(other.#sources);
    const refuse = (what: string) =>
      new InvalidDataError(
        `cannot merge the state of ${theirs} into that of ${mine}: ${what}`,
      );
    if (other.op !== this.op) {
      throw refuse(`one was computed for --op ${other.op}, the other for --op ${this.op}`);
    }
    if (other.bands !== this.bands) {
      throw refuse(
        `they have ${other.bands} and ${this.bands} bands; shards of one data set must have ` +
          `the same band count (check --bands and the input files)`,
      );
    }
    if (other.prism !== this.prism) {
      throw refuse(
        `they were computed by prism ${other.prism} and ${this.prism}; recompute the shards ` +
          `with one prism version on every worker`,
      );
    }
    const a = canonical(this.#selection), b = canonical(other.#selection);
    if (a !== b) {
      throw refuse(`their pixel selections differ (${b} and ${a}); use the same flags`);
    }
    const sources = [...this.#sources, ...other.#sources];
    checkNoOverlap(sources);
    this.#acc.merge(other.#acc);
    this.#sources = sources;
    return this;
  }

  /**
   * The mean and covariance of every pixel merged.
   *
   * @param ddof Delta degrees of freedom (default 1).
   * @returns A {@linkcode CovarianceResult}.
   * @throws {RangeError} When there are fewer than 2 pixels (or not more than `ddof`).
   */
  covariance(ddof = 1): CovarianceResult {
    return this.#acc.result(ddof);
  }

  /**
   * An RX detector fitted to every pixel merged.
   *
   * @param options `eps`, the diagonal regularisation (default 1e-6).
   * @returns The fitted detector.
   * @throws {RangeError} When there are fewer than 2 pixels or `eps` is negative.
   */
  async detector(options: { eps?: number } = {}): Promise<RxDetector> {
    return await RxDetector.fromStatistics(this.#acc.result(1), options);
  }

  /**
   * The singular values of all merged pixels stacked as one `count × bands` matrix, largest
   * first: `√λ` of `XᵀX = M2 + n·mean·meanᵀ` (float64 eigensolver; eigenvalues that rounding
   * leaves below zero become 0). `min(count, bands)` values.
   *
   * @returns The singular values.
   * @throws Never for a valid state.
   */
  async singularValues(): Promise<Float64Array> {
    const c = this.bands, n = this.#acc.count;
    if (n === 0) return new Float64Array(0);
    // From the raw state: result() needs 2 pixels, and one pixel has a singular value too.
    const { mean, m2 } = this.#acc.toJSON();
    const g = new Float64Array(c * c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        g[i * c + j] = (m2[i * c + j] + m2[j * c + i]) / 2 + n * mean[i] * mean[j];
      }
    }
    const { values } = await symmetricEigen({ data: g, n: c });
    return Float64Array.from(values.subarray(0, Math.min(n, c)), (v) => Math.sqrt(Math.max(v, 0)));
  }

  /**
   * The state as plain JSON (float64 numbers round-trip exactly through `JSON.stringify`).
   *
   * @returns A {@linkcode ShardJson}.
   * @throws Never.
   */
  toJSON(): ShardJson {
    return {
      format: "prism.shard",
      version: 1,
      op: this.op,
      prism: this.prism,
      bands: this.bands,
      selection: { ...this.#selection },
      sources: this.sources,
      state: this.#acc.toJSON(),
    };
  }

  /**
   * Restores a state from {@linkcode ShardState.toJSON}'s output, validating every field (the
   * accumulator through `CovarianceAccumulator.fromJSON`).
   *
   * @param json The saved state.
   * @returns The state.
   * @throws {TypeError} When a field is missing or of the wrong type.
   * @throws {InvalidDataError} When it is not a prism shard state of a known version, its
   *   accumulator is corrupt, its band counts disagree, or its sources overlap.
   * @throws {RangeError} When a count or row range is out of range.
   */
  static fromJSON(json: ShardJson): Promise<ShardState> {
    return Promise.resolve().then(() => ShardState.#restore(json));
  }

  static async #restore(json: ShardJson): Promise<ShardState> {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new TypeError("ShardState.fromJSON() takes the object toJSON() returned");
    }
    if (json.format !== "prism.shard") {
      throw new InvalidDataError(`not a prism shard state: expected { format: "prism.shard" }`);
    }
    if (json.version !== 1) {
      throw new InvalidDataError(
        `shard state version ${String(json.version)} is not supported (this prism reads 1)`,
      );
    }
    checkOp(json.op);
    if (typeof json.prism !== "string" || json.prism === "") {
      throw new TypeError("state.prism must name the prism version that computed it");
    }
    const bands = checkInteger("state.bands", json.bands, 1, 65535);
    const selection = checkSelection(json.selection);
    const sources = checkSources(json.sources);
    const acc = await CovarianceAccumulator.fromJSON(json.state);
    if (acc.bands !== bands) {
      throw new InvalidDataError(
        `state.bands is ${bands} but its accumulator has ${acc.bands} bands: corrupt state`,
      );
    }
    return new ShardState(acc, { op: json.op, prism: json.prism, selection, sources });
  }
}

function checkOp(op: unknown): asserts op is ShardOp {
  if (!SHARD_OPS.includes(op as ShardOp)) {
    throw new TypeError(`op must be ${SHARD_OPS.join(", ")}, got ${JSON.stringify(op)}`);
  }
}

function checkSelection(value: unknown): Record<string, string | number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError("state.selection must be an object of flag values");
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new TypeError(`state.selection.${k} must be a string or a number`);
    }
  }
  return value as Record<string, string | number>;
}

function checkSources(value: unknown): ShardSource[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError("sources must be a non-empty array of { input, rows: [start, end] }");
  }
  return value.map((s, i) => {
    const field = `sources[${i}]`;
    if (s === null || typeof s !== "object" || typeof s.input !== "string" || s.input === "") {
      throw new TypeError(`${field}.input must name the input file`);
    }
    if (!Array.isArray(s.rows) || s.rows.length !== 2) {
      throw new TypeError(`${field}.rows must be [start, end]`);
    }
    const start = checkInteger(`${field}.rows[0]`, s.rows[0]);
    const end = checkInteger(`${field}.rows[1]`, s.rows[1]);
    if (end < start) {
      throw new RangeError(`${field}.rows is [${start}, ${end}]: the end is before the start`);
    }
    for (const key of ["dataset", "host"] as const) {
      if (s[key] !== undefined && typeof s[key] !== "string") {
        throw new TypeError(`${field}.${key} must be a string`);
      }
    }
    return copySource(s as ShardSource);
  });
}

function copySource(s: ShardSource): ShardSource {
  return {
    input: s.input,
    ...(s.dataset === undefined ? {} : { dataset: s.dataset }),
    rows: [s.rows[0], s.rows[1]],
    ...(s.host === undefined ? {} : { host: s.host }),
  };
}

/** One shard for messages: `a.npy rows 0:100 (host n1)`. */
function name(s: ShardSource): string {
  const dataset = s.dataset === undefined ? "" : ` ${s.dataset}`;
  const host = s.host === undefined ? "" : ` (computed on ${s.host})`;
  return `${s.input}${dataset} rows ${s.rows[0]}:${s.rows[1]}${host}`;
}

/** A list of shards for messages: the first two and how many more. */
function describe(sources: ShardSource[]): string {
  const shown = sources.slice(0, 2).map(name).join(", ");
  return sources.length > 2 ? `${shown} and ${sources.length - 2} more shards` : shown;
}

/** Refuses two sources of one input whose row ranges share a pixel (sorted: n log n). */
function checkNoOverlap(sources: ShardSource[]): void {
  const byInput = new Map<string, ShardSource[]>();
  for (const s of sources) {
    if (s.rows[0] === s.rows[1]) continue; // an empty shard adds nothing
    const key = JSON.stringify([s.input, s.dataset ?? null]);
    const list = byInput.get(key);
    if (list === undefined) byInput.set(key, [s]);
    else list.push(s);
  }
  for (const list of byInput.values()) {
    list.sort((a, b) => a.rows[0] - b.rows[0]);
    for (let i = 1; i < list.length; i++) {
      if (list[i].rows[0] < list[i - 1].rows[1]) {
        const same = list[i].rows[0] === list[i - 1].rows[0] &&
          list[i].rows[1] === list[i - 1].rows[1];
        throw new InvalidDataError(
          `shard ${name(list[i])} overlaps shard ${name(list[i - 1])}` +
            `${same ? " (the same shard merged twice)" : ""}: its pixels would be counted ` +
            `twice; merge each shard once, with row ranges that do not overlap`,
        );
      }
    }
  }
}

/** A selection as a string with sorted keys, to compare two. */
function canonical(selection: Record<string, string | number>): string {
  const keys = Object.keys(selection).sort();
  return keys.length === 0 ? "none" : JSON.stringify(selection, keys);
}
