//! Implicit QL with Wilkinson-type shifts on a symmetric tridiagonal matrix (EISPACK `tql2`,
//! as in Numerical Recipes' `tqli`). Eigenvalues only costs O(n²); with vectors each plane
//! rotation is also applied to two rows of the accumulated `Zᵀ·Qᵀ`, O(n³) in all.

use super::simd;

/// The end of the unreduced block that starts at `l`: the first `m ≥ l` whose off-diagonal is
/// negligible, `negligible(e[m], |d[m]| + |d[m+1]|)`, or `n − 1`; the block `l..=m` splits off.
/// Shared by both QL variants, which differ only in the test ([`super::sterf`] holds squares).
#[inline(always)]
pub(super) unsafe fn block_end(
    d: *const f64,
    e: *const f64,
    l: usize,
    n: usize,
    negligible: impl Fn(f64, f64) -> bool,
) -> usize {
    let mut m = l;
    while m + 1 < n {
        if negligible(*e.add(m), simd::abs(*d.add(m)) + simd::abs(*d.add(m + 1))) {
            break;
        }
        m += 1;
    }
    m
}

/// Diagonalises the tridiagonal `(d[0..n], e[0..n−1])`; `e` is destroyed and needs `e[n−1]`
/// as room. On return `d` holds the eigenvalues (unsorted). When `w` is not null it is a
/// row-major `n`×`n` matrix whose rows receive every rotation (row `i` ends as the
/// eigenvector of `d[i]` if `w` started as `Qᵀ`).
///
/// Returns false when more than `30·n` QL iterations were needed in total.
pub unsafe fn tql(d: *mut f64, e: *mut f64, n: usize, w: *mut f64) -> bool {
    if n == 0 {
        return true;
    }
    *e.add(n - 1) = 0.0;
    let mut budget = 30 * n;
    for l in 0..n {
        loop {
            let m = block_end(d, e, l, n, |em, dd| simd::abs(em) <= f64::EPSILON * dd);
            if m == l {
                break;
            }
            if budget == 0 {
                return false;
            }
            budget -= 1;
            // Shift from the leading 2×2 block's eigenvalue closer to d[l].
            let mut g = (*d.add(l + 1) - *d.add(l)) / (2.0 * *e.add(l));
            let mut r = simd::hypot(g, 1.0);
            g = *d.add(m) - *d.add(l) + *e.add(l) / (g + simd::copysign(r, g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * *e.add(i);
                let b = c * *e.add(i);
                r = simd::hypot(f, g);
                *e.add(i + 1) = r;
                if r == 0.0 {
                    // The chase met an exact zero: deflate and restart this block.
                    *d.add(i + 1) -= p;
                    *e.add(m) = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = *d.add(i + 1) - p;
                r = (*d.add(i) - g) * s + 2.0 * c * b;
                p = s * r;
                *d.add(i + 1) = g + p;
                g = c * r - b;
                if !w.is_null() {
                    // z[:, i+1] = s·z[:, i] + c·z[:, i+1]; z[:, i] = c·z[:, i] − s·z[:, i+1],
                    // on rows of the transposed accumulation.
                    simd::rot(w.add(i * n), w.add((i + 1) * n), n, c, s);
                }
            }
            if underflow {
                continue;
            }
            *d.add(l) -= p;
            *e.add(l) = g;
            *e.add(m) = 0.0;
        }
    }
    true
}
