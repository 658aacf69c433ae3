/**
 * Memory figures of a run and of its steps.
 *
 * - The peak of one piece of work ({@linkcode profiled}): the process's resident-set high-water
 *   mark (Linux's `VmHWM`), reset before the work so the peak is the work's own, exact however
 *   short the spike. Elsewhere (macOS, Windows, a browser, no read permission) it is `undefined`,
 *   never a guess.
 * - A run's RSS start, peak and delta ({@linkcode RssWatch}), sampled on a timer and at every
 *   `sample()` call, portable (Deno.memoryUsage), to within the timer's period.
 * - The WASM kernel memory and the GPU buffer pool ({@linkcode backendMemory}).
 *
 * RSS counts everything the process holds: the JavaScript heap, WASM memories shared with the
 * pool's workers (they are threads of this process) and native allocations such as a software
 * GPU adapter's buffers.
 *
 * @module
 */

import { loadKernels } from "../wasm/loader.ts";
import { getGpu } from "../gpu/device.ts";

const STATUS = "/proc/self/status";
const CLEAR_REFS = "/proc/self/clear_refs";

/**
 * The process's peak resident memory since it started or since the last
 * {@linkcode resetPeakRss}, in bytes; `undefined` where the system does not say.
 *
 * @returns Bytes, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { peakRssBytes } from "./memory.ts";
 * const peak = peakRssBytes();
 * assert(peak === undefined || peak > 0);
 * ```
 */
export function peakRssBytes(): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync(STATUS))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined; // not Linux, no --allow-read, or not Deno
  }
}

/**
 * Starts a new peak: sets the high-water mark to the current resident size (Linux 4.0+, writing
 * `5` to `/proc/self/clear_refs`).
 *
 * @returns Whether the reset happened (false where the system offers none).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resetPeakRss } from "./memory.ts";
 * assert.strictEqual(typeof resetPeakRss(), "boolean");
 * ```
 */
export function resetPeakRss(): boolean {
  try {
    Deno.writeTextFileSync(CLEAR_REFS, "5");
    return true;
  } catch {
    return false;
  }
}

/** What {@linkcode profiled} measured. */
export interface Profiled<T> {
  /** What the work returned. */
  readonly value: T;
  /** Wall-clock milliseconds. */
  readonly ms: number;
  /** The process's peak resident bytes during the work, or `undefined` where unknown. */
  readonly peakRssBytes?: number;
}

/**
 * Runs `work` once, timing it and taking the process's peak resident memory during it.
 *
 * @param work The work; may be async.
 * @returns Its value, milliseconds and peak resident bytes.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { profiled } from "./memory.ts";
 * const p = await profiled(() => new Float64Array(1 << 20).fill(1).length);
 * assert.strictEqual(p.value, 1 << 20);
 * assert(p.ms >= 0);
 * ```
 */
export async function profiled<T>(work: () => T | Promise<T>): Promise<Profiled<T>> {
  const reset = resetPeakRss();
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  return { value, ms, peakRssBytes: reset ? peakRssBytes() : undefined };
}

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
