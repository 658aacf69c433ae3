/**
 * Column sums of a matrix through `prism_column_sums_f32`: the typed call, with buffers managed.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";
import { KernelArena } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import type { Kernels } from "./kernels.ts";
import { loadKernels } from "./loader.ts";
import { kernelAddress } from "./storage.ts";

/**
 * Sums each column of `matrix` in the kernel module: float32 within blocks of 256 rows, float64
 * across them.
 *
 * @param kernels A loaded module instance (`loadKernels()`, or the one a worker job receives).
 * @param matrix The row-major input.
 * @returns `cols` float64 sums.
 * @throws {TypeError} When `matrix` is not a well-formed `{ data, rows, cols }`.
 * @throws {OutOfMemoryError} When the module cannot hold a copy of the input.
 * @throws {KernelError} When the kernel rejects the sizes.
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import { columnSums } from "./column_sums.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const sums = columnSums(kernels, { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 });
 * assert(sums[0] === 9 && sums[1] === 12);
 * ```
 */
export function columnSums(kernels: Kernels, matrix: Matrix): Float64Array<ArrayBuffer> {
  const { data, rows, cols } = checkMatrix(matrix);
  using arena = new KernelArena(kernels);
  // Kernel-memory data (a device tensor, allocMatrix) is read in place.
  const x = kernelAddress(kernels, data) ?? arena.copyIn(data);
  const out = arena.f64(cols, { zero: true });
  kernels.check("prism_column_sums_f32", kernels.exports.prism_column_sums_f32(x, rows, cols, out));
  return kernels.f64(out, cols).slice();
}

/**
 * The WASM host of the `reduce` family: column sums in float64 (float32 blocks merged in float64),
 * reading kernel-memory input in place.
 *
 * @param input `{ data, rows, cols }`, row-major.
 * @param options `operation` (named when aborted), `signal`, `onProgress`.
 * @returns `cols` sums.
 * @throws {TypeError} When the matrix is malformed.
 * @throws {AbortedError} When `signal` has aborted.
 * @throws {OutOfMemoryError} When kernel memory cannot hold a copy of a plain input.
 * @example
 * ```ts
 * import { wasmColumnSums } from "./column_sums.ts";
 * import assert from "node:assert";
 * const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const sums = await wasmColumnSums(m, { operation: "columnSums()" });
 * assert(sums[0] === 4 && sums[1] === 6);
 * ```
 */
export async function wasmColumnSums(input: Matrix, options: HostOptions): Promise<Float64Array> {
  throwIfAborted(options.signal, options.operation);
  const sums = columnSums(await loadKernels(), input);
  options.onProgress?.({ done: input.rows, total: input.rows, unit: "rows" });
  return sums;
}
