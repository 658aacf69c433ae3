/**
 * A per-channel affine map with an optional activation, `act(x·scale[c] + shift[c])`: batch
 * norm at inference when it is not folded into the convolution before it.
 *
 * @module
 */

import { operationOf } from "../core/operation.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { FAMILIES } from "./families.ts";
import {
  ACTIVATION_CODE,
  activationKind,
  channelVector,
  gpuOperand,
  gpuResult,
  imageShape,
  layerBackend,
  type LayerInput,
  type LayerRunOptions,
  wasmValues,
} from "./_layer_io.ts";

/** Options of {@linkcode channelAffine}. */
export interface ChannelAffineOptions extends LayerRunOptions {
  /** One factor per channel. */
  scale: Float32Array;
  /** One offset per channel. */
  shift: Float32Array;
  /** `"none"` (default), `"relu"` or `"gelu"`. */
  activation?: "none" | "relu" | "gelu";
}

/**
 * `act(x·scale[c] + shift[c])` over an NHWC tensor.
 *
 * @param x NHWC `[n, h, w, c]`, plain or a device tensor (`auto` runs where it lives).
 * @param options `scale`, `shift` (`c` values each), `activation`, `backend`, `signal`.
 * @returns The result, `x`'s shape, a device tensor the caller disposes.
 * @throws {TypeError} When `x` is not NHWC or a vector's length is not `c` (named).
 * @throws {RangeError} When `activation` is unknown.
 * @throws {InvalidDataError} When `x`, `scale` or `shift` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { channelAffine } from "./channel_affine.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 1, 2, 2]), shape: [1, 1, 2, 2] };
 * using y = await channelAffine(x, {
 *   scale: new Float32Array([2, -1]),
 *   shift: new Float32Array([0, 1]),
 * });
 * assert.deepStrictEqual([...await y.read()], [2, 0, 4, -1]);
 * ```
 */
export async function channelAffine(
  x: LayerInput,
  options: ChannelAffineOptions,
): Promise<DeviceTensor> {
  const op = operationOf(options, "channelAffine()");
  const shape = imageShape(x, "input", op);
  const scale = channelVector(options?.scale, shape[3], "scale", op);
  const shift = channelVector(options.shift, shape[3], "shift", op);
  const act = activationKind(options.activation ?? "none", ["none", "relu", "gelu"], op);
  const backend = await layerBackend("elementwise", options, { input: x }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    const p = new Float32Array(2 * shape[3]);
    p.set(scale);
    p.set(shift, shape[3]);
    return gpuResult(
      await FAMILIES.elementwise.webgpu.map("affine", { a: gpuOperand(x), p }, {
        ...run,
        shape,
        activation: ACTIVATION_CODE[act],
      }),
    );
  }
  const y = await FAMILIES.elementwise.wasm.affine(await wasmValues(x), shape[3], {
    ...run,
    scale,
    shift,
    activation: act,
  });
  return new DeviceTensor(y, shape);
}
