/**
 * Registers the `column_sums` job: payload a `Matrix`, result the `Float64Array` of its column
 * sums (transferred).
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { columnSums } from "./column_sums.ts";
import { registerJobs } from "./job_registry.ts";

registerJobs({
  column_sums(kernels, payload) {
    const sums = columnSums(kernels, payload as Matrix);
    return { result: sums, transfer: [sums.buffer] };
  },
});
