//! Gram and covariance kernels: the upper triangle of `DᵀD` for a tall row-major block
//! (`prism_syrk_shifted_f32`, with `D = X - shift`) and of `AAᵀ` for a wide one
//! (`prism_gram_rows_f32`). Both are the same computation on a packed operand — the symmetric
//! rank-k update `G += PᵀP` of a `k x n` panel set `P` — so they share the micro-kernel
//! ([`super::micro`]) and the packing ([`super::pack`]) with GEMM, and differ only in what they
//! pack:
//!
//! - SYRK packs `k` rows of `X`, shifted, as they lie (a row of `X` is a row of `P`);
//! - gram_rows packs `k` columns of `A` transposed (a column of `A` is a row of `P`).
//!
//! Loop nest of one block of `k <= GRAM_BLOCK` rows of `P`, outermost first:
//! 1. pack: `P` is stored as column panels of [`NR`] = 8 columns, each panel `k x 8` floats,
//!    contiguous (`panel p, row r, lane q` at `p*8k + 8r + q`); columns past `n` are zero;
//! 2. micro-tile rows: `R` columns `i0..i0+R` of `P` (`R` rows of G), read in place in the
//!    packed panels: `R` = [`MR`] = 4 in the plain build and for `n <= 16` (the shared
//!    micro-kernel, its 4 columns inside one panel, `A_STEP` = `NR`), 6 in the fused build
//!    ([`super::syrk_micro`], one pointer per column, so a tile may straddle two panels);
//! 3. micro-tile columns: one panel (8 columns of G, two `f32x4`), only from the diagonal on,
//!    so tiles below the diagonal are never computed;
//! 4. rows of `P`: the micro-kernel, `R` broadcasts `P[r][i]` times the two vectors
//!    `P[r][j..j+8]`, added into `R` x 2 `f32x4` accumulators.
//!
//! Why broadcast-times-row rather than dot products along packed columns: with row-major `X`
//! the broadcast form needs no transpose (packing is a plain shifted copy), and SYRK on tall
//! pixel matrices is the path that must be fastest. gram_rows pays a transpose, which costs
//! `O(n·k)` against `O(n²·k)` of arithmetic.
//!
//! Numerics (error analysis). Each entry of G is summed in one float32 lane over at most
//! [`GRAM_BLOCK`] = 128 consecutive products, then merged into the float64 output. Recursive
//! float32 summation of `m` terms has error at most `γ_m · Σ|d_i d_j|` with `γ_m ≈ m · 2⁻²⁴`
//! (`≈ 7.6e-6` for m = 128). When `d` has a non-zero mean `c` (the shift is a first row, not the
//! mean), partial sums grow linearly and the error is near `m · 2⁻²⁴ · |c_i c_j|` per block,
//! which the mean correction does not remove: hence a short block. Blocks are merged in float64,
//! so the relative error of the total does not grow with the number of rows. Measured: 1000 x 50
//! values near 1000 (uniform spread ±1) shifted by the first row give a covariance within
//! 4.8e-7 (relative Frobenius) of float64; 9.3e-7 with 256-row blocks.
//! The products themselves add `2⁻²⁴` each. The shift keeps `Σ|d_i d_j|` close to the centred
//! sum: for values near 1000 with spread 1, unshifted float32 sums would lose every digit of the
//! covariance; `x - shift` is exact in float32 when `x` and `shift` are within a factor of 2
//! (Sterbenz), so the only rounding is in the products and the sums. Column sums of `D` get the
//! same treatment (float32 over one block, then float64).

use super::micro::accumulate;
use super::syrk_micro::{accumulate_rows, Rows};
use super::pack::{pack, round_up, Shift, View};
use crate::params::{GRAM_BLOCK, MR, NR};
use crate::status;
use core::arch::wasm32::{
    f32x4_extract_lane, f64x2_add, f64x2_promote_low_f32x4, i64x2_shuffle, v128, v128_load,
    v128_store,
};

/// Scratch floats for a packed block of `n` columns, or `usize::MAX` when that overflows (so an
/// allocation of it fails rather than a kernel writing past a short buffer).
fn scratch_len(n: usize) -> usize {
    round_up(n, NR)
        .checked_mul(GRAM_BLOCK)
        .unwrap_or(usize::MAX)
}

/// The number of f32 values of scratch [`prism_syrk_shifted_f32`] needs for `cols` columns:
/// `round_up(cols, 8) * 128` (one packed block of 128 rows). Zero for `cols == 0`; `usize::MAX`
/// when the size overflows.
#[no_mangle]
pub extern "C" fn prism_syrk_scratch_len(cols: usize) -> usize {
    scratch_len(cols)
}

/// The number of f32 values of scratch [`prism_gram_rows_f32`] needs for `rows` rows:
/// `round_up(rows, 8) * 128` (128 columns of the input, transposed). Zero for `rows == 0`;
/// `usize::MAX` when the size overflows.
#[no_mangle]
pub extern "C" fn prism_gram_rows_scratch_len(rows: usize) -> usize {
    scratch_len(rows)
}
/// True when an `a x b` float32 buffer and an `n x n` float64 one fit the address space.
fn sizes_ok(a: usize, b: usize, n: usize) -> bool {
    let x = a.checked_mul(b).and_then(|v| v.checked_mul(4));
    let g = n.checked_mul(n).and_then(|v| v.checked_mul(8));
    x.is_some() && g.is_some() && scratch_len(n) != usize::MAX
}

/// Adds, for the row-major `rows x cols` block `x` and `d = x[r] - shift`, the column sums
/// `Σ_r d` into `sum[cols]` and the upper triangle (diagonal included) of `Σ_r dᵀd` into the
/// row-major `cols x cols` array `gram` (entries with `j >= i`; the rest is left untouched).
///
/// `shift` holds `cols` floats (zeros give a plain Gram); `scratch` holds
/// [`prism_syrk_scratch_len`]`(cols)` floats. Outputs are added to, so chunks of a stream
/// accumulate. Returns [`status::OK`] (also for `rows == 0` or `cols == 0`, which add nothing),
/// or [`status::INVALID_ARGUMENT`] when a size overflows the address space or a pointer is null
/// while there is work to do.
#[no_mangle]
pub extern "C" fn prism_syrk_shifted_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    shift: *const f32,
    sum: *mut f64,
    gram: *mut f64,
    scratch: *mut f32,
) -> i32 {
    if !sizes_ok(rows, cols, cols) {
        return status::INVALID_ARGUMENT;
    }
    if rows == 0 || cols == 0 {
        return status::OK;
    }
    if x.is_null() || shift.is_null() || sum.is_null() || gram.is_null() || scratch.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let mut r0 = 0;
    while r0 < rows {
        let k = GRAM_BLOCK.min(rows - r0);
        unsafe {
            let block = View::new(x.add(r0 * cols), cols, false);
            pack::<NR>(
                block,
                k,
                cols,
                Some(&Shift {
                    by: shift,
                    sums: sum,
                }),
                scratch,
            );
            syrk_packed(scratch, k, cols, gram);
        }
        r0 += k;
    }
    status::OK
}

/// Adds the upper triangle (diagonal included) of `G = A·Aᵀ` for the row-major `rows x cols`
/// block `a` into the row-major `rows x rows` array `gram` (entries with `j >= i`).
///
/// Meant for wide blocks (rows < cols), where this Gram is the smaller one. Dot products run in
/// float32 over blocks of 128 columns and are merged into float64. `scratch` holds
/// [`prism_gram_rows_scratch_len`]`(rows)` floats. Returns [`status::OK`] (also for an empty
/// block), or [`status::INVALID_ARGUMENT`] when a size overflows the address space or a pointer
/// is null while there is work to do.
#[no_mangle]
pub extern "C" fn prism_gram_rows_f32(
    a: *const f32,
    rows: usize,
    cols: usize,
    gram: *mut f64,
    scratch: *mut f32,
) -> i32 {
    if !sizes_ok(rows, cols, rows) {
        return status::INVALID_ARGUMENT;
    }
    if rows == 0 || cols == 0 {
        return status::OK;
    }
    if a.is_null() || gram.is_null() || scratch.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let mut c0 = 0;
    while c0 < cols {
        let k = GRAM_BLOCK.min(cols - c0);
        unsafe {
            // Row r of the packed operand is column c0 + r of `a`: the transposed view.
            pack::<NR>(View::new(a.add(c0), cols, true), k, rows, None, scratch);
            syrk_packed(scratch, k, rows, gram);
        }
        c0 += k;
    }
    status::OK
}

// ---------------------------------------------------------------------------------------------
// Driver and epilogue
// ---------------------------------------------------------------------------------------------

/// Rows of the register tile ([`crate::params::SYRK_MR_FMA`] or [`crate::params::SYRK_MR_SIMD`]).
#[cfg(prism_fma)]
const SYRK_MR: usize = crate::params::SYRK_MR_FMA;
#[cfg(not(prism_fma))]
const SYRK_MR: usize = crate::params::SYRK_MR_SIMD;

/// Adds the upper triangle of `PᵀP` for the packed `k x n` operand at `p` into the row-major
/// `n x n` float64 array `gram`.
///
/// Up to two panels (`n <= 16`) the 4-row tiles are kept in both builds: a wider tile's rows
/// past the diagonal are mostly wasted there (measured at 20,480 x 10: 6 rows 10 % slower; at
/// 16 columns even, at 50 and beyond 6 rows 10-40 % faster, most at 512).
unsafe fn syrk_packed(p: *const f32, k: usize, n: usize, gram: *mut f64) {
    if SYRK_MR == MR || n <= 2 * NR {
        syrk_packed_4(p, k, n, gram);
    } else {
        syrk_packed_rows::<SYRK_MR>(p, k, n, gram);
    }
}

/// [`syrk_packed`] with `R`-row tiles whose rows are read through column pointers
/// ([`accumulate_rows`]): rows `i0..i0+R`, every panel from the one holding column `i0` on.
/// Rows past `n` read column `n - 1` (in bounds) and are dropped by [`flush`].
unsafe fn syrk_packed_rows<const R: usize>(p: *const f32, k: usize, n: usize, gram: *mut f64) {
    let panels = round_up(n, NR) / NR;
    let stride = NR * k;
    let last_half = n - (panels - 1) * NR <= 4;
    let column = |c: usize| {
        let c = c.min(n - 1);
        p.add((c / NR) * stride + c % NR)
    };
    let mut i0 = 0;
    while i0 < n {
        let mut a = [p; R];
        for (i, ptr) in a.iter_mut().enumerate() {
            *ptr = column(i0 + i);
        }
        for pj in i0 / NR..panels {
            let b = p.add(pj * stride);
            if pj == panels - 1 && last_half {
                flush::<R, 1>(accumulate_rows::<R, 1>(k, a, b), gram, n, i0, pj * NR);
            } else {
                flush::<R, 2>(accumulate_rows::<R, 2>(k, a, b), gram, n, i0, pj * NR);
            }
        }
        i0 += R;
    }
}

/// [`syrk_packed`] with the shared 4 x 8 micro-kernel, whose 4 rows lie in one panel, so the
/// diagonal tile can start at column `i0` inside it.
unsafe fn syrk_packed_4(p: *const f32, k: usize, n: usize, gram: *mut f64) {
    let panels = round_up(n, NR) / NR;
    let stride = NR * k;
    // Columns of the last panel that hold data: a last panel of at most 4 uses one vector.
    let last_half = n - (panels - 1) * NR <= 4;
    let mut i0 = 0;
    while i0 < n {
        let pi = i0 / NR;
        let oi = i0 % NR;
        let a = p.add(pi * stride + oi);
        // The diagonal tile: from column i0 on, so the block left of the diagonal is skipped.
        if oi == 0 && !(pi == panels - 1 && last_half) {
            let acc = accumulate::<2, NR>(k, a, p.add(pi * stride));
            flush::<MR, 2>(acc, gram, n, i0, pi * NR);
        } else {
            let acc = accumulate::<1, NR>(k, a, p.add(pi * stride + oi));
            flush::<MR, 1>(acc, gram, n, i0, i0);
        }
        for pj in pi + 1..panels {
            let b = p.add(pj * stride);
            if pj == panels - 1 && last_half {
                let acc = accumulate::<1, NR>(k, a, b);
                flush::<MR, 1>(acc, gram, n, i0, pj * NR);
            } else {
                let acc = accumulate::<2, NR>(k, a, b);
                flush::<MR, 2>(acc, gram, n, i0, pj * NR);
            }
        }
        i0 += MR;
    }
}

/// Adds an `R`-row tile's float32 sums into `gram` in float64: rows `i0..i0+R`, columns
/// `j0..j0+4·NV`, keeping only entries inside `n x n` and on or above the diagonal.
#[inline(always)]
unsafe fn flush<const R: usize, const NV: usize>(
    acc: Rows<R>,
    gram: *mut f64,
    n: usize,
    i0: usize,
    j0: usize,
) {
    if j0 >= i0 + R - 1 && j0 + 4 * NV <= n && i0 + R <= n {
        // Every entry is wanted (the common case): two f64x2 updates per f32x4.
        for i in 0..R {
            let row = gram.add((i0 + i) * n + j0);
            for v in 0..NV {
                let lo = f64x2_promote_low_f32x4(acc[i][v]);
                let hi = f64x2_promote_low_f32x4(i64x2_shuffle::<1, 1>(acc[i][v], acc[i][v]));
                let dst = row.add(4 * v) as *mut v128;
                v128_store(dst, f64x2_add(v128_load(dst), lo));
                v128_store(dst.add(1), f64x2_add(v128_load(dst.add(1)), hi));
            }
        }
        return;
    }
    for i in 0..R {
        let gi = i0 + i;
        if gi >= n {
            break;
        }
        let row = gram.add(gi * n);
        for v in 0..NV {
            let lanes = [
                f32x4_extract_lane::<0>(acc[i][v]),
                f32x4_extract_lane::<1>(acc[i][v]),
                f32x4_extract_lane::<2>(acc[i][v]),
                f32x4_extract_lane::<3>(acc[i][v]),
            ];
            for (l, value) in lanes.iter().enumerate() {
                let j = j0 + 4 * v + l;
                if j >= gi && j < n {
                    *row.add(j) += *value as f64;
                }
            }
        }
    }
}
