/**
 * The jobs a pool worker can run, by name. A kernel family registers its jobs when its module
 * is imported, and `wasm/jobs.ts` imports every such module, one line each.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { Kernels } from "./kernels.ts";

/** What a job hands back: the result and the buffers to transfer (not copy) with it. */
export interface JobResult {
  /** Any structured-cloneable value. */
  readonly result: unknown;
  /** Buffers inside `result` to move to the caller without copying. */
  readonly transfer?: Transferable[];
}

/**
 * A job: runs in a worker with that worker's module instance. It validates its own payload
 * (it arrives as `unknown`) and throws the usual errors; they reach the caller by name.
 */
export type Job = (kernels: Kernels, payload: unknown) => JobResult | Promise<JobResult>;

const registry = new Map<string, Job>();

/**
 * Adds jobs to the registry of this thread.
 *
 * @param jobs Job functions by name; names are snake_case, e.g. `column_sums`.
 * @throws {TypeError} When a name is already taken (two families would shadow each other).
 * @example
 * ```ts
 * import { findJob, registerJobs } from "./job_registry.ts";
 * import assert from "node:assert";
 * registerJobs({ doc_example_echo: (_kernels, payload) => ({ result: payload }) });
 * assert(findJob("doc_example_echo") !== undefined);
 * ```
 */
export function registerJobs(jobs: Readonly<Record<string, Job>>): void {
  for (const [name, job] of Object.entries(jobs)) {
    if (registry.has(name)) {
      throw new TypeError(`a job named "${name}" is already registered; pick another name`);
    }
    if (typeof job !== "function") {
      throw new TypeError(`job "${name}" must be a function (kernels, payload) => JobResult`);
    }
    registry.set(name, job);
  }
}

/**
 * Looks a job up by name.
 *
 * @param name The job's name.
 * @returns The job, or `undefined` when none has that name.
 * @throws Never.
 * @example
 * ```ts
 * import { findJob } from "./job_registry.ts";
 * import assert from "node:assert";
 * assert(findJob("no_such_job") === undefined);
 * ```
 */
export function findJob(name: string): Job | undefined {
  return registry.get(name);
}

/**
 * The names of all registered jobs, sorted, for messages.
 *
 * @returns The names.
 * @throws Never.
 * @example
 * ```ts
 * import { jobNames } from "./job_registry.ts";
 * import assert from "node:assert";
 * assert(Array.isArray(jobNames()));
 * ```
 */
export function jobNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Reads whole, non-negative numbers (pointers, sizes, flags) from a job's payload; the message
 * names the job and the field.
 *
 * @param job The job's name, for messages.
 * @param payload What the job received.
 * @param keys The fields to read.
 * @returns The fields by name.
 * @throws {TypeError} When the payload is not an object or a field is not a whole number.
 * @throws {RangeError} When a field is negative.
 * @example
 * ```ts
 * import { payloadIntegers } from "./job_registry.ts";
 * import assert from "node:assert";
 * const p = payloadIntegers("demo", { x: 16, rows: 2 }, ["x", "rows"]);
 * assert(p.x === 16 && p.rows === 2);
 * assert.throws(() => payloadIntegers("demo", { x: -1 }, ["x"]), RangeError);
 * ```
 */
export function payloadIntegers<K extends string>(
  job: string,
  payload: unknown,
  keys: readonly K[],
): Record<K, number> {
  if (payload === null || typeof payload !== "object") {
    throw new TypeError(`${job} takes an object payload, got ${String(payload)}`);
  }
  const out = {} as Record<K, number>;
  for (const key of keys) {
    out[key] = checkInteger(`${job} payload.${key}`, (payload as Record<string, number>)[key]);
  }
  return out;
}
