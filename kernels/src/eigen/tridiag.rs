//! Householder reduction of a symmetric matrix to tridiagonal form, `T = Qᵀ·A·Q`, working on
//! the upper triangle of a row-major matrix (LAPACK `dsytd2` order, rows instead of columns).
//!
//! Step `k` takes row `k` right of the diagonal, `x = A[k, k+1..n]`, and builds the reflector
//! `H_k = I − tau_k·v·vᵀ` with `H_k·x = e_k·e₁`; then the trailing block `B = A[k+1.., k+1..]`
//! becomes `H_k·B·H_k = B − v·wᵀ − w·vᵀ` with `p = tau·B·v`, `w = p − (tau/2)(pᵀv)·v`.
//! `v` is kept in row `k` (with `v[0] = 1` written explicitly), `tau_k` in `tau[k]`, so the
//! eigenvector path can rebuild `Q = H_0·H_1·…·H_{n−2}`.
//!
//! The cost is in the two passes over `B` per step (the product `B·v` and the rank-2 update);
//! [`simd::rank2_symv_row`] fuses the update of step `k` with the product of step `k+1`, so
//! each step reads and writes the triangle once.

use super::simd;
use super::team::{self, Team};
use crate::params::{EIGEN_CHUNKS, EIGEN_CHUNK_AREA};

/// Turns `x[0..m]` into a Householder vector in place; returns `(tau, beta)` where
/// `(I − tau·v·vᵀ)·x = beta·e₁` and `v = x` afterwards, `v[0] = 1`. `tau = 0` means `H = I`.
unsafe fn householder(x: *mut f64, m: usize) -> (f64, f64) {
    let alpha = *x;
    // The caller scaled the matrix into a range where these squares neither overflow nor
    // lose the vector (see `eigen::prism_eigh_f64`).
    let xnorm = simd::sqrt(simd::dot(x.add(1), x.add(1), m - 1));
    *x = 1.0;
    if xnorm == 0.0 {
        return (0.0, alpha);
    }
    let beta = -simd::copysign(simd::hypot(alpha, xnorm), alpha);
    simd::scale(1.0 / (alpha - beta), x.add(1), m - 1);
    ((beta - alpha) / beta, beta)
}

/// Reduces `a` (row-major `n`×`n`, upper triangle read, `n ≥ 1`) to tridiagonal form: the
/// diagonal goes to `d[0..n]`, the off-diagonal to `e[0..n−1]` (and `e[n−1] = 0`), the
/// reflectors stay in the rows of `a` right of the diagonal and in `tau[0..n−1]`.
/// `p` and `pn` are scratch of `n` values each, `partials` of `(EIGEN_CHUNKS − 1)·n`.
///
/// Each step's fused pass over rows `1..m` of the trailing block is cut into [`chunk_count`]
/// chunks (a function of `m` alone) that accumulate into their own vectors, added into `pn`
/// in chunk order; with a `team`, an assistant thread ([`team::assist`]) may run some of them.
/// Either way every sum is formed in the same order, so the result is bit-identical whoever
/// ran what, and identical to a call without a team.
#[allow(clippy::too_many_arguments)]
pub unsafe fn tridiagonalize(
    a: *mut f64,
    n: usize,
    d: *mut f64,
    e: *mut f64,
    tau: *mut f64,
    mut p: *mut f64,
    mut pn: *mut f64,
    partials: *mut f64,
    team: Option<*mut Team>,
) {
    *e.add(n - 1) = 0.0;
    *tau.add(n - 1) = 0.0;
    if n == 1 {
        *d = *a;
        return;
    }
    let at = |i: usize, j: usize| a.add(i * n + j);

    // Step 0's reflector and its product p = B·v, unfused.
    let (t0, b0) = householder(at(0, 1), n - 1);
    *tau = t0;
    *e = b0;
    symv(a, n, 1, at(0, 1), p);

    for k in 0..n - 1 {
        let m = n - k - 1;
        let v = at(k, k + 1) as *const f64;
        let t = *tau.add(k);
        if t != 0.0 {
            // w = tau·p − (tau/2)(tau·pᵀv)·v, in place of p.
            simd::scale(t, p, m);
            let kk = 0.5 * t * simd::dot(p, v, m);
            simd::axpy(-kk, v, p, m);
        }
        *d.add(k) = *at(k, k);
        if k + 1 == n - 1 {
            break;
        }
        // Row 0 of the trailing block first: the next reflector is built from it.
        let i0 = k + 1;
        if t != 0.0 {
            simd::rank2_row(at(i0, i0), m, v, p, *v, *p);
        }
        let (tn, bn) = householder(at(i0, i0 + 1), m - 1);
        *tau.add(i0) = tn;
        *e.add(i0) = bn;
        // Rows 1.. of the block: update with (v, w) and accumulate pn = B'·vn in the same pass.
        let step = Step { a, n, k, t, w: p, pn, partials };
        let chunks = chunk_count(m);
        match team {
            Some(team) if chunks > 1 && !team::retired(team) => {
                team::lead(team, &step, (k + 1) as u32, chunks)
            }
            _ => {
                for c in 0..chunks {
                    run_chunk(&step, c, chunks);
                }
            }
        }
        for c in 1..chunks {
            let r0 = chunk_start(m, c, chunks);
            if r0 < m {
                simd::add_to(partials.add((c - 1) * n + r0 - 1), pn.add(r0 - 1), m - r0);
            }
        }
        core::mem::swap(&mut p, &mut pn);
    }
    *d.add(n - 1) = *at(n - 1, n - 1);
}

/// What a chunk of step `k` needs: the matrix, the reflector's `tau`, `w` (in the step's `p`),
/// the product vector `pn` (chunk 0's) and the other chunks' vectors. The reflectors `v` and
/// `vn` are read from rows `k` and `k + 1` of `a`.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Step {
    pub a: *mut f64,
    pub n: usize,
    pub k: usize,
    pub t: f64,
    pub w: *const f64,
    pub pn: *mut f64,
    pub partials: *mut f64,
}

/// Chunks of a step whose trailing block has order `m` (rows `1..m` are cut).
pub fn chunk_count(m: usize) -> usize {
    (m * m / 2 / EIGEN_CHUNK_AREA).clamp(1, EIGEN_CHUNKS)
}

/// The first row of chunk `c` of `chunks` (`c = chunks` gives `m`): rows `r..m` hold about
/// `(1 − c/chunks)` of the triangle, and chunks start at odd rows so the row pairs of
/// [`run_chunk`] are those of one whole pass.
pub fn chunk_start(m: usize, c: usize, chunks: usize) -> usize {
    if c == 0 {
        return 1;
    }
    if c >= chunks {
        return m;
    }
    let rest = (m - 1) as f64 * simd::sqrt(1.0 - c as f64 / chunks as f64);
    let r = m - ((rest + 0.5) as usize).min(m - 1);
    (1 + ((r - 1) & !1)).min(m)
}

/// Runs chunk `c` of a step: the rank-2 update of its rows of the trailing block fused with
/// their share of `pn = B'·vn`, summed into the chunk's own vector (zeroed first over the
/// entries it touches, `r0 − 1..m − 1`), two rows at a time where the reflector is not trivial.
pub unsafe fn run_chunk(st: &Step, c: usize, chunks: usize) {
    let Step { a, n, k, t, w: p, pn, partials } = *st;
    let m = n - k - 1;
    let (r0, r1) = (chunk_start(m, c, chunks), chunk_start(m, c + 1, chunks));
    if r0 >= r1 {
        return;
    }
    let at = |i: usize, j: usize| a.add(i * n + j);
    let v = at(k, k + 1) as *const f64;
    let vn = at(k + 1, k + 2) as *const f64;
    let pn = if c == 0 { pn } else { partials.add((c - 1) * n) };
    for j in r0 - 1..m - 1 {
        *pn.add(j) = 0.0;
    }
    let mut r = r0;
    while t != 0.0 && r + 1 < r1 {
        let i = k + 1 + r;
        let (r0, r1) = (at(i, i), at(i + 1, i + 1));
        let s0 = (*v.add(r), *p.add(r), *vn.add(r - 1));
        let s1 = (*v.add(r + 1), *p.add(r + 1), *vn.add(r));
        // The three elements left of the shared columns: both diagonals and a[i, i+1].
        let d0 = *r0 - 2.0 * s0.0 * s0.1;
        let x = *r0.add(1) - s0.0 * *p.add(r + 1) - s0.1 * *v.add(r + 1);
        let d1 = *r1 - 2.0 * s1.0 * s1.1;
        *r0 = d0;
        *r0.add(1) = x;
        *r1 = d1;
        let (a0, a1) = simd::rank2_symv_2rows(
            r0.add(2),
            r1.add(1),
            m - r - 2,
            v.add(r + 2),
            p.add(r + 2),
            vn.add(r + 1),
            pn.add(r + 1),
            s0,
            s1,
        );
        *pn.add(r - 1) += d0 * s0.2 + x * s1.2 + a0;
        *pn.add(r) += x * s0.2 + d1 * s1.2 + a1;
        r += 2;
    }
    for r in r..r1 {
        let i = k + 1 + r;
        let row = at(i, i);
        let (vi, wi, vni) = (*v.add(r), *p.add(r), *vn.add(r - 1));
        if t != 0.0 {
            let diag = *row - vi * *p.add(r) - wi * *v.add(r);
            *row = diag;
            let s = simd::rank2_symv_row(
                row.add(1),
                m - r - 1,
                v.add(r + 1),
                p.add(r + 1),
                vi,
                wi,
                vn.add(r),
                pn.add(r),
                vni,
            );
            *pn.add(r - 1) += diag * vni + s;
        } else {
            let s = simd::symv_row(row.add(1), m - r - 1, vn.add(r), pn.add(r), vni);
            *pn.add(r - 1) += *row * vni + s;
        }
    }
}

/// `p[0..n−k] = B·v` for the trailing block `B = A[k.., k..]` (upper triangle read).
unsafe fn symv(a: *const f64, n: usize, k: usize, v: *const f64, p: *mut f64) {
    let m = n - k;
    for j in 0..m {
        *p.add(j) = 0.0;
    }
    for r in 0..m {
        let i = k + r;
        let row = a.add(i * n + i);
        let vi = *v.add(r);
        let s = simd::symv_row(row.add(1), m - r - 1, v.add(r + 1), p.add(r + 1), vi);
        *p.add(r) += *row * vi + s;
    }
}

/// Writes `Qᵀ = H_{n−2}·…·H_0` into `q` (row-major `n`×`n`), from the reflectors that
/// [`tridiagonalize`] left in `a` and `tau`. Built as `((I·H_{n−2})·H_{n−3})·…·H_0`: when
/// `H_k` is applied, only rows and columns `k+1..n` of the product differ from the identity.
pub unsafe fn form_qt(a: *const f64, n: usize, tau: *const f64, q: *mut f64) {
    for i in 0..n {
        for j in 0..n {
            *q.add(i * n + j) = if i == j { 1.0 } else { 0.0 };
        }
    }
    for k in (0..n.saturating_sub(1)).rev() {
        let t = *tau.add(k);
        if t == 0.0 {
            continue;
        }
        let m = n - k - 1;
        let v = a.add(k * n + k + 1);
        for i in k + 1..n {
            let row = q.add(i * n + k + 1);
            let s = simd::dot(row, v, m);
            simd::axpy(-t * s, v, row, m);
        }
    }
}
