/**
 * RX scoring on the WASM backend: splits the rows over the worker pool, which scores them in
 * place in the shared kernel memory (`rx_mahalanobis` job, wasm/rx_jobs.ts).
 *
 * Data that already lives in the kernel memory (a `Float32Array` over its buffer) is scored
 * where it lies. Other data is copied in chunks into two alternating buffers: the main thread
 * copies chunk i+1 while the workers score chunk i.
 *
 * @module
 */

import { AbortedError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { loadKernels } from "../wasm/loader.ts";
import { defaultPool } from "../wasm/pool.ts";
import { type MahalanobisCall, packWhitening } from "../wasm/rx_jobs.ts";

/** Rows copied and scored per chunk when the data is outside the kernel memory (~8 MiB at 32 bands). */
const CHUNK_VALUES = 2 * 1024 * 1024;
/** Below this many rows per worker a job costs more than it saves. */
const MIN_ROWS_PER_JOB = 4096;

/**
 * Squared Mahalanobis distances `‖(x − μ)·W‖²` of every row of `m`, in f32.
 *
 * @param m The rows (validated by the caller).
 * @param mean `cols` float64 mean.
 * @param w `cols × k` row-major float64 whitening matrix.
 * @param k Its columns.
 * @param signal Cancels between chunks.
 * @returns `rows` scores.
 */
export async function scoreWasm(
  m: Matrix,
  mean: Float64Array,
  w: Float64Array,
  k: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const kernels = await loadKernels();
  const pool = defaultPool();
  const { rows, cols } = m;
  const ptrs: number[] = [];
  const keep = (p: number) => (ptrs.push(p), p);
  // Runs still using the kernel memory; awaited before anything is freed, even on error.
  const inFlight = new Set<Promise<unknown>>();
  try {
    const mu = keep(kernels.copyIn(Float32Array.from(mean)));
    const wp = keep(packWhitening(kernels, w, cols, k));
    const out = keep(kernels.alloc(Math.max(4, rows * 4)));
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
          out: out + (row0 + s) * 4,
        };
        runs.push(pool.run("rx_mahalanobis", call));
      }
      const all = Promise.all(runs);
      inFlight.add(all);
      all.then(() => inFlight.delete(all), () => {});
      return all;
    };
    if (m.data.buffer === kernels.exports.memory.buffer) {
      await scoreRange(m.data.byteOffset, 0, rows);
    } else {
      const chunk = Math.max(1, Math.floor(CHUNK_VALUES / Math.max(1, cols)));
      const bufs = [keep(kernels.alloc(chunk * cols * 4)), keep(kernels.alloc(chunk * cols * 4))];
      let previous: Promise<unknown> | undefined;
      for (let r0 = 0, i = 0; r0 < rows; r0 += chunk, i++) {
        if (signal?.aborted) throw new AbortedError("RX scoring", { cause: signal.reason });
        const n = Math.min(chunk, rows - r0);
        // This buffer's last run (chunk i - 2) was awaited in the previous round.
        const buf = bufs[i & 1];
        kernels.f32(buf, n * cols).set(m.data.subarray(r0 * cols, (r0 + n) * cols));
        const current = scoreRange(buf, r0, n);
        // Chunk i + 1 is copied while chunk i is scored; chunk i - 1 must be done first.
        if (previous) await previous;
        previous = current;
      }
      await previous;
    }
    if (signal?.aborted) throw new AbortedError("RX scoring", { cause: signal.reason });
    return kernels.f32(out, rows).slice();
  } finally {
    await Promise.allSettled(inFlight);
    for (const p of ptrs) kernels.free(p);
  }
}
