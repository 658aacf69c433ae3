/**
 * The WGSL of the convolution GEMM (`conv2d.ts`): the tiled main loop (8 × 8 threads, 4 × 4
 * outputs each, 32 × 32 tiles staged in workgroup memory) and the ways of staging A and B,
 * one value or four values per load. A program adds `load_a`, `load_b`, `store_c` (and for the
 * vector stages `load_a4`, `load_b4`) and `A_ROW_FAST`.
 *
 * @module
 */

import { linearEntry } from "./_entry.ts";

/**
 * Staging one value per load. Neighbouring threads read neighbouring addresses: A along
 * whichever index is contiguous (`A_ROW_FAST`), B along its columns (output channels,
 * contiguous in HWIO and NHWC).
 */
export const STAGE_A_SCALAR: string = /* wgsl */ `
fn stage_a(row0: u32, k0: u32, k_end: u32, tid: u32) {
  let tile = 4u * WG;
  for (var e = tid; e < tile * tile; e += WG * WG) {
    let r = select(e / tile, e % tile, A_ROW_FAST);
    let k = select(e % tile, e / tile, A_ROW_FAST);
    var v = 0.0;
    if (row0 + r < params.rows && k0 + k < k_end) {
      v = load_a(row0 + r, k0 + k);
    }
    a_tile[k * WG + r / 4u][r % 4u] = tile1(v);
  }
}
`;

/** Staging B one value per load, along its columns. */
export const STAGE_B_SCALAR: string = /* wgsl */ `
fn stage_b(col0: u32, k0: u32, k_end: u32, tid: u32) {
  let tile = 4u * WG;
  for (var e = tid; e < tile * tile; e += WG * WG) {
    let k = e / tile;
    let c = e % tile;
    var v = 0.0;
    if (k0 + k < k_end && col0 + c < params.cols) {
      v = load_b(k0 + k, col0 + c);
    }
    b_tile[k * WG + c / 4u][c % 4u] = tile1(v);
  }
}
`;

/**
 * Staging of A four inner values per load, `load_a4(m, k)` giving `A[m][k .. k + 3]`: where the
 * inner index runs over channels, a multiple of 4, the four share a tap, so they are contiguous,
 * and inner steps start at multiples of 4.
 */
export const STAGE_A_VEC4: string = /* wgsl */ `
fn stage_a(row0: u32, k0: u32, k_end: u32, tid: u32) {
  let tile = 4u * WG;
  for (var e = tid; e < tile * WG; e += WG * WG) {
    let r = e / WG;
    let k = (e % WG) * 4u;
    var v = vec4f(0.0);
    if (row0 + r < params.rows && k0 + k < k_end) {
      v = load_a4(row0 + r, k0 + k);
    }
    for (var j = 0u; j < 4u; j++) {
      a_tile[(k + j) * WG + r / 4u][r % 4u] = tile1(v[j]);
    }
  }
}
`;

/**
 * Staging of B four columns per load, `load_b4(k, c)` giving `B[k][c .. c + 3]` (columns
 * contiguous in memory, their count a multiple of 4).
 */
export const STAGE_B_VEC4: string = /* wgsl */ `
fn stage_b(col0: u32, k0: u32, k_end: u32, tid: u32) {
  let tile = 4u * WG;
  for (var e = tid; e < tile * WG; e += WG * WG) {
    let k = e / WG;
    let c = (e % WG) * 4u;
    var v = vec4f(0.0);
    if (k0 + k < k_end && col0 + c < params.cols) {
      v = load_b4(k0 + k, col0 + c);
    }
    b_tile[k * WG + c / 4u] = tile4(v);
  }
}
`;

/** The main loop: stage, barrier, 32 rank-1 updates of the 4 × 4 outputs, store. */
export const GEMM_WGSL: string = /* wgsl */ `
// Threads per side; each thread owns 4 x 4 outputs, a workgroup a (4 WG)^2 tile.
override WG: u32;

// Staged tiles as vec4 columns: a_tile[kk * WG + r / 4][r % 4] holds A[row0 + r][k0 + kk],
// b_tile[kk * WG + c / 4][c % 4] holds B[k0 + kk][col0 + c].
// In a native f16 program the tiles are f16 (half the workgroup memory) and so are the
// products; the sums stay f32.
var<workgroup> a_tile: array<tile4, 4u * WG * WG>;
var<workgroup> b_tile: array<tile4, 4u * WG * WG>;

${linearEntry("WG, WG")}
  let tile = 4u * WG;
  let split = group / params.tiles;
  let t = group % params.tiles;
  let row0 = (t / params.tiles_n) * tile;
  let col0 = (t % params.tiles_n) * tile;
  let k_begin = split * params.chunk;
  let k_end = min(params.inner, k_begin + params.chunk);
  let tid = local.y * WG + local.x;
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var k0 = k_begin; k0 < k_end; k0 += tile) {
    stage_a(row0, k0, k_end, tid);
    stage_b(col0, k0, k_end, tid);
    workgroupBarrier();
    for (var kk = 0u; kk < tile; kk++) {
      let a = a_tile[kk * WG + local.y];
      let b = b_tile[kk * WG + local.x];
      acc[0] += vec4f(a.x * b);
      acc[1] += vec4f(a.y * b);
      acc[2] += vec4f(a.z * b);
      acc[3] += vec4f(a.w * b);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + local.y * 4u + i;
    if (row >= params.rows) {
      break;
    }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + local.x * 4u + j;
      if (col < params.cols) {
        store_c(split, row, col, acc[i][j]);
      }
    }
  }
}
`;
