/**
 * The memory-bound layers on the GPU (`programs/layer_elementwise.ts`,
 * `programs/layer_norm_stats.ts`): elementwise maps recorded without a submit, and the
 * per-channel sums of batch norm and the norms' gradients as f32 partial sums per block of
 * pixels (`column_sums.ts`) added in f64 on the CPU (one submit and read-back each).
 *
 * Tensors are NHWC, plain (uploaded as f32) or GPU-resident in f32 or packed f16; outputs take
 * the precision of the first operand. Values are not checked here (the operation checks plain
 * ones).
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { gpuColumnSums } from "./column_sums.ts";
import type { GpuContext } from "./context.ts";
import { getGpu } from "./device.ts";
import {
  LAYER_OVERRIDES,
  type LayerKind,
  type LayerPrecision,
  layerProgram,
  type LayerShapes,
} from "./programs/layer_elementwise.ts";
import { LAYER_NORM_STATS_OVERRIDES, layerNormStatsProgram } from "./programs/layer_norm_stats.ts";
import { record } from "./run.ts";
import { GpuStorage } from "./storage.ts";
import { type ConvTensorInput, type GpuConvTensor, storageWords } from "./_conv_tensor.ts";

/** Options of every host here. */
export interface GpuLayerOptions {
  /** The operation as the user called it, named when aborted. */
  readonly operation: string;
  /** Checked before the work is recorded. */
  readonly signal?: AbortSignal;
}

/** The operands of a map: `a` (and `b`) tensors, `p` per-channel vectors. */
export interface GpuLayerOperands {
  /** The first tensor; its shape's last axis is the channel axis. */
  readonly a: ConvTensorInput;
  /** The second tensor, for the kinds that read one. */
  readonly b?: ConvTensorInput;
  /** Per-channel f32 vectors, concatenated, for the kinds that read them. */
  readonly p?: Float32Array;
}

/** The kinds {@linkcode gpuLayerMap} runs: those whose output is a tensor. */
export type GpuMapKind =
  | "affine"
  | "activation"
  | "activation_grad"
  | "add"
  | "batch_norm_grad"
  | "upsample"
  | "upsample_grad";

const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

/**
 * One elementwise (or upsampling) pass, recorded without a submit.
 *
 * @param kind What to compute (see `programs/layer_elementwise.ts`).
 * @param operands `a`, `b`, `p`.
 * @param options `shape` of the output, `activation` (0 none, 1 ReLU, 2 GELU), `scale`
 *   (upsampling), `precision` of the output (default `a`'s), `operation`, `signal`.
 * @returns The output on the GPU; the caller frees its storage.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuLayerMap } from "./layers.ts";
 * import { readConvTensor } from "./_conv_tensor.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const a = { data: new Float32Array([1, -2, 3]), shape: [1, 1, 1, 3] };
 *   const y = await gpuLayerMap("add", { a, b: a }, { shape: [1, 1, 1, 3], operation: "add()" });
 *   assert.deepStrictEqual([...await readConvTensor(y)], [2, -4, 6]);
 *   y.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuLayerMap(
  kind: GpuMapKind,
  operands: GpuLayerOperands,
  options: GpuLayerOptions & {
    shape: readonly [number, number, number, number];
    activation?: number;
    scale?: number;
    precision?: LayerPrecision;
  },
): Promise<GpuConvTensor> {
  const gpu = await getGpu();
  throwIfAborted(options.signal, options.operation);
  const { shape } = options;
  const precision = options.precision ?? precisionOf(operands.a);
  const small = kind === "upsample" ? operands.a.shape : shape;
  const y = await runLayer(gpu, kind, operands, {
    count: size(shape),
    c: shape[3],
    activation: options.activation,
    h: small[1],
    w: small[2],
    scale: options.scale,
  }, precision);
  return { storage: y, shape, precision };
}

/**
 * Per-channel sums over every pixel of an NHWC tensor, in f64: `[Σ(x − p), Σ(x − p)²]` for
 * `moments_cols`, `[Σdy, Σdy·x̂]` for the gradient kinds. One submit and read-back.
 *
 * @param kind `"moments_cols"` (`a` = x, `p` = the centre), `"batch_norm_grad_cols"` (`a` = x,
 *   `b` = dy, `p` = mean and 1/std) or `"layer_norm_grad_cols"` (with per-pixel `stats`).
 * @param operands `a`, `b`, `p`, and `stats` (4 f32 per pixel) for the layer-norm kind.
 * @param options `operation`, `signal`.
 * @returns `2c` sums: the first `c` and the second `c` columns.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuChannelSums } from "./layers.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const a = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 2, 2] };
 *   const s = await gpuChannelSums("moments_cols", { a, p: new Float32Array(2) },
 *     { operation: "example" });
 *   assert.deepStrictEqual([...s], [4, 6, 10, 20]);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuChannelSums(
  kind: "moments_cols" | "batch_norm_grad_cols" | "layer_norm_grad_cols",
  operands: GpuLayerOperands & { stats?: GpuStorage },
  options: GpuLayerOptions,
): Promise<Float64Array> {
  const gpu = await getGpu();
  throwIfAborted(options.signal, options.operation);
  const shape = operands.a.shape;
  const c = shape[3];
  const rows = size(shape) / Math.max(1, c);
  if (rows === 0) return new Float64Array(2 * c);
  const matrix = await runLayer(gpu, kind, operands, { count: rows * 2 * c, c }, "f32");
  try {
    return await gpuColumnSums({ storage: matrix, rows, cols: 2 * c }, options);
  } finally {
    matrix.free();
  }
}

/**
 * Per-pixel layer-norm statistics (mean, 1/std; with `b` = dy and `p` = γ also the means of
 * `dy·γ` and `dy·γ·x̂`), 4 f32 per pixel, recorded without a submit.
 *
 * @param operands `a` = x, and `b`, `p` for the backward pass.
 * @param options `eps`, `operation`, `signal`.
 * @returns The statistics; the caller frees them.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuLayerNormStats } from "./layers.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const a = { data: new Float32Array([1, 3]), shape: [1, 1, 1, 2] };
 *   const s = await gpuLayerNormStats({ a }, { eps: 0, operation: "example" });
 *   const [mean, rstd] = await s.read();
 *   assert(mean === 2 && rstd === 1);
 *   s.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuLayerNormStats(
  operands: GpuLayerOperands,
  options: GpuLayerOptions & { eps: number },
): Promise<GpuStorage> {
  const gpu = await getGpu();
  throwIfAborted(options.signal, options.operation);
  const shape = operands.a.shape;
  const pixels = size(shape) / Math.max(1, shape[3]);
  const backward = operands.b !== undefined;
  const s = GpuStorage.allocate(gpu, 4 * pixels, { label: "prism layer norm stats" });
  await recordLayer(gpu, [s], async (bound) => {
    const a = bound(operands.a);
    const b = backward ? bound(operands.b!) : undefined;
    const program = layerNormStatsProgram({ backward, a: a.precision, b: b?.precision });
    const buffers: Record<string, GPUBufferBinding> = { a: a.binding, s: binding(s) };
    if (b) {
      buffers.b = b.binding;
      buffers.p = bound(operands.p!).binding;
    }
    await record(gpu, [{
      program,
      overrides: LAYER_NORM_STATS_OVERRIDES,
      shapes: { pixels, c: shape[3], eps: options.eps },
      buffers,
    }]);
  });
  return s;
}

/**
 * The layer-norm passes that read the statistics: the forward (`a` = x, `p` = γ then β) or
 * the input gradient (`a` = x, `b` = dy, `p` = γ), recorded without a submit.
 *
 * @param kind `"layer_norm"` or `"layer_norm_grad"`.
 * @param operands `a`, `b`, `p` and the `stats` of {@linkcode gpuLayerNormStats}.
 * @param options `operation`, `signal`.
 * @returns The output, `a`'s shape and precision; the caller frees its storage.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuLayerNormStats, gpuLayerNormMap } from "./layers.ts";
 * import { readConvTensor } from "./_conv_tensor.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const a = { data: new Float32Array([1, 3]), shape: [1, 1, 1, 2] };
 *   const stats = await gpuLayerNormStats({ a }, { eps: 0, operation: "example" });
 *   const p = new Float32Array([1, 1, 0, 0]);
 *   const y = await gpuLayerNormMap("layer_norm", { a, p, stats }, { operation: "example" });
 *   assert.deepStrictEqual([...await readConvTensor(y)], [-1, 1]);
 *   y.storage.free();
 *   stats.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuLayerNormMap(
  kind: "layer_norm" | "layer_norm_grad",
  operands: GpuLayerOperands & { stats: GpuStorage },
  options: GpuLayerOptions,
): Promise<GpuConvTensor> {
  const gpu = await getGpu();
  throwIfAborted(options.signal, options.operation);
  const shape = operands.a.shape as GpuConvTensor["shape"];
  const precision = precisionOf(operands.a);
  const y = await runLayer(gpu, kind, operands, { count: size(shape), c: shape[3] }, precision);
  return { storage: y, shape, precision };
}

/** A bound operand: its binding and how it holds its values. */
interface Bound {
  readonly binding: GPUBufferBinding;
  readonly precision: LayerPrecision;
}

/** Records one run of `kind` into new output storage of `count` values in `precision`. */
async function runLayer(
  gpu: GpuContext,
  kind: LayerKind,
  operands: GpuLayerOperands & { stats?: GpuStorage },
  shapes: LayerShapes,
  precision: LayerPrecision,
): Promise<GpuStorage> {
  const y = GpuStorage.allocate(gpu, Math.max(1, storageWords(shapes.count, precision)), {
    label: `prism ${kind} output`,
  });
  await recordLayer(gpu, [y], async (bound) => {
    const a = bound(operands.a);
    const b = operands.b === undefined ? undefined : bound(operands.b);
    const program = layerProgram(kind, { a: a.precision, b: b?.precision, y: precision });
    const available: Record<string, GPUBufferBinding | undefined> = {
      a: a.binding,
      b: b?.binding,
      p: operands.p === undefined ? undefined : bound(operands.p).binding,
      s: operands.stats === undefined ? undefined : binding(operands.stats),
      y: binding(y),
    };
    const buffers: Record<string, GPUBufferBinding> = {};
    for (const { name, type } of program.bindings) {
      if (type === "storage") buffers[name] = available[name]!;
    }
    await record(gpu, [{ program, overrides: LAYER_OVERRIDES, shapes, buffers }]);
  });
  return y;
}

/**
 * Runs `fn` in an error scope with a binder that uploads plain operands (freed after the
 * submit); `outputs` are freed when it throws.
 */
async function recordLayer(
  gpu: GpuContext,
  outputs: GpuStorage[],
  fn: (bound: (t: ConvTensorInput | Float32Array) => Bound) => Promise<void>,
): Promise<void> {
  const temps: GpuStorage[] = [];
  const bound = (t: ConvTensorInput | Float32Array): Bound => {
    if (t instanceof Float32Array || !("storage" in t)) {
      const data = t instanceof Float32Array ? t : t.data;
      // A zero-length binding is invalid: bind one word at least.
      const storage = GpuStorage.fromArray(gpu, data.length > 0 ? data : new Float32Array(1), {
        label: "prism layer operand",
      });
      temps.push(storage);
      return { binding: binding(storage), precision: "f32" };
    }
    return { binding: binding(t.storage), precision: t.precision };
  };
  try {
    await gpu.scoped("layer", () => fn(bound));
  } catch (e) {
    for (const s of outputs) s.free();
    throw e;
  } finally {
    for (const s of temps) s.free();
  }
}

function binding(s: GpuStorage): GPUBufferBinding {
  return { buffer: s.buffer, size: Math.max(1, s.length) * 4 };
}

function precisionOf(t: ConvTensorInput): LayerPrecision {
  return "storage" in t ? t.precision : "f32";
}
