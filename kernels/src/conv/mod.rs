//! Convolution over NHWC images with HWIO weights (`[kh, kw, c, oc]`; depthwise `[kh, kw, c]`).
//!
//! Every kernel reads the geometry from a descriptor of [`GEOM_LEN`] `u32` values (see
//! [`Geom::read`]) that always describes the *forward* convolution, plus a mode:
//!
//! - forward (`mode 0`): source `x` `[n, h, w, c]`, destination `y` `[n, oh, ow, oc]`, output
//!   pixel `(oy, ox)` reads input pixel `(oy·s + ky − pad_top, ox·s + kx − pad_left)`;
//! - transposed (`mode 1`): source `dy` `[n, oh, ow, oc]`, destination `dx` `[n, h, w, c]`: the
//!   gradient of the input, which is also the forward of a transposed-convolution layer. Input
//!   pixel `iy` reads output pixel `oy = (iy + pad_top − ky) / s` when that divides exactly and
//!   lies inside the output.
//!
//! Files: [`act`] (bias + activation epilogue), [`pack`] (weights into NR panels, once per
//! layer), [`forward`] (dense forward and input gradient, an indirect GEMM), [`wgrad`] (dense
//! weight and bias gradients, gathered blocks through `prism_sgemm`), [`depthwise`] (one-pass
//! depthwise kernels, all three directions).

mod act;
mod depthwise;
mod forward;
mod pack;
mod wgrad;

/// Values in a geometry descriptor: `[n, h, w, c, kh, kw, oh, ow, oc, stride, pad_top,
/// pad_left, mode, activation]`.
pub(crate) const GEOM_LEN: usize = 14;

/// A checked convolution geometry (forward sizes) with its mode and activation.
#[derive(Clone, Copy)]
pub(crate) struct Geom {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
    pub oc: usize,
    pub stride: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    /// Mode 1: source is `dy`, destination `dx`.
    pub transposed: bool,
    /// 0 none, 1 ReLU, 2 GELU (erf form); see [`act`].
    pub act: u32,
}

impl Geom {
    /// Reads and checks a descriptor: sizes non-zero, stride 1 or 2, mode 0 or 1, activation
    /// 0..=2, and the byte sizes of both images and the weights inside the address space.
    ///
    /// # Safety
    /// `p` must address [`GEOM_LEN`] readable `u32` values (or be null, which gives `None`).
    pub unsafe fn read(p: *const u32) -> Option<Geom> {
        if p.is_null() {
            return None;
        }
        let v = |i: usize| if i < GEOM_LEN { *p.add(i) as usize } else { 0 };
        let g = Geom {
            n: v(0),
            h: v(1),
            w: v(2),
            c: v(3),
            kh: v(4),
            kw: v(5),
            oh: v(6),
            ow: v(7),
            oc: v(8),
            stride: v(9),
            pad_top: v(10),
            pad_left: v(11),
            transposed: v(12) == 1,
            act: v(13) as u32,
        };
        let sizes = [g.n, g.h, g.w, g.c, g.kh, g.kw, g.oh, g.ow, g.oc];
        if sizes.contains(&0) || !(1..=2).contains(&g.stride) || v(12) > 1 || g.act > 2 {
            return None;
        }
        // No check that the output size follows from the input: `source` bounds-checks every
        // tap against the source image, so any sizes are memory-safe (the host derives them).
        bytes(&[g.n, g.h, g.w, g.c])?;
        bytes(&[g.n, g.oh, g.ow, g.oc])?;
        bytes(&[g.kh, g.kw, g.c, g.oc])?;
        Some(g)
    }

    /// Kernel taps `kh · kw`.
    pub fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// `(height, width, channels)` of the image the mode reads.
    pub fn src(&self) -> (usize, usize, usize) {
        if self.transposed {
            (self.oh, self.ow, self.oc)
        } else {
            (self.h, self.w, self.c)
        }
    }

    /// `(height, width, channels)` of the image the mode writes.
    pub fn dst(&self) -> (usize, usize, usize) {
        if self.transposed {
            (self.h, self.w, self.c)
        } else {
            (self.oh, self.ow, self.oc)
        }
    }

    /// Destination pixels of the whole batch.
    pub fn dst_pixels(&self) -> usize {
        let (dh, dw, _) = self.dst();
        self.n * dh * dw
    }

    #[inline(always)]
    fn axis(&self, p: usize, k: usize, pad: usize, which: usize) -> Option<usize> {
        let (sh, sw, _) = self.src();
        let limit = if which == 0 { sh } else { sw };
        let s = if self.transposed {
            let num = (p + pad).checked_sub(k)?;
            if self.stride == 2 && num % 2 != 0 {
                return None;
            }
            if self.stride == 2 {
                num / 2
            } else {
                num
            }
        } else {
            (p * self.stride + k).checked_sub(pad)?
        };
        if s < limit {
            Some(s)
        } else {
            None
        }
    }

    /// Calls `visit(t, row)` for every tap `t` (row-major over `kh × kw`) of flat destination
    /// pixel `m`, with the source row (channel vector) it reads, or `None`. The pixel is decoded
    /// once (two divisions), not per tap: in a tile of a 3×3 layer the decoding would otherwise
    /// cost a third of the arithmetic.
    ///
    /// # Safety
    /// `src` must address the whole source image.
    #[inline(always)]
    pub unsafe fn each_tap(
        &self,
        src: *const f32,
        m: usize,
        visit: impl FnMut(usize, Option<*const f32>),
    ) {
        self.each_tap_at(self.locate(src, m), visit)
    }

    /// [`Geom::each_tap`] for a pixel already decoded ([`Geom::locate`], [`Geom::next`]).
    ///
    /// # Safety
    /// `at` must come from [`Geom::locate`] or [`Geom::next`] over the whole source image.
    #[inline(always)]
    pub unsafe fn each_tap_at(
        &self,
        at: (*const f32, usize, usize),
        mut visit: impl FnMut(usize, Option<*const f32>),
    ) {
        let (image, py, px) = at;
        let (_, sw, sc) = self.src();
        let mut t = 0;
        for ky in 0..self.kh {
            let sy = self.axis(py, ky, self.pad_top, 0);
            for kx in 0..self.kw {
                let sx = self.axis(px, kx, self.pad_left, 1);
                let ptr = match (sy, sx) {
                    (Some(y), Some(x)) => Some(image.add((y * sw + x) * sc)),
                    _ => None,
                };
                visit(t, ptr);
                t += 1;
            }
        }
    }

    /// Calls `visit(r, run)` for every kernel-row group `r` of the packed weights of flat
    /// destination pixel `m`, with the start of the `kw ·` source-channel floats that group's
    /// taps read, contiguous since its `kw` taps are consecutive pixels of an NHWC row, or
    /// `None` where the row lies in the vertical padding. Forward, group `r` is kernel row `r`;
    /// in mode 1 with stride 1, whose packing reverses the taps, group `r` is kernel row
    /// `kh − 1 − r`, its taps reading source columns left to right. Returns false and visits
    /// nothing when a tap of the pixel falls in the left or right padding, or in mode 1 with
    /// stride 2 (taps between strides): the caller visits tap by tap with [`Geom::each_tap`].
    ///
    /// # Safety
    /// `src` must address the whole source image.
    #[inline(always)]
    pub unsafe fn each_row_run(
        &self,
        src: *const f32,
        m: usize,
        visit: impl FnMut(usize, Option<*const f32>),
    ) -> bool {
        self.each_row_run_at(self.locate(src, m), visit)
    }

    /// [`Geom::each_row_run`] for a pixel already decoded ([`Geom::locate`], [`Geom::next`]).
    ///
    /// # Safety
    /// `at` must come from [`Geom::locate`] or [`Geom::next`] over the whole source image.
    #[inline(always)]
    pub unsafe fn each_row_run_at(
        &self,
        at: (*const f32, usize, usize),
        mut visit: impl FnMut(usize, Option<*const f32>),
    ) -> bool {
        if self.transposed {
            return self.each_row_run_transposed(at, visit);
        }
        let (image, py, px) = at;
        let x0 = match (px * self.stride).checked_sub(self.pad_left) {
            Some(x0) if x0 + self.kw <= self.w => x0,
            _ => return false,
        };
        for ky in 0..self.kh {
            let run = self
                .axis(py, ky, self.pad_top, 0)
                .map(|y| image.add((y * self.w + x0) * self.c));
            visit(ky, run);
        }
        true
    }

    /// [`Geom::each_row_run`] in mode 1: tap `(ky, kx)` of destination pixel `(py, px)` reads
    /// source pixel `(py + pad_top − ky, px + pad_left − kx)` (stride 1), so reversed taps read
    /// row `py + pad_top − (kh − 1) + r`, columns `x0 + kx'` with `x0 = px + pad_left − (kw − 1)`.
    #[inline(always)]
    unsafe fn each_row_run_transposed(
        &self,
        at: (*const f32, usize, usize),
        mut visit: impl FnMut(usize, Option<*const f32>),
    ) -> bool {
        if self.stride != 1 {
            return false;
        }
        let (image, py, px) = at;
        let (sh, sw, sc) = self.src();
        let x0 = match (px + self.pad_left).checked_sub(self.kw - 1) {
            Some(x0) if x0 + self.kw <= sw => x0,
            _ => return false,
        };
        for r in 0..self.kh {
            let ky = self.kh - 1 - r;
            let run = (py + self.pad_top)
                .checked_sub(ky)
                .filter(|&y| y < sh)
                .map(|y| image.add((y * sw + x0) * sc));
            visit(r, run);
        }
        true
    }

    /// The next destination pixel after `at` (flat index + 1), decoded without a division:
    /// the column advances, wrapping to the next row and batch item.
    ///
    /// # Safety
    /// `at` must come from [`Geom::locate`] or [`Geom::next`], and not be the batch's last pixel.
    #[inline(always)]
    pub unsafe fn next(&self, at: (*const f32, usize, usize)) -> (*const f32, usize, usize) {
        let (image, py, px) = at;
        let (dh, dw, _) = self.dst();
        if px + 1 < dw {
            return (image, py, px + 1);
        }
        if py + 1 < dh {
            return (image, py + 1, 0);
        }
        let (sh, sw, sc) = self.src();
        (image.add(sh * sw * sc), 0, 0)
    }

    /// The source image of flat destination pixel `m`'s batch item, and the pixel's row and
    /// column in the destination.
    ///
    /// # Safety
    /// `src` must address the whole source image and `m` lie inside the batch.
    #[inline(always)]
    pub unsafe fn locate(&self, src: *const f32, m: usize) -> (*const f32, usize, usize) {
        let (dh, dw, _) = self.dst();
        let (sh, sw, sc) = self.src();
        let (row, px) = div_rem(m, dw);
        let (b, py) = div_rem(row, dh);
        (src.add(b * sh * sw * sc), py, px)
    }

    /// Checks a flat destination pixel range `m0..m1` against the batch.
    pub fn range_ok(&self, m0: usize, m1: usize) -> bool {
        m0 <= m1 && m1 <= self.dst_pixels()
    }
}

/// `(a / b, a % b)`; `b` is never 0 for a checked geometry. `checked_div` keeps core's
/// division-by-zero panic (a function the shared-memory build cannot link) out of the binary.
#[inline(always)]
fn div_rem(a: usize, b: usize) -> (usize, usize) {
    let q = a.checked_div(b).unwrap_or(0);
    (q, a - q * b)
}

/// The byte size of a product of sizes as f32 values, or `None` past the address space.
fn bytes(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(4usize, |acc, &d| acc.checked_mul(d))
        .filter(|&b| b < u32::MAX as usize)
}
