/**
 * Float32 values that live in the kernel module's memory beyond one call: the WASM storage
 * behind a device tensor, a layer's weights, a matrix from `allocMatrix()`. Hosts read it in
 * place through {@linkcode kernelAddress}, never through a copy.
 *
 * {@linkcode WasmStorage} implements `TensorStorage` (`core/tensor_storage.ts`), the storage
 * interface behind a device tensor.
 *
 * The kernel memory is a shared `WebAssembly.Memory` (its buffer is a `SharedArrayBuffer`).
 * A shared memory grows in place and never detaches its buffer: a view taken before a growth
 * stays valid and keeps seeing the same bytes (only `memory.buffer` returns a new, longer
 * `SharedArrayBuffer` object afterwards). A non-shared memory (a build without threads) would
 * detach its old buffer on growth; prism's module always imports a shared memory.
 *
 * @module
 */

import type { TensorStorage } from "../core/tensor_storage.ts";
import { checkInteger } from "../core/validate.ts";
import { zeroBlock } from "./arena.ts";
import type { Kernels } from "./kernels.ts";

/** Views handed out by live storage, with their addresses: found again after a growth. */
const live = new WeakMap<Float32Array, number>();

/** The most float32 values one storage holds (4 GiB of wasm32 memory). */
const MAX_LENGTH = 2 ** 30 - 1;

/**
 * `length` float32 values in kernel memory, zeroed on allocation, freed explicitly (`free()`
 * or `using`): kernel memory is not garbage-collected.
 *
 * @example
 * ```ts
 * import { WasmStorage } from "./storage.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * using s = WasmStorage.from(await loadKernels(), new Float32Array([1, 2, 3]));
 * s.view()[0] = 5;
 * assert.deepStrictEqual(await s.read(), new Float32Array([5, 2, 3]));
 * ```
 */
export class WasmStorage implements TensorStorage, Disposable {
  /** Where the values live. */
  readonly backend = "wasm" as const;
  /** The module that owns the memory. */
  readonly kernels: Kernels;
  /** Number of float32 values. */
  readonly length: number;
  readonly #ptr: number;
  /** Every view handed out (one per memory buffer object seen), unregistered on free. */
  readonly #views: Float32Array[] = [];
  #freed = false;

  /**
   * Allocates `length` zeroed values.
   *
   * @param kernels The loaded kernel module (`loadKernels()`).
   * @param length Number of float32 values.
   * @param options `zero: false` leaves the values as the allocator found them, for a
   *   destination a kernel writes whole before anyone reads it (zeroing a convolution's
   *   output costs about 3 % of computing it).
   * @throws {TypeError} When `length` is not a whole number.
   * @throws {RangeError} When `length` is negative or beyond 1 Gi values.
   * @throws {OutOfMemoryError} When the kernel memory cannot grow enough.
   */
  constructor(kernels: Kernels, length: number, options: { zero?: boolean } = {}) {
    checkInteger("length", length, 0, MAX_LENGTH);
    this.kernels = kernels;
    this.length = length;
    this.#ptr = kernels.alloc(length * 4);
    if (options.zero ?? true) zeroBlock(kernels, this.#ptr, length * 4);
  }

  /**
   * Allocates storage holding a copy of `data`.
   *
   * @param kernels The loaded kernel module.
   * @param data The values to copy in.
   * @returns The new storage.
   * @throws {TypeError} When `data` is not a `Float32Array`.
   * @throws {OutOfMemoryError} When the kernel memory cannot grow enough.
   * @example
   * ```ts
   * import { WasmStorage } from "./storage.ts";
   * import { loadKernels } from "./loader.ts";
   * import assert from "node:assert";
   * using s = WasmStorage.from(await loadKernels(), new Float32Array([7]));
   * assert(s.view()[0] === 7 && s.length === 1);
   * ```
   */
  static from(kernels: Kernels, data: Float32Array): WasmStorage {
    if (!(data instanceof Float32Array)) {
      throw new TypeError(
        `WasmStorage.from() takes a Float32Array, got ${Object.prototype.toString.call(data)}`,
      );
    }
    const storage = new WasmStorage(kernels, data.length, { zero: false });
    storage.view().set(data);
    return storage;
  }

  /** True once {@linkcode WasmStorage.free} has run. */
  get freed(): boolean {
    return this.#freed;
  }

  /**
   * The byte address in kernel memory.
   *
   * @throws {Error} When the storage was freed.
   */
  get ptr(): number {
    this.#checkLive();
    return this.#ptr;
  }

  /**
   * The values, in place: writes reach the kernels without a copy. The view stays valid until
   * `free()` (shared memory never detaches); a new one is made when the memory's buffer object
   * changed, so `view().buffer` is the current buffer.
   *
   * @returns A `Float32Array` over kernel memory.
   * @throws {Error} When the storage was freed.
   */
  view(): Float32Array {
    this.#checkLive();
    const last = this.#views[this.#views.length - 1];
    if (last !== undefined && last.buffer === this.kernels.exports.memory.buffer) return last;
    const fresh = this.kernels.f32(this.#ptr, this.length);
    live.set(fresh, this.#ptr);
    this.#views.push(fresh);
    return fresh;
  }

  /**
   * Copies the values out.
   *
   * @returns A new plain `Float32Array`.
   * @throws {Error} When the storage was freed.
   */
  read(): Promise<Float32Array<ArrayBuffer>> {
    try {
      return Promise.resolve(this.view().slice() as Float32Array<ArrayBuffer>);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Returns the memory to the kernel heap; a second call does nothing. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    for (const view of this.#views.splice(0)) live.delete(view);
    this.kernels.free(this.#ptr);
  }

  /** Same as {@linkcode WasmStorage.free}, for `using`. */
  [Symbol.dispose](): void {
    this.free();
  }

  #checkLive(): void {
    if (this.#freed) {
      throw new Error(`this WasmStorage of ${this.length} values was freed; allocate a new one`);
    }
  }
}

/**
 * The kernel-memory address of `data` when it already lives there: a view from live
 * {@linkcode WasmStorage}, or any view of the memory's current buffer. `undefined` means "copy
 * it in".
 *
 * @param kernels The loaded kernel module.
 * @param data The values.
 * @returns The byte address, or `undefined`.
 * @throws Never.
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import { kernelAddress, WasmStorage } from "./storage.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * assert(kernelAddress(kernels, new Float32Array(4)) === undefined);
 * using s = new WasmStorage(kernels, 4);
 * assert(kernelAddress(kernels, s.view()) === s.ptr);
 * ```
 */
export function kernelAddress(kernels: Kernels, data: Float32Array): number | undefined {
  const known = live.get(data);
  if (known !== undefined) return known;
  // After a growth `memory.buffer` is a new object, so older views are only found through `live`.
  return data.buffer === kernels.exports.memory.buffer ? data.byteOffset : undefined;
}
