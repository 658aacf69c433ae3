/**
 * Checks of saved statistics (`RxDetector.fromJSON`, `CovarianceAccumulator.fromJSON`): a state
 * read from a file may be corrupt or tampered with, and a wrong one is refused, naming the field,
 * rather than trusted (a negative variance would score every pixel 0; an out-of-range mean would
 * make a later merge overflow to NaN).
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";

/** The largest float32: pixels are float32, so no honest mean lies beyond it. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks that `value` is an array of `length` finite numbers.
 *
 * @param field The field's name for messages, e.g. `"state.mean"`.
 * @param value The candidate.
 * @param length The number of entries it must have.
 * @returns The array, typed.
 * @throws {TypeError} When it is not an array of that length.
 * @throws {InvalidDataError} When an entry is not a finite number (names the entry).
 * @example
 * ```ts
 * import { finiteNumbers } from "./_saved_state.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(finiteNumbers("state.mean", [1, 2], 2), [1, 2]);
 * assert.throws(() => finiteNumbers("state.mean", [1, "2"], 2), /state\.mean\[1\] is "2"/);
 * ```
 */
export function finiteNumbers(field: string, value: unknown, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new TypeError(
      `${field} must be an array of ${length} numbers, got ${
        Array.isArray(value) ? `${value.length} entries` : typeof value
      }`,
    );
  }
  const bad = value.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
  if (bad >= 0) {
    throw new InvalidDataError(
      `${field}[${bad}] is ${JSON.stringify(value[bad]) ?? String(value[bad])}, not a finite ` +
        `number; the saved state is corrupt`,
      { position: { field, index: bad } },
    );
  }
  return value;
}

/**
 * Checks that every entry of `values` lies within `±limit`.
 *
 * @param field The field's name for messages.
 * @param values The entries.
 * @param limit The largest magnitude an honest state can hold.
 * @param why What the limit means, for the message.
 * @throws {InvalidDataError} Naming the first entry beyond it.
 * @example
 * ```ts
 * import { checkMagnitude, FLOAT32_MAX } from "./_saved_state.ts";
 * import assert from "node:assert";
 * checkMagnitude("state.mean", [1, -2], FLOAT32_MAX, "float32 pixels");
 * assert.throws(() => checkMagnitude("state.mean", [1e300], FLOAT32_MAX, "float32 pixels"));
 * ```
 */
export function checkMagnitude(
  field: string,
  values: ArrayLike<number>,
  limit: number,
  why: string,
): void {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > limit) {
      throw new InvalidDataError(
        `${field}[${i}] is ${values[i]}, beyond ${limit.toExponential(3)} (${why}); the saved ` +
          `state is corrupt, and merging or scoring with it would overflow`,
        { position: { field, index: i } },
      );
    }
  }
}

/**
 * Checks that a `n × n` row-major matrix is a covariance (or co-moment) matrix: symmetric and
 * positive semi-definite within rounding. Both are judged on the matrix scaled to unit diagonal
 * (a correlation matrix), so bands of very different scales are held to the same relative
 * standard: an asymmetry above 1e-6 fails, and so does an eigenvalue below `-n · 2⁻²⁰` (a
 * Cholesky factorisation of `R + n · 2⁻²⁰ · I` must succeed). Rounding in prism's own float32
 * kernels stays about ten times inside that; a negative variance or a correlation beyond ±1
 * fails clearly.
 *
 * @param field The field's name for messages, e.g. `"covariance"`.
 * @param m The entries, row-major, all finite.
 * @param n The order.
 * @throws {InvalidDataError} Naming the first negative variance, the first asymmetric pair, or
 *   the band where positive semi-definiteness fails.
 * @example
 * ```ts
 * import { checkCovarianceMatrix } from "./_saved_state.ts";
 * import assert from "node:assert";
 * checkCovarianceMatrix("covariance", [2, 1, 1, 2], 2);
 * assert.throws(() => checkCovarianceMatrix("covariance", [-1, 0, 0, 2], 2), /negative/);
 * assert.throws(() => checkCovarianceMatrix("covariance", [1, 2, 2, 1], 2), /semi-definite/);
 * ```
 */
export function checkCovarianceMatrix(field: string, m: ArrayLike<number>, n: number): void {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(m[i * n + i]));
  const floor = maxDiag * 1e-14;
  for (let i = 0; i < n; i++) {
    const v = m[i * n + i];
    if (v < -floor || (maxDiag === 0 && v < 0)) {
      throw new InvalidDataError(
        `${field}[${i * n + i}] (the variance of band ${i}) is ${v}: a variance cannot be ` +
          `negative; the saved state is corrupt or was edited`,
        { position: { field, index: i * n + i } },
      );
    }
  }
  // Scale to unit diagonal; a (near-)constant band keeps a floor so rounding there is not blown up.
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.sqrt(Math.max(m[i * n + i], floor, Number.MIN_VALUE));
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = m[i * n + j] / (d[i] * d[j]);
      const b = m[j * n + i] / (d[i] * d[j]);
      if (Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(a), Math.abs(b))) {
        throw new InvalidDataError(
          `${field} is not symmetric: entry [${i}][${j}] is ${m[i * n + j]} but [${j}][${i}] is ` +
            `${m[j * n + i]}; the saved state is corrupt or was edited`,
          { position: { field, index: i * n + j } },
        );
      }
      r[i * n + j] = r[j * n + i] = (a + b) / 2;
    }
  }
  // Cholesky of R + tol·I, row by row, in place in the lower triangle.
  const tol = Math.max(n, 1) * 2 ** -20;
  for (let k = 0; k < n; k++) {
    for (let j = 0; j <= k; j++) {
      let s = r[k * n + j] + (j === k ? tol : 0);
      for (let p = 0; p < j; p++) s -= r[k * n + p] * r[j * n + p];
      if (j < k) {
        r[k * n + j] = s / r[j * n + j];
      } else if (!(s > 0)) {
        throw new InvalidDataError(
          `${field} is not positive semi-definite: band ${k}'s covariances with bands ` +
            `0..${k - 1} are impossible for any data (a correlation beyond ±1, or the like); ` +
            `the saved state is corrupt or was edited`,
          { position: { field, index: k * n + k } },
        );
      } else {
        r[k * n + k] = Math.sqrt(s);
      }
    }
  }
}
