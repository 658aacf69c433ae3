/**
 * Peak memory of a piece of work: the process's resident-set high-water mark (Linux's `VmHWM`),
 * reset before the work so the peak is the work's own. It counts everything the process holds:
 * the JavaScript heap, WASM memories shared with the pool's workers (they are threads of this
 * process) and native allocations such as a software GPU adapter's buffers.
 *
 * Elsewhere (macOS, Windows, a browser, no read permission) the peak is `undefined`, never a
 * guess: tables print it as absent.
 *
 * @module
 */

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
