/**
 * Activations of NHWC tensors, ReLU and GELU (PyTorch's default exact erf form), and their
 * gradients, on WASM or WebGPU; results are device tensors where the work ran.
 *
 * @module
 */

import { operationOf } from "../core/operation.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { FAMILIES } from "./families.ts";
import {
  ACTIVATION_CODE,
  activationKind,
  gpuOperand,
  gpuResult,
  imageShape,
  layerBackend,
  type LayerInput,
  type LayerRunOptions,
  sameShape,
  wasmValues,
} from "./_layer_io.ts";

/** Options of {@linkcode activation}. */
export interface ActivationOptions extends LayerRunOptions {
  /** `"relu"` or `"gelu"` (`x·Φ(x)`, the exact erf form). */
  kind: "relu" | "gelu";
}

const KINDS = ["relu", "gelu"] as const;

/**
 * `act(x)` value by value.
 *
 * @param x NHWC `[n, h, w, c]`, plain or a device tensor (`auto` runs where it lives; an f16
 *   GPU tensor gives an f16 result).
 * @param options `kind`, `backend`, `signal`.
 * @returns The result, `x`'s shape, a device tensor the caller disposes.
 * @throws {TypeError} When `x` is not a non-empty NHWC tensor.
 * @throws {RangeError} When `kind` is not `"relu"` or `"gelu"`.
 * @throws {InvalidDataError} When `x` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { activation } from "./activation.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([-1, 2]), shape: [1, 1, 2, 1] };
 * using y = await activation(x, { kind: "relu" });
 * assert.deepStrictEqual([...await y.read()], [0, 2]);
 * ```
 */
export async function activation(x: LayerInput, options: ActivationOptions): Promise<DeviceTensor> {
  const op = operationOf(options, "activation()");
  const shape = imageShape(x, "input", op);
  const kind = activationKind(options?.kind, KINDS, op);
  const backend = await layerBackend("elementwise", options, { input: x }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    return gpuResult(
      await FAMILIES.elementwise.webgpu.map("activation", { a: gpuOperand(x) }, {
        ...run,
        shape,
        activation: ACTIVATION_CODE[kind],
      }),
    );
  }
  const y = await FAMILIES.elementwise.wasm.affine(await wasmValues(x), shape[3], {
    ...run,
    activation: kind,
  });
  return new DeviceTensor(y, shape);
}

/** Options of {@linkcode activationBackward}. */
export interface ActivationBackwardOptions extends ActivationOptions {
  /** The gradient of the activation's output, `x`'s shape. */
  dy: LayerInput;
}

/**
 * The gradient of an activation's input, `dy·act'(x)`.
 *
 * @param x The pre-activation values the forward took.
 * @param options `dy`, `kind`, `backend`, `signal`.
 * @returns `dx`, `x`'s shape, a device tensor the caller disposes.
 * @throws {TypeError} When `x` or `dy` is not NHWC or their shapes differ (both named).
 * @throws {RangeError} When `kind` is not `"relu"` or `"gelu"`.
 * @throws {InvalidDataError} When `x` or `dy` holds NaN or infinity.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { activationBackward } from "./activation.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([-1, 2]), shape: [1, 1, 2, 1] };
 * const dy = { data: new Float32Array([3, 3]), shape: [1, 1, 2, 1] };
 * using dx = await activationBackward(x, { dy, kind: "relu" });
 * assert.deepStrictEqual([...await dx.read()], [0, 3]);
 * ```
 */
export async function activationBackward(
  x: LayerInput,
  options: ActivationBackwardOptions,
): Promise<DeviceTensor> {
  const op = operationOf(options, "activationBackward()");
  const shape = imageShape(x, "input", op);
  sameShape(shape, imageShape(options?.dy, "dy", op), ["the input", "dy"], op);
  const kind = activationKind(options.kind, KINDS, op);
  const backend = await layerBackend("elementwise", options, { input: x, dy: options.dy }, op);
  const run = { operation: op, signal: options.signal };
  if (backend === "webgpu") {
    return gpuResult(
      await FAMILIES.elementwise.webgpu.map("activation_grad", {
        a: gpuOperand(x),
        b: gpuOperand(options.dy),
      }, { ...run, shape, activation: ACTIVATION_CODE[kind] }),
    );
  }
  const dx = await FAMILIES.elementwise.wasm.activationGrad(
    await wasmValues(x),
    await wasmValues(options.dy),
    { ...run, activation: kind },
  );
  return new DeviceTensor(dx, shape);
}
