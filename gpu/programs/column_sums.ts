/**
 * Column sums of a row-major f32 matrix on the GPU: each workgroup adds a block of rows for a
 * tile of columns in f32 and writes one partial sum per column; the CPU adds the partials in
 * f64. WGSL has neither f64 nor float atomics, hence the split.
 *
 * @module
 */

import { AbortedError } from "../../core/errors.ts";
import type { Matrix, RunOptions } from "../../core/types.ts";
import { checkInteger, checkMatrix } from "../../core/validate.ts";
import { getGpu } from "../device.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const COLUMN_SUMS_NAME = "column_sums";

/**
 * The WGSL. Workgroup `(WG_X, WG_Y)` covers `WG_X` columns and `WG_Y * ROWS_PER_LANE` rows:
 * lane `y` adds rows `y, y + WG_Y, …` (so neighbouring threads read neighbouring addresses),
 * then the lanes are added pairwise in workgroup memory.
 */
export const COLUMN_SUMS_WGSL = /* wgsl */ `
// Columns per workgroup (threads along x).
override WG_X: u32;
// Row lanes per workgroup (threads along y); a power of two for the pairwise reduction.
override WG_Y: u32;
// Rows each lane adds before the lanes are reduced.
override ROWS_PER_LANE: u32;

struct Params {
  rows: u32,        // rows in this chunk
  cols: u32,
  col_tiles: u32,   // ceil(cols / WG_X)
  workgroups: u32,  // col_tiles * row blocks; the dispatch may round up
}

@group(0) @binding(0) var<storage, read> matrix: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> lanes: array<f32, WG_X * WG_Y>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) group_id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) local: vec3u,
) {
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  let group = group_id.y * groups.x + group_id.x;
  if (group >= params.workgroups) {
    return;
  }
  let block = group / params.col_tiles;
  let col = (group % params.col_tiles) * WG_X + local.x;
  let first_row = block * WG_Y * ROWS_PER_LANE;

  var sum = 0.0;
  if (col < params.cols) {
    for (var k = 0u; k < ROWS_PER_LANE; k++) {
      let row = first_row + k * WG_Y + local.y;
      if (row >= params.rows) {
        break;
      }
      sum += matrix[row * params.cols + col];
    }
  }
  lanes[local.y * WG_X + local.x] = sum;
  workgroupBarrier();
  for (var half = WG_Y / 2u; half > 0u; half /= 2u) {
    if (local.y < half) {
      lanes[local.y * WG_X + local.x] += lanes[(local.y + half) * WG_X + local.x];
    }
    workgroupBarrier();
  }
  if (local.y == 0u && col < params.cols) {
    partials[block * params.cols + col] = lanes[local.x];
  }
}
`;

/** The program, as the pipeline cache takes it. */
export const COLUMN_SUMS_PROGRAM: GpuProgram = {
  name: COLUMN_SUMS_NAME,
  wgsl: COLUMN_SUMS_WGSL,
  entryPoint: "main",
  overrides: ["WG_X", "WG_Y", "ROWS_PER_LANE"],
};

/** Threads per workgroup: the WebGPU minimum for `maxComputeInvocationsPerWorkgroup`. */
const THREADS = 256;
/** The widest column tile; wider matrices use several tiles per row block. */
const MAX_WG_X = 64;
/** Rows per lane: short f32 runs, then a pairwise reduction, keep the error near 1e-7. */
const ROWS_PER_LANE = 16;

/**
 * The override values for a matrix with `cols` columns: `WG_X` the next power of two of `cols`
 * (at most 64), `WG_Y = 256 / WG_X`, so narrow matrices spend their threads on rows.
 *
 * @param cols Columns of the matrix (at least 1).
 * @returns `{ WG_X, WG_Y, ROWS_PER_LANE }`.
 * @throws {TypeError} When `cols` is not a whole number.
 * @throws {RangeError} When `cols` is below 1.
 * @example
 * ```ts
 * import { columnSumsOverrides } from "./column_sums.ts";
 * import assert from "node:assert";
 * assert(columnSumsOverrides(1).WG_Y === 256);
 * assert(columnSumsOverrides(1000).WG_X === 64);
 * ```
 */
export function columnSumsOverrides(cols: number): OverrideValues {
  checkInteger("cols", cols, 1);
  let wgX = 1;
  while (wgX < cols && wgX < MAX_WG_X) wgX *= 2;
  return { WG_X: wgX, WG_Y: THREADS / wgX, ROWS_PER_LANE };
}

/** Options of {@linkcode gpuColumnSums}. */
export interface ColumnSumsOptions extends Pick<RunOptions, "signal" | "onProgress"> {
  /**
   * The most rows uploaded at once. The default and the upper bound is what fits in one storage
   * binding and one buffer of the device; a smaller value trades speed for GPU memory.
   */
  chunkRows?: number;
}

/**
 * Sums each column of a row-major f32 matrix on the GPU, in f32 over blocks of rows and in f64
 * across blocks. Inputs larger than one storage binding are uploaded in row chunks. NaN and
 * infinity propagate into their column's sum (validating data is the operation's job).
 *
 * @param matrix `{ data: Float32Array, rows, cols }`, row-major.
 * @param options `chunkRows` to bound the upload size, `signal` to cancel between chunks,
 *   `onProgress` called after each chunk with the rows done.
 * @returns `cols` sums in a `Float64Array` (zeros when `rows` is 0).
 * @throws {TypeError} When `matrix` is malformed or `chunkRows` is not a whole number.
 * @throws {RangeError} When `chunkRows` is below 1, or one row is larger than a storage binding.
 * @throws {BackendUnavailableError} When WebGPU is unavailable or the device is lost.
 * @throws {OutOfMemoryError} When the device cannot hold a chunk: pass a smaller `chunkRows`.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "../device.ts";
 * import { gpuColumnSums } from "./column_sums.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const sums = await gpuColumnSums({ data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 });
 *   assert(sums[0] === 9 && sums[1] === 12);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuColumnSums(
  matrix: Matrix,
  options: ColumnSumsOptions = {},
): Promise<Float64Array> {
  const { data, rows, cols } = checkMatrix(matrix);
  if (options.chunkRows !== undefined) checkInteger("options.chunkRows", options.chunkRows, 1);
  const gpu = await getGpu();
  const sums = new Float64Array(cols);
  if (rows === 0 || cols === 0) return sums;

  const overrides = columnSumsOverrides(cols);
  const blockRows = overrides.WG_Y * ROWS_PER_LANE;
  const colTiles = Math.ceil(cols / overrides.WG_X);
  const chunkRows = planChunkRows(gpu.limits, rows, cols, blockRows, colTiles, options.chunkRows);
  const maxBlocks = Math.ceil(chunkRows / blockRows);
  const { device, pool } = gpu;
  const label = `prism ${COLUMN_SUMS_NAME}`;

  return await gpu.scoped(COLUMN_SUMS_NAME, async () => {
    const pipeline = await gpu.pipelines.get(COLUMN_SUMS_PROGRAM, overrides);
    const input = pool.acquire(
      chunkRows * cols * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      `${label} input`,
    );
    const partials = pool.acquire(
      maxBlocks * cols * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      `${label} partials`,
    );
    const params = pool.acquire(
      16,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      `${label} params`,
    );
    try {
      for (let start = 0; start < rows; start += chunkRows) {
        if (options.signal?.aborted) {
          throw new AbortedError("gpuColumnSums", { cause: options.signal.reason });
        }
        const n = Math.min(chunkRows, rows - start);
        const blocks = Math.ceil(n / blockRows);
        const workgroups = blocks * colTiles;
        // Queue writes are ordered with submissions, so reusing the buffers per chunk is safe.
        device.queue.writeBuffer(params, 0, new Uint32Array([n, cols, colTiles, workgroups]));
        gpu.writeRows(input, data, cols, start, n);
        gpu.dispatch(pipeline, label, [
          { buffer: input, size: n * cols * 4 },
          { buffer: partials, size: blocks * cols * 4 },
          { buffer: params, size: 16 },
        ], workgroups);

        const blockSums = new Float32Array(await gpu.readBack(partials, 0, blocks * cols * 4));
        for (let b = 0; b < blocks; b++) {
          const offset = b * cols;
          for (let c = 0; c < cols; c++) sums[c] += blockSums[offset + c];
        }
        options.onProgress?.({ done: start + n, total: rows, unit: "rows" });
      }
      return sums;
    } finally {
      pool.release(input);
      pool.release(partials);
      pool.release(params);
    }
  });
}

/** The rows per chunk: what one binding, one buffer and one 2-D dispatch hold, or less. */
function planChunkRows(
  limits: GPUSupportedLimits,
  rows: number,
  cols: number,
  blockRows: number,
  colTiles: number,
  requested: number | undefined,
): number {
  const rowBytes = cols * 4;
  const maxBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const fitBytes = Math.floor(maxBytes / rowBytes);
  if (fitBytes === 0) {
    throw new RangeError(
      `Cannot sum columns on the GPU: one row of ${cols} columns is ${rowBytes} bytes, more than ` +
        `this device's storage binding of ${maxBytes} bytes; use the wasm backend`,
    );
  }
  const maxPerDim = limits.maxComputeWorkgroupsPerDimension;
  const fitDispatch = Math.floor((maxPerDim * maxPerDim) / colTiles) * blockRows;
  return Math.max(1, Math.min(rows, fitBytes, fitDispatch, requested ?? Infinity));
}
