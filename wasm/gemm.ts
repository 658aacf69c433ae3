/**
 * The GEMM family (`prism_sgemm`, kernels/src/gemm.rs): the one place that calls it. Three
 * ways in:
 *
 * - {@linkcode sgemm}: one call on pointers (this thread's instance, or a worker's);
 * - {@linkcode Gemm}: products between {@linkcode WasmStorage} that persist across calls (a
 *   network's layers), with one scratch buffer kept for every step;
 * - {@linkcode wasmMatmul}: the host `C = op(A)·op(B)` on matrices whose data may already be
 *   kernel memory (read in place), returning C in kernel memory so chained products never
 *   leave it. Large products split the rows of C across the pool (job `gemm_rows`): each
 *   element of C is the same sum whichever worker makes it, so the split is bit-identical to
 *   one thread.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";
import { KernelArena } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import { payloadIntegers, registerJobs } from "./job_registry.ts";
import { type KernelMatrix, kernelMatrix } from "./kernel_matrix.ts";
import type { Kernels } from "./kernels.ts";
import { loadKernels } from "./loader.ts";
import { defaultPool } from "./pool.ts";
import { kernelAddress, WasmStorage } from "./storage.ts";
import { splitRanges } from "./_split.ts";
import { MC } from "./kernel_exports.generated.ts";

/**
 * Multiply-adds (`m·n·k`) from which a product is split across workers: a round trip of a
 * few jobs costs about 0.2 ms, in which one core does about 2 M multiply-adds.
 */
export const GEMM_PARALLEL_FROM = 2 ** 22;

/** The shape of one product: `op(A)` is `m × k`, `op(B)` is `k × n`. */
export interface GemmShape {
  /** Use Aᵀ (A stored `k × m`). */
  readonly transA: boolean;
  /** Use Bᵀ (B stored `n × k`). */
  readonly transB: boolean;
  /** Rows of C. */
  readonly m: number;
  /** Columns of C. */
  readonly n: number;
  /** The shared dimension. */
  readonly k: number;
}

/** One `prism_sgemm` call: byte addresses in kernel memory, sizes and scalars. */
export interface GemmCall extends GemmShape {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** Leading dimensions; default the stored column counts of dense operands. */
  readonly lda?: number;
  readonly ldb?: number;
  readonly ldc?: number;
  /** Default 1. */
  readonly alpha?: number;
  /** Default 0 (C is overwritten; NaN in C is ignored). */
  readonly beta?: number;
  /** `prism_sgemm_scratch_len(m, n, k)` floats. */
  readonly scratch: number;
}

/**
 * Runs `C = alpha·op(A)·op(B) + beta·C` on this thread's instance.
 *
 * @param kernels The instance to run on.
 * @param call Pointers, shape and scalars.
 * @throws {KernelError} When the kernel rejects the arguments (short leading dimensions).
 * @example
 * ```ts
 * import { sgemm } from "./gemm.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const a = arena.copyIn(new Float32Array([1, 2, 3, 4])), c = arena.f32(4);
 * const scratch = arena.f32(kernels.exports.prism_sgemm_scratch_len(2, 2, 2));
 * sgemm(kernels, { transA: false, transB: true, m: 2, n: 2, k: 2, a, b: a, c, scratch });
 * assert.deepStrictEqual([...kernels.f32(c, 4)], [5, 11, 11, 25]);
 * ```
 */
export function sgemm(kernels: Kernels, call: GemmCall): void {
  const { transA, transB, m, n, k } = call;
  const status = kernels.exports.prism_sgemm(
    transA ? 1 : 0,
    transB ? 1 : 0,
    m,
    n,
    k,
    call.alpha ?? 1,
    call.a,
    call.lda ?? (transA ? m : k),
    call.b,
    call.ldb ?? (transB ? k : n),
    call.beta ?? 0,
    call.c,
    call.ldc ?? n,
    call.scratch,
  );
  kernels.check("prism_sgemm", status);
}

/** The operands of {@linkcode Gemm.run}: dense storage, and the scalars. */
export interface GemmOperands {
  readonly a: WasmStorage;
  readonly b: WasmStorage;
  readonly c: WasmStorage;
  /** Default 1. */
  readonly alpha?: number;
  /** Default 0. */
  readonly beta?: number;
}

/**
 * Products between persistent storage, with one scratch buffer that grows to the largest
 * product seen and is then reused every step (a training loop allocates nothing per step).
 *
 * @example
 * ```ts
 * import { Gemm } from "./gemm.ts";
 * import { WasmStorage } from "./storage.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using gemm = new Gemm(kernels);
 * using a = WasmStorage.from(kernels, new Float32Array([1, 2]));
 * using c = new WasmStorage(kernels, 1);
 * gemm.run({ transA: false, transB: true, m: 1, n: 1, k: 2 }, { a, b: a, c });
 * assert(c.view()[0] === 5);
 * ```
 */
export class Gemm implements Disposable {
  readonly #kernels: Kernels;
  #scratch: WasmStorage | undefined;

  /** @param kernels The loaded kernel module. */
  constructor(kernels: Kernels) {
    this.#kernels = kernels;
  }

  /**
   * Runs `c = alpha·op(a)·op(b) + beta·c` on densely stored operands.
   *
   * @param shape The transposes and sizes.
   * @param operands The storage and scalars.
   * @throws {KernelError} When the kernel fails (a bug: dense operands always fit).
   * @throws {OutOfMemoryError} When the scratch cannot grow.
   */
  run(shape: GemmShape, operands: GemmOperands): void {
    const need = this.#kernels.exports.prism_sgemm_scratch_len(shape.m, shape.n, shape.k);
    if (this.#scratch === undefined || this.#scratch.length < need) {
      this.#scratch?.free();
      this.#scratch = undefined;
      this.#scratch = new WasmStorage(this.#kernels, need);
    }
    const { a, b, c, alpha, beta } = operands;
    sgemm(this.#kernels, {
      ...shape,
      a: a.ptr,
      b: b.ptr,
      c: c.ptr,
      alpha,
      beta,
      scratch: this.#scratch.ptr,
    });
  }

  /** Frees the scratch; the next `run` allocates it again. */
  dispose(): void {
    this.#scratch?.free();
    this.#scratch = undefined;
  }

  /** Same as {@linkcode Gemm.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The operands of {@linkcode wasmMatmul}. */
export interface MatmulInput {
  /** Row-major A (`m × k`, or `k × m` with `transposeA`); kernel-memory data is read in place. */
  readonly a: Matrix;
  /** Row-major B (`k × n`, or `n × k` with `transposeB`). */
  readonly b: Matrix;
}

/** Options of {@linkcode wasmMatmul}. */
export interface MatmulOptions extends HostOptions {
  /** Multiply by Aᵀ; default false. */
  transposeA?: boolean;
  /** Multiply by Bᵀ; default false. */
  transposeB?: boolean;
}

/**
 * `C = op(A)·op(B)` in float32 on the WASM backend. Inputs whose data lives in kernel memory
 * (a {@linkcode KernelMatrix}, a storage view) are read in place; other inputs are copied in
 * for the call. C is new kernel-memory storage: pass it to the next product as it is, and free
 * it (`using`) when done.
 *
 * @param input A and B.
 * @param options `transposeA`, `transposeB`, `operation`, `signal`, `onProgress`, `pool`.
 * @returns C, `m × n`, in kernel memory.
 * @throws {TypeError} When a matrix is malformed or the inner dimensions differ.
 * @throws {AbortedError} When `signal` aborts (before the product starts).
 * @throws {OutOfMemoryError} When the kernel memory cannot hold the operands and C.
 * @example
 * ```ts
 * import { wasmMatmul } from "./gemm.ts";
 * import assert from "node:assert";
 * const a = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 };
 * using c = await wasmMatmul({ a, b: a }, { transposeB: true, operation: "matmul()" });
 * using d = await wasmMatmul({ a: c, b: c }, { operation: "matmul()" }); // stays in kernel memory
 * assert.deepStrictEqual([...c.data], [14, 32, 32, 77]);
 * assert(d.data[0] === 14 * 14 + 32 * 32);
 * ```
 */
export async function wasmMatmul(
  input: MatmulInput,
  options: MatmulOptions,
): Promise<KernelMatrix> {
  const a = checkMatrix(input.a);
  const b = checkMatrix(input.b);
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  const [m, k] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [kb, n] = transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (k !== kb) {
    throw new TypeError(
      `cannot multiply: op(A) is ${m} x ${k} but op(B) is ${kb} x ${n}; the inner dimensions ` +
        `must match (check transposeA / transposeB)`,
    );
  }
  throwIfAborted(options.signal, options.operation);
  const kernels = await loadKernels();
  const c = new WasmStorage(kernels, m * n);
  try {
    if (m * n * k > 0) await multiplyInto(kernels, { a, b, c: c.ptr }, { ...options, m, n, k });
  } catch (e) {
    c.free();
    throw e;
  }
  options.onProgress?.({ done: m, total: m, unit: "rows" });
  return kernelMatrix(c, { rows: m, cols: n });
}

/** Runs the product into `c` (zeroed), on this thread or split over the pool by rows of C. */
async function multiplyInto(
  kernels: Kernels,
  operands: { a: Matrix; b: Matrix; c: number },
  options: MatmulOptions & { m: number; n: number; k: number },
): Promise<void> {
  const { m, n, k } = options;
  const shape = {
    transA: options.transposeA ?? false,
    transB: options.transposeB ?? false,
    m,
    n,
    k,
  };
  // Declared first so it is disposed last: jobs writing into C must finish before it is freed.
  await using arena = new KernelArena(kernels);
  const a = kernelAddress(kernels, operands.a.data) ?? arena.copyIn(operands.a.data);
  const b = kernelAddress(kernels, operands.b.data) ?? arena.copyIn(operands.b.data);
  const pool = options.pool ?? defaultPool();
  const parallel = pool.size > 1 && m * n * k >= GEMM_PARALLEL_FROM && m >= 2 * MC;
  if (!parallel) {
    const scratch = arena.f32(kernels.exports.prism_sgemm_scratch_len(m, n, k));
    sgemm(kernels, { ...shape, a, b, c: operands.c, scratch });
    return;
  }
  const lda = shape.transA ? m : k;
  const jobs = splitRanges(m, pool.size, MC).map(([r0, r1]) => {
    const rows = r1 - r0;
    // Row r of op(A) starts at r·lda (stored A) or at column r (stored Aᵀ).
    const offset = shape.transA ? r0 : r0 * lda;
    const call: GemmCall = {
      ...shape,
      m: rows,
      a: a + offset * 4,
      lda,
      b,
      ldb: shape.transB ? k : n,
      c: operands.c + r0 * n * 4,
      ldc: n,
      scratch: arena.f32(kernels.exports.prism_sgemm_scratch_len(rows, n, k)),
    };
    return arena.track(pool.run("gemm_rows", call));
  });
  await Promise.all(jobs);
}

registerJobs({
  /** Payload: a {@linkcode GemmCall} whose pointers address the shared memory. */
  gemm_rows(kernels, payload) {
    const p = payloadIntegers("gemm_rows", payload, [
      "m",
      "n",
      "k",
      "a",
      "lda",
      "b",
      "ldb",
      "c",
      "ldc",
      "scratch",
    ]);
    const { transA, transB, alpha, beta } = payload as GemmCall;
    sgemm(kernels, { ...p, transA: transA === true, transB: transB === true, alpha, beta });
    return { result: null };
  },
});
