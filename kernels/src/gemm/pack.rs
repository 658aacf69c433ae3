//! Packing: copies a strided operand into contiguous panels the micro-kernel streams through
//! with unit stride. One routine packs every operand of GEMM and SYRK:
//!
//! - GEMM's B block: the `kc x nc` block of op(B), [`NR`]-wide panels;
//! - GEMM's A block: the transposed view of the `mc x kc` block of op(A), [`MR`]-wide panels
//!   (a column of a panel is then `MR` consecutive floats, what the micro-kernel broadcasts);
//! - SYRK's operand: `k` rows of `X` minus a shift, with the column sums of the shifted block;
//! - gram_rows' operand: the transposed view of `k` columns of `A`.
//!
//! Transposes are a pair of strides ([`View`]), so no operand is ever copied transposed first.

use super::micro::VECTORS;
use crate::params::NR;
use core::arch::wasm32::{f32x4_add, f32x4_splat, f32x4_sub, v128, v128_load, v128_store};

/// A strided read-only view of an operand: element `(i, j)` is at `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
pub(crate) struct View {
    pub ptr: *const f32,
    pub rs: usize,
    pub cs: usize,
}

impl View {
    /// Views a stored row-major operand with leading dimension `ld`, transposed when `trans`.
    pub fn new(ptr: *const f32, ld: usize, trans: bool) -> Self {
        if trans {
            View { ptr, rs: 1, cs: ld }
        } else {
            View { ptr, rs: ld, cs: 1 }
        }
    }

    /// The same elements with rows and columns swapped.
    pub fn t(self) -> Self {
        View {
            ptr: self.ptr,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The view whose element `(0, 0)` is this view's `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` must lie inside the operand.
    pub unsafe fn from(self, i: usize, j: usize) -> Self {
        View {
            ptr: self.ptr.add(i * self.rs + j * self.cs),
            ..self
        }
    }
}

/// What SYRK packs on top of a plain copy: every value minus `by[column]`, and the float32 sums
/// of the shifted columns over the block added into `sums[column]` in float64.
pub(crate) struct Shift {
    pub by: *const f32,
    pub sums: *mut f64,
}

/// Packs the `k x n` operand `src` into `W`-wide panels at `out`: panel `s`, row `p`, lane `q`
/// at `out[s * W * k + p * W + q]` holds `src(p, s * W + q)`, lanes past `n` zero, so the
/// micro-kernel never branches on the edge. The buffer holds `round_up(n, W) * k` floats.
/// `W` is [`crate::params::MR`] or [`NR`].
///
/// With a `shift`, stores `src - shift` and adds the column sums (see [`Shift`]); each column's
/// sum runs in float32 over the `k` rows, in row order, then goes to float64.
///
/// # Safety
/// `src` must address a `k x n` operand, `out` `round_up(n, W) * k` floats not overlapping it,
/// and a shift's pointers `n` values each.
#[inline(always)]
pub(crate) unsafe fn pack<const W: usize>(
    src: View,
    k: usize,
    n: usize,
    shift: Option<&Shift>,
    out: *mut f32,
) {
    let mut panel = out;
    let mut j0 = 0;
    while j0 < n {
        let w = W.min(n - j0);
        // The shift of column j0 + q (q < w); zero, which LLVM folds away, when there is none.
        // Read where it is used rather than held in locals: the edge loop below would otherwise
        // keep W more values live and spill.
        let by = |q: usize| shift.map_or(0.0, |s| *s.by.add(j0 + q));
        let mut sums = [0.0f32; W];
        if src.cs != 1 {
            // A transposed operand: a panel column is contiguous (`rs == 1`), so copy column
            // by column with unit-stride reads; the writes stay within one panel.
            for q in 0..W {
                let col = src.ptr.add((j0 + q.min(w - 1)) * src.cs);
                let by_q = by(q.min(w - 1));
                for p in 0..k {
                    let x = if q < w {
                        *col.add(p * src.rs) - by_q
                    } else {
                        0.0
                    };
                    *panel.add(p * W + q) = x;
                    sums[q] += x;
                }
            }
        } else if w == W {
            // A panel row is W contiguous floats: copy as vectors.
            let zero = f32x4_splat(0.0);
            let (mut by_v, mut acc) = ([zero; VECTORS], [zero; VECTORS]);
            if let Some(s) = shift {
                for v in 0..W / 4 {
                    by_v[v] = v128_load(s.by.add(j0 + 4 * v) as *const v128);
                }
            }
            for p in 0..k {
                let row = src.ptr.add(p * src.rs + j0);
                let mut x = [zero; VECTORS];
                for v in 0..W / 4 {
                    x[v] = f32x4_sub(v128_load(row.add(4 * v) as *const v128), by_v[v]);
                }
                for v in 0..W / 4 {
                    v128_store(panel.add(p * W + 4 * v) as *mut v128, x[v]);
                    acc[v] = f32x4_add(acc[v], x[v]);
                }
            }
            for v in 0..W / 4 {
                v128_store(sums.as_mut_ptr().add(4 * v) as *mut v128, acc[v]);
            }
        } else {
            // The last, partial panel of an untransposed operand: row by row, zero-padded.
            for p in 0..k {
                let row = src.ptr.add(p * src.rs + j0);
                for q in 0..W {
                    let x = if q < w { *row.add(q) - by(q) } else { 0.0 };
                    *panel.add(p * W + q) = x;
                    sums[q] += x;
                }
            }
        }
        if let Some(s) = shift {
            for q in 0..w {
                *s.sums.add(j0 + q) += sums[q] as f64;
            }
        }
        panel = panel.add(W * k);
        j0 += W;
    }
}

/// `round_up(x, to)`: the smallest multiple of `to` not below `x`.
pub(crate) fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}

const _: () = assert!(NR == 4 * VECTORS);
