/**
 * Float32 arrays that live in the kernel module's memory, so a network's weights, gradients
 * and activations are handed to kernels by pointer and never copied between steps.
 *
 * @module
 */

import type { Kernels } from "../wasm/loader.ts";
import { checkInteger } from "../core/validate.ts";

/**
 * A float32 array allocated in WASM memory. `view()` returns a `Float32Array` over it that is
 * recreated when memory has grown (growth detaches old views).
 *
 * @example
 * ```ts
 * import { F32Buffer } from "./buffer.ts";
 * import { loadKernels } from "../wasm/loader.ts";
 * import assert from "node:assert";
 * const b = new F32Buffer(await loadKernels(), 3);
 * b.view().set([1, 2, 3]);
 * assert(b.view()[2] === 3);
 * b.free();
 * ```
 */
export class F32Buffer {
  /** The module that owns the memory. */
  readonly kernels: Kernels;
  /** Byte address in the module's memory. */
  readonly ptr: number;
  /** Number of float32 values. */
  readonly length: number;
  #view: Float32Array;

  /**
   * Allocates `length` zeroed values.
   *
   * @param kernels The loaded kernel module (`loadKernels()`).
   * @param length Number of float32 values.
   * @throws {TypeError} When `length` is not a whole number.
   * @throws {RangeError} When `length` is negative or beyond 1 Gi values.
   * @throws {OutOfMemoryError} When WASM memory cannot grow enough.
   */
  constructor(kernels: Kernels, length: number) {
    checkInteger("length", length, 0, 2 ** 30 - 1);
    this.kernels = kernels;
    this.length = length;
    this.ptr = kernels.alloc(length * 4);
    this.#view = kernels.f32(this.ptr, length);
    this.#view.fill(0);
  }

  /** @returns The values; take a new view after anything that may allocate. */
  view(): Float32Array {
    if (this.#view.buffer !== this.kernels.exports.memory.buffer) {
      this.#view = this.kernels.f32(this.ptr, this.length);
    }
    return this.#view;
  }

  /** Returns the memory to the module's heap; the buffer is unusable afterwards. */
  free(): void {
    this.kernels.free(this.ptr);
  }
}
