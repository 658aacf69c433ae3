/**
 * The Gram engine shared by covariance, RX and singular values: `(A - shift)ᵀ(A - shift)` with
 * its column sums, or `AAᵀ`, in float64 from float32 data, on WASM SIMD (all pool workers,
 * through the shared kernel memory) or WebGPU.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { operationOf } from "../core/operation.ts";
import type { RunOptions } from "../core/types.ts";
import { FAMILIES } from "./families.ts";
import { chooseBackend } from "./route.ts";
import { livesOn, type MatrixLike, place, runHost, shapeOf } from "./_placement.ts";

/**
 * Options of {@linkcode gram}. `backend` defaults to `"auto"` (`chooseBackend("gram", …)`);
 * `signal` cancels between chunks; `onProgress` is called as chunks finish, with rows (side
 * columns) or columns (side rows) done.
 */
export interface GramOptions extends RunOptions {
  /**
   * `"columns"` (default): `(A - shift)ᵀ(A - shift)`, `n = cols`, with column sums.
   * `"rows"`: `AAᵀ`, `n = rows` (no shift, no sums); the smaller side for wide matrices.
   */
  side?: "columns" | "rows";
  /** `cols` values subtracted from every row (side `"columns"` only); default zeros. */
  shift?: Float32Array;
}

/** What {@linkcode gram} returns. */
export interface GramResult {
  /** The Gram's order: `cols` for side `"columns"`, `rows` for side `"rows"`. */
  n: number;
  /** Terms summed per entry: `rows` for side `"columns"`, `cols` for side `"rows"`. */
  count: number;
  /** Side `"columns"`: `Σ (row - shift)`, `n` values. Absent for side `"rows"`. */
  sum?: Float64Array;
  /** The full symmetric `n × n` Gram, row-major, float64. */
  gram: Float64Array;
  /** The engine that ran it. */
  backend: "wasm" | "webgpu";
}

/**
 * Computes the Gram matrix of a float32 matrix in float64: `(A - shift)ᵀ(A - shift)` and
 * `Σ(row - shift)` (side `"columns"`), or `AAᵀ` (side `"rows"`).
 *
 * Products are summed in float32 over blocks of 128 rows (columns) and the blocks in float64, so
 * the error does not grow with the row count. For a covariance, pass a shift near the column
 * means: the centring then loses no digits even for data far from zero.
 *
 * On WASM the work is split across every pool worker; a matrix from `allocMatrix()` (or any view
 * of the kernel memory) is read in place, a plain array is copied in chunk by chunk while the
 * workers compute. On WebGPU side `"rows"` is the SYRK of the transpose (made on the CPU, so a
 * GPU-resident tensor is refused there). A device tensor is read where it lives.
 *
 * @param matrix `{ data: Float32Array, rows, cols }`, row-major, or a device tensor.
 * @param options `side`, `shift`, `backend`, `signal`, `onProgress`.
 * @returns `{ n, count, sum?, gram, backend }`; zeros for an empty matrix.
 * @throws {TypeError} When the matrix is malformed, `side` is unknown, or `shift` is not a
 *   `Float32Array` of `cols` values (or is given with side `"rows"`).
 * @throws {RangeError} When `backend` is unknown.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is none.
 * @throws {OutOfMemoryError} When the kernel memory or the GPU cannot hold the work.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {KernelError} When a kernel fails.
 * @example
 * ```ts
 * import { gram } from "./gram.ts";
 * import assert from "node:assert";
 * const a = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
 * const g = await gram(a, { backend: "wasm" });
 * assert(g.n === 2 && g.gram[0] === 35 && g.gram[1] === 44 && g.gram[2] === 44);
 * const r = await gram(a, { side: "rows", backend: "wasm" });
 * assert(r.n === 3 && r.gram[1] === 11 && r.gram[3] === 11);
 * ```
 */
export async function gram(matrix: MatrixLike, options: GramOptions = {}): Promise<GramResult> {
  const m = shapeOf(matrix);
  const side = options.side ?? "columns";
  if (side !== "columns" && side !== "rows") {
    throw new TypeError(`options.side must be "columns" or "rows", got ${JSON.stringify(side)}`);
  }
  if (options.shift !== undefined) {
    if (side === "rows") throw new TypeError(`options.shift applies to side "columns" only`);
    if (!(options.shift instanceof Float32Array) || options.shift.length !== m.cols) {
      throw new TypeError(
        `options.shift must be a Float32Array of ${m.cols} values (one per column), got ` +
          `${options.shift?.constructor?.name} of ${(options.shift as { length?: number }).length}`,
      );
    }
  }
  const operation = operationOf(options, "gram()");
  throwIfAborted(options.signal, operation);
  const n = side === "columns" ? m.cols : m.rows;
  const count = side === "columns" ? m.rows : m.cols;
  const route = await chooseBackend("gram", {
    backend: options.backend,
    work: (count * n * n) / 2,
    lives: livesOn(matrix),
  });
  const { gram: upper, sum } = await runHost(FAMILIES.gram, await place(matrix, route.backend), {
    side,
    ...(side === "columns" ? { shift: options.shift ?? new Float32Array(m.cols) } : {}),
    signal: options.signal,
    onProgress: options.onProgress,
    operation,
  });
  mirrorUpper(upper, n);
  return { n, count, ...(sum === undefined ? {} : { sum }), gram: upper, backend: route.backend };
}

/** Copies the upper triangle of a row-major `n × n` array onto its lower triangle. */
function mirrorUpper(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j];
  }
}
