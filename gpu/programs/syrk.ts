/**
 * Shifted SYRK on the GPU: column sums `Σ(x - shift)` and the upper triangle of
 * `Σ(x - shift)ᵀ(x - shift)` over the rows of a row-major f32 matrix.
 *
 * One workgroup computes one `TILE × TILE` tile of the upper triangle (tile pairs `ti <= tj`)
 * over one group of `BLOCK_ROWS · BLOCKS` rows: each thread owns one entry, sums `BLOCK_ROWS`
 * products in f32, adds that block into its f32 total, and writes the total as one partial; the
 * host (`gpu/gram.ts`) adds the partials in f64. The blocked f32 summation has the error of a
 * recursive sum of `BLOCK_ROWS + BLOCKS` terms (not `BLOCK_ROWS · BLOCKS`), the same bound as the WASM kernel's
 * 128-row blocks, so data offset by 1000 stays within 1e-5 after the covariance correction.
 * Workgroups of diagonal tiles also sum their columns. WGSL has neither f64 nor float atomics,
 * hence partials.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import { linearEntry } from "./_entry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const SYRK_NAME = "syrk_shifted";

/** The WGSL; see the module docs for the decomposition. */
export const SYRK_WGSL: string = /* wgsl */ `
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

${linearEntry("TILE, TILE")}
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

/**
 * The override values: 16 × 16 tiles (256 threads, the WebGPU minimum per workgroup), 128-row
 * f32 blocks as in the WASM kernel, 32 blocks (4096 rows) per workgroup so the partials read
 * back are 1/16 of the input at 50 columns.
 */
export const SYRK_OVERRIDES: Readonly<OverrideValues> = { TILE: 16, BLOCK_ROWS: 128, BLOCKS: 32 };

/** Rows one workgroup covers: its partials are one row group's. */
export const SYRK_GROUP_ROWS: number = SYRK_OVERRIDES.BLOCK_ROWS * SYRK_OVERRIDES.BLOCKS;

/** The sizes of one run: the rows of this chunk and the matrix's columns (at least 1 each). */
export interface SyrkShapes {
  /** Rows bound in this run. */
  readonly rows: number;
  /** Columns of the matrix. */
  readonly cols: number;
}

/**
 * The tiles along one side and the tile pairs `ti <= tj` of the upper triangle, for `cols`.
 *
 * @param cols Columns of the matrix.
 * @returns `{ tiles, pairs }`.
 * @example
 * ```ts
 * import { syrkTiles } from "./syrk.ts";
 * import assert from "node:assert";
 * assert(syrkTiles(17).tiles === 2 && syrkTiles(17).pairs === 3);
 * ```
 */
export function syrkTiles(cols: number): { tiles: number; pairs: number } {
  const tiles = Math.ceil(cols / SYRK_OVERRIDES.TILE);
  return { tiles, pairs: tiles * (tiles + 1) / 2 };
}

function workgroups({ rows, cols }: SyrkShapes): number {
  return Math.ceil(rows / SYRK_GROUP_ROWS) * syrkTiles(cols).pairs;
}

/**
 * The program, specialised with {@linkcode SYRK_OVERRIDES}. Bindings: `x` (rows × cols, read),
 * `shift` (cols, read), `partials` (`TILE²` f32 per row group and tile pair), `sums` (`cols` f32
 * per row group), `params`.
 */
export const SYRK_PROGRAM: GpuProgram<SyrkShapes> = {
  name: SYRK_NAME,
  wgsl: SYRK_WGSL,
  entryPoint: "main",
  overrides: ["TILE", "BLOCK_ROWS", "BLOCKS"],
  bindings: [
    { name: "x", type: "storage", access: "read" },
    { name: "shift", type: "storage", access: "read" },
    { name: "partials", type: "storage", access: "read_write" },
    { name: "sums", type: "storage", access: "read_write" },
    { name: "params", type: "uniform" },
  ],
  params: (shapes) => {
    const { tiles, pairs } = syrkTiles(shapes.cols);
    return new Uint32Array([shapes.rows, shapes.cols, tiles, pairs, workgroups(shapes), 0, 0, 0]);
  },
  dispatch: (shapes, limits) => linearDispatch(workgroups(shapes), limits),
};
