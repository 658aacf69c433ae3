/**
 * The checks the convolution hosts share: the geometry from the tensors' shapes (mismatches
 * named), options, and the bias.
 *
 * @module
 */

import { type ConvGeometry, convGeometry, type Padding } from "../core/conv_geometry.ts";
import type { GpuContext } from "./context.ts";
import type { ConvActivation, ConvPrecision } from "./programs/conv2d_common.ts";
import { GpuStorage } from "./storage.ts";
import { uploadVector } from "./upload.ts";

/** The options every convolution host shares. */
export interface ConvCallOptions {
  /** The user-facing operation, named in errors and when aborted. */
  operation: string;
  /** Cancels before recording. */
  signal?: AbortSignal;
  /** 1 or 2 on both axes; default 1. */
  stride?: number;
  /** `"valid"` (default), `"same"` (TensorFlow's rule) or `[top, bottom, left, right]`. */
  padding?: Padding;
  /** 1 (dense, default) or the channel count (depthwise, weights `[kh, kw, c, 1]`). */
  groups?: number;
  /** Storage of activations and weights; default `"f32"`. */
  precision?: ConvPrecision;
  /**
   * How f16 tensors are stored in the shaders: `"auto"` (default; native `f16` where the
   * device has `shader-f16`, else packed `u32` words), `"native"` or `"packed"`. The bytes are
   * the same either way; `convStats(gpu)` counts the passes of each.
   */
  f16Storage?: "auto" | "native" | "packed";
}

/**
 * The geometry of a call from the input's shape and the weights' shape, each mismatch named.
 *
 * @param input `[n, h, w, c]`.
 * @param weights `[kh, kw, c, oc]`, or `[kh, kw, c, 1]` when depthwise.
 * @param options `operation`, `stride`, `padding`, `groups`.
 * @returns The geometry.
 * @throws {TypeError} When the weights' input channels differ from the input's, a depthwise
 *   kernel is not `[kh, kw, c, 1]`, or a size is not whole.
 * @throws {RangeError} When a size is 0 where one is needed, the stride is not 1 or 2, or the
 *   kernel does not fit the padded input.
 * @example
 * ```ts
 * import { callGeometry } from "./_conv_checks.ts";
 * import assert from "node:assert";
 * const g = callGeometry([2, 5, 5, 3], [3, 3, 3, 8], { operation: "conv", padding: "same" });
 * assert(g.oh === 5 && g.oc === 8);
 * assert.throws(() => callGeometry([1, 5, 5, 3], [3, 3, 4, 8], { operation: "conv" }),
 *   /weights have 4 input channels but the input has 3/);
 * ```
 */
export function callGeometry(
  input: readonly number[],
  weights: readonly number[],
  options: ConvCallOptions,
): ConvGeometry {
  const op = options.operation;
  const [n, h, w, c] = input;
  const [kh, kw, wc, oc] = weights;
  if (c < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || oc < 1) {
    throw new RangeError(
      `${op}: input [${input.join(", ")}] and weights [${weights.join(", ")}] need every size ` +
        `but the batch to be at least 1`,
    );
  }
  if (wc !== c) {
    throw new TypeError(
      `${op}: the weights have ${wc} input channels but the input has ${c}; weights are HWIO ` +
        `[kh, kw, ${c}, out]`,
    );
  }
  const groups = options.groups ?? 1;
  if (groups !== 1 && oc !== 1) {
    throw new TypeError(
      `${op}: depthwise weights must be [kh, kw, ${c}, 1], got [${weights.join(", ")}]`,
    );
  }
  return convGeometry({
    input: [n, h, w, c],
    kernel: [kh, kw],
    outChannels: groups !== 1 ? c : oc,
    stride: options.stride,
    padding: options.padding,
    groups,
  });
}

/**
 * Checks that a tensor has the shape the geometry gives it.
 *
 * @param shape Its shape.
 * @param options `what`: its role, e.g. `"conv2d() dy"`; `expected`: the shape it must have.
 * @throws {TypeError} Naming both shapes.
 * @example
 * ```ts
 * import { checkShape } from "./_conv_checks.ts";
 * import assert from "node:assert";
 * assert.throws(() => checkShape([1, 2, 2, 3], { what: "dy", expected: [1, 3, 3, 3] }), /dy has shape \[1, 2, 2, 3\]/);
 * ```
 */
export function checkShape(
  shape: readonly number[],
  options: { what: string; expected: readonly number[] },
): void {
  const { what, expected } = options;
  if (shape.length !== expected.length || shape.some((v, i) => v !== expected[i])) {
    throw new TypeError(
      `${what} has shape [${shape.join(", ")}] but the convolution needs ` +
        `[${expected.join(", ")}]`,
    );
  }
}

/**
 * Checks the precision and activation options.
 *
 * @param options `precision`, `activation`, `operation`.
 * @returns Both, defaults filled in.
 * @throws {TypeError} When either is unknown.
 * @example
 * ```ts
 * import { checkModes } from "./_conv_checks.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(checkModes({ operation: "c" }), { precision: "f32", activation: "none" });
 * assert.throws(() => checkModes({ operation: "c", activation: "tanh" as "relu" }), /tanh/);
 * ```
 */
export function checkModes(
  options: { operation: string; precision?: ConvPrecision; activation?: ConvActivation },
): { precision: ConvPrecision; activation: ConvActivation } {
  const precision = options.precision ?? "f32";
  const activation = options.activation ?? "none";
  if (precision !== "f32" && precision !== "f16") {
    throw new TypeError(`${options.operation}: precision must be "f32" or "f16", got ${precision}`);
  }
  if (!["none", "relu", "gelu"].includes(activation)) {
    throw new TypeError(
      `${options.operation}: activation must be "none", "relu" or "gelu", got ${activation}`,
    );
  }
  return { precision, activation };
}

/**
 * The bias as a binding: a plain `Float32Array` uploaded, a `GpuStorage` bound in place, none
 * as one zero (a binding must exist; `hasBias` tells the shader to skip it).
 *
 * @param gpu The context.
 * @param bias The bias, `oc` f32 values, or undefined.
 * @param options `oc`, `operation`.
 * @returns The binding, whether it is a real bias, and the buffer to release after the submit
 *   (when made here).
 * @throws {TypeError} When the bias is not `oc` f32 values, or freed.
 * @example
 * ```ts
 * import { bindBias } from "./_conv_checks.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   assert.throws(() => bindBias(gpu, new Float32Array(2), { oc: 3, operation: "conv" }),
 *     /Float32Array of 3 values/);
 *   const none = bindBias(gpu, undefined, { oc: 3, operation: "conv" });
 *   assert(!none.hasBias && none.release !== undefined);
 *   gpu.releaseAfterSubmit(none.release);
 * }
 * await releaseGpu();
 * ```
 */
export function bindBias(
  gpu: GpuContext,
  bias: Float32Array | GpuStorage | undefined,
  options: { oc: number; operation: string },
): { binding: GPUBufferBinding; hasBias: boolean; release?: GPUBuffer } {
  const { oc, operation } = options;
  if (bias === undefined) {
    const zero = uploadVector(gpu, new Float32Array(1), "prism conv2d no bias");
    return { binding: zero, hasBias: false, release: zero.buffer };
  }
  if (bias instanceof GpuStorage) {
    if (bias.length !== oc || bias.freed || bias.context !== gpu) {
      throw new TypeError(
        `${operation}: the bias must be live GPU storage of ${oc} values on this device, got ` +
          `${bias.freed ? "freed storage" : `${bias.length} values`}`,
      );
    }
    return { binding: { buffer: bias.buffer, size: oc * 4 }, hasBias: true };
  }
  if (!(bias instanceof Float32Array) || bias.length !== oc) {
    throw new TypeError(
      `${operation}: the bias must be a Float32Array of ${oc} values (one per output channel)`,
    );
  }
  const uploaded = uploadVector(gpu, bias, "prism conv2d bias");
  return { binding: uploaded, hasBias: true, release: uploaded.buffer };
}
