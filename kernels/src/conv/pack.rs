//! Packs a dense convolution's HWIO weights once per layer into the [`NR`]-wide panels the
//! indirect micro-kernel streams, with the GEMM packing routine (`gemm/pack.rs`).
//!
//! Layout: one block per tap `t`, `round_up(dc, NR) · sc` floats each (`sc`, `dc`: the source
//! and destination channels of the mode); inside a block, the panels of `pack::<NR>` (panel `s`,
//! row `r`, lane `q` at `s·NR·sc + r·NR + q`). Forward packs tap `t`'s `c × oc` slice as it
//! lies; the transposed mode (input gradient) packs its transpose `oc × c`, a pair of strides.

use super::Geom;
use crate::gemm::pack::{pack, round_up, View};
use crate::params::NR;
use crate::status;

/// Floats of one tap's block of packed weights.
pub(crate) fn tap_block(g: &Geom) -> usize {
    let (_, _, sc) = g.src();
    let (_, _, dc) = g.dst();
    round_up(dc, NR) * sc
}

/// The number of f32 values [`prism_conv_pack_weights`] writes for the geometry at `geom` (a
/// descriptor of `GEOM_LEN` u32, see `conv/mod.rs`): `kh · kw · round_up(dc, 8) · sc`, with `sc`
/// and `dc` the source and destination channels of its mode. Zero for an invalid descriptor.
#[no_mangle]
pub extern "C" fn prism_conv_packed_len(geom: *const u32) -> usize {
    match unsafe { Geom::read(geom) } {
        Some(g) => g.taps() * tap_block(&g),
        None => 0,
    }
}

/// Packs dense HWIO weights `w` (`[kh, kw, c, oc]`) for the mode of `geom` into `out`
/// ([`prism_conv_packed_len`] floats).
///
/// Returns [`status::OK`], [`status::NON_FINITE`] when a weight is NaN or infinite, or
/// [`status::INVALID_ARGUMENT`] for an invalid descriptor or a null pointer.
#[no_mangle]
pub extern "C" fn prism_conv_pack_weights(geom: *const u32, w: *const f32, out: *mut f32) -> i32 {
    let g = match unsafe { Geom::read(geom) } {
        Some(g) => g,
        None => return status::INVALID_ARGUMENT,
    };
    if w.is_null() || out.is_null() {
        return status::INVALID_ARGUMENT;
    }
    let slice = g.c * g.oc;
    unsafe {
        if (0..g.taps() * slice).any(|i| !(*w.add(i)).is_finite()) {
            return status::NON_FINITE;
        }
        for t in 0..g.taps() {
            let src = w.add(t * slice);
            let dst = out.add(t * tap_block(&g));
            if g.transposed {
                // Row o, column ci of the operand is w[t, ci, o]: the stored slice transposed.
                pack::<NR>(View::new(src, g.oc, true), g.oc, g.c, None, dst);
            } else {
                pack::<NR>(View::new(src, g.oc, false), g.c, g.oc, None, dst);
            }
        }
    }
    status::OK
}
