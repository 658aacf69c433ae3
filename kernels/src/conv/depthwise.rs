//! Depthwise convolution (weights `[kh, kw, c]`, one filter per channel) in one-pass kernels:
//! each destination pixel's channel row is built in place from the source rows its taps read,
//! a vector of 4 channels at a time, then finished (bias, activation) while still in L1. There
//! is no GEMM here: a depthwise layer does `kh·kw` multiply-adds per value it reads.
//!
//! - [`prism_conv_depthwise_f32`]: forward (mode 0) or input gradient / transposed (mode 1);
//! - [`prism_conv_depthwise_wgrad_f32`]: weight and bias gradients, float32 over blocks of
//!   [`CONV_BLOCK`] pixels merged into float64.

use super::act::finish_row;
use super::Geom;
use crate::params::CONV_BLOCK;
use crate::status;
use crate::madd::madd;
use core::arch::wasm32::{v128, v128_load, v128_store};

/// `out[i] += a[i] * b[i]` for `i < len`.
#[inline(always)]
unsafe fn add_products(out: *mut f32, a: *const f32, b: *const f32, len: usize) {
    let mut i = 0;
    while i + 4 <= len {
        let o = out.add(i) as *mut v128;
        let (va, vb) = (v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128));
        v128_store(o, madd(va, vb, v128_load(o)));
        i += 4;
    }
    while i < len {
        *out.add(i) += *a.add(i) * *b.add(i);
        i += 1;
    }
}

/// Zeroes `len` floats (a plain loop: `core::ptr::write_bytes` links core's memset, which the
/// shared-memory build refuses).
#[inline(always)]
unsafe fn fill_zero(out: *mut f32, len: usize) {
    for i in 0..len {
        *out.add(i) = 0.0;
    }
}

/// Reads a depthwise descriptor: valid, with as many output as input channels.
unsafe fn depthwise_geom(geom: *const u32) -> Option<Geom> {
    Geom::read(geom).filter(|g| g.c == g.oc)
}

/// Depthwise convolution over flat destination pixels `m0..m1` (as `prism_conv_forward_f32`):
/// `dst = act(depthwise(src, w) + bias)` in the mode of `geom` (mode 0 forward, mode 1 the
/// input gradient). `w` holds `kh · kw · c` floats (`[kh, kw, c, 1]`), `bias` `c` floats or null.
///
/// Returns [`status::OK`], [`status::NON_FINITE`] when a value before the activation is NaN or
/// infinite, or [`status::INVALID_ARGUMENT`] for an invalid descriptor (or `c != oc`), a range
/// outside the batch or a null pointer.
#[no_mangle]
pub extern "C" fn prism_conv_depthwise_f32(
    geom: *const u32,
    src: *const f32,
    w: *const f32,
    bias: *const f32,
    dst: *mut f32,
    m0: usize,
    m1: usize,
) -> i32 {
    let g = match unsafe { depthwise_geom(geom) } {
        Some(g) if g.range_ok(m0, m1) => g,
        _ => return status::INVALID_ARGUMENT,
    };
    if m0 == m1 {
        return status::OK;
    }
    if src.is_null() || w.is_null() || dst.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let c = g.c;
    let mut finite = true;
    // SAFETY: buffers of the documented sizes; source rows are bounds-checked by `Geom`.
    unsafe {
        for m in m0..m1 {
            let out = dst.add(m * c);
            fill_zero(out, c);
            g.each_tap(src, m, |t, row| {
                if let Some(row) = row {
                    add_products(out, row, w.add(t * c), c);
                }
            });
            finite &= finish_row(out, c, bias, 0, g.act);
        }
    }
    status::finite_or_error(finite)
}

/// Floats of scratch [`prism_conv_depthwise_wgrad_f32`] needs: `(kh · kw + 1) · c`. Zero for an
/// invalid descriptor.
#[no_mangle]
pub extern "C" fn prism_conv_depthwise_wgrad_scratch_len(geom: *const u32) -> usize {
    match unsafe { depthwise_geom(geom) } {
        Some(g) => (g.taps() + 1) * g.c,
        None => 0,
    }
}

/// Adds the depthwise weight gradient of output pixels `m0..m1` into `dw` (`kh · kw · c`
/// float64) and, when `db` is not null, the bias gradient into `db` (`c` float64). `geom` is the
/// forward convolution (mode 0), `x` its input, `dy` the gradient of its output; `scratch` holds
/// [`prism_conv_depthwise_wgrad_scratch_len`] floats. Float32 sums run over blocks of 256 pixels
/// from `m0` (workers cut at multiples of 256).
///
/// Returns [`status::OK`], [`status::NON_FINITE`] when a block's sum is NaN or infinite, or
/// [`status::INVALID_ARGUMENT`] for an invalid descriptor, mode 1, a range outside the batch
/// or a null pointer.
#[no_mangle]
pub extern "C" fn prism_conv_depthwise_wgrad_f32(
    geom: *const u32,
    x: *const f32,
    dy: *const f32,
    dw: *mut f64,
    db: *mut f64,
    scratch: *mut f32,
    m0: usize,
    m1: usize,
) -> i32 {
    let g = match unsafe { depthwise_geom(geom) } {
        Some(g) if !g.transposed && g.range_ok(m0, m1) => g,
        _ => return status::INVALID_ARGUMENT,
    };
    if m0 == m1 {
        return status::OK;
    }
    if x.is_null() || dy.is_null() || dw.is_null() || scratch.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let (c, taps) = (g.c, g.taps());
    let sums = taps * c;
    let mut finite = true;
    // SAFETY: buffers of the documented sizes; source rows are bounds-checked by `Geom`.
    unsafe {
        let bias_sums = scratch.add(sums);
        let mut m = m0;
        while m < m1 {
            let p = CONV_BLOCK.min(m1 - m);
            fill_zero(scratch, sums + c);
            for q in m..m + p {
                let d = dy.add(q * c);
                g.each_tap(x, q, |t, row| {
                    if let Some(row) = row {
                        add_products(scratch.add(t * c), row, d, c);
                    }
                });
                for ch in 0..c {
                    *bias_sums.add(ch) += *d.add(ch);
                }
            }
            for j in 0..sums {
                let v = *scratch.add(j);
                finite &= v.is_finite();
                *dw.add(j) += v as f64;
            }
            if !db.is_null() {
                for ch in 0..c {
                    let v = *bias_sums.add(ch);
                    finite &= v.is_finite();
                    *db.add(ch) += v as f64;
                }
            }
            m += p;
        }
    }
    status::finite_or_error(finite)
}
