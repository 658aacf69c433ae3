//! The micro-kernel: one register tile of [`MR`] x [`NR`] float32 sums, shared by GEMM and SYRK.
//!
//! Each step `r` of the depth loop broadcasts `MR` values of a packed A operand and multiplies
//! them by `NR` values (two `f32x4`) of a packed B panel, adding into `MR x 2` accumulators:
//! `acc[i][v] += a[r * A_STEP + i] * b[r * NR + 4v .. 4v + 4]`. The operands come from
//! [`super::pack::pack`] (or, for convolution, input rows reached through an indirection:
//! [`accumulate_indirect`]); what is done with the tile afterwards (GEMM's `alpha`/`beta` store into
//! float32 C, SYRK's float64 upper-triangle merge) is the caller's epilogue.
//!
//! Register budget: 8 accumulators + 2 B vectors + 1 broadcast + 1 product fit the 16 SIMD
//! registers V8 has on x86-64 (one of them its scratch) without spilling.
//!
//! Why `MR` broadcast loads, not one vector load of the `MR` contiguous values and a lane splat
//! (`i32x4.shuffle`) each: Deno does not enable V8's WebAssembly trap handler
//! (denoland/deno#35658), so every load is preceded by a software bounds check (`lea`, `cmp`,
//! `jae` in the machine code), and 6 loads per 8 multiply-adds looked worth halving. Measured
//! (one thread, old and new binary alternating in one process, AMD EPYC Zen 5, 2026-12-08):
//! GEMM 5-7 % slower in both builds, SYRK of the plain build 1-3 % faster; with 4-row shuffled
//! tiles in place of the fused build's 6-row ones, SYRK at 100-512 columns 5-8 % slower.

use crate::params::{MR, NR};
use crate::madd::madd;
use core::arch::wasm32::{f32x4_splat, v128, v128_load, v128_load32_splat};

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
    let mut acc = [[f32x4_splat(0.0); VECTORS]; MR];
    let step = |acc: &mut Tile, r: usize| {
        let ar = a.add(r * A_STEP);
        rank1::<NV>(acc, [ar, ar.add(1), ar.add(2), ar.add(3)], b.add(r * NR));
    };
    // Four steps per iteration, written out, as in `syrk_micro::accumulate_rows`: measured on
    // one thread (AMD EPYC, same run, 256 x 64 x 576 to 4096 x 256 x 256), GEMM ran 13-17 %
    // faster in the fused build and 30-39 % in the plain one than with one step per iteration.
    let mut r = 0;
    while r + 4 <= k {
        step(&mut acc, r);
        step(&mut acc, r + 1);
        step(&mut acc, r + 2);
        step(&mut acc, r + 3);
        r += 4;
    }
    while r < k {
        step(&mut acc, r);
        r += 1;
    }
    acc
}

/// The same tile with the broadcast operand read through an indirection (convolution as an
/// indirect GEMM: no packed A, no im2col copy). The depth runs over `groups` runs of `kt` steps;
/// in run `t`, tile row `i` reads its `kt` values contiguously from `rows[t * MR + i]` (a run of
/// input rows of the image, or a shared zero row for padding). `b` is an [`NR`]-wide packed
/// panel of `groups * kt` rows, read in order as in [`accumulate`].
///
/// # Safety
/// `rows` must hold `groups * MR` pointers to `kt` readable floats each, and `b` address
/// `groups * kt` rows of an `NR`-wide panel.
#[inline(always)]
pub(crate) unsafe fn accumulate_indirect(
    groups: usize,
    kt: usize,
    rows: *const *const f32,
    b: *const f32,
) -> Tile {
    let mut acc = [[f32x4_splat(0.0); VECTORS]; MR];
    let mut bt = b;
    for t in 0..groups {
        let mut a = [0, 1, 2, 3].map(|i| *rows.add(t * MR + i));
        // Two steps per iteration: the second reads at constant offsets from the same
        // pointers (folded into the loads' offset immediates), halving the pointer updates
        // and loop tests, which otherwise are a fifth of the loop's instructions.
        for _ in 0..kt / 2 {
            rank1::<2>(&mut acc, a, bt);
            rank1::<2>(&mut acc, [a[0].add(1), a[1].add(1), a[2].add(1), a[3].add(1)], bt.add(NR));
            a = [a[0].add(2), a[1].add(2), a[2].add(2), a[3].add(2)];
            bt = bt.add(2 * NR);
        }
        if kt % 2 == 1 {
            rank1::<2>(&mut acc, a, bt);
            bt = bt.add(NR);
        }
    }
    acc
}

/// One step of the depth loop: `acc[i][v] += *a[i] * b_row[4v .. 4v + 4]` for `v < NV`.
#[inline(always)]
unsafe fn rank1<const NV: usize>(acc: &mut Tile, a: [*const f32; MR], b_row: *const f32) {
    let bv = [
        v128_load(b_row as *const v128),
        v128_load(b_row.add(4) as *const v128),
    ];
    for (i, acc_row) in acc.iter_mut().enumerate() {
        let s = v128_load32_splat(a[i] as *const u32);
        for v in 0..NV {
            acc_row[v] = madd(s, bv[v], acc_row[v]);
        }
    }
}
