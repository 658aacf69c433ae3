/**
 * Singular values of a matrix and the dimensionality metrics built on them.
 *
 * The default route squares the matrix: the smaller Gram matrix (`AᵀA` when `rows ≥ cols`,
 * else `AAᵀ`; float32 blocks merged in float64, WASM SIMD on every core or WebGPU), then a
 * float64 symmetric eigensolver in Rust (Householder tridiagonalisation, on two threads from
 * order 512, + root-free implicit QL, values only) gives its eigenvalues λ, and
 * `s = √max(λ, 0)`. On WASM the Gram never leaves kernel memory (`wasmGramInKernel`, then
 * `eigenvaluesInPlace`); a WebGPU Gram comes back through the shared engine (`./gram.ts`).
 * `exact: true` runs one-sided Jacobi on `A` itself in float64 instead.
 *
 * @module
 */

import type { Matrix, RunOptions } from "../core/types.ts";
import { throwIfAborted } from "../core/abort.ts";
import { InvalidDataError } from "../core/errors.ts";
import { checkMatrix, firstNonFinite } from "../core/validate.ts";
import { type SpectrumMetrics, spectrumMetrics } from "./spectrum_metrics.ts";
import { type NestedOptions, operationOf } from "../core/operation.ts";
import { gram, type GramOptions } from "./gram.ts";
import { chooseBackend } from "./route.ts";
import { hostMatrix, livesOn, type MatrixLike, shapeOf } from "./_placement.ts";
import { eigenvaluesInPlace, jacobiSingularValues, symmetricEigen } from "../wasm/eigen.ts";
import { wasmGramInKernel } from "../wasm/gram.ts";
import { KernelArena } from "../wasm/arena.ts";
import { loadKernels } from "../wasm/loader.ts";

export type { SpectrumMetrics } from "./spectrum_metrics.ts";

/**
 * Options of {@linkcode singularValues} and {@linkcode spectrumOf}. `backend` is where the Gram
 * product runs: `"auto"` (default; see `ops/route.ts`, family `"spectrum"`), `"wasm"` or
 * `"webgpu"`; the eigensolver and `exact` always run in WASM on the CPU.
 */
export interface SingularValueOptions extends Pick<RunOptions, "backend" | "signal"> {
  /**
   * Compute from `A` itself by one-sided Jacobi in float64 instead of through the Gram matrix:
   * keeps the small singular values the Gram route loses, at many times the cost.
   */
  exact?: boolean;
}

/** What {@linkcode spectrumOf} returns. */
export interface Spectrum {
  /** The singular values, descending, `min(rows, cols)` of them. */
  readonly singularValues: Float64Array;
  /** The metrics of `ops/spectrum_metrics.ts`'s `spectrumMetrics`, with the matrix's shape. */
  readonly metrics: SpectrumMetrics;
}

// Inputs whose largest magnitude lies outside [2^-40, 2^40] are scaled by a power of two (exact)
// before the Gram product, so squares neither overflow float32 (above ~2^64) nor vanish into
// subnormals (below ~2^-63) inside its float32 blocks.
const SAFE_EXPONENT = 40;

// How far above the most negative Gram eigenvalue the noise band reaches (see noiseFloor()):
// rounding noise is roughly symmetric about 0, so its positive side is about as wide.
const NOISE_FACTOR = 2;

/**
 * The singular values of a matrix, largest first: `min(rows, cols)` of them.
 *
 * **Gram route (default).** Forms the smaller Gram matrix `G` (`AᵀA` when `rows ≥ cols`, else
 * `AAᵀ`; `n = min(rows, cols)`), takes its eigenvalues `λ` in float64 and returns
 * `s = √max(λ, 0)` (rounding can leave eigenvalues of a rank-deficient `G` a little below zero;
 * they become 0). Cost: `rows · cols · n` multiply-adds for `G` (parallel on the worker pool, or
 * on the GPU) plus about `(4/3) n³` for the eigensolver (its reduction on two threads from
 * `n = 512`, the rest on one core).
 *
 * Accuracy trade-off: squaring doubles the exponent of the condition number. `G` is summed in
 * float32 blocks, so its entries carry relative errors of about 1e-7; an eigenvalue error
 * `δλ ≈ 1e-7 · s₁²` moves a singular value `s` by about `δλ / 2s`. Measured against numpy's
 * float64 SVD the values stay within 1e-5 · s₁ (random, rank-deficient and constant-column
 * inputs), but values below about `s₁ · 1e-4` lose their *relative* accuracy. Eigenvalues
 * inside the rounding band that the most negative eigenvalue reveals (a PSD matrix has none),
 * or below the eigensolver's own rounding, `n · ε · λ₁` (singular values under
 * `√(n · ε) · s₁`, far below the Gram's float32 noise), are taken as 0, so a rank-deficient
 * matrix reports exact zeros rather than noise of up to `s₁ · 1e-4`. The metrics, dominated by
 * the large values, are hardly affected.
 *
 * **`exact: true`.** One-sided (Hestenes) Jacobi on `A` converted to float64: the singular
 * values to high relative accuracy, small ones included, but it costs `O(rows · cols · n)` per
 * sweep for 6–12 sweeps on one core, with no GPU path: ten to a hundred times the Gram route
 * on the tracker's shapes. Use it for small or ill-conditioned matrices.
 *
 * An empty matrix (0 rows or 0 columns) has no singular values: the result is an empty
 * `Float64Array` (as numpy's `svd(compute_uv=False)` returns), not an error.
 *
 * @param matrix The matrix, row-major float32, or a device tensor.
 * @param options `backend` for the Gram product, `exact`, `signal`.
 * @returns The singular values, descending, in float64.
 * @throws {TypeError} When `a` is not a well-formed `{ data, rows, cols }`.
 * @throws {InvalidDataError} When a value is NaN or infinite; the message and `position` name
 *   its `row` and `col`.
 * @throws {RangeError} When `backend` is not a backend name, or `exact` is combined with
 *   `backend: "webgpu"` (Jacobi runs on the CPU only).
 * @throws {BackendUnavailableError} When `"webgpu"` is requested and no adapter exists.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {KernelError} When the eigensolver or Jacobi does not converge (not seen in practice).
 * @example
 * ```ts
 * import { singularValues } from "./spectrum.ts";
 * import assert from "node:assert";
 * // A 3 x 2 matrix with orthogonal columns of norms 5 and 2.
 * const a = { data: new Float32Array([3, 0, 4, 0, 0, 2]), rows: 3, cols: 2 };
 * const s = await singularValues(a);
 * assert(Math.abs(s[0] - 5) < 1e-6 && Math.abs(s[1] - 2) < 1e-6);
 * const exact = await singularValues(a, { exact: true });
 * assert(Math.abs(exact[1] - 2) < 1e-12);
 * ```
 */
export async function singularValues(
  matrix: MatrixLike,
  options: SingularValueOptions = {},
): Promise<Float64Array> {
  // The scan for non-finite values and the scaling, where they run, read the values on the CPU:
  // a WASM tensor in place, a GPU tensor read back once (the Gram still runs where it lives).
  const a = await hostMatrix(matrix);
  const { data, rows, cols } = checkMatrix(a);
  const { backend = "auto", exact = false, signal } = options;
  if (typeof exact !== "boolean") {
    throw new TypeError(`options.exact must be true or false, got ${String(exact)}`);
  }
  const operation = operationOf(options, "singularValues()");
  throwIfAborted(signal, operation);
  const n = Math.min(rows, cols);

  if (exact) {
    finiteMaxAbs(data, cols); // names a non-finite value's row and col
    if (n === 0) return new Float64Array(0);
    if (backend === "webgpu") {
      throw new RangeError(
        'exact: true runs one-sided Jacobi on the CPU only; drop backend: "webgpu" or exact',
      );
    }
    await chooseBackend("spectrum", { backend, work: 0 }); // validates the backend name
    return await jacobiSingularValues({ data, rows, cols });
  }
  if (n === 0) return new Float64Array(0);

  const route = await chooseBackend("spectrum", {
    backend,
    work: rows * cols * n,
    lives: livesOn(matrix),
  });
  const side = rows >= cols ? "columns" : "rows";
  const run: GramRun = { side, backend: route.backend, signal, operation };
  const { lambda, exponent } = route.backend === "wasm"
    ? await wasmGramEigenvalues(a, run)
    : await gramEigenvalues(matrix, a, run);
  const floor = noiseFloor(lambda);
  const unscale = 2 ** exponent;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = lambda[i] > floor ? Math.sqrt(lambda[i]) * unscale : 0;
  return s;
}

/** The Gram product's options, with the user's operation named for errors. */
type GramRun = GramOptions & NestedOptions & { readonly operation: string };

/** The Gram's eigenvalues (descending) and the power of two the input was divided by. */
type ScaledEigenvalues = { lambda: Float64Array; exponent: number };

/**
 * The WASM route: the Gram is formed in kernel memory and its eigenvalues taken there, so no
 * `n × n` array is made in JavaScript. The Gram's diagonal stands in for the scan of every
 * value (IEEE arithmetic carries a NaN or infinity into it; see {@linkcode safeDiagonal}).
 */
async function wasmGramEigenvalues(
  a: Matrix,
  run: GramRun,
): Promise<ScaledEigenvalues> {
  const kernels = await loadKernels();
  await using arena = new KernelArena(kernels);
  const n = run.side === "rows" ? a.rows : a.cols;
  const count = run.side === "rows" ? a.cols : a.rows;
  let exponent = 0;
  let g = await wasmGramInKernel(arena, a, run);
  if (!safeDiagonal(kernels.f64(g, n * n), n, count)) {
    // Rare: a non-finite value (the scan throws, naming it), a square that overflowed float32,
    // or values so small that scaling them pays. Exponent 0 keeps the Gram just computed.
    exponent = scaleExponent(finiteMaxAbs(a.data, a.cols));
    if (exponent !== 0) g = await wasmGramInKernel(arena, scaled(a, 2 ** -exponent), run);
  }
  throwIfAborted(run.signal, run.operation);
  return { lambda: await eigenvaluesInPlace(kernels, g, n), exponent };
}

/**
 * The WebGPU route: the Gram comes back from the device, after a scan of every value (WGSL may
 * assume that no NaN or infinity occurs) that also picks the scaling.
 */
async function gramEigenvalues(
  matrix: MatrixLike,
  a: Matrix,
  run: GramRun,
): Promise<ScaledEigenvalues> {
  const exponent = scaleExponent(finiteMaxAbs(a.data, a.cols));
  const g = await gram(exponent === 0 ? matrix : scaled(a, 2 ** -exponent), run);
  throwIfAborted(run.signal, run.operation);
  return { lambda: (await symmetricEigen({ data: g.gram, n: g.n })).values, exponent };
}

/**
 * The singular values of a matrix and their dimensionality metrics in one call:
 * {@linkcode singularValues} followed by `spectrumMetrics` (`ops/spectrum_metrics.ts`, every formula
 * in its JSDoc) with the matrix's shape, so `numerical_rank` uses numpy's `matrix_rank`
 * tolerance `s₁ · max(rows, cols) · 2⁻⁵²`.
 *
 * @param a The matrix, row-major float32, at least 1 × 1.
 * @param options As for {@linkcode singularValues}.
 * @returns The singular values and the metrics.
 * @throws {TypeError} When `a` is not a well-formed `{ data, rows, cols }`.
 * @throws {RangeError} When `a` has 0 rows or 0 columns (no metrics exist), or as
 *   {@linkcode singularValues} throws.
 * @throws {InvalidDataError} When a value is NaN or infinite (`position` names row and col).
 * @throws {BackendUnavailableError} When `"webgpu"` is requested and no adapter exists.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { spectrumOf } from "./spectrum.ts";
 * import assert from "node:assert";
 * const eye = { data: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), rows: 3, cols: 3 };
 * const { singularValues, metrics } = await spectrumOf(eye);
 * assert(singularValues.length === 3);
 * assert(Math.abs(metrics.stable_rank - 3) < 1e-6 && metrics.numerical_rank === 3);
 * ```
 */
export async function spectrumOf(
  a: MatrixLike,
  options: SingularValueOptions = {},
): Promise<Spectrum> {
  const m = shapeOf(a);
  if (m.rows === 0 || m.cols === 0) {
    throw new RangeError(
      `spectrumOf() needs at least one row and one column, got ${m.rows} x ${m.cols}; an empty ` +
        `matrix has no singular values to summarise`,
    );
  }
  const run: SingularValueOptions & NestedOptions = { ...options, operation: "spectrumOf()" };
  const s = await singularValues(a, run);
  return { singularValues: s, metrics: spectrumMetrics(s, { shape: [m.rows, m.cols] }) };
}

/** One pass: the largest magnitude, or InvalidDataError naming the first non-finite value. */
function finiteMaxAbs(data: Float32Array, cols: number): number {
  let max = 0;
  let bad = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] < 0 ? -data[i] : data[i];
    if (v > max) max = v;
    else if (!(v <= max)) bad = true; // NaN fails both comparisons
  }
  if (bad || max === Infinity) {
    const at = firstNonFinite(data, cols)!;
    throw new InvalidDataError(
      `singularValues(): value ${at.value} at row ${at.row}, col ${at.col}: the matrix must be ` +
        `finite; clean the data (or find where the model diverged) and call again`,
      { position: { row: at.row, col: at.col } },
    );
  }
  return max;
}

/**
 * The eigenvalues of the rounded Gram matrix that cannot be told from zero. `G` is positive
 * semi-definite, so a negative eigenvalue is pure rounding error, and by Weyl's theorem the
 * perturbation's norm is at least its magnitude: every eigenvalue within `NOISE_FACTOR` times
 * that band is noise around a true 0 (a rank-deficient matrix would otherwise report noise up to
 * `s₁ · 1e-4` in place of its zero singular values). The eigensolver adds its own rounding, a
 * backward error of about `n · ε · λ₁`, which no negative eigenvalue need reveal (when `G` is
 * exact, e.g. constant columns, that is the only noise, and it lands on either side of 0
 * depending on the order of operations): eigenvalues below it are cut too.
 */
function noiseFloor(lambda: Float64Array): number {
  const n = lambda.length;
  if (n === 0) return 0;
  const lowest = lambda[n - 1];
  const solver = n * Number.EPSILON * Math.max(lambda[0], 0);
  return Math.max(lowest < 0 ? -lowest * NOISE_FACTOR : 0, solver);
}

/**
 * Whether the Gram's diagonal proves the matrix finite and inside the range where
 * {@linkcode scaleExponent} returns 0, so that the scan of every value can be skipped. Every
 * value enters one diagonal entry squared (a NaN or infinity makes it NaN or infinite), and
 * that entry sums `count` squares, so the largest magnitude lies in
 * `[√(max diag / count), √(max diag)]`; requiring that interval inside
 * `[2^-(SAFE_EXPONENT-1), 2^(SAFE_EXPONENT-1)]` leaves a factor of 2 for the Gram's rounding.
 */
function safeDiagonal(g: Float64Array, n: number, count: number): boolean {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const d = g[i * n + i];
    if (d > max) max = d;
    else if (!(d <= max)) return false; // NaN fails both comparisons
  }
  const limit = 2 ** (2 * (SAFE_EXPONENT - 1));
  return max <= limit && max / count >= 1 / limit;
}

/** The power of two to divide by so that `maxAbs` lands near 1, or 0 when it is safe already. */
function scaleExponent(maxAbs: number): number {
  if (maxAbs === 0) return 0;
  const e = Math.round(Math.log2(maxAbs));
  return Math.abs(e) > SAFE_EXPONENT ? e : 0;
}

function scaled(a: Matrix, factor: number): Matrix {
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] * factor;
  return { data, rows: a.rows, cols: a.cols };
}
