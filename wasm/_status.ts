/**
 * The kernel status codes of `kernels/src/status.rs`, and the error each one becomes.
 * `tests/wasm_loader_test.ts` checks that these numbers match the Rust file.
 *
 * @module
 */

import { InvalidDataError, KernelError, OutOfMemoryError } from "../core/errors.ts";

/** Mirrors `kernels/src/status.rs`. */
export const STATUS = {
  OK: 0,
  INVALID_ARGUMENT: 1,
  OUT_OF_MEMORY: 2,
  NON_FINITE: 3,
  NO_CONVERGENCE: 4,
} as const;

/**
 * The error a non-zero status stands for.
 *
 * @param kernel The export that returned it, e.g. `"prism_column_sums_f32"`.
 * @param status The status it returned (not 0).
 * @param heapBytes The module's memory size now, for the out-of-memory message.
 * @returns The error to throw.
 * @throws Never.
 * @example
 * ```ts
 * import { STATUS, statusError } from "./_status.ts";
 * import assert from "node:assert";
 * const e = statusError("prism_column_sums_f32", STATUS.INVALID_ARGUMENT, 65536);
 * assert(e.message.includes("prism_column_sums_f32"));
 * ```
 */
export function statusError(kernel: string, status: number, heapBytes: number): Error {
  switch (status) {
    case STATUS.INVALID_ARGUMENT:
      return new KernelError(
        kernel,
        "invalid argument: a size is zero where one is needed, or a buffer size overflows " +
          "the 4 GiB wasm32 address space; check the shapes passed and split large inputs",
        { status },
      );
    case STATUS.OUT_OF_MEMORY:
      return new OutOfMemoryError(
        `kernel ${kernel} could not grow WebAssembly memory beyond ${heapBytes} bytes ` +
          `(limit 4 GiB); process the input in smaller chunks`,
      );
    case STATUS.NON_FINITE:
      return new InvalidDataError(
        `kernel ${kernel} found NaN or infinity in its input; the data must be finite, ` +
          `so clean it or skip the rows that hold such values`,
      );
    case STATUS.NO_CONVERGENCE:
      return new KernelError(
        kernel,
        "the iterative method did not converge; check the input for extreme scaling or " +
          "raise the iteration limit",
        { status },
      );
    default:
      return new KernelError(
        kernel,
        `unknown status code; wasm/_status.ts does not know it, so wasm/prism.wasm and ` +
          `the loader are out of step: rebuild with \`deno task build:wasm\``,
        { status },
      );
  }
}
