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
    let panel = |j0: usize, w: usize| Panel {
        src,
        j0,
        w,
        k,
        shift,
        out: out.add(j0 * k),
    };
    if src.cs != 1 {
        // A transposed operand (`rs == 1`): a panel column is contiguous in memory.
        let mut j0 = 0;
        while j0 < n {
            panel(j0, W.min(n - j0)).by_columns::<W>();
            j0 += W;
        }
        return;
    }
    // An untransposed operand: a panel row is W contiguous floats, copied as vectors; the last,
    // partial panel after the loop (measured: with the edge case inside the panel loop, SYRK
    // on 10 columns, where the edge is a fifth of the packing, ran up to 15% slower).
    let full = n / W;
    for s in 0..full {
        panel(s * W, W).as_vectors::<W>();
    }
    let w = n - full * W;
    if w > 0 {
        panel(full * W, w).edge_rows::<W>();
    }
}

/// One panel of [`pack`]: columns `j0 .. j0 + w` (`w <= W`) of the `k`-row operand `src`, into
/// `out` (`W * k` floats); lanes `w .. W` are zero.
#[derive(Clone, Copy)]
struct Panel<'a> {
    src: View,
    j0: usize,
    w: usize,
    k: usize,
    shift: Option<&'a Shift>,
    out: *mut f32,
}

impl Panel<'_> {
    /// Adds the panel's float32 column sums (`sums[q]` for column `j0 + q`) in float64.
    #[inline(always)]
    unsafe fn add_sums<const W: usize>(self, sums: &[f32; W]) {
        if let Some(s) = self.shift {
            for (q, sum) in sums.iter().take(self.w).enumerate() {
                *s.sums.add(self.j0 + q) += *sum as f64;
            }
        }
    }

    /// A panel of a transposed operand, column by column: unit-stride reads, writes `W` apart.
    #[inline(always)]
    unsafe fn by_columns<const W: usize>(self) {
        let (src, j0, w, k, shift, out) = (self.src, self.j0, self.w, self.k, self.shift, self.out);
        let mut sums = [0.0f32; W];
        for q in 0..W {
            let col = src.ptr.add((j0 + q.min(w - 1)) * src.cs);
            let by = shift.map_or(0.0, |s| *s.by.add(j0 + q.min(w - 1)));
            for p in 0..k {
                let x = if q < w {
                    *col.add(p * src.rs) - by
                } else {
                    0.0
                };
                *out.add(p * W + q) = x;
                sums[q] += x;
            }
        }
        self.add_sums(&sums);
    }

    /// A full panel (`w == W`) of an untransposed operand, row by row, as vectors.
    #[inline(always)]
    unsafe fn as_vectors<const W: usize>(self) {
        let (src, j0, k, shift, out) = (self.src, self.j0, self.k, self.shift, self.out);
        let zero = f32x4_splat(0.0);
        let (mut by, mut acc) = ([zero; VECTORS], [zero; VECTORS]);
        if let Some(s) = shift {
            for v in 0..W / 4 {
                by[v] = v128_load(s.by.add(j0 + 4 * v) as *const v128);
            }
        }
        // Rows until `end` rather than `0..k`: with a runtime stride the trip count is opaque
        // to LLVM, which then keeps the loop as written; unrolled in two, it ran slower.
        let (mut row, end, mut dst) = (src.ptr.add(j0), src.ptr.add(j0 + k * src.rs), out);
        while row != end {
            let mut x = [zero; VECTORS];
            for v in 0..W / 4 {
                x[v] = f32x4_sub(v128_load(row.add(4 * v) as *const v128), by[v]);
            }
            for v in 0..W / 4 {
                v128_store(dst.add(4 * v) as *mut v128, x[v]);
                acc[v] = f32x4_add(acc[v], x[v]);
            }
            row = row.add(src.rs);
            dst = dst.add(W);
        }
        let mut sums = [0.0f32; W];
        for v in 0..W / 4 {
            v128_store(sums.as_mut_ptr().add(4 * v) as *mut v128, acc[v]);
        }
        self.add_sums(&sums);
    }

    /// The last, partial panel (`w < W`) of an untransposed operand, row by row.
    #[inline(always)]
    unsafe fn edge_rows<const W: usize>(self) {
        let (src, j0, w, k, shift, out) = (self.src, self.j0, self.w, self.k, self.shift, self.out);
        let mut sums = [0.0f32; W];
        for p in 0..k {
            let row = src.ptr.add(p * src.rs + j0);
            for q in 0..W {
                let by = shift.map_or(0.0, |s| *s.by.add(j0 + q));
                let x = if q < w { *row.add(q) - by } else { 0.0 };
                *out.add(p * W + q) = x;
                sums[q] += x;
            }
        }
        self.add_sums(&sums);
    }
}

/// `round_up(x, to)`: the smallest multiple of `to` not below `x`.
pub(crate) fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}

const _: () = assert!(NR == 4 * VECTORS);
