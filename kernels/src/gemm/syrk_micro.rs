//! SYRK's register tile: `R` rows x [`NR`] columns of float32 sums, the broadcast operand read
//! through `R` column pointers into the packed operand (so a tile's rows may straddle two
//! panels, and `R` need not divide [`NR`]).
//!
//! Why not [`super::micro::accumulate`] (4 x 8) everywhere: with a fused multiply-add (4 cycles
//! of latency, two per cycle), its 8 accumulators are just enough chains to keep both FMA units
//! busy, so any delay in feeding them shows; 6 rows give 12 chains, and 8 loads per 12
//! multiply-adds instead of 6 per 8. 12 accumulators + 2 row vectors + 1 broadcast are the 15
//! SIMD registers V8 allocates on x86-64. The plain build needs one more register for each
//! product before its add, so it keeps 4 rows ([`crate::params::SYRK_MR_SIMD`]).

use crate::madd::madd;
use crate::params::NR;
use core::arch::wasm32::{f32x4_splat, v128, v128_load, v128_load32_splat};

/// An `R`-row tile: row `i`, vector `v` holds columns `4v .. 4v + 4` of the panel.
pub(crate) type Rows<const R: usize> = [[v128; 2]; R];

/// Sums `k` rank-1 updates into a fresh `R x 8` tile: step `r` adds `*(a[i] + r * NR)` times
/// `b[r * NR + 4v .. 4v + 4]` into row `i`, vector `v < NV` (`NV = 1`: the right half stays 0).
///
/// # Safety
/// Each `a[i]` and `b` must address `k` rows of an [`NR`]-wide packed panel.
#[inline(always)]
pub(crate) unsafe fn accumulate_rows<const R: usize, const NV: usize>(
    k: usize,
    a: [*const f32; R],
    b: *const f32,
) -> Rows<R> {
    let mut acc = [[f32x4_splat(0.0); 2]; R];
    // Four steps per iteration, written out (a `for` over them was compiled back into a loop
    // with an address add per load): the R + 1 pointers then advance once per four steps.
    // Measured on one thread (AMD EPYC, 20,480 rows, same run): 2-6 % faster at 50-512
    // columns than one step per iteration; two steps per iteration were slower.
    let mut r = 0;
    while r + 4 <= k {
        acc = step::<R, NV>(acc, a, b, r);
        acc = step::<R, NV>(acc, a, b, r + 1);
        acc = step::<R, NV>(acc, a, b, r + 2);
        acc = step::<R, NV>(acc, a, b, r + 3);
        r += 4;
    }
    while r < k {
        acc = step::<R, NV>(acc, a, b, r);
        r += 1;
    }
    acc
}

/// One rank-1 step of [`accumulate_rows`]: row `r` of the panel.
#[inline(always)]
unsafe fn step<const R: usize, const NV: usize>(
    mut acc: Rows<R>,
    a: [*const f32; R],
    b: *const f32,
    r: usize,
) -> Rows<R> {
    let row = b.add(r * NR);
    let bv = [
        v128_load(row as *const v128),
        v128_load(row.add(4) as *const v128),
    ];
    for i in 0..R {
        let s = v128_load32_splat(a[i].add(r * NR) as *const u32);
        for v in 0..NV {
            acc[i][v] = madd(s, bv[v], acc[i][v]);
        }
    }
    acc
}
