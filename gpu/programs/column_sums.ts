/**
 * Column sums of a row-major f32 matrix on the GPU: each workgroup adds a block of rows for a
 * tile of columns in f32 and writes one partial sum per column; the host (`gpu/column_sums.ts`)
 * adds the partials in f64. WGSL has neither f64 nor float atomics, hence the split.
 *
 * @module
 */

import { checkInteger } from "../../core/validate.ts";
import { linearDispatch } from "../dispatch.ts";
import { linearEntry } from "./_entry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const COLUMN_SUMS_NAME = "column_sums";

/**
 * The WGSL. Workgroup `(WG_X, WG_Y)` covers `WG_X` columns and `WG_Y * ROWS_PER_LANE` rows:
 * lane `y` adds rows `y, y + WG_Y, …` (so neighbouring threads read neighbouring addresses),
 * then the lanes are added pairwise in workgroup memory.
 */
export const COLUMN_SUMS_WGSL: string = /* wgsl */ `
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

${linearEntry("WG_X, WG_Y")}
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

/** Threads per workgroup: the WebGPU minimum for `maxComputeInvocationsPerWorkgroup`. */
const THREADS = 256;
/** The widest column tile; wider matrices use several tiles per row block. */
const MAX_WG_X = 64;
/** Rows per lane: short f32 runs, then a pairwise reduction, keep the error near 1e-7. */
const ROWS_PER_LANE = 16;

/** The sizes of one run: the rows of this chunk and the matrix's columns (at least 1 each). */
export interface ColumnSumsShapes {
  /** Rows bound in this run. */
  readonly rows: number;
  /** Columns of the matrix. */
  readonly cols: number;
}

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
 * assert(columnSumsOverrides(5).WG_X === 8);
 * assert(columnSumsOverrides(1000).WG_X === 64);
 * ```
 */
export function columnSumsOverrides(cols: number): OverrideValues {
  checkInteger("cols", cols, 1);
  const wgX = Math.min(MAX_WG_X, 2 ** Math.ceil(Math.log2(cols)));
  return { WG_X: wgX, WG_Y: THREADS / wgX, ROWS_PER_LANE };
}

/**
 * The rows one workgroup sums (a row block) and the column tiles per block, for `cols` columns.
 *
 * @param cols Columns of the matrix (at least 1).
 * @returns `{ blockRows, colTiles }`.
 * @example
 * ```ts
 * import { columnSumsLayout } from "./column_sums.ts";
 * import assert from "node:assert";
 * assert(columnSumsLayout(7).blockRows === 512 && columnSumsLayout(70).colTiles === 2);
 * ```
 */
export function columnSumsLayout(cols: number): { blockRows: number; colTiles: number } {
  const { WG_X, WG_Y } = columnSumsOverrides(cols);
  return { blockRows: WG_Y * ROWS_PER_LANE, colTiles: Math.ceil(cols / WG_X) };
}

function workgroups({ rows, cols }: ColumnSumsShapes): number {
  const { blockRows, colTiles } = columnSumsLayout(cols);
  return Math.ceil(rows / blockRows) * colTiles;
}

/**
 * The program. Bindings: `matrix` (rows × cols, read), `partials` (one f32 per row block and
 * column, block-major), `params`. Specialise with {@linkcode columnSumsOverrides}.
 */
export const COLUMN_SUMS_PROGRAM: GpuProgram<ColumnSumsShapes> = {
  name: COLUMN_SUMS_NAME,
  wgsl: COLUMN_SUMS_WGSL,
  entryPoint: "main",
  overrides: ["WG_X", "WG_Y", "ROWS_PER_LANE"],
  bindings: [
    { name: "matrix", type: "storage", access: "read" },
    { name: "partials", type: "storage", access: "read_write" },
    { name: "params", type: "uniform" },
  ],
  params: (shapes) =>
    new Uint32Array([
      shapes.rows,
      shapes.cols,
      columnSumsLayout(shapes.cols).colTiles,
      workgroups(shapes),
    ]),
  dispatch: (shapes, limits) => linearDispatch(workgroups(shapes), limits),
};
