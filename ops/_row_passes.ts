/**
 * Pixel data that can be read more than once, chunk by chunk: what a multi-pass fit (robust RX)
 * and a streamed transform (PCA, MNF) iterate over. An in-memory matrix or cube is cut into
 * views of {@linkcode PASS_ROWS} rows (no copy), so per-chunk scratch stays bounded whatever
 * the input size; a `RowSource` (an open `CubeSource`, or any object with `chunks()`) is asked
 * for a fresh stream per pass.
 *
 * @module
 */

import type { Cube, Matrix } from "../core/types.ts";
import { cubeAsMatrix } from "../core/validate.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { hostMatrix, type MatrixLike } from "./_placement.ts";

/**
 * Pixels that can be streamed again and again: each call of `chunks()` starts a new pass over
 * the same rows in the same order (an open `CubeSource` is one).
 */
export interface RowSource {
  /** A fresh stream of pixel-row matrices (row = pixel, column = band). */
  chunks(): AsyncIterable<Matrix>;
}

/** Rows per chunk when an in-memory matrix is walked in passes. */
export const PASS_ROWS = 65536;

/** A way to start pass after pass over the same pixels. */
export type Passes = () => AsyncIterable<Matrix>;

/** Whether `data` is a {@linkcode RowSource}. */
export function isRowSource(data: unknown): data is RowSource {
  return data !== null && typeof data === "object" &&
    typeof (data as { chunks?: unknown }).chunks === "function" && !(data instanceof DeviceTensor);
}

/**
 * Turns `data` into a pass starter.
 *
 * @param data A matrix, device tensor, cube, `RowSource`, or a re-iterable async iterable (one
 *   whose `[Symbol.asyncIterator]()` returns a new iterator each time).
 * @param what The operation, for messages, e.g. `"RxDetector.fit({ robust: true })"`.
 * @returns A function that starts one pass per call.
 * @throws {TypeError} When `data` is a one-shot stream (an async generator): it can be read only
 *   once, and the message says what to pass instead.
 */
export async function passesOf(
  data: MatrixLike | Cube | AsyncIterable<Matrix> | RowSource,
  what: string,
): Promise<Passes> {
  if (isRowSource(data)) return () => data.chunks();
  if (data !== null && typeof data === "object" && Symbol.asyncIterator in data) {
    const iterable = data as AsyncIterable<Matrix>;
    // An async generator returns itself: a second pass would see nothing.
    if (iterable[Symbol.asyncIterator]() === (iterable as unknown)) {
      throw new TypeError(
        `${what} reads the pixels several times, but got a one-shot stream (an async ` +
          `generator); pass the open CubeSource itself, or { chunks: () => source.chunks() }`,
      );
    }
    return () => iterable;
  }
  const m = await asHostMatrix(data as MatrixLike | Cube, what);
  return () => inSlices(m);
}

/** A matrix, device tensor or cube as a host matrix; anything else is a TypeError. */
async function asHostMatrix(data: MatrixLike | Cube, what: string): Promise<Matrix> {
  if (data instanceof DeviceTensor) return await hostMatrix(data);
  if (data !== null && typeof data === "object") {
    if ("bands" in data && "height" in data) return cubeAsMatrix(data as Cube, "cube");
    if ("rows" in data && "cols" in data) return data as Matrix;
  }
  throw new TypeError(
    `${what} takes a matrix { data, rows, cols }, a cube { data, height, width, bands }, a ` +
      `RowSource { chunks() } or a re-iterable AsyncIterable of matrices, got ${
        data === null ? "null" : typeof data
      }`,
  );
}

/** Views of `PASS_ROWS` rows of `m`, in order (one empty matrix for 0 rows). */
async function* inSlices(m: Matrix): AsyncGenerator<Matrix> {
  if (m.rows === 0) {
    yield m;
    return;
  }
  for (let r = 0; r < m.rows; r += PASS_ROWS) {
    const rows = Math.min(PASS_ROWS, m.rows - r);
    yield { data: m.data.subarray(r * m.cols, (r + rows) * m.cols), rows, cols: m.cols };
  }
}
