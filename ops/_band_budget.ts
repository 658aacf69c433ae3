/**
 * The memory check of state that grows as bands²: a covariance's sums, RX's inversion. Decided
 * from the band count alone, before anything is allocated, so a tiny file with 20,000 bands
 * fails at once with advice instead of growing the process by gigabytes.
 *
 * @module
 */

import { checkBudget } from "../core/budget.ts";

/**
 * Refuses `matrices` float64 matrices of `bands × bands` when they are over the memory budget.
 *
 * @param bands The band count.
 * @param matrices How many `bands × bands` float64 matrices the caller holds at once.
 * @param what What they are for, e.g. `"the covariance"`.
 * @throws {OutOfMemoryError} When `matrices · bands² · 8` bytes are over the budget; the
 *   advice is to use fewer bands (a subset, or PCA/MNF first).
 * @example
 * ```ts
 * import { checkBandBudget } from "./_band_budget.ts";
 * import { OutOfMemoryError } from "../core/errors.ts";
 * import assert from "node:assert";
 * checkBandBudget(200, 3, "the covariance");
 * assert.throws(() => checkBandBudget(65535, 3, "the covariance"), OutOfMemoryError);
 * ```
 */
export function checkBandBudget(bands: number, matrices: number, what: string): void {
  checkBudget(
    matrices * bands * bands * 8,
    `${what} of ${bands} bands (${matrices} matrices of ${bands} x ${bands} float64)`,
    "use fewer bands: a band subset, or reduce them first (PCA or MNF to a few dozen " +
      "components); this state grows as bands², and RX's inversion time as bands³",
  );
}
