/**
 * SYRK of a plain (non-kernel-memory) array across the pool's workers: the array is copied into
 * kernel memory one staged chunk at a time while workers compute on chunks already copied.
 *
 * Why each stage owns its outputs (sums, Gram, scratch) instead of each worker: a chunk's job
 * then depends on nothing but its stage being free, so jobs queue in the pool and a worker takes
 * the next one the moment it finishes, with no barrier between chunks. With one set of outputs
 * per worker, every chunk had to wait for the slowest worker of the previous one, and the copy
 * (which takes a core from one of them on a two-core machine) and a message round trip (about
 * 0.1 ms) were paid at every barrier. Chunks are cut at multiples of the kernel's 128-row block,
 * so the float32 blocks are those of one call whatever the worker count; the stages' float64
 * partial sums are merged in stage order by the caller.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { KernelArena } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import type { Kernels } from "./kernels.ts";
import type { WorkerPool } from "./pool.ts";
import { GRAM_BLOCK } from "./kernel_exports.generated.ts";

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

/** The float64 outputs of one share of a SYRK: its column sums and upper-triangle Gram. */
export type SyrkSums = Pick<SyrkCall, "sum" | "gram">;

/** One call's outputs and scratch: what a job writes, so no two running jobs share them. */
export type SyrkOutputs = SyrkSums & Pick<SyrkCall, "scratch">;

/** Bytes of one staged chunk. Two stages per worker: one computed on while the next fills. */
const STAGE_BYTES = 4 * 2 ** 20;

/**
 * Zeroed float64 outputs for `cols` columns, from `arena`.
 *
 * @param arena The call's arena.
 * @param cols Columns of the input.
 * @returns The pointers.
 */
export function syrkSums(arena: KernelArena, cols: number): SyrkSums {
  return { sum: arena.f64(cols, { zero: true }), gram: arena.f64(cols * cols, { zero: true }) };
}

/** Zeroed outputs and scratch (`scratchBytes`, `prism_syrk_scratch_len(cols) * 4`) of a stage. */
function syrkOutputs(arena: KernelArena, cols: number, scratchBytes: number): SyrkOutputs {
  return { ...syrkSums(arena, cols), scratch: arena.bytes(scratchBytes) };
}

/**
 * Rows per staged chunk: a multiple of the kernel block, at most {@linkcode STAGE_BYTES}, and
 * small enough that every worker gets a chunk.
 *
 * @param rows Rows of the input.
 * @param cols Columns of the input.
 * @param workers Workers of the pool.
 * @returns Rows per chunk, at least `GRAM_BLOCK`.
 */
export function stageRows(rows: number, cols: number, workers: number): number {
  const blocks = (r: number) => Math.max(1, r) * GRAM_BLOCK;
  const byBytes = blocks(Math.floor(STAGE_BYTES / (cols * 4) / GRAM_BLOCK));
  return Math.min(byBytes, blocks(Math.ceil(rows / workers / GRAM_BLOCK)));
}

/** What {@linkcode streamRows} needs besides the data. */
export interface StreamShape {
  readonly rows: number;
  readonly cols: number;
  /** Kernel-memory pointer of the `cols` f32 shift. */
  readonly pShift: number;
  /** `prism_syrk_scratch_len(cols) * 4`. */
  readonly scratchBytes: number;
  readonly options: HostOptions;
}

/**
 * Copies `data` into kernel memory a chunk at a time and runs one `gram_syrk_range` job per
 * chunk, each stage's jobs adding into that stage's outputs.
 *
 * @param kernels This thread's instance.
 * @param pool The worker pool.
 * @param arena The call's arena (stages and outputs are allocated from it; jobs are tracked).
 * @param data The row-major input.
 * @param shape Sizes, the shift pointer and the host options (`signal`, `operation`,
 *   `onProgress`).
 * @returns Every stage's outputs, in stage order, once all jobs are done.
 * @throws {AbortedError} When `signal` aborts (between chunks).
 * @throws {KernelError} When a job fails.
 */
export async function streamRows(
  kernels: Kernels,
  pool: WorkerPool,
  arena: KernelArena,
  data: Float32Array,
  shape: StreamShape,
): Promise<SyrkOutputs[]> {
  const { rows, cols, pShift, scratchBytes, options } = shape;
  const chunkRows = stageRows(rows, cols, pool.size);
  const count = Math.min(2 * pool.size, Math.ceil(rows / chunkRows));
  const stages = Array.from({ length: count }, () => ({
    x: arena.f32(chunkRows * cols),
    out: syrkOutputs(arena, cols, scratchBytes),
    busy: Promise.resolve() as Promise<unknown>,
  }));
  for (let start = 0, k = 0; start < rows; start += chunkRows, k++) {
    const n = Math.min(chunkRows, rows - start);
    const stage = stages[k % count];
    await stage.busy; // its previous chunk is still being read
    throwIfAborted(options.signal, options.operation);
    if (k > 0) options.onProgress?.({ done: start, total: rows, unit: "rows" });
    kernels.f32(stage.x, n * cols).set(data.subarray(start * cols, (start + n) * cols));
    const call: SyrkCall = { x: stage.x, rows: n, cols, shift: pShift, ...stage.out };
    stage.busy = arena.track(pool.run("gram_syrk_range", call));
  }
  await Promise.all(stages.map((s) => s.busy));
  return stages.map((s) => s.out);
}
