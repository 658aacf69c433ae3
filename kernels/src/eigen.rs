//! Float64 dense symmetric eigensolver and exact singular values.
//!
//! - [`prism_eigh_f64`]: Householder tridiagonalisation (f64x2 SIMD, the rank-2 update fused
//!   with the next symmetric matrix-vector product) then implicit QL; eigenvectors optional.
//!   This is the route for RX's covariance pseudo-inverse (with vectors).
//! - [`prism_eigvalsh_f64`]: eigenvalues only, the route for singular values through a Gram
//!   matrix (`s = sqrt(max(λ, 0))`): the same reduction, then root-free QL (`sterf.rs`,
//!   1.3–1.6× faster than `tql` values-only at n ≤ 256, where it is most of the time) and an
//!   O(n log n) sort. [`prism_tridiagonal_eigvals_f64`]
//!   is its second phase alone.
//! - [`prism_eigvalsh_team_f64`] with [`prism_tridiag_assist_f64`] on a second thread: the
//!   same, with the reduction's steps shared between the two (`eigen/team.rs`); each step is
//!   cut into chunks by its size alone and their partial products are added in chunk order,
//!   so the results are bit-identical to [`prism_eigvalsh_f64`] whoever ran which chunk.
//! - [`jacobi::prism_svd_jacobi_f64`]: one-sided Jacobi on the matrix itself, for callers who
//!   need small singular values that the Gram route squares away.
//!
//! Matrices are row-major float64. Inputs are destroyed. Values come back sorted descending.

mod jacobi;
mod ql;
pub(crate) mod simd;
mod sterf;
mod team;
mod tridiag;

pub use jacobi::{prism_svd_jacobi_f64, prism_svd_jacobi_f64_scratch_len};

use crate::params::EIGEN_CHUNKS;
use crate::status;
use team::Team;

/// Matrices whose largest magnitude lies outside `[2^−SAFE_EXP, 2^SAFE_EXP]` are scaled by a
/// power of two (exact) before the reduction, so that sums of squares of a row neither
/// overflow nor underflow to zero; results are scaled back.
pub(crate) const SAFE_EXP: i32 = 300;

/// Scratch `f64` values [`prism_eigh_f64`] needs for order `n`: `(3 + EIGEN_CHUNKS)·n`
/// (off-diagonal, reflector scales, two product vectors and the other chunks' product
/// vectors). The same with or without eigenvectors.
#[no_mangle]
pub extern "C" fn prism_eigh_f64_scratch_len(n: usize) -> usize {
    n.saturating_mul(3 + EIGEN_CHUNKS)
}

/// Scratch `f64` values [`prism_eigvalsh_f64`] and [`prism_eigvalsh_team_f64`] need for order
/// `n`: as [`prism_eigh_f64_scratch_len`].
#[no_mangle]
pub extern "C" fn prism_eigvalsh_f64_scratch_len(n: usize) -> usize {
    prism_eigh_f64_scratch_len(n)
}

/// Bytes of the shared state of a two-thread reduction ([`prism_eigvalsh_team_f64`] and
/// [`prism_tridiag_assist_f64`]); allocate it zeroed, 16-byte aligned.
#[no_mangle]
pub extern "C" fn prism_tridiag_team_bytes() -> usize {
    core::mem::size_of::<Team>()
}

/// A power of two `2^k` that brings `maxabs` near 1, or 1 when it is already in the safe range.
pub(crate) fn safe_scale(maxabs: f64) -> f64 {
    let lo = f64::from_bits(((1023 - SAFE_EXP) as u64) << 52);
    let hi = f64::from_bits(((1023 + SAFE_EXP) as u64) << 52);
    if maxabs == 0.0 || (maxabs >= lo && maxabs <= hi) {
        return 1.0;
    }
    // 2^(−exponent of maxabs); subnormals get 2^1000 and a second look is not needed at
    // this precision.
    let exp = ((maxabs.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let k = if exp <= -1023 { 1000 } else { (-exp).clamp(-1000, 1000) };
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// Eigenvalues (and optionally eigenvectors) of a real symmetric matrix.
///
/// - `a`: row-major `n`×`n`; only the upper triangle (`a[i·n + j]`, `j ≥ i`) is read, the
///   strict lower triangle is ignored. Destroyed on return.
/// - `values`: receives the `n` eigenvalues, sorted descending.
/// - `vectors`: null for eigenvalues only; otherwise `n`×`n` row-major receiving the
///   orthonormal eigenvectors, eigenvector `k` (for `values[k]`) in column `k`:
///   `vectors[i·n + k]`. Signs are arbitrary.
/// - `scratch`: [`prism_eigh_f64_scratch_len`]`(n)` values.
///
/// Returns [`status::NON_FINITE`] when the upper triangle holds NaN or ±infinity (outputs
/// untouched), [`status::NO_CONVERGENCE`] when QL needed more than `30·n` iterations.
#[no_mangle]
pub unsafe extern "C" fn prism_eigh_f64(
    a: *mut f64,
    n: usize,
    values: *mut f64,
    vectors: *mut f64,
    scratch: *mut f64,
) -> i32 {
    if n == 0 {
        return status::OK;
    }
    let sc = match scale_upper(a, n) {
        Some(sc) => sc,
        None => return status::NON_FINITE,
    };
    let (e, tau) = (scratch, scratch.add(n));
    let (p, pn) = (scratch.add(2 * n), scratch.add(3 * n));
    let partials = scratch.add(4 * n);
    tridiag::tridiagonalize(a, n, values, e, tau, p, pn, partials, None);
    if !vectors.is_null() {
        tridiag::form_qt(a, n, tau, vectors);
    }
    if !ql::tql(values, e, n, vectors) {
        return status::NO_CONVERGENCE;
    }
    sort_descending(values, n, vectors);
    if !vectors.is_null() {
        transpose_in_place(vectors, n);
    }
    if sc != 1.0 {
        simd::scale(1.0 / sc, values, n);
    }
    status::OK
}

/// Eigenvalues of a real symmetric matrix, without eigenvectors: the singular-value route.
///
/// - `a`: row-major `n`×`n`; only the upper triangle is read. Destroyed on return.
/// - `values`: receives the `n` eigenvalues, sorted descending.
/// - `scratch`: [`prism_eigvalsh_f64_scratch_len`]`(n)` values. On success `scratch[0..n]` holds
///   the diagonal and `scratch[n..2n]` the off-diagonal of the tridiagonal matrix the reduction
///   produced (times the power-of-two scale applied to badly scaled input), so that a benchmark
///   can time the second phase alone with [`prism_tridiagonal_eigvals_f64`].
///
/// Returns [`status::NON_FINITE`] when the upper triangle holds NaN or ±infinity (outputs
/// untouched), [`status::NO_CONVERGENCE`] when QL needed more than `30·n` iterations.
#[no_mangle]
pub unsafe extern "C" fn prism_eigvalsh_f64(
    a: *mut f64,
    n: usize,
    values: *mut f64,
    scratch: *mut f64,
) -> i32 {
    eigvalsh(a, n, values, scratch, None)
}

/// [`prism_eigvalsh_f64`] with a helper: the same arguments and results (bit-identical), and
/// `team`, [`prism_tridiag_team_bytes`] zeroed bytes that a [`prism_tridiag_assist_f64`] call
/// on another thread may share. This thread never waits for that call to start; it sets the
/// team's done flag before returning, so the assistant returns too.
#[no_mangle]
pub unsafe extern "C" fn prism_eigvalsh_team_f64(
    a: *mut f64,
    n: usize,
    values: *mut f64,
    scratch: *mut f64,
    team: *mut u8,
) -> i32 {
    let team = team as *mut Team;
    let status = eigvalsh(a, n, values, scratch, Some(team));
    team::finish(team);
    status
}

/// The assistant of [`prism_eigvalsh_team_f64`], on another thread over the same memory: runs
/// chunks of the reduction's steps until the leader sets the done flag of `team` (at once when
/// it already has). Returns 0.
#[no_mangle]
pub unsafe extern "C" fn prism_tridiag_assist_f64(team: *mut u8) -> i32 {
    team::assist(team as *mut Team);
    status::OK
}

/// Sets the done flag of `team`, for a host whose leader call never ran (it threw before), so
/// the assistant returns.
#[no_mangle]
pub unsafe extern "C" fn prism_tridiag_team_close(team: *mut u8) {
    team::finish(team as *mut Team);
}

/// 0 while no [`prism_tridiag_assist_f64`] call has started on `team`, else 1 plus the chunks
/// it has run: once the leader has returned, a started call returns at once, so the host may
/// wait for it.
#[no_mangle]
pub unsafe extern "C" fn prism_tridiag_team_joined(team: *mut u8) -> u32 {
    team::joined(team as *mut Team)
}

/// 1 when the assistant on `team` was let go, or gave up, because it did not get a core (the
/// machine is busy with other work), else 0: the host may then run alone for a while.
#[no_mangle]
pub unsafe extern "C" fn prism_tridiag_team_stalled(team: *mut u8) -> u32 {
    team::stalled(team as *mut Team) as u32
}

unsafe fn eigvalsh(
    a: *mut f64,
    n: usize,
    values: *mut f64,
    scratch: *mut f64,
    team: Option<*mut Team>,
) -> i32 {
    if n == 0 {
        return status::OK;
    }
    let sc = match scale_upper(a, n) {
        Some(sc) => sc,
        None => return status::NON_FINITE,
    };
    let (e, tau) = (scratch.add(2 * n), scratch.add(3 * n));
    // The reduction's scratch vectors p, pn lie over scratch[0..2n]; (d, e) are copied there
    // once it is done (O(n)), for a caller timing the phases.
    let partials = scratch.add(4 * n);
    tridiag::tridiagonalize(a, n, values, e, tau, scratch, scratch.add(n), partials, team);
    if let Some(team) = team {
        // The assistant is not needed for the rest.
        team::finish(team);
    }
    core::ptr::copy_nonoverlapping(values, scratch, n);
    core::ptr::copy_nonoverlapping(e, scratch.add(n), n);
    tridiagonal_values(values, e, n, sc)
}

/// Root-free QL on the tridiagonal `(d, e)`, scaled by `sc`: its eigenvalues into `d`, sorted
/// descending and scaled back.
unsafe fn tridiagonal_values(d: *mut f64, e: *mut f64, n: usize, sc: f64) -> i32 {
    if !sterf::sterf(d, e, n) {
        return status::NO_CONVERGENCE;
    }
    heap_sort_descending(d, n);
    if sc != 1.0 {
        simd::scale(1.0 / sc, d, n);
    }
    status::OK
}

/// Eigenvalues of the symmetric tridiagonal matrix with diagonal `d[0..n]` and off-diagonal
/// `e[0..n−1]`, by root-free QL, into `d`, sorted descending. `e` holds `n` values (the last is
/// room) and is destroyed.
///
/// Returns [`status::NON_FINITE`] when `d` or `e[0..n−1]` holds NaN or ±infinity (nothing
/// changed), [`status::NO_CONVERGENCE`] when QL needed more than `30·n` iterations.
#[no_mangle]
pub unsafe extern "C" fn prism_tridiagonal_eigvals_f64(d: *mut f64, e: *mut f64, n: usize) -> i32 {
    if n == 0 {
        return status::OK;
    }
    let mut maxabs = 0.0f64;
    for i in 0..n {
        let (x, y) = (*d.add(i), if i + 1 < n { *e.add(i) } else { 0.0 });
        if !simd::is_finite(x) || !simd::is_finite(y) {
            return status::NON_FINITE;
        }
        maxabs = maxabs.max(simd::abs(x)).max(simd::abs(y));
    }
    let sc = safe_scale(maxabs);
    if sc != 1.0 {
        simd::scale(sc, d, n);
        simd::scale(sc, e, n - 1);
    }
    tridiagonal_values(d, e, n, sc)
}

/// Checks the upper triangle of `a` for NaN/±infinity (`None`) and scales it by
/// [`safe_scale`] of its largest magnitude; returns the scale applied.
unsafe fn scale_upper(a: *mut f64, n: usize) -> Option<f64> {
    let mut maxabs = 0.0f64;
    for i in 0..n {
        for j in i..n {
            let x = *a.add(i * n + j);
            if !simd::is_finite(x) {
                return None;
            }
            let ax = simd::abs(x);
            if ax > maxabs {
                maxabs = ax;
            }
        }
    }
    let sc = safe_scale(maxabs);
    if sc != 1.0 {
        for i in 0..n {
            simd::scale(sc, a.add(i * n + i), n - i);
        }
    }
    Some(sc)
}

/// Sorts `x[0..n]` descending in O(n log n) (a min-heap, popped to the back): the values-only
/// paths have no rows to carry, and a quadratic sort costs a millisecond at n = 1024.
unsafe fn heap_sort_descending(x: *mut f64, n: usize) {
    let sift = |mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && *x.add(child + 1) < *x.add(child) {
            child += 1;
        }
        if *x.add(child) < *x.add(root) {
            core::ptr::swap(x.add(child), x.add(root));
            root = child;
        } else {
            break;
        }
    };
    for root in (0..n / 2).rev() {
        sift(root, n);
    }
    for end in (1..n).rev() {
        core::ptr::swap(x, x.add(end));
        sift(0, end);
    }
}

/// Sorts `values[0..n]` descending; when `rows` is not null, row `i` of the `n`×`n` matrix
/// moves with `values[i]`. Selection sort: at most `n` row swaps, O(n²) compares.
pub(crate) unsafe fn sort_descending(values: *mut f64, n: usize, rows: *mut f64) {
    for i in 0..n {
        let mut best = i;
        for j in i + 1..n {
            if *values.add(j) > *values.add(best) {
                best = j;
            }
        }
        if best != i {
            core::ptr::swap(values.add(i), values.add(best));
            if !rows.is_null() {
                core::ptr::swap_nonoverlapping(rows.add(i * n), rows.add(best * n), n);
            }
        }
    }
}

unsafe fn transpose_in_place(m: *mut f64, n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            core::ptr::swap(m.add(i * n + j), m.add(j * n + i));
        }
    }
}
