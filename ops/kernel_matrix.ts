/**
 * Matrices that live in the kernel module's memory, so `gram()` and `covariance()` compute on
 * them in place, on every pool worker, without copying them in first.
 *
 * The kernel memory is a shared `WebAssembly.Memory` (its buffer is a `SharedArrayBuffer`).
 * A shared memory grows in place and never detaches its buffer: a view taken before a growth
 * stays valid and keeps seeing the same bytes (only `memory.buffer` returns a new, longer
 * `SharedArrayBuffer` object afterwards). So `KernelMatrix.data` need not be re-taken after the
 * memory grows. A non-shared memory (a build without threads) would detach its old buffer on
 * growth, and views of it would read as empty; prism's module always imports a shared memory.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { Matrix } from "../core/types.ts";
import { type Kernels, loadKernels } from "../wasm/loader.ts";

/** A matrix whose `data` is a view into the kernel module's shared memory. */
export interface KernelMatrix extends Matrix {
  /** `rows * cols` floats in kernel memory; fill it directly. */
  readonly data: Float32Array;
  /** The byte address of `data` in kernel memory. */
  readonly ptr: number;
  /** Frees the memory. The view must not be used afterwards; calling it twice is a no-op. */
  free(): void;
  /** Same as `free()`, for `using`. */
  [Symbol.dispose](): void;
}

/** Views handed out by `allocMatrix()` and not yet freed, with their addresses. */
const live = new WeakMap<Float32Array, number>();

/**
 * Allocates a `rows × cols` float32 matrix in the kernel module's memory. Operations given such
 * a matrix (or any `Float32Array` view of the current kernel memory buffer) skip the copy into
 * kernel memory; pool workers read it in place.
 *
 * The view stays valid when the memory grows (shared memory is never detached; see the module
 * docs). Free it with `free()` (or `using`) when done: kernel memory is not garbage-collected.
 *
 * @param rows Rows (pixels).
 * @param cols Columns (bands).
 * @returns The matrix, zero-filled.
 * @throws {TypeError} When `rows` or `cols` is not a whole number.
 * @throws {RangeError} When either is negative or the matrix is 4 GiB or more.
 * @throws {OutOfMemoryError} When the kernel memory cannot grow enough.
 * @throws {WasmLoadError} When the kernel module cannot be loaded.
 * @example
 * ```ts
 * import { allocMatrix } from "./kernel_matrix.ts";
 * import assert from "node:assert";
 * using m = await allocMatrix(3, 2);
 * m.data.set([1, 2, 3, 4, 5, 6]);
 * assert(m.data.buffer instanceof SharedArrayBuffer && m.rows === 3);
 * ```
 */
export async function allocMatrix(rows: number, cols: number): Promise<KernelMatrix> {
  checkInteger("rows", rows);
  checkInteger("cols", cols);
  const bytes = rows * cols * 4;
  if (bytes >= 2 ** 32) {
    throw new RangeError(
      `a ${rows} x ${cols} float32 matrix needs ${bytes} bytes, more than the 4 GiB kernel ` +
        `memory can hold; stream it in row chunks instead`,
    );
  }
  const kernels = await loadKernels();
  const ptr = kernels.alloc(bytes);
  const data = kernels.f32(ptr, rows * cols);
  data.fill(0);
  live.set(data, ptr);
  let freed = false;
  const free = () => {
    if (freed) return;
    freed = true;
    live.delete(data);
    kernels.free(ptr);
  };
  return { data, rows, cols, ptr, free, [Symbol.dispose]: free };
}

/**
 * The kernel-memory address of `data` when it already lives there: a live view from
 * `allocMatrix()`, or any view of the memory's current buffer. `undefined` means "copy it in".
 *
 * @param kernels The loaded kernel module.
 * @param data The values.
 * @returns The byte address, or `undefined`.
 * @throws Never.
 * @example
 * ```ts
 * import { loadKernels } from "../wasm/loader.ts";
 * import { kernelAddress } from "./kernel_matrix.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * assert(kernelAddress(kernels, new Float32Array(4)) === undefined);
 * const ptr = kernels.alloc(16);
 * assert(kernelAddress(kernels, kernels.f32(ptr, 4)) === ptr);
 * kernels.free(ptr);
 * ```
 */
export function kernelAddress(kernels: Kernels, data: Float32Array): number | undefined {
  const known = live.get(data);
  if (known !== undefined) return known;
  // After a growth `memory.buffer` is a new object, so older views are only found through `live`.
  return data.buffer === kernels.exports.memory.buffer ? data.byteOffset : undefined;
}
