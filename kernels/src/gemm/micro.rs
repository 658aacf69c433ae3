//! The micro-kernel: one register tile of [`MR`] x [`NR`] float32 sums, shared by GEMM and SYRK.
//!
//! Each step `r` of the depth loop broadcasts `MR` values of a packed A operand and multiplies
//! them by `NR` values (two `f32x4`) of a packed B panel, adding into `MR x 2` accumulators:
//! `acc[i][v] += a[r * A_STEP + i] * b[r * NR + 4v .. 4v + 4]`. The operands come from
//! [`super::pack::pack`]; what is done with the tile afterwards (GEMM's `alpha`/`beta` store into
//! float32 C, SYRK's float64 upper-triangle merge) is the caller's epilogue.
//!
//! Register budget: 8 accumulators + 2 B vectors + 1 broadcast + 1 product fit the 16 SIMD
//! registers V8 has on x86-64 (one of them its scratch) without spilling.

use crate::params::{MR, NR};
use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_load32_splat};

/// `f32x4` vectors per tile row.
pub(crate) const VECTORS: usize = NR / 4;

/// The register tile: row `i`, vector `v` holds columns `4v .. 4v + 4` of tile row `i`.
pub(crate) type Tile = [[v128; VECTORS]; MR];

/// Sums `k` rank-1 updates into a fresh tile.
///
/// - `a`: the broadcast operand; step `r` reads `a[r * A_STEP .. r * A_STEP + MR]` (a GEMM A
///   panel has `A_STEP = MR`; SYRK reads `MR` columns inside an `NR`-wide panel, `A_STEP = NR`).
/// - `b`: an `NR`-wide packed panel; step `r` reads `NV` vectors at `b[r * NR]`. `NV = 1`
///   computes only the tile's left half (SYRK's last, narrow panel); the right half stays zero.
///
/// # Safety
/// `a` and `b` must address `k` steps of their layouts.
#[inline(always)]
pub(crate) unsafe fn accumulate<const NV: usize, const A_STEP: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
) -> Tile {
    let zero = f32x4_splat(0.0);
    let mut acc = [[zero; VECTORS]; MR];
    for r in 0..k {
        let row = b.add(r * NR);
        let bv = [
            v128_load(row as *const v128),
            v128_load(row.add(4) as *const v128),
        ];
        let ar = a.add(r * A_STEP);
        for (i, acc_row) in acc.iter_mut().enumerate() {
            let s = v128_load32_splat(ar.add(i) as *const u32);
            for v in 0..NV {
                acc_row[v] = f32x4_add(acc_row[v], f32x4_mul(s, bv[v]));
            }
        }
    }
    acc
}
