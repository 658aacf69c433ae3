//! The float64 building blocks of the eigen kernels: scalar helpers that `core` lacks in `no_std`
//! (sqrt, abs, hypot) and the `f64x2` loops that carry the O(n³) work. The reduction's loops
//! (`symv_row`, `rank2_symv_row`, `rank2_symv_2rows`) multiply-add through
//! [`madd_f64`], fused in the FMA build; the plain build computes exactly what it did with
//! separate multiplies and adds.
//!
//! Every loop takes raw pointers and a length; the caller guarantees the ranges are valid. Loads
//! and stores are unaligned (`v128.load` has no alignment requirement), because rows of a
//! triangle start at every parity.

use crate::madd::madd_f64;
use core::arch::wasm32::{
    f64x2_add, f64x2_extract_lane, f64x2_mul, f64x2_splat, f64x2_sqrt, f64x2_sub, v128,
    v128_load, v128_store,
};

const SIGN: u64 = 1 << 63;
const EXP: u64 = 0x7ff0_0000_0000_0000;

#[inline(always)]
unsafe fn ld(p: *const f64) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn st(p: *mut f64, v: v128) {
    v128_store(p as *mut v128, v)
}

#[inline(always)]
fn hsum(v: v128) -> f64 {
    f64x2_extract_lane::<0>(v) + f64x2_extract_lane::<1>(v)
}

/// Square root (`f64::sqrt` lives in `std`; this lowers to one `f64x2.sqrt`).
#[inline(always)]
pub fn sqrt(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
}

/// Absolute value.
#[inline(always)]
pub fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !SIGN)
}

/// `|x|` with the sign of `y`.
#[inline(always)]
pub fn copysign(x: f64, y: f64) -> f64 {
    f64::from_bits((x.to_bits() & !SIGN) | (y.to_bits() & SIGN))
}

/// False for NaN and ±infinity.
#[inline(always)]
pub fn is_finite(x: f64) -> bool {
    x.to_bits() & EXP != EXP
}

/// `sqrt(x² + y²)` without overflow or underflow in the squares.
#[inline]
pub fn hypot(x: f64, y: f64) -> f64 {
    let (x, y) = (abs(x), abs(y));
    let (big, small) = if x > y { (x, y) } else { (y, x) };
    if big == 0.0 {
        return 0.0;
    }
    let r = small / big;
    big * sqrt(1.0 + r * r)
}

/// Multiplies `x[0..n]` by `alpha`.
#[inline]
pub unsafe fn scale(alpha: f64, x: *mut f64, n: usize) {
    let a = f64x2_splat(alpha);
    let mut i = 0;
    while i + 2 <= n {
        st(x.add(i), f64x2_mul(ld(x.add(i)), a));
        i += 2;
    }
    if i < n {
        *x.add(i) *= alpha;
    }
}

/// `sum x[i]·y[i]` over `0..n`, with four partial sums so the adds pipeline.
#[inline]
pub unsafe fn dot(x: *const f64, y: *const f64, n: usize) -> f64 {
    let (mut s0, mut s1) = (f64x2_splat(0.0), f64x2_splat(0.0));
    let mut i = 0;
    while i + 4 <= n {
        s0 = f64x2_add(s0, f64x2_mul(ld(x.add(i)), ld(y.add(i))));
        s1 = f64x2_add(s1, f64x2_mul(ld(x.add(i + 2)), ld(y.add(i + 2))));
        i += 4;
    }
    if i + 2 <= n {
        s0 = f64x2_add(s0, f64x2_mul(ld(x.add(i)), ld(y.add(i))));
        i += 2;
    }
    let mut s = hsum(f64x2_add(s0, s1));
    if i < n {
        s += *x.add(i) * *y.add(i);
    }
    s
}

/// `y[0..n] += alpha·x[0..n]`.
#[inline]
pub unsafe fn axpy(alpha: f64, x: *const f64, y: *mut f64, n: usize) {
    let a = f64x2_splat(alpha);
    let mut i = 0;
    while i + 2 <= n {
        st(y.add(i), f64x2_add(ld(y.add(i)), f64x2_mul(a, ld(x.add(i)))));
        i += 2;
    }
    if i < n {
        *y.add(i) += alpha * *x.add(i);
    }
}

/// `y[0..n] += x[0..n]`.
#[inline]
pub unsafe fn add_to(x: *const f64, y: *mut f64, n: usize) {
    let mut i = 0;
    while i + 2 <= n {
        st(y.add(i), f64x2_add(ld(y.add(i)), ld(x.add(i))));
        i += 2;
    }
    if i < n {
        *y.add(i) += *x.add(i);
    }
}

/// The plane rotation `x ← c·x − s·y`, `y ← s·x + c·y` over `0..n`: a QL step on two rows of
/// eigenvectors, and a Jacobi step on two columns (stored as rows) of the SVD input.
#[inline]
pub unsafe fn rot(x: *mut f64, y: *mut f64, n: usize, c: f64, s: f64) {
    let (cv, sv) = (f64x2_splat(c), f64x2_splat(s));
    let mut i = 0;
    while i + 2 <= n {
        let (a, b) = (ld(x.add(i)), ld(y.add(i)));
        st(x.add(i), f64x2_sub(f64x2_mul(cv, a), f64x2_mul(sv, b)));
        st(y.add(i), f64x2_add(f64x2_mul(sv, a), f64x2_mul(cv, b)));
        i += 2;
    }
    if i < n {
        let (a, b) = (*x.add(i), *y.add(i));
        *x.add(i) = c * a - s * b;
        *y.add(i) = s * a + c * b;
    }
}

/// `(x·x, y·y, x·y)` in one pass: the 2×2 Gram block one-sided Jacobi needs per pair.
#[inline]
pub unsafe fn dot3(x: *const f64, y: *const f64, n: usize) -> (f64, f64, f64) {
    let z = f64x2_splat(0.0);
    let (mut xx, mut yy, mut xy) = (z, z, z);
    let mut i = 0;
    while i + 2 <= n {
        let (a, b) = (ld(x.add(i)), ld(y.add(i)));
        xx = f64x2_add(xx, f64x2_mul(a, a));
        yy = f64x2_add(yy, f64x2_mul(b, b));
        xy = f64x2_add(xy, f64x2_mul(a, b));
        i += 2;
    }
    let (mut sxx, mut syy, mut sxy) = (hsum(xx), hsum(yy), hsum(xy));
    if i < n {
        let (a, b) = (*x.add(i), *y.add(i));
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
    }
    (sxx, syy, sxy)
}

/// One row of the upper-triangle symmetric product `p = A·v`, strictly right of the diagonal:
/// returns `sum row[c]·v[c]` (the row's own output) and adds `row[c]·vi` to `p[c]` (the
/// mirrored lower triangle), so each stored element is read once for both uses.
#[inline]
pub unsafe fn symv_row(row: *const f64, n: usize, v: *const f64, p: *mut f64, vi: f64) -> f64 {
    let viv = f64x2_splat(vi);
    let mut acc = f64x2_splat(0.0);
    let mut c = 0;
    while c + 2 <= n {
        let a = ld(row.add(c));
        acc = madd_f64(a, ld(v.add(c)), acc);
        st(p.add(c), madd_f64(a, viv, ld(p.add(c))));
        c += 2;
    }
    let mut s = hsum(acc);
    if c < n {
        let a = *row.add(c);
        s += a * *v.add(c);
        *p.add(c) += a * vi;
    }
    s
}

/// The rank-2 update `row[c] −= vi·w[c] + wi·v[c]` fused with [`symv_row`] of the updated
/// values against the next reflector `vn` (accumulating into `pn`, mirrored weight `vni`).
/// Fusing halves the passes over the trailing matrix: it is read and written once per step.
#[inline]
#[allow(clippy::too_many_arguments)]
pub unsafe fn rank2_symv_row(
    row: *mut f64,
    n: usize,
    v: *const f64,
    w: *const f64,
    vi: f64,
    wi: f64,
    vn: *const f64,
    pn: *mut f64,
    vni: f64,
) -> f64 {
    // Negated so the rank-2 update is two multiply-adds: row − vi·w − wi·v.
    let (viv, wiv, vniv) = (f64x2_splat(-vi), f64x2_splat(-wi), f64x2_splat(vni));
    let (mut acc0, mut acc1) = (f64x2_splat(0.0), f64x2_splat(0.0));
    let mut c = 0;
    while c + 4 <= n {
        let a0 = madd_f64(wiv, ld(v.add(c)), madd_f64(viv, ld(w.add(c)), ld(row.add(c))));
        let a1 = madd_f64(
            wiv,
            ld(v.add(c + 2)),
            madd_f64(viv, ld(w.add(c + 2)), ld(row.add(c + 2))),
        );
        st(row.add(c), a0);
        st(row.add(c + 2), a1);
        acc0 = madd_f64(a0, ld(vn.add(c)), acc0);
        acc1 = madd_f64(a1, ld(vn.add(c + 2)), acc1);
        st(pn.add(c), madd_f64(a0, vniv, ld(pn.add(c))));
        st(pn.add(c + 2), madd_f64(a1, vniv, ld(pn.add(c + 2))));
        c += 4;
    }
    let mut s = hsum(f64x2_add(acc0, acc1));
    while c < n {
        let a = *row.add(c) - vi * *w.add(c) - wi * *v.add(c);
        *row.add(c) = a;
        s += a * *vn.add(c);
        *pn.add(c) += a * vni;
        c += 1;
    }
    s
}

/// The rank-2 update alone, `row[c] −= vi·w[c] + wi·v[c]` over `0..n`.
#[inline]
pub unsafe fn rank2_row(row: *mut f64, n: usize, v: *const f64, w: *const f64, vi: f64, wi: f64) {
    let (viv, wiv) = (f64x2_splat(vi), f64x2_splat(wi));
    let mut c = 0;
    while c + 2 <= n {
        let a = f64x2_sub(
            f64x2_sub(ld(row.add(c)), f64x2_mul(viv, ld(w.add(c)))),
            f64x2_mul(wiv, ld(v.add(c))),
        );
        st(row.add(c), a);
        c += 2;
    }
    if c < n {
        *row.add(c) -= vi * *w.add(c) + wi * *v.add(c);
    }
}

/// [`rank2_symv_row`] on two consecutive rows over the same columns, so the shared vectors
/// (`v`, `w`, `vn`, `pn`) are loaded and `pn` stored once per two rows. `(vi, wi, vni)` are
/// the row scalars of the first row, `(vj, wj, vnj)` of the second; returns both row sums.
#[inline]
#[allow(clippy::too_many_arguments)]
pub unsafe fn rank2_symv_2rows(
    r0: *mut f64,
    r1: *mut f64,
    n: usize,
    v: *const f64,
    w: *const f64,
    vn: *const f64,
    pn: *mut f64,
    (vi, wi, vni): (f64, f64, f64),
    (vj, wj, vnj): (f64, f64, f64),
) -> (f64, f64) {
    // Negated so each rank-2 update is two multiply-adds: row − vi·w − wi·v.
    let (vi2, wi2, vni2) = (f64x2_splat(-vi), f64x2_splat(-wi), f64x2_splat(vni));
    let (vj2, wj2, vnj2) = (f64x2_splat(-vj), f64x2_splat(-wj), f64x2_splat(vnj));
    let (mut acc0, mut acc1) = (f64x2_splat(0.0), f64x2_splat(0.0));
    let mut c = 0;
    while c + 2 <= n {
        let (wc, vc, vnc) = (ld(w.add(c)), ld(v.add(c)), ld(vn.add(c)));
        let a0 = madd_f64(wi2, vc, madd_f64(vi2, wc, ld(r0.add(c))));
        let a1 = madd_f64(wj2, vc, madd_f64(vj2, wc, ld(r1.add(c))));
        st(r0.add(c), a0);
        st(r1.add(c), a1);
        acc0 = madd_f64(a0, vnc, acc0);
        acc1 = madd_f64(a1, vnc, acc1);
        // The two rows' products summed first, then added to pn: a short dependency chain.
        let pc = madd_f64(a0, vni2, f64x2_mul(a1, vnj2));
        st(pn.add(c), f64x2_add(ld(pn.add(c)), pc));
        c += 2;
    }
    let (mut s0, mut s1) = (hsum(acc0), hsum(acc1));
    if c < n {
        let (wc, vc, vnc) = (*w.add(c), *v.add(c), *vn.add(c));
        let a0 = *r0.add(c) - vi * wc - wi * vc;
        let a1 = *r1.add(c) - vj * wc - wj * vc;
        *r0.add(c) = a0;
        *r1.add(c) = a1;
        s0 += a0 * vnc;
        s1 += a1 * vnc;
        *pn.add(c) += a0 * vni + a1 * vnj;
    }
    (s0, s1)
}
