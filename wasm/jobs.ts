/**
 * Every job the pool's workers know. A kernel family adds its jobs with one import line here;
 * the imported module calls `registerJobs()` from `./job_registry.ts`.
 *
 * @example
 * ```ts
 * import { jobNames } from "./jobs.ts";
 * import assert from "node:assert";
 * assert(jobNames().includes("column_sums"));
 * ```
 *
 * @module
 */

import "./column_sums_job.ts";
import "./_conv_calls.ts";
import "./eigen.ts";
import "./gemm.ts";
import "./gram.ts";
import "./rx_score.ts";

export { findJob, jobNames } from "./job_registry.ts";
