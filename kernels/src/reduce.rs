//! Column reductions over a row-major float32 block.
//!
//! Loop nest of `prism_column_sums_f32`, outermost first:
//! 1. column panels of [`PANEL`] columns: the panel's partial sums live in [`LANES`] `f32x4`
//!    accumulators, which the engine keeps in registers;
//! 2. row blocks of [`ROW_BLOCK`] rows: float32 sums over at most this many rows, then merged
//!    into the float64 output, so the float32 error does not grow with the input length;
//! 3. rows: one contiguous load of the panel per row.
//!
//! Columns past the last multiple of 4 are summed the same way in scalar float32.

use crate::params::COLUMN_SUMS_BLOCK;
use crate::status;
use core::arch::wasm32::{f32x4_add, f32x4_extract_lane, f32x4_splat, v128, v128_load};

/// Rows summed in float32 before the partial sums are merged into float64 (set in `params`).
const ROW_BLOCK: usize = COLUMN_SUMS_BLOCK;
/// `f32x4` accumulators per column panel.
const LANES: usize = 8;
/// Columns per panel: 8 vectors of 4.
const PANEL: usize = LANES * 4;

/// Adds the sum of each column of the `rows × cols` row-major block at `x` to `out[col]`.
///
/// `out` must hold `cols` float64 values; it is added to, not overwritten, so chunks of a stream
/// accumulate into one result. Returns [`status::OK`], or [`status::INVALID_ARGUMENT`] when
/// `rows * cols * 4` overflows the address space or a pointer is null while its size is not zero.
#[no_mangle]
pub extern "C" fn prism_column_sums_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    out: *mut f64,
) -> i32 {
    let bytes = match rows.checked_mul(cols).and_then(|n| n.checked_mul(4)) {
        Some(b) => b,
        None => return status::INVALID_ARGUMENT,
    };
    if cols.checked_mul(8).is_none() || (cols != 0 && out.is_null()) || (bytes != 0 && x.is_null())
    {
        return status::INVALID_ARGUMENT;
    }
    if bytes == 0 {
        return status::OK;
    }
    let vector_cols = cols - cols % 4;
    let mut c0 = 0;
    while c0 < vector_cols {
        let width = (vector_cols - c0).min(PANEL);
        unsafe { panel_sums(x.add(c0), rows, cols, width, out.add(c0)) };
        c0 += width;
    }
    for c in vector_cols..cols {
        unsafe { scalar_column_sum(x.add(c), rows, cols, out.add(c)) };
    }
    status::OK
}

/// Sums `width` columns (a multiple of 4, at most [`PANEL`]) starting at `x`, rows `cols` apart.
///
/// # Safety
/// `x` must point at `rows` rows of `cols` floats, `out` at `width` doubles.
#[inline(always)]
unsafe fn panel_sums(x: *const f32, rows: usize, cols: usize, width: usize, out: *mut f64) {
    let vectors = width / 4;
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        let mut acc = [f32x4_splat(0.0); LANES];
        for r in r0..r1 {
            let row = x.add(r * cols);
            // A fixed trip count with a guard unrolls into straight-line loads and adds.
            for (v, a) in acc.iter_mut().enumerate() {
                if v < vectors {
                    *a = f32x4_add(*a, v128_load(row.add(v * 4) as *const v128));
                }
            }
        }
        for (v, a) in acc.iter().enumerate().take(vectors) {
            flush(*a, out.add(v * 4));
        }
        r0 = r1;
    }
}

/// Adds the four lanes of `a` to `out[0..4]` in float64.
#[inline(always)]
unsafe fn flush(a: v128, out: *mut f64) {
    *out += f32x4_extract_lane::<0>(a) as f64;
    *out.add(1) += f32x4_extract_lane::<1>(a) as f64;
    *out.add(2) += f32x4_extract_lane::<2>(a) as f64;
    *out.add(3) += f32x4_extract_lane::<3>(a) as f64;
}

/// Sums one column, float32 within a row block and float64 across blocks.
///
/// # Safety
/// `x` must point at the column's first value in `rows` rows of `cols` floats.
unsafe fn scalar_column_sum(x: *const f32, rows: usize, cols: usize, out: *mut f64) {
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        let mut acc = 0.0f32;
        for r in r0..r1 {
            acc += *x.add(r * cols);
        }
        *out += acc as f64;
        r0 = r1;
    }
}
