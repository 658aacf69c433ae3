/**
 * The Gram matrix on the GPU: shifted SYRK (`programs/syrk.ts`) with column sums, its f32
 * partial tiles added in f64 on the CPU; side `"rows"` is the SYRK of the transpose.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { getGpu } from "./device.ts";
import {
  SYRK_GROUP_ROWS,
  SYRK_NAME,
  SYRK_OVERRIDES,
  SYRK_PROGRAM,
  syrkTiles,
} from "./programs/syrk.ts";
import { record } from "./run.ts";
import { isGpuMatrix } from "./storage.ts";
import {
  bindingBytes,
  checkInput,
  type GpuHostOptions,
  type MatrixInput,
  RowChunks,
  rowsPerBinding,
  uploadVector,
} from "./upload.ts";

/** Options of {@linkcode gpuGram}. */
export interface GpuGramOptions extends GpuHostOptions {
  /**
   * `"columns"` (default): `Σ(x - shift)` and `(X - shift)ᵀ(X - shift)` over the columns.
   * `"rows"`: `XXᵀ` (no shift; `sum` then holds the row sums), the SYRK of the transpose made on
   * the CPU, so plain matrices only.
   */
  side?: "columns" | "rows";
  /** `cols` values subtracted from every row (side `"columns"`); default zeros. */
  shift?: Float32Array;
  /** The most rows bound at once; default what one storage binding holds. */
  chunkRows?: number;
}

/**
 * `Σ(x - shift)` and the upper triangle of `Σ(x - shift)ᵀ(x - shift)` on the GPU, f32 within
 * blocks of rows and f64 across them. Plain inputs larger than one storage binding are uploaded
 * in row chunks, GPU-resident ones bound in place; each chunk is one submit and one read-back of
 * both partial buffers. NaN and infinity propagate (validating data is the operation's job).
 *
 * @param input `{ data: Float32Array, rows, cols }`, or a GPU-resident `{ storage, rows, cols }`.
 * @param options `operation` (named when aborted), `side`, `shift`, `chunkRows`, `signal`
 *   (checked between chunks), `onProgress`.
 * @returns `sum` (`n` values) and `gram` (`n × n` row-major, only `j >= i` set), `n` the columns
 *   (the rows for side `"rows"`).
 * @throws {TypeError} When `input` or `shift` is malformed, `chunkRows` is not whole, or side
 *   `"rows"` is asked of a GPU-resident matrix.
 * @throws {RangeError} When `chunkRows` is below 1, or one row group's partials or one row do
 *   not fit a storage binding (use the wasm backend).
 * @throws {BackendUnavailableError} When WebGPU is unavailable or the device is lost.
 * @throws {OutOfMemoryError} When the device cannot hold a chunk.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuGram } from "./gram.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const m = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 *   const { sum, gram } = await gpuGram(m, { operation: "gram()" });
 *   assert(sum[0] === 4 && gram[0] === 10 && gram[1] === 14 && gram[3] === 20);
 *   const rows = await gpuGram(m, { operation: "gram()", side: "rows" });
 *   assert(rows.gram[0] === 5 && rows.gram[1] === 11 && rows.gram[3] === 25);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuGram(
  input: MatrixInput,
  options: GpuGramOptions,
): Promise<{ sum: Float64Array; gram: Float64Array }> {
  const gpu = await getGpu();
  checkInput(gpu, input);
  const side = options.side ?? "columns";
  if (side === "rows") {
    if (isGpuMatrix(input)) {
      throw new TypeError(
        `${options.operation}: side "rows" on the GPU transposes on the CPU; read() the GPU ` +
          `matrix and pass its values, or use side "columns"`,
      );
    }
    if (options.shift !== undefined) throw new TypeError(`options.shift applies to side "columns"`);
    return await gpuGram(transpose(input), { ...options, side: "columns" });
  }
  const { rows, cols } = input;
  const shift = options.shift ?? new Float32Array(cols);
  if (!(shift instanceof Float32Array) || shift.length !== cols) {
    throw new TypeError(`options.shift must be a Float32Array of ${cols} values`);
  }
  if (options.chunkRows !== undefined) checkInteger("options.chunkRows", options.chunkRows, 1);
  const sum = new Float64Array(cols);
  const gram = new Float64Array(cols * cols);
  if (rows === 0 || cols === 0) return { sum, gram };

  const { TILE } = SYRK_OVERRIDES;
  const { tiles, pairs } = syrkTiles(cols);
  const tileOf = pairTiles(tiles);
  const chunkRows = planChunkRows(gpu.limits, rows, cols, pairs, options.chunkRows);
  const maxGroups = Math.ceil(chunkRows / SYRK_GROUP_ROWS);
  const label = `prism ${SYRK_NAME}`;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;

  return await gpu.scoped(SYRK_NAME, async () => {
    const chunks = new RowChunks(gpu, input, { chunkRows, label });
    const shiftBuf = uploadVector(gpu, shift, `${label} shift`);
    const partials = gpu.pool.acquire(maxGroups * pairs * TILE * TILE * 4, storage, label);
    const sums = gpu.pool.acquire(maxGroups * cols * 4, storage, `${label} sums`);
    try {
      // One submit and read-back per chunk: the partials buffer is reused by the next chunk, and
      // there is more than one chunk only where the input exceeds one storage binding.
      for (let start = 0; start < rows; start += chunkRows) {
        throwIfAborted(options.signal, options.operation);
        const n = Math.min(chunkRows, rows - start);
        const groups = Math.ceil(n / SYRK_GROUP_ROWS);
        const partialBytes = groups * pairs * TILE * TILE * 4;
        await record(gpu, [{
          program: SYRK_PROGRAM,
          overrides: SYRK_OVERRIDES,
          shapes: { rows: n, cols },
          buffers: {
            x: chunks.bind(start, n),
            shift: shiftBuf,
            partials: { buffer: partials, size: partialBytes },
            sums: { buffer: sums, size: groups * cols * 4 },
          },
        }]);
        const [part, partSums] = await gpu.readRanges([
          { buffer: partials, bytes: partialBytes },
          { buffer: sums, bytes: groups * cols * 4 },
        ]);
        addPartials(new Float32Array(part), { groups, pairs, tileOf, cols, tile: TILE }, gram);
        const s = new Float32Array(partSums);
        for (let i = 0; i < s.length; i++) sum[i % cols] += s[i];
        options.onProgress?.({ done: start + n, total: rows, unit: "rows" });
      }
      return { sum, gram };
    } finally {
      chunks.release();
      for (const b of [shiftBuf.buffer, partials, sums]) gpu.releaseAfterSubmit(b);
    }
  });
}

/** The transpose of a row-major matrix, as a new row-major matrix. */
function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[c * m.rows + r] = m.data[r * m.cols + c];
  }
  return { data: out, rows: m.cols, cols: m.rows };
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
  layout: { groups: number; pairs: number; tileOf: [number, number][]; cols: number; tile: number },
  gram: Float64Array,
): void {
  const { groups, pairs, tileOf, cols, tile } = layout;
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
  pairs: number,
  requested: number | undefined,
): number {
  const maxBytes = bindingBytes(limits);
  const groupPartialBytes = pairs * SYRK_OVERRIDES.TILE ** 2 * 4;
  if (groupPartialBytes > maxBytes) {
    throw new RangeError(
      `Cannot run the Gram of ${cols} columns on this GPU: its partials need ` +
        `${groupPartialBytes} bytes per row group, more than its storage binding of ${maxBytes} ` +
        `bytes; use the wasm backend`,
    );
  }
  const fitInput = rowsPerBinding(limits, cols, `run the Gram of ${cols} columns`);
  const fitPartials = Math.floor(maxBytes / groupPartialBytes) * SYRK_GROUP_ROWS;
  const maxPerDim = limits.maxComputeWorkgroupsPerDimension;
  const fitDispatch = Math.floor((maxPerDim * maxPerDim) / pairs) * SYRK_GROUP_ROWS;
  // Whole row groups per chunk (when more than one), so chunking leaves the f32 blocks as they are.
  let chunk = Math.min(rows, fitInput, fitPartials, fitDispatch, requested ?? Infinity);
  if (chunk < rows && chunk >= SYRK_GROUP_ROWS) {
    chunk = Math.floor(chunk / SYRK_GROUP_ROWS) * SYRK_GROUP_ROWS;
  }
  return Math.max(1, chunk);
}
