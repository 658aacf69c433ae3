//! Packs a dense convolution's HWIO weights once per layer into the [`NR`]-wide panels the
//! indirect micro-kernel streams, with the GEMM packing routine (`gemm/pack.rs`).
//!
//! Layout: the weights as a `K × dc` matrix (`K = kh·kw·sc`; `sc`, `dc`: the source and
//! destination channels of the mode), rows in tap order `(ky, kx, source channel)`, packed in
//! `NR`-wide panels of all `K` rows (panel `s`, row `r`, lane `q` at `s·NR·K + r·NR + q`), so
//! a tap's rows, and the `kw` taps of one kernel row, are consecutive inside a panel. Forward
//! HWIO weights are that matrix as they lie (one `pack::<NR>` call); the transposed mode (input
//! gradient) packs each tap's `c × oc` slice transposed, a pair of strides, panel by panel, and
//! the taps in reverse order: the input gradient of a stride-1 convolution is then a forward
//! convolution of `dy` whose kernel rows read contiguous runs of `dy` (`Geom::each_row_run`).

use super::Geom;
use crate::gemm::pack::{pack, round_up, View};
use crate::params::NR;
use crate::status;

/// `K`: rows of the packed matrix, `kh · kw · sc`.
pub(crate) fn depth(g: &Geom) -> usize {
    g.taps() * g.src().2
}

/// The number of f32 values [`prism_conv_pack_weights`] writes for the geometry at `geom` (a
/// descriptor of `GEOM_LEN` u32, see `conv/mod.rs`): `round_up(dc, 8) · kh · kw · sc`, with
/// `sc` and `dc` the source and destination channels of its mode. Zero for an invalid
/// descriptor.
#[no_mangle]
pub extern "C" fn prism_conv_packed_len(geom: *const u32) -> usize {
    match unsafe { Geom::read(geom) } {
        Some(g) => round_up(g.dst().2, NR) * depth(&g),
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
        if !g.transposed {
            pack::<NR>(View::new(w, g.oc, false), depth(&g), g.oc, None, out);
        } else {
            let k = depth(&g);
            for s in 0..round_up(g.c, NR) / NR {
                let cols = NR.min(g.c - s * NR);
                for t in 0..g.taps() {
                    // Row o, column ci of tap t's operand is w[t, ci, o]: the slice transposed.
                    let view = View::new(w.add(t * slice), g.oc, true).from(0, s * NR);
                    // Taps in reverse order (see the module doc).
                    let slot = g.taps() - 1 - t;
                    pack::<NR>(view, g.oc, cols, None, out.add(s * NR * k + slot * g.oc * NR));
                }
            }
        }
    }
    status::OK
}
