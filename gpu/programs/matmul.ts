/**
 * `C = op(A) · op(B)` for row-major f32 matrices, `op` the identity or the transpose: a tiled
 * GEMM in the implicit-GEMM style the convolution engine builds on. A workgroup of
 * `TILE × TILE` threads owns one `TILE × TILE` tile of `C`; for each step of `TILE` along the
 * inner dimension it stages a tile of `op(A)` and one of `op(B)` in workgroup memory (every
 * value loaded once per workgroup, not once per thread), then each thread adds its `TILE`
 * products in f32. Loads go through `load_a`/`load_b`, the one place that knows the layout, so
 * an implicit GEMM (a convolution reading its input through an index map) replaces only them.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import { linearEntry } from "./_entry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const MATMUL_NAME = "matmul";

/** The WGSL; see the module docs. */
export const MATMUL_WGSL: string = /* wgsl */ `
// Edge of a C tile and of the staged A and B tiles; TILE x TILE threads per workgroup.
override TILE: u32;

struct Params {
  m: u32,           // rows of op(A) and C
  n: u32,           // columns of op(B) and C
  k: u32,           // columns of op(A), rows of op(B)
  trans_a: u32,     // 1: A is stored k x m
  trans_b: u32,     // 1: B is stored n x k
  tiles_n: u32,     // ceil(n / TILE)
  workgroups: u32,  // ceil(m / TILE) * tiles_n; the dispatch may round up
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Row r of a staged tile at [r * TILE + column].
var<workgroup> a_tile: array<f32, TILE * TILE>;
var<workgroup> b_tile: array<f32, TILE * TILE>;

// op(A)[row][col], zero outside the matrix (the padding of edge tiles).
fn load_a(row: u32, col: u32) -> f32 {
  if (row >= params.m || col >= params.k) {
    return 0.0;
  }
  if (params.trans_a != 0u) {
    return a[col * params.m + row];
  }
  return a[row * params.k + col];
}

// op(B)[row][col], zero outside the matrix.
fn load_b(row: u32, col: u32) -> f32 {
  if (row >= params.k || col >= params.n) {
    return 0.0;
  }
  if (params.trans_b != 0u) {
    return b[col * params.k + row];
  }
  return b[row * params.n + col];
}

${linearEntry("TILE, TILE")}
  let row = (group / params.tiles_n) * TILE + local.y;
  let col = (group % params.tiles_n) * TILE + local.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.k; k0 += TILE) {
    a_tile[local.y * TILE + local.x] = load_a(row, k0 + local.x);
    b_tile[local.y * TILE + local.x] = load_b(k0 + local.y, col);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += a_tile[local.y * TILE + kk] * b_tile[kk * TILE + local.x];
    }
    workgroupBarrier();
  }
  if (row < params.m && col < params.n) {
    c[row * params.n + col] = acc;
  }
}
`;

/** The override values: 16 × 16 tiles, 256 threads (the WebGPU minimum per workgroup). */
export const MATMUL_OVERRIDES: Readonly<OverrideValues> = { TILE: 16 };

/** The sizes of one run: `C` is `m × n`, the inner dimension `k` (each at least 1). */
export interface MatmulShapes {
  /** Rows of `op(A)` and `C`. */
  readonly m: number;
  /** Columns of `op(B)` and `C`. */
  readonly n: number;
  /** Columns of `op(A)`, rows of `op(B)`. */
  readonly k: number;
  /** `A` is stored `k × m`. */
  readonly transposeA: boolean;
  /** `B` is stored `n × k`. */
  readonly transposeB: boolean;
}

function tilesN({ n }: MatmulShapes): number {
  return Math.ceil(n / MATMUL_OVERRIDES.TILE);
}

function workgroups(shapes: MatmulShapes): number {
  return Math.ceil(shapes.m / MATMUL_OVERRIDES.TILE) * tilesN(shapes);
}

/**
 * The program, specialised with {@linkcode MATMUL_OVERRIDES}. Bindings: `a`, `b` (read), `c`
 * (`m × n`, written), `params`.
 */
export const MATMUL_PROGRAM: GpuProgram<MatmulShapes> = {
  name: MATMUL_NAME,
  wgsl: MATMUL_WGSL,
  entryPoint: "main",
  overrides: ["TILE"],
  bindings: [
    { name: "a", type: "storage", access: "read" },
    { name: "b", type: "storage", access: "read" },
    { name: "c", type: "storage", access: "read_write" },
    { name: "params", type: "uniform" },
  ],
  params: (s) =>
    new Uint32Array([
      s.m,
      s.n,
      s.k,
      s.transposeA ? 1 : 0,
      s.transposeB ? 1 : 0,
      tilesN(s),
      workgroups(s),
      0,
    ]),
  dispatch: (shapes, limits) => linearDispatch(workgroups(shapes), limits),
};
