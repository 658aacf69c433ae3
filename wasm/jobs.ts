/**
 * Every job the pool's workers know. A kernel family adds its jobs with one import line here;
 * the imported module calls `registerJobs()` from `./job_registry.ts`.
 *
 * @example
 * ```ts
 * import { jobNames } from "./jobs.ts";
 * console.assert(jobNames().includes("column_sums"));
 * ```
 *
 * @module
 */

import "./column_sums_job.ts";

export { findJob, jobNames } from "./job_registry.ts";
