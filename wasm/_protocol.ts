/**
 * The messages between `WorkerPool` (`./pool.ts`) and its workers (`./worker.ts`), kept apart
 * from the worker script so the pool's type graph does not pull in the worker's globals.
 *
 * The pool sends `init` once, then `run` per job. The worker answers `init` with `held` once it
 * holds its life lock (see `lock` below), and each `run` with a `done` carrying the run's `id`;
 * `fatal` means the instance may be corrupt (a trap, a failed load) and the pool must replace
 * the worker.
 *
 * @module
 */

import type { WireError } from "./_wire.ts";

/** A message the pool sends. */
export type ToWorker =
  | {
    type: "init";
    module: WebAssembly.Module;
    file: string;
    /** The runtime's shared memory: the worker's instance runs over it, so jobs pass pointers. */
    memory?: WebAssembly.Memory;
    /** The top of this worker's own stack inside that memory. */
    stackTop?: number;
    /**
     * A Web Lock name unique to this worker. The worker takes the lock and holds it for its
     * whole life; the runtime releases it when the worker ends in any way (`self.close()`,
     * `Deno.exit()`, an uncaught error), so the pool, waiting for the same lock, learns of an
     * end that sends no message and no error event.
     */
    lock?: string;
  }
  | { type: "run"; id: number; job: string; payload: unknown };

/** A message the worker sends back. */
export type FromWorker =
  | { type: "held" }
  | { type: "done"; id: number; ok: true; result: unknown }
  | { type: "done"; id: number; ok: false; error: WireError; fatal: boolean };

/** How deep {@linkcode messageBytes} looks into nested objects and arrays. */
const MAX_DEPTH = 8;
/** Arrays longer than this are estimated at 8 bytes per element without visiting each one. */
const WALK_LIMIT = 1024;

/**
 * Estimates the bytes a structured clone of `value` copies: the buffers of typed arrays and
 * `ArrayBuffer`s (views of a `SharedArrayBuffer`, such as kernel memory, are shared, not
 * copied: 0), two bytes per string character, eight per number or array element. Used to hold
 * a job's payload and result to the memory budget (`core/budget.ts`) before it is cloned.
 *
 * @param value A job payload or result.
 * @returns The estimate in bytes (a lower bound for exotic objects such as `Map`).
 * @throws Never.
 * @example
 * ```ts
 * import { messageBytes } from "./_protocol.ts";
 * import assert from "node:assert";
 * assert.strictEqual(messageBytes({ data: new Float32Array(256), rows: 16 }), 1024 + 8);
 * ```
 */
export function messageBytes(value: unknown): number {
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): number => {
    if (typeof v === "string") return 2 * v.length;
    if (v === null || typeof v !== "object") return 8;
    if (seen.has(v)) return 0;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return v.buffer instanceof ArrayBuffer ? v.buffer.byteLength : 0;
    if (v instanceof ArrayBuffer) return v.byteLength;
    if (depth >= MAX_DEPTH) return 0;
    if (Array.isArray(v) && v.length > WALK_LIMIT) return 8 * v.length;
    let sum = 0;
    for (const key of Object.keys(v)) sum += walk((v as Record<string, unknown>)[key], depth + 1);
    return sum;
  };
  return walk(value, 0);
}

/**
 * The part of the Web Locks API (`navigator.locks`) the pool and its workers use. Deno's type
 * library does not declare it, though Deno (2.x) and every current browser implement it.
 */
export interface LifeLocks {
  /** Runs `callback` once the lock `name` is granted; holds it until the callback settles. */
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown>;
}

/**
 * `navigator.locks` where the runtime has it.
 *
 * @returns The lock manager, or `undefined` (no Web Locks: a worker's silent end goes unseen).
 * @throws Never.
 * @example
 * ```ts
 * import { lifeLocks } from "./_protocol.ts";
 * import assert from "node:assert";
 * assert(typeof lifeLocks()?.request === "function");
 * ```
 */
export function lifeLocks(): LifeLocks | undefined {
  return (globalThis.navigator as { locks?: LifeLocks } | undefined)?.locks;
}
