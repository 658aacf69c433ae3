/**
 * Principal component analysis of pixels: the eigendecomposition of their covariance (streamed
 * in one pass by `covariance()`, float64; eigenpairs by the float64 symmetric eigensolver
 * `prism_eigh_f64`), and a {@linkcode Projection} onto the leading components.
 *
 * @module
 */

import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import type { NestedOptions } from "../core/operation.ts";
import { checkBandBudget } from "./_band_budget.ts";
import { componentCount, leadingComponents } from "./_components.ts";
import type { MatrixLike } from "./_placement.ts";
import { isRowSource, type RowSource } from "./_row_passes.ts";
import { covariance, type CovarianceOptions } from "./covariance.ts";
import { Projection } from "./projection.ts";

/** Options of {@linkcode pca}. */
export interface PcaOptions extends RunOptions {
  /** Components to keep, 1 to bands; default all bands. */
  components?: number;
}

/** A fitted PCA. */
export interface PcaResult {
  /** Pixels fitted. */
  readonly count: number;
  /** Bands C. */
  readonly bands: number;
  /** Components K kept. */
  readonly components: number;
  /** The `C` float64 means. */
  readonly mean: Float64Array;
  /** All `C` covariance eigenvalues (ddof 1), descending; tiny negatives clamped to 0. */
  readonly eigenvalues: Float64Array;
  /**
   * `C × K` row-major: column j is the unit eigenvector of `eigenvalues[j]`, signed so that its
   * entry of largest magnitude is positive.
   */
  readonly vectors: Float64Array;
  /** The K kept eigenvalues: the variance of each component over the fitted pixels. */
  readonly explainedVariance: Float64Array;
  /** `explainedVariance / Σ eigenvalues` (all 0 when every band is constant). */
  readonly explainedVarianceRatio: Float64Array;
  /** `y = (x − mean)·vectors`: the K component scores of a pixel. */
  readonly projection: Projection;
}

/**
 * Fits PCA to pixels: covariance (ddof 1) in one streamed pass, eigendecomposition in float64.
 * Constant bands and rank-deficient data are fine: their eigenvalues are 0 (components with
 * eigenvalue 0 are unit vectors of the null space, any basis of which is valid).
 *
 * @param data A matrix (row = pixel), a device tensor, a BIP cube, an async iterable of
 *   matrices, or a `RowSource` such as an open `CubeSource`.
 * @param options `components` (default all), `backend`, `signal`, `onProgress`.
 * @returns The eigenvalues, the kept eigenvectors, explained variance and the projection.
 * @throws {TypeError} When the data is malformed or `components` is not a whole number.
 * @throws {RangeError} When fewer than 2 pixels arrive ("input has 0 rows, need at least 2"),
 *   or `components` is below 1 or above the band count.
 * @throws {InvalidDataError} When a value is NaN or infinite (names pixel and band).
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { pca } from "./pca.ts";
 * import assert from "node:assert";
 * // Points along the direction (3, 4)/5 with a little spread across it.
 * const data = new Float32Array([3, 4, 6, 8, -3, -4, 0.8, -0.6, -0.8, 0.6]);
 * const p = await pca({ data, rows: 5, cols: 2 }, { components: 1 });
 * assert(Math.abs(p.vectors[0] - 0.6) < 1e-6 && Math.abs(p.vectors[1] - 0.8) < 1e-6);
 * assert(p.explainedVarianceRatio[0] > 0.98);
 * const scores = await p.projection.transform({ data, rows: 5, cols: 2 });
 * assert(scores.rows === 5 && scores.cols === 1);
 * ```
 */
export async function pca(
  data: MatrixLike | Cube | AsyncIterable<Matrix> | RowSource,
  options: PcaOptions = {},
): Promise<PcaResult> {
  if (options.components !== undefined) {
    componentCount(options.components, { available: Infinity, why: "" });
  }
  const run: CovarianceOptions & NestedOptions = {
    backend: options.backend,
    signal: options.signal,
    onProgress: options.onProgress,
    operation: "pca()",
  };
  const stats = await covariance(isRowSource(data) ? data.chunks() : data, run);
  const { bands, mean, count } = stats;
  const k = componentCount(options.components, {
    available: bands,
    why: `the data has ${bands} bands`,
  });
  checkBandBudget(bands, 3, "PCA's eigendecomposition");
  const { values, vectors } = await leadingComponents(stats.covariance, { n: bands, k });
  const total = values.reduce((a, b) => a + b, 0);
  const explainedVariance = values.slice(0, k);
  return {
    count,
    bands,
    components: k,
    mean,
    eigenvalues: values,
    vectors,
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((v) => total > 0 ? v / total : 0),
    projection: new Projection(mean, vectors),
  };
}
