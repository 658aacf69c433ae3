/**
 * The robust background fit behind `RxDetector.fit(data, { robust: true })`: a minimum
 * covariance determinant (MCD) estimate in the FastMCD manner, streamed over chunks.
 *
 * Why: when many pixels share one anomaly signature (11 % at the reference generator's
 * settings), they shape the plain covariance and plain RX scores them lowest. MCD fits the mean
 * and covariance of the `h` pixels whose covariance has the smallest determinant, so a compact
 * cluster of anomalies (which inflates the determinant) is left out.
 *
 * Steps and their cost in passes over the data:
 * 1. Pass 1: a seeded reservoir sample of `max(4096, 20·C)` valid pixels (deterministic: the same
 *    data gives the same sample).
 * 2. In memory, on the sample: C-steps (keep the `h = ⌈support·m⌉` pixels of smallest Mahalanobis
 *    distance, refit, repeat until the subset no longer changes) from a robust start, the
 *    coordinate-wise median with MAD² on the diagonal (one of DetMCD's starts). FastMCD would also
 *    run other starts and keep the smallest determinant; that is deliberately not done: a cluster
 *    of identical, noise-free anomaly pixels has no spread, so a subset holding it has a *smaller*
 *    determinant (measured: the classical start's C-steps keep all the reference cube's anomalies
 *    and win the comparison, AUC 0). The median/MAD start puts them far out, and C-steps, which
 *    only ever lower the determinant from where they start, keep them out.
 * 3. Full-data C-steps, one pass each (at most `maxSteps`, default 10): keep every pixel whose
 *    distance is within the sample's `support`-quantile of distances, refit by a streamed
 *    covariance; stop when the kept count and covariance repeat (relative change < 1e-9).
 * 4. Scaling: the raw covariance times the χ² consistency factor `h / P(χ²(p+2) ≤ χ²_p(h))`
 *    (p = the covariance's rank), so Gaussian data gives the plain covariance on average.
 * 5. One reweighting pass: keep pixels with distance ≤ χ²_p(0.975) under the scaled fit, refit,
 *    scale by `0.975 / P(χ²(p+2) ≤ χ²_p(0.975))`. This recovers most of the efficiency trimming
 *    loses (the standard reweighted MCD).
 *
 * Passes in all: `1 + steps + 1`. Breakdown point: at most `1 − support` (the trimmed fraction;
 * 25 % at the default 0.75, 0.5 gives the most, 50 %), and in practice that of the start: the
 * coordinate-wise median resists up to 50 % per band, but the diagonal start is not affine
 * equivariant, so outliers hiding in band correlations alone may need a smaller support. The
 * sample (thousands of pixels) holds the contaminated fraction to within a few percent. Distances use the same regularised pseudo-inverse as RX (`./_pinv.ts`), so constant
 * bands and rank-deficient subsets give finite distances.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Backend, Matrix, Progress } from "../core/types.ts";
import { assertFinite, checkInteger, checkMatrix, firstNonFinite } from "../core/validate.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { chi2Cdf, chi2Quantile } from "./_chi2.ts";
import { finiteRows } from "./_finite_rows.ts";
import { whitening } from "./_pinv.ts";
import { hostMatrix } from "./_placement.ts";
import type { Passes } from "./_row_passes.ts";
import { scoreRx } from "./_rx_score.ts";
import { type AddOptions, CovarianceAccumulator } from "./covariance_accumulator.ts";
import type { NestedOptions } from "../core/operation.ts";
import { checkPixelsOverBands } from "./_rx_pixels.ts";
import { seededUniform } from "../core/seeded_uniform.ts";

/** Settings of the robust fit (`robust: { ... }` in `RxDetector.fit`). */
export interface RobustFitOptions {
  /** Fraction h of pixels the MCD subset keeps, in [0.5, 1); default 0.75 (breakdown 25 %). */
  support?: number;
  /** Most full-data C-steps (one pass each), 0 to 100; default 10. */
  maxSteps?: number;
}

/** How a robust fit went: stored in `RxStats.robust` and in the saved model. */
export interface RobustFitSummary {
  /** Always `"mcd"`: reweighted minimum covariance determinant (see `RxDetector.fit`). */
  readonly method: "mcd";
  /** The support fraction h used. */
  readonly support: number;
  /** Valid pixels seen in a pass. */
  readonly pixels: number;
  /** Pixels in the in-memory sample the start was found on. */
  readonly sample: number;
  /** Full-data C-steps run. */
  readonly steps: number;
  /** Passes over the data in all (`1 + steps + 1`). */
  readonly passes: number;
  /** Whether the C-steps stopped because the fit repeated (not at `maxSteps`). */
  readonly converged: boolean;
  /** Pixels in the final (reweighted) fit: the statistics' `count`. */
  readonly kept: number;
  /** Fraction of the valid pixels left out of the final fit, `1 − kept / pixels`. */
  readonly trimmed: number;
}

/** What the robust fit needs besides the data. */
export interface RobustRun {
  readonly eps: number;
  readonly backend?: Backend;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
  readonly skipInvalid?: boolean;
  readonly support: number;
  readonly maxSteps: number;
  readonly operation: string;
}

/** The robust statistics: the plain fit's fields plus the summary. */
export interface RobustStatistics {
  readonly count: number;
  readonly bands: number;
  readonly mean: Float64Array;
  readonly covariance: Float64Array;
  readonly skipped: number;
  readonly robust: RobustFitSummary;
}

interface Fit {
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  readonly count: number;
}

interface Model {
  readonly bands: number;
  readonly mean: Float64Array;
  readonly w: Float64Array;
  readonly rank: number;
  readonly lower: boolean;
}

const SAMPLE_MIN = 4096;
const SAMPLE_PER_BAND = 20;
const SAMPLE_STEPS = 50;
const REWEIGHT_QUANTILE = 0.975;

/**
 * Validates `robust: true | { support, maxSteps }`.
 *
 * @param robust The option as given.
 * @returns `support` and `maxSteps` with defaults.
 * @throws {TypeError} On a wrong type or an unknown key.
 * @throws {RangeError} On `support` outside [0.5, 1) or `maxSteps` outside 0..100.
 */
export function robustSettings(robust: true | RobustFitOptions): Required<RobustFitOptions> {
  if (robust === true) return { support: 0.75, maxSteps: 10 };
  if (robust === null || typeof robust !== "object" || Array.isArray(robust)) {
    throw new TypeError(
      `options.robust must be true, false or { support, maxSteps }, got ${String(robust)}`,
    );
  }
  const unknown = Object.keys(robust).find((k) => k !== "support" && k !== "maxSteps");
  if (unknown !== undefined) {
    throw new TypeError(
      `options.robust.${unknown} is not an option; robust takes support and maxSteps`,
    );
  }
  const support = robust.support ?? 0.75;
  if (typeof support !== "number" || !(support >= 0.5 && support < 1)) {
    throw new RangeError(
      `options.robust.support must be a fraction in [0.5, 1) of pixels to keep, got ` +
        `${String(support)}; 0.75 (the default) tolerates 25 % outliers, 0.5 the most (50 %)`,
    );
  }
  const maxSteps = checkInteger("options.robust.maxSteps", robust.maxSteps ?? 10, 0, 100);
  return { support, maxSteps };
}

/**
 * Fits the robust mean and covariance of the pixels `passes` streams (see the module docs).
 *
 * @param passes Starts a pass over the pixels.
 * @param run Settings.
 * @returns The statistics (ddof 1) and a summary.
 */
export async function robustStatistics(passes: Passes, run: RobustRun): Promise<RobustStatistics> {
  const first = await samplePass(passes, run);
  const { bands, sample, pixels, skipped } = first;
  // Before any C-step: each inverts a bands × bands covariance.
  checkPixelsOverBands(pixels, bands);
  let passCount = 1;
  const h = Math.max(2, Math.ceil(run.support * sample.rows));
  const best = await sampleCSteps(
    sample,
    await modelOf(medianStart(sample), bands, run.eps),
    h,
    run,
  );
  let { model, distances } = best;
  let fit: Fit = best.fit;
  let steps = 0;
  let converged = false;
  while (steps < run.maxSteps && !converged) {
    const cutoff = quantile(distances, h);
    const next = await trimmedPass(passes, model, cutoff, { run, pass: ++passCount });
    steps++;
    if (next === undefined) break;
    converged = steps > 1 && next.count === fit.count && relChange(next.cov, fit.cov) < 1e-9;
    fit = next;
    model = await modelOf(fit, bands, run.eps);
    distances = await scores(sample, model, run);
  }
  // Scale the raw fit to be consistent at the Gaussian, then reweight once.
  const raw = scaled(fit, consistency(fit.count / pixels, model.rank));
  const rawModel = await modelOf(raw, bands, run.eps);
  const cut = rawModel.rank > 0 ? chi2Quantile(REWEIGHT_QUANTILE, rawModel.rank) : Infinity;
  const reweighted = await trimmedPass(passes, rawModel, cut, { run, pass: ++passCount });
  const final = reweighted === undefined
    ? raw
    : scaled(reweighted, consistency(REWEIGHT_QUANTILE, rawModel.rank));
  return {
    count: final.count,
    bands,
    mean: final.mean,
    covariance: final.cov,
    skipped,
    robust: {
      method: "mcd",
      support: run.support,
      pixels,
      sample: sample.rows,
      steps,
      passes: passCount,
      converged,
      kept: final.count,
      trimmed: 1 - final.count / pixels,
    },
  };
}

/** The valid rows of one chunk: validated, with non-finite rows dropped or refused. */
async function validRows(
  raw: Matrix | DeviceTensor,
  at: { index: number; row: number; bands?: number; run: RobustRun },
): Promise<Matrix> {
  const chunk = raw instanceof DeviceTensor
    ? await hostMatrix(raw)
    : checkMatrix(raw, `chunk ${at.index}`);
  if (at.bands !== undefined && chunk.cols !== at.bands) {
    throw new TypeError(
      `chunk ${at.index} has ${chunk.cols} bands but the first chunk has ${at.bands}; every ` +
        `chunk must have the same band count`,
    );
  }
  if (!at.run.skipInvalid) {
    assertFinite(chunk.data, chunk.cols, "pixel", "band", at.row);
    return chunk;
  }
  return firstNonFinite(chunk.data, chunk.cols) === undefined ? chunk : finiteRows(chunk);
}

/** Pass 1: counts the valid pixels and keeps a seeded reservoir sample of them. */
async function samplePass(passes: Passes, run: RobustRun) {
  let bands: number | undefined;
  let reservoir = new Float32Array(0);
  let cap = 0;
  let pixels = 0;
  let row = 0;
  let index = 0;
  const random = seededUniform(0x5eed);
  for await (const raw of passes()) {
    throwIfAborted(run.signal, run.operation);
    const chunk = await validRows(raw, { index, row, bands, run });
    if (bands === undefined) {
      bands = checkInteger("chunk 0 cols", chunk.cols, 1);
      cap = Math.max(SAMPLE_MIN, SAMPLE_PER_BAND * bands);
      reservoir = new Float32Array(cap * bands);
    }
    for (let r = 0; r < chunk.rows; r++, pixels++) {
      // Algorithm R: row number `pixels` replaces a random slot with probability cap/(pixels+1).
      const slot = pixels < cap ? pixels : Math.floor(random() * (pixels + 1));
      if (slot < cap) reservoir.set(chunk.data.subarray(r * bands, (r + 1) * bands), slot * bands);
    }
    row += raw instanceof DeviceTensor ? raw.matrixShape().rows : raw.rows;
    index++;
    run.onProgress?.({ done: row, unit: "rows (robust fit pass 1)" });
  }
  if (bands === undefined || pixels < 2) {
    throw new RangeError(
      `RX needs at least 2 pixels for a covariance, got ${pixels}` +
        (row > pixels ? ` (${row - pixels} skipped as invalid)` : ""),
    );
  }
  const rows = Math.min(pixels, cap);
  const sample: Matrix = { data: reservoir.subarray(0, rows * bands), rows, cols: bands };
  return { bands, sample, pixels, skipped: row - pixels };
}

interface SampleFit {
  readonly fit: Fit;
  readonly model: Model;
  readonly distances: Float32Array;
}

/** C-steps on the in-memory sample until the kept subset repeats. */
async function sampleCSteps(
  sample: Matrix,
  start: Model,
  h: number,
  run: RobustRun,
): Promise<SampleFit> {
  let model = start;
  let distances = await scores(sample, model, run);
  let fit: Fit | undefined;
  let previous: Uint8Array | undefined;
  for (let step = 0; step < SAMPLE_STEPS; step++) {
    throwIfAborted(run.signal, run.operation);
    const order = Array.from(distances.keys()).sort((a, b) => distances[a] - distances[b]);
    const keep = new Uint8Array(sample.rows);
    for (let i = 0; i < h; i++) keep[order[i]] = 1;
    if (previous !== undefined && keep.every((k, i) => k === previous![i])) break;
    previous = keep;
    fit = await fitRows(sample, keep, run);
    model = await modelOf(fit, sample.cols, run.eps);
    distances = await scores(sample, model, run);
  }
  return { fit: fit!, model, distances };
}

/** One full pass: the statistics of the pixels whose distance is within `cutoff`. */
async function trimmedPass(
  passes: Passes,
  model: Model,
  cutoff: number,
  at: { run: RobustRun; pass: number },
): Promise<Fit | undefined> {
  const { run } = at;
  const acc = new CovarianceAccumulator(model.bands, { backend: run.backend });
  let row = 0;
  let index = 0;
  for await (const raw of passes()) {
    throwIfAborted(run.signal, run.operation);
    const chunk = await validRows(raw, { index, row, bands: model.bands, run });
    const d = await scores(chunk, model, run);
    const keep = new Uint8Array(chunk.rows);
    for (let r = 0; r < chunk.rows; r++) keep[r] = d[r] <= cutoff ? 1 : 0;
    const kept = selectRows(chunk, keep);
    if (kept.rows > 0) {
      await acc.add(
        kept,
        { signal: run.signal, operation: run.operation } as AddOptions & NestedOptions,
      );
    }
    row += chunk.rows;
    index++;
    run.onProgress?.({ done: row, unit: `rows (robust fit pass ${at.pass})` });
  }
  if (acc.count < 2) return undefined;
  const r = acc.result(1);
  return { mean: r.mean, cov: r.covariance, count: r.count };
}

/** Mean and covariance of the rows of `m` marked in `keep`. */
async function fitRows(m: Matrix, keep: Uint8Array, run: RobustRun): Promise<Fit> {
  const acc = new CovarianceAccumulator(m.cols, { backend: run.backend });
  await acc.add(
    selectRows(m, keep),
    { signal: run.signal, operation: run.operation } as AddOptions & NestedOptions,
  );
  const r = acc.result(1);
  return { mean: r.mean, cov: r.covariance, count: r.count };
}

/** The rows of `m` marked in `keep`, copied (or `m` itself when all are kept). */
function selectRows(m: Matrix, keep: Uint8Array): Matrix {
  let n = 0;
  for (const k of keep) n += k;
  if (n === m.rows) return m;
  const out = new Float32Array(n * m.cols);
  for (let r = 0, o = 0; r < m.rows; r++) {
    if (keep[r]) out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), o++ * m.cols);
  }
  return { data: out, rows: n, cols: m.cols };
}

/** Squared Mahalanobis distances of the rows of `m` under `model`. */
async function scores(m: Matrix, model: Model, run: RobustRun): Promise<Float32Array> {
  if (m.rows === 0) return new Float32Array(0);
  return await scoreRx(m, { model, backend: run.backend }) as Float32Array;
}

/** The whitening of a fit: what distances need. */
async function modelOf(fit: Fit, bands: number, eps: number): Promise<Model> {
  const white = await whitening(fit.cov, bands, { eps, form: "lower" });
  return { bands, mean: fit.mean, w: white.w, rank: white.rank, lower: true };
}

/** Coordinate-wise median and MAD² (scaled to σ² at the Gaussian) on the diagonal, as a start. */
function medianStart(m: Matrix): Fit {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const cov = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    const values = Float64Array.from({ length: rows }, (_, r) => data[r * cols + j]);
    mean[j] = median(values);
    const mad = median(values.map((v) => Math.abs(v - mean[j]))) * 1.4826;
    cov[j * cols + j] = mad * mad;
  }
  return { mean, cov, count: rows };
}

function median(values: Float64Array): number {
  const s = values.slice().sort();
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The `h`-th smallest distance (the cut-off that keeps h sample pixels). */
function quantile(distances: Float32Array, h: number): number {
  const s = distances.slice().sort();
  return s[Math.min(h, s.length) - 1];
}

/** χ² consistency factor of a fit trimmed to fraction `q` at rank `p` (1 for p = 0). */
function consistency(q: number, p: number): number {
  if (p === 0 || q >= 1) return 1;
  return q / chi2Cdf(chi2Quantile(q, p), p + 2);
}

function scaled(fit: Fit, factor: number): Fit {
  return { ...fit, cov: fit.cov.map((v) => v * factor) };
}

/** max |a − b| / max |b|. */
function relChange(a: Float64Array, b: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Checks a saved {@linkcode RobustFitSummary} (from `RxDetector.fromJSON`).
 *
 * @param value The candidate.
 * @param count The model's `count`, which must equal `kept`.
 * @returns The summary, typed.
 * @throws {InvalidDataError} Naming the field that is wrong.
 */
export function checkRobustSummary(value: unknown, count: number): RobustFitSummary {
  const bad = (why: string) =>
    new InvalidDataError(`model.robust ${why}; the saved model is corrupt`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw bad("must be an object");
  }
  const s = value as Record<string, unknown>;
  if (s.method !== "mcd") throw bad(`.method must be "mcd", got ${JSON.stringify(s.method)}`);
  for (const k of ["pixels", "sample", "steps", "passes", "kept"]) {
    if (typeof s[k] !== "number" || !Number.isInteger(s[k]) || (s[k] as number) < 0) {
      throw bad(`.${k} must be a whole number ≥ 0, got ${JSON.stringify(s[k])}`);
    }
  }
  if (typeof s.support !== "number" || !(s.support >= 0.5 && s.support < 1)) {
    throw bad(`.support must be in [0.5, 1), got ${JSON.stringify(s.support)}`);
  }
  if (typeof s.converged !== "boolean") throw bad(".converged must be true or false");
  if (s.kept !== count || (s.kept as number) > (s.pixels as number)) {
    throw bad(`.kept (${s.kept}) must equal count (${count}) and be at most .pixels`);
  }
  return {
    method: "mcd",
    support: s.support,
    pixels: s.pixels as number,
    sample: s.sample as number,
    steps: s.steps as number,
    passes: s.passes as number,
    converged: s.converged,
    kept: s.kept as number,
    trimmed: 1 - (s.kept as number) / (s.pixels as number),
  };
}
