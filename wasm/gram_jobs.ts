/**
 * Registers the Gram jobs. Both take only pointers into the shared kernel memory, allocated
 * by the caller: a worker computes its part of the input in place and adds into its own
 * float64 outputs, which the caller merges (`ops/_gram_wasm.ts`). Results are `null`.
 *
 * - `gram_syrk_range`: `{ x, rows, cols, shift, sum, gram, scratch }`, one call of
 *   `prism_syrk_shifted_f32` on a row range.
 * - `gram_rows_range`: `{ a, rows, ld, c0, c1, gram, scratch, staging, panel }`, the Gram of the
 *   rows `AAᵀ` restricted to columns `c0..c1` of a row-major matrix with `ld` columns: the columns
 *   are copied `panel` at a time into `staging` (`rows * panel` floats), since the kernel needs a
 *   contiguous block, then `prism_gram_rows_f32` adds each panel's Gram.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import { registerJobs } from "./job_registry.ts";
import { runSyrk } from "./_syrk_call.ts";

/** Reads whole, non-negative numbers from a payload; the message names the job and field. */
function fields<K extends string>(job: string, payload: unknown, keys: readonly K[]) {
  if (payload === null || typeof payload !== "object") {
    throw new TypeError(`${job} takes an object payload, got ${String(payload)}`);
  }
  const out = {} as Record<K, number>;
  for (const key of keys) {
    out[key] = checkInteger(`${job} payload.${key}`, (payload as Record<string, number>)[key]);
  }
  return out;
}

registerJobs({
  gram_syrk_range(kernels, payload) {
    const p = fields("gram_syrk_range", payload, [
      "x",
      "rows",
      "cols",
      "shift",
      "sum",
      "gram",
      "scratch",
    ]);
    runSyrk(kernels, p);
    return { result: null };
  },
  gram_rows_range(kernels, payload) {
    const p = fields("gram_rows_range", payload, [
      "a",
      "rows",
      "ld",
      "c0",
      "c1",
      "gram",
      "scratch",
      "staging",
      "panel",
    ]);
    if (p.c1 > p.ld || p.c0 > p.c1 || p.panel < 1) {
      throw new RangeError(
        `gram_rows_range: columns ${p.c0}..${p.c1} in panels of ${p.panel} do not fit ${p.ld}`,
      );
    }
    for (let c = p.c0; c < p.c1; c += p.panel) {
      const w = Math.min(p.panel, p.c1 - c);
      // Fresh views each panel: another thread may have grown the memory meanwhile.
      const src = kernels.f32(p.a, p.rows * p.ld);
      const dst = kernels.f32(p.staging, p.rows * w);
      for (let r = 0; r < p.rows; r++) {
        const from = r * p.ld + c;
        dst.set(src.subarray(from, from + w), r * w);
      }
      kernels.check(
        "prism_gram_rows_f32",
        kernels.exports.prism_gram_rows_f32(p.staging, p.rows, w, p.gram, p.scratch),
      );
    }
    return { result: null };
  },
});
