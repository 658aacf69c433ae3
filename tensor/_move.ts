/**
 * Copies values onto a backend's storage: the moves behind `toDevice()`, `toWasm()` and
 * `toGpu()`. A move from kernel memory to a GPU buffer queues the upload straight from the
 * kernel-memory view; a move from a GPU buffer reads back once.
 *
 * @module
 */

import type { TensorStorage } from "../core/tensor_storage.ts";
import { getGpu } from "../gpu/device.ts";
import { GpuStorage } from "../gpu/storage.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WasmStorage } from "../wasm/storage.ts";

/**
 * New kernel-memory storage holding `source`'s values.
 *
 * @param source Plain values, or storage on either backend.
 * @returns The storage; the caller frees it.
 * @throws {OutOfMemoryError} When kernel memory cannot hold it.
 */
export async function toWasmStorage(source: Float32Array | TensorStorage): Promise<WasmStorage> {
  const kernels = await loadKernels();
  if (source instanceof Float32Array) return WasmStorage.from(kernels, source);
  if (source instanceof WasmStorage) return WasmStorage.from(kernels, source.view());
  return WasmStorage.from(kernels, await source.read());
}

/**
 * New GPU storage holding `source`'s values, uploaded through the queue (no submit).
 *
 * @param source Plain values, or storage on either backend.
 * @returns The storage; the caller frees it.
 * @throws {BackendUnavailableError} When there is no WebGPU adapter.
 * @throws {RangeError} When it is larger than one GPU buffer may be.
 */
export async function toGpuStorage(source: Float32Array | TensorStorage): Promise<GpuStorage> {
  const gpu = await getGpu();
  if (source instanceof Float32Array) return GpuStorage.fromArray(gpu, source);
  if (source instanceof WasmStorage) return GpuStorage.fromArray(gpu, source.view());
  return GpuStorage.fromArray(gpu, await source.read());
}
