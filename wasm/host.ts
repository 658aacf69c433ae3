/**
 * What every WASM host function (`./gram.ts`, `./rx_score.ts`, `./gemm.ts`) takes besides its
 * input: the caller's cancellation and progress, the user-facing operation name for messages,
 * and the pool to run on.
 *
 * @module
 */

import type { RunOptions } from "../core/types.ts";
import type { WorkerPool } from "./pool.ts";

/** Options every WASM host accepts. */
export interface HostOptions extends Pick<RunOptions, "signal" | "onProgress"> {
  /**
   * The operation as the user called it (`"covariance()"`, `"RxDetector.score()"`): an abort
   * names it (`throwIfAborted` in `core/abort.ts`).
   */
  operation: string;
  /** The pool to split work over (tests); default `defaultPool()`. */
  pool?: WorkerPool;
}
