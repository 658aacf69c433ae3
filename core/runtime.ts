/**
 * Where prism runs: Deno, or a web page (or a page's worker). Deno APIs are touched only inside
 * calls, never at module load, so `mod.ts` imports in a browser; the functions that take file
 * paths call {@linkcode requireDeno} first, so a page gets a message saying what to use instead
 * of `ReferenceError: Deno is not defined`.
 *
 * @module
 */

/**
 * Says whether the Deno namespace exists (Deno, as opposed to a browser page or its workers).
 *
 * @returns `true` under Deno.
 * @example
 * ```ts
 * import { isDeno } from "./runtime.ts";
 * import assert from "node:assert";
 * assert(isDeno());
 * ```
 */
export function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno === "object";
}

/**
 * Throws unless this runtime is Deno: file-path functions call it first.
 *
 * @param call The call as the user made it, e.g. `"readNpy(path)"`.
 * @throws {TypeError} Outside Deno, naming the call and the in-memory way to do the same.
 * @example
 * ```ts
 * import { requireDeno } from "./runtime.ts";
 * requireDeno("readNpy(path)"); // under Deno: returns
 * ```
 */
export function requireDeno(call: string): void {
  if (isDeno()) return;
  throw new TypeError(
    `${call} reads or writes files by path, which only works under Deno; in a web page, read ` +
      `the file's bytes yourself (File.arrayBuffer()) and pass them in memory (readNpy(bytes), ` +
      `a Cube or Matrix) instead`,
  );
}

/**
 * Whether kernel work may be spread over workers sharing one memory: always under Deno; in a
 * page only when it is cross-origin isolated (served with COOP/COEP headers), since browsers
 * refuse to post a shared memory to a worker otherwise.
 *
 * @returns `true` where the worker pool can run.
 * @example
 * ```ts
 * import { sharedMemoryWorkers } from "./runtime.ts";
 * import assert from "node:assert";
 * assert(sharedMemoryWorkers());
 * ```
 */
export function sharedMemoryWorkers(): boolean {
  if (isDeno()) return true;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}
