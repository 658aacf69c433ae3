/**
 * Device tensors: float32 values that live on one backend (WASM kernel memory or a GPU buffer)
 * until the caller reads them, so chained work stays where it runs.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { DeviceKind, TensorStorage } from "../core/tensor_storage.ts";
import { toGpuStorage, toWasmStorage } from "./_move.ts";

/**
 * Float32 values with a shape, held by one backend. Create one with {@linkcode toDevice}; move it
 * with {@linkcode DeviceTensor.toWasm} / {@linkcode DeviceTensor.toGpu}; read it with
 * {@linkcode DeviceTensor.read}; free it with {@linkcode DeviceTensor.dispose} or `using`.
 * Operations take a device tensor wherever they take a plain array and, with `backend: "auto"`,
 * run where it lives.
 *
 * @example
 * ```ts
 * import { toDevice } from "./device_tensor.ts";
 * import assert from "node:assert";
 * {
 *   using t = await toDevice(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
 *   assert(t.backend === "wasm" && t.shape[1] === 3 && t.size === 6);
 *   assert.deepStrictEqual([...await t.read()], [1, 2, 3, 4, 5, 6]);
 * } // freed here
 * ```
 */
export class DeviceTensor implements Disposable {
  /** The extent of each axis; a matrix is `[rows, cols]`, an image batch NHWC. */
  readonly shape: readonly number[];
  /**
   * The element type: `"f32"`, or `"f16"` for a GPU tensor made by an f16 convolution (two
   * values packed per 32-bit word; `read()` widens them to float32).
   */
  readonly dtype: "f32" | "f16";
  readonly #storage: TensorStorage;

  /**
   * Wraps storage a backend made (operations and {@linkcode toDevice} call this).
   *
   * @param storage The values, `shape`'s product of them (half as many words for f16).
   * @param shape The extent of each axis.
   * @param dtype `"f32"` (default) or `"f16"` (packed pairs, GPU only).
   * @throws {TypeError} When an extent is not a whole number or the product does not match.
   */
  constructor(storage: TensorStorage, shape: readonly number[], dtype: "f32" | "f16" = "f32") {
    const size = shapeSize(shape);
    const words = dtype === "f16" ? Math.ceil(size / 2) : size;
    if (words !== storage.length || (dtype === "f16" && storage.backend !== "webgpu")) {
      throw new TypeError(
        `Cannot make a tensor of shape [${shape.join(", ")}] (${size} ${dtype} values) from ` +
          `${storage.backend} storage of ${storage.length} words`,
      );
    }
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
  }

  /** Where the values live. */
  get backend(): DeviceKind {
    return this.#storage.backend;
  }

  /** How many values: the product of the shape. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** True once disposed; the tensor cannot be used afterwards. */
  get disposed(): boolean {
    return this.#storage.freed;
  }

  /**
   * The backend's storage, for hosts that read it in place.
   *
   * @throws {TypeError} When the tensor was disposed.
   */
  get storage(): TensorStorage {
    if (this.#storage.freed) {
      throw new TypeError(
        `This tensor of shape [${this.shape.join(", ")}] was disposed; keep it alive until ` +
          `the last operation that uses it has finished`,
      );
    }
    return this.#storage;
  }

  /**
   * Copies the values into a new plain `Float32Array`. On WebGPU this submits the work recorded
   * for it and reads back once.
   *
   * @returns The values, row-major.
   * @throws {TypeError} When the tensor was disposed.
   */
  async read(): Promise<Float32Array<ArrayBuffer>> {
    const raw = await this.storage.read();
    if (this.dtype === "f32") return raw;
    return Float32Array.from(new Float16Array(raw.buffer, 0, this.size));
  }

  /**
   * The values as a row-major matrix of `rows` = the product of all axes but the last.
   *
   * @returns `{ rows, cols }` of this tensor's values.
   */
  matrixShape(): { rows: number; cols: number } {
    const cols = this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1];
    return { rows: cols === 0 ? 0 : this.size / cols, cols };
  }

  /**
   * The same values in WASM kernel memory: `this` when they are there already, else a new tensor
   * (this one stays valid; dispose both). An f16 tensor arrives as f32.
   *
   * @returns A tensor on `"wasm"`.
   * @throws {TypeError} When the tensor was disposed.
   * @throws {OutOfMemoryError} When kernel memory cannot hold it.
   */
  async toWasm(): Promise<DeviceTensor> {
    if (this.backend === "wasm") return this;
    const source = this.dtype === "f16" ? await this.read() : this.storage;
    return new DeviceTensor(await toWasmStorage(source), this.shape);
  }

  /**
   * The same values in a GPU buffer: `this` when they are there already, else a new tensor (this
   * one stays valid; dispose both). The upload is queued, not submitted.
   *
   * @returns A tensor on `"webgpu"`.
   * @throws {TypeError} When the tensor was disposed.
   * @throws {BackendUnavailableError} When there is no WebGPU adapter.
   * @throws {RangeError} When it is larger than one GPU buffer may be.
   */
  async toGpu(): Promise<DeviceTensor> {
    if (this.backend === "webgpu") return this;
    return new DeviceTensor(await toGpuStorage(this.storage), this.shape);
  }

  /** Frees the storage; a second call does nothing. */
  dispose(): void {
    this.#storage.free();
  }

  /** Same as {@linkcode DeviceTensor.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Options of {@linkcode toDevice}. */
export interface ToDeviceOptions {
  /** The extent of each axis; default `[data.length]`. */
  shape?: readonly number[];
  /** Where the values go: `"wasm"` (default, kernel memory) or `"webgpu"` (a GPU buffer). */
  backend?: DeviceKind;
}

/**
 * Copies values onto a backend as a {@linkcode DeviceTensor}.
 *
 * @param data The values, row-major.
 * @param options `shape` (default `[data.length]`) and `backend` (default `"wasm"`).
 * @returns The tensor; the caller disposes it.
 * @throws {TypeError} When `data` is not a `Float32Array` or `shape` does not match its length.
 * @throws {RangeError} When `backend` is not `"wasm"` or `"webgpu"`.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {OutOfMemoryError} When the backend cannot hold it.
 * @example
 * ```ts
 * import { toDevice } from "./device_tensor.ts";
 * import assert from "node:assert";
 * const t = await toDevice(new Float32Array(12), { shape: [3, 4] });
 * assert.deepStrictEqual(t.matrixShape(), { rows: 3, cols: 4 });
 * t.dispose();
 * assert(t.disposed);
 * ```
 */
export async function toDevice(
  data: Float32Array,
  options: ToDeviceOptions = {},
): Promise<DeviceTensor> {
  if (!(data instanceof Float32Array)) {
    throw new TypeError(
      `toDevice() takes a Float32Array, got ${Object.prototype.toString.call(data)}; convert ` +
        `it with Float32Array.from()`,
    );
  }
  const shape = options.shape ?? [data.length];
  const backend = options.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "webgpu") {
    throw new RangeError(`options.backend must be "wasm" or "webgpu", got ${String(backend)}`);
  }
  if (shapeSize(shape) !== data.length) {
    throw new TypeError(
      `options.shape [${shape.join(", ")}] holds ${shapeSize(shape)} values but data has ` +
        `${data.length}`,
    );
  }
  const storage = backend === "wasm" ? await toWasmStorage(data) : await toGpuStorage(data);
  return new DeviceTensor(storage, shape);
}

function shapeSize(shape: readonly number[]): number {
  if (!Array.isArray(shape)) throw new TypeError(`shape must be an array of whole numbers`);
  return shape.reduce((n: number, d, i) => n * checkInteger(`shape[${i}]`, d), 1);
}
