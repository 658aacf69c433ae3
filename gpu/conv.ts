/**
 * 2-D convolution on the GPU (`programs/conv2d*.ts`): forward with fused bias and activation,
 * the gradient of the input (also a transposed convolution's forward), and the gradients of the
 * weights and bias, dense and depthwise, in f32 or f16 storage. Every call records into the
 * pending encoder and returns GPU-resident results without a submit, so a network's layers
 * run as one submit and read back once. A call too large for one binding or dispatch is split
 * into sub-batches or row bands (`_conv_split.ts`) with the same result; f16 runs natively
 * (`enable f16`) where the device has `shader-f16`, else on packed `u32` words.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { GpuContext } from "./context.ts";
import { getGpu } from "./device.ts";
import { columnSumsLayout } from "./programs/column_sums.ts";
import type { ConvActivation, ConvPrecision } from "./programs/conv2d_common.ts";
import { depthwiseGradCols } from "./programs/conv2d_depthwise.ts";
import { record } from "./run.ts";
import { GpuStorage } from "./storage.ts";
import {
  bindBias,
  callGeometry,
  checkModes,
  checkShape,
  type ConvCallOptions,
} from "./_conv_checks.ts";
import {
  checkWhole,
  f16StorageOf,
  type PassSetup,
  pieceRuns,
  planCall,
  wholeBinding,
} from "./_conv_runs.ts";
import { convLimits } from "./_conv_split.ts";
import { countPass } from "./_conv_stats.ts";
import {
  bindTensor,
  checkConvTensor,
  type ConvTensorInput,
  type GpuConvTensor,
  storageWords,
} from "./_conv_tensor.ts";
import { finishWeightGrad, partialsPlan, sumRows, sumSeparateRows } from "./_conv_weight_grad.ts";

export type { ConvCallOptions } from "./_conv_checks.ts";
export type { ConvTensorInput, GpuConvTensor } from "./_conv_tensor.ts";
export { readConvTensor, uploadConvTensor } from "./_conv_tensor.ts";
export { capConvLimitsForTesting } from "./_conv_split.ts";
export { ConvRunStats, convStats } from "./_conv_stats.ts";
export type { ConvActivation, ConvPrecision } from "./programs/conv2d_common.ts";

/** Options of {@linkcode gpuConv2d}. */
export interface GpuConv2dOptions extends ConvCallOptions {
  /** One f32 value per output channel, plain or GPU-resident; default none. */
  bias?: Float32Array | GpuStorage;
  /** Applied after the bias: `"none"` (default), `"relu"`, or `"gelu"` (exact erf form). */
  activation?: ConvActivation;
}

const count = (s: readonly number[]) => s[0] * s[1] * s[2] * s[3];

/**
 * `y = activation(conv(x, w) + bias)` on the GPU, recorded without a submit.
 *
 * @param input NHWC `[n, h, w, c]`, plain or GPU-resident.
 * @param weights HWIO `[kh, kw, c, oc]` (depthwise `[kh, kw, c, 1]`), plain or GPU-resident.
 * @param options `operation`, `bias`, `stride`, `padding`, `groups`, `activation`,
 *   `precision` (`"f16"`: f16 storage, f32 sums; plain or f32 inputs are converted on the GPU),
 *   `f16Storage`, `signal`.
 * @returns `[n, oh, ow, oc]` on the GPU in `precision`; the caller frees its storage.
 * @throws {TypeError} When a shape, the bias or an option is wrong (the message names which).
 * @throws {RangeError} When a size is out of range, the weights exceed one binding
 *   (`maxStorageBufferBindingSize`), a tensor one buffer (`maxBufferSize`), or one row band of
 *   one image one binding or dispatch (the call is split into sub-batches or row bands before
 *   that).
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {KernelError} When WebGPU reports a validation error while recording.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuConv2d, readConvTensor } from "./conv.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] };
 *   const w = { data: new Float32Array([1, 1, 1, 1]), shape: [2, 2, 1, 1] };
 *   const y = await gpuConv2d(x, w, { operation: "example", bias: new Float32Array([-20]),
 *     activation: "relu", padding: [0, 1, 0, 1] });
 *   assert.deepStrictEqual(Array.from(await readConvTensor(y)), [0, 0, 0, 0]);
 *   y.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuConv2d(
  input: ConvTensorInput,
  weights: ConvTensorInput,
  options: GpuConv2dOptions,
): Promise<GpuConvTensor> {
  const gpu = await getGpu();
  const op = options.operation;
  const { precision, activation } = checkModes(options);
  const f16 = f16StorageOf(gpu, options.f16Storage, op);
  const xs = checkConvTensor(gpu, input, { what: `${op} input`, precision });
  const ws = checkConvTensor(gpu, weights, { what: `${op} weights`, precision });
  const g = callGeometry(xs, ws, options);
  throwIfAborted(options.signal, op);
  const shape = [g.n, g.oh, g.ow, g.oc] as const;
  const limits = convLimits(gpu.limits);
  checkWhole(limits, {
    operation: op,
    precision,
    bound: [["weights", count(ws)]],
    buffers: [["input", count(xs)], ["output", count(shape)]],
  });
  const setup: PassSetup = { mode: "forward", precision, f16, activation };
  const pieces = g.n === 0 ? [] : planCall(limits, setup, g, op);
  const y = GpuStorage.allocate(gpu, storageWords(count(shape), precision), {
    label: "prism conv2d output",
  });
  if (g.n === 0) return { storage: y, shape, precision };
  await recordOrFree(gpu, [y], async (temps) => {
    const bias = bindBias(gpu, options.bias, { oc: g.oc, operation: op });
    try {
      const x = await bind(gpu, input, { precision, what: `${op} input`, temps });
      const w = await bind(gpu, weights, { precision, what: `${op} weights`, temps });
      const runs = pieceRuns(
        { ...setup, hasBias: bias.hasBias },
        pieces.map((piece) => ({ piece })),
        {
          sides: [["x", 0, x, "input"], ["y", 3, y, "output"]],
          shared: { w: wholeBinding(w, count(ws), precision), bias: bias.binding },
          align: limits.align,
        },
      );
      await record(gpu, runs);
      countPass(gpu, setup, pieces.length);
    } finally {
      // Only once the pass that reads it is recorded: released earlier, the pool could hand the
      // buffer to the next call, whose queue write would land before this pass runs.
      if (bias.release) gpu.releaseAfterSubmit(bias.release);
    }
  });
  return { storage: y, shape, precision };
}

/** Options of {@linkcode gpuConv2dInputGrad}. */
export interface GpuConv2dInputGradOptions extends ConvCallOptions {
  /** The forward call's input shape `[n, h, w, c]` (the gradient's shape). */
  inputShape: readonly [number, number, number, number];
}

/**
 * The gradient of a convolution's input, `dX = convᵀ(dY, w)`, recorded without a submit. With
 * the forward geometry of a k4 s2 p1 convolution it is the forward of the transposed
 * convolution (k4 s2 p1) that doubles the resolution. Split by batch or by bands of input rows
 * when too large for one binding or dispatch.
 *
 * @param dy The gradient of the output `[n, oh, ow, oc]`, plain or GPU-resident.
 * @param weights The forward call's weights (HWIO, or `[kh, kw, c, 1]` depthwise).
 * @param options `operation`, `inputShape`, `stride`, `padding`, `groups`, `precision`,
 *   `f16Storage`, `signal`.
 * @returns `dX` `[n, h, w, c]` on the GPU in `precision`; the caller frees its storage.
 * @throws {TypeError} When `dy` does not have the forward output's shape (both named), or
 *   another shape or option is wrong.
 * @throws {RangeError} When a size is out of range, the weights exceed one binding, a tensor
 *   one buffer, or one row band one binding (each names the limit).
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuConv2dInputGrad, readConvTensor } from "./conv.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   // A transposed 2x2 stride-2 convolution of one pixel spreads it over a 2x2 block.
 *   const dy = { data: new Float32Array([2]), shape: [1, 1, 1, 1] };
 *   const w = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1, 1] };
 *   const dx = await gpuConv2dInputGrad(dy, w, { operation: "example", inputShape: [1, 2, 2, 1],
 *     stride: 2 });
 *   assert.deepStrictEqual(Array.from(await readConvTensor(dx)), [2, 4, 6, 8]);
 *   dx.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuConv2dInputGrad(
  dy: ConvTensorInput,
  weights: ConvTensorInput,
  options: GpuConv2dInputGradOptions,
): Promise<GpuConvTensor> {
  const gpu = await getGpu();
  const op = options.operation;
  const { precision } = checkModes(options);
  const f16 = f16StorageOf(gpu, options.f16Storage, op);
  const ws = checkConvTensor(gpu, weights, { what: `${op} weights`, precision });
  const dys = checkConvTensor(gpu, dy, { what: `${op} dy`, precision });
  const g = callGeometry(options.inputShape, ws, options);
  checkShape(dys, { what: `${op} dy`, expected: [g.n, g.oh, g.ow, g.oc] });
  throwIfAborted(options.signal, op);
  const shape = [g.n, g.h, g.w, g.c] as const;
  const limits = convLimits(gpu.limits);
  checkWhole(limits, {
    operation: op,
    precision,
    bound: [["weights", count(ws)]],
    buffers: [["output gradient", count(dys)], ["input gradient", count(shape)]],
  });
  const setup: PassSetup = { mode: "input_grad", precision, f16 };
  const pieces = g.n === 0 ? [] : planCall(limits, setup, g, op);
  const dx = GpuStorage.allocate(gpu, storageWords(count(shape), precision), {
    label: "prism conv2d input gradient",
  });
  if (g.n === 0) return { storage: dx, shape, precision };
  await recordOrFree(gpu, [dx], async (temps) => {
    const d = await bind(gpu, dy, { precision, what: `${op} dy`, temps });
    const w = await bind(gpu, weights, { precision, what: `${op} weights`, temps });
    const runs = pieceRuns(setup, pieces.map((piece) => ({ piece })), {
      sides: [["dy", 0, d, "output"], ["dx", 2, dx, "input"]],
      shared: { w: wholeBinding(w, count(ws), precision) },
      align: limits.align,
    });
    await record(gpu, runs);
    countPass(gpu, setup, pieces.length);
  });
  return { storage: dx, shape, precision };
}

/** Options of {@linkcode gpuConv2dWeightGrad}. */
export interface GpuConv2dWeightGradOptions extends ConvCallOptions {
  /** Kernel height and width. */
  kernel: readonly [number, number];
}

/** The gradients of a convolution's parameters, f32 on the GPU. */
export interface ConvParamGrads {
  /** `[kh, kw, c, oc]` (depthwise `[kh, kw, c, 1]`), f32 whatever the call's precision. */
  readonly dWeights: GpuConvTensor;
  /** `oc` f32 values. */
  readonly dBias: GpuStorage;
}

/**
 * The gradients of a convolution's weights and bias, recorded without a submit: f32 partial
 * sums per split of the output pixels, added by the column-sums program. They stay f32 in
 * every precision (an optimiser keeps f32 weights). Split by batch or by bands of output rows
 * when too large for one binding or dispatch; the pieces' partials are added the same way.
 *
 * @param dy The gradient of the output `[n, oh, ow, oc]`, plain or GPU-resident.
 * @param input The forward call's input `[n, h, w, c]`.
 * @param options `operation`, `kernel`, `stride`, `padding`, `groups`, `precision` (of `dy` and
 *   `input`), `f16Storage`, `signal`.
 * @returns `dWeights` and `dBias`; the caller frees both storages.
 * @throws {TypeError} When `dy` does not have the forward output's shape, or another shape or
 *   option is wrong.
 * @throws {RangeError} When a size is out of range, the gradients exceed one binding, a tensor
 *   one buffer, or one row band one binding (each names the limit).
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuConv2dWeightGrad, readConvTensor } from "./conv.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] };
 *   const dy = { data: new Float32Array([1, 1, 1, 1]), shape: [1, 2, 2, 1] };
 *   const g = await gpuConv2dWeightGrad(dy, x, { operation: "example", kernel: [1, 1] });
 *   assert.deepStrictEqual(Array.from(await readConvTensor(g.dWeights)), [10]);
 *   assert.deepStrictEqual(Array.from(await g.dBias.read()), [4]);
 *   g.dWeights.storage.free();
 *   g.dBias.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuConv2dWeightGrad(
  dy: ConvTensorInput,
  input: ConvTensorInput,
  options: GpuConv2dWeightGradOptions,
): Promise<ConvParamGrads> {
  const gpu = await getGpu();
  const op = options.operation;
  const { precision } = checkModes(options);
  const f16 = f16StorageOf(gpu, options.f16Storage, op);
  const xs = checkConvTensor(gpu, input, { what: `${op} input`, precision });
  const dys = checkConvTensor(gpu, dy, { what: `${op} dy`, precision });
  const [kh, kw] = options.kernel ?? [];
  const depthwise = (options.groups ?? 1) !== 1;
  const g = callGeometry(xs, [kh, kw, xs[3], depthwise ? 1 : dys[3]], options);
  checkShape(dys, { what: `${op} dy`, expected: [g.n, g.oh, g.ow, g.oc] });
  throwIfAborted(options.signal, op);
  const cols = depthwise ? depthwiseGradCols(g) : (g.kh * g.kw * g.c + 1) * g.oc;
  const limits = convLimits(gpu.limits);
  checkWhole(limits, {
    operation: op,
    precision: "f32",
    bound: [["weight and bias gradients", cols]],
    buffers: [],
  });
  checkWhole(limits, {
    operation: op,
    precision,
    bound: [],
    buffers: [["input", count(xs)], ["output gradient", count(dys)]],
  });
  const setup: PassSetup = { mode: "weight_grad", precision, f16 };
  const pieces = g.n === 0 ? [] : planCall(limits, setup, g, op);
  const plan = partialsPlan(pieces, { setup, cols, limits, operation: op });
  const wShape = [g.kh, g.kw, g.c, depthwise ? 1 : g.oc] as const;
  const dWeights = GpuStorage.allocate(gpu, count(wShape), { label: "prism conv2d dW" });
  const dBias = GpuStorage.allocate(gpu, g.oc, { label: "prism conv2d dBias" });
  await recordOrFree(gpu, [dWeights, dBias], async (temps) => {
    const x = await bind(gpu, input, { precision, what: `${op} input`, temps });
    const d = await bind(gpu, dy, { precision, what: `${op} dy`, temps });
    const finish = (partials: GpuStorage, splits: number) =>
      finishWeightGrad(gpu, { partials, splits, cols, dWeights, dBias, temps });
    if (plan.length === 0) {
      const zeros = GpuStorage.allocate(gpu, cols, { label: "prism conv2d no pixels" });
      temps.push(zeros);
      gpu.encoder().clearBuffer(zeros.buffer, 0, cols * 4);
      await finish(zeros, 1);
      return;
    }
    const block = columnSumsLayout(cols).blockRows;
    const groups: GpuStorage[] = [];
    for (const group of plan) {
      const rows = group.reduce((sum, p) => sum + p.splits, 0);
      const partials = GpuStorage.allocate(gpu, rows * cols, { label: "prism conv2d partials" });
      temps.push(partials);
      let row = 0;
      const items = group.map(({ piece, splits }) => {
        const partialBase = row * cols;
        row += splits;
        return { piece, splits, partialBase };
      });
      const runs = pieceRuns(setup, items, {
        sides: [["x", 0, x, "input"], ["dy", 1, d, "output"]],
        shared: { partials: { buffer: partials.buffer, size: rows * cols * 4 } },
        align: limits.align,
      });
      await record(gpu, runs);
      if (plan.length === 1) {
        const sum = await sumRows(gpu, { matrix: partials, rows, cols, temps, to: block });
        await finish(sum.storage, sum.rows);
      } else {
        groups.push((await sumRows(gpu, { matrix: partials, rows, cols, temps, to: 1 })).storage);
      }
    }
    countPass(gpu, setup, pieces.length);
    if (plan.length === 1) return;
    const fit = Math.floor(limits.bindingBytes / (cols * 4));
    await finish(await sumSeparateRows(gpu, { rows: groups, cols, fit, temps }), 1);
  });
  return { dWeights: { storage: dWeights, shape: wShape, precision: "f32" }, dBias };
}

/** Binds a tensor in `precision`, keeping storage made for this call in `temps`. */
async function bind(
  gpu: GpuContext,
  t: ConvTensorInput,
  options: { precision: ConvPrecision; what: string; temps: GpuStorage[] },
): Promise<GpuStorage> {
  const { precision, what, temps } = options;
  const bound = await bindTensor(gpu, t, { precision, what, label: `prism ${what}` });
  if (bound.owned) temps.push(bound.storage);
  return bound.storage;
}

/**
 * Runs `fn` in an error scope; storage it pushes to `temps` is freed after the submit either
 * way, and `outputs` are freed when it throws.
 */
async function recordOrFree(
  gpu: GpuContext,
  outputs: GpuStorage[],
  fn: (temps: GpuStorage[]) => Promise<void>,
): Promise<void> {
  const temps: GpuStorage[] = [];
  try {
    await gpu.scoped("conv2d", () => fn(temps));
  } catch (e) {
    for (const s of outputs) s.free();
    throw e;
  } finally {
    for (const s of temps) s.free();
  }
}
