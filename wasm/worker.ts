/**
 * A pool worker: instantiates the kernel module it is sent once, then runs jobs from
 * `./jobs.ts` by name. Started by `WorkerPool` (`./pool.ts`); it exports nothing.
 *
 * The messages are in `./_protocol.ts`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { findJob, jobNames } from "./jobs.ts";
import { instantiateKernels, type Kernels } from "./kernels.ts";
import type { FromWorker, ToWorker } from "./_protocol.ts";
import { toWire } from "./_wire.ts";

let kernels: Promise<Kernels> | undefined;

async function run(id: number, job: string, payload: unknown): Promise<void> {
  let stage: "load" | "job" = "load";
  try {
    if (kernels === undefined) throw new Error("the worker got a job before its module");
    const k = await kernels;
    stage = "job";
    const fn = findJob(job);
    if (fn === undefined) {
      throw new RangeError(
        `unknown job "${job}"; known jobs: ${jobNames().join(", ")}. ` +
          `Register it with registerJobs() in a module imported by wasm/jobs.ts`,
      );
    }
    const { result, transfer } = await fn(k, payload);
    self.postMessage({ id, ok: true, result } satisfies FromWorker, { transfer: transfer ?? [] });
  } catch (e) {
    const fatal = stage === "load" || e instanceof WebAssembly.RuntimeError;
    self.postMessage({ id, ok: false, error: toWire(e, job), fatal } satisfies FromWorker);
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
  } else {
    void run(message.id, message.job, message.payload);
  }
};
