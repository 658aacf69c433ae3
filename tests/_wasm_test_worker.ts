/**
 * A pool worker with extra jobs that fail or dawdle on purpose, for tests/wasm_pool_test.ts and
 * tests/wasm_arena_test.ts only.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import "../wasm/worker.ts";
import { InvalidDataError } from "../core/errors.ts";
import { registerJobs } from "../wasm/job_registry.ts";

registerJobs({
  test_whoami: () => ({ result: self.name }),
  test_throw_range: () => {
    throw new RangeError("bands must be between 1 and 10, got 42");
  },
  test_throw_invalid: () => {
    throw new InvalidDataError("NaN at row 3, column 1", { position: { row: 3, col: 1 } });
  },
  test_throw_plain: () => {
    throw new Error("something odd happened");
  },
  test_trap: (kernels) => {
    // A pointer far past the end of memory: the load inside the kernel traps.
    const out = kernels.alloc(32);
    kernels.exports.prism_column_sums_f32(0xffff_ff00, 1, 4, out);
    return { result: "unreachable" };
  },
  test_delay_write: async (kernels, payload) => {
    // Writes 1 to the f32 at `ptr` after `ms`: a job still writing when its caller has failed.
    const { ptr, ms } = payload as { ptr: number; ms: number };
    await new Promise((resolve) => setTimeout(resolve, ms));
    kernels.f32(ptr, 1)[0] = 1;
    return { result: null };
  },
  test_crash: () => {
    // An error outside any job call ends the worker like a real crash would.
    setTimeout(() => {
      throw new Error("worker crashed on purpose");
    }, 0);
    return new Promise(() => {});
  },
});
