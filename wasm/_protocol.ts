/**
 * The messages between `WorkerPool` (`./pool.ts`) and its workers (`./worker.ts`), kept apart
 * from the worker script so the pool's type graph does not pull in the worker's globals.
 *
 * The pool sends `init` once, then `run` per job. The worker answers each `run` with its `id`;
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
  }
  | { type: "run"; id: number; job: string; payload: unknown };

/** A message the worker sends back. */
export type FromWorker =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: WireError; fatal: boolean };
