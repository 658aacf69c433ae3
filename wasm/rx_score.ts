/**
 * The RX scoring family on WASM (`prism_mahalanobis_f32`, kernels/src/mahalanobis.rs; the one
 * place that calls it): squared Mahalanobis distances split over the worker pool, which scores
 * the rows in place in the shared kernel memory (job `rx_mahalanobis`).
 *
 * Data that already lives in the kernel memory is scored where it lies. Other data is copied
 * in chunks into two alternating buffers: the main thread copies chunk i+1 while the workers
 * score chunk i.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { KernelArena } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import { payloadIntegers, registerJobs } from "./job_registry.ts";
import type { Kernels } from "./kernels.ts";
import { loadKernels } from "./loader.ts";
import { defaultPool } from "./pool.ts";
import { kernelAddress } from "./storage.ts";

/** Rows copied and scored per chunk when the data is outside the kernel memory (~8 MiB at 32 bands). */
const CHUNK_VALUES = 2 * 1024 * 1024;
/** Below this many rows per worker a job costs more than it saves. */
const MIN_ROWS_PER_JOB = 4096;

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
  /** 1 when the whitening matrix is lower trapezoidal (`W[c][j] = 0` for `c < j`), else 0. */
  readonly lower: number;
  /** `rows` f32 scores, overwritten. */
  readonly out: number;
}

/** What {@linkcode wasmRxScores} scores: the rows and the fitted model. */
export interface RxScoreParams {
  /** `cols` float64 mean. */
  readonly mean: Float64Array;
  /** `cols × rank` row-major float64 whitening matrix (`S⁺ = W·Wᵀ`). */
  readonly w: Float64Array;
  /** Columns of `w`. */
  readonly rank: number;
  /**
   * `w` is lower trapezoidal (`w[c][j] = 0` for `c < j`, as `whitening(…, { form: "lower" })`
   * makes it): the kernel skips the zero rows, about half the work. Default false.
   */
  readonly lower?: boolean;
}

/**
 * Packs a row-major `cols × k` float64 whitening matrix into the kernel's f32 panel layout
 * (panels of 8 columns, `cols × 8` each, zero-padded), allocated in `arena`.
 *
 * @param arena Where to allocate it.
 * @param whitening `w` (`cols × k` row-major), `cols` and `k`.
 * @returns The pointer; 0 when `k` is 0.
 * @throws {TypeError} When `w` does not hold `cols · k` values.
 * @throws {OutOfMemoryError} When the memory cannot grow.
 * @example
 * ```ts
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { packWhitening } from "./rx_score.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const p = packWhitening(arena, { w: new Float64Array([1, 2]), cols: 2, k: 1 });
 * assert(kernels.f32(p, 16)[8] === 2);
 * ```
 */
export function packWhitening(
  arena: KernelArena,
  whitening: { w: Float64Array; cols: number; k: number },
): number {
  const { w, cols, k } = whitening;
  checkInteger("cols", cols);
  checkInteger("k", k);
  if (w.length !== cols * k) {
    throw new TypeError(`w must hold cols · k = ${cols * k} values, got ${w.length}`);
  }
  if (k === 0) return 0;
  const len = arena.kernels.exports.prism_mahalanobis_packed_len(cols, k);
  const ptr = arena.f32(len, { zero: true });
  const view = arena.kernels.f32(ptr, len);
  for (let c = 0; c < cols; c++) {
    for (let j = 0; j < k; j++) {
      const panel = j >> 3;
      view[panel * 8 * cols + c * 8 + (j & 7)] = w[c * k + j];
    }
  }
  return ptr;
}

/**
 * Scores `call.rows` rows with `prism_mahalanobis_f32` on this instance, with its scratch.
 *
 * @param kernels A loaded module instance (the main thread's, or a worker's over the same memory).
 * @param call The pointers and sizes.
 * @throws {KernelError} When the kernel rejects the sizes.
 * @throws {OutOfMemoryError} When the scratch cannot be allocated.
 * @example
 * ```ts
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { mahalanobisRows, packWhitening } from "./rx_score.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const x = arena.copyIn(new Float32Array([3, 4]));
 * const mu = arena.copyIn(new Float32Array([1, 1]));
 * const wp = packWhitening(arena, { w: new Float64Array([1, 0, 0, 1]), cols: 2, k: 2 });
 * const out = arena.f32(1);
 * mahalanobisRows(kernels, { x, rows: 1, cols: 2, mu, wp, k: 2, lower: 0, out });
 * assert(kernels.f32(out, 1)[0] === 13);
 * ```
 */
export function mahalanobisRows(kernels: Kernels, call: MahalanobisCall): void {
  const ex = kernels.exports;
  using arena = new KernelArena(kernels);
  const scratch = arena.f32(ex.prism_mahalanobis_scratch_len(call.cols));
  const { x, rows, cols, mu, wp, k, lower, out } = call;
  kernels.check(
    "prism_mahalanobis_f32",
    ex.prism_mahalanobis_f32(x, rows, cols, mu, wp, k, lower, out, scratch),
  );
}

/**
 * Squared Mahalanobis distances `‖(x − μ)·W‖²` of every row, in f32, on every pool worker.
 *
 * @param input The rows, mean and whitening matrix.
 * @param options `operation`, `signal`, `onProgress` (rows scored), `pool`.
 * @returns `rows` scores.
 * @throws {AbortedError} When `signal` aborts (between chunks).
 * @throws {OutOfMemoryError} When the kernel memory cannot hold the buffers.
 * @throws {KernelError} When the kernel fails.
 * @example
 * ```ts
 * import { wasmRxScores } from "./rx_score.ts";
 * import assert from "node:assert";
 * const matrix = { data: new Float32Array([3, 4, 1, 1]), rows: 2, cols: 2 };
 * const w = new Float64Array([1, 0, 0, 1]);
 * const s = await wasmRxScores(matrix, {
 *   mean: new Float64Array([1, 1]),
 *   w,
 *   rank: 2,
 *   operation: "RxDetector.score()",
 * });
 * assert(s[0] === 13 && s[1] === 0);
 * ```
 */
export async function wasmRxScores(
  m: Matrix,
  options: HostOptions & RxScoreParams,
): Promise<Float32Array> {
  const input = options;
  const { rank: k } = options;
  const { operation, signal } = options;
  const kernels = await loadKernels();
  const pool = options.pool ?? defaultPool();
  const { rows, cols } = m;
  await using arena = new KernelArena(kernels);
  const mu = arena.copyIn(Float32Array.from(input.mean));
  const wp = packWhitening(arena, { w: input.w, cols, k });
  const lower = input.lower === true ? lowerFlag(input.w, cols, k) : 0;
  const out = arena.f32(rows);
  const scoreRange = (x: number, row0: number, n: number): Promise<unknown> => {
    const jobs = Math.max(1, Math.min(pool.size, Math.floor(n / MIN_ROWS_PER_JOB)));
    const per = Math.ceil(n / jobs);
    const runs: Promise<unknown>[] = [];
    for (let s = 0; s < n; s += per) {
      const call: MahalanobisCall = {
        x: x + s * cols * 4,
        rows: Math.min(per, n - s),
        cols,
        mu,
        wp,
        k,
        lower,
        out: out + (row0 + s) * 4,
      };
      runs.push(arena.track(pool.run("rx_mahalanobis", call)));
    }
    return Promise.all(runs);
  };
  const address = kernelAddress(kernels, m.data);
  if (address !== undefined) {
    await scoreRange(address, 0, rows);
  } else {
    const chunk = Math.max(1, Math.floor(CHUNK_VALUES / Math.max(1, cols)));
    const bufs = [arena.f32(chunk * cols), arena.f32(chunk * cols)];
    let previous: Promise<unknown> | undefined;
    for (let r0 = 0, i = 0; r0 < rows; r0 += chunk, i++) {
      throwIfAborted(signal, operation);
      const n = Math.min(chunk, rows - r0);
      // This buffer's last run (chunk i - 2) was awaited in the previous round.
      const buf = bufs[i & 1];
      kernels.f32(buf, n * cols).set(m.data.subarray(r0 * cols, (r0 + n) * cols));
      const current = scoreRange(buf, r0, n);
      // Chunk i + 1 is copied while chunk i is scored; chunk i - 1 must be done first.
      if (previous) {
        await previous;
        options.onProgress?.({ done: r0, total: rows, unit: "rows" });
      }
      previous = current;
    }
    await previous;
  }
  throwIfAborted(signal, operation);
  options.onProgress?.({ done: rows, total: rows, unit: "rows" });
  return kernels.f32(out, rows).slice();
}

/**
 * The kernel's `lower` flag for a whitening matrix said to be lower trapezoidal, checked: the
 * kernel would silently drop the entries above the diagonal, so a wrong claim must throw.
 */
function lowerFlag(w: Float64Array, cols: number, k: number): number {
  for (let c = 0; c < Math.min(cols, k); c++) {
    for (let j = c + 1; j < k; j++) {
      if (w[c * k + j] !== 0) {
        throw new TypeError(
          `w[${c}][${j}] is ${w[c * k + j]}, so w is not lower trapezoidal; pass lower: false`,
        );
      }
    }
  }
  return 1;
}

registerJobs({
  /** Payload: a {@linkcode MahalanobisCall} whose pointers address the shared memory. */
  rx_mahalanobis(kernels, payload) {
    const keys = ["x", "rows", "cols", "mu", "wp", "k", "lower", "out"] as const;
    mahalanobisRows(kernels, payloadIntegers("rx_mahalanobis", payload, keys));
    return { result: null };
  },
});
