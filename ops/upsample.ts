/**
 * Bilinear upsampling of NHWC tensors by 2 or 4 with PyTorch's `align_corners=False` (half-pixel
 * centres, clamped at the border), and its adjoint, the gradient of the input. On WebGPU the
 * gradient is a gather (each input value sums the outputs that read it), so no two threads add
 * into one value.
 *
 * @module
 */

import { operationOf } from "../core/operation.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { FAMILIES } from "./families.ts";
import {
  gpuOperand,
  gpuResult,
  imageShape,
  layerBackend,
  type LayerInput,
  type LayerRunOptions,
  type Nhwc,
  nhwcShape,
  sameShape,
  wasmValues,
} from "./_layer_io.ts";

/** Options of {@linkcode upsampleBilinear}. */
export interface UpsampleOptions extends LayerRunOptions {
  /** 2 or 4 on both axes. */
  scale: 2 | 4;
}

/**
 * Bilinear upsampling, `[n, h, w, c]` to `[n, h·scale, w·scale, c]`.
 *
 * @param x NHWC, plain or a device tensor (`auto` runs where it lives).
 * @param options `scale`, `backend`, `signal`.
 * @returns The upsampled tensor, a device tensor the caller disposes.
 * @throws {TypeError} When `x` is not a non-empty NHWC tensor.
 * @throws {RangeError} When `scale` is not 2 or 4.
 * @throws {InvalidDataError} When `x` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { upsampleBilinear } from "./upsample.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([0, 4]), shape: [1, 1, 2, 1] };
 * using y = await upsampleBilinear(x, { scale: 2 });
 * assert.deepStrictEqual(y.shape, [1, 2, 4, 1]);
 * assert.deepStrictEqual([...await y.read()], [0, 1, 3, 4, 0, 1, 3, 4]);
 * ```
 */
export async function upsampleBilinear(
  x: LayerInput,
  options: UpsampleOptions,
): Promise<DeviceTensor> {
  const op = operationOf(options, "upsampleBilinear()");
  const shape = imageShape(x, "input", op);
  const scale = checkScale(options?.scale, op);
  const out: Nhwc = [shape[0], shape[1] * scale, shape[2] * scale, shape[3]];
  const backend = await layerBackend("upsample", options, { input: x }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    return gpuResult(
      await FAMILIES.upsample.webgpu.map("upsample", { a: gpuOperand(x) }, {
        ...run,
        shape: out,
        scale,
      }),
    );
  }
  const y = await FAMILIES.upsample.wasm.resample(await wasmValues(x), { ...run, shape, scale });
  return new DeviceTensor(y, out);
}

/** Options of {@linkcode upsampleBilinearBackward}. */
export interface UpsampleBackwardOptions extends UpsampleOptions {
  /** The forward's input shape `[n, h, w, c]`. */
  inputShape: readonly number[];
}

/**
 * The gradient of {@linkcode upsampleBilinear}'s input from that of its output.
 *
 * @param dy `[n, h·scale, w·scale, c]`, plain or a device tensor.
 * @param options `scale`, `inputShape`, `backend`, `signal`.
 * @returns `dx` of shape `inputShape`, a device tensor the caller disposes.
 * @throws {TypeError} When `inputShape` is not NHWC or `dy`'s shape is not the upsampled one.
 * @throws {RangeError} When `scale` is not 2 or 4.
 * @throws {InvalidDataError} When `dy` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { upsampleBilinearBackward } from "./upsample.ts";
 * import assert from "node:assert";
 * const dy = { data: new Float32Array(4).fill(1), shape: [1, 2, 2, 1] };
 * using dx = await upsampleBilinearBackward(dy, { scale: 2, inputShape: [1, 1, 1, 1] });
 * assert.deepStrictEqual([...await dx.read()], [4]);
 * ```
 */
export async function upsampleBilinearBackward(
  dy: LayerInput,
  options: UpsampleBackwardOptions,
): Promise<DeviceTensor> {
  const op = operationOf(options, "upsampleBilinearBackward()");
  const scale = checkScale(options?.scale, op);
  const small = nhwcShape(options.inputShape, "inputShape", op);
  const want = [small[0], small[1] * scale, small[2] * scale, small[3]];
  sameShape(want, imageShape(dy, "dy", op), ["the upsampled input", "dy"], op);
  const backend = await layerBackend("upsample", options, { dy }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    return gpuResult(
      await FAMILIES.upsample.webgpu.map("upsample_grad", { a: gpuOperand(dy) }, {
        ...run,
        shape: small,
        scale,
      }),
    );
  }
  const dx = await FAMILIES.upsample.wasm.resample(await wasmValues(dy), {
    ...run,
    shape: small,
    scale,
    backward: true,
  });
  return new DeviceTensor(dx, small);
}

function checkScale(scale: unknown, op: string): 2 | 4 {
  if (scale !== 2 && scale !== 4) {
    throw new RangeError(`${op}: scale must be 2 or 4, got ${JSON.stringify(scale)}`);
  }
  return scale;
}
