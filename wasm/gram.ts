/**
 * The Gram family on WASM (`prism_syrk_shifted_f32`, `prism_gram_rows_f32`; the one place that
 * calls them): the upper triangle of `(X - shift)ᵀ(X - shift)` (with column sums) or of `AAᵀ`,
 * split across the pool's workers through the shared kernel memory.
 *
 * Every job gets pointers to its share of the input plus float64 outputs and scratch no running
 * job shares, all allocated here; the partial Grams are merged in float64 here, in share order.
 * A SYRK's shares are pieces that whichever thread is free claims (`_claims.ts`); `AAᵀ` has one
 * share per worker. A plain array is copied in while workers compute (piece by piece, or staged
 * by `_syrk_stream.ts` when it is too large to copy whole). Shares are cut at multiples of the
 * kernel's 128-row (or 128-column) float32 block, so the float32 sums are the same blocks
 * whatever the worker count. Problems below {@linkcode PARALLEL_FROM} (SYRK) or
 * {@linkcode ROWS_PARALLEL_FROM} (`AAᵀ`) multiply-adds run on this thread's instance: a worker
 * round trip costs more than they do.
 *
 * The pool jobs (pointers only, results `null`):
 * - `gram_syrk_range`: a {@linkcode SyrkCall}, one SYRK call on a row range;
 * - `gram_syrk_claims`: `{ x, cols, shift, counter, scratch, pieces, ready? }`, the row ranges
 *   of a matrix in kernel memory claimed one at a time (`_claims.ts`), each into its own
 *   outputs; with `ready`, each once the caller has copied it in;
 * - `gram_rows_range`: `{ a, rows, ld, c0, c1, gram, scratch, staging, panel }`, `AAᵀ` restricted
 *   to columns `c0..c1` of a row-major matrix with `ld` columns: the columns are copied `panel`
 *   at a time into `staging` (`rows * panel` floats), since the kernel needs a contiguous block;
 *   a range of every column (`c0 = 0`, `c1 = ld`) is read in place and `staging` is unused.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix } from "../core/types.ts";
import { KernelArena, zeroBlock } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import { payloadIntegers, registerJobs } from "./job_registry.ts";
import type { Kernels } from "./kernels.ts";
import { loadKernels } from "./loader.ts";
import { defaultPool } from "./pool.ts";
import { kernelAddress } from "./storage.ts";
import { splitRanges } from "./_split.ts";
import { claimCounter, claimPieces, postWhileCopying } from "./_claims.ts";
import { streamRows, type SyrkCall, type SyrkSums, syrkSums } from "./_syrk_stream.ts";
import { GRAM_BLOCK } from "./kernel_exports.generated.ts";

/**
 * Multiply-adds (`rows · n²/2`) from which SYRK is split across workers. A round trip of two
 * jobs costs about 0.2 ms on the 2-core machine with a warm pool; below
 * {@linkcode INLINE_SHARE_MAX} this thread computes one share itself, so only one worker's round
 * trip is paid, and narrow tall blocks (10-16 columns, the kernel's slowest shapes) gain from
 * about 2 M.
 */
export const PARALLEL_FROM = 2 ** 21;
/**
 * Multiply-adds (`cols · rows²/2`) from which `AAᵀ` is split across workers (its shares have no
 * inline path and each worker first copies its columns into a staging block). Measured
 * (`wasmGramRows` against `prism_gram_rows_f32` on one thread, 2-core machine): the kernel does
 * 11-19 G multiply-adds/s on one core, so 4 M (128 × 512, 0.22 ms) ran in 0.6-1.5 ms split and
 * 8 M (128 × 1024, 0.75 ms) in 1.3-1.8 ms; splitting only pays where half the kernel's time
 * (about 0.4 ms at 16 M) is beyond the round trip, copies and the second output's merge.
 */
export const ROWS_PARALLEL_FROM = 2 ** 24;
/**
 * Multiply-adds of the largest share this thread computes itself (of a SYRK, and of the `AAᵀ`
 * of a plain array), beside the workers, when a whole problem is at most `pool.size` such
 * shares (about 15 ms of this thread on the 2-core machine, and the whole problem, about 30 ms,
 * if no worker starts meanwhile): it then saves a worker's wake-up and message round trip
 * (0.2-0.5 ms, more when other processes hold the cores), and for a plain array it computes
 * right after copying it in, where workers only would have a third thread share two cores with
 * the copy. Measured (AMD EPYC, limits in turns):
 * - 2^27 against 2^25, in one process: covariance of a 20,480 × 100 plain array 4.98-5.09 ms
 *   against 5.73-6.11 ms, from kernel memory 2-3 % faster.
 * - 2^28 against 2^27, in alternating processes: a 20,480 × 200 plain array 15.5-15.9 ms
 *   against 19.2-19.7 ms (3 of 3 pairs), from kernel memory no change; at 4096 × 1024, beyond
 *   both, allowing the whole problem here changed nothing.
 *
 * Larger problems run on the workers only, so the calling thread stays free.
 */
export const INLINE_SHARE_MAX = 2 ** 28;
/**
 * Bytes of the largest plain array copied into kernel memory whole for a split run (beyond, it
 * is staged in chunks): the kernel memory four 4 MiB stages of the staged path take, so a
 * problem with few columns and many rows (small in multiply-adds) is not copied whole.
 */
const COPY_AT_ONCE_BYTES = 16 * 2 ** 20;

/**
 * Whether a plain array is better copied into kernel memory whole than staged: when the staged
 * path's per-stage float64 outputs (`cols²` each, up to two stages per worker, each zeroed and
 * merged) would outweigh the data. A copy runs at about 27 GB/s here, so 16 MiB cost 0.6 ms,
 * while four 1024-column stages meant 32 MiB of outputs to zero and three 8 MiB partials to
 * add (4096 × 1024: 80 ms against 50 ms for the two in-place shares).
 */
function copyAtOnce(m: Matrix, workers: number): boolean {
  return 2 * workers * m.cols * m.cols * 8 >= m.data.byteLength;
}
/** Bytes of a worker's column panel for `AAᵀ`. */
const PANEL_BYTES = 2 * 2 ** 20;

/** What the WASM Gram returns: the upper triangle (diagonal included) and the column sums. */
export interface WasmGram {
  /** `n × n` row-major; only entries with `j >= i` are set. */
  readonly gram: Float64Array;
  /** Σ(row - shift), for side `columns`. */
  readonly sum?: Float64Array;
}

/** Options of {@linkcode wasmSyrk}. */
export interface SyrkOptions extends HostOptions {
  /** `cols` floats subtracted from every row; default zeros. */
  shift?: Float32Array;
}

/** Options of {@linkcode wasmGram}. */
export interface WasmGramOptions extends SyrkOptions {
  /** `"columns"` (default): `(A - shift)ᵀ(A - shift)` with sums; `"rows"`: `AAᵀ`. */
  side?: "columns" | "rows";
}

export type { SyrkCall } from "./_syrk_stream.ts";

/**
 * A SYRK cut into pieces that threads claim (`_claims.ts`): `pieces` holds, per piece, its rows
 * `r0, r1` of the `cols`-column block at `x` and the pointers of its `sum` and `gram` outputs,
 * which the thread that claims the piece zeroes.
 */
interface SyrkClaims {
  readonly x: number;
  readonly cols: number;
  readonly shift: number;
  readonly counter: number;
  readonly pieces: readonly number[];
}

/** Pieces per worker of a claimed SYRK: enough that a thread at 0.6× speed costs little. */
const PIECES_PER_WORKER = 4;
/**
 * Fewest rows of a claimed piece: each piece's Gram costs `cols²/2` float64 additions to merge
 * in JavaScript (about 1 ns each) against `rows · cols²/2` multiply-adds of kernel (about
 * 0.07 ns each), so from 1024 rows the merge stays near 1 % of the work.
 */
const MIN_PIECE_ROWS = 1024;
/** Bytes the pieces' float64 Grams may take together (beyond, one piece per worker). */
const PIECE_OUTPUT_BYTES = 16 * 2 ** 20;

/**
 * Pieces a claimed `rows × cols` SYRK is cut into for `workers` threads: up to
 * {@linkcode PIECES_PER_WORKER} each, none under {@linkcode MIN_PIECE_ROWS} rows, outputs
 * within {@linkcode PIECE_OUTPUT_BYTES}; never fewer than `workers` (nor than 1).
 */
function syrkPieces(rows: number, cols: number, workers: number): number {
  const byRows = Math.floor(rows / MIN_PIECE_ROWS);
  const byBytes = Math.floor(PIECE_OUTPUT_BYTES / (cols * cols * 8));
  return Math.max(workers, Math.min(PIECES_PER_WORKER * workers, byRows, byBytes), 1);
}

/**
 * Runs the pieces of `claims` this thread claims, with its own `scratch`; with `ready` (workers
 * only), each piece once the caller has published it.
 */
function runSyrkClaims(
  kernels: Kernels,
  claims: SyrkClaims & { scratch: number; ready?: number },
): void {
  const { x, cols, shift, counter, pieces, scratch, ready } = claims;
  claimPieces(kernels, counter, pieces.length / 4, (piece) => {
    const [r0, r1, sum, gram] = pieces.slice(4 * piece, 4 * piece + 4);
    zeroBlock(kernels, sum, cols * 8);
    zeroBlock(kernels, gram, cols * cols * 8);
    runSyrk(kernels, { x: x + r0 * cols * 4, rows: r1 - r0, cols, shift, sum, gram, scratch });
  }, ready);
}

/** Runs the SYRK kernel on one call's pointers, on the given instance. */
function runSyrk(kernels: Kernels, call: SyrkCall): void {
  const { x, rows, cols, shift, sum, gram, scratch } = call;
  kernels.check(
    "prism_syrk_shifted_f32",
    kernels.exports.prism_syrk_shifted_f32(x, rows, cols, shift, sum, gram, scratch),
  );
}

/** Adds the upper triangle of the Gram of a contiguous `rows × cols` block into `gram`. */
function runGramRows(
  kernels: Kernels,
  call: { a: number; rows: number; cols: number; gram: number; scratch: number },
): void {
  const { a, rows, cols, gram, scratch } = call;
  kernels.check(
    "prism_gram_rows_f32",
    kernels.exports.prism_gram_rows_f32(a, rows, cols, gram, scratch),
  );
}

/**
 * The partial outputs at `ptrs` (each `out.length` f64, zeroed before their jobs) summed into
 * `out`, in `ptrs` order: the first is copied (natively, a memcpy), the others added in
 * JavaScript. With `n`, the outputs are `n × n` Grams whose kernels set only the upper triangle
 * (the rest stays zero), so only entries `j >= i` are added ({@linkcode addUpper}).
 */
function mergeInto(kernels: Kernels, out: Float64Array, ptrs: number[], n?: number): void {
  out.set(kernels.f64(ptrs[0], out.length));
  for (const ptr of ptrs.slice(1)) {
    const v = kernels.f64(ptr, out.length);
    if (n !== undefined) {
      addUpper(out, v, n);
      continue;
    }
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
}

/**
 * Adds the upper triangle (`j >= i`) of the row-major `n × n` array `v` into `out`: half the
 * work of the one loop that the merge of a wide Gram spends its time in (two 512 × 512
 * partials: 262,144 values each).
 */
function addUpper(out: Float64Array, v: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let k = i * n + i; k < (i + 1) * n; k++) out[k] += v[k];
  }
}

/**
 * `Σ (x - shift)` and the upper triangle of `Σ (x - shift)ᵀ(x - shift)` over the rows of `m`.
 *
 * @param m The validated matrix; kernel-memory data is read in place.
 * @param options `shift`, `operation`, `signal`, `onProgress`, `pool`.
 * @returns The sums and the upper triangle.
 * @throws {AbortedError} When `signal` aborts (between chunks).
 * @throws {OutOfMemoryError} When the kernel memory cannot hold the buffers.
 * @throws {KernelError} When a kernel fails.
 * @example
 * ```ts
 * import { wasmSyrk } from "./gram.ts";
 * import assert from "node:assert";
 * const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const { sum, gram } = await wasmSyrk(m, { operation: "gram()" });
 * assert(sum[0] === 4 && gram[0] === 10 && gram[1] === 14 && gram[3] === 20);
 * ```
 */
export async function wasmSyrk(m: Matrix, options: SyrkOptions): Promise<Required<WasmGram>> {
  const { rows, cols } = m;
  if (rows === 0 || cols === 0) {
    return { sum: new Float64Array(cols), gram: new Float64Array(cols * cols) };
  }
  throwIfAborted(options.signal, options.operation);
  const kernels = await loadKernels();
  await using arena = new KernelArena(kernels);
  const outs = await syrkPartials(arena, m, options);
  // Made only now: a fresh JavaScript array faults in its pages (about 10 µs per 4 KiB here),
  // which the workers need not wait for. (glibc hands a block over 128 KiB back to the system
  // when it is freed, so each such array is new memory: a 320 KiB Float64Array made and written
  // took 0.8-1.1 ms a time on the 2-core VM, 0.02 ms with MALLOC_MMAP_THRESHOLD_ and
  // MALLOC_TRIM_THRESHOLD_ raised; measured 2026-12-08.)
  const sum = new Float64Array(cols);
  const gram = new Float64Array(cols * cols);
  mergeInto(kernels, sum, outs.map((o) => o.sum));
  mergeInto(kernels, gram, outs.map((o) => o.gram), cols);
  options.onProgress?.({ done: rows, total: rows, unit: "rows" });
  return { sum, gram };
}

/**
 * The SYRK of `m` as partial outputs in `arena`, one set per share, in share order (their
 * float64 sums, added in this order, are the result).
 */
async function syrkPartials(
  arena: KernelArena,
  m: Matrix,
  options: SyrkOptions,
): Promise<SyrkSums[]> {
  const { rows, cols } = m;
  const kernels = arena.kernels;
  const pool = options.pool ?? defaultPool();
  const pShift = options.shift === undefined
    ? arena.f32(cols, { zero: true })
    : arena.copyIn(options.shift);
  const scratchBytes = kernels.exports.prism_syrk_scratch_len(cols) * 4;
  const address = kernelAddress(kernels, m.data);
  const work = rows * cols * cols / 2;
  const parallel = pool.size > 1 && work >= PARALLEL_FROM;
  const inline = work <= pool.size * INLINE_SHARE_MAX;
  const small = m.data.byteLength <= COPY_AT_ONCE_BYTES;
  const outs: SyrkSums[] = [];
  if (!parallel) {
    const x = address ?? arena.copyIn(m.data);
    outs.push(syrkSums(arena, cols));
    runSyrk(kernels, {
      x,
      rows,
      cols,
      shift: pShift,
      ...outs[0],
      scratch: arena.bytes(scratchBytes),
    });
  } else if (address !== undefined || (copyAtOnce(m, pool.size) || inline) && small) {
    // In kernel memory (or small enough to copy in at once): pieces claimed by the workers
    // (`_claims.ts`), read in place, each with its own outputs; for a small problem this thread
    // takes one worker's place. A plain array is copied in a piece at a time, most of it while
    // the workers compute on the first pieces.
    const x = address ?? arena.bytes(m.data.byteLength);
    const ready = address === undefined ? claimCounter(arena) : undefined;
    const ranges = splitRanges(rows, syrkPieces(rows, cols, pool.size), GRAM_BLOCK);
    const claims: SyrkClaims = {
      x,
      cols,
      shift: pShift,
      counter: claimCounter(arena),
      pieces: ranges.flatMap(([r0, r1]) => {
        // Zeroed by the thread that claims the piece, off this thread's path to the jobs.
        const out = { sum: arena.f64(cols), gram: arena.f64(cols * cols) };
        outs.push(out);
        return [r0, r1, out.sum, out.gram];
      }),
    };
    const scratch = () => arena.bytes(scratchBytes);
    const copy = (piece: number) => {
      const [r0, r1] = ranges[piece];
      kernels.f32(x + r0 * cols * 4, (r1 - r0) * cols).set(m.data.subarray(r0 * cols, r1 * cols));
    };
    const post = () =>
      Array.from(
        { length: pool.size - (inline ? 1 : 0) },
        () => arena.track(pool.run("gram_syrk_claims", { ...claims, ready, scratch: scratch() })),
      );
    const jobs = await postWhileCopying(kernels, ready, ranges.length, pool.size, copy, post);
    if (inline) runSyrkClaims(kernels, { ...claims, scratch: scratch() });
    await Promise.all(jobs);
  } else {
    const shape = { rows, cols, pShift, scratchBytes, options };
    outs.push(...await streamRows(kernels, pool, arena, m.data, shape));
  }
  return outs;
}

/**
 * The upper triangle of `AAᵀ` (`rows × rows`): the column range is split across workers, each
 * adding the Gram of its columns into its own output.
 *
 * @param m The validated matrix; kernel-memory data is read in place.
 * @param options `operation`, `signal`, `onProgress`, `pool`.
 * @returns The upper triangle.
 * @throws {AbortedError} When `signal` aborts (before the work starts).
 * @throws {OutOfMemoryError} When the kernel memory cannot hold the buffers.
 * @throws {KernelError} When a kernel fails.
 * @example
 * ```ts
 * import { wasmGramRows } from "./gram.ts";
 * import assert from "node:assert";
 * const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const { gram } = await wasmGramRows(m, { operation: "gram()" });
 * assert(gram[0] === 5 && gram[1] === 11 && gram[3] === 25);
 * ```
 */
export async function wasmGramRows(m: Matrix, options: HostOptions): Promise<WasmGram> {
  const { rows, cols } = m;
  const gram = new Float64Array(rows * rows);
  if (rows === 0 || cols === 0) return { gram };
  throwIfAborted(options.signal, options.operation);
  const kernels = await loadKernels();
  await using arena = new KernelArena(kernels);
  mergeInto(kernels, gram, await gramRowsPartials(arena, m, options), rows);
  options.onProgress?.({ done: cols, total: cols, unit: "columns" });
  return { gram };
}

/**
 * `AAᵀ` of `m` as partial upper triangles in `arena`, one per share of the columns, in share
 * order.
 */
async function gramRowsPartials(
  arena: KernelArena,
  m: Matrix,
  options: HostOptions,
): Promise<number[]> {
  const { rows, cols } = m;
  const kernels = arena.kernels;
  const pool = options.pool ?? defaultPool();
  const scratchBytes = kernels.exports.prism_gram_rows_scratch_len(rows) * 4;
  const parallel = pool.size > 1 && cols * rows * rows / 2 >= ROWS_PARALLEL_FROM &&
    cols > GRAM_BLOCK;
  if (!parallel) {
    const a = kernelAddress(kernels, m.data) ?? arena.copyIn(m.data);
    const out = arena.f64(rows * rows, { zero: true });
    runGramRows(kernels, { a, rows, cols, gram: out, scratch: arena.bytes(scratchBytes) });
    return [out];
  }
  const address = kernelAddress(kernels, m.data);
  // Equal shares, not claimed pieces (`_claims.ts`): cut into 8 pieces, each with a `rows²`
  // float64 Gram to zero and add, 256 × 3072 singular values were no faster here (measured
  // 2026-12-07, old and new in alternating processes).
  const shares = splitRanges(cols, pool.size, GRAM_BLOCK);
  const widest = Math.max(...shares.map(([c0, c1]) => c1 - c0));
  const outs: number[] = [];
  const post = (job: Record<string, number>) => {
    const out = arena.f64(rows * rows, { zero: true });
    outs.push(out);
    const scratch = arena.bytes(scratchBytes);
    return arena.track(pool.run("gram_rows_range", { ...job, gram: out, scratch }));
  };
  if (address === undefined && rows * widest * 4 <= COPY_AT_ONCE_BYTES) {
    // A plain array: this thread copies each share's columns straight into a block of its own
    // and posts its job at once, so the first worker computes while the next block is copied,
    // and no worker copies again (a whole block is contiguous: the job reads it in place). A
    // problem within `pool.size` shares of INLINE_SHARE_MAX has its first share computed here,
    // after the others are posted, as wasmSyrk does.
    const inline = cols * rows * rows / 2 <= pool.size * INLINE_SHARE_MAX;
    const blocks = shares.map(([c0, c1]) => ({
      c0,
      c1,
      w: c1 - c0,
      a: arena.f32(rows * (c1 - c0)),
    }));
    const copyColumns = ({ c0, c1, w, a }: (typeof blocks)[number]) => {
      const dst = kernels.f32(a, rows * w);
      for (let r = 0; r < rows; r++) dst.set(m.data.subarray(r * cols + c0, r * cols + c1), r * w);
    };
    const jobs = blocks.slice(inline ? 1 : 0).map((b) => {
      copyColumns(b);
      return post({ a: b.a, rows, ld: b.w, c0: 0, c1: b.w, staging: 0, panel: b.w });
    });
    if (!inline) {
      await Promise.all(jobs);
      return outs;
    }
    // Let the pool post the jobs (it does so after a microtask) before this thread is busy.
    await Promise.resolve();
    const [first] = blocks;
    copyColumns(first);
    const gram = arena.f64(rows * rows, { zero: true });
    runGramRows(kernels, {
      a: first.a,
      rows,
      cols: first.w,
      gram,
      scratch: arena.bytes(scratchBytes),
    });
    await Promise.all(jobs);
    return [gram, ...outs]; // share order: the first share is this thread's
  }
  const a = address ?? arena.copyIn(m.data);
  const panel = Math.max(
    GRAM_BLOCK,
    Math.floor(PANEL_BYTES / (rows * 4) / GRAM_BLOCK) * GRAM_BLOCK,
  );
  const jobs = shares.map(([c0, c1]) => {
    const w = Math.min(panel, c1 - c0);
    return post({ a, rows, ld: cols, c0, c1, staging: arena.f32(rows * w), panel: w });
  });
  await Promise.all(jobs);
  return outs;
}

/**
 * The Gram of `m` left in kernel memory for a kernel that reads it there (the eigensolver of
 * the singular values): side `"columns"` `AᵀA` (no shift), side `"rows"` `AAᵀ`. The partial
 * Grams of the workers are added in kernel memory, in share order, into the first, so no
 * `n × n` array is made in JavaScript (on a machine where a fresh page costs microseconds, a
 * 1024 × 1024 float64 array costs more than the eigensolver's copy-in).
 *
 * @param arena The caller's arena: it owns the result (freed when the arena is disposed).
 * @param m The validated matrix, at least 1 × 1; kernel-memory data is read in place.
 * @param options `side`, `operation`, `signal`, `onProgress`, `pool` (`shift` is ignored).
 * @returns The byte address of `n × n` row-major float64 values (`n = cols` for side
 *   `"columns"`, `rows` for side `"rows"`) whose upper triangle holds the Gram; the strict lower
 *   triangle is zero.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {OutOfMemoryError} When the kernel memory cannot hold the buffers.
 * @throws {KernelError} When a kernel fails.
 * @example
 * ```ts
 * import { wasmGramInKernel } from "./gram.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const g = await wasmGramInKernel(arena, m, { side: "rows", operation: "gram()" });
 * assert.deepStrictEqual([...kernels.f64(g, 4)], [5, 11, 0, 25]);
 * ```
 */
export async function wasmGramInKernel(
  arena: KernelArena,
  m: Matrix,
  options: WasmGramOptions,
): Promise<number> {
  const { rows, cols } = m;
  if (rows === 0 || cols === 0) {
    throw new RangeError(`wasmGramInKernel() needs at least 1 x 1, got ${rows} x ${cols}`);
  }
  throwIfAborted(options.signal, options.operation);
  const byRows = options.side === "rows";
  const n = byRows ? rows : cols;
  const outs = byRows
    ? await gramRowsPartials(arena, m, options)
    : (await syrkPartials(arena, m, { ...options, shift: undefined })).map((o) => o.gram);
  const total = arena.kernels.f64(outs[0], n * n);
  for (const ptr of outs.slice(1)) addUpper(total, arena.kernels.f64(ptr, n * n), n);
  options.onProgress?.(
    byRows
      ? { done: cols, total: cols, unit: "columns" }
      : { done: rows, total: rows, unit: "rows" },
  );
  return outs[0];
}

registerJobs({
  gram_syrk_claims(kernels, payload) {
    const p = payloadIntegers("gram_syrk_claims", payload, [
      "x",
      "cols",
      "shift",
      "counter",
      "scratch",
    ]);
    const pieces = (payload as { pieces?: unknown }).pieces;
    if (!Array.isArray(pieces) || pieces.length % 4 !== 0 || !pieces.every(Number.isInteger)) {
      throw new TypeError("gram_syrk_claims: payload.pieces must be integers, 4 per piece");
    }
    const ready = (payload as { ready?: unknown }).ready;
    if (ready !== undefined && !Number.isInteger(ready)) {
      throw new TypeError("gram_syrk_claims: payload.ready must be an address when given");
    }
    runSyrkClaims(kernels, { ...p, pieces, ready: ready as number | undefined });
    return { result: null };
  },
  gram_syrk_range(kernels, payload) {
    const keys = ["x", "rows", "cols", "shift", "sum", "gram", "scratch"] as const;
    runSyrk(kernels, payloadIntegers("gram_syrk_range", payload, keys));
    return { result: null };
  },
  gram_rows_range(kernels, payload) {
    const p = payloadIntegers("gram_rows_range", payload, [
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
    if (p.c0 === 0 && p.c1 === p.ld) {
      // Every column: the block is contiguous, so the kernel reads it in place.
      const call = { a: p.a, rows: p.rows, cols: p.ld, gram: p.gram, scratch: p.scratch };
      runGramRows(kernels, call);
      return { result: null };
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
      runGramRows(kernels, {
        a: p.staging,
        rows: p.rows,
        cols: w,
        gram: p.gram,
        scratch: p.scratch,
      });
    }
    return { result: null };
  },
});

/**
 * The WASM host of the Gram families: {@linkcode wasmSyrk} for side `"columns"` (the default,
 * with `shift`), {@linkcode wasmGramRows} for side `"rows"`.
 *
 * @param m The matrix (kernel-memory data is read in place).
 * @param options `side`, `shift`, and the host options.
 * @returns The upper triangle, and the sums for side `"columns"`.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {OutOfMemoryError} When kernel memory cannot hold the buffers.
 * @example
 * ```ts
 * import { wasmGram } from "./gram.ts";
 * import assert from "node:assert";
 * const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const g = await wasmGram(m, { operation: "gram()" });
 * assert(g.gram[0] === 10 && g.gram[1] === 14 && g.sum?.[1] === 6);
 * ```
 */
export function wasmGram(m: Matrix, options: WasmGramOptions): Promise<WasmGram> {
  if ((options.side ?? "columns") === "rows") return wasmGramRows(m, options);
  return wasmSyrk(m, { ...options, shift: options.shift ?? new Float32Array(m.cols) });
}
