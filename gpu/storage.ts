/**
 * Float32 values in a pooled GPU buffer of the shared context: the WebGPU storage behind a
 * device tensor, and the GPU-resident matrix the hosts bind in place.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { DeviceKind, TensorStorage } from "../core/tensor_storage.ts";
import type { GpuContext } from "./context.ts";

/** The usage of every storage buffer: bound to programs, read back, written by the queue. */
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Options of {@linkcode GpuStorage.allocate} and {@linkcode GpuStorage.fromArray}. */
export interface GpuStorageOptions {
  /** The label of a newly created buffer; default `"prism tensor"`. */
  label?: string;
}

/**
 * `length` float32 values in one pooled `GPUBuffer`. Created without a submit (`fromArray`
 * writes through the queue), read with one submit and one read-back, freed back to the pool.
 *
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { GpuStorage } from "./storage.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const storage = GpuStorage.fromArray(gpu, new Float32Array([1, 2, 3]));
 *   assert.deepStrictEqual(Array.from(await storage.read()), [1, 2, 3]);
 *   storage.free();
 *   storage.free(); // idempotent
 *   assert(storage.freed);
 * }
 * await releaseGpu();
 * ```
 */
export class GpuStorage implements TensorStorage {
  /** Where the values live. */
  readonly backend: DeviceKind = "webgpu";
  /** The context whose pool holds the buffer. */
  readonly context: GpuContext;
  /** How many float32 values it holds. */
  readonly length: number;
  #buffer: GPUBuffer | undefined;

  private constructor(context: GpuContext, buffer: GPUBuffer, length: number) {
    this.context = context;
    this.#buffer = buffer;
    this.length = length;
  }

  /**
   * Storage for `length` values, uninitialised (pooled buffers are not zeroed).
   *
   * @param context The context to allocate on (`await getGpu()`).
   * @param length How many float32 values.
   * @param options `label`.
   * @returns The storage; the caller frees it.
   * @throws {TypeError} When `length` is not a whole number.
   * @throws {RangeError} When `length` values do not fit one buffer (`maxBufferSize`).
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import { GpuStorage } from "./storage.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const max = gpu.limits.maxBufferSize;
   *   assert.throws(() => GpuStorage.allocate(gpu, Math.floor(max / 4) + 1), /maxBufferSize/);
   *   GpuStorage.allocate(gpu, 10).free();
   * }
   * await releaseGpu();
   * ```
   */
  static allocate(
    context: GpuContext,
    length: number,
    options: GpuStorageOptions = {},
  ): GpuStorage {
    checkInteger("length", length);
    const max = context.limits.maxBufferSize;
    if (length * 4 > max) {
      throw new RangeError(
        `Cannot hold ${length} float32 values (${length * 4} bytes) in one GPU buffer: this ` +
          `device's maxBufferSize is ${max} bytes; split the data or use the wasm backend`,
      );
    }
    const buffer = context.pool.acquire(length * 4, USAGE, options.label ?? "prism tensor");
    return new GpuStorage(context, buffer, length);
  }

  /**
   * Storage holding a copy of `data`, written through the queue (no submit; counted in
   * `context.stats.uploads`). The data may live in shared kernel memory.
   *
   * @param context The context to allocate on.
   * @param data The values.
   * @param options `label`.
   * @returns The storage; the caller frees it.
   * @throws {TypeError} When `data` is not a `Float32Array`.
   * @throws {RangeError} When it does not fit one buffer (`maxBufferSize`).
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import { GpuStorage } from "./storage.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   gpu.stats.reset();
   *   const s = GpuStorage.fromArray(gpu, new Float32Array([5, 6]));
   *   assert(gpu.stats.uploads === 1 && gpu.stats.submits === 0 && s.length === 2);
   *   s.free();
   * }
   * await releaseGpu();
   * ```
   */
  static fromArray(
    context: GpuContext,
    data: Float32Array,
    options: GpuStorageOptions = {},
  ): GpuStorage {
    if (!(data instanceof Float32Array)) {
      throw new TypeError(
        `data must be a Float32Array, got ${Object.prototype.toString.call(data)}; convert ` +
          `with Float32Array.from()`,
      );
    }
    const storage = GpuStorage.allocate(context, data.length, options);
    if (data.length > 0) {
      // The types reject SharedArrayBuffer-backed views; the runtime copies them all the same.
      context.device.queue.writeBuffer(storage.buffer, 0, data as Float32Array<ArrayBuffer>);
      context.stats.uploads++;
    }
    return storage;
  }

  /** True once {@linkcode free} has run. */
  get freed(): boolean {
    return this.#buffer === undefined;
  }

  /**
   * The buffer (at least `length * 4` bytes: pool buckets round up).
   *
   * @throws {TypeError} When the storage was freed.
   */
  get buffer(): GPUBuffer {
    if (this.#buffer === undefined) {
      throw new TypeError("This GPU storage was freed; keep it until its last use");
    }
    return this.#buffer;
  }

  /**
   * Copies the values to the CPU: submits the pending work and reads back once.
   *
   * @returns A new `Float32Array` of `length` values.
   * @throws {TypeError} When the storage was freed.
   * @throws {KernelError} When the pending work fails validation.
   * @throws {BackendUnavailableError} When the device was lost.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import { GpuStorage } from "./storage.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const s = GpuStorage.fromArray(await getGpu(), new Float32Array([4]));
   *   assert((await s.read())[0] === 4);
   *   s.free();
   * }
   * await releaseGpu();
   * ```
   */
  async read(): Promise<Float32Array<ArrayBuffer>> {
    const buffer = this.buffer;
    if (this.length === 0) return new Float32Array(0);
    const bytes = await this.context.scoped(
      "GpuStorage.read()",
      () => this.context.readBack(buffer, { bytes: this.length * 4 }),
    );
    return new Float32Array(bytes);
  }

  /**
   * Gives the buffer back to the pool once pending work that may use it is submitted; a second
   * call does nothing, nor does a call after the context was destroyed.
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import { GpuStorage } from "./storage.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const s = GpuStorage.allocate(gpu, 4);
   *   s.free();
   *   assert(s.freed && gpu.pool.stats().inUseBytes === 0);
   * }
   * await releaseGpu();
   * ```
   */
  free(): void {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    this.#buffer = undefined;
    this.context.releaseAfterSubmit(buffer);
  }
}

/** A row-major f32 matrix whose values live in a {@linkcode GpuStorage}. */
export interface GpuMatrix {
  /** The values, `rows * cols` of them. */
  readonly storage: GpuStorage;
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
}

/**
 * Tells a GPU-resident matrix from a plain one.
 *
 * @param m A plain `Matrix` or a `GpuMatrix`.
 * @returns True when `m.storage` is a {@linkcode GpuStorage}.
 * @example
 * ```ts
 * import { isGpuMatrix } from "./storage.ts";
 * import assert from "node:assert";
 * assert(!isGpuMatrix({ data: new Float32Array(1), rows: 1, cols: 1 }));
 * ```
 */
export function isGpuMatrix(m: unknown): m is GpuMatrix {
  return m !== null && typeof m === "object" &&
    (m as { storage?: unknown }).storage instanceof GpuStorage;
}

/**
 * Checks a GPU-resident matrix: live storage of `context` holding `rows * cols` values.
 *
 * @param m The matrix.
 * @param context The context the work runs on.
 * @returns `m`.
 * @throws {TypeError} When freed, from another context, or the shape disagrees with the storage.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { checkGpuMatrix, GpuStorage } from "./storage.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const storage = GpuStorage.allocate(gpu, 6);
 *   assert.throws(() => checkGpuMatrix({ storage, rows: 4, cols: 2 }, gpu), TypeError);
 *   storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export function checkGpuMatrix(m: GpuMatrix, context: GpuContext): GpuMatrix {
  checkInteger("matrix.rows", m.rows);
  checkInteger("matrix.cols", m.cols);
  if (m.storage.freed) {
    throw new TypeError("The GPU matrix's storage was freed; keep it until its last use");
  }
  if (m.storage.context !== context) {
    throw new TypeError(
      "The GPU matrix lives on another device (released or lost since); read() it and pass " +
        "the values instead",
    );
  }
  if (m.storage.length !== m.rows * m.cols) {
    throw new TypeError(
      `The GPU matrix holds ${m.storage.length} values but rows * cols = ${m.rows} * ${m.cols}`,
    );
  }
  return m;
}
