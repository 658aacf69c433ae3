/**
 * Matrices that live in the kernel module's memory, so `gram()`, `covariance()` and the other
 * WASM hosts compute on them in place, on every pool worker, without copying them in first.
 * A {@linkcode KernelMatrix} is {@linkcode WasmStorage} with a shape; its `data` stays valid
 * when the memory grows (see `./storage.ts`).
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { Matrix } from "../core/types.ts";
import { loadKernels } from "./loader.ts";
import { WasmStorage } from "./storage.ts";

/** A matrix whose `data` is a view into the kernel module's shared memory. */
export interface KernelMatrix extends Matrix {
  /** `rows * cols` floats in kernel memory; fill it directly. */
  readonly data: Float32Array;
  /** The byte address of `data` in kernel memory. */
  readonly ptr: number;
  /** The storage behind `data` (for a device tensor). */
  readonly storage: WasmStorage;
  /** Frees the memory. The view must not be used afterwards; calling it twice is a no-op. */
  free(): void;
  /** Same as `free()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Allocates a `rows × cols` float32 matrix in the kernel module's memory. Operations given such
 * a matrix (or any `Float32Array` view of the current kernel memory buffer) skip the copy into
 * kernel memory; pool workers read it in place.
 *
 * The view stays valid when the memory grows (shared memory is never detached; see
 * `wasm/storage.ts`). Free it with `free()` (or `using`) when done: kernel memory is not
 * garbage-collected.
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
  return kernelMatrix(new WasmStorage(await loadKernels(), rows * cols), { rows, cols });
}

/**
 * Wraps storage as a `rows × cols` {@linkcode KernelMatrix} (it takes ownership: freeing the
 * matrix frees the storage).
 *
 * @param storage `rows · cols` values.
 * @param shape The rows and columns.
 * @returns The matrix over `storage`.
 * @throws {TypeError} When the shape does not match the storage's length.
 * @example
 * ```ts
 * import { kernelMatrix } from "./kernel_matrix.ts";
 * import { WasmStorage } from "./storage.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * using m = kernelMatrix(new WasmStorage(await loadKernels(), 6), { rows: 2, cols: 3 });
 * assert(m.data.length === 6 && m.ptr === m.storage.ptr);
 * ```
 */
export function kernelMatrix(
  storage: WasmStorage,
  shape: { rows: number; cols: number },
): KernelMatrix {
  const { rows, cols } = shape;
  if (rows * cols !== storage.length) {
    throw new TypeError(
      `a ${rows} x ${cols} matrix needs ${rows * cols} values, the storage holds ${storage.length}`,
    );
  }
  const free = () => storage.free();
  return {
    data: storage.view(),
    rows,
    cols,
    ptr: storage.ptr,
    storage,
    free,
    [Symbol.dispose]: free,
  };
}
