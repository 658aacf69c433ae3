/**
 * `Projection`: the linear map `y = (x − μ)·A` that PCA and MNF fit (`./pca.ts`, `./mnf.ts`),
 * applied to a matrix, a cube, or chunk by chunk to a stream, in float32 by the `matmul` kernels.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { NestedOptions } from "../core/operation.ts";
import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import { assertFinite, cubeAsMatrix } from "../core/validate.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { hostMatrix, type MatrixLike } from "./_placement.ts";
import { isRowSource, type RowSource } from "./_row_passes.ts";
import { matmul } from "./matmul.ts";

/** Options of {@linkcode Projection.transform}: `backend` and `signal`. */
export interface TransformOptions extends Pick<RunOptions, "backend" | "signal"> {}

/**
 * A fitted linear transform `y = (x − mean)·matrix`, `bands → components`, from `pca()` or
 * `mnf()`.
 *
 * @example
 * ```ts
 * import { Projection } from "./projection.ts";
 * import assert from "node:assert";
 * // Keeps band 1 minus its mean of 10.
 * const p = new Projection(new Float64Array([0, 10]), new Float64Array([0, 1]));
 * const y = await p.transform({ data: new Float32Array([1, 12, 2, 7]), rows: 2, cols: 2 });
 * assert.deepStrictEqual([...y.data], [2, -3]);
 * ```
 */
export class Projection {
  /** The `bands` float64 means subtracted first. */
  readonly mean: Float64Array;
  /** `bands × components`, row-major float64: column j gives component j. */
  readonly matrix: Float64Array;
  /** Input bands C. */
  readonly bands: number;
  /** Output components K. */
  readonly components: number;
  #a: Matrix;

  /**
   * Makes a projection from its mean and matrix.
   *
   * @param mean The `C` means.
   * @param matrix `C × K` row-major (`K = matrix.length / C`).
   * @throws {TypeError} When `matrix` is not a whole number of columns of `mean.length` rows, or
   *   a value is not finite.
   */
  constructor(mean: Float64Array, matrix: Float64Array) {
    const bands = mean.length;
    if (bands < 1 || matrix.length % bands !== 0 || matrix.length === 0) {
      throw new TypeError(
        `a projection needs a matrix of bands × components values with bands = ${bands} ≥ 1, ` +
          `got ${matrix.length} values`,
      );
    }
    if (![...mean, ...matrix].every(Number.isFinite)) {
      throw new TypeError("a projection's mean and matrix must be finite");
    }
    this.mean = mean;
    this.matrix = matrix;
    this.bands = bands;
    this.components = matrix.length / bands;
    this.#a = { data: Float32Array.from(matrix), rows: bands, cols: this.components };
  }

  /**
   * Projects every pixel: `rows × components` float32 (centring in float64, the product in
   * float32: about 1e-6 relative to the spread of the data).
   *
   * @param data A matrix (row = pixel), a device tensor or a BIP cube, with `bands` columns.
   * @param options `backend`, `signal`.
   * @returns The projected pixels, one row each (0 rows give 0 rows).
   * @throws {TypeError} When the data is malformed or has another band count.
   * @throws {InvalidDataError} When a value is NaN or infinite (names pixel and band).
   * @throws {AbortedError} When `signal` aborts.
   */
  async transform(data: MatrixLike | Cube, options: TransformOptions = {}): Promise<Matrix> {
    throwIfAborted(options.signal, "Projection.transform()");
    const m = await asMatrix(data);
    if (m.cols !== this.bands) {
      throw new TypeError(
        `the data has ${m.cols} bands but this projection was fitted on ${this.bands}; ` +
          `transform data with the bands it was fitted on`,
      );
    }
    const k = this.components;
    if (m.rows === 0) return { data: new Float32Array(0), rows: 0, cols: k };
    assertFinite(m.data, m.cols, "pixel", "band");
    const centred = new Float32Array(m.data.length);
    for (let i = 0; i < m.data.length; i++) centred[i] = m.data[i] - this.mean[i % this.bands];
    const run: TransformOptions & NestedOptions = {
      ...options,
      operation: "Projection.transform()",
    };
    using y = await matmul({ data: centred, rows: m.rows, cols: m.cols }, this.#a, run);
    return { data: await y.read(), rows: m.rows, cols: k };
  }

  /**
   * Projects a stream chunk by chunk: one output matrix per input chunk, so pixels larger than
   * memory go through in bounded space.
   *
   * @param data Chunks of pixels: an async iterable of matrices or a `RowSource` (an open
   *   `CubeSource`).
   * @param options `backend`, `signal`.
   * @returns The projected chunks, in order.
   * @throws {TypeError} As {@linkcode Projection.transform}, naming nothing beyond the chunk.
   * @throws {InvalidDataError} When a value is NaN or infinite.
   * @example
   * ```ts
   * import { Projection } from "./projection.ts";
   * import assert from "node:assert";
   * const p = new Projection(new Float64Array([1]), new Float64Array([2]));
   * const source = { async *chunks() { yield { data: new Float32Array([1, 2]), rows: 2, cols: 1 }; } };
   * const out = [];
   * for await (const y of p.transformChunks(source)) out.push(...y.data);
   * assert.deepStrictEqual(out, [0, 2]);
   * ```
   */
  async *transformChunks(
    data: AsyncIterable<Matrix> | RowSource,
    options: TransformOptions = {},
  ): AsyncGenerator<Matrix> {
    const chunks = isRowSource(data) ? data.chunks() : data;
    for await (const chunk of chunks) yield await this.transform(chunk, options);
  }
}

async function asMatrix(data: MatrixLike | Cube): Promise<Matrix> {
  if (data instanceof DeviceTensor) return await hostMatrix(data);
  if (data !== null && typeof data === "object" && "height" in data && "bands" in data) {
    return cubeAsMatrix(data as Cube);
  }
  if (data === null || typeof data !== "object" || !("rows" in data)) {
    throw new TypeError(
      `Projection.transform() takes a matrix { data, rows, cols } or a cube, got ${
        data === null ? "null" : typeof data
      }`,
    );
  }
  return data;
}
