/**
 * Device memory figures for the sweeps' logs, in MiB (bytes / 2²⁰, as PyTorch's
 * `memory_allocated() / 1024²`): on the CPU the kernel heap (one shared WebAssembly memory, all
 * pool workers included), on the GPU prism's buffer pool, the only account WebGPU allows.
 *
 * @module
 */

import { loadKernels } from "../wasm/loader.ts";
import { getGpu } from "../gpu/device.ts";

/** A sweep's device: `cpu` runs on WASM, `gpu` on WebGPU. */
export type SweepDevice = "cpu" | "gpu";

/** The backend a device runs on. */
export function backendOf(device: SweepDevice): "wasm" | "webgpu" {
  return device === "cpu" ? "wasm" : "webgpu";
}

/** Memory in MiB: allocated (in use), reserved (held) and the peak. */
export interface MemoryFigures {
  allocatedMb: number;
  reservedMb: number;
  peakMb: number;
}

const MIB = 2 ** 20;

/**
 * Starts a new peak on the CPU (the kernel allocator's high-water mark). The GPU pool's peak
 * cannot be reset: it is the pool's since the device opened, which the sweep notes.
 */
export async function resetPeak(device: SweepDevice): Promise<void> {
  if (device === "cpu") (await loadKernels()).resetPeak();
}

/** The device's memory now, and its peak since {@linkcode resetPeak}. */
export async function memoryNow(device: SweepDevice): Promise<MemoryFigures> {
  if (device === "cpu") {
    const m = (await loadKernels()).memory();
    return {
      allocatedMb: m.inUseBytes / MIB,
      reservedMb: m.heapBytes / MIB,
      peakMb: m.peakBytes / MIB,
    };
  }
  const s = (await getGpu()).pool.stats();
  return {
    allocatedMb: s.inUseBytes / MIB,
    reservedMb: s.allocatedBytes / MIB,
    peakMb: s.peakBytes / MIB,
  };
}

/**
 * An error as a log's `error` field: exactly `OOM` for running out of memory (§2 logs it so and
 * its plots filter on it), else the error's name and message.
 */
export function errorField(error: unknown): string {
  if (error instanceof Error && error.name === "OutOfMemoryError") return "OOM";
  if (
    error instanceof RangeError &&
    /out of memory|maximum memory size|allocation failed/i.test(error.message)
  ) {
    return "OOM";
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
