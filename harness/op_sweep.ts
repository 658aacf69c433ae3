/**
 * The operation sweeps of EXPERIMENTS.md §1 and §3, in §2's log conventions: covariance and RX
 * (fit + score) over §1's channel sweep (32×32 pixels, 20 samples, C = 10, 50, 100, 200: time
 * grows ~C²) and spatial sweep (10 channels, 10 samples, 64², 128², 256²: time grows ~pixels) on
 * §1's synthetic cubes; singular values with §3's metrics over activation-matrix shapes. One row
 * per problem ({@linkcode OP_COLUMNS}); a failing one becomes a row with its `error`.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { covariance } from "../ops/covariance.ts";
import { RxDetector } from "../ops/rx.ts";
import { spectrumOf } from "../ops/spectrum.ts";
import { datasetRows, type DatasetShape } from "../synth/datasets.ts";
import { randomF32 } from "../synth/uniform.ts";
import { gpuStatus } from "../gpu/device.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import { measure } from "./timing.ts";
import { meanStd } from "./stats.ts";
import { backendOf, errorField, memoryNow, resetPeak, type SweepDevice } from "./_device_memory.ts";
import type { SweepRow } from "./sweep_log.ts";

/** The experiments `bench cov|rx|spectrum` run. */
export type OpExperiment = "cov" | "rx" | "spectrum";

/** One problem of a sweep: a matrix of `rows` × `cols`, from §1's cubes or §3's shapes. */
export interface OpProblem {
  /** `channels` or `spatial` (§1), `shapes` (§3). */
  readonly sweep: "channels" | "spatial" | "shapes";
  readonly rows: number;
  readonly cols: number;
  /** The cubes the rows come from (§1 sweeps); absent for §3's uniform activations. */
  readonly cubes?: DatasetShape;
}

/**
 * The problems of an experiment, at §1's and §3's sizes, or shrunk in quick mode (CI).
 *
 * @param experiment `cov`, `rx` or `spectrum`.
 * @param quick Smaller problems that run in seconds.
 * @returns The problems in run order.
 * @throws {TypeError} On an unknown experiment.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { opProblems } from "./op_sweep.ts";
 * const cov = opProblems("cov", false);
 * assert.deepStrictEqual(cov.filter((p) => p.sweep === "channels").map((p) => p.cols), [10, 50, 100, 200]);
 * assert.deepStrictEqual(cov.filter((p) => p.sweep === "spatial").map((p) => p.rows), [40960, 163840, 655360]);
 * ```
 */
export function opProblems(experiment: OpExperiment, quick: boolean): OpProblem[] {
  if (experiment === "spectrum") {
    const shapes = quick ? [[64, 96], [96, 128], [128, 256]] : [
      [128, 512],
      [512, 768],
      [256, 3072],
      [4096, 1024],
    ];
    return shapes.map(([rows, cols]) => ({ sweep: "shapes", rows, cols }));
  }
  if (experiment !== "cov" && experiment !== "rx") {
    throw new TypeError(`unknown experiment "${experiment}": choose cov, rx or spectrum`);
  }
  const [side, samples] = quick ? [16, 4] : [32, 20];
  const channels = [10, 50, 100, 200].map((bands): OpProblem => ({
    sweep: "channels",
    rows: samples * side * side,
    cols: bands,
    cubes: { samples, height: side, width: side, bands },
  }));
  const spatialSamples = quick ? 2 : 10;
  const spatial = (quick ? [16, 32, 64] : [64, 128, 256]).map((s): OpProblem => ({
    sweep: "spatial",
    rows: spatialSamples * s * s,
    cols: 10,
    cubes: { samples: spatialSamples, height: s, width: s, bands: 10 },
  }));
  return [...channels, ...spatial];
}

/** Options of {@linkcode opSweep}. */
export interface OpSweepOptions {
  /** Default `"cpu"` (WASM). */
  readonly device?: SweepDevice;
  /** Untimed runs per problem; default 2. */
  readonly warmup?: number;
  /** Timed runs per problem; default 7. */
  readonly iterations?: number;
  /** Shrunk problems; default false. */
  readonly quick?: boolean;
  /** Called before each problem with its index, the count and a label. */
  readonly onStart?: (index: number, total: number, label: string) => void;
  /** Stops between and inside problems. */
  readonly signal?: AbortSignal;
}

async function problemMatrix(p: OpProblem): Promise<Matrix> {
  if (p.cubes === undefined) {
    // Post-ReLU activations of a wide layer: uniform in [0, 1), seeded by the shape.
    return { data: randomF32(p.rows * p.cols, p.rows * 31 + p.cols, { lo: 0, hi: 1 }), ...p };
  }
  const data = new Float32Array(p.rows * p.cols);
  let filled = 0;
  for await (const m of datasetRows(p.cubes)) {
    data.set(m.data, filled * p.cols);
    filled += m.rows;
  }
  return { data, rows: p.rows, cols: p.cols };
}

function operation(experiment: OpExperiment, x: Matrix, backend: "wasm" | "webgpu") {
  if (experiment === "cov") return () => covariance(x, { backend });
  if (experiment === "rx") {
    return async () => {
      const rx = await new RxDetector().fit(x, { backend });
      await rx.score(x, { backend });
    };
  }
  return () => spectrumOf(x, { backend });
}

/**
 * Runs an experiment's problems, yielding one row per problem as soon as it is measured. Each
 * run returns its result on the host, so the clock stops after the device finished.
 *
 * @param experiment `cov` (covariance), `rx` (RX fit + score) or `spectrum` (singular values
 *   and §3's metrics).
 * @param options Device, counts, quick mode, progress and stop signal.
 * @returns Rows with {@linkcode OP_COLUMNS}.
 * @throws {TypeError} On an unknown experiment or device.
 * @throws {RangeError} On counts below 0 (warm-up) or 1 (iterations).
 * @throws {BackendUnavailableError} When `device` is `"gpu"` and no WebGPU adapter exists.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { opSweep } from "./op_sweep.ts";
 * const rows = [];
 * for await (const row of opSweep("cov", { quick: true, warmup: 0, iterations: 1 })) rows.push(row);
 * assert.strictEqual(rows.length, 7);
 * assert(rows.every((r) => r.error === "" && Number(r.avg_time_ms) > 0));
 * ```
 */
export async function* opSweep(
  experiment: OpExperiment,
  options: OpSweepOptions = {},
): AsyncGenerator<SweepRow> {
  const problems = opProblems(experiment, options.quick ?? false);
  const device = options.device ?? "cpu";
  if (device !== "cpu" && device !== "gpu") {
    throw new TypeError(`device must be "cpu" or "gpu", got "${device}"`);
  }
  const warmup = options.warmup ?? 2;
  const iterations = options.iterations ?? 7;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`warmup must be a whole number ≥ 0, got ${warmup}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`iterations must be a whole number ≥ 1, got ${iterations}`);
  }
  if (device === "gpu") {
    const gpu = await gpuStatus();
    if (!gpu.available) throw new BackendUnavailableError("webgpu", gpu.reason);
  }
  const backend = backendOf(device);
  for (const [i, p] of problems.entries()) {
    options.signal?.throwIfAborted();
    options.onStart?.(i, problems.length, `${experiment} ${p.sweep} ${p.rows} × ${p.cols}`);
    const base = {
      timestamp: new Date().toISOString(),
      experiment,
      sweep: p.sweep,
      rows: p.rows,
      cols: p.cols,
      device,
      warmup,
      iterations,
    };
    try {
      const run = operation(experiment, await problemMatrix(p), backend);
      for (let w = 0; w < warmup; w++) await run();
      await resetPeak(device);
      const timing = await measure(run, { warmup: 0, iterations, signal: options.signal });
      const { mean, std } = meanStd(timing.samples);
      yield {
        ...base,
        avg_time_ms: mean,
        std_time_ms: std,
        median_time_ms: timing.medianMs,
        spread_time_ms: timing.spreadMs,
        throughput_rows_per_sec: p.rows / (timing.medianMs / 1000),
        memory_peak_mb: (await memoryNow(device)).peakMb,
        error: "",
      };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      yield { ...base, error: errorField(error) };
    }
  }
}
