/**
 * Squared Mahalanobis distances of rows on the GPU: `out[r] = ‖(x_r − μ)·W‖²` with the
 * whitening matrix `W` (`cols × k`, `S⁺ = W·Wᵀ`), the scoring step of RX (its host is
 * `gpu/rx_score.ts`).
 *
 * One thread per row. A workgroup first stages `W` tiles in workgroup memory (shared by its 64
 * rows), and each thread keeps its projection sums in f32; `(X − μ)·W` is never stored.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import { linearEntry } from "./_entry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const MAHALANOBIS_NAME = "mahalanobis";

/**
 * The WGSL. Thread `r` of the dispatch scores row `r`: for each column `j` of `W` it forms
 * `t = Σ_c (x[r][c] − μ[c]) · W[c][j]` and adds `t²`. `W` is read through workgroup memory in
 * tiles of `TILE` values so the 64 threads of a group load it once.
 */
export const MAHALANOBIS_WGSL: string = /* wgsl */ `
// Threads (rows) per workgroup.
override WG: u32;
// W values staged in workgroup memory at once.
override TILE: u32;

struct Params {
  rows: u32,
  cols: u32,
  k: u32,
  workgroups: u32,  // workgroups that carry rows; the dispatch may round up
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mu: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;       // cols × k, column j contiguous
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> tile: array<f32, TILE>;

${linearEntry("WG")}
  let row = group * WG + local.x;
  let live = row < params.rows;
  let base = row * params.cols;
  let total = params.cols * params.k;
  var score = 0.0;
  var t = 0.0;
  // W is stored transposed (k × cols), so the flat index i = j * cols + c walks column j of W.
  for (var start = 0u; start < total; start += TILE) {
    let n = min(TILE, total - start);
    for (var i = local.x; i < n; i += WG) {
      tile[i] = w[start + i];
    }
    workgroupBarrier();
    if (live) {
      for (var i = 0u; i < n; i++) {
        let flat = start + i;
        let c = flat % params.cols;
        t += (x[base + c] - mu[c]) * tile[i];
        if (c == params.cols - 1u) {
          score += t * t;
          t = 0.0;
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    out[row] = score;
  }
}
`;

/** The override values: 64 rows per workgroup, 1024 `W` values staged at once (4 KiB). */
export const MAHALANOBIS_OVERRIDES: Readonly<OverrideValues> = { WG: 64, TILE: 1024 };

/** The sizes of one run. */
export interface MahalanobisShapes {
  /** Rows bound in this run (at least 1). */
  readonly rows: number;
  /** Columns (bands) of the matrix and rows of `W`. */
  readonly cols: number;
  /** Columns of `W` (at least 1). */
  readonly k: number;
}

function workgroups({ rows }: MahalanobisShapes): number {
  return Math.ceil(rows / MAHALANOBIS_OVERRIDES.WG);
}

/**
 * The program, specialised with {@linkcode MAHALANOBIS_OVERRIDES}. Bindings: `x` (rows × cols,
 * read), `mu` (cols), `w` (`Wᵀ`, k × cols), `out` (one score per row), `params`.
 */
export const MAHALANOBIS_PROGRAM: GpuProgram<MahalanobisShapes> = {
  name: MAHALANOBIS_NAME,
  wgsl: MAHALANOBIS_WGSL,
  entryPoint: "main",
  overrides: ["WG", "TILE"],
  bindings: [
    { name: "x", type: "storage", access: "read" },
    { name: "mu", type: "storage", access: "read" },
    { name: "w", type: "storage", access: "read" },
    { name: "out", type: "storage", access: "read_write" },
    { name: "params", type: "uniform" },
  ],
  params: (shapes) => new Uint32Array([shapes.rows, shapes.cols, shapes.k, workgroups(shapes)]),
  dispatch: (shapes, limits) => linearDispatch(workgroups(shapes), limits),
};
