/**
 * Layer norm over the channels of each pixel (ConvNeXt's `LayerNorm` on NHWC), affine, and its
 * gradients. On WebGPU a thread per pixel computes the pixel's statistics, an elementwise pass
 * applies them, and the per-channel sums of `dγ` and `dβ` are f32 partial sums finished in
 * float64 on the CPU.
 *
 * @module
 */

import { operationOf } from "../core/operation.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { FAMILIES } from "./families.ts";
import {
  channelVector,
  checkEps,
  gpuOperand,
  gpuResult,
  imageShape,
  layerBackend,
  type LayerInput,
  type LayerRunOptions,
  type NormGradients,
  sameShape,
  wasmNormGradients,
  wasmValues,
} from "./_layer_io.ts";

/** Options of {@linkcode layerNorm}. */
export interface LayerNormOptions extends LayerRunOptions {
  /** The scale per channel. */
  gamma: Float32Array;
  /** The offset per channel. */
  beta: Float32Array;
  /** Added to each pixel's variance (ConvNeXt uses 1e-6). */
  eps: number;
}

/**
 * `(x − μ)/√(σ² + eps)·γ + β`, with `μ` and the biased `σ²` over the channels of each pixel.
 *
 * @param x NHWC `[n, h, w, c]`, plain or a device tensor (`auto` runs where it lives).
 * @param options `gamma`, `beta` (`c` values each), `eps`, `backend`, `signal`.
 * @returns The result, `x`'s shape, a device tensor the caller disposes.
 * @throws {TypeError} When `x` is not NHWC or a vector's length is not `c` (named).
 * @throws {RangeError} When `eps` is not a finite number above 0.
 * @throws {InvalidDataError} When `x`, `gamma` or `beta` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { layerNorm } from "./layer_norm.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 3]), shape: [1, 1, 1, 2] };
 * using y = await layerNorm(x, {
 *   gamma: new Float32Array([1, 1]), beta: new Float32Array([0, 5]), eps: 1e-12 });
 * assert.deepStrictEqual([...await y.read()], [-1, 6]);
 * ```
 */
export async function layerNorm(x: LayerInput, options: LayerNormOptions): Promise<DeviceTensor> {
  const op = operationOf(options, "layerNorm()");
  const shape = imageShape(x, "input", op);
  const C = shape[3];
  const gamma = channelVector(options?.gamma, C, "gamma", op);
  const beta = channelVector(options.beta, C, "beta", op);
  const eps = checkEps(options.eps, op);
  const backend = await layerBackend("layerNorm", options, { input: x }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "wasm") {
    const y = await FAMILIES.layerNorm.wasm.forward(await wasmValues(x), {
      ...run,
      channels: C,
      gamma,
      beta,
      eps,
    });
    return new DeviceTensor(y, shape);
  }
  const host = FAMILIES.layerNorm.webgpu;
  const a = gpuOperand(x);
  const stats = await host.stats({ a }, { ...run, eps });
  try {
    const p = new Float32Array(2 * C);
    p.set(gamma);
    p.set(beta, C);
    return gpuResult(await host.map("layer_norm", { a, p, stats }, run));
  } finally {
    stats.free();
  }
}

/** Options of {@linkcode layerNormBackward}. */
export interface LayerNormBackwardOptions extends LayerRunOptions {
  /** The gradient of the output, `x`'s shape. */
  dy: LayerInput;
  /** The forward's γ. */
  gamma: Float32Array;
  /** The forward's eps. */
  eps: number;
}

/** What {@linkcode layerNormBackward} returns. */
export type LayerNormGradients = NormGradients;

/**
 * The gradients of {@linkcode layerNorm}: with `g = dy·γ` per pixel,
 * `dx = (g − mean(g) − x̂·mean(g·x̂))/σ`; `dγ = Σ dy·x̂`, `dβ = Σ dy`.
 *
 * @param x The forward's input.
 * @param options `dy`, `gamma`, `eps`, `backend`, `signal`.
 * @returns `dInput` (a device tensor), `dGamma`, `dBeta`.
 * @throws {TypeError} When a shape or vector length disagrees (named).
 * @throws {RangeError} When `eps` is not a finite number above 0.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { layerNormBackward } from "./layer_norm.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 3]), shape: [1, 1, 1, 2] };
 * const dy = { data: new Float32Array([1, 1]), shape: [1, 1, 1, 2] };
 * const g = await layerNormBackward(x, { dy, gamma: new Float32Array([1, 1]), eps: 1e-12 });
 * assert.deepStrictEqual([...g.dBeta, ...g.dGamma], [1, 1, -1, 1]);
 * g.dInput.dispose();
 * ```
 */
export async function layerNormBackward(
  x: LayerInput,
  options: LayerNormBackwardOptions,
): Promise<LayerNormGradients> {
  const op = operationOf(options, "layerNormBackward()");
  const shape = imageShape(x, "input", op);
  sameShape(shape, imageShape(options?.dy, "dy", op), ["the input", "dy"], op);
  const C = shape[3];
  const gamma = channelVector(options.gamma, C, "gamma", op);
  const eps = checkEps(options.eps, op);
  const backend = await layerBackend("layerNorm", options, { input: x, dy: options.dy }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "wasm") {
    const g = await FAMILIES.layerNorm.wasm.grad(
      await wasmValues(x),
      await wasmValues(options.dy),
      { ...run, channels: C, gamma, eps },
    );
    return wasmNormGradients(g, shape);
  }
  const host = FAMILIES.layerNorm.webgpu;
  const a = gpuOperand(x);
  const b = gpuOperand(options.dy);
  const stats = await host.stats({ a, b, p: gamma }, { ...run, eps });
  try {
    const dInput = gpuResult(await host.map("layer_norm_grad", { a, b, p: gamma, stats }, run));
    try {
      const sums = await host.sums("layer_norm_grad_cols", { a, b, stats }, run);
      return {
        dInput,
        dGamma: Float32Array.from(sums.subarray(C)),
        dBeta: Float32Array.from(sums.subarray(0, C)),
      };
    } catch (e) {
      dInput.dispose();
      throw e;
    }
  } finally {
    stats.free();
  }
}
