/**
 * The float64 eigen family (`prism_eigh_f64`, `prism_eigvalsh_f64`, `prism_svd_jacobi_f64`,
 * kernels/src/eigen*; the one place that calls them): symmetric eigenvalues with optional
 * eigenvectors (values alone take the cheaper root-free QL), and one-sided Jacobi singular
 * values. Inputs are copied into kernel memory (the kernels destroy them);
 * results come back as plain `Float64Array`s.
 *
 * Values alone from order {@linkcode EIGEN_PARALLEL_FROM} run the reduction on two threads
 * (`prism_eigvalsh_team_f64` here, `prism_tridiag_assist_f64` on a pool worker), with the
 * same bits as one thread. The pool job:
 * - `eigen_tridiag_assist`: `{ team }`, the shared state of one reduction; it returns when the
 *   leader is done (at once when it already is), or when it gets no core to keep up.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { Matrix } from "../core/types.ts";
import { KernelArena } from "./arena.ts";
import { sharedMemoryWorkers } from "../core/runtime.ts";
import { payloadIntegers, registerJobs } from "./job_registry.ts";
import { loadKernels } from "./loader.ts";
import type { Kernels } from "./kernels.ts";
import { defaultPool, type WorkerPool } from "./pool.ts";

/** A symmetric float64 matrix: `n × n` row-major, of which only the upper triangle is read. */
export interface SymmetricInput {
  readonly data: Float64Array;
  readonly n: number;
}

/** Options of {@linkcode symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** Also compute the eigenvectors; default false. */
  vectors?: boolean;
  /** Added to the diagonal first (`A + shift·I`, e.g. a regularising eps); default 0. */
  diagonalShift?: number;
}

/** Eigenvalues, descending, and the eigenvectors when asked for. */
export interface SymmetricEigen {
  /** `n` eigenvalues, descending. */
  readonly values: Float64Array;
  /** `n × n` row-major: column `j` is the eigenvector of `values[j]`. */
  readonly vectors?: Float64Array;
}

/**
 * Eigen-decomposes a symmetric float64 matrix. The input is left unchanged.
 *
 * @param input `data` (`n²` values, upper triangle read) and `n`.
 * @param options `vectors`, `diagonalShift`.
 * @returns The eigenvalues (descending) and, with `vectors`, the eigenvectors as columns.
 * @throws {TypeError} When `n` is not a whole number or `data` does not hold `n²` values.
 * @throws {InvalidDataError} When the upper triangle holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { symmetricEigen } from "./eigen.ts";
 * import assert from "node:assert";
 * const { values, vectors } = await symmetricEigen(
 *   { data: new Float64Array([2, 1, 1, 2]), n: 2 },
 *   { vectors: true },
 * );
 * assert(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
 * assert(Math.abs(Math.abs(vectors![0]) - Math.SQRT1_2) < 1e-12);
 * ```
 */
export async function symmetricEigen(
  input: SymmetricInput,
  options: SymmetricEigenOptions = {},
): Promise<SymmetricEigen> {
  const { data, n } = input;
  checkInteger("n", n);
  if (!(data instanceof Float64Array) || data.length !== n * n) {
    throw new TypeError(
      `data must be a Float64Array of n² = ${n * n} values, got ${data?.length ?? typeof data}`,
    );
  }
  const withVectors = options.vectors ?? false;
  if (n === 0) {
    return { values: new Float64Array(0), ...withVectors ? { vectors: new Float64Array(0) } : {} };
  }
  const kernels = await loadKernels();
  using arena = new KernelArena(kernels);
  const a = arena.f64(n * n);
  const view = kernels.f64(a, n * n);
  view.set(data);
  const shift = options.diagonalShift ?? 0;
  if (shift !== 0) { for (let i = 0; i < n; i++) view[i * n + i] += shift; }
  if (withVectors) {
    const values = arena.f64(n);
    const vectors = arena.f64(n * n);
    const scratch = arena.f64(kernels.exports.prism_eigh_f64_scratch_len(n));
    kernels.check(
      "prism_eigh_f64",
      kernels.exports.prism_eigh_f64(a, n, values, vectors, scratch),
    );
    return { values: kernels.f64(values, n).slice(), vectors: kernels.f64(vectors, n * n).slice() };
  }
  return { values: await eigenvaluesInPlace(kernels, a, n) };
}

/**
 * Order from which {@linkcode eigenvaluesInPlace} runs the tridiagonal reduction on two threads
 * (this one and a pool worker). Measured with `bench/eigen_team_report.ts` on the 2-core AMD
 * EPYC (fused build, machine otherwise idle; whole call, two threads / one, three runs):
 * 1.36-1.54 at n = 128 (the job's round trip, about 0.15 ms, against a 0.44 ms call),
 * 1.04-1.15 at 256, 0.99-1.01 at 384, 0.84-0.86 at 512, 0.71 at 768, 0.66 at 1024 (where the
 * trailing matrix, 4 MiB, streams from the shared cache on both cores). Below it the
 * reduction runs here alone, with no pool call.
 */
export const EIGEN_PARALLEL_FROM = 512;

/** Options of {@linkcode eigenvaluesInPlace}. */
export interface EigenvaluesInPlaceOptions {
  /** The pool whose worker may assist the reduction (tests); default `defaultPool()`. */
  pool?: WorkerPool;
  /** Order from which a worker is asked to assist; default {@linkcode EIGEN_PARALLEL_FROM}. */
  parallelFrom?: number;
}

/**
 * The eigenvalues, descending, of a symmetric float64 matrix already in kernel memory: the
 * route of the singular values, whose Gram is formed there, so no `n × n` array crosses into
 * JavaScript. Householder reduction to tridiagonal form, then root-free QL (no rotations).
 *
 * From order {@linkcode EIGEN_PARALLEL_FROM}, a pool worker is asked to assist the reduction:
 * each step's pass over the trailing matrix is cut into chunks (by the order alone) that this
 * thread and the worker claim as they come, each summed into its own vector and added in chunk
 * order, so the values are bit-identical whether the worker helped, arrived late or never ran.
 * This thread never waits for the worker to start (a busy or one-worker pool is fine).
 *
 * @param kernels The loaded module whose memory holds the matrix.
 * @param a Byte address of `n × n` row-major float64 values; only the upper triangle is read,
 *   and the whole matrix is destroyed.
 * @param n The order, at least 1.
 * @param options `pool`, `parallelFrom`.
 * @returns The `n` eigenvalues, descending, in a fresh array.
 * @throws {InvalidDataError} When the upper triangle holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { eigenvaluesInPlace } from "./eigen.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const a = kernels.alloc(4 * 8);
 * kernels.f64(a, 4).set([2, 1, 1, 2]);
 * const values = await eigenvaluesInPlace(kernels, a, 2);
 * kernels.free(a);
 * assert(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
 * ```
 */
export async function eigenvaluesInPlace(
  kernels: Kernels,
  a: number,
  n: number,
  options: EigenvaluesInPlaceOptions = {},
): Promise<Float64Array> {
  checkInteger("n", n);
  if (n < 1) throw new RangeError(`eigenvaluesInPlace() needs n >= 1, got ${n}`);
  await using arena = new KernelArena(kernels);
  const values = arena.f64(n);
  const scratch = arena.f64(kernels.exports.prism_eigvalsh_f64_scratch_len(n));
  const pool = await assistantPool(kernels, n, options);
  if (pool === undefined) {
    kernels.check("prism_eigvalsh_f64", kernels.exports.prism_eigvalsh_f64(a, n, values, scratch));
  } else {
    await withAssistant(kernels, pool, arena, (team) => {
      kernels.check(
        "prism_eigvalsh_team_f64",
        kernels.exports.prism_eigvalsh_team_f64(a, n, values, scratch, team),
      );
    });
  }
  return kernels.f64(values, n).slice();
}

/**
 * Milliseconds during which reductions run on this thread alone after an assistant stalled (the
 * other processes of a loaded machine kept it off the cores, `prism_tridiag_team_stalled`).
 * Such a machine makes the two-thread path slower than one thread: the leader waits out a
 * scheduler slice for the assistant's chunk once per call (n = 384: 6.3 ms became 13.5 ms
 * with one busy process beside it), so it is not tried again for a while.
 */
const ALONE_AFTER_STALL_MS = 250;
/** `performance.now()` until which reductions run alone (see {@linkcode ALONE_AFTER_STALL_MS}). */
let aloneUntil = -Infinity;

/**
 * The pool whose worker may assist a reduction of order `n`, or `undefined` for one thread:
 * small orders, a recent stall, a closed pool, an instance other than the one pools run over, or a runtime
 * whose pool runs jobs on this thread (no shared-memory workers: the assistant would wait for
 * a leader that cannot run).
 */
async function assistantPool(
  kernels: Kernels,
  n: number,
  options: EigenvaluesInPlaceOptions,
): Promise<WorkerPool | undefined> {
  if (n < (options.parallelFrom ?? EIGEN_PARALLEL_FROM) || !sharedMemoryWorkers()) return;
  if (performance.now() < aloneUntil) return;
  const pool = options.pool ?? defaultPool();
  if (pool.closed || kernels !== await loadKernels()) return;
  return pool;
}

/**
 * Runs `lead(team)` on this thread with an assistant job on `pool` sharing the state `team`
 * (allocated zeroed here). The job is posted first, on a next task of the event loop. When the
 * assistant has started, it returns as soon as the leader is done and is awaited with the
 * arena; when it has not, the state stays allocated until its job ends (it then returns at
 * once) and this call does not wait for it.
 */
async function withAssistant(
  kernels: Kernels,
  pool: WorkerPool,
  arena: KernelArena,
  lead: (team: number) => void,
): Promise<void> {
  const words = Math.ceil(kernels.exports.prism_tridiag_team_bytes() / 8);
  const team = kernels.alloc(words * 8);
  kernels.f64(team, words).fill(0);
  // The leader's result does not depend on the assistant, so its failure is not the call's.
  const assistant = pool.run("eigen_tridiag_assist", { team }).catch(() => null);
  try {
    // Let the pool post the job before this thread is busy: a microtask (as `wasmSyrk` waits)
    // is not always enough, since a worker whose last job ended while this thread computed is
    // free again only once the pool has handled that job's reply, a task of the event loop.
    await nextTask();
    lead(team);
  } finally {
    if (kernels.exports.prism_tridiag_team_stalled(team) !== 0) {
      aloneUntil = performance.now() + ALONE_AFTER_STALL_MS;
    }
    kernels.exports.prism_tridiag_team_close(team);
    if (kernels.exports.prism_tridiag_team_joined(team) !== 0) {
      arena.track(assistant.finally(() => kernels.free(team)));
    } else {
      assistant.finally(() => kernels.free(team));
    }
  }
}

/**
 * Resolves on a next turn of the event loop (a message to itself, about 20 µs; a zero timeout
 * waits milliseconds): the pool handles the replies of jobs that ended meanwhile, which frees
 * their workers, and posts what is queued.
 */
function nextTask(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<void>((resolve) => {
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

registerJobs({
  eigen_tridiag_assist(kernels, payload) {
    const { team } = payloadIntegers("eigen_tridiag_assist", payload, ["team"]);
    kernels.check("prism_tridiag_assist_f64", kernels.exports.prism_tridiag_assist_f64(team));
    return { result: null };
  },
});

/**
 * Singular values of a float32 matrix, converted to float64, by one-sided Jacobi: descending,
 * `min(rows, cols)` of them; accurate down to tiny values. (The kernel scales badly scaled input
 * by a power of two itself.)
 *
 * @param input The row-major matrix, float32 or float64 (validated by the caller).
 * @returns The singular values.
 * @throws {InvalidDataError} When the data holds NaN or infinity.
 * @throws {KernelError} When the iteration does not converge.
 * @example
 * ```ts
 * import { jacobiSingularValues } from "./eigen.ts";
 * import assert from "node:assert";
 * const s = await jacobiSingularValues({ data: new Float32Array([3, 0, 4, 0, 0, 2]), rows: 3, cols: 2 });
 * assert(Math.abs(s[0] - 5) < 1e-12 && Math.abs(s[1] - 2) < 1e-12);
 * ```
 */
export async function jacobiSingularValues(
  input: Matrix | { data: Float64Array; rows: number; cols: number },
): Promise<Float64Array> {
  const { data, rows, cols } = input;
  const count = Math.min(rows, cols);
  if (count === 0) return new Float64Array(0);
  const kernels = await loadKernels();
  using arena = new KernelArena(kernels);
  const a = arena.f64(rows * cols);
  kernels.f64(a, rows * cols).set(data);
  const values = arena.f64(count);
  const scratch = arena.f64(kernels.exports.prism_svd_jacobi_f64_scratch_len(rows, cols));
  kernels.check(
    "prism_svd_jacobi_f64",
    kernels.exports.prism_svd_jacobi_f64(a, rows, cols, values, scratch),
  );
  return kernels.f64(values, count).slice();
}
