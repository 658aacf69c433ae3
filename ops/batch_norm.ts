/**
 * Batch norm in training mode: each channel normalised by the mean and biased variance (÷N) of
 * the batch over n, h and w, then scaled by γ and shifted by β; and its gradients. The
 * statistics are float64 sums (WASM: float64 loops; WebGPU: f32 partial sums per block of
 * pixels, finished in float64 on the CPU), centred in a second pass so a large mean costs no
 * precision. At inference batch norm is folded into the convolution before it, or run as
 * `channelAffine()` (`./channel_affine.ts`).
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

/** Options of {@linkcode batchNorm}. */
export interface BatchNormOptions extends LayerRunOptions {
  /** The scale per channel (PyTorch's `weight`). */
  gamma: Float32Array;
  /** The offset per channel (PyTorch's `bias`). */
  beta: Float32Array;
  /** Added to the variance; PyTorch's default is 1e-5. */
  eps: number;
}

/** What {@linkcode batchNorm} returns. */
export interface BatchNormResult {
  /** The normalised tensor, the input's shape; dispose it. */
  readonly output: DeviceTensor;
  /** The batch mean per channel. */
  readonly mean: Float32Array;
  /** The biased batch variance per channel (÷N; PyTorch's running variance takes ÷(N−1)). */
  readonly variance: Float32Array;
}

/**
 * Batch norm with batch statistics, `(x − mean)/√(variance + eps)·γ + β` per channel.
 *
 * @param x NHWC `[n, h, w, c]`, plain or a device tensor (`auto` runs where it lives).
 * @param options `gamma`, `beta` (`c` values each), `eps`, `backend`, `signal`.
 * @returns `output` (a device tensor), `mean` and `variance`.
 * @throws {TypeError} When `x` is not NHWC or a vector's length is not `c` (named).
 * @throws {RangeError} When `eps` is not a finite number above 0.
 * @throws {InvalidDataError} When `x`, `gamma` or `beta` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { batchNorm } from "./batch_norm.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 3]), shape: [2, 1, 1, 1] };
 * const r = await batchNorm(x, {
 *   gamma: new Float32Array([2]), beta: new Float32Array([1]), eps: 1e-12 });
 * assert(r.mean[0] === 2 && r.variance[0] === 1);
 * assert.deepStrictEqual([...await r.output.read()], [-1, 3]);
 * r.output.dispose();
 * ```
 */
export async function batchNorm(
  x: LayerInput,
  options: BatchNormOptions,
): Promise<BatchNormResult> {
  const op = operationOf(options, "batchNorm()");
  const shape = imageShape(x, "input", op);
  const C = shape[3];
  const gamma = channelVector(options?.gamma, C, "gamma", op);
  const beta = channelVector(options.beta, C, "beta", op);
  const eps = checkEps(options.eps, op);
  const backend = await layerBackend("batchNorm", options, { input: x }, op);
  const run = { operation: op, signal: options.signal };
  const pixels = shape[0] * shape[1] * shape[2];
  let mean: Float64Array;
  let variance: Float64Array;
  if (backend === "webgpu") {
    const host = FAMILIES.batchNorm.webgpu;
    const a = gpuOperand(x);
    const sums = await host.sums("moments_cols", { a, p: new Float32Array(C) }, run);
    const centre = Float32Array.from(sums.subarray(0, C), (s) => s / pixels);
    // Second pass about the (rounded) mean: var = E[(x − m)²] − E[x − m]², both small.
    const dev = await host.sums("moments_cols", { a, p: centre }, run);
    mean = Float64Array.from(centre, (m, c) => m + dev[c] / pixels);
    variance = Float64Array.from(
      centre,
      (_, c) => Math.max(0, dev[C + c] / pixels - (dev[c] / pixels) ** 2),
    );
  } else {
    ({ mean, variance } = FAMILIES.batchNorm.wasm.moments(await wasmValues(x), C, run));
  }
  const scale = Float32Array.from(variance, (v, c) => gamma[c] / Math.sqrt(v + eps));
  const shift = Float32Array.from(mean, (m, c) => beta[c] - m * scale[c]);
  let output: DeviceTensor;
  if (backend === "webgpu") {
    const p = new Float32Array(2 * C);
    p.set(scale);
    p.set(shift, C);
    output = gpuResult(
      await FAMILIES.batchNorm.webgpu.map("affine", { a: gpuOperand(x), p }, { ...run, shape }),
    );
  } else {
    const y = await FAMILIES.batchNorm.wasm.affine(await wasmValues(x), C, {
      ...run,
      scale,
      shift,
    });
    output = new DeviceTensor(y, shape);
  }
  return { output, mean: Float32Array.from(mean), variance: Float32Array.from(variance) };
}

/** Options of {@linkcode batchNormBackward}. */
export interface BatchNormBackwardOptions extends LayerRunOptions {
  /** The gradient of the output, `x`'s shape. */
  dy: LayerInput;
  /** The forward's γ. */
  gamma: Float32Array;
  /** The forward's batch mean. */
  mean: Float32Array;
  /** The forward's biased batch variance. */
  variance: Float32Array;
  /** The forward's eps. */
  eps: number;
}

/** What {@linkcode batchNormBackward} returns. */
export type BatchNormGradients = NormGradients;

/**
 * The gradients of a training-mode batch norm (the statistics depend on the input):
 * `dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂))`, `dγ = Σ dy·x̂`, `dβ = Σ dy`.
 *
 * @param x The forward's input.
 * @param options `dy`, `gamma`, `mean`, `variance` (from the forward), `eps`, `backend`,
 *   `signal`.
 * @returns `dInput` (a device tensor), `dGamma`, `dBeta`.
 * @throws {TypeError} When a shape or vector length disagrees (named).
 * @throws {RangeError} When `eps` is out of range or a variance is negative.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { batchNorm, batchNormBackward } from "./batch_norm.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 3]), shape: [2, 1, 1, 1] };
 * const gamma = new Float32Array([1]);
 * const f = await batchNorm(x, { gamma, beta: new Float32Array([0]), eps: 1e-5 });
 * f.output.dispose();
 * const dy = { data: new Float32Array([1, 1]), shape: [2, 1, 1, 1] };
 * const g = await batchNormBackward(x, { dy, gamma, mean: f.mean, variance: f.variance,
 *   eps: 1e-5 });
 * assert(g.dBeta[0] === 2 && Math.abs(g.dGamma[0]) < 1e-6);
 * g.dInput.dispose();
 * ```
 */
export async function batchNormBackward(
  x: LayerInput,
  options: BatchNormBackwardOptions,
): Promise<BatchNormGradients> {
  const op = operationOf(options, "batchNormBackward()");
  const shape = imageShape(x, "input", op);
  sameShape(shape, imageShape(options?.dy, "dy", op), ["the input", "dy"], op);
  const C = shape[3];
  const gamma = channelVector(options.gamma, C, "gamma", op);
  const mean = channelVector(options.mean, C, "mean", op);
  const variance = channelVector(options.variance, C, "variance", op);
  if (variance.some((v) => v < 0)) {
    throw new RangeError(`${op}: a variance is negative; pass the forward's variance`);
  }
  const eps = checkEps(options.eps, op);
  const backend = await layerBackend("batchNorm", options, { input: x, dy: options.dy }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "wasm") {
    const g = await FAMILIES.batchNorm.wasm.grad(
      await wasmValues(x),
      await wasmValues(options.dy),
      { ...run, channels: C, gamma, mean, variance, eps },
    );
    return wasmNormGradients(g, shape);
  }
  const host = FAMILIES.batchNorm.webgpu;
  const a = gpuOperand(x);
  const b = gpuOperand(options.dy);
  const rstd = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const p = new Float32Array(5 * C);
  p.set(mean, C);
  p.set(rstd, 2 * C);
  const sums = await host.sums("batch_norm_grad_cols", { a, b, p: p.subarray(C, 3 * C) }, run);
  const pixels = shape[0] * shape[1] * shape[2];
  for (let c = 0; c < C; c++) {
    p[c] = gamma[c] * rstd[c];
    p[3 * C + c] = sums[c] / pixels;
    p[4 * C + c] = sums[C + c] / pixels;
  }
  const dInput = gpuResult(await host.map("batch_norm_grad", { a, b, p }, { ...run, shape }));
  return {
    dInput,
    dGamma: Float32Array.from(sums.subarray(C)),
    dBeta: Float32Array.from(sums.subarray(0, C)),
  };
}
