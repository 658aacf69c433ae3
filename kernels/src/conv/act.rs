//! The store step shared by the convolution kernels: bias, activation, finiteness.
//!
//! GELU is the exact erf form `x/2 · (1 + erf(x/√2))` (PyTorch's default, not the tanh
//! approximation), evaluated in float64: erf by Abramowitz & Stegun 7.1.26 (absolute error
//! below 1.5e-7), its `exp` by range reduction and a degree-11 Taylor polynomial (relative
//! error near 1e-16). The tile's values are float32 sums, so GELU's error stays at the float32
//! level of the product.

use crate::params::NR;
use core::arch::wasm32::{
    f32x4_add, f32x4_ne, f32x4_pmax, f32x4_splat, f32x4_sub, v128, v128_any_true, v128_load,
    v128_or, v128_store,
};

/// No activation.
pub const NONE: u32 = 0;
/// `max(x, 0)`.
pub const RELU: u32 = 1;
/// `x/2 · (1 + erf(x/√2))`.
pub const GELU: u32 = 2;

/// Applies activation `act` (one of [`NONE`], [`RELU`], [`GELU`]) to `x`.
#[inline(always)]
pub fn apply(act: u32, x: f32) -> f32 {
    match act {
        RELU => {
            if x > 0.0 {
                x
            } else {
                0.0
            }
        }
        GELU => gelu(x),
        NONE => x,
        _ => x,
    }
}

/// Adds `bias` (when not null), checks finiteness, applies `act`, for `len` values at `row`
/// (channels `ch0..ch0 + len` of one pixel). Returns false when a value before the activation
/// is NaN or infinite (the kernels then report `NON_FINITE`).
///
/// # Safety
/// `row` must address `len` floats, `bias` (when not null) `ch0 + len`.
#[inline(always)]
pub unsafe fn finish_row(
    row: *mut f32,
    len: usize,
    bias: *const f32,
    ch0: usize,
    act: u32,
) -> bool {
    let mut finite = true;
    for j in 0..len {
        let mut v = *row.add(j);
        if !bias.is_null() {
            v += *bias.add(ch0 + j);
        }
        finite &= v.is_finite();
        *row.add(j) = apply(act, v);
    }
    finite
}

/// Stores one tile row: the first `cols` (1..=[`NR`]) of its sums, as destination channels
/// `ch0..ch0 + cols`, with bias, finiteness check and activation. A full-width row works on
/// vectors (GELU per value); a narrow last panel goes through [`finish_row`], with the same
/// results. Returns false when a value before the activation is NaN or infinite.
///
/// # Safety
/// `out` must address `cols` floats, `bias` (when not null) `ch0 + cols`.
#[inline(always)]
pub unsafe fn finish_tile_row(
    out: *mut f32,
    acc: &[v128; 2],
    cols: usize,
    bias: *const f32,
    ch0: usize,
    act: u32,
) -> bool {
    if cols < NR {
        let mut sums = [0.0f32; NR];
        v128_store(sums.as_mut_ptr() as *mut v128, acc[0]);
        v128_store(sums.as_mut_ptr().add(4) as *mut v128, acc[1]);
        for j in 0..cols.min(NR) {
            *out.add(j) = *sums.as_ptr().add(j);
        }
        return finish_row(out, cols, bias, ch0, act);
    }
    let zero = f32x4_splat(0.0);
    let mut bad = zero;
    for (v, &sum) in acc.iter().enumerate() {
        let mut x = sum;
        if !bias.is_null() {
            x = f32x4_add(x, v128_load(bias.add(ch0 + 4 * v) as *const v128));
        }
        // x - x is 0 for finite x and NaN for NaN or infinity.
        bad = v128_or(bad, f32x4_ne(f32x4_sub(x, x), zero));
        if act == RELU {
            x = f32x4_pmax(zero, x);
        }
        v128_store(out.add(4 * v) as *mut v128, x);
    }
    if act == GELU {
        for j in 0..NR {
            *out.add(j) = gelu(*out.add(j));
        }
    }
    !v128_any_true(bad)
}

fn gelu(x: f32) -> f32 {
    let x = x as f64;
    (0.5 * x * (1.0 + erf(x * core::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// erf by Abramowitz & Stegun 7.1.26.
fn erf(x: f64) -> f64 {
    let a = if x < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * exp(-a * a);
    if x < 0.0 {
        -y
    } else {
        y
    }
}

/// `e^x` for `x <= 0` (all erf needs): `2^k · e^r`, `|r| <= ln2/2`, `e^r` by Taylor to r^11.
fn exp(x: f64) -> f64 {
    if x < -700.0 {
        return 0.0;
    }
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let kf = x * core::f64::consts::LOG2_E;
    let k = if kf < 0.0 { kf - 0.5 } else { kf + 0.5 } as i64;
    let r = (x - k as f64 * LN2_HI) - k as f64 * LN2_LO;
    let mut p = 1.0;
    let mut term = 1.0;
    for i in 1..=11 {
        term *= r / i as f64;
        p += term;
    }
    // 2^k by building the exponent bits; k >= -1010 here, so the result is normal.
    p * f64::from_bits(((k + 1023) as u64) << 52)
}
