/**
 * The one copy of `RxDetector.fitScore()`: plain pixels are copied into kernel memory once, and
 * the fit (mean, covariance) and the scoring both read that copy in place on every pool worker,
 * instead of each pass copying the array in again through its own staging buffers.
 *
 * Only into room the kernel memory already has: memory fresh from the system costs a page fault
 * per 4 KiB on first touch, which here is far dearer than the copy it would save (measured on the
 * 2-core AMD EPYC: 0.98 s to first write 328 MB of grown kernel memory, 19 ms to write it again).
 * Room exists after an earlier call as large (`allocMatrix`, another fit), since kernel memory
 * never shrinks; otherwise the two passes stream the array through their small staging buffers.
 *
 * @module
 */

import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import { cubeAsMatrix } from "../core/validate.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { OutOfMemoryError } from "../core/errors.ts";
import { kernelMatrix } from "../wasm/kernel_matrix.ts";
import { loadKernels } from "../wasm/loader.ts";
import { kernelAddress, WasmStorage } from "../wasm/storage.ts";
import { chooseBackend } from "./route.ts";
import type { MatrixLike } from "./_placement.ts";

/** Pixels for the fit and the score, and how to release them. */
export interface Resident<T> {
  /** The same pixels (and shape) as the input, in kernel memory when it pays. */
  readonly pixels: T;
  /** Frees the copy (a no-op when there is none). */
  [Symbol.dispose](): void;
}

/**
 * Copies `data` into kernel memory when both passes run on WASM, it is a plain array not there
 * yet, and the kernel memory has the room without growing; otherwise hands it back as is.
 *
 * @param data A matrix or a BIP cube (a device tensor is handed back: it lives where it lives).
 * @param options The caller's `backend`.
 * @returns The pixels to pass to the fit and the score, disposable.
 * @throws {RangeError} When `backend` is not a backend name.
 * @example
 * ```ts
 * import { residentPixels } from "./_rx_resident.ts";
 * import assert from "node:assert";
 * const data = new Float32Array(256 * 2).map((_, i) => i % 7);
 * using r = await residentPixels({ data, rows: 256, cols: 2 }, { backend: "wasm" });
 * const m = r.pixels as { data: Float32Array };
 * assert(m.data !== data && m.data.buffer instanceof SharedArrayBuffer && m.data[13] === 6);
 * ```
 */
export async function residentPixels<T extends MatrixLike | Cube>(
  data: T,
  options: Pick<RunOptions, "backend">,
): Promise<Resident<T>> {
  const asIs: Resident<T> = { pixels: data, [Symbol.dispose]() {} };
  if (data instanceof DeviceTensor || typeof data !== "object" || data === null) return asIs;
  const cube = "bands" in data && "height" in data;
  const m: Matrix = cube ? cubeAsMatrix(data as Cube) : data as Matrix;
  const bytes = m.rows * m.cols * 4;
  if (!(m.data instanceof Float32Array) || bytes === 0) return asIs;
  const kernels = await loadKernels();
  if (kernelAddress(kernels, m.data) !== undefined) return asIs; // already there
  const { heapBytes, inUseBytes } = kernels.memory();
  if (heapBytes - inUseBytes < bytes) return asIs; // growing would cost more than it saves
  // Both passes must run on WASM: a GPU pass would upload from the copy, gaining nothing.
  for (
    const [family, work] of [["covariance", m.rows * m.cols * m.cols / 2], [
      "rx",
      m.rows * m.cols * m.cols,
    ]] as const
  ) {
    if ((await chooseBackend(family, { backend: options.backend, work })).backend !== "wasm") {
      return asIs;
    }
  }
  let copy;
  try {
    // Not zeroed: the copy below writes every value.
    const storage = new WasmStorage(kernels, m.rows * m.cols, { zero: false });
    copy = kernelMatrix(storage, { rows: m.rows, cols: m.cols });
  } catch (error) {
    if (error instanceof OutOfMemoryError) return asIs; // streaming needs far less memory
    throw error;
  }
  copy.data.set(m.data);
  const pixels = cube ? { ...(data as Cube), data: copy.data } : { ...m, data: copy.data };
  return { pixels: pixels as T, [Symbol.dispose]: () => copy.free() };
}
