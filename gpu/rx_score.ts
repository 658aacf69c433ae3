/**
 * RX scoring on the GPU: squared Mahalanobis distances `‖(x − μ)·W‖²` of every row
 * (`programs/mahalanobis.ts`), read back or left on the device for the next step.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { checkInteger } from "../core/validate.ts";
import { getGpu } from "./device.ts";
import {
  MAHALANOBIS_NAME,
  MAHALANOBIS_OVERRIDES,
  MAHALANOBIS_PROGRAM,
} from "./programs/mahalanobis.ts";
import { record } from "./run.ts";
import { type GpuMatrix, GpuStorage } from "./storage.ts";
import {
  bindingBytes,
  checkInput,
  type GpuHostOptions,
  type MatrixInput,
  RowChunks,
  rowsPerBinding,
  uploadVector,
} from "./upload.ts";

/** Options of {@linkcode gpuRxScore}. */
export interface GpuRxScoreOptions extends GpuHostOptions {
  /** `cols` values of μ. */
  mean: Float64Array;
  /** The `cols × k` row-major whitening matrix `W` (`S⁺ = W·Wᵀ`). */
  w: Float64Array;
  /** Columns of `w` (0 gives all-zero scores). */
  rank: number;
  /** The most rows bound at once; default what one storage binding holds. */
  chunkRows?: number;
  /**
   * `"host"` (default): a `Float32Array`, read back once. `"device"`: a GPU-resident `rows × 1`
   * matrix, not submitted, for the next GPU step; the caller frees its storage.
   */
  output?: "host" | "device";
}

/**
 * Scores every row of `input`: `‖(x − μ)·W‖²` in f32 on the GPU. Plain inputs larger than one
 * storage binding are uploaded in row chunks, GPU-resident ones bound in place.
 *
 * @param input The rows, `{ data, rows, cols }` or a GPU-resident `{ storage, rows, cols }`.
 * @param options `operation` (named when aborted), `mean`, `w`, `rank`, `output`, `chunkRows`
 *   (rounded to whole `minStorageBufferOffsetAlignment`s of scores when it splits the rows),
 *   `signal` (checked between chunks), `onProgress`.
 * @returns `rows` scores, or with `output: "device"` a GPU matrix of `rows × 1` scores.
 * @throws {TypeError} When the shapes disagree.
 * @throws {RangeError} When one row or `W` does not fit a storage binding, or (device output)
 *   the scores do not fit one buffer.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuRxScore } from "./rx_score.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const m = { data: new Float32Array([3, 4]), rows: 1, cols: 2 };
 *   const options = {
 *     operation: "RxDetector.score()",
 *     mean: new Float64Array([1, 1]),
 *     w: new Float64Array([1, 0, 0, 1]),
 *     rank: 2,
 *   };
 *   assert((await gpuRxScore(m, options))[0] === 13);
 *   const onDevice = await gpuRxScore(m, { ...options, output: "device" });
 *   assert((await onDevice.storage.read())[0] === 13);
 *   onDevice.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export function gpuRxScore(
  input: MatrixInput,
  options: GpuRxScoreOptions & { output: "device" },
): Promise<GpuMatrix>;
/**
 * Scores every row and reads the scores back (see the other overload).
 *
 * @param input The rows.
 * @param options As above, `output` `"host"` or absent.
 * @returns `rows` scores.
 */
export function gpuRxScore(
  input: MatrixInput,
  options: GpuRxScoreOptions & { output?: "host" },
): Promise<Float32Array>;
export async function gpuRxScore(
  input: MatrixInput,
  options: GpuRxScoreOptions,
): Promise<Float32Array | GpuMatrix> {
  const gpu = await getGpu();
  const { rows, cols } = checkInput(gpu, input);
  const { mean, w, rank: k } = options;
  checkInteger("options.rank", k);
  if (mean?.length !== cols || w?.length !== cols * k) {
    throw new TypeError(
      `mean must hold ${cols} values and w ${cols}·${k}, got ${mean?.length} and ${w?.length}`,
    );
  }
  if (options.chunkRows !== undefined) checkInteger("options.chunkRows", options.chunkRows, 1);
  const toDevice = options.output === "device";
  const label = `prism ${MAHALANOBIS_NAME}`;
  if (rows === 0 || cols === 0 || k === 0) {
    if (!toDevice) return new Float32Array(rows);
    const zeros = GpuStorage.allocate(gpu, rows, { label: `${label} scores` });
    if (rows > 0) gpu.encoder().clearBuffer(zeros.buffer, 0, rows * 4);
    return { storage: zeros, rows, cols: 1 };
  }
  const { limits } = gpu;
  if (cols * k * 4 > bindingBytes(limits)) {
    throw new RangeError(
      `Cannot score on the GPU: ${cols} bands exceed this device's storage binding of ` +
        `${bindingBytes(limits)} bytes; use the wasm backend`,
    );
  }
  const maxPerDim = limits.maxComputeWorkgroupsPerDimension;
  let chunkRows = Math.max(
    1,
    Math.min(
      rows,
      rowsPerBinding(limits, cols, "score"),
      maxPerDim * maxPerDim * MAHALANOBIS_OVERRIDES.WG,
      options.chunkRows ?? Infinity,
    ),
  );
  // Chunks write their scores at row offsets of one buffer: offsets must be aligned.
  const alignRows = limits.minStorageBufferOffsetAlignment / 4;
  if (chunkRows < rows) chunkRows = Math.max(alignRows, chunkRows - (chunkRows % alignRows));
  // Host scores too many for one buffer are read back chunk by chunk instead.
  const perChunk = !toDevice && rows * 4 > limits.maxBufferSize;
  // W transposed, so column j is contiguous (see the WGSL).
  const wt = new Float32Array(cols * k);
  for (let c = 0; c < cols; c++) for (let j = 0; j < k; j++) wt[j * cols + c] = w[c * k + j];

  return await gpu.scoped(MAHALANOBIS_NAME, async () => {
    const out = GpuStorage.allocate(gpu, perChunk ? chunkRows : rows, { label: `${label} out` });
    const chunks = new RowChunks(gpu, input, { chunkRows, label });
    const mu = uploadVector(gpu, mean, `${label} mean`);
    const wBuf = uploadVector(gpu, wt, `${label} w`);
    const scores = new Float32Array(toDevice ? 0 : rows);
    let keep = false;
    try {
      for (let start = 0; start < rows; start += chunkRows) {
        throwIfAborted(options.signal, options.operation);
        const n = Math.min(chunkRows, rows - start);
        const at = perChunk ? 0 : start * 4;
        await record(gpu, [{
          program: MAHALANOBIS_PROGRAM,
          overrides: MAHALANOBIS_OVERRIDES,
          shapes: { rows: n, cols, k },
          buffers: {
            x: chunks.bind(start, n),
            mu,
            w: wBuf,
            out: { buffer: out.buffer, offset: at, size: n * 4 },
          },
        }]);
        if (perChunk) {
          scores.set(new Float32Array(await gpu.readBack(out.buffer, { bytes: n * 4 })), start);
        }
        options.onProgress?.({ done: start + n, total: rows, unit: "rows" });
      }
      if (toDevice) {
        keep = true;
        return { storage: out, rows, cols: 1 };
      }
      if (!perChunk) {
        scores.set(new Float32Array(await gpu.readBack(out.buffer, { bytes: rows * 4 })));
      }
      return scores;
    } finally {
      chunks.release();
      gpu.releaseAfterSubmit(mu.buffer);
      gpu.releaseAfterSubmit(wBuf.buffer);
      if (!keep) out.free();
    }
  });
}
