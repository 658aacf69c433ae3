/**
 * Singular-value metrics of an activation matrix: how many dimensions a layer really uses.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";

/** The regulariser of the reference tracker, added where a denominator can be zero. */
export const SPECTRUM_EPS = 1e-10;

/** Every metric {@linkcode spectrumMetrics} computes from one spectrum. */
export interface SpectrumMetrics {
  /** `Σs² / (s₁² + eps)`. */
  readonly stable_rank: number;
  /** `1 / (Σ(s / (Σs + eps))² + eps)`, i.e. `(Σs)² / Σs²` on singular values. */
  readonly participation_ratio: number;
  /** Smallest `k` in `1..n` with `Σ_{i≤k} s_i² ≥ 0.9 Σs²`. */
  readonly cumulative_90: number;
  /** `Σs / (s₁ + eps)`. */
  readonly nuclear_norm_ratio: number;
  /** `−Σ p log p` with `p = s / Σs` (natural log, `0 · log 0 = 0`). */
  readonly spectral_entropy: number;
  /** `exp(spectral_entropy)`. */
  readonly effective_rank: number;
  /** `(Σs²)² / Σs⁴`, the participation ratio of the variances `s²`. */
  readonly pr_variance: number;
  /** `s₁ / (s_min + eps)`. */
  readonly condition_number: number;
  /** Count of `s_i > tol`, numpy's `matrix_rank` tolerance by default. */
  readonly numerical_rank: number;
}

/** Options of {@linkcode spectrumMetrics}. */
export interface SpectrumMetricsOptions {
  /**
   * Shape `[rows, cols]` of the matrix the values came from; sets the default rank tolerance
   * `s₁ · max(rows, cols) · 2⁻⁵²`. Without it `max(rows, cols)` is taken as `s.length`.
   */
  shape?: readonly [number, number];
  /** Absolute rank tolerance: `numerical_rank` counts `s_i > tolerance`. Overrides `shape`. */
  tolerance?: number;
}

/**
 * Computes the dimensionality metrics of one activation matrix from its singular values.
 *
 * With `n` values `s₁ ≥ … ≥ sₙ ≥ 0` and `eps = 1e-10` ({@linkcode SPECTRUM_EPS}):
 *
 * - `stable_rank = Σs² / (s₁² + eps)`
 * - `participation_ratio = 1 / (Σ(s / (Σs + eps))² + eps)`
 * - `cumulative_90 = min { k ∈ 1..n : Σ_{i≤k} s_i² ≥ 0.9 Σs² }`
 * - `nuclear_norm_ratio = Σs / (s₁ + eps)`
 * - `spectral_entropy = −Σ p_i log p_i`, `p = s / Σs`, terms with `p_i = 0` count 0
 * - `effective_rank = exp(spectral_entropy)`
 * - `pr_variance = (Σs²)² / Σs⁴`
 *
 * Squares are computed on `t = s / s₁` (`stable_rank = Σt² / (1 + eps / s₁²)`, and likewise
 * for `cumulative_90` and `pr_variance`): the same values, but `s²` and `s⁴` cannot overflow.
 * - `condition_number = s₁ / (s_min + eps)` (finite for a rank-deficient matrix, so every
 *   metric stays a finite number that JSON and CSV can hold; a value near `s₁ · 1e10` means
 *   `s_min = 0`)
 * - `numerical_rank = #{ i : s_i > tol }`, `tol = options.tolerance` or
 *   `s₁ · max(rows, cols) · 2⁻⁵²` (numpy's `matrix_rank`), with `max(rows, cols) = n` when no
 *   `shape` is given.
 *
 * The zero matrix (all `s = 0`) follows the formulas and yields no NaN: `stable_rank = 0`,
 * `participation_ratio = 1 / eps = 1e10`, `cumulative_90 = 1` (k starts at 1; `0 ≥ 0` holds
 * there), `nuclear_norm_ratio = 0`, `spectral_entropy = 0`, `effective_rank = 1`,
 * `pr_variance = 0`, `condition_number = 0`, `numerical_rank = 0`.
 *
 * The values need not be sorted: an unsorted input is sorted (in a copy) in descending order
 * first, so values from an eigen-solver in ascending order give the same metrics.
 *
 * @param singularValues The singular values, any order, each finite and `≥ 0`.
 * @param options `shape` or `tolerance` for `numerical_rank`.
 * @returns The metrics above.
 * @throws {RangeError} When there are no values, a value is negative, or an option is out of
 *   range.
 * @throws {InvalidDataError} When a value is NaN or infinite (`position.index` names it).
 * @throws {TypeError} When `singularValues` is not an array of numbers.
 * @example
 * ```ts
 * import { spectrumMetrics } from "./spectrum_metrics.ts";
 * import assert from "node:assert";
 * const m = spectrumMetrics([2, 2, 2, 2]);
 * assert(Math.abs(m.stable_rank - 4) < 1e-9);
 * assert(Math.abs(m.participation_ratio - 4) < 1e-6); // eps moves it by ~2e-9
 * assert(m.cumulative_90 === 4 && m.numerical_rank === 4);
 * ```
 */
export function spectrumMetrics(
  singularValues: Float64Array | readonly number[],
  options: SpectrumMetricsOptions = {},
): SpectrumMetrics {
  const s = sortedSpectrum(singularValues);
  const n = s.length;
  const s1 = s[0];
  const sMin = s[n - 1];

  // Squares are taken of t = s / s₁ (in [0, 1]), so s² and s⁴ cannot overflow for huge values;
  // Σs² / (s₁² + eps) = Σt² / (1 + eps / s₁²) and the cumulative-90 test is scale-free.
  const t = new Float64Array(n);
  let sum = 0;
  let sumT2 = 0;
  let sumT4 = 0;
  for (let i = 0; i < n; i++) {
    sum += s[i];
    if (s1 > 0) t[i] = s[i] / s1;
    const t2 = t[i] * t[i];
    sumT2 += t2;
    sumT4 += t2 * t2;
  }

  const denom = sum + SPECTRUM_EPS;
  let sumP2 = 0;
  let entropy = 0;
  for (let i = 0; i < n; i++) {
    const q = s[i] / denom;
    sumP2 += q * q;
    if (s[i] > 0) {
      const p = s[i] / sum;
      entropy -= p * Math.log(p);
    }
  }

  return {
    stable_rank: s1 > 0 ? sumT2 / (1 + SPECTRUM_EPS / (s1 * s1)) : 0,
    participation_ratio: 1 / (sumP2 + SPECTRUM_EPS),
    cumulative_90: cumulativeK(t, 0.9 * sumT2),
    nuclear_norm_ratio: sum / (s1 + SPECTRUM_EPS),
    spectral_entropy: entropy,
    effective_rank: Math.exp(entropy),
    // sumT4 >= 1 whenever s1 > 0 (t_1 = 1), so the division is safe; 0 for the zero matrix.
    pr_variance: s1 > 0 ? (sumT2 * sumT2) / sumT4 : 0,
    condition_number: s1 / (sMin + SPECTRUM_EPS),
    numerical_rank: countAbove(s, rankTolerance(s1, n, options)),
  };
}

/** Smallest k in 1..n whose leading sum of squares reaches `target`. */
function cumulativeK(t: Float64Array, target: number): number {
  let acc = 0;
  for (let k = 0; k < t.length; k++) {
    acc += t[k] * t[k];
    if (acc >= target) return k + 1;
  }
  // Unreachable: the full sum is accumulated in the same order as the total.
  return t.length;
}

function countAbove(s: Float64Array, tol: number): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) if (s[i] > tol) count++;
  return count;
}

function rankTolerance(s1: number, n: number, options: SpectrumMetricsOptions): number {
  if (options.tolerance !== undefined) {
    const tol = options.tolerance;
    if (typeof tol !== "number" || !(tol >= 0) || tol === Infinity) {
      throw new RangeError(
        `tolerance must be a finite number >= 0, got ${String(tol)}; omit it for numpy's rule`,
      );
    }
    return tol;
  }
  let size = n;
  if (options.shape !== undefined) {
    const shape = options.shape;
    if (!Array.isArray(shape) || shape.length !== 2) {
      throw new TypeError(`shape must be [rows, cols], got ${String(shape)}`);
    }
    checkInteger("shape[0] (rows)", shape[0], 1);
    checkInteger("shape[1] (cols)", shape[1], 1);
    if (n > Math.min(shape[0], shape[1])) {
      throw new RangeError(
        `a ${shape[0]} x ${shape[1]} matrix has at most ${
          Math.min(shape[0], shape[1])
        } singular values, got ${n}; pass the shape of the matrix they came from`,
      );
    }
    size = Math.max(shape[0], shape[1]);
  }
  return s1 * size * 2 ** -52;
}

/** Validates the values and returns them in descending order (a copy when they were not). */
function sortedSpectrum(values: Float64Array | readonly number[]): Float64Array {
  if (!(values instanceof Float64Array) && !Array.isArray(values)) {
    throw new TypeError(
      `singular values must be a Float64Array or an array of numbers, got ${
        values === null ? "null" : typeof values
      }`,
    );
  }
  const n = values.length;
  if (n === 0) {
    throw new RangeError(
      "cannot compute spectrum metrics of no singular values: the matrix has 0 rows or 0 " +
        "columns; pass a matrix with at least one row and one column",
    );
  }
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number") {
      throw new TypeError(`singular value ${i} must be a number, got ${typeof v}`);
    }
    if (v - v !== 0) {
      throw new InvalidDataError(
        `singular value ${i} is ${v}: singular values must be finite; check the activations ` +
          `for NaN or infinity`,
        { position: { index: i } },
      );
    }
    if (v < 0) {
      throw new RangeError(
        `singular value ${i} is ${v}: singular values are >= 0; pass singular values, ` +
          `not eigenvalues of a non-symmetric matrix`,
      );
    }
    if (i > 0 && v > values[i - 1]) sorted = false;
  }
  if (sorted && values instanceof Float64Array) return values;
  const copy = Float64Array.from(values);
  if (!sorted) copy.sort().reverse();
  return copy;
}
