//! Dense convolution as an indirect GEMM (after XNNPACK's and MLAS's): the destination pixels
//! are the rows of C, the packed weights ([`super::pack`]) the B panels, and A is never built.
//! For each tile of [`MR`] destination pixels an indirection buffer is filled once: in the
//! forward and the stride-1 input gradient (whose packing reverses the taps, so a kernel row
//! reads `dy` left to right), where no tap of the tile falls in the left or right padding, one
//! pointer per pixel
//! and kernel row, to the `kw · c` contiguous source floats the row's taps read (NHWC puts a
//! row's `kw` pixels side by side); elsewhere one pointer per pixel and tap, to its source
//! row. Padding (or, transposed, a tap between strides) points at one shared zero row. The
//! micro-kernel (`gemm::micro::accumulate_indirect`) then runs over every NR-wide panel of
//! weights with those pointers, and the store step adds the bias and applies the activation
//! ([`super::act`]). Longer runs matter for few channels: a 3×3 layer on 6 channels streams
//! 3 runs of 18 floats per pixel rather than 9 of 6.
//!
//! The same kernel computes the forward convolution (mode 0) and the gradient of its input, the
//! forward of a transposed convolution (mode 1): only the indirection differs. In mode 1 with
//! stride 2, three taps in four point at the zero row (work a sub-pixel split would skip).
//!
//! Numerics: each output sums its `kh · kw · sc` products in float32, in one pass (the depth of
//! a 3×3×512 layer is 4608 terms; the error stays near `depth · 2⁻²⁴` of `Σ|x||w|`).

use super::act::finish_tile_row;
use super::pack::depth;
use super::Geom;
use crate::gemm::micro::accumulate_indirect;
use crate::gemm::pack::round_up;
use crate::params::{MR, NR};
use crate::status;

/// Bytes of scratch [`prism_conv_forward_f32`] needs: a zero row of `kw ·` the source channels
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
    let zero = round_up(g.kw * g.src().2, 4);
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
        status::finite_or_error(run(&g, src, packed, bias, dst, zero, rows, m0, m1))
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
    let sc = g.src().2;
    let dc = g.dst().2;
    let k = depth(g);
    let mut finite = true;
    let mut m = m0;
    while m < m1 {
        let count = MR.min(m1 - m);
        // The indirection of this tile; rows past the range repeat its last pixel (computed,
        // never stored), so the micro-kernel never branches on the edge. One division pair
        // decodes the tile's first pixel; the others follow by increments.
        let mut at = g.locate(src, m);
        let mut pixels = [at; MR];
        for slot in pixels.iter_mut().take(count).skip(1) {
            at = g.next(at);
            *slot = at;
        }
        for slot in pixels.iter_mut().skip(count) {
            *slot = at;
        }
        let by_rows = pixels.iter().enumerate().all(|(i, &p)| {
            g.each_row_run_at(p, |ky, run| *rows.add(ky * MR + i) = run.unwrap_or(zero))
        });
        let (groups, kt) = if by_rows {
            (g.kh, g.kw * sc)
        } else {
            // Mode 1 packs the taps in reverse order (`super::pack`).
            let last = g.taps() - 1;
            let slot = |t: usize| if g.transposed { last - t } else { t };
            for (i, &p) in pixels.iter().enumerate() {
                g.each_tap_at(p, |t, row| {
                    *rows.add(slot(t) * MR + i) = row.unwrap_or(zero)
                });
            }
            (g.taps(), sc)
        };
        let mut j0 = 0;
        while j0 < dc {
            let cols = NR.min(dc - j0);
            let out = dst.add(m * dc + j0);
            let store = Store {
                count,
                cols,
                dc,
                bias,
                ch0: j0,
                act: g.act,
            };
            finite &= tile(groups, kt, rows, packed.add(j0 * k), out, &store);
            j0 += NR;
        }
        m += MR;
    }
    finite
}

/// Where and how [`tile`] stores its `count x cols` corner.
struct Store {
    count: usize,
    cols: usize,
    /// Destination row stride (channels).
    dc: usize,
    bias: *const f32,
    ch0: usize,
    act: u32,
}

/// One micro-tile: the indirect micro-kernel, then the store step. Out of line (as GEMM's
/// `micro_tile`), so the engine compiles the hot loop in a small function of its own rather
/// than beside the indirection's state.
#[inline(never)]
unsafe fn tile(
    groups: usize,
    kt: usize,
    rows: *const *const f32,
    b: *const f32,
    out: *mut f32,
    store: &Store,
) -> bool {
    let acc = accumulate_indirect(groups, kt, rows, b);
    let mut finite = true;
    for (i, row) in acc.iter().enumerate().take(store.count) {
        let dst = out.add(i * store.dc);
        finite &= finish_tile_row(dst, row, store.cols, store.bias, store.ch0, store.act);
    }
    finite
}
