//! Gradients of a dense convolution's weights and bias: `dW[t, ci, o] = Σ_p x(p, t)[ci] ·
//! dy[p, o]` over every output pixel `p` of the batch, `dB[o] = Σ_p dy[p, o]`.
//!
//! Per block of [`CONV_BLOCK`] output pixels, the input rows each pixel reads (zeros in the
//! padding) are gathered into a `block × (kh·kw·c)` matrix `G`, and `Gᵀ · dY` (a `kh·kw·c × oc`
//! product, depth `block`) runs through the shared `prism_sgemm` (its packing absorbs the
//! transpose). Each block's float32 result is merged into the caller's float64 accumulators,
//! so the error stays at one block's float32 sum however many pixels the batch has.

use super::Geom;
use crate::gemm::sgemm::{prism_sgemm, prism_sgemm_scratch_len};
use core::arch::wasm32::{f32x4_splat, v128, v128_load, v128_store};
use crate::params::CONV_BLOCK;
use crate::status;

/// `(gathered floats, product floats, sgemm scratch floats)` of one block.
fn parts(g: &Geom) -> Option<(usize, usize, usize)> {
    let k = g.taps().checked_mul(g.c)?;
    let gathered = k.checked_mul(CONV_BLOCK)?;
    let product = k.checked_mul(g.oc)?;
    Some((
        gathered,
        product,
        prism_sgemm_scratch_len(k, g.oc, CONV_BLOCK),
    ))
}

/// Bytes of scratch [`prism_conv_wgrad_f32`] needs: a gathered block (`256 · kh·kw·c` floats),
/// a float32 product (`kh·kw·c · oc`) and `prism_sgemm`'s scratch. Zero for an invalid
/// descriptor (or one in mode 1).
#[no_mangle]
pub extern "C" fn prism_conv_wgrad_scratch_len(geom: *const u32) -> usize {
    match unsafe { Geom::read(geom) }
        .filter(|g| !g.transposed)
        .and_then(|g| parts(&g))
    {
        Some((a, b, c)) => a
            .checked_add(b)
            .and_then(|s| s.checked_add(c))
            .map_or(0, |s| s * 4),
        None => 0,
    }
}

/// Adds the weight gradient of output pixels `m0..m1` (flat over the batch, as in
/// `prism_conv_forward_f32`) into `dw` (`kh · kw · c · oc` float64, HWIO) and, when `db` is not
/// null, the bias gradient into `db` (`oc` float64).
///
/// - `geom`: the forward convolution (mode 0); `x` its input, `dy` the gradient of its output
///   (before the activation: the caller applies the activation's derivative);
/// - `scratch`: [`prism_conv_wgrad_scratch_len`] bytes, not shared with another call.
///
/// Float32 sums run over blocks of 256 pixels starting at `m0`: workers cut ranges at multiples
/// of 256 so a split run sums the same blocks. Returns [`status::OK`], [`status::NON_FINITE`]
/// when a block's sum is NaN or infinite, or [`status::INVALID_ARGUMENT`] for an invalid
/// descriptor, mode 1, a range outside the batch or a null pointer.
#[no_mangle]
pub extern "C" fn prism_conv_wgrad_f32(
    geom: *const u32,
    x: *const f32,
    dy: *const f32,
    dw: *mut f64,
    db: *mut f64,
    scratch: *mut f32,
    m0: usize,
    m1: usize,
) -> i32 {
    let g = match unsafe { Geom::read(geom) } {
        Some(g) if !g.transposed && g.range_ok(m0, m1) => g,
        _ => return status::INVALID_ARGUMENT,
    };
    let (gathered, product, _) = match parts(&g) {
        Some(p) => p,
        None => return status::INVALID_ARGUMENT,
    };
    if m0 == m1 {
        return status::OK;
    }
    if x.is_null() || dy.is_null() || dw.is_null() || scratch.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let k = g.taps() * g.c;
    let mut finite = true;
    // SAFETY: buffers of the documented sizes; source rows are bounds-checked by `Geom`.
    unsafe {
        let gbuf = scratch;
        let cbuf = scratch.add(gathered);
        let sgemm_scratch = scratch.add(gathered + product);
        let mut m = m0;
        while m < m1 {
            let p = CONV_BLOCK.min(m1 - m);
            let run = g.kw * g.c;
            for i in 0..p {
                let row = gbuf.add(i * k);
                // A kernel row's taps are `kw · c` contiguous input floats (see
                // `Geom::each_row_run`): copied as one run where no tap is in the left or right
                // padding, tap by tap elsewhere.
                let by_rows =
                    g.each_row_run(x, m + i, |ky, src| copy_or_zero(src, row.add(ky * run), run));
                if !by_rows {
                    g.each_tap(x, m + i, |t, src| copy_or_zero(src, row.add(t * g.c), g.c));
                }
            }
            let dyb = dy.add(m * g.oc);
            let s = prism_sgemm(
                1,
                0,
                k,
                g.oc,
                p,
                1.0,
                gbuf,
                k,
                dyb,
                g.oc,
                0.0,
                cbuf,
                g.oc,
                sgemm_scratch,
            );
            if s != status::OK {
                return s;
            }
            for j in 0..product {
                let v = *cbuf.add(j);
                finite &= v.is_finite();
                *dw.add(j) += v as f64;
            }
            if !db.is_null() {
                for o in 0..g.oc {
                    let mut sum = 0.0f32;
                    for i in 0..p {
                        sum += *dyb.add(i * g.oc + o);
                    }
                    finite &= sum.is_finite();
                    *db.add(o) += sum as f64;
                }
            }
            m += p;
        }
    }
    status::finite_or_error(finite)
}

/// Copies `len` floats from `src` to `out`, or writes `len` zeros when `src` is `None`
/// (padding), four at a time.
///
/// # Safety
/// `src` (when some) and `out` must address `len` floats.
#[inline(always)]
unsafe fn copy_or_zero(src: Option<*const f32>, out: *mut f32, len: usize) {
    let quads = len / 4 * 4;
    match src {
        Some(r) => {
            for j in (0..quads).step_by(4) {
                v128_store(out.add(j) as *mut v128, v128_load(r.add(j) as *const v128));
            }
            for j in quads..len {
                *out.add(j) = *r.add(j);
            }
        }
        None => {
            for j in (0..quads).step_by(4) {
                v128_store(out.add(j) as *mut v128, f32x4_splat(0.0));
            }
            for j in quads..len {
                *out.add(j) = 0.0;
            }
        }
    }
}
