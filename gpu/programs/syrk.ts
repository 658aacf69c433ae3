/**
 * Shifted SYRK on the GPU: column sums `Σ(x - shift)` and the upper triangle of
 * `Σ(x - shift)ᵀ(x - shift)` over the rows of a row-major f32 matrix.
 *
 * One workgroup computes one `TILE × TILE` tile of the upper triangle (tile pairs `ti <= tj`)
 * over one group of `BLOCK_ROWS · BLOCKS` rows: each thread owns one entry, sums `BLOCK_ROWS`
 * products in f32, adds that block into its f32 total, and writes the total as one partial; the
 * CPU adds the partials in f64. The blocked f32 summation has the error of a recursive sum of
 * `BLOCK_ROWS + BLOCKS` terms (not `BLOCK_ROWS · BLOCKS`), the same bound as the WASM kernel's
 * 128-row blocks, so data offset by 1000 stays within 1e-5 after the covariance correction.
 * Workgroups of diagonal tiles also sum their columns. WGSL has neither f64 nor float atomics,
 * hence partials.
 *
 * @module
 */

import { AbortedError } from "../../core/errors.ts";
import type { Matrix, RunOptions } from "../../core/types.ts";
import { checkInteger, checkMatrix } from "../../core/validate.ts";
import { getGpu } from "../device.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const SYRK_NAME = "syrk_shifted";

/** The WGSL; see the module docs for the decomposition. */
export const SYRK_WGSL = /* wgsl */ `
// Edge of an output tile; a workgroup has TILE x TILE threads, one per entry.
override TILE: u32;
// Rows summed in f32 before they are added into the running total (a multiple of TILE).
override BLOCK_ROWS: u32;
// Blocks per workgroup: a workgroup covers BLOCK_ROWS * BLOCKS rows.
override BLOCKS: u32;

struct Params {
  rows: u32,        // rows in this chunk
  cols: u32,
  tiles: u32,       // ceil(cols / TILE)
  pairs: u32,       // tiles * (tiles + 1) / 2
  workgroups: u32,  // row groups * pairs; the dispatch may round up
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> shift: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> sums: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// Row k of a tile at [k * TILE + lane]: the shifted values of TILE rows for both column tiles.
var<workgroup> a_tile: array<f32, TILE * TILE>;
var<workgroup> b_tile: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn main(
  @builtin(workgroup_id) group_id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) local: vec3u,
) {
  // Everything up to the loop depends on the workgroup only, so the barriers stay uniform.
  let group = group_id.y * groups.x + group_id.x;
  if (group >= params.workgroups) {
    return;
  }
  let row_group = group / params.pairs;
  let pair = group % params.pairs;
  // Pairs are numbered row by row over the upper triangle of tiles.
  var t = pair;
  var ti = 0u;
  var len = params.tiles;
  loop {
    if (t < len) {
      break;
    }
    t -= len;
    len -= 1u;
    ti += 1u;
  }
  let tj = ti + t;
  let diagonal = ti == tj;
  let ca = ti * TILE + local.x;
  let cb = tj * TILE + local.x;
  var sa = 0.0;
  var sb = 0.0;
  if (ca < params.cols) {
    sa = shift[ca];
  }
  if (cb < params.cols) {
    sb = shift[cb];
  }
  let first = row_group * BLOCK_ROWS * BLOCKS;
  let last = min(first + BLOCK_ROWS * BLOCKS, params.rows);

  var total = 0.0;
  var block = 0.0;
  var total_sum = 0.0;
  var block_sum = 0.0;
  var in_block = 0u;
  for (var r0 = first; r0 < last; r0 += TILE) {
    let r = r0 + local.y;
    var va = 0.0;
    var vb = 0.0;
    if (r < last) {
      if (ca < params.cols) {
        va = x[r * params.cols + ca] - sa;
      }
      if (cb < params.cols) {
        vb = x[r * params.cols + cb] - sb;
      }
    }
    a_tile[local.y * TILE + local.x] = va;
    b_tile[local.y * TILE + local.x] = vb;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      block += a_tile[k * TILE + local.y] * b_tile[k * TILE + local.x];
    }
    if (diagonal && local.y == 0u) {
      for (var k = 0u; k < TILE; k++) {
        block_sum += b_tile[k * TILE + local.x];
      }
    }
    workgroupBarrier();
    in_block += TILE;
    if (in_block == BLOCK_ROWS) {
      total += block;
      block = 0.0;
      total_sum += block_sum;
      block_sum = 0.0;
      in_block = 0u;
    }
  }
  total += block;
  total_sum += block_sum;
  partials[(row_group * params.pairs + pair) * TILE * TILE + local.y * TILE + local.x] = total;
  if (diagonal && local.y == 0u && cb < params.cols) {
    sums[row_group * params.cols + cb] = total_sum;
  }
}
`;

/** The program, as the pipeline cache takes it. */
export const SYRK_PROGRAM: GpuProgram = {
  name: SYRK_NAME,
  wgsl: SYRK_WGSL,
  entryPoint: "main",
  overrides: ["TILE", "BLOCK_ROWS", "BLOCKS"],
};

/**
 * The override values: 16 × 16 tiles (256 threads, the WebGPU minimum per workgroup), 128-row
 * f32 blocks as in the WASM kernel, 32 blocks (4096 rows) per workgroup so the partials read
 * back are 1/16 of the input at 50 columns.
 */
export const SYRK_OVERRIDES: Readonly<OverrideValues> = { TILE: 16, BLOCK_ROWS: 128, BLOCKS: 32 };

/** Options of {@linkcode gpuSyrk}. */
export interface GpuSyrkOptions extends Pick<RunOptions, "signal" | "onProgress"> {
  /** `cols` values subtracted from every row; default zeros. */
  shift?: Float32Array;
  /** The most rows uploaded at once; default what one storage binding holds. */
  chunkRows?: number;
}

/**
 * `Σ(x - shift)` and the upper triangle of `Σ(x - shift)ᵀ(x - shift)` on the GPU, f32 within
 * blocks of rows and f64 across them. Inputs larger than one storage binding are uploaded in row
 * chunks. NaN and infinity propagate (validating data is the operation's job).
 *
 * @param matrix `{ data: Float32Array, rows, cols }`, row-major.
 * @param options `shift`, `chunkRows`, `signal` (checked between chunks), `onProgress`.
 * @returns `sum` (`cols` values) and `gram` (`cols × cols` row-major, only `j >= i` set).
 * @throws {TypeError} When `matrix` or `shift` is malformed, or `chunkRows` is not whole.
 * @throws {RangeError} When `chunkRows` is below 1, or one row group's partials or one row do
 *   not fit a storage binding (use the wasm backend).
 * @throws {BackendUnavailableError} When WebGPU is unavailable or the device is lost.
 * @throws {OutOfMemoryError} When the device cannot hold a chunk.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "../device.ts";
 * import { gpuSyrk } from "./syrk.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 *   const { sum, gram } = await gpuSyrk(m);
 *   assert(sum[0] === 4 && gram[0] === 10 && gram[1] === 14 && gram[3] === 20);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuSyrk(
  matrix: Matrix,
  options: GpuSyrkOptions = {},
): Promise<{ sum: Float64Array; gram: Float64Array }> {
  const { data, rows, cols } = checkMatrix(matrix);
  const shift = options.shift ?? new Float32Array(cols);
  if (!(shift instanceof Float32Array) || shift.length !== cols) {
    throw new TypeError(`options.shift must be a Float32Array of ${cols} values`);
  }
  if (options.chunkRows !== undefined) checkInteger("options.chunkRows", options.chunkRows, 1);
  const gpu = await getGpu();
  const sum = new Float64Array(cols);
  const gram = new Float64Array(cols * cols);
  if (rows === 0 || cols === 0) return { sum, gram };

  const { TILE, BLOCK_ROWS, BLOCKS } = SYRK_OVERRIDES;
  const groupRows = BLOCK_ROWS * BLOCKS;
  const tiles = Math.ceil(cols / TILE);
  const pairs = tiles * (tiles + 1) / 2;
  const tileOf = pairTiles(tiles);
  const chunkRows = planChunkRows(gpu.limits, rows, cols, groupRows, pairs, options.chunkRows);
  const maxGroups = Math.ceil(chunkRows / groupRows);
  const { device, pool } = gpu;
  const label = `prism ${SYRK_NAME}`;

  return await gpu.scoped(SYRK_NAME, async () => {
    const pipeline = await gpu.pipelines.get(SYRK_PROGRAM, SYRK_OVERRIDES);
    const storage = GPUBufferUsage.STORAGE;
    const input = pool.acquire(chunkRows * cols * 4, storage | GPUBufferUsage.COPY_DST, label);
    const shiftBuf = pool.acquire(cols * 4, storage | GPUBufferUsage.COPY_DST, `${label} shift`);
    const partials = pool.acquire(
      maxGroups * pairs * TILE * TILE * 4,
      storage | GPUBufferUsage.COPY_SRC,
      `${label} partials`,
    );
    const sums = pool.acquire(maxGroups * cols * 4, storage | GPUBufferUsage.COPY_SRC, label);
    const params = pool.acquire(32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
    try {
      device.queue.writeBuffer(shiftBuf, 0, shift as Float32Array<ArrayBuffer>);
      for (let start = 0; start < rows; start += chunkRows) {
        if (options.signal?.aborted) {
          throw new AbortedError("gpuSyrk", { cause: options.signal.reason });
        }
        const n = Math.min(chunkRows, rows - start);
        const nGroups = Math.ceil(n / groupRows);
        const workgroups = nGroups * pairs;
        device.queue.writeBuffer(
          params,
          0,
          new Uint32Array([n, cols, tiles, pairs, workgroups, 0, 0, 0]),
        );
        gpu.writeRows(input, data, cols, start, n);
        gpu.dispatch(pipeline, label, [
          { buffer: input, size: n * cols * 4 },
          { buffer: shiftBuf, size: cols * 4 },
          { buffer: partials, size: workgroups * TILE * TILE * 4 },
          { buffer: sums, size: nGroups * cols * 4 },
          { buffer: params, size: 32 },
        ], workgroups);

        const part = new Float32Array(
          await gpu.readBack(partials, 0, workgroups * TILE * TILE * 4),
        );
        const partSums = new Float32Array(await gpu.readBack(sums, 0, nGroups * cols * 4));
        addPartials(part, nGroups, pairs, tileOf, cols, TILE, gram);
        for (let g = 0; g < nGroups; g++) {
          for (let c = 0; c < cols; c++) sum[c] += partSums[g * cols + c];
        }
        options.onProgress?.({ done: start + n, total: rows, unit: "rows" });
      }
      return { sum, gram };
    } finally {
      for (const b of [input, shiftBuf, partials, sums, params]) pool.release(b);
    }
  });
}

/** `[ti, tj]` of each tile pair, numbered row by row over the upper triangle as the WGSL does. */
function pairTiles(tiles: number): [number, number][] {
  const out: [number, number][] = [];
  for (let ti = 0; ti < tiles; ti++) for (let tj = ti; tj < tiles; tj++) out.push([ti, tj]);
  return out;
}

/** Adds the f32 partial tiles into the f64 upper triangle, skipping padding and `j < i`. */
function addPartials(
  part: Float32Array,
  groups: number,
  pairs: number,
  tileOf: [number, number][],
  cols: number,
  tile: number,
  gram: Float64Array,
): void {
  for (let g = 0; g < groups; g++) {
    for (let p = 0; p < pairs; p++) {
      const [ti, tj] = tileOf[p];
      const base = (g * pairs + p) * tile * tile;
      for (let ly = 0; ly < tile; ly++) {
        const i = ti * tile + ly;
        if (i >= cols) break;
        for (let lx = 0; lx < tile; lx++) {
          const j = tj * tile + lx;
          if (j >= cols) break;
          if (j >= i) gram[i * cols + j] += part[base + ly * tile + lx];
        }
      }
    }
  }
}

/** The rows per chunk: what one binding, one buffer and one 2-D dispatch hold, or less. */
function planChunkRows(
  limits: GPUSupportedLimits,
  rows: number,
  cols: number,
  groupRows: number,
  pairs: number,
  requested: number | undefined,
): number {
  const maxBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const groupPartialBytes = pairs * SYRK_OVERRIDES.TILE ** 2 * 4;
  if (cols * 4 > maxBytes || groupPartialBytes > maxBytes) {
    throw new RangeError(
      `Cannot run the Gram of ${cols} columns on this GPU: its partials need ` +
        `${groupPartialBytes} bytes per row group, more than its storage binding of ${maxBytes} ` +
        `bytes; use the wasm backend`,
    );
  }
  const fitInput = Math.floor(maxBytes / (cols * 4));
  const fitPartials = Math.floor(maxBytes / groupPartialBytes) * groupRows;
  const maxPerDim = limits.maxComputeWorkgroupsPerDimension;
  const fitDispatch = Math.floor((maxPerDim * maxPerDim) / pairs) * groupRows;
  // Whole row groups per chunk (when more than one), so chunking leaves the f32 blocks as they are.
  let chunk = Math.min(rows, fitInput, fitPartials, fitDispatch, requested ?? Infinity);
  if (chunk < rows && chunk >= groupRows) chunk = Math.floor(chunk / groupRows) * groupRows;
  return Math.max(1, chunk);
}
