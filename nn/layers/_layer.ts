/**
 * What every layer of a {@linkcode ConvNet} provides: its parameters, its output shape, a forward
 * pass (keeping what its backward pass needs when training) and a backward pass.
 *
 * @module
 */

import type { DeviceTensor } from "../../tensor/device_tensor.ts";
import type { ImageLike } from "./_ops.ts";

/** One parameter or buffer of a layer, held on the host. */
export interface ParamSlot {
  /** The dotted name, e.g. `block1.depthwise.norm.weight`. */
  readonly name: string;
  /** The values (updated in place by the optimiser and `setParameters`). */
  readonly data: Float32Array;
  /** The shape. */
  readonly shape: readonly number[];
  /** dL/ddata from the last backward pass; absent on buffers. */
  readonly grad?: Float32Array;
  /** True for batch norm's running statistics (not trained). */
  readonly buffer?: boolean;
}

/** How a forward or backward pass runs. */
export interface RunContext {
  /** The backend every op is asked for. */
  readonly backend: "auto" | "wasm" | "webgpu";
  /** `"f32"`, or `"f16"` (WebGPU convolutions). */
  readonly precision: "f32" | "f16";
  /** Batch statistics, and keep what backward needs. */
  readonly training: boolean;
  /** Cancels between ops. */
  readonly signal?: AbortSignal;
  /** The user-facing call, for messages. */
  readonly operation: string;
  /** True when this layer's output is handed to the caller (who may dispose it early). */
  readonly escapes: boolean;
}

/** A layer of the network. */
export interface Layer {
  /** The dotted path of the layer. */
  readonly path: string;
  /** Its parameters and buffers, in spec order. */
  readonly slots: readonly ParamSlot[];
  /**
   * The output shape for an input shape.
   *
   * @throws {TypeError} When the input does not fit (the message names the layer).
   */
  outputShape(input: readonly number[]): number[];
  /** Runs the layer; the caller owns the result. `x` stays alive until backward when training. */
  forward(x: ImageLike, ctx: RunContext): Promise<DeviceTensor>;
  /**
   * The input's gradient from the output's; fills the slots' `grad`. The caller owns the result.
   */
  backward(dy: DeviceTensor, ctx: RunContext): Promise<DeviceTensor>;
  /**
   * Optional: what `backward` does but the input's gradient (a network's first layer in a
   * training step needs none, and it is a large part of that layer's work).
   */
  backwardParameters?(dy: DeviceTensor, ctx: RunContext): Promise<void>;
  /** Forgets what the last training forward kept. */
  release(): void;
  /**
   * Called after parameters changed, and when the network is disposed: cached derived values
   * (folded weights, packed weight panels) go.
   */
  invalidate(): void;
}

/** A layer error: the layer's path first. */
export function layerError(path: string, message: string): TypeError {
  return new TypeError(`layer "${path}": ${message}`);
}
