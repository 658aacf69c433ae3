/**
 * The residual add of two NHWC tensors of one shape, on WASM or WebGPU.
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
  sameShape,
  wasmValues,
} from "./_layer_io.ts";

/**
 * `a + b` value by value (a residual connection).
 *
 * @param a NHWC `[n, h, w, c]`, plain or a device tensor (`auto` runs where the first device
 *   tensor lives; on WebGPU the result takes `a`'s precision).
 * @param b The same shape.
 * @param options `backend`, `signal`.
 * @returns The sum, a device tensor the caller disposes.
 * @throws {TypeError} When an operand is not NHWC or the shapes differ (both named).
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { add } from "./add.ts";
 * import assert from "node:assert";
 * const a = { data: new Float32Array([1, 2]), shape: [1, 1, 1, 2] };
 * using y = await add(a, a);
 * assert.deepStrictEqual([...await y.read()], [2, 4]);
 * ```
 */
export async function add(
  a: LayerInput,
  b: LayerInput,
  options: LayerRunOptions = {},
): Promise<DeviceTensor> {
  const op = operationOf(options, "add()");
  const shape = imageShape(a, "a", op);
  sameShape(shape, imageShape(b, "b", op), ["a", "b"], op);
  const backend = await layerBackend("elementwise", options, { a, b }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    return gpuResult(
      await FAMILIES.elementwise.webgpu.map("add", { a: gpuOperand(a), b: gpuOperand(b) }, {
        ...run,
        shape,
      }),
    );
  }
  const y = await FAMILIES.elementwise.wasm.add(await wasmValues(a), await wasmValues(b), run);
  return new DeviceTensor(y, shape);
}
