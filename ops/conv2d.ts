/**
 * 2-D convolution over NHWC images with HWIO weights, on WASM SIMD (an indirect GEMM over every
 * pool worker) or WebGPU (an implicit GEMM, f32 or f16 storage), forward and backward. Results
 * are device tensors, so a network's layers stay on the backend that runs them.
 *
 * @module
 */

import { type ConvGeometry, convGeometry, type Padding } from "../core/conv_geometry.ts";
import { operationOf } from "../core/operation.ts";
import type { RunOptions, Tensor } from "../core/types.ts";
import { assertFinite } from "../core/validate.ts";
import type { GpuConvTensor } from "../gpu/_conv_tensor.ts";
import { GpuStorage } from "../gpu/storage.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import type { ConvWeights } from "../wasm/conv_weights.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { FAMILIES } from "./families.ts";
import { wasmConv2dInputGrad } from "./_conv_input_grad.ts";
import { chooseBackend } from "./route.ts";
import { PreparedConv2dWeights, wasmWeightsOf } from "./conv2d_weights.ts";

export {
  type PrepareConv2dOptions,
  prepareConv2dWeights,
  PreparedConv2dWeights,
} from "./conv2d_weights.ts";

/** An image batch NHWC `[n, h, w, c]`: plain `{ data, shape }` or a device tensor. */
export type ImageLike = Tensor | DeviceTensor;

/** Options of {@linkcode conv2d}. */
export interface Conv2dOptions extends Pick<RunOptions, "backend" | "signal"> {
  /** One value per output channel, added before the activation; default none. */
  bias?: Float32Array;
  /** 1 or 2 on both axes; default 1. */
  stride?: number;
  /** `"valid"` (default), `"same"` (TensorFlow's rule) or `[top, bottom, left, right]`. */
  padding?: Padding;
  /** 1 (dense, default) or the input channel count (depthwise, weights `[kh, kw, c, 1]`). */
  groups?: number;
  /** `"none"` (default), `"relu"` or `"gelu"` (the exact erf form, PyTorch's default). */
  activation?: "none" | "relu" | "gelu";
  /**
   * `"f32"` (default), or `"f16"` on WebGPU: f16 storage and products, f32 sums; the result is
   * an f16 tensor (`read()` widens it).
   */
  precision?: "f32" | "f16";
}

/**
 * `activation(conv(input, weights) + bias)`: a 2-D convolution, NHWC in and out.
 *
 * @param input `[n, h, w, c]`, plain or a device tensor (`auto` runs where it lives).
 * @param weights `{ data, shape: [kh, kw, c, oc] }` (depthwise `[kh, kw, c, 1]`), or those
 *   weights prepared once by `prepareConv2dWeights()` (WASM then packs them once, not per call).
 * @param options `bias`, `stride`, `padding`, `groups`, `activation`, `precision`, `backend`,
 *   `signal`.
 * @returns `[n, oh, ow, oc]` as a device tensor on the backend that ran; the caller disposes it.
 * @throws {TypeError} When a shape disagrees (the message names the input, weights or bias).
 * @throws {RangeError} When stride, padding or precision is out of range, or the kernel does not
 *   fit the padded input, or a buffer passes the backend's limits (named).
 * @throws {InvalidDataError} When the input, weights or bias hold NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @throws {TypeError} When prepared weights were disposed.
 * @example
 * ```ts
 * import { conv2d } from "./conv2d.ts";
 * import assert from "node:assert";
 * const input = { data: new Float32Array(9).fill(1), shape: [1, 3, 3, 1] };
 * const weights = { data: new Float32Array(9).fill(1), shape: [3, 3, 1, 1] };
 * using y = await conv2d(input, weights, {
 *   padding: "same",
 *   bias: new Float32Array([-5]),
 *   activation: "relu",
 * });
 * assert.deepStrictEqual([...await y.read()], [0, 1, 0, 1, 4, 1, 0, 1, 0]);
 * ```
 */
export async function conv2d(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Conv2dOptions = {},
): Promise<DeviceTensor> {
  const operation = operationOf(options, "conv2d()");
  const g = geometryOf(input, weights, options, operation);
  const precision = options.precision ?? "f32";
  const route = await chooseBackend("conv2d", {
    backend: options.backend,
    work: convWork(g),
    lives: input instanceof DeviceTensor ? input.backend : undefined,
  });
  checkPrecision(precision, route.backend, operation);
  const shape = [g.n, g.oh, g.ow, g.oc];
  if (route.backend === "webgpu") {
    checkFinite({ input, weights, bias: options.bias }, operation);
    const y = await FAMILIES.conv2d.webgpu.forward(gpuImage(input, operation), weights, {
      ...options,
      precision,
      operation,
    });
    return new DeviceTensor(y.storage, shape, y.precision);
  }
  const y = await FAMILIES.conv2d.wasm.forward(g, {
    input: await wasmImage(input),
    weights: await wasmWeights(weights, g, false),
    bias: options.bias,
  }, { activation: options.activation, signal: options.signal, operation });
  return new DeviceTensor(y, shape);
}

/** What {@linkcode conv2dBackward} returns. */
export interface Conv2dGradients {
  /** The gradient of the input, `[n, h, w, c]`, a device tensor where the work ran. */
  readonly dInput: DeviceTensor;
  /** The gradient of the weights, the weights' shape, float32. */
  readonly dWeights: Float32Array;
  /** The gradient of the bias, `oc` values, float32 (float64 sums on WASM). */
  readonly dBias: Float32Array;
}

/** Options of {@linkcode conv2dBackward}. */
export type Conv2dBackwardOptions = Omit<Conv2dOptions, "bias" | "activation" | "precision"> & {
  /** The gradient of the convolution's output, `[n, oh, ow, oc]`. */
  dy: ImageLike;
  /**
   * `false` skips the input's gradient (a network's first layer needs none; it is about a third
   * of the work) and leaves `dInput` out of the result; default true.
   */
  inputGradient?: boolean;
  /**
   * Arrays to write `dWeights` and `dBias` into (the weights' and `oc` lengths) instead of new
   * ones, which the result then holds: a training loop reuses its gradient buffers rather than
   * allocating them every step.
   */
  into?: { dWeights: Float32Array; dBias: Float32Array };
};

/**
 * The gradients of a convolution (without its activation: pass the gradient of the
 * pre-activation output) with respect to its input, weights and bias.
 *
 * @param input The forward's input `[n, h, w, c]`.
 * @param weights The forward's weights, plain or prepared (`prepareConv2dWeights()`).
 * @param options `dy` (`[n, oh, ow, oc]`, plain or a device tensor), and the forward's `stride`,
 *   `padding`, `groups`, `backend`, `signal`; `inputGradient: false` to skip `dInput`.
 * @returns `dInput` (a device tensor; dispose it; absent with `inputGradient: false`),
 *   `dWeights`, `dBias`.
 * @throws {TypeError} When a shape disagrees with the forward's geometry (named).
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @example
 * ```ts
 * import { conv2dBackward } from "./conv2d.ts";
 * import assert from "node:assert";
 * // 1x1 conv on two pixels: dW = Σ x·dy, dB = Σ dy, dX = dy·w.
 * const input = { data: new Float32Array([3, 4]), shape: [1, 1, 2, 1] };
 * const weights = { data: new Float32Array([2]), shape: [1, 1, 1, 1] };
 * const dy = { data: new Float32Array([1, 2]), shape: [1, 1, 2, 1] };
 * const g = await conv2dBackward(input, weights, { dy });
 * assert(g.dWeights[0] === 11 && g.dBias[0] === 3);
 * assert.deepStrictEqual([...await g.dInput.read()], [2, 4]);
 * g.dInput.dispose();
 * // A first layer's weights: no input gradient, written into arrays kept across steps.
 * const into = { dWeights: new Float32Array(1), dBias: new Float32Array(1) };
 * const p = await conv2dBackward(input, weights, { dy, inputGradient: false, into });
 * assert(p.dWeights === into.dWeights && into.dWeights[0] === 11 && !("dInput" in p));
 * ```
 */
export async function conv2dBackward(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Conv2dBackwardOptions & { inputGradient?: true },
): Promise<Conv2dGradients>;
/**
 * {@linkcode conv2dBackward} with `inputGradient: false`: the weights' and bias' gradients only.
 *
 * @param input The forward's input `[n, h, w, c]`.
 * @param weights The forward's weights.
 * @param options As for the full call, with `inputGradient: false`.
 * @returns `dWeights` and `dBias`.
 * @throws {TypeError} When a shape disagrees with the forward's geometry (named).
 */
export async function conv2dBackward(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Conv2dBackwardOptions & { inputGradient: false },
): Promise<Omit<Conv2dGradients, "dInput">>;
/**
 * {@linkcode conv2dBackward} with `inputGradient` known only when it runs.
 *
 * @param input The forward's input `[n, h, w, c]`.
 * @param weights The forward's weights.
 * @param options As for the full call.
 * @returns `dWeights`, `dBias`, and `dInput` unless `inputGradient` is false.
 * @throws {TypeError} When a shape disagrees with the forward's geometry (named).
 */
export async function conv2dBackward(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Conv2dBackwardOptions,
): Promise<Omit<Conv2dGradients, "dInput"> & { dInput?: DeviceTensor }>;
export async function conv2dBackward(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Conv2dBackwardOptions,
): Promise<Omit<Conv2dGradients, "dInput"> & { dInput?: DeviceTensor }> {
  const operation = operationOf(options, "conv2dBackward()");
  const g = geometryOf(input, weights, options, operation);
  const dyShape = shapeOfImage(options.dy, "dy");
  const want = [g.n, g.oh, g.ow, g.oc];
  if (dyShape.some((d, i) => d !== want[i])) {
    throw new TypeError(
      `${operation}: dy has shape [${dyShape.join(", ")}] but the convolution's output is ` +
        `[${want.join(", ")}]`,
    );
  }
  const route = await chooseBackend("conv2d", {
    backend: options.backend,
    work: 2 * convWork(g),
    lives: input instanceof DeviceTensor ? input.backend : undefined,
  });
  const inputShape = [g.n, g.h, g.w, g.c] as const;
  const wantInput = options.inputGradient ?? true;
  const into = options.into;
  if (
    into !== undefined && (!(into.dWeights instanceof Float32Array) ||
      !(into.dBias instanceof Float32Array) || into.dWeights.length !== weights.data.length ||
      into.dBias.length !== g.oc)
  ) {
    throw new TypeError(
      `${operation}: into must hold a Float32Array dWeights of ${weights.data.length} values ` +
        `and dBias of ${g.oc}, got ${into.dWeights?.length} and ${into.dBias?.length}`,
    );
  }
  if (route.backend === "webgpu") {
    checkFinite({ input, weights, dy: options.dy }, operation);
    const x = gpuImage(input, operation);
    const dy = gpuImage(options.dy, operation);
    const common = { ...options, operation };
    const dx = wantInput
      ? await FAMILIES.conv2d.webgpu.inputGrad(dy, weights, { ...common, inputShape })
      : undefined;
    const { dWeights, dBias } = await FAMILIES.conv2d.webgpu.weightGrad(dy, x, {
      ...common,
      kernel: [g.kh, g.kw],
    });
    try {
      const [dw, db] = await Promise.all([dWeights.storage.read(), dBias.read()]);
      into?.dWeights.set(dw);
      into?.dBias.set(db);
      const grads = { dWeights: into?.dWeights ?? dw, dBias: into?.dBias ?? db };
      if (dx === undefined) return grads;
      return { dInput: new DeviceTensor(dx.storage, inputShape), ...grads };
    } finally {
      dWeights.storage.free();
      dBias.free();
    }
  }
  const x = await wasmImage(input);
  const dy = await wasmImage(options.dy);
  const run = { signal: options.signal, operation };
  const dx = wantInput
    ? await wasmConv2dInputGrad(g, {
      dy,
      weights: weights.data,
      packed: () => wasmWeights(weights, g, true),
    }, run)
    : undefined;
  try {
    using grads = await FAMILIES.conv2d.wasm.weightGrad(g, { input: x, dy }, run);
    // Copied from kernel memory into the caller's arrays, or new ones.
    const dWeights = into?.dWeights ?? new Float32Array(grads.dWeights.length);
    const dBias = into?.dBias ?? new Float32Array(grads.dBias.length);
    dWeights.set(grads.dWeights.view());
    dBias.set(grads.dBias.view());
    if (dx === undefined) return { dWeights, dBias };
    return { dInput: new DeviceTensor(dx, inputShape), dWeights, dBias };
  } catch (e) {
    dx?.free();
    throw e;
  }
}

/** The weights as the WASM host takes them: packed panels when prepared, else the values. */
async function wasmWeights(
  weights: Tensor | PreparedConv2dWeights,
  g: ConvGeometry,
  transposed: boolean,
): Promise<Float32Array | ConvWeights> {
  return weights instanceof PreparedConv2dWeights
    ? await wasmWeightsOf(weights, g, transposed)
    : weights.data;
}

/** Multiply-adds of one forward pass, the family's work unit. */
function convWork(g: ConvGeometry): number {
  return g.n * g.oh * g.ow * g.oc * g.kh * g.kw * (g.depthwise ? 1 : g.c);
}

/** The geometry of a call, with every shape mismatch named. */
function geometryOf(
  input: ImageLike,
  weights: Tensor | PreparedConv2dWeights,
  options: Pick<Conv2dOptions, "stride" | "padding" | "groups" | "bias">,
  operation: string,
): ConvGeometry {
  const [n, h, w, c] = shapeOfImage(input, "input");
  const ws = weights?.shape;
  if (!Array.isArray(ws) || ws.length !== 4 || !(weights.data instanceof Float32Array)) {
    throw new TypeError(
      `${operation}: weights must be { data: Float32Array, shape: [kh, kw, c, oc] }`,
    );
  }
  const [kh, kw, wc, wo] = ws;
  if (wc !== c) {
    throw new TypeError(
      `${operation}: the weights take ${wc} input channels but the input has ${c}; weights ` +
        `are HWIO [kh, kw, in, out]`,
    );
  }
  const prepared = weights instanceof PreparedConv2dWeights ? weights.groups : undefined;
  if (prepared !== undefined && options.groups !== undefined && options.groups !== prepared) {
    throw new TypeError(
      `${operation}: the weights were prepared with groups ${prepared} but the call passes ` +
        `groups ${options.groups}; prepare them with the call's groups`,
    );
  }
  const groups = options.groups ?? prepared;
  const depthwise = (groups ?? 1) !== 1;
  if (depthwise && wo !== 1) {
    throw new TypeError(
      `${operation}: depthwise weights are [kh, kw, c, 1], got [${ws.join(", ")}]`,
    );
  }
  if (weights.data.length !== kh * kw * wc * wo) {
    throw new TypeError(
      `${operation}: weights of shape [${ws.join(", ")}] need ${kh * kw * wc * wo} values, got ` +
        `${weights.data.length}`,
    );
  }
  const g = convGeometry({
    input: [n, h, w, c],
    kernel: [kh, kw],
    outChannels: depthwise ? c : wo,
    stride: options.stride,
    padding: options.padding,
    groups,
  });
  if (options.bias !== undefined && options.bias.length !== g.oc) {
    throw new TypeError(
      `${operation}: bias has ${options.bias.length} values but the convolution has ${g.oc} ` +
        `output channels`,
    );
  }
  return g;
}

/** The NHWC shape of an image, checked. */
function shapeOfImage(image: ImageLike, what: string): number[] {
  const shape = image instanceof DeviceTensor ? [...image.shape] : image?.shape;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new TypeError(`${what} must be NHWC [n, h, w, c], got shape ${JSON.stringify(shape)}`);
  }
  if (!(image instanceof DeviceTensor)) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(image.data instanceof Float32Array) || image.data.length !== size) {
      throw new TypeError(`${what} of shape [${shape.join(", ")}] needs a Float32Array of ${size}`);
    }
  }
  return shape as number[];
}

/** f16 runs on WebGPU only. */
function checkPrecision(precision: string, backend: "wasm" | "webgpu", operation: string): void {
  if (precision !== "f32" && precision !== "f16") {
    throw new RangeError(`${operation}: precision must be "f32" or "f16", got ${precision}`);
  }
  if (precision === "f16" && backend !== "webgpu") {
    throw new RangeError(
      `${operation}: precision "f16" runs on WebGPU only; pass backend "webgpu" or drop it`,
    );
  }
}

/** The GPU programs do not check values: plain operands are checked here (tensors cannot be). */
function checkFinite(operands: Record<string, ImageLike | Float32Array | undefined>, op: string) {
  for (const [what, v] of Object.entries(operands)) {
    const data = v instanceof Float32Array ? v : v instanceof DeviceTensor ? undefined : v?.data;
    if (data !== undefined) assertFinite(data, Math.max(1, data.length), `${op} ${what}`, "index");
  }
}

/** An image as the WASM host takes it: plain values, or a kernel-memory view read in place. */
async function wasmImage(image: ImageLike): Promise<Float32Array> {
  if (!(image instanceof DeviceTensor)) return image.data;
  const storage = image.storage;
  return storage instanceof WasmStorage ? storage.view() : await image.read();
}

/** An image as the GPU host takes it: plain (uploaded by the host) or bound in place. */
function gpuImage(image: ImageLike, operation: string): Tensor | GpuConvTensor {
  if (!(image instanceof DeviceTensor)) return image;
  const storage = image.storage;
  const shape = image.shape as unknown as [number, number, number, number];
  if (storage instanceof GpuStorage) return { storage, shape, precision: image.dtype };
  if (storage instanceof WasmStorage) return { data: storage.view(), shape };
  throw new TypeError(`${operation}: unknown tensor storage`);
}
