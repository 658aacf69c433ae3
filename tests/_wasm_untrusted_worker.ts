/**
 * A pool worker with jobs that end their worker or ask for too much on purpose, for
 * tests/wasm_pool_untrusted_test.ts only.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import "../wasm/worker.ts";
import { registerJobs } from "../wasm/job_registry.ts";

registerJobs({
  untrusted_whoami: () => ({ result: self.name }),
  untrusted_close: () => {
    // Ends the worker mid-job: no reply, no error event.
    self.close();
    return new Promise(() => {});
  },
  untrusted_exit: () => {
    Deno.exit(7);
    return new Promise(() => {});
  },
  untrusted_close_later: () => {
    // Replies, then ends while idle: the next job must not be sent to the dead worker.
    setTimeout(() => self.close(), 0);
    return { result: "replied" };
  },
  untrusted_throw_later: () => {
    setTimeout(() => {
      throw new Error("uncaught on purpose");
    }, 0);
    return new Promise(() => {});
  },
  untrusted_alloc: (kernels, payload) => {
    // Asks the kernel heap for `bytes`; frees it when granted.
    const ptr = kernels.alloc((payload as { bytes: number }).bytes);
    kernels.free(ptr);
    return { result: ptr !== 0 };
  },
  untrusted_js_heap: () => {
    // Grows the JavaScript heap without bound (run only in a subprocess with a small heap).
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(10_000).fill(Math.random()));
  },
  untrusted_big_result: (_kernels, payload) => {
    const result = new Float64Array((payload as { length: number }).length);
    return { result, transfer: [result.buffer] };
  },
});
