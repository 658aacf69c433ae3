/**
 * 2-D convolution on the GPU (`programs/conv2d*.ts`): forward with fused bias and activation,
 * the gradient of the input (also a transposed convolution's forward), and the gradients of the
 * weights and bias, dense and depthwise, in f32 or f16 storage. Every call records into the
 * pending encoder and returns GPU-resident results without a submit, so a network's layers
 * run as one submit and read back once.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { GpuContext } from "./context.ts";
import { getGpu } from "./device.ts";
import {
  conv2dProgram,
  convGemmOverrides,
  type ConvGemmShapes,
  convGemmVectors,
} from "./programs/conv2d.ts";
import type { ConvActivation, ConvMode, ConvPrecision } from "./programs/conv2d_common.ts";
import {
  DEPTHWISE_OVERRIDES,
  depthwiseGradCols,
  depthwiseProgram,
  type DepthwiseShapes,
} from "./programs/conv2d_depthwise.ts";
import { type ProgramRun, record } from "./run.ts";
import { GpuStorage } from "./storage.ts";
import {
  bindBias,
  callGeometry,
  checkBindings,
  checkModes,
  checkShape,
  type ConvCallOptions,
} from "./_conv_checks.ts";
import {
  bindTensor,
  checkConvTensor,
  type ConvTensorInput,
  type GpuConvTensor,
  storageWords,
} from "./_conv_tensor.ts";
import { finishWeightGrad, weightGradSplits } from "./_conv_weight_grad.ts";

export type { ConvCallOptions } from "./_conv_checks.ts";
export type { ConvTensorInput, GpuConvTensor } from "./_conv_tensor.ts";
export { readConvTensor, uploadConvTensor } from "./_conv_tensor.ts";
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
 *   `signal`.
 * @returns `[n, oh, ow, oc]` on the GPU in `precision`; the caller frees its storage.
 * @throws {TypeError} When a shape, the bias or an option is wrong (the message names which).
 * @throws {RangeError} When a size is out of range or a binding exceeds the device's
 *   `maxStorageBufferBindingSize`.
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
  const xs = checkConvTensor(gpu, input, { what: `${op} input`, precision });
  const ws = checkConvTensor(gpu, weights, { what: `${op} weights`, precision });
  const g = callGeometry(xs, ws, options);
  throwIfAborted(options.signal, op);
  const shape = [g.n, g.oh, g.ow, g.oc] as const;
  checkBindings(gpu, {
    operation: op,
    words: [
      ["input", storageWords(count(xs), precision)],
      ["weights", storageWords(count(ws), precision)],
      ["output", storageWords(count(shape), precision)],
    ],
  });
  const y = GpuStorage.allocate(gpu, storageWords(count(shape), precision), {
    label: "prism conv2d output",
  });
  if (g.n === 0) return { storage: y, shape, precision };
  await recordOrFree(gpu, [y], async (temps) => {
    const bias = bindBias(gpu, options.bias, { oc: g.oc, operation: op });
    try {
      const x = await bind(gpu, input, { precision, what: `${op} input`, temps });
      const w = await bind(gpu, weights, { precision, what: `${op} weights`, temps });
      const buffers = {
        x: words(x, count(xs), precision),
        w: words(w, count(ws), precision),
        bias: bias.binding,
        y: words(y, count(shape), precision),
      };
      const shapes = { g, activation, hasBias: bias.hasBias };
      await record(gpu, passRuns("forward", { ...shapes, precision }, buffers));
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
 * convolution (k4 s2 p1) that doubles the resolution.
 *
 * @param dy The gradient of the output `[n, oh, ow, oc]`, plain or GPU-resident.
 * @param weights The forward call's weights (HWIO, or `[kh, kw, c, 1]` depthwise).
 * @param options `operation`, `inputShape`, `stride`, `padding`, `groups`, `precision`,
 *   `signal`.
 * @returns `dX` `[n, h, w, c]` on the GPU in `precision`; the caller frees its storage.
 * @throws {TypeError} When `dy` does not have the forward output's shape (both named), or
 *   another shape or option is wrong.
 * @throws {RangeError} When a size is out of range or a binding exceeds the device's limits.
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
  const ws = checkConvTensor(gpu, weights, { what: `${op} weights`, precision });
  const dys = checkConvTensor(gpu, dy, { what: `${op} dy`, precision });
  const g = callGeometry(options.inputShape, ws, options);
  checkShape(dys, { what: `${op} dy`, expected: [g.n, g.oh, g.ow, g.oc] });
  throwIfAborted(options.signal, op);
  const shape = [g.n, g.h, g.w, g.c] as const;
  checkBindings(gpu, {
    operation: op,
    words: [
      ["output gradient", storageWords(count(dys), precision)],
      ["weights", storageWords(count(ws), precision)],
      ["input gradient", storageWords(count(shape), precision)],
    ],
  });
  const dx = GpuStorage.allocate(gpu, storageWords(count(shape), precision), {
    label: "prism conv2d input gradient",
  });
  if (g.n === 0) return { storage: dx, shape, precision };
  await recordOrFree(gpu, [dx], async (temps) => {
    const d = await bind(gpu, dy, { precision, what: `${op} dy`, temps });
    const w = await bind(gpu, weights, { precision, what: `${op} weights`, temps });
    const buffers = {
      dy: words(d, count(dys), precision),
      w: words(w, count(ws), precision),
      dx: words(dx, count(shape), precision),
    };
    await record(gpu, passRuns("input_grad", { g, precision }, buffers));
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
 * every precision (an optimiser keeps f32 weights).
 *
 * @param dy The gradient of the output `[n, oh, ow, oc]`, plain or GPU-resident.
 * @param input The forward call's input `[n, h, w, c]`.
 * @param options `operation`, `kernel`, `stride`, `padding`, `groups`, `precision` (of `dy` and
 *   `input`), `signal`.
 * @returns `dWeights` and `dBias`; the caller frees both storages.
 * @throws {TypeError} When `dy` does not have the forward output's shape, or another shape or
 *   option is wrong.
 * @throws {RangeError} When a size is out of range or a binding exceeds the device's limits.
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
  const xs = checkConvTensor(gpu, input, { what: `${op} input`, precision });
  const dys = checkConvTensor(gpu, dy, { what: `${op} dy`, precision });
  const [kh, kw] = options.kernel ?? [];
  const depthwise = (options.groups ?? 1) !== 1;
  const g = callGeometry(xs, [kh, kw, xs[3], depthwise ? 1 : dys[3]], options);
  checkShape(dys, { what: `${op} dy`, expected: [g.n, g.oh, g.ow, g.oc] });
  throwIfAborted(options.signal, op);
  const cols = depthwise ? depthwiseGradCols(g) : (g.kh * g.kw * g.c + 1) * g.oc;
  const splits = weightGradSplits(g, { cols, limits: gpu.limits });
  checkBindings(gpu, {
    operation: op,
    words: [
      ["input", storageWords(count(xs), precision)],
      ["output gradient", storageWords(count(dys), precision)],
      ["weight-gradient partials", splits * cols],
    ],
  });
  const wShape = [g.kh, g.kw, g.c, depthwise ? 1 : g.oc] as const;
  const dWeights = GpuStorage.allocate(gpu, count(wShape), { label: "prism conv2d dW" });
  const dBias = GpuStorage.allocate(gpu, g.oc, { label: "prism conv2d dBias" });
  await recordOrFree(gpu, [dWeights, dBias], async (temps) => {
    const x = await bind(gpu, input, { precision, what: `${op} input`, temps });
    const d = await bind(gpu, dy, { precision, what: `${op} dy`, temps });
    const partials = GpuStorage.allocate(gpu, splits * cols, { label: "prism conv2d partials" });
    temps.push(partials);
    if (g.n > 0) {
      const buffers = {
        x: words(x, count(xs), precision),
        dy: words(d, count(dys), precision),
        partials: { buffer: partials.buffer, size: splits * cols * 4 },
      };
      await record(gpu, passRuns("weight_grad", { g, splits, precision }, buffers));
    } else {
      gpu.encoder().clearBuffer(partials.buffer, 0, splits * cols * 4);
    }
    await finishWeightGrad(gpu, { partials, splits, cols, dWeights, dBias, temps });
  });
  return { dWeights: { storage: dWeights, shape: wShape, precision: "f32" }, dBias };
}

/**
 * The runs of a pass: the depthwise program for a depthwise geometry, else the GEMM, whose
 * input gradient runs once per stride phase.
 */
function passRuns(
  mode: ConvMode,
  shapes: ConvGemmShapes & DepthwiseShapes & { precision: ConvPrecision },
  buffers: Record<string, GPUBufferBinding>,
): ProgramRun[] {
  const { precision, ...rest } = shapes;
  const { g } = shapes;
  if (g.depthwise) {
    const program = depthwiseProgram(mode, precision);
    return [{ program, overrides: DEPTHWISE_OVERRIDES, shapes: rest, buffers }];
  }
  const program = conv2dProgram(mode, { precision, ...convGemmVectors(mode, g) });
  const overrides = convGemmOverrides(mode, g);
  if (mode !== "input_grad") return [{ program, overrides, shapes: rest, buffers }];
  const phases = Array.from(
    { length: g.stride * g.stride },
    (_, i) => [Math.floor(i / g.stride), i % g.stride] as const,
  );
  return phases.map((phase) => ({ program, overrides, shapes: { ...rest, phase }, buffers }));
}

/** The binding of `count` values of `storage` in `precision`. */
function words(storage: GpuStorage, values: number, precision: "f32" | "f16"): GPUBufferBinding {
  return { buffer: storage.buffer, size: Math.max(1, storageWords(values, precision)) * 4 };
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
