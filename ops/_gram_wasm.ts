/**
 * The WASM side of `gram()`: the upper triangle of `(X - shift)ᵀ(X - shift)` (with column sums)
 * or of `AAᵀ`, split across the pool's workers through the shared kernel memory.
 *
 * Every worker gets pointers to its share of the input plus its own float64 outputs and scratch,
 * all allocated here; the partial Grams are merged in float64 here. Shares are cut at multiples
 * of the kernel's 128-row (or 128-column) float32 block, so the float32 sums are the same blocks
 * whatever the worker count. Problems below {@linkcode PARALLEL_FROM} multiply-adds run on this
 * thread's instance: a worker round trip costs more than they do.
 *
 * @module
 */

import { AbortedError } from "../core/errors.ts";
import type { Matrix, Progress } from "../core/types.ts";
import { type Kernels, loadKernels } from "../wasm/loader.ts";
import { defaultPool, type WorkerPool } from "../wasm/pool.ts";
import { kernelAddress } from "./kernel_matrix.ts";
import { runSyrk } from "../wasm/_syrk_call.ts";

/** Rows (or columns) per float32 block of the SYRK kernels (`kernels/src/syrk.rs`). */
const KERNEL_BLOCK = 128;
/**
 * Multiply-adds (`rows · n²/2`) from which the work is split across workers. Measured on the
 * 2-core machine with a warm pool: a round trip of two jobs costs about 0.2 ms, the kernel does
 * about 2.5 G multiply-adds/s per core, so splitting pays from about 1 M.
 */
export const PARALLEL_FROM = 2 ** 21;
/** Bytes of one staging chunk when a plain array is copied in while workers compute. */
const STAGE_BYTES = 8 * 2 ** 20;
/** Bytes of a worker's column panel for `AAᵀ`. */
const PANEL_BYTES = 2 * 2 ** 20;

/** What the WASM Gram returns: the upper triangle (diagonal included) and the column sums. */
export interface WasmGram {
  /** `n × n` row-major; only entries with `j >= i` are set. */
  readonly gram: Float64Array;
  /** Σ(row - shift), for side `columns`. */
  readonly sum?: Float64Array;
}

/** Options of the WASM Gram. */
export interface WasmGramOptions {
  /** Cancels between chunks. */
  signal?: AbortSignal;
  /** Rows (or columns) done so far. */
  onProgress?: (progress: Progress) => void;
  /** Overrides the pool (tests); default `defaultPool()`. */
  pool?: WorkerPool;
}

/** Allocations freed together, also on errors. */
class Arena {
  readonly #ptrs: number[] = [];
  constructor(readonly kernels: Kernels) {}
  f64(length: number): number {
    const ptr = this.kernels.alloc(Math.max(1, length) * 8);
    this.#ptrs.push(ptr);
    this.kernels.f64(ptr, length).fill(0);
    return ptr;
  }
  bytes(bytes: number): number {
    const ptr = this.kernels.alloc(bytes);
    this.#ptrs.push(ptr);
    return ptr;
  }
  free(): void {
    for (const ptr of this.#ptrs.splice(0)) this.kernels.free(ptr);
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError("gram", { cause: signal.reason });
}

/** Splits `0..total` into at most `parts` ranges whose cuts are multiples of `unit`. */
function split(total: number, parts: number, unit: number): [number, number][] {
  const units = Math.ceil(total / unit);
  const per = Math.ceil(units / parts);
  const out: [number, number][] = [];
  for (let u = 0; u < units; u += per) {
    out.push([u * unit, Math.min(total, (u + per) * unit)]);
  }
  return out;
}

/** Adds the `length` f64 values at each pointer into `out`. */
function addInto(kernels: Kernels, out: Float64Array, ptrs: number[]): void {
  for (const ptr of ptrs) {
    const v = kernels.f64(ptr, out.length);
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
}

/**
 * `Σ (x - shift)` and the upper triangle of `Σ (x - shift)ᵀ(x - shift)` over the rows of `m`.
 *
 * @param m The validated matrix.
 * @param shift `cols` floats.
 * @param options Abort, progress, pool.
 * @returns The sums and the upper triangle.
 */
export async function wasmSyrk(
  m: Matrix,
  shift: Float32Array,
  options: WasmGramOptions = {},
): Promise<Required<WasmGram>> {
  const { rows, cols } = m;
  const sum = new Float64Array(cols);
  const gram = new Float64Array(cols * cols);
  if (rows === 0 || cols === 0) return { sum, gram };
  checkAbort(options.signal);
  const kernels = await loadKernels();
  const pool = options.pool ?? defaultPool();
  const arena = new Arena(kernels);
  const inFlight: Promise<unknown>[] = [];
  try {
    const pShift = arena.bytes(cols * 4);
    kernels.f32(pShift, cols).set(shift);
    const scratchBytes = kernels.exports.prism_syrk_scratch_len(cols) * 4;
    const address = kernelAddress(kernels, m.data);
    const parallel = pool.size > 1 && rows * cols * cols / 2 >= PARALLEL_FROM;
    const parts = parallel ? pool.size : 1;
    const outs = Array.from({ length: parts }, () => ({
      sum: arena.f64(cols),
      gram: arena.f64(cols * cols),
      scratch: arena.bytes(scratchBytes),
    }));
    const syrk = (x: number, r0: number, r1: number, part: number) => {
      const o = outs[part];
      return { x: x + r0 * cols * 4, rows: r1 - r0, cols, shift: pShift, ...o };
    };
    if (!parallel) {
      const x = address ?? arena.bytes(rows * cols * 4);
      if (address === undefined) kernels.f32(x, rows * cols).set(m.data);
      runSyrk(kernels, syrk(x, 0, rows, 0));
    } else if (address !== undefined) {
      // Already in kernel memory: one job per worker, in place.
      for (const [r0, r1] of split(rows, parts, KERNEL_BLOCK)) {
        inFlight.push(pool.run("gram_syrk_range", syrk(address, r0, r1, inFlight.length)));
      }
      await Promise.all(inFlight);
    } else {
      // A plain array: copy it in a chunk at a time into two staging buffers, the next chunk
      // while the workers compute on the previous one, so the copy overlaps the arithmetic and
      // kernel memory holds 2 chunks, not the whole input.
      const unit = KERNEL_BLOCK * parts;
      const chunkRows = Math.max(unit, Math.floor(STAGE_BYTES / (cols * 4) / unit) * unit);
      const stages = [arena.bytes(chunkRows * cols * 4), arena.bytes(chunkRows * cols * 4)];
      let previous: Promise<unknown> = Promise.resolve();
      for (let start = 0, k = 0; start < rows; start += chunkRows, k++) {
        const n = Math.min(chunkRows, rows - start);
        const stage = stages[k % 2];
        kernels.f32(stage, n * cols).set(m.data.subarray(start * cols, (start + n) * cols));
        await previous; // the other stage's jobs write the same outputs: one chunk at a time
        checkAbort(options.signal);
        if (k > 0) options.onProgress?.({ done: start, total: rows, unit: "rows" });
        previous = Promise.all(
          split(n, parts, KERNEL_BLOCK).map(([r0, r1], part) =>
            pool.run("gram_syrk_range", syrk(stage, r0, r1, part))
          ),
        );
        inFlight.push(previous);
      }
      await previous;
    }
    for (const o of outs) {
      addInto(kernels, sum, [o.sum]);
      addInto(kernels, gram, [o.gram]);
    }
    options.onProgress?.({ done: rows, total: rows, unit: "rows" });
    return { sum, gram };
  } finally {
    // Workers may still write into these buffers: wait for every job before freeing them.
    await Promise.allSettled(inFlight);
    arena.free();
  }
}

/**
 * The upper triangle of `AAᵀ` (`rows × rows`): the column range is split across workers, each
 * adding the Gram of its columns into its own output.
 *
 * @param m The validated matrix.
 * @param options Abort, progress, pool.
 * @returns The upper triangle.
 */
export async function wasmGramRows(m: Matrix, options: WasmGramOptions = {}): Promise<WasmGram> {
  const { rows, cols } = m;
  const gram = new Float64Array(rows * rows);
  if (rows === 0 || cols === 0) return { gram };
  checkAbort(options.signal);
  const kernels = await loadKernels();
  const pool = options.pool ?? defaultPool();
  const arena = new Arena(kernels);
  const inFlight: Promise<unknown>[] = [];
  try {
    const scratchBytes = kernels.exports.prism_gram_rows_scratch_len(rows) * 4;
    const address = kernelAddress(kernels, m.data);
    const a = address ?? arena.bytes(rows * cols * 4);
    if (address === undefined) kernels.f32(a, rows * cols).set(m.data);
    const parallel = pool.size > 1 && cols * rows * rows / 2 >= PARALLEL_FROM &&
      cols > KERNEL_BLOCK;
    if (!parallel) {
      const out = arena.f64(rows * rows);
      const scratch = arena.bytes(scratchBytes);
      kernels.check(
        "prism_gram_rows_f32",
        kernels.exports.prism_gram_rows_f32(a, rows, cols, out, scratch),
      );
      addInto(kernels, gram, [out]);
    } else {
      const panel = Math.max(
        KERNEL_BLOCK,
        Math.floor(PANEL_BYTES / (rows * 4) / KERNEL_BLOCK) * KERNEL_BLOCK,
      );
      const outs: number[] = [];
      for (const [c0, c1] of split(cols, pool.size, KERNEL_BLOCK)) {
        const out = arena.f64(rows * rows);
        outs.push(out);
        const w = Math.min(panel, c1 - c0);
        inFlight.push(pool.run("gram_rows_range", {
          a,
          rows,
          ld: cols,
          c0,
          c1,
          gram: out,
          scratch: arena.bytes(scratchBytes),
          staging: arena.bytes(rows * w * 4),
          panel: w,
        }));
      }
      await Promise.all(inFlight);
      addInto(kernels, gram, outs);
    }
    options.onProgress?.({ done: cols, total: cols, unit: "columns" });
    return { gram };
  } finally {
    await Promise.allSettled(inFlight);
    arena.free();
  }
}
