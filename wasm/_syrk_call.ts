/**
 * One call of `prism_syrk_shifted_f32` on a row range, shared by the main thread
 * (`ops/_gram_wasm.ts`, small inputs) and the pool's `gram_syrk_range` job (`./gram_jobs.ts`).
 *
 * @module
 */

import type { Kernels } from "./kernels.ts";

/** Pointers into the shared kernel memory and sizes of one SYRK call. */
export interface SyrkCall {
  /** Row-major f32 block of `rows × cols`. */
  readonly x: number;
  readonly rows: number;
  readonly cols: number;
  /** `cols` f32 subtracted from every row. */
  readonly shift: number;
  /** `cols` f64 that Σ(x − shift) is added into. */
  readonly sum: number;
  /** `cols × cols` f64 whose upper triangle Σ(x − shift)ᵀ(x − shift) is added into. */
  readonly gram: number;
  /** `prism_syrk_scratch_len(cols)` f32 of scratch. */
  readonly scratch: number;
}

/**
 * Runs the SYRK kernel on one call's pointers.
 *
 * @param kernels The instance to run on (this thread's).
 * @param call The pointers and sizes.
 * @throws {KernelError} When the kernel rejects its arguments.
 */
export function runSyrk(kernels: Kernels, call: SyrkCall): void {
  const { x, rows, cols, shift, sum, gram, scratch } = call;
  kernels.check(
    "prism_syrk_shifted_f32",
    kernels.exports.prism_syrk_shifted_f32(x, rows, cols, shift, sum, gram, scratch),
  );
}
