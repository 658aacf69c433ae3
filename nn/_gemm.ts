/**
 * Calls `prism_sgemm` on {@linkcode F32Buffer}s, with one scratch buffer that grows to the
 * largest product seen and is then reused every step.
 *
 * @module
 */

import type { Kernels } from "../wasm/loader.ts";
import { F32Buffer } from "./buffer.ts";

/** One shape of product: `op(A)` is `m x k`, `op(B)` is `k x n`. */
export interface GemmShape {
  /** Use Aᵀ (A stored `k x m`). */
  transA: boolean;
  /** Use Bᵀ (B stored `n x k`). */
  transB: boolean;
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** The shared dimension. */
  k: number;
}

/** Runs `C = alpha · op(A) · op(B) + beta · C` on densely stored buffers. */
export class Gemm {
  readonly #kernels: Kernels;
  #scratch: F32Buffer | undefined;

  constructor(kernels: Kernels) {
    this.#kernels = kernels;
  }

  /** Leading dimensions are the stored column counts; the kernel's status becomes an error. */
  run(s: GemmShape, a: F32Buffer, b: F32Buffer, c: F32Buffer, alpha = 1, beta = 0): void {
    const need = this.#kernels.exports.prism_sgemm_scratch_len(s.m, s.n, s.k);
    if (this.#scratch === undefined || this.#scratch.length < need) {
      this.#scratch?.free();
      this.#scratch = new F32Buffer(this.#kernels, need);
    }
    const status = this.#kernels.exports.prism_sgemm(
      s.transA ? 1 : 0,
      s.transB ? 1 : 0,
      s.m,
      s.n,
      s.k,
      alpha,
      a.ptr,
      s.transA ? s.m : s.k,
      b.ptr,
      s.transB ? s.k : s.n,
      beta,
      c.ptr,
      s.n,
      this.#scratch.ptr,
    );
    this.#kernels.check("prism_sgemm", status);
  }

  dispose(): void {
    this.#scratch?.free();
    this.#scratch = undefined;
  }
}
