/**
 * The regularised pseudo-inverse of a covariance matrix, as a whitening factor: RX scores are
 * `‖(x − μ)·W‖²` with `S⁺ = W·Wᵀ`, which needs no `C × C` product per pixel and is never NaN.
 *
 * Method: `A = S + eps·I` (float64), symmetric eigendecomposition `A = V·diag(λ)·Vᵀ` with
 * `prism_eigh_f64`, then `W = V_k · diag(1/√λ_k)` over the kept eigenvalues.
 *
 * Tolerance: an eigenvalue is kept when `λ > λmax · rtol`, with `rtol = C · 2⁻²³` by default
 * (numpy's `pinv(A, hermitian=True, rtol=...)` rule, at float32 rather than float64 machine
 * epsilon): covariances in prism are accumulated from float32 data, so their entries carry
 * relative errors near 1e-7–1e-6 of the largest eigenvalue, and directions below that level are
 * rounding noise, not signal — inverting them would turn noise into huge scores. Smaller
 * eigenvalues, including tiny negatives, count as zero and their directions get weight 0.
 * A matrix with `λmax ≤ 0` (all zero) has rank 0 and `W` has no columns: every score is 0.
 * With `eps = 0` and a singular `S` the result is still the pseudo-inverse, unless the caller
 * asks `singular: "throw"`.
 *
 * Form: `W` is only defined up to a rotation (`W·Q` with `Q` orthogonal gives the same `W·Wᵀ`).
 * `form: "lower"` picks the lower-trapezoidal one (`W[c][j] = 0` for `c < j`, a float64
 * Householder LQ of the eigen factor, `O(C·k²)`), so scoring `‖(x − μ)·W‖²` needs about half
 * the multiply-adds of the eigen factor (`C·k − k²/2` per pixel instead of `C·k`); the rotation
 * is orthogonal, so it changes rounding but not conditioning.
 *
 * @module
 */

import { SingularMatrixError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";
import { symmetricEigen } from "../wasm/eigen.ts";

/** A whitening factor of a symmetric positive semi-definite matrix. */
export interface Whitening {
  /** `bands × rank`, row-major float64: `S⁺ = W·Wᵀ`. */
  readonly w: Float64Array;
  /** Rows of `w` (the matrix order C). */
  readonly bands: number;
  /** Kept eigenvalues: the columns of `w`. */
  readonly rank: number;
  /** `λmax / λmin` over the kept eigenvalues of `S + eps·I`; `Infinity` when rank is 0. */
  readonly conditionNumber: number;
}

/** Options of {@linkcode whitening}. */
export interface WhiteningOptions {
  /** Added to the diagonal before inverting; default 1e-6. */
  eps?: number;
  /** Relative eigenvalue tolerance; default `C · 2⁻²³` (see the module docs). */
  rtol?: number;
  /** `"pinv"` (default): drop null directions. `"throw"`: throw when rank < C. */
  singular?: "pinv" | "throw";
  /**
   * `"eigen"` (default): `W = V_k·diag(1/√λ_k)`, columns along the eigenvectors. `"lower"`: the
   * same factor rotated to be lower trapezoidal (see the module docs), cheaper to score with.
   */
  form?: "eigen" | "lower";
}

/**
 * Computes `W` with `(S + eps·I)⁺ = W·Wᵀ` (see the module docs for the tolerance).
 *
 * @param covariance `bands × bands` symmetric, row-major float64 (only the upper triangle is read).
 * @param bands The matrix order C.
 * @param options `eps` (≥ 0, default 1e-6), `rtol` (≥ 0, default `C · 2⁻²³`), `singular`
 *   (`"pinv"` or `"throw"`) and `form` (`"eigen"` or `"lower"`).
 * @returns The factor, its rank and condition number.
 * @throws {TypeError} When the length is not `bands²` or an option has the wrong type.
 * @throws {RangeError} When `eps` or `rtol` is negative or not finite.
 * @throws {SingularMatrixError} With `singular: "throw"`, when rank < C.
 * @throws {InvalidDataError} When the matrix holds NaN or infinity.
 * @example
 * ```ts
 * import { whitening } from "./_pinv.ts";
 * import assert from "node:assert";
 * const r = await whitening(new Float64Array([4, 0, 0, 0]), 2, { eps: 0 });
 * assert(r.rank === 1 && Math.abs(r.w[0] ** 2 - 0.25) < 1e-15);
 * const l = await whitening(new Float64Array([2, 1, 1, 2]), 2, { eps: 0, form: "lower" });
 * assert(l.w[1] === 0); // W[0][1]: lower trapezoidal
 * ```
 */
export async function whitening(
  covariance: Float64Array,
  bands: number,
  options: WhiteningOptions = {},
): Promise<Whitening> {
  checkInteger("bands", bands, 1);
  if (!(covariance instanceof Float64Array) || covariance.length !== bands * bands) {
    throw new TypeError(
      `covariance must be a Float64Array of bands² = ${bands * bands} values, got ${
        covariance?.length ?? typeof covariance
      }`,
    );
  }
  const eps = options.eps ?? 1e-6;
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`eps must be a finite number ≥ 0, got ${String(eps)}`);
  }
  const rtol = options.rtol ?? bands * 2 ** -23;
  if (typeof rtol !== "number" || !Number.isFinite(rtol) || rtol < 0) {
    throw new RangeError(`rtol must be a finite number ≥ 0, got ${String(rtol)}`);
  }
  const singular = options.singular ?? "pinv";
  if (singular !== "pinv" && singular !== "throw") {
    throw new TypeError(`singular must be "pinv" or "throw", got ${String(singular)}`);
  }
  const form = options.form ?? "eigen";
  if (form !== "eigen" && form !== "lower") {
    throw new TypeError(`form must be "eigen" or "lower", got ${String(form)}`);
  }
  const { values, vectors } = await symmetricEigen({ data: covariance, n: bands }, {
    vectors: true,
    diagonalShift: eps,
  });
  const lmax = values[0];
  const tol = Math.max(lmax, 0) * rtol;
  let rank = 0;
  while (rank < bands && values[rank] > tol && lmax > 0) rank++;
  if (singular === "throw" && rank < bands) {
    throw new SingularMatrixError(
      `covariance (+ eps·I, eps = ${eps}) has rank ${rank} of ${bands}; pass eps > 0 or ` +
        `singular: "pinv" to use the pseudo-inverse`,
    );
  }
  const w = new Float64Array(bands * rank);
  for (let j = 0; j < rank; j++) {
    const s = 1 / Math.sqrt(values[j]);
    for (let i = 0; i < bands; i++) w[i * rank + j] = vectors![i * bands + j] * s;
  }
  if (form === "lower") rotateLower(w, bands, rank);
  const conditionNumber = rank === 0 ? Infinity : lmax / values[rank - 1];
  return { w, bands, rank, conditionNumber };
}

/**
 * Rotates the `rows × k` row-major `w` in place into `w·Q` with `Q` orthogonal and
 * `w[i][j] = 0` for `j > i` (an LQ decomposition by Householder reflections from the right,
 * float64). Step `i` reflects columns `i..k` so that row `i` keeps only its entry `i`; rows
 * above already have zeros there, which the reflection leaves zero. The zeros are stored
 * exactly, since the scoring kernel skips them rather than multiplying by them.
 */
function rotateLower(w: Float64Array, rows: number, k: number): void {
  const v = new Float64Array(k);
  for (let i = 0; i < Math.min(rows, k); i++) {
    const row = i * k;
    let norm = 0;
    for (let j = i; j < k; j++) norm = Math.hypot(norm, w[row + j]);
    if (norm === 0) continue;
    // v = x − α·e₁ with α of the opposite sign to x₀, so no cancellation; H = I − 2vvᵀ/vᵀv.
    const alpha = w[row + i] > 0 ? -norm : norm;
    let vv = 0;
    for (let j = i; j < k; j++) {
      v[j] = w[row + j] - (j === i ? alpha : 0);
      vv += v[j] * v[j];
    }
    if (vv === 0) continue;
    for (let r = i + 1; r < rows; r++) {
      let dot = 0;
      for (let j = i; j < k; j++) dot += w[r * k + j] * v[j];
      const f = 2 * dot / vv;
      for (let j = i; j < k; j++) w[r * k + j] -= f * v[j];
    }
    w[row + i] = alpha;
    for (let j = i + 1; j < k; j++) w[row + j] = 0;
  }
}
