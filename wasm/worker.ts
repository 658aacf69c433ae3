/**
 * A pool worker: instantiates the kernel module it is sent once, then runs jobs from
 * `./jobs.ts` by name. Started by `WorkerPool` (`./pool.ts`); it exports nothing.
 *
 * The messages are in `./_protocol.ts`. The worker holds a Web Lock for its whole life, so the
 * pool learns when it ends without a word (`self.close()`, `Deno.exit()`), and it refuses to
 * post a result above the memory budget (`core/budget.ts`): the caller gets `OutOfMemoryError`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { findJob, jobNames } from "./jobs.ts";
import { instantiateKernels, type Kernels } from "./kernels.ts";
import { type FromWorker, lifeLocks, messageBytes, type ToWorker } from "./_protocol.ts";
import { toWire } from "./_wire.ts";
import { checkBudget } from "../core/budget.ts";

let kernels: Promise<Kernels> | undefined;
/** Settles once this worker holds its life lock (at once where there is none): see `init`. */
let held: Promise<void> = Promise.resolve();

/**
 * Takes the lock named `name` and never lets it go: the runtime releases it when this worker
 * ends, however it ends, which is how the pool learns of a worker that closed itself.
 */
function holdLifeLock(name: string): Promise<void> {
  const locks = lifeLocks();
  if (locks === undefined) return Promise.resolve(); // no Web Locks: the pool watches nothing
  return new Promise<void>((resolve) => {
    locks.request(name, {}, () => {
      resolve();
      self.postMessage({ type: "held" } satisfies FromWorker);
      return new Promise<never>(() => {}); // held until the worker ends
    }).catch(() => resolve());
  });
}

async function run(id: number, job: string, payload: unknown): Promise<void> {
  let stage: "load" | "job" = "load";
  try {
    if (kernels === undefined) throw new Error("the worker got a job before its module");
    const k = await kernels;
    await held; // the pool watches this worker's end from here on
    stage = "job";
    const fn = findJob(job);
    if (fn === undefined) {
      throw new RangeError(
        `unknown job "${job}"; known jobs: ${jobNames().join(", ")}. ` +
          `Register it with registerJobs() in a module imported by wasm/jobs.ts`,
      );
    }
    const { result, transfer } = await fn(k, payload);
    checkBudget(
      messageBytes(result),
      `the result of pool job "${job}"`,
      "ask the job for a smaller part of the result at a time",
    );
    self.postMessage(
      { type: "done", id, ok: true, result } satisfies FromWorker,
      { transfer: transfer ?? [] },
    );
  } catch (e) {
    const fatal = stage === "load" || e instanceof WebAssembly.RuntimeError;
    self.postMessage(
      { type: "done", id, ok: false, error: toWire(e, job), fatal } satisfies FromWorker,
    );
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "init") {
    kernels = instantiateKernels(message.module, message.file, {
      memory: message.memory,
      stackTop: message.stackTop,
    });
    kernels.catch(() => {}); // reported to each job instead
    if (message.lock !== undefined) held = holdLifeLock(message.lock);
  } else {
    void run(message.id, message.job, message.payload);
  }
};
