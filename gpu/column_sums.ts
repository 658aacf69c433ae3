/**
 * Column sums on the GPU: f32 partial sums per row block (`programs/column_sums.ts`), added in
 * f64 on the CPU.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { checkInteger } from "../core/validate.ts";
import { getGpu } from "./device.ts";
import {
  COLUMN_SUMS_NAME,
  COLUMN_SUMS_PROGRAM,
  columnSumsLayout,
  columnSumsOverrides,
} from "./programs/column_sums.ts";
import { record } from "./run.ts";
import {
  checkInput,
  type GpuHostOptions,
  type MatrixInput,
  RowChunks,
  rowsPerBinding,
} from "./upload.ts";

/** Options of {@linkcode gpuColumnSums}. */
export interface GpuColumnSumsOptions extends GpuHostOptions {
  /**
   * The most rows bound at once. The default and the upper bound is what fits in one storage
   * binding and one buffer of the device; a smaller value trades speed for GPU memory.
   */
  chunkRows?: number;
}

/**
 * Sums each column of a row-major f32 matrix on the GPU, in f32 over blocks of rows and in f64
 * across blocks. Plain inputs larger than one storage binding are uploaded in row chunks;
 * GPU-resident ones are bound in place. Each chunk is one submit and one read-back. NaN and
 * infinity propagate into their column's sum (validating data is the operation's job).
 *
 * @param input `{ data: Float32Array, rows, cols }`, or a GPU-resident `{ storage, rows, cols }`.
 * @param options `operation` (named when aborted), `chunkRows`, `signal` (checked between
 *   chunks), `onProgress` (after each chunk, with the rows done).
 * @returns `cols` sums in a `Float64Array` (zeros when `rows` is 0).
 * @throws {TypeError} When `input` is malformed or `chunkRows` is not a whole number.
 * @throws {RangeError} When `chunkRows` is below 1, or one row is larger than a storage binding.
 * @throws {BackendUnavailableError} When WebGPU is unavailable or the device is lost.
 * @throws {OutOfMemoryError} When the device cannot hold a chunk: pass a smaller `chunkRows`.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuColumnSums } from "./column_sums.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const m = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
 *   const sums = await gpuColumnSums(m, { operation: "columnSums()" });
 *   assert(sums[0] === 9 && sums[1] === 12);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuColumnSums(
  input: MatrixInput,
  options: GpuColumnSumsOptions,
): Promise<Float64Array> {
  const gpu = await getGpu();
  const { rows, cols } = checkInput(gpu, input);
  if (options.chunkRows !== undefined) checkInteger("options.chunkRows", options.chunkRows, 1);
  const sums = new Float64Array(cols);
  if (rows === 0 || cols === 0) return sums;

  const overrides = columnSumsOverrides(cols);
  const { blockRows, colTiles } = columnSumsLayout(cols);
  const maxPerDim = gpu.limits.maxComputeWorkgroupsPerDimension;
  const chunkRows = Math.max(
    1,
    Math.min(
      rows,
      rowsPerBinding(gpu.limits, cols, "sum columns"),
      Math.floor((maxPerDim * maxPerDim) / colTiles) * blockRows,
      options.chunkRows ?? Infinity,
    ),
  );
  const maxBlocks = Math.ceil(chunkRows / blockRows);
  const label = `prism ${COLUMN_SUMS_NAME}`;

  return await gpu.scoped(COLUMN_SUMS_NAME, async () => {
    const chunks = new RowChunks(gpu, input, { chunkRows, label });
    const partials = gpu.pool.acquire(
      maxBlocks * cols * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      `${label} partials`,
    );
    try {
      // One submit and read-back per chunk: the partials buffer is reused by the next chunk, and
      // there is more than one chunk only where the input exceeds one storage binding.
      for (let start = 0; start < rows; start += chunkRows) {
        throwIfAborted(options.signal, options.operation);
        const n = Math.min(chunkRows, rows - start);
        const bytes = Math.ceil(n / blockRows) * cols * 4;
        await record(gpu, [{
          program: COLUMN_SUMS_PROGRAM,
          overrides,
          shapes: { rows: n, cols },
          buffers: { matrix: chunks.bind(start, n), partials: { buffer: partials, size: bytes } },
        }]);
        const blockSums = new Float32Array(await gpu.readBack(partials, { bytes }));
        for (let i = 0; i < blockSums.length; i++) sums[i % cols] += blockSums[i];
        options.onProgress?.({ done: start + n, total: rows, unit: "rows" });
      }
      return sums;
    } finally {
      chunks.release();
      gpu.releaseAfterSubmit(partials);
    }
  });
}
