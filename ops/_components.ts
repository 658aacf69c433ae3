/**
 * The leading eigenpairs of a symmetric matrix as PCA/MNF components: the shared step of
 * `./pca.ts` and `./mnf.ts`.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import { symmetricEigen } from "../wasm/eigen.ts";

/** Eigenvalues (all, descending, tiny negatives clamped to 0) and the leading K vectors. */
export interface Components {
  /** All `n` eigenvalues, descending, ≥ 0. */
  readonly values: Float64Array;
  /** `n × k` row-major: column j is the eigenvector of `values[j]`. */
  readonly vectors: Float64Array;
}

/**
 * Checks a requested component count.
 *
 * @param components The option (undefined: all `available`).
 * @param limit `available`, the most there can be, and `why`, what limits them, for the message
 *   (e.g. "the data has 5 bands").
 * @returns The count.
 * @throws {TypeError} When not a whole number.
 * @throws {RangeError} When below 1 or above `available`.
 */
export function componentCount(
  components: number | undefined,
  limit: { available: number; why: string },
): number {
  const { available, why } = limit;
  const k = checkInteger("options.components", components ?? available, 1);
  if (k > available) {
    throw new RangeError(
      `options.components is ${k} but ${why}: ask for at most ${available} components`,
    );
  }
  return k;
}

/**
 * Decomposes `matrix` (symmetric, `n × n`, float64) and keeps `k` vectors. Signs are fixed so
 * that each vector's entry of largest magnitude is positive: the same data gives the same
 * components everywhere (eigenvectors are otherwise defined up to sign).
 *
 * @param matrix The symmetric matrix, row-major.
 * @param size `n`, its order, and `k`, the vectors to keep (≤ n).
 * @returns The eigenvalues and the `k` leading vectors.
 */
export async function leadingComponents(
  matrix: Float64Array,
  size: { n: number; k: number },
): Promise<Components> {
  const { n, k } = size;
  const { values, vectors } = await symmetricEigen({ data: matrix, n }, { vectors: true });
  const out = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    let big = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(vectors![i * n + j]) > Math.abs(big)) big = vectors![i * n + j];
    }
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) out[i * k + j] = sign * vectors![i * n + j];
  }
  return { values: values.map((v) => Math.max(0, v)), vectors: out };
}
