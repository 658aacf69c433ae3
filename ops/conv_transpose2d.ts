/**
 * Transposed 2-D convolution with PyTorch's `ConvTranspose2d` semantics (symmetric padding `p`,
 * no output padding, output `(in − 1)·stride − 2p + k`), forward and backward, on the conv2d
 * kernels: a transposed convolution is the input gradient of the convolution with the same
 * kernel, stride and padding that maps its output back to its input, and its own input gradient
 * is that convolution's forward.
 *
 * Weights are `[kh, kw, in, out]` of the transposed layer (`in` its input channels), which is
 * PyTorch's `[in, out, kh, kw]` with the kernel axes moved first. The underlying convolution
 * maps `out` channels to `in`, so its HWIO weights are these with the last two axes swapped;
 * the kernel is not flipped (the adjoint's sum runs over the same taps).
 *
 * @module
 */

import { type ConvGeometry, convGeometry } from "../core/conv_geometry.ts";
import { operationOf } from "../core/operation.ts";
import type { Tensor } from "../core/types.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { checkFiniteValues } from "../wasm/layers.ts";
import type { Conv2dGradients } from "./conv2d.ts";
import { FAMILIES } from "./families.ts";
import { chooseBackend } from "./route.ts";
import {
  ACTIVATION_CODE,
  activationKind,
  channelVector,
  gpuOperand,
  imageShape,
  type LayerInput,
  type LayerRunOptions,
  type Nhwc,
  sameShape,
  wasmValues,
} from "./_layer_io.ts";

/** Options of {@linkcode convTranspose2d}. */
export interface ConvTranspose2dOptions extends LayerRunOptions {
  /** One value per output channel, added before the activation; default none. */
  bias?: Float32Array;
  /** 1 (default) or 2 on both axes. */
  stride?: number;
  /** PyTorch's `padding=p`: `p` rows and columns cropped from each side; default 0. */
  padding?: number;
  /** `"none"` (default), `"relu"` or `"gelu"` (exact erf form). */
  activation?: "none" | "relu" | "gelu";
  /** `"f32"` (default) or `"f16"` on WebGPU (f16 storage, f32 sums). */
  precision?: "f32" | "f16";
}

/**
 * `act(convTranspose(input, weights) + bias)`, NHWC in and out.
 *
 * @param input `[n, h, w, in]`, plain or a device tensor (`auto` runs where it lives).
 * @param weights `{ data, shape: [kh, kw, in, out] }`.
 * @param options `bias`, `stride`, `padding`, `activation`, `precision`, `backend`, `signal`.
 * @returns `[n, (h − 1)·s − 2p + kh, (w − 1)·s − 2p + kw, out]`, a device tensor the caller
 *   disposes.
 * @throws {TypeError} When a shape disagrees (the input, weights or bias is named), or the
 *   padding is not one number.
 * @throws {RangeError} When stride, padding, activation or precision is out of range, or the
 *   output would be empty.
 * @throws {InvalidDataError} When the input, weights or bias hold NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { convTranspose2d } from "./conv_transpose2d.ts";
 * import assert from "node:assert";
 * // k2 s2: each input pixel becomes a 2x2 block of itself times the kernel.
 * const x = { data: new Float32Array([1, 10]), shape: [1, 1, 2, 1] };
 * const w = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1, 1] };
 * using y = await convTranspose2d(x, w, { stride: 2 });
 * assert.deepStrictEqual([...await y.read()], [1, 2, 10, 20, 3, 4, 30, 40]);
 * ```
 */
export async function convTranspose2d(
  input: LayerInput,
  weights: Tensor,
  options: ConvTranspose2dOptions = {},
): Promise<DeviceTensor> {
  const op = operationOf(options, "convTranspose2d()");
  const t = transposedGeometry(input, weights, options, op);
  const bias = options.bias === undefined
    ? undefined
    : channelVector(options.bias, t.out[3], "bias", op);
  const act = activationKind(options.activation ?? "none", ["none", "relu", "gelu"], op);
  const precision = options.precision ?? "f32";
  const backend = await route(input, t.g, options, 1);
  if (precision !== "f32" && (precision !== "f16" || backend !== "webgpu")) {
    throw new RangeError(
      `${op}: precision must be "f32", or "f16" on WebGPU (pass backend "webgpu"); got ` +
        `${JSON.stringify(precision)} on ${backend}`,
    );
  }
  const run = { operation: op, signal: options.signal };
  if (backend === "wasm") {
    const y = await FAMILIES.convTranspose2d.wasm.forward(t.g, {
      dy: await wasmValues(input),
      weights: t.convWeights,
      bias,
    }, { ...run, activation: act });
    return new DeviceTensor(y, t.out);
  }
  checkPlain(input, "input", op);
  const y = await FAMILIES.convTranspose2d.webgpu.forward(
    gpuOperand(input),
    { data: t.convWeights, shape: [t.g.kh, t.g.kw, t.g.c, t.g.oc] },
    { ...run, ...convOptions(t.g), inputShape: t.out, precision },
  );
  if (bias === undefined && act === "none") {
    return new DeviceTensor(y.storage, t.out, y.precision);
  }
  // The conv kernels' input-gradient pass has no epilogue: bias and activation are one more
  // elementwise pass.
  try {
    const p = new Float32Array(2 * t.out[3]).fill(1);
    p.fill(0, t.out[3]);
    if (bias) p.set(bias, t.out[3]);
    const z = await FAMILIES.convTranspose2d.webgpu.map("affine", { a: y, p }, {
      ...run,
      shape: t.out,
      activation: ACTIVATION_CODE[act],
    });
    return new DeviceTensor(z.storage, t.out, z.precision);
  } finally {
    y.storage.free();
  }
}

/** Options of {@linkcode convTranspose2dBackward}. */
export interface ConvTranspose2dBackwardOptions
  extends Pick<ConvTranspose2dOptions, "stride" | "padding" | "backend" | "signal"> {
  /** The gradient of the output (before any activation), `[n, oh, ow, out]`. */
  dy: LayerInput;
}

/**
 * The gradients of a transposed convolution (without its activation: pass the gradient of the
 * pre-activation output) with respect to its input, weights and bias.
 *
 * @param input The forward's input `[n, h, w, in]`.
 * @param weights The forward's weights `[kh, kw, in, out]`.
 * @param options `dy`, and the forward's `stride`, `padding`, `backend`, `signal`.
 * @returns `dInput` (a device tensor; dispose it), `dWeights` (`[kh, kw, in, out]`), `dBias`.
 * @throws {TypeError} When a shape disagrees with the forward's geometry (named).
 * @throws {RangeError} When stride or padding is out of range.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { convTranspose2dBackward } from "./conv_transpose2d.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([2]), shape: [1, 1, 1, 1] };
 * const w = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1, 1] };
 * const dy = { data: new Float32Array([1, 1, 1, 1]), shape: [1, 2, 2, 1] };
 * const g = await convTranspose2dBackward(x, w, { dy, stride: 2 });
 * assert.deepStrictEqual([...await g.dInput.read()], [10]);
 * assert.deepStrictEqual([...g.dWeights, ...g.dBias], [2, 2, 2, 2, 4]);
 * g.dInput.dispose();
 * ```
 */
export async function convTranspose2dBackward(
  input: LayerInput,
  weights: Tensor,
  options: ConvTranspose2dBackwardOptions,
): Promise<Conv2dGradients> {
  const op = operationOf(options, "convTranspose2dBackward()");
  const t = transposedGeometry(input, weights, options ?? {}, op);
  sameShape(t.out, imageShape(options.dy, "dy", op), ["the output", "dy"], op);
  const backend = await route(input, t.g, options, 2);
  const run = { operation: op, signal: options.signal };
  const inputShape = [t.g.n, t.g.oh, t.g.ow, t.g.oc] as Nhwc;
  if (backend === "wasm") {
    const x = await wasmValues(input);
    const dy = await wasmValues(options.dy);
    const host = FAMILIES.convTranspose2d.wasm;
    const dx = await host.inputGrad(t.g, { input: dy, weights: t.convWeights }, run);
    try {
      // The convolution's input is dy and its output gradient x; its "bias gradient" (Σx) is
      // not this layer's: that is Σdy per output channel.
      using grads = await host.weightGrad(t.g, { input: dy, dy: x }, run);
      const dBias = new Float64Array(t.out[3]);
      for (let i = 0; i < dy.length; i++) dBias[i % dBias.length] += dy[i];
      return {
        dInput: new DeviceTensor(dx, inputShape),
        dWeights: swapLastAxes(grads.dWeights.view(), t.g, false),
        dBias: Float32Array.from(dBias),
      };
    } catch (e) {
      dx.free();
      throw e;
    }
  }
  checkPlain(input, "input", op);
  checkPlain(options.dy, "dy", op);
  const host = FAMILIES.convTranspose2d.webgpu;
  const x = gpuOperand(input);
  const dy = gpuOperand(options.dy);
  const common = { ...run, ...convOptions(t.g) };
  const w = { data: t.convWeights, shape: [t.g.kh, t.g.kw, t.g.c, t.g.oc] };
  const dx = await host.inputGrad(dy, w, common);
  try {
    const grads = await host.weightGrad(x, dy, { ...common, kernel: [t.g.kh, t.g.kw] });
    grads.dBias.free();
    let dw: Float32Array;
    try {
      dw = await grads.dWeights.storage.read();
    } finally {
      grads.dWeights.storage.free();
    }
    const c = t.out[3];
    const sums = await host.sums("moments_cols", { a: dy, p: new Float32Array(c) }, run);
    return {
      dInput: new DeviceTensor(dx.storage, inputShape),
      dWeights: swapLastAxes(dw, t.g, false),
      dBias: Float32Array.from(sums.subarray(0, c)),
    };
  } catch (e) {
    dx.storage.free();
    throw e;
  }
}

/** The geometry of a transposed call: the underlying convolution's, and the output's shape. */
interface TransposedGeometry {
  /** The convolution whose input gradient is this layer's forward. */
  readonly g: ConvGeometry;
  /** This layer's output `[n, oh, ow, out]`. */
  readonly out: Nhwc;
  /** That convolution's HWIO weights `[kh, kw, out, in]`. */
  readonly convWeights: Float32Array;
}

function transposedGeometry(
  input: LayerInput,
  weights: Tensor,
  options: Pick<ConvTranspose2dOptions, "stride" | "padding">,
  op: string,
): TransposedGeometry {
  const [n, h, w, c] = imageShape(input, "input", op);
  const ws = weights?.shape;
  if (!Array.isArray(ws) || ws.length !== 4 || !(weights.data instanceof Float32Array)) {
    throw new TypeError(
      `${op}: weights must be { data: Float32Array, shape: [kh, kw, in, out] }`,
    );
  }
  const [kh, kw, wi, wo] = ws;
  if (wi !== c) {
    throw new TypeError(
      `${op}: the weights take ${wi} input channels but the input has ${c}; a transposed ` +
        `convolution's weights are [kh, kw, in, out] (PyTorch's [in, out, kh, kw] with the ` +
        `kernel axes first)`,
    );
  }
  if (weights.data.length !== kh * kw * wi * wo) {
    throw new TypeError(
      `${op}: weights of shape [${ws.join(", ")}] need ${kh * kw * wi * wo} values, got ` +
        `${weights.data.length}`,
    );
  }
  checkFiniteValues(op, "weights", weights.data, wo);
  const stride = options.stride ?? 1;
  if (stride !== 1 && stride !== 2) {
    throw new RangeError(`${op}: stride must be 1 or 2, got ${JSON.stringify(stride)}`);
  }
  const p = options.padding ?? 0;
  if (typeof p !== "number") {
    throw new TypeError(
      `${op}: padding must be one number p (PyTorch's padding=p, cropped from every side); ` +
        `asymmetric padding is not supported, got ${JSON.stringify(p)}`,
    );
  }
  if (!Number.isInteger(p) || p < 0) {
    throw new RangeError(`${op}: padding must be a whole number >= 0, got ${p}`);
  }
  const oh = (h - 1) * stride - 2 * p + kh;
  const ow = (w - 1) * stride - 2 * p + kw;
  if (oh < 1 || ow < 1) {
    throw new RangeError(
      `${op}: the output would be ${oh}x${ow} ((in − 1)·stride − 2·padding + k); use less ` +
        `padding or a larger input`,
    );
  }
  const g = convGeometry({
    input: [n, oh, ow, wo],
    kernel: [kh, kw],
    outChannels: c,
    stride,
    padding: [p, p, p, p],
  });
  const out: Nhwc = [n, oh, ow, wo];
  return { g, out, convWeights: swapLastAxes(weights.data, g, true) };
}

/**
 * Swaps the last two axes of `[kh, kw, a, b]` values: `toConv` maps the layer's
 * `[kh, kw, in, out]` to the convolution's `[kh, kw, out, in]`, else back.
 */
function swapLastAxes(data: Float32Array, g: ConvGeometry, toConv: boolean): Float32Array {
  // The convolution's g.c is the layer's out, g.oc its in.
  const [a, b] = toConv ? [g.oc, g.c] : [g.c, g.oc];
  const out = new Float32Array(data.length);
  for (let k = 0; k < g.kh * g.kw; k++) {
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) out[(k * b + j) * a + i] = data[(k * a + i) * b + j];
    }
  }
  return out;
}

function convOptions(g: ConvGeometry) {
  return { stride: g.stride, padding: [g.padTop, g.padBottom, g.padLeft, g.padRight] as const };
}

async function route(
  input: LayerInput,
  g: ConvGeometry,
  options: LayerRunOptions,
  passes: number,
): Promise<"wasm" | "webgpu"> {
  const r = await chooseBackend("convTranspose2d", {
    backend: options.backend,
    work: passes * g.n * g.oh * g.ow * g.oc * g.kh * g.kw * g.c,
    lives: input instanceof DeviceTensor ? input.backend : undefined,
  });
  return r.backend;
}

/** The GPU kernels do not check values: plain operands are checked here. */
function checkPlain(x: LayerInput, what: string, op: string): void {
  if (!(x instanceof DeviceTensor)) checkFiniteValues(op, what, x.data, x.shape[3]);
}
