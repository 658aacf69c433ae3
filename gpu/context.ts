/**
 * The open WebGPU device with everything prism keeps beside it: what was found, the buffer pool,
 * the pipeline cache, the pending command encoder that recorded work collects in until a read or
 * `flush()` submits it, counters of submits and read-backs, and helpers that make GPU errors
 * throw.
 *
 * @module
 */

import { BackendUnavailableError } from "../core/errors.ts";
import { BufferPool } from "./buffer_pool.ts";
import { type DispatchSize, dispatchSize } from "./dispatch.ts";
import { PipelineCache } from "./pipeline_cache.ts";
import { checkReadRange, type ReadRange, readRanges } from "./readback.ts";
import type { GpuAvailable } from "./types.ts";
import { withErrorScopes } from "./_error_scope.ts";

/**
 * What a context has sent to and fetched from the device, for tests and benchmarks that count
 * round trips. `uploads` counts writes of matrix and tensor data (a whole matrix, a row chunk, a
 * tensor's values); small parameter vectors and uniforms are not counted.
 *
 * @example
 * ```ts
 * import { GpuRunStats } from "./context.ts";
 * import assert from "node:assert";
 * const stats = new GpuRunStats();
 * stats.submits++;
 * stats.reset();
 * assert(stats.submits === 0 && stats.readBacks === 0 && stats.uploads === 0);
 * ```
 */
export class GpuRunStats {
  /** Command buffers submitted to the queue. */
  submits = 0;
  /** Staging buffers mapped to read results back. */
  readBacks = 0;
  /** Matrix and tensor data written to the device (see the class docs). */
  uploads = 0;

  /** Sets every count to zero. */
  reset(): void {
    this.submits = 0;
    this.readBacks = 0;
    this.uploads = 0;
  }
}

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
  /** Submits, read-backs and matrix uploads so far; `stats.reset()` starts a count. */
  readonly stats: GpuRunStats = new GpuRunStats();
  #lost: GPUDeviceLostInfo | undefined;
  #encoder: GPUCommandEncoder | undefined;
  #afterSubmit: GPUBuffer[] = [];
  #destroyed = false;

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

  /** True once {@linkcode destroy} has run: its buffers are gone. */
  get destroyed(): boolean {
    return this.#destroyed;
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
   * @throws {KernelError} `KernelError(label, message)` (status -1) for validation and internal errors.
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
   * The command encoder that collects recorded work until the next read or {@linkcode flush};
   * created on first use. Record into it, never `finish()` it yourself.
   *
   * @returns The pending encoder.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   assert(gpu.encoder() === gpu.encoder() && gpu.pending);
   *   gpu.flush();
   *   assert(!gpu.pending);
   * }
   * await releaseGpu();
   * ```
   */
  encoder(): GPUCommandEncoder {
    this.#encoder ??= this.device.createCommandEncoder({ label: "prism pending work" });
    return this.#encoder;
  }

  /** True while recorded work waits for a submit. */
  get pending(): boolean {
    return this.#encoder !== undefined;
  }

  /**
   * Submits the pending work, if any, as one command buffer, then releases the buffers that
   * waited for it (see {@linkcode releaseAfterSubmit}). Reads flush by themselves; call this only
   * to start work without reading.
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   gpu.stats.reset();
   *   gpu.flush(); // nothing pending: no submit
   *   gpu.encoder();
   *   gpu.flush();
   *   assert(gpu.stats.submits === 1);
   * }
   * await releaseGpu();
   * ```
   */
  flush(): void {
    const encoder = this.#encoder;
    if (encoder === undefined) return;
    this.#encoder = undefined;
    const waiting = this.#afterSubmit;
    this.#afterSubmit = [];
    try {
      this.device.queue.submit([encoder.finish()]);
      this.stats.submits++;
    } finally {
      // Queue writes after this point are ordered after the submit, so reuse is safe now.
      for (const buffer of waiting) this.pool.release(buffer);
    }
  }

  /**
   * Gives a pooled buffer back once the pending work that may use it is submitted: at once when
   * nothing is pending. A buffer released earlier could be handed out again and overwritten by a
   * queue write that runs before the pending commands read it. Call it only after the work that
   * reads the buffer is recorded: with nothing pending yet, the buffer goes back to the pool at
   * once and the next acquire may overwrite it before that work runs.
   *
   * @param buffer A buffer from this context's pool.
   * @throws {TypeError} When the buffer is not in use from the pool.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   gpu.encoder();
   *   gpu.releaseAfterSubmit(gpu.pool.acquire(16, GPUBufferUsage.STORAGE, "scratch"));
   *   assert(gpu.pool.stats().inUseBytes > 0);
   *   gpu.flush();
   *   assert(gpu.pool.stats().inUseBytes === 0);
   * }
   * await releaseGpu();
   * ```
   */
  releaseAfterSubmit(buffer: GPUBuffer): void {
    if (this.#destroyed) return;
    if (this.#encoder === undefined) this.pool.release(buffer);
    else this.#afterSubmit.push(buffer);
  }

  /**
   * Reads `bytes` bytes of `buffer` from `byteOffset` back to the CPU, submitting the pending
   * work together with the copy (see {@linkcode readRanges}).
   *
   * @param buffer A buffer with `COPY_SRC` usage on this device.
   * @param range `byteOffset` (default 0) and `bytes` (default: to the end), multiples of 4.
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
   *   const read = await gpu.readBack(buffer, { byteOffset: 4, bytes: 4 });
   *   assert(new Uint32Array(read)[0] === 9);
   *   gpu.pool.release(buffer);
   * }
   * await releaseGpu();
   * ```
   */
  async readBack(
    buffer: GPUBuffer,
    range: { byteOffset?: number; bytes?: number } = {},
  ): Promise<ArrayBuffer> {
    return (await this.readRanges([{ buffer, ...range }]))[0];
  }

  /**
   * Reads several ranges back: the pending work and the copies go out in one submit and come back
   * in one map. More than `maxBufferSize` bytes in all are split into several staging buffers,
   * one submit and map each (the only split: a staging buffer cannot be larger).
   *
   * @param ranges The buffers and byte ranges (see `ReadRange` in `./readback.ts`).
   * @returns One new `ArrayBuffer` per range, in order.
   * @throws {TypeError} When a buffer lacks `COPY_SRC`.
   * @throws {RangeError} When a range is unaligned or past the end of its buffer.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const gpu = await getGpu();
   *   const buffer = gpu.pool.acquire(8, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, "x");
   *   gpu.device.queue.writeBuffer(buffer, 0, new Uint32Array([7, 9]));
   *   gpu.stats.reset();
   *   const [a, b] = await gpu.readRanges([{ buffer, bytes: 4 }, { buffer, byteOffset: 4 }]);
   *   assert(new Uint32Array(a)[0] === 7 && new Uint32Array(b)[0] === 9);
   *   assert(gpu.stats.readBacks === 1 && gpu.stats.submits === 1);
   *   gpu.pool.release(buffer);
   * }
   * await releaseGpu();
   * ```
   */
  async readRanges(ranges: readonly ReadRange[]): Promise<ArrayBuffer[]> {
    const checked = ranges.map(checkReadRange);
    const max = this.limits.maxBufferSize;
    const out: ArrayBuffer[] = [];
    for (let first = 0; first < checked.length;) {
      let last = first + 1;
      let bytes = checked[first].bytes;
      while (last < checked.length && bytes + checked[last].bytes <= max) {
        bytes += checked[last++].bytes;
      }
      const group = checked.slice(first, last);
      first = last;
      if (bytes === 0) {
        out.push(...group.map(() => new ArrayBuffer(0)));
        continue;
      }
      out.push(...await readRanges(this.pool, this.encoder(), group, () => this.flush()));
      this.stats.readBacks++;
    }
    return out;
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
    this.#destroyed = true;
    this.#encoder = undefined;
    this.#afterSubmit = [];
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
