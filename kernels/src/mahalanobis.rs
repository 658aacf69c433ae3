//! Squared Mahalanobis distances of rows: `out[r] = ‖(x_r − μ)·W‖²` for a row-major float32
//! block `X` (`rows × cols`), a mean `μ` (`cols`) and a whitening matrix `W` (`cols × k`, with
//! `S⁺ = W·Wᵀ`), the scoring step of RX anomaly detection (`ops/rx.ts`).
//!
//! `W` arrives packed (see [`prism_mahalanobis_packed_len`]): column panels of [`PW`] = 8
//! columns, each `cols × 8` floats contiguous (`panel p, row c, lane q` at `p*8*cols + 8c + q`),
//! columns past `k` zero, so they add nothing to the sum of squares. The caller packs once per
//! fitted model; it is `O(cols·k)`.
//!
//! A lower-trapezoidal `W` (`W[c][j] = 0` for `c < j`, which `ops/_pinv.ts` makes by an
//! orthogonal rotation: `W·Q` whitens as `W` does) is flagged with `lower`: panel `p` then starts
//! at band `8p`, skipping the rows that are zero, which halves the work when `k = cols`
//! (`Σ_p (cols − 8p)` band steps instead of `cols` per panel).
//!
//! Loop nest, outermost first:
//! 1. micro-blocks of [`MI`] = 4 rows: centred (`x − μ`) into scratch, `4 × cols` floats, so
//!    `(X − μ)·W` is never materialised beyond one 4 × 8 tile;
//! 2. panels of `W`: 8 columns of the projection, kept in 4 × 2 = 8 `f32x4` accumulators;
//! 3. bands `c`: four broadcasts `(x − μ)[r][c]` times the two vectors `W[c][j..j+8]`.
//!    After the band loop the tile is squared and added into each row's score.
//!
//! Numerics: centring first matters (values near 1000 with spread 1 would otherwise cancel
//! catastrophically); `x − μ` is one float32 rounding, each projection a float32 dot product of
//! `cols` terms (error `≈ cols · 2⁻²⁴` relative to `Σ|d_c w_c|`), the final sum of at most
//! `k` squares likewise. Scores are float32 throughout, which the RX tolerance (1e-3) allows.

use crate::madd::madd;
use crate::params::{MR, NR};
use crate::status;
use core::arch::wasm32::{
    f32x4_extract_lane, f32x4_mul, f32x4_splat, f32x4_sub, v128, v128_load, v128_store,
};

// The register tile of `params`: [`NR`] projection columns per packed panel (two `f32x4`),
// [`MR`] rows scored together so their centred values share each load of a `W` panel row.
const PW: usize = NR;
const MI: usize = MR;

/// f32 scratch elements [`prism_mahalanobis_f32`] needs for `cols` bands.
#[no_mangle]
pub extern "C" fn prism_mahalanobis_scratch_len(cols: usize) -> usize {
    // 4 centred rows, padded to a multiple of 4 so row starts stay 16-byte aligned.
    MI * round_up4(cols)
}

/// f32 elements of the packed form of a `cols × k` whitening matrix.
#[no_mangle]
pub extern "C" fn prism_mahalanobis_packed_len(cols: usize, k: usize) -> usize {
    cols * PW * ((k + PW - 1) / PW)
}

fn round_up4(n: usize) -> usize {
    (n + 3) & !3
}

/// Writes `out[r] = ‖(x_r − μ)·W‖²` for `rows` rows of the row-major block at `x`.
///
/// `mu` holds `cols` floats, `wp` the packed `W` ([`prism_mahalanobis_packed_len`]`(cols, k)`
/// floats), `out` `rows` floats (overwritten), `scratch`
/// [`prism_mahalanobis_scratch_len`]`(cols)` floats (16-byte aligned, from `prism_alloc`).
/// `lower` nonzero promises `W[c][j] = 0` for `c < j` (see the module docs): each panel then
/// skips its leading zero rows.
/// Returns [`status::OK`], or [`status::INVALID_ARGUMENT`] when a size overflows or a needed
/// pointer is null. Non-finite input gives a non-finite score; the caller checks.
#[no_mangle]
pub extern "C" fn prism_mahalanobis_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    mu: *const f32,
    wp: *const f32,
    k: usize,
    lower: i32,
    out: *mut f32,
    scratch: *mut f32,
) -> i32 {
    let ok = rows.checked_mul(cols).and_then(|n| n.checked_mul(4)).is_some()
        && cols.checked_mul(PW * 4).and_then(|n| n.checked_mul(k + PW)).is_some();
    if !ok {
        return status::INVALID_ARGUMENT;
    }
    if rows == 0 {
        return status::OK;
    }
    if out.is_null() || (cols != 0 && (x.is_null() || mu.is_null() || scratch.is_null())) {
        return status::INVALID_ARGUMENT;
    }
    if k != 0 && cols != 0 && wp.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let panels = (k + PW - 1) / PW;
    let stride = round_up4(cols);
    let mut r0 = 0;
    while r0 < rows {
        let m = (rows - r0).min(MI);
        unsafe {
            centre(x.add(r0 * cols), m, cols, mu, scratch, stride);
            let mut score = [0.0f32; MI];
            for p in 0..panels {
                // Rows before `first` of a lower-trapezoidal panel are zero: skip them.
                let first = if lower != 0 { (p * PW).min(cols) } else { 0 };
                let panel = wp.add(p * PW * cols + first * PW);
                tile(scratch.add(first), stride, cols - first, panel, &mut score);
            }
            for (i, s) in score.iter().enumerate().take(m) {
                *out.add(r0 + i) = *s;
            }
        }
        r0 += m;
    }
    status::OK
}

/// Copies `m ≤ MI` rows minus `mu` into `scratch` (rows `stride` apart); rows past `m` are zero.
///
/// # Safety
/// `x` points at `m` rows of `cols` floats, `mu` at `cols`, `scratch` at `MI * stride`.
#[inline(always)]
unsafe fn centre(x: *const f32, m: usize, cols: usize, mu: *const f32, s: *mut f32, stride: usize) {
    let vec_cols = cols - cols % 4;
    for r in 0..MI {
        let dst = s.add(r * stride);
        if r >= m {
            for c in 0..cols {
                *dst.add(c) = 0.0;
            }
            continue;
        }
        let src = x.add(r * cols);
        let mut c = 0;
        while c < vec_cols {
            // Rows of x are not 16-byte aligned in general; wasm loads allow that.
            let v = f32x4_sub(v128_load(src.add(c) as *const v128), v128_load(mu.add(c) as *const v128));
            v128_store(dst.add(c) as *mut v128, v);
            c += 4;
        }
        while c < cols {
            *dst.add(c) = *src.add(c) - *mu.add(c);
            c += 1;
        }
    }
}

/// Projects the 4 centred rows onto one 8-column panel and adds the squares into `score`.
///
/// # Safety
/// `s` holds `MI` rows `stride` apart, each of at least `cols` floats; `panel` `cols × 8` floats.
#[inline(always)]
unsafe fn tile(s: *const f32, stride: usize, cols: usize, panel: *const f32, score: &mut [f32; MI]) {
    let z = f32x4_splat(0.0);
    let (mut a00, mut a01, mut a10, mut a11) = (z, z, z, z);
    let (mut a20, mut a21, mut a30, mut a31) = (z, z, z, z);
    let (s0, s1, s2, s3) = (s, s.add(stride), s.add(2 * stride), s.add(3 * stride));
    for c in 0..cols {
        let w = panel.add(c * PW);
        let w0 = v128_load(w as *const v128);
        let w1 = v128_load(w.add(4) as *const v128);
        let b0 = f32x4_splat(*s0.add(c));
        a00 = madd(b0, w0, a00);
        a01 = madd(b0, w1, a01);
        let b1 = f32x4_splat(*s1.add(c));
        a10 = madd(b1, w0, a10);
        a11 = madd(b1, w1, a11);
        let b2 = f32x4_splat(*s2.add(c));
        a20 = madd(b2, w0, a20);
        a21 = madd(b2, w1, a21);
        let b3 = f32x4_splat(*s3.add(c));
        a30 = madd(b3, w0, a30);
        a31 = madd(b3, w1, a31);
    }
    score[0] += squares(a00, a01);
    score[1] += squares(a10, a11);
    score[2] += squares(a20, a21);
    score[3] += squares(a30, a31);
}

#[inline(always)]
fn squares(a: v128, b: v128) -> f32 {
    let q = madd(a, a, f32x4_mul(b, b));
    f32x4_extract_lane::<0>(q)
        + f32x4_extract_lane::<1>(q)
        + f32x4_extract_lane::<2>(q)
        + f32x4_extract_lane::<3>(q)
}
