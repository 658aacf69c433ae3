/**
 * A pool of GPU buffers by size bucket and usage, with exact byte counters. WebGPU has no memory
 * query, so these counters are the only account of what prism holds on the device.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";

/** What a {@linkcode BufferPool} holds. Every count is exact, in bytes of `GPUBuffer.size`. */
export interface PoolStats {
  /** Bytes of every live buffer the pool created: in use plus free for reuse. */
  readonly allocatedBytes: number;
  /** Bytes of the buffers acquired and not yet released. */
  readonly inUseBytes: number;
  /** The largest `allocatedBytes` has been since the pool was created. */
  readonly peakBytes: number;
  /** Number of live buffers (in use plus free). */
  readonly buffers: number;
}

/** The smallest bucket: small uniform and staging buffers all share it. */
const MIN_BUCKET = 256;
/** Up to here buckets are powers of two; the waste is at most 1 MiB per buffer. */
const POWER_OF_TWO_UP_TO = 1 << 20;
/** Above it, each octave is split into this many steps, so the waste stays below 12.5 %. */
const STEPS_PER_OCTAVE = 8;

/**
 * Hands out `GPUBuffer`s rounded up to size buckets and reuses released ones of the same bucket
 * and usage. A reused buffer keeps the label it was created with. Buffers are not zeroed on reuse.
 *
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const { pool } = await getGpu();
 *   const a = pool.acquire(1000, GPUBufferUsage.STORAGE, "example");
 *   pool.release(a);
 *   const b = pool.acquire(900, GPUBufferUsage.STORAGE, "example");
 *   assert(a === b && b.size === 1024);
 *   pool.release(b);
 * }
 * await releaseGpu();
 * ```
 */
export class BufferPool {
  /** The device the buffers live on. */
  readonly device: GPUDevice;
  #free = new Map<string, GPUBuffer[]>();
  #inUse = new Set<GPUBuffer>();
  #discardOnRelease = new Set<GPUBuffer>();
  #allocated = 0;
  #inUseBytes = 0;
  #peak = 0;
  #count = 0;

  /**
   * @param device The device to allocate on.
   */
  constructor(device: GPUDevice) {
    this.device = device;
  }

  /**
   * The size a request for `bytes` is rounded up to: powers of two up to 1 MiB (at least
   * 256 bytes), then eighths of an octave; never above the device's `maxBufferSize`.
   *
   * @param bytes The requested size.
   * @returns The bucket size in bytes, a multiple of 4.
   * @throws {TypeError} When `bytes` is not a whole number.
   * @throws {RangeError} When `bytes` is negative or above the device's `maxBufferSize`.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   assert(pool.bucketSize(1) === 256 && pool.bucketSize(1025) === 2048);
   *   assert(pool.bucketSize(3 * 2 ** 20 + 1) === 3.25 * 2 ** 20);
   * }
   * await releaseGpu();
   * ```
   */
  bucketSize(bytes: number): number {
    checkInteger("bytes", bytes);
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) {
      throw new RangeError(
        `Cannot allocate a GPU buffer of ${bytes} bytes: the device's maxBufferSize is ${max}; ` +
          `process the data in smaller chunks`,
      );
    }
    let bucket = MIN_BUCKET;
    while (bucket < bytes) bucket *= 2;
    if (bucket > POWER_OF_TWO_UP_TO) {
      const step = bucket / 2 / STEPS_PER_OCTAVE;
      bucket = Math.ceil(bytes / step) * step;
    }
    // Near the limit the bucket would not fit: fall back to the request rounded to 4 bytes.
    return bucket <= max ? bucket : Math.ceil(bytes / 4) * 4;
  }

  /**
   * Returns a buffer of at least `bytes` with exactly `usage`: a released one of the same bucket
   * and usage when there is one, else a new one.
   *
   * @param bytes The size needed.
   * @param usage `GPUBufferUsage` flags.
   * @param label The label of a newly created buffer.
   * @returns A buffer of `bucketSize(bytes)` bytes; give it back with {@linkcode release}.
   * @throws {TypeError} When `bytes` or `usage` is not a whole number or `label` not a string.
   * @throws {RangeError} When `bytes` exceeds the device's `maxBufferSize`.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   const buffer = pool.acquire(64, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, "params");
   *   assert(pool.stats().inUseBytes === 256);
   *   pool.release(buffer);
   * }
   * await releaseGpu();
   * ```
   */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = this.bucketSize(bytes);
    checkInteger("usage", usage, 1);
    if (typeof label !== "string") {
      throw new TypeError(`label must be a string, got ${typeof label}`);
    }
    const key = `${size}:${usage}`;
    let buffer = this.#free.get(key)?.pop();
    if (buffer === undefined) {
      buffer = this.device.createBuffer({ size, usage, label });
      this.#allocated += size;
      this.#count++;
      this.#peak = Math.max(this.#peak, this.#allocated);
    }
    this.#inUse.add(buffer);
    this.#inUseBytes += size;
    return buffer;
  }

  /**
   * Gives a buffer back for reuse (unmapping it first when it is mapped).
   *
   * @param buffer A buffer this pool handed out and that is still in use.
   * @throws {TypeError} When the buffer did not come from this pool or was already released.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   pool.release(pool.acquire(16, GPUBufferUsage.STORAGE, "scratch"));
   *   assert(pool.stats().inUseBytes === 0 && pool.stats().buffers >= 1);
   * }
   * await releaseGpu();
   * ```
   */
  release(buffer: GPUBuffer): void {
    if (!this.#inUse.delete(buffer)) {
      throw new TypeError(
        `Cannot release buffer "${buffer?.label}": it is not in use from this pool ` +
          `(released twice, or created elsewhere); destroy foreign buffers yourself`,
      );
    }
    this.#inUseBytes -= buffer.size;
    if (buffer.mapState !== "unmapped") buffer.unmap();
    if (this.#discardOnRelease.delete(buffer)) {
      this.#drop(buffer);
      return;
    }
    const key = `${buffer.size}:${buffer.usage}`;
    const list = this.#free.get(key);
    if (list === undefined) this.#free.set(key, [buffer]);
    else list.push(buffer);
  }

  /**
   * The pool's counters.
   *
   * @returns A snapshot of the allocated, in-use and peak bytes and the buffer count.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { allocatedBytes, inUseBytes } = (await getGpu()).pool.stats();
   *   assert(inUseBytes <= allocatedBytes);
   * }
   * await releaseGpu();
   * ```
   */
  stats(): PoolStats {
    return {
      allocatedBytes: this.#allocated,
      inUseBytes: this.#inUseBytes,
      peakBytes: this.#peak,
      buffers: this.#count,
    };
  }

  /**
   * Destroys every free buffer, keeping the ones in use.
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   pool.release(pool.acquire(16, GPUBufferUsage.STORAGE, "scratch"));
   *   pool.trim();
   *   assert(pool.stats().allocatedBytes === pool.stats().inUseBytes);
   * }
   * await releaseGpu();
   * ```
   */
  trim(): void {
    for (const list of this.#free.values()) for (const buffer of list) this.#drop(buffer);
    this.#free.clear();
  }

  /**
   * Destroys the free buffers now and the ones in use when they are released. Called after an
   * out-of-memory error, since a buffer whose creation failed is invalid and must not be reused.
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   const buffer = pool.acquire(16, GPUBufferUsage.STORAGE, "scratch");
   *   pool.purge();
   *   pool.release(buffer);
   *   assert(pool.stats().allocatedBytes === 0);
   * }
   * await releaseGpu();
   * ```
   */
  purge(): void {
    this.trim();
    for (const buffer of this.#inUse) this.#discardOnRelease.add(buffer);
  }

  /**
   * Destroys every buffer, in use or free, and empties the pool (the peak is kept).
   *
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   const { pool } = await getGpu();
   *   pool.acquire(16, GPUBufferUsage.STORAGE, "scratch");
   *   pool.destroy();
   *   assert(pool.stats().buffers === 0);
   * }
   * await releaseGpu();
   * ```
   */
  destroy(): void {
    this.trim();
    for (const buffer of this.#inUse) this.#drop(buffer);
    this.#inUse.clear();
    this.#discardOnRelease.clear();
    this.#inUseBytes = 0;
  }

  #drop(buffer: GPUBuffer): void {
    this.#allocated -= buffer.size;
    this.#count--;
    buffer.destroy();
  }
}
