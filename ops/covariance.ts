/**
 * `covariance()`: the mean and covariance of pixels (rows) of a matrix, a cube or a stream of
 * chunks, in one pass, in float64, on WASM SIMD or WebGPU.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { type NestedOptions, operationOf } from "../core/operation.ts";
import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import { checkInteger, cubeAsMatrix } from "../core/validate.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { type MatrixLike, shapeOf } from "./_placement.ts";
import {
  type AddOptions,
  CovarianceAccumulator,
  type CovarianceResult,
  takeResult,
} from "./covariance_accumulator.ts";

export type { CovarianceResult } from "./covariance_accumulator.ts";

/** Options of {@linkcode covariance}. */
export interface CovarianceOptions extends RunOptions {
  /** Delta degrees of freedom: the covariance is `M2 / (count - ddof)`; default 1 (unbiased). */
  ddof?: number;
  /** Skip pixels with NaN or infinity (reported as `skipped`) instead of throwing. */
  skipInvalid?: boolean;
}

/**
 * Computes the mean and covariance of the pixels (rows) of `data`.
 *
 * Each chunk's Gram is computed around a shift near the mean (so data far from zero loses no
 * digits), in float32 over blocks of 128 rows and float64 beyond, and chunks are combined by
 * Chan's update: a stream gives the answer of one pass, and the result is within 1e-5 relative
 * (Frobenius) of a float64 computation. A matrix from `allocMatrix()` is read in place.
 *
 * @param data A matrix `{ data, rows, cols }` (row = pixel) or a device tensor, a BIP cube
 *   `{ data, height, width, bands }`, or an `AsyncIterable` of matrices (chunks of pixels, all
 *   with the same band count).
 * @param options `backend` (`chooseBackend("covariance", …)`), `ddof` (default 1), `signal`,
 *   `onProgress` (rows done; `total` known for a matrix or cube), `skipInvalid`.
 * @returns `{ count, bands, mean, covariance, skipped, backend }`.
 * @throws {TypeError} When `data` is none of the three kinds or is malformed, or a chunk's band
 *   count differs from the first chunk's (the message names the chunk).
 * @throws {RangeError} When fewer than 2 valid pixels (or not more than `ddof`) remain:
 *   "Cannot compute covariance: input has N rows, need at least 2"; or `ddof`/`backend` is out
 *   of range.
 * @throws {InvalidDataError} When a value is NaN or infinite (without `skipInvalid`); it names
 *   the first bad pixel (counted over the whole stream) and band.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is none.
 * @throws {OutOfMemoryError} When kernel or GPU memory runs out: stream smaller chunks.
 * @example
 * ```ts
 * import { covariance } from "./covariance.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array([1, 10, 2, 20, 3, 30]), rows: 3, cols: 2 };
 * const { mean, covariance: cov } = await covariance(x, { backend: "wasm" });
 * assert(mean[0] === 2 && cov[0] === 1 && cov[1] === 10 && cov[3] === 100);
 * ```
 */
export async function covariance(
  data: MatrixLike | Cube | AsyncIterable<Matrix>,
  options: CovarianceOptions = {},
): Promise<CovarianceResult> {
  const ddof = checkInteger("options.ddof", options.ddof ?? 1, 0);
  const { signal, onProgress } = options;
  const operation = operationOf(options, "covariance()");
  const make = (bands: number) =>
    new CovarianceAccumulator(bands, {
      backend: options.backend,
      skipInvalid: options.skipInvalid,
    });
  if (data !== null && typeof data === "object" && Symbol.asyncIterator in data) {
    let acc: CovarianceAccumulator | undefined;
    let done = 0;
    for await (const chunk of data) {
      throwIfAborted(signal, operation);
      acc ??= make(checkInteger("chunk 0 cols", (chunk as Matrix)?.cols ?? NaN, 1));
      const run: AddOptions & NestedOptions = { signal, operation };
      await acc.add(chunk, run);
      done += chunk.rows;
      onProgress?.({ done, unit: "rows" });
    }
    if (acc === undefined) {
      throw new RangeError("Cannot compute covariance: input has 0 rows, need at least 2");
    }
    return takeResult(acc, ddof); // acc dies here: no copy of M2
  }
  const m = asMatrix(data);
  const acc = make(shapeOf(m).cols);
  const run: AddOptions & NestedOptions = { signal, onProgress, operation };
  await acc.add(m, run);
  return takeResult(acc, ddof); // acc dies here: no copy of M2
}

/** A matrix or a cube as a matrix; anything else is a TypeError. */
function asMatrix(data: MatrixLike | Cube): MatrixLike {
  if (data instanceof DeviceTensor) return data;
  if (data !== null && typeof data === "object") {
    if ("bands" in data && "height" in data) return cubeAsMatrix(data, "cube");
    if ("rows" in data && "cols" in data) return data;
  }
  throw new TypeError(
    `covariance() takes a matrix { data, rows, cols }, a cube { data, height, width, bands } ` +
      `or an AsyncIterable of matrices, got ${
        data === null ? "null" : typeof data === "object" ? "an object without them" : typeof data
      }`,
  );
}
