//! Float64 dense symmetric eigensolver and exact singular values.
//!
//! - [`prism_eigh_f64`]: Householder tridiagonalisation (f64x2 SIMD, the rank-2 update fused
//!   with the next symmetric matrix-vector product) then implicit QL; eigenvectors optional.
//!   This is the route for RX's covariance pseudo-inverse and for singular values through a
//!   Gram matrix (`s = sqrt(max(λ, 0))`).
//! - [`jacobi::prism_svd_jacobi_f64`]: one-sided Jacobi on the matrix itself, for callers who
//!   need small singular values that the Gram route squares away.
//!
//! Matrices are row-major float64. Inputs are destroyed. Values come back sorted descending.

mod jacobi;
mod ql;
pub(crate) mod simd;
mod tridiag;

pub use jacobi::{prism_svd_jacobi_f64, prism_svd_jacobi_f64_scratch_len};

use crate::status;

/// Matrices whose largest magnitude lies outside `[2^−SAFE_EXP, 2^SAFE_EXP]` are scaled by a
/// power of two (exact) before the reduction, so that sums of squares of a row neither
/// overflow nor underflow to zero; results are scaled back.
pub(crate) const SAFE_EXP: i32 = 300;

/// Scratch `f64` values [`prism_eigh_f64`] needs for order `n`: `4·n` (off-diagonal,
/// reflector scales and two product vectors). The same with or without eigenvectors.
#[no_mangle]
pub extern "C" fn prism_eigh_f64_scratch_len(n: usize) -> usize {
    n.saturating_mul(4)
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
    let mut maxabs = 0.0f64;
    for i in 0..n {
        for j in i..n {
            let x = *a.add(i * n + j);
            if !simd::is_finite(x) {
                return status::NON_FINITE;
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
    let (e, tau) = (scratch, scratch.add(n));
    let (p, pn) = (scratch.add(2 * n), scratch.add(3 * n));
    tridiag::tridiagonalize(a, n, values, e, tau, p, pn);
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
