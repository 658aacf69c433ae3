/**
 * The one cancellation check every operation, backend host and job loop uses, so an aborted
 * call always says which user-facing operation stopped.
 *
 * @module
 */

import { AbortedError } from "./errors.ts";

/**
 * Throws {@linkcode AbortedError} naming `operation` when `signal` has aborted; returns
 * otherwise. Call it between chunks, never inside a kernel.
 *
 * @param signal The caller's signal, or `undefined` (never aborts).
 * @param operation The user-facing operation as the user called it, e.g. `"covariance()"` or
 *   `"RxDetector.score()"`; backend hosts pass on the name their operation gave them.
 * @throws {AbortedError} When `signal.aborted` is true; `cause` is the signal's reason.
 * @example
 * ```ts
 * import { throwIfAborted } from "./abort.ts";
 * import { AbortedError } from "./errors.ts";
 * import assert from "node:assert";
 * throwIfAborted(undefined, "covariance()");
 * const controller = new AbortController();
 * controller.abort("user pressed stop");
 * assert.throws(() => throwIfAborted(controller.signal, "covariance()"), (e: unknown) =>
 *   e instanceof AbortedError && e.message.startsWith("covariance()") &&
 *   e.cause === "user pressed stop");
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
}
