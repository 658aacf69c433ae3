/**
 * The one way host code holds kernel memory for the length of a call: allocations freed
 * together by `using` (or `await using` when pool jobs may still write into them).
 *
 * Memory that outlives a call (a layer's weights, a result handed to the caller) is
 * {@linkcode WasmStorage} (`./storage.ts`) instead.
 *
 * @module
 */

import type { Kernels } from "./kernels.ts";

/** Options of an arena allocation. */
export interface ArenaAllocOptions {
  /** Fill the memory with zeros (for outputs a kernel adds into); default false. */
  zero?: boolean;
}

/**
 * Kernel allocations that are freed together when the arena is disposed, also when the call
 * throws. Jobs handed pointers into the arena are announced with
 * {@linkcode KernelArena.track}; `await using` then waits for every one of them (settled,
 * fulfilled or not) before freeing, because a worker may still be writing when the caller has
 * already failed.
 *
 * @example
 * ```ts
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const before = kernels.memory().inUseBytes;
 * {
 *   using arena = new KernelArena(kernels);
 *   const p = arena.f64(4, { zero: true });
 *   assert(kernels.f64(p, 4).every((v) => v === 0));
 * }
 * assert(kernels.memory().inUseBytes === before);
 * ```
 */
export class KernelArena implements Disposable, AsyncDisposable {
  /** The module whose memory the arena allocates in. */
  readonly kernels: Kernels;
  readonly #ptrs: number[] = [];
  readonly #jobs = new Set<Promise<unknown>>();

  /**
   * @param kernels The loaded module (`loadKernels()`, or a worker job's instance).
   */
  constructor(kernels: Kernels) {
    this.kernels = kernels;
  }

  /**
   * Allocates `bytes` bytes, 16-byte aligned.
   *
   * @param bytes Size in bytes (0 gives a valid, unique pointer).
   * @param options `zero`.
   * @returns The byte address.
   * @throws {RangeError} When `bytes` is negative or beyond 4 GiB.
   * @throws {OutOfMemoryError} When the memory cannot grow.
   */
  bytes(bytes: number, options: ArenaAllocOptions = {}): number {
    const ptr = this.kernels.alloc(bytes);
    this.#ptrs.push(ptr);
    if (options.zero) zeroBlock(this.kernels, ptr, bytes);
    return ptr;
  }

  /**
   * Allocates `length` float32 values.
   *
   * @param length Number of values.
   * @param options `zero`.
   * @returns The byte address.
   * @throws {RangeError} When the size is negative or beyond 4 GiB.
   * @throws {OutOfMemoryError} When the memory cannot grow.
   */
  f32(length: number, options: ArenaAllocOptions = {}): number {
    return this.bytes(length * 4, options);
  }

  /**
   * Allocates `length` float64 values.
   *
   * @param length Number of values.
   * @param options `zero`.
   * @returns The byte address.
   * @throws {RangeError} When the size is negative or beyond 4 GiB.
   * @throws {OutOfMemoryError} When the memory cannot grow.
   */
  f64(length: number, options: ArenaAllocOptions = {}): number {
    return this.bytes(length * 8, options);
  }

  /**
   * Allocates room for `data` and copies it in.
   *
   * @param data The values.
   * @returns The byte address.
   * @throws {OutOfMemoryError} When the memory cannot grow.
   */
  copyIn(data: Float32Array): number {
    const ptr = this.f32(data.length);
    this.kernels.f32(ptr, data.length).set(data);
    return ptr;
  }

  /**
   * Announces a job that reads or writes the arena's memory: disposal waits for it.
   *
   * @param job The job's promise (its rejection is left to the caller; the arena ignores it).
   * @returns `job`, for chaining.
   */
  track<T>(job: Promise<T>): Promise<T> {
    this.#jobs.add(job);
    const done = () => this.#jobs.delete(job);
    job.then(done, done);
    return job;
  }

  /** Jobs announced with {@linkcode KernelArena.track} that have not settled yet. */
  get pending(): number {
    return this.#jobs.size;
  }

  /**
   * Frees every allocation now. With jobs still pending this would hand memory a worker is
   * writing to the next allocation, so it frees nothing and throws instead.
   *
   * @throws {Error} When tracked jobs are still pending (use `await using`).
   */
  [Symbol.dispose](): void {
    if (this.#jobs.size > 0) {
      throw new Error(
        `KernelArena disposed with ${this.#jobs.size} pool job(s) still running; its memory is ` +
          `left allocated. Declare it with \`await using\` so disposal waits for them`,
      );
    }
    for (const ptr of this.#ptrs.splice(0)) this.kernels.free(ptr);
  }

  /** Waits until every tracked job has settled, then frees every allocation. */
  async [Symbol.asyncDispose](): Promise<void> {
    while (this.#jobs.size > 0) await Promise.allSettled([...this.#jobs]);
    this[Symbol.dispose]();
  }
}

/**
 * Zeroes a heap block in 8-byte words: on a shared buffer a `Float64Array` fill is about 3x
 * faster than a `Float32Array` one (each element is its own store). The heap aligns and rounds
 * every block to 16 bytes, so the whole words stay inside it. `kernels.f64` refreshes a buffer
 * another thread's growth left short.
 *
 * @param kernels The module that owns the block.
 * @param ptr The block's address.
 * @param bytes Its requested size.
 */
export function zeroBlock(kernels: Kernels, ptr: number, bytes: number): void {
  kernels.f64(ptr, Math.ceil(bytes / 8)).fill(0);
}
