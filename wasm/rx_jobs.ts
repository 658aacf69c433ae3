/**
 * The RX scoring kernel `prism_mahalanobis_f32` (kernels/src/mahalanobis.rs): its typed call on
 * pointers into the shared kernel memory, and the pool job `rx_mahalanobis` that runs it on a
 * range of rows in place, so every core scores its own rows with no copy.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import { registerJobs } from "./job_registry.ts";
import type { Kernels } from "./kernels.ts";

/** Pointers (byte addresses in the shared kernel memory) and sizes of one scoring call. */
export interface MahalanobisCall {
  /** Row-major f32 `rows × cols` block. */
  readonly x: number;
  readonly rows: number;
  readonly cols: number;
  /** `cols` f32: the mean. */
  readonly mu: number;
  /** The packed whitening matrix ({@linkcode packWhitening}). */
  readonly wp: number;
  /** Columns of the whitening matrix (its rank). */
  readonly k: number;
  /** `rows` f32 scores, overwritten. */
  readonly out: number;
}

/**
 * Packs a row-major `cols × k` float64 whitening matrix into the kernel's f32 panel layout
 * (panels of 8 columns, `cols × 8` each, zero-padded), allocated in the kernel memory.
 *
 * @param kernels A loaded module instance.
 * @param w `cols × k` row-major values.
 * @param cols Rows of `w`.
 * @param k Columns of `w`.
 * @returns The pointer (free it with `kernels.free`); 0 when `k` is 0.
 * @throws {TypeError} When `w` does not hold `cols · k` values.
 * @throws {OutOfMemoryError} When the memory cannot grow.
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import { packWhitening } from "./rx_jobs.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const p = packWhitening(kernels, new Float64Array([1, 2]), 2, 1);
 * assert(kernels.f32(p, 16)[8] === 2);
 * kernels.free(p);
 * ```
 */
export function packWhitening(kernels: Kernels, w: Float64Array, cols: number, k: number): number {
  checkInteger("cols", cols);
  checkInteger("k", k);
  if (w.length !== cols * k) {
    throw new TypeError(`w must hold cols · k = ${cols * k} values, got ${w.length}`);
  }
  if (k === 0) return 0;
  const len = kernels.exports.prism_mahalanobis_packed_len(cols, k);
  const ptr = kernels.alloc(len * 4);
  const view = kernels.f32(ptr, len);
  view.fill(0);
  for (let c = 0; c < cols; c++) {
    for (let j = 0; j < k; j++) {
      const panel = j >> 3;
      view[panel * 8 * cols + c * 8 + (j & 7)] = w[c * k + j];
    }
  }
  return ptr;
}

/**
 * Scores `call.rows` rows with `prism_mahalanobis_f32` on this thread, allocating its scratch.
 *
 * @param kernels A loaded module instance (the main thread's, or a worker's over the same memory).
 * @param call The pointers and sizes.
 * @throws {KernelError} When the kernel rejects the sizes.
 * @throws {OutOfMemoryError} When the scratch cannot be allocated.
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import { mahalanobisRows, packWhitening } from "./rx_jobs.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const x = kernels.copyIn(new Float32Array([3, 4]));
 * const mu = kernels.copyIn(new Float32Array([1, 1]));
 * const wp = packWhitening(kernels, new Float64Array([1, 0, 0, 1]), 2, 2);
 * const out = kernels.alloc(4);
 * mahalanobisRows(kernels, { x, rows: 1, cols: 2, mu, wp, k: 2, out });
 * assert(kernels.f32(out, 1)[0] === 13);
 * for (const p of [x, mu, wp, out]) kernels.free(p);
 * ```
 */
export function mahalanobisRows(kernels: Kernels, call: MahalanobisCall): void {
  const ex = kernels.exports;
  const scratch = kernels.alloc(Math.max(4, ex.prism_mahalanobis_scratch_len(call.cols) * 4));
  try {
    kernels.check(
      "prism_mahalanobis_f32",
      ex.prism_mahalanobis_f32(
        call.x,
        call.rows,
        call.cols,
        call.mu,
        call.wp,
        call.k,
        call.out,
        scratch,
      ),
    );
  } finally {
    kernels.free(scratch);
  }
}

registerJobs({
  /** Payload: a {@linkcode MahalanobisCall} whose pointers address the shared memory. */
  rx_mahalanobis(kernels, payload) {
    const call = payload as MahalanobisCall;
    for (const key of ["x", "rows", "cols", "mu", "wp", "k", "out"] as const) {
      checkInteger(`rx_mahalanobis payload.${key}`, call?.[key]);
    }
    mahalanobisRows(kernels, call);
    return { result: null };
  },
});
