/**
 * How an operation that calls another (`RxDetector.fit()` calling `covariance()` calling
 * `gram()`) passes its own user-facing name along, so a cancellation deep inside says which
 * call the user made, never an internal function's name.
 *
 * The name travels as an `operation` field on the options object the inner call already takes;
 * public option types do not declare it (users never set it), the options objects inner calls
 * receive simply carry it.
 *
 * @module
 */

/** Options as an operation passes them to the operations it calls. */
export interface NestedOptions {
  /** The user-facing operation the work runs for, e.g. `"RxDetector.fit()"`. */
  readonly operation?: string;
}

/**
 * The user-facing operation an options object carries, or `fallback` (the called function's own
 * name) when it was called directly.
 *
 * @param options The options the function received (or `undefined`).
 * @param fallback The function's own user-facing name, e.g. `"gram()"`.
 * @returns The name to report in `AbortedError` and progress.
 * @example
 * ```ts
 * import { operationOf } from "./operation.ts";
 * import assert from "node:assert";
 * assert(operationOf({}, "gram()") === "gram()");
 * assert(operationOf({ operation: "covariance()" }, "gram()") === "covariance()");
 * ```
 */
export function operationOf(options: object | undefined, fallback: string): string {
  const name = (options as NestedOptions | undefined)?.operation;
  return typeof name === "string" && name !== "" ? name : fallback;
}
