/**
 * Memory figures of a run: the process's resident set (RSS) at the start, now and at its peak,
 * the WASM kernel memory, and the GPU buffer pool when the run opened a GPU. RSS is sampled on a
 * timer and at every `sample()` call, so a peak between two calls of a long step is still seen
 * (to within the timer's period).
 *
 * @module
 */

import { loadKernels } from "../wasm/loader.ts";
import { getGpu } from "../gpu/device.ts";

/** Process memory over a run, in bytes. */
export interface RssFigures {
  /** RSS when the watch started. */
  readonly startBytes: number;
  /** The largest RSS seen. */
  readonly peakBytes: number;
  /** RSS now minus at the start (negative when memory was returned). */
  readonly deltaBytes: number;
}

/** Backend memory, in bytes; `null` where that backend holds nothing of this run. */
export interface BackendMemory {
  /** The WASM kernel memory's size (it only grows). */
  readonly wasmHeapBytes: number;
  /** The most kernel memory allocated at once. */
  readonly wasmPeakBytes: number;
  /** Bytes the GPU pool holds now, or `null` when the run did not use the GPU. */
  readonly gpuPoolBytes: number | null;
  /** The most the GPU pool held, or `null` when the run did not use the GPU. */
  readonly gpuPoolPeakBytes: number | null;
}

/**
 * Watches the process's RSS: started on construction, sampled every `periodMs` and on each
 * {@linkcode RssWatch.sample} call, until disposed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RssWatch } from "./memory.ts";
 * using watch = new RssWatch();
 * const big = new Float64Array(4_000_000).fill(1); // 32 MB touched
 * watch.sample();
 * assert(big[0] === 1 && watch.figures().peakBytes >= watch.figures().startBytes);
 * ```
 */
export class RssWatch implements Disposable {
  #start: number;
  #peak: number;
  #timer: ReturnType<typeof setInterval>;

  /** @param periodMs How often to sample between calls (default 50 ms). */
  constructor(periodMs = 50) {
    this.#start = Deno.memoryUsage().rss;
    this.#peak = this.#start;
    this.#timer = setInterval(() => this.sample(), periodMs);
    // The watch must not keep a finished program alive. (Deno's timers are numbers; the type
    // says Timeout only where node's types are in scope.)
    Deno.unrefTimer(Number(this.#timer));
  }

  /**
   * Reads RSS now and keeps the peak.
   *
   * @returns RSS now, in bytes.
   */
  sample(): number {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.#peak) this.#peak = rss;
    return rss;
  }

  /**
   * The figures so far (samples once more first).
   *
   * @returns Start, peak and delta.
   */
  figures(): RssFigures {
    const now = this.sample();
    return { startBytes: this.#start, peakBytes: this.#peak, deltaBytes: now - this.#start };
  }

  /** Stops the timer. */
  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

/**
 * The WASM kernel memory and, when `gpuUsed`, the GPU pool's counters.
 *
 * @param gpuUsed Whether the run ran anything on the GPU: the pool is read only then, so
 *   measuring never opens a device a run did not use.
 * @returns The figures.
 * @throws {WasmLoadError} When the kernel module cannot be loaded.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backendMemory } from "./memory.ts";
 * const m = await backendMemory(false);
 * assert(m.wasmHeapBytes > 0 && m.gpuPoolBytes === null);
 * ```
 */
export async function backendMemory(gpuUsed: boolean): Promise<BackendMemory> {
  const wasm = (await loadKernels()).memory();
  let gpuPoolBytes: number | null = null;
  let gpuPoolPeakBytes: number | null = null;
  if (gpuUsed) {
    try {
      const stats = (await getGpu()).pool.stats();
      gpuPoolBytes = stats.allocatedBytes;
      gpuPoolPeakBytes = stats.peakBytes;
    } catch {
      // The device went away (released, lost): nothing to report, not a failure of the run.
    }
  }
  return {
    wasmHeapBytes: wasm.heapBytes,
    wasmPeakBytes: wasm.peakBytes,
    gpuPoolBytes,
    gpuPoolPeakBytes,
  };
}
