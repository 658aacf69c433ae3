/**
 * Errors across the worker boundary: a worker sends a plain record, the pool recreates the
 * error class by name so `instanceof` works for the caller.
 *
 * @module
 */

import {
  AbortedError,
  BackendUnavailableError,
  InvalidDataError,
  KernelError,
  OutOfMemoryError,
  PrismError,
  SingularMatrixError,
  WasmLoadError,
} from "../core/errors.ts";

/** An error as it crosses `postMessage`. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Fields of the named errors, copied when present. */
  fields: Record<string, unknown>;
}

/**
 * The classes recreated by name. Anything else (a plain `Error` included) arrives as a
 * `KernelError` naming the job, with the original name and message in its message.
 */
const CLASSES: Record<string, ErrorConstructor | (new (...args: never[]) => Error)> = {
  TypeError,
  RangeError,
  PrismError,
  AbortedError,
  BackendUnavailableError,
  InvalidDataError,
  KernelError,
  OutOfMemoryError,
  SingularMatrixError,
  WasmLoadError,
};

const FIELDS = ["kernel", "status", "file", "backend", "position"];

/**
 * Turns what a job threw into a record. A trap becomes a `KernelError` naming the job, since
 * the trap message alone ("unreachable", "memory access out of bounds") does not say where.
 *
 * @param error What was thrown.
 * @param job The job that threw it.
 * @returns The record to post.
 * @throws Never.
 * @example
 * ```ts
 * import { fromWire, toWire } from "./_wire.ts";
 * import assert from "node:assert";
 * const back = fromWire(toWire(new RangeError("k must be positive"), "demo"));
 * assert(back instanceof RangeError && back.message === "k must be positive");
 * ```
 */
export function toWire(error: unknown, job: string): WireError {
  if (error instanceof WebAssembly.RuntimeError) {
    error = new KernelError(
      job,
      `a kernel trapped (${error.message}); this is a bug in prism's kernels or in the job's ` +
        `pointers, please report it with the input's shape`,
      { cause: error },
    );
  }
  if (!(error instanceof Error)) {
    error = new KernelError(job, `the job threw a non-error value: ${String(error)}`);
  }
  const e = error as Error & Record<string, unknown>;
  if (!(e.name in CLASSES)) {
    error = new KernelError(job, `${e.name}: ${e.message}`, { cause: e });
  }
  const out = error as Error & Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const f of FIELDS) if (out[f] !== undefined) fields[f] = out[f];
  return { name: out.name, message: out.message, stack: e.stack, fields };
}

/**
 * Recreates the error a worker sent, with its class, message and fields.
 *
 * @param wire The record.
 * @returns The error to reject with; its stack ends with the worker's stack.
 * @throws Never.
 * @example
 * ```ts
 * import { KernelError } from "../core/errors.ts";
 * import { fromWire, toWire } from "./_wire.ts";
 * import assert from "node:assert";
 * const back = fromWire(toWire(new Error("odd"), "demo_job"));
 * assert(back instanceof KernelError && back.kernel === "demo_job");
 * ```
 */
export function fromWire(wire: WireError): Error {
  const Class = CLASSES[wire.name] ?? KernelError;
  // Reflect.construct with Error as the target makes a real Error (with a stack) whose prototype
  // is the named class, without calling that class's constructor and rewording the message.
  const error = Reflect.construct(Error, [wire.message], Class) as Error & Record<string, unknown>;
  error.name = wire.name;
  Object.assign(error, wire.fields);
  if (wire.stack !== undefined) {
    error.stack = `${error.stack}\n    --- in the worker ---\n${wire.stack}`;
  }
  return error;
}
