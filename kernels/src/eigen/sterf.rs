//! Eigenvalues of a symmetric tridiagonal matrix by root-free implicit QL (Pal–Walker–Kahan,
//! LAPACK `dsterf`): the iteration carries the squares of the off-diagonal, so a plane rotation
//! costs two divisions and no square root, where `ql::tql` needs a `hypot` (a square root) and
//! two divisions per rotation on one serial dependency chain. Values only: without rotations to
//! record this is the cheaper route, and the one the singular-value path takes.

use super::ql::block_end;
use super::simd;

/// Diagonalises `(d[0..n], e[0..n−1])`; `e` is destroyed and needs `e[n−1]` as room. On return
/// `d` holds the eigenvalues (unsorted). The caller has scaled the matrix so that the squares of
/// its entries neither overflow nor underflow (`eigen::safe_scale`).
///
/// Returns false when more than `30·n` QL iterations were needed in total.
pub unsafe fn sterf(d: *mut f64, e: *mut f64, n: usize) -> bool {
    if n == 0 {
        return true;
    }
    *e.add(n - 1) = 0.0;
    for i in 0..n - 1 {
        *e.add(i) *= *e.add(i);
    }
    let eps2 = f64::EPSILON * f64::EPSILON;
    let mut budget = 30 * n;
    for l in 0..n {
        loop {
            // The same split test as `ql::tql`, squared: |e_m| ≤ ε·(|d_m| + |d_{m+1}|).
            let m = block_end(d, e, l, n, |em2, dd| em2 <= eps2 * dd * dd);
            if m == l {
                break;
            }
            if budget == 0 {
                return false;
            }
            budget -= 1;
            // Wilkinson-type shift from the leading 2×2 block, as `dsterf`.
            let p0 = *d.add(l);
            let rte = simd::sqrt(*e.add(l));
            let g = (*d.add(l + 1) - p0) / (2.0 * rte);
            let r = simd::hypot(g, 1.0);
            let sigma = p0 - rte / (g + simd::copysign(r, g));
            let (mut c, mut s) = (1.0, 0.0);
            let mut gamma = *d.add(m) - sigma;
            let mut p = gamma * gamma;
            let mut i = m;
            while i > l {
                i -= 1;
                let bb = *e.add(i);
                // 1/p starts off the dependency chain (p is known before r is), so the chain
                // carries one division, c = p/r, instead of two: γ²/c = γ²·(r·(1/p)).
                let inv_p = 1.0 / p;
                let r = p + bb;
                if i + 1 != m {
                    *e.add(i + 1) = s * r;
                }
                let oldc = c;
                c = p / r;
                s = bb / r;
                let oldgam = gamma;
                let alpha = *d.add(i);
                gamma = c * (alpha - sigma) - s * oldgam;
                *d.add(i + 1) = oldgam + (alpha - gamma);
                let ratio = r * inv_p; // = 1/c; infinite only when p is 0 or subnormal
                p = if c == 0.0 {
                    oldc * bb
                } else if ratio <= f64::MAX {
                    gamma * gamma * ratio
                } else {
                    gamma * gamma / c
                };
            }
            *e.add(l) = s * p;
            *d.add(l) = sigma + gamma;
        }
    }
    true
}
