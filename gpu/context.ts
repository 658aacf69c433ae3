/**
 * The open WebGPU device with everything prism keeps beside it: what was found, the buffer pool,
 * the pipeline cache, and helpers that make GPU errors throw.
 *
 * @module
 */

import { BackendUnavailableError } from "../core/errors.ts";
import { BufferPool } from "./buffer_pool.ts";
import { type DispatchSize, dispatchSize } from "./dispatch.ts";
import { PipelineCache } from "./pipeline_cache.ts";
import { readBack } from "./readback.ts";
import type { GpuAvailable } from "./types.ts";
import { withErrorScopes } from "./_error_scope.ts";

/**
 * A device and its companions. Get the shared one from `getGpu()` in `./device.ts`; a context
 * built by hand is the caller's to {@linkcode GpuContext.destroy}.
 *
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   assert(gpu.limits.maxStorageBufferBindingSize === gpu.status.limits.maxStorageBufferBindingSize);
 * }
 * await releaseGpu();
 * ```
 */
export class GpuContext {
  /** The device. */
  readonly device: GPUDevice;
  /** What was found: adapter, features, limits. */
  readonly status: GpuAvailable;
  /** The device's limits (the adapter's own, requested in full). */
  readonly limits: GPUSupportedLimits;
  /** Buffers by size bucket and usage, with exact byte counters. */
  readonly pool: BufferPool;
  /** Compute pipelines by program and override values. */
  readonly pipelines: PipelineCache;
  #lost: GPUDeviceLostInfo | undefined;

  /**
   * @param device An open device.
   * @param status What was found when it was opened.
   */
  constructor(device: GPUDevice, status: GpuAvailable) {
    this.device = device;
    this.status = status;
    this.limits = device.limits;
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    device.lost.then((info) => {
      this.#lost = info;
    });
  }

  /** Why the device was lost (`reason` is `"destroyed"` after `destroy()`), or `undefined`. */
  get lost(): GPUDeviceLostInfo | undefined {
    return this.#lost;
  }

  /**
   * Runs `fn` inside `validation`, `out-of-memory` and `internal` error scopes and throws what
   * they catch. After an out-of-memory error the pool is purged, since a buffer whose creation
   * failed must not be reused. Scopes are per device: keep GPU work of other tasks out of `fn`'s
   * awaits, or its errors are blamed on `label`.
   *
   * @param label Names the work in errors, e.g. the program name.
   * @param fn The GPU work; may be async.
   * @returns What `fn` returns.
   * @throws {OutOfMemoryError} When an allocation failed.
   * @throws {KernelError} `KernelError(label, -1, message)` for validation and internal errors.
   * @throws {BackendUnavailableError} When the device was lost.
   * @example
   * ```ts
   * import { KernelError } from "../core/errors.ts";
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const error = await gpu.scoped("example", () => {
   *     gpu.device.createBuffer({ size: 6, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
   *   }).catch((e) => e);
   *   assert(error instanceof KernelError && error.kernel === "example");
   * }
   * await releaseGpu();
   * ```
   */
  async scoped<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
    this.#assertAlive(label);
    const result = await withErrorScopes(this.device, label, fn, () => this.pool.purge());
    // A lost device swallows errors and leaves results unwritten: never return them.
    this.#assertAlive(label);
    return result;
  }

  /**
   * Reads `bytes` bytes of `buffer` from `byteOffset` back to the CPU (see `readBack()` in
   * `./readback.ts`).
   *
   * @param buffer A buffer with `COPY_SRC` usage on this device.
   * @param byteOffset Where to start, a multiple of 4.
   * @param bytes How many bytes, a multiple of 4.
   * @returns A new `ArrayBuffer` owned by the caller.
   * @throws {TypeError} When the buffer lacks `COPY_SRC`.
   * @throws {RangeError} When the range is unaligned or past the end.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const buffer = gpu.pool.acquire(8, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, "x");
   *   gpu.device.queue.writeBuffer(buffer, 0, new Uint32Array([7, 9]));
   *   assert(new Uint32Array(await gpu.readBack(buffer, 4, 4))[0] === 9);
   *   gpu.pool.release(buffer);
   * }
   * await releaseGpu();
   * ```
   */
  readBack(buffer: GPUBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    return readBack(this.pool, { buffer, byteOffset, bytes });
  }

  /**
   * Lays a 1-D workgroup count out within this device's `maxComputeWorkgroupsPerDimension`
   * (see `dispatchSize()` in `./dispatch.ts`).
   *
   * @param workgroups The workgroups needed.
   * @returns `{ x, y }` for `dispatchWorkgroups(x, y)`.
   * @throws {RangeError} When even two dimensions cannot hold them.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { x, y } = (await getGpu()).dispatchSize(10);
   *   assert(x === 10 && y === 1);
   * }
   * await releaseGpu();
   * ```
   */
  dispatchSize(workgroups: number): DispatchSize {
    return dispatchSize(workgroups, this.limits.maxComputeWorkgroupsPerDimension);
  }

  /**
   * Uploads rows `start .. start + count` of a row-major f32 matrix with `cols` columns to the
   * start of `buffer`: the chunk upload every program shares. The data may live in shared
   * kernel memory (`allocMatrix`); the queue copies it either way.
   *
   * @param buffer The destination (with `COPY_DST` usage).
   * @param data The whole matrix, row-major.
   * @param cols Values per row.
   * @param start The first row to upload.
   * @param count How many rows.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
   *   const buffer = gpu.pool.acquire(8, usage, "rows");
   *   gpu.writeRows(buffer, new Float32Array([1, 2, 3, 4, 5, 6]), 2, 1, 1);
   *   assert(new Float32Array(await gpu.readBack(buffer, 0, 8))[1] === 4);
   *   gpu.pool.release(buffer);
   * }
   * await releaseGpu();
   * ```
   */
  writeRows(
    buffer: GPUBuffer,
    data: Float32Array,
    cols: number,
    start: number,
    count: number,
  ): void {
    // The types reject SharedArrayBuffer-backed views; the runtime copies them all the same.
    this.device.queue.writeBuffer(
      buffer,
      0,
      data as Float32Array<ArrayBuffer>,
      start * cols,
      count * cols,
    );
  }

  /**
   * Binds `bindings` to slots 0, 1, … of group 0, dispatches `workgroups` (laid out within the
   * device's per-dimension limit) and submits: the encode step every program shares. The
   * caller reads results back afterwards (`readBack` waits for the queue).
   *
   * @param pipeline The compute pipeline (from `pipelines.get`).
   * @param label The label of the bind group, encoder and pass.
   * @param bindings The buffers (with their bound sizes), in binding order.
   * @param workgroups The workgroups needed.
   * @throws {RangeError} When even two dimensions cannot hold the workgroups.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import { COLUMN_SUMS_PROGRAM, columnSumsOverrides } from "./programs/column_sums.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const pipeline = await gpu.pipelines.get(COLUMN_SUMS_PROGRAM, columnSumsOverrides(1));
   *   assert(typeof gpu.dispatch === "function" && pipeline !== undefined);
   * }
   * await releaseGpu();
   * ```
   */
  dispatch(
    pipeline: GPUComputePipeline,
    label: string,
    bindings: readonly GPUBufferBinding[],
    workgroups: number,
  ): void {
    const bindGroup = this.device.createBindGroup({
      label: `${label} bind group`,
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((resource, binding) => ({ binding, resource })),
    });
    const { x, y } = this.dispatchSize(workgroups);
    const encoder = this.device.createCommandEncoder({ label: `${label} encoder` });
    const pass = encoder.beginComputePass({ label: `${label} pass` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /**
   * Destroys the pool's buffers and the device. `releaseGpu()` does this for the shared context.
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   gpu.destroy();
   *   await gpu.device.lost;
   *   assert(gpu.lost?.reason === "destroyed");
   * }
   * await releaseGpu();
   * ```
   */
  destroy(): void {
    this.pool.destroy();
    this.device.destroy();
  }

  #assertAlive(label: string): void {
    if (this.#lost === undefined) return;
    throw new BackendUnavailableError(
      "webgpu",
      `the device was lost (${this.#lost.reason ?? "unknown"}: ${this.#lost.message}) ` +
        `before ${label} finished; call getGpu() again for a new device`,
    );
  }
}
