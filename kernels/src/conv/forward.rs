//! Dense convolution as an indirect GEMM (after XNNPACK's and MLAS's): the destination pixels
//! are the rows of C, the packed weights ([`super::pack`]) the B panels, and A is never built.
//! For each tile of [`MR`] destination pixels an indirection buffer of `MR · kh · kw` pointers
//! is filled once: the source row each pixel reads at each tap, or one shared zero row where the
//! tap falls in the padding (or, transposed, between strides). The micro-kernel
//! (`gemm::micro::accumulate_indirect`) then runs over every NR-wide panel of weights with those
//! pointers, and the store step adds the bias and applies the activation ([`super::act`]).
//!
//! The same kernel computes the forward convolution (mode 0) and the gradient of its input, the
//! forward of a transposed convolution (mode 1): only the indirection differs. In mode 1 with
//! stride 2, three taps in four point at the zero row (work a sub-pixel split would skip).
//!
//! Numerics: each output sums its `kh · kw · sc` products in float32, in one pass (the depth of
//! a 3×3×512 layer is 4608 terms; the error stays near `depth · 2⁻²⁴` of `Σ|x||w|`).

use super::act::{finish_row, finish_tile_row};
use super::pack::tap_block;
use super::Geom;
use crate::gemm::micro::accumulate_indirect;
use crate::gemm::pack::round_up;
use crate::params::{MR, NR};
use crate::status;
use core::arch::wasm32::{v128, v128_store};

/// Bytes of scratch [`prism_conv_forward_f32`] needs: a zero row of the source channels
/// (rounded up to 4 floats) and the indirection buffer of `MR · kh · kw` pointers. Zero for an
/// invalid descriptor.
#[no_mangle]
pub extern "C" fn prism_conv_forward_scratch_len(geom: *const u32) -> usize {
    match unsafe { Geom::read(geom) } {
        Some(g) => scratch_parts(&g).1 + MR * g.taps() * 4,
        None => 0,
    }
}

/// `(zero-row floats, its bytes)`.
fn scratch_parts(g: &Geom) -> (usize, usize) {
    let zero = round_up(g.src().2, 4);
    (zero, zero * 4)
}

/// Dense convolution over flat destination pixels `m0..m1` (pixel `m` is batch `m / (dh·dw)`,
/// row `m / dw % dh`, column `m % dw` of the destination image; workers split the batch at row
/// boundaries): `dst = act(conv(src, packed) + bias)`, in the mode of `geom` (mode 0: `src` is
/// `x`, `dst` is `y`; mode 1: `src` is `dy`, `dst` is `dx`).
///
/// - `packed`: [`super::pack::prism_conv_pack_weights`] for the same geometry and mode;
/// - `bias`: destination-channel floats, or null for none;
/// - `scratch`: [`prism_conv_forward_scratch_len`] bytes, not shared with another call.
///
/// Returns [`status::OK`], [`status::NON_FINITE`] when a value before the activation is NaN or
/// infinite (NaN or infinity in the source, or overflow), or [`status::INVALID_ARGUMENT`] for an
/// invalid descriptor, a range outside the batch or a null pointer.
#[no_mangle]
pub extern "C" fn prism_conv_forward_f32(
    geom: *const u32,
    src: *const f32,
    packed: *const f32,
    bias: *const f32,
    dst: *mut f32,
    scratch: *mut u8,
    m0: usize,
    m1: usize,
) -> i32 {
    let g = match unsafe { Geom::read(geom) } {
        Some(g) => g,
        None => return status::INVALID_ARGUMENT,
    };
    if !g.range_ok(m0, m1) {
        return status::INVALID_ARGUMENT;
    }
    if m0 == m1 {
        return status::OK;
    }
    if src.is_null() || packed.is_null() || dst.is_null() || scratch.is_null() {
        return status::INVALID_ARGUMENT;
    }
    // SAFETY: the caller passes buffers of the sizes documented above; every source row is
    // bounds-checked by `Geom::each_tap`.
    unsafe {
        let (zero_len, zero_bytes) = scratch_parts(&g);
        let zero = scratch as *mut f32;
        for i in 0..zero_len {
            *zero.add(i) = 0.0;
        }
        let rows = scratch.add(zero_bytes) as *mut *const f32;
        let finite = run(&g, src, packed, bias, dst, zero, rows, m0, m1);
        if finite {
            status::OK
        } else {
            status::NON_FINITE
        }
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn run(
    g: &Geom,
    src: *const f32,
    packed: *const f32,
    bias: *const f32,
    dst: *mut f32,
    zero: *const f32,
    rows: *mut *const f32,
    m0: usize,
    m1: usize,
) -> bool {
    let taps = g.taps();
    let sc = g.src().2;
    let dc = g.dst().2;
    let block = tap_block(g);
    let mut finite = true;
    let mut m = m0;
    while m < m1 {
        let count = MR.min(m1 - m);
        // The indirection of this tile; rows past the range repeat its last pixel (computed,
        // never stored), so the micro-kernel never branches on the edge.
        for i in 0..MR {
            g.each_tap(src, m + i.min(count - 1), |t, row| {
                *rows.add(t * MR + i) = row.unwrap_or(zero);
            });
        }
        let mut j0 = 0;
        while j0 < dc {
            let cols = NR.min(dc - j0);
            let acc = accumulate_indirect(taps, sc, rows, packed.add(j0 * sc), block);
            if cols == NR {
                for (i, row) in acc.iter().enumerate().take(count) {
                    let out = dst.add((m + i) * dc + j0);
                    finite &= finish_tile_row(out, row, bias, j0, g.act);
                }
                j0 += NR;
                continue;
            }
            // A narrow last panel: the tile to the stack, then each pixel's columns to dst.
            let mut tile = [0.0f32; MR * NR];
            for (i, row) in acc.iter().enumerate() {
                for (v, &x) in row.iter().enumerate() {
                    v128_store(tile.as_mut_ptr().add(i * NR + 4 * v) as *mut v128, x);
                }
            }
            for i in 0..count {
                let out = dst.add((m + i) * dc + j0);
                for j in 0..cols {
                    *out.add(j) = tile[i * NR + j];
                }
                finite &= finish_row(out, cols, bias, j0, g.act);
            }
            j0 += NR;
        }
        m += MR;
    }
    finite
}
