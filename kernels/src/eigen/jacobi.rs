//! Singular values by one-sided (Hestenes) Jacobi: rotate pairs of columns of `A` until all
//! are mutually orthogonal; the singular values are then the column norms.
//!
//! Trade-off against the Gram route (`eigh(AᵀA)`): squaring `A` loses singular values below
//! about `sqrt(ε)·s₁`, while Jacobi keeps them to high *relative* accuracy. The price is
//! O(rows·cols²) per sweep and typically 6–12 sweeps, so use it for small or ill-conditioned
//! matrices, not for the large activation matrices the tracker sees.

use super::{safe_scale, simd, sort_descending};
use crate::status;

/// Sweeps before giving up; quadratic convergence makes 15 enough in practice.
const MAX_SWEEPS: usize = 60;

/// Scratch `f64` values [`prism_svd_jacobi_f64`] needs: `rows·cols` when `rows > cols` (the
/// transpose, so that columns are contiguous), else 0; saturates instead of overflowing.
#[no_mangle]
pub extern "C" fn prism_svd_jacobi_f64_scratch_len(rows: usize, cols: usize) -> usize {
    if rows > cols {
        rows.saturating_mul(cols)
    } else {
        0
    }
}

/// Singular values of `a` (row-major `rows`×`cols`, destroyed) into `values[0..min(rows,
/// cols)]`, sorted descending. `scratch` holds [`prism_svd_jacobi_f64_scratch_len`] values
/// (it may be null when that is 0).
///
/// Works on the `k = min(rows, cols)` vectors of length `max(rows, cols)`: the rows of `a`
/// when `rows ≤ cols` (the singular values of `Aᵀ` are those of `A`), else the columns,
/// copied into `scratch` as rows.
///
/// Returns [`status::NON_FINITE`] for NaN/±infinity in `a`, [`status::NO_CONVERGENCE`] when
/// `MAX_SWEEPS` sweeps still rotated.
#[no_mangle]
pub unsafe extern "C" fn prism_svd_jacobi_f64(
    a: *mut f64,
    rows: usize,
    cols: usize,
    values: *mut f64,
    scratch: *mut f64,
) -> i32 {
    let (k, len) = if rows > cols { (cols, rows) } else { (rows, cols) };
    if k == 0 {
        return status::OK;
    }
    let mut maxabs = 0.0f64;
    for i in 0..rows * cols {
        let x = *a.add(i);
        if !simd::is_finite(x) {
            return status::NON_FINITE;
        }
        maxabs = if simd::abs(x) > maxabs { simd::abs(x) } else { maxabs };
    }
    let u = if rows > cols {
        for i in 0..rows {
            for j in 0..cols {
                *scratch.add(j * rows + i) = *a.add(i * cols + j);
            }
        }
        scratch
    } else {
        a
    };
    let sc = safe_scale(maxabs);
    if sc != 1.0 {
        simd::scale(sc, u, k * len);
    }
    // dgesvj's threshold: a pair counts as orthogonal when |cos| ≤ sqrt(len)·ε; a tighter one
    // can stall on the rounding floor of the dot product.
    let tol = simd::sqrt(len as f64) * f64::EPSILON;
    let mut converged = false;
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..k {
            let up = u.add(p * len);
            for q in p + 1..k {
                let uq = u.add(q * len);
                let (app, aqq, apq) = simd::dot3(up, uq, len);
                let orthogonal = simd::abs(apq) <= tol * simd::sqrt(app) * simd::sqrt(aqq);
                if app == 0.0 || aqq == 0.0 || orthogonal {
                    continue;
                }
                rotated = true;
                // The rotation that zeroes the pair's off-diagonal Gram entry (smaller root).
                let zeta = (aqq - app) / (2.0 * apq);
                let t = if simd::abs(zeta) > 1e150 {
                    0.5 / zeta
                } else {
                    simd::copysign(1.0, zeta) / (simd::abs(zeta) + simd::sqrt(1.0 + zeta * zeta))
                };
                let c = 1.0 / simd::sqrt(1.0 + t * t);
                simd::rot(up, uq, len, c, c * t);
            }
        }
        if !rotated {
            converged = true;
            break;
        }
    }
    if !converged {
        return status::NO_CONVERGENCE;
    }
    for i in 0..k {
        let ui = u.add(i * len);
        *values.add(i) = simd::sqrt(simd::dot(ui, ui, len)) / sc;
    }
    sort_descending(values, k, core::ptr::null_mut());
    status::OK
}
