/**
 * EXPERIMENTS.md §2's tile × batch sweep of a convolutional network: per configuration a fresh
 * model, warm-up runs, timed runs (each waiting for its read-back, which synchronises the
 * device), mean and standard deviation, throughput = batch / mean, peak memory since the
 * warm-up. A configuration that fails (out of memory included) becomes a row with its `error`,
 * and the sweep goes on. Rows carry §2's columns ({@linkcode CONV_COLUMNS}) and prism's extras.
 *
 * @module
 */

import { ConvNet } from "../nn/convnet.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";
import { gpuStatus } from "../gpu/device.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import { measure } from "./timing.ts";
import { meanStd } from "./stats.ts";
import { backendOf, errorField, memoryNow, resetPeak, type SweepDevice } from "./_device_memory.ts";
import type { SweepRow } from "./sweep_log.ts";

export type { SweepDevice } from "./_device_memory.ts";

/** What a sweep step does: a forward pass, or forward + backward + an Adam step (lr 1e-3). */
export type ConvMode = "inference" | "train";

/** The networks §2 sweeps: the refinement network, or the small one for quick runs. */
export type ConvModel = "refiner" | "small";

/** Options of {@linkcode convSweep}; every one has §2's default. */
export interface ConvSweepOptions {
  /** Tile sides in pixels (default 256, 384). */
  readonly tileSizes?: readonly number[];
  /** Tiles per step (default 1, 2, 4). */
  readonly batchSizes?: readonly number[];
  /** Default `"inference"`. */
  readonly mode?: ConvMode;
  /** Default `"cpu"` (WASM); `"gpu"` runs on WebGPU. */
  readonly device?: SweepDevice;
  /** Default `"refiner"`. */
  readonly model?: ConvModel;
  /** Untimed runs per configuration: default 10 (train 5). */
  readonly warmup?: number;
  /** Timed runs per configuration: default 50 (train 20). */
  readonly iterations?: number;
  /** Called before each configuration with its index, the count and a label. */
  readonly onStart?: (index: number, total: number, label: string) => void;
  /** Stops between and inside configurations; the rows done so far were already yielded. */
  readonly signal?: AbortSignal;
}

/** §2's warm-up and timed counts. */
const DEFAULT_COUNTS: Readonly<Record<ConvMode, { warmup: number; iterations: number }>> = {
  inference: { warmup: 10, iterations: 50 },
  train: { warmup: 5, iterations: 20 },
};

/** The options with §2's defaults filled in and checked. */
export interface ConvSweepPlan {
  tileSizes: number[];
  batchSizes: number[];
  mode: ConvMode;
  device: SweepDevice;
  model: ConvModel;
  warmup: number;
  iterations: number;
}

function positiveInts(name: string, values: readonly number[], least: number): number[] {
  if (values.length === 0) throw new RangeError(`${name} is empty: give at least one size`);
  for (const v of values) {
    if (!Number.isInteger(v) || v < least) {
      throw new RangeError(`${name} must be whole numbers ≥ ${least}, got ${v}`);
    }
  }
  return [...values];
}

/**
 * Fills in §2's defaults and checks every size before any work: a zero batch, a tile the network
 * cannot take (its output would not be whole pixels), an unknown mode, model or device.
 *
 * @param options The sweep's options.
 * @returns The full plan.
 * @throws {RangeError} On an impossible size or count (the message names the option).
 * @throws {TypeError} On an unknown mode, device or model.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { planConvSweep } from "./conv_sweep.ts";
 * const plan = planConvSweep({ mode: "train" });
 * assert.deepStrictEqual([plan.warmup, plan.iterations, plan.tileSizes], [5, 20, [256, 384]]);
 * assert.throws(() => planConvSweep({ batchSizes: [0] }), /batch sizes must be whole numbers ≥ 1/);
 * assert.throws(() => planConvSweep({ tileSizes: [250] }), /multiple of 16/);
 * ```
 */
export function planConvSweep(options: ConvSweepOptions = {}): ConvSweepPlan {
  const mode = options.mode ?? "inference";
  if (mode !== "inference" && mode !== "train") {
    throw new TypeError(`mode must be "inference" or "train", got "${mode}"`);
  }
  const device = options.device ?? "cpu";
  if (device !== "cpu" && device !== "gpu") {
    throw new TypeError(`device must be "cpu" or "gpu", got "${device}"`);
  }
  const model = options.model ?? "refiner";
  if (model !== "refiner" && model !== "small") {
    throw new TypeError(`model must be "refiner" or "small", got "${model}"`);
  }
  const tileSizes = positiveInts("tile sizes", options.tileSizes ?? [256, 384], 1);
  const batchSizes = positiveInts("batch sizes", options.batchSizes ?? [1, 2, 4], 1);
  // The refiner halves the image four times (stride-2 encoder and three blocks) and doubles it
  // twice: a tile must divide by 16 for every layer to see whole pixels.
  const multiple = model === "refiner" ? 16 : 1;
  const bad = tileSizes.find((t) => t % multiple !== 0);
  if (bad !== undefined) {
    throw new RangeError(
      `tile size ${bad} does not fit the ${model} network: its tiles must be a multiple of ` +
        `${multiple} pixels (e.g. ${Math.max(multiple, Math.round(bad / multiple) * multiple)})`,
    );
  }
  const counts = DEFAULT_COUNTS[mode];
  const warmup = options.warmup ?? counts.warmup;
  const iterations = options.iterations ?? counts.iterations;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`warmup must be a whole number ≥ 0, got ${warmup}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`iterations must be a whole number ≥ 1, got ${iterations}`);
  }
  return { tileSizes, batchSizes, mode, device, model, warmup, iterations };
}

/**
 * Runs the sweep, yielding one row per configuration (tile sizes outer, batch sizes inner) as
 * soon as it is measured, so a caller can log it before the next starts.
 *
 * Times: `avg_time_ms`/`std_time_ms` are the mean and population standard deviation of one
 * step (inference: forward with the output read back; train: `ConvNet.trainStep`, MSE against a
 * target of the output's shape). `forward_time_ms` is the mean forward alone (in train mode a
 * separate timed forward with batch statistics, same counts) and `backward_time_ms` the rest of
 * the step (loss, backward, Adam). Memory on the GPU is prism's buffer pool; its peak is the
 * pool's since the device opened (WebGPU offers no reset).
 *
 * @param options The sweep (see {@linkcode planConvSweep} for the defaults).
 * @returns The rows, §2's columns plus `model`, `backend`, `median_time_ms`, `spread_time_ms`,
 *   `warmup`, `iterations`, `pixels_per_sec`.
 * @throws {RangeError | TypeError} From {@linkcode planConvSweep}, before any work.
 * @throws {BackendUnavailableError} When `device` is `"gpu"` and no WebGPU adapter exists.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { convSweep } from "./conv_sweep.ts";
 * const rows = [];
 * for await (const row of convSweep({ model: "small", tileSizes: [8], batchSizes: [1, 2], warmup: 0, iterations: 1 })) {
 *   rows.push(row);
 * }
 * assert.deepStrictEqual(rows.map((r) => [r.batch_size, r.error]), [[1, ""], [2, ""]]);
 * ```
 */
export async function* convSweep(options: ConvSweepOptions = {}): AsyncGenerator<SweepRow> {
  const plan = planConvSweep(options);
  if (plan.device === "gpu") {
    const gpu = await gpuStatus();
    if (!gpu.available) throw new BackendUnavailableError("webgpu", gpu.reason);
  }
  const total = plan.tileSizes.length * plan.batchSizes.length;
  let index = 0;
  for (const tile of plan.tileSizes) {
    for (const batch of plan.batchSizes) {
      options.signal?.throwIfAborted();
      options.onStart?.(index++, total, `${plan.mode} ${plan.model} ${tile}² batch ${batch}`);
      yield await configuration(plan, tile, batch, options.signal);
    }
  }
}

async function configuration(
  plan: ConvSweepPlan,
  tile: number,
  batch: number,
  signal: AbortSignal | undefined,
): Promise<SweepRow> {
  const base = {
    timestamp: new Date().toISOString(),
    mode: plan.mode,
    tile_size: tile,
    batch_size: batch,
    device: plan.device,
    model: plan.model,
    backend: backendOf(plan.device),
    warmup: plan.warmup,
    iterations: plan.iterations,
  };
  let params: Record<string, number> = {};
  try {
    using net = await ConvNet.fromSpec(plan.model); // fresh model per configuration (§2)
    params = { model_params: net.parameterCount, model_size_mb: net.sizeMB };
    return { ...base, ...params, ...await timeConfiguration(net, plan, tile, batch, signal) };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ...base, ...params, error: errorField(error) };
  }
}

async function timeConfiguration(
  net: ConvNet,
  plan: ConvSweepPlan,
  tile: number,
  batch: number,
  signal: AbortSignal | undefined,
): Promise<SweepRow> {
  const backend = backendOf(plan.device);
  const counts = { warmup: plan.warmup, iterations: plan.iterations, signal };
  using x = await toDevice(
    randomF32(batch * tile * tile * net.inputChannels, 7, { lo: -1, hi: 1 }),
    { shape: [batch, tile, tile, net.inputChannels], backend },
  );
  const forward = (training: boolean) => async () => {
    using y = await net.forward(x, { backend, training });
    await y.read(); // the read-back waits for the device: the clock stops after the work
  };
  let step = forward(false);
  if (plan.mode === "train") {
    const o = Math.round(tile * net.scale);
    const target = {
      data: randomF32(batch * o * o * net.outputChannels, 8, { lo: -1, hi: 1 }),
      shape: [batch, o, o, net.outputChannels],
    };
    step = async () => void await net.trainStep(x, target, { backend });
  }
  // §2 resets the peak after the warm-up, so the warm-up runs here and `measure` only times.
  for (let i = 0; i < plan.warmup; i++) await step();
  await resetPeak(plan.device);
  const timing = await measure(step, { ...counts, warmup: 0 });
  const memory = await memoryNow(plan.device);
  const { mean, std } = meanStd(timing.samples);
  const forwardMean = plan.mode === "train"
    ? meanStd((await measure(forward(true), counts)).samples).mean
    : mean;
  const throughput = batch / (mean / 1000);
  return {
    avg_time_ms: mean,
    std_time_ms: std,
    throughput_samples_per_sec: throughput,
    memory_allocated_mb: memory.allocatedMb,
    memory_reserved_mb: memory.reservedMb,
    memory_peak_mb: memory.peakMb,
    forward_time_ms: forwardMean,
    backward_time_ms: plan.mode === "train" ? Math.max(0, mean - forwardMean) : 0,
    total_time_ms: mean,
    error: "",
    median_time_ms: timing.medianMs,
    spread_time_ms: timing.spreadMs,
    pixels_per_sec: throughput * tile * tile,
  };
}
