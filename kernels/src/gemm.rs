//! Single-precision general matrix multiply, `C = alpha * op(A) * op(B) + beta * C`, row-major.
//!
//! The structure follows bluss/matrixmultiply (itself after BLIS): five loops around a
//! register-blocked micro-kernel, with both operands packed into contiguous panels first so the
//! micro-kernel streams through memory with unit stride whatever the transposes and leading
//! dimensions were. Transposes are absorbed by the packing routines (a pair of strides), so the
//! backward passes of a dense layer (`Xᵀ·dY`, `dY·Wᵀ`) never materialise a transposed copy.
//!
//! Numerics: products are summed in f32 inside one depth block of at most [`KC`] terms, then
//! added to C in f32. A dense layer's depth is at most a few thousand, where the relative error
//! stays near `k · 2⁻²⁴` of `Σ|a||b|`; this is the usual BLAS trade and the tests bound it.

use crate::status;
use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};

// ---------------------------------------------------------------------------------------------
// Block sizes: the one place they are set. Each sizes one buffer or one loop.
// ---------------------------------------------------------------------------------------------

/// Micro-tile rows: rows of C one micro-kernel call produces, and the height of a packed A
/// panel. 4 rows x 2 vectors = 8 accumulators, plus 2 B vectors and 1 broadcast A value, fit
/// the 16 SIMD registers V8 has on x86-64 without spilling.
const MR: usize = 4;
/// Micro-tile columns (two f32x4 vectors), and the width of a packed B panel.
const NR: usize = 8;
/// Depth of one packed block (loop 4's step). Sizes both packed buffers' depth; one A panel
/// (`MR * KC` floats = 4 KiB) and one B panel (`NR * KC` = 8 KiB) sit in L1 together.
const KC: usize = 256;
/// Rows of op(A) packed at once (loop 3's step). The packed A buffer holds `MC * KC` floats
/// (64 KiB, L2-resident). A multiple of [`MR`].
const MC: usize = 64;
/// Columns of op(B) packed at once (loop 5's step). The packed B buffer holds `NC * KC` floats
/// (1 MiB at most; a dense layer's B is usually much narrower). A multiple of [`NR`].
const NC: usize = 1024;

const _: () = assert!(MC % MR == 0 && NC % NR == 0 && MR % 4 == 0 && NR % 4 == 0);

/// The number of f32 values of scratch [`prism_sgemm`] needs for an `m x n x k` product: one
/// packed A block (`round_up(min(m, MC), MR) * min(k, KC)`) followed by one packed B block
/// (`round_up(min(n, NC), NR) * min(k, KC)`). Zero when any dimension is zero.
#[no_mangle]
pub extern "C" fn prism_sgemm_scratch_len(m: usize, n: usize, k: usize) -> usize {
    let (a_len, b_len) = packed_lens(m, n, k);
    a_len + b_len
}

fn packed_lens(m: usize, n: usize, k: usize) -> (usize, usize) {
    if m == 0 || n == 0 || k == 0 {
        return (0, 0);
    }
    let kc = k.min(KC);
    (round_up(m.min(MC), MR) * kc, round_up(n.min(NC), NR) * kc)
}

fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}

/// A strided read-only view of an operand after its transpose: element `(i, j)` is at
/// `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
struct View {
    ptr: *const f32,
    rs: usize,
    cs: usize,
}

impl View {
    /// Views a stored row-major operand with leading dimension `ld`, transposed when `trans`.
    fn new(ptr: *const f32, ld: usize, trans: bool) -> Self {
        if trans {
            View { ptr, rs: 1, cs: ld }
        } else {
            View { ptr, rs: ld, cs: 1 }
        }
    }

    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> f32 {
        *self.ptr.add(i * self.rs + j * self.cs)
    }
}

/// `C = alpha * op(A) * op(B) + beta * C` for row-major f32 matrices.
///
/// - `trans_a`, `trans_b`: 0 uses the operand as stored, 1 its transpose. op(A) is `m x k`
///   (stored `m x k` with `lda >= k`, or `k x m` with `lda >= m` when transposed); op(B) is
///   `k x n` (stored `k x n` with `ldb >= n`, or `n x k` with `ldb >= k`); C is `m x n` with
///   `ldc >= n`.
/// - `scratch`: at least [`prism_sgemm_scratch_len`]`(m, n, k)` floats, not overlapping A, B, C.
/// - `beta == 0` overwrites C without reading it (NaN already in C does not propagate), as BLAS.
///
/// Returns [`status::OK`], or [`status::INVALID_ARGUMENT`] for a flag other than 0/1, a leading
/// dimension smaller than its row, a null pointer where data is needed, or an operand whose
/// extent overflows the address space.
#[no_mangle]
pub extern "C" fn prism_sgemm(
    trans_a: u32,
    trans_b: u32,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    scratch: *mut f32,
) -> i32 {
    if trans_a > 1 || trans_b > 1 {
        return status::INVALID_ARGUMENT;
    }
    let (ta, tb) = (trans_a == 1, trans_b == 1);
    let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
    let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
    if lda < a_cols || ldb < b_cols || ldc < n {
        return status::INVALID_ARGUMENT;
    }
    if extent(a_rows, a_cols, lda).is_none()
        || extent(b_rows, b_cols, ldb).is_none()
        || extent(m, n, ldc).is_none()
    {
        return status::INVALID_ARGUMENT;
    }
    if m == 0 || n == 0 {
        return status::OK;
    }
    if c.is_null() {
        return status::INVALID_ARGUMENT;
    }
    // SAFETY (whole body): the caller guarantees every pointer addresses the extent checked above
    // inside this module's memory, and that scratch does not overlap the operands.
    unsafe {
        if k == 0 || alpha == 0.0 {
            scale_c(m, n, beta, c, ldc);
            return status::OK;
        }
        if a.is_null() || b.is_null() || scratch.is_null() {
            return status::INVALID_ARGUMENT;
        }
        let (a_len, _) = packed_lens(m, n, k);
        let packed_a = scratch;
        let packed_b = scratch.add(a_len);
        let av = View::new(a, lda, ta);
        let bv = View::new(b, ldb, tb);

        // Loop 5: column blocks of C and op(B), NC wide.
        let mut jc = 0;
        while jc < n {
            let nc = NC.min(n - jc);
            // Loop 4: depth blocks, KC deep. The first one applies beta; later ones accumulate.
            let mut pc = 0;
            while pc < k {
                let kc = KC.min(k - pc);
                let beta_block = if pc == 0 { beta } else { 1.0 };
                pack_b(kc, nc, bv, pc, jc, packed_b);
                // Loop 3: row blocks of C and op(A), MC tall.
                let mut ic = 0;
                while ic < m {
                    let mc = MC.min(m - ic);
                    pack_a(mc, kc, av, ic, pc, packed_a);
                    // Loop 2: NR-wide column panels within the block.
                    let mut jr = 0;
                    while jr < nc {
                        let cols = NR.min(nc - jr);
                        let bp = packed_b.add(jr * kc);
                        // Loop 1: MR-tall row panels; each pair of panels is one micro-tile.
                        let mut ir = 0;
                        while ir < mc {
                            let rows = MR.min(mc - ir);
                            let ap = packed_a.add(ir * kc);
                            let ct = c.add((ic + ir) * ldc + jc + jr);
                            micro_kernel(kc, ap, bp, alpha, beta_block, ct, ldc, rows, cols);
                            ir += MR;
                        }
                        jr += NR;
                    }
                    ic += MC;
                }
                pc += KC;
            }
            jc += NC;
        }
    }
    status::OK
}

/// The element count a `rows x cols` operand with leading dimension `ld` spans, or `None` when
/// it overflows `usize` (the 4 GiB wasm32 address space).
fn extent(rows: usize, cols: usize, ld: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (rows - 1).checked_mul(ld)?.checked_add(cols)?.checked_mul(4)
}

/// `C = beta * C`, with `beta == 0` writing zeros without reading (BLAS semantics).
unsafe fn scale_c(m: usize, n: usize, beta: f32, c: *mut f32, ldc: usize) {
    if beta == 1.0 {
        return;
    }
    for i in 0..m {
        let row = c.add(i * ldc);
        for j in 0..n {
            *row.add(j) = if beta == 0.0 { 0.0 } else { beta * *row.add(j) };
        }
    }
}

/// Packs the `mc x kc` block of op(A) at `(ic, pc)` into MR-tall panels: panel `r` holds
/// `kc` groups of MR values (one column of the panel each), rows past `mc` zero-filled so the
/// micro-kernel never branches on the edge.
unsafe fn pack_a(mc: usize, kc: usize, a: View, ic: usize, pc: usize, out: *mut f32) {
    let mut dst = out;
    let mut ir = 0;
    while ir < mc {
        let rows = MR.min(mc - ir);
        if rows == MR && a.rs == 1 {
            // Transposed A: a panel column is MR contiguous floats, copied as vectors.
            for p in 0..kc {
                copy_vectors::<MR>(a.ptr.add((ic + ir) + (pc + p) * a.cs), dst);
                dst = dst.add(MR);
            }
        } else {
            for p in 0..kc {
                for i in 0..MR {
                    *dst.add(i) = if i < rows { a.at(ic + ir + i, pc + p) } else { 0.0 };
                }
                dst = dst.add(MR);
            }
        }
        ir += MR;
    }
}

/// Packs the `kc x nc` block of op(B) at `(pc, jc)` into NR-wide panels: panel `s` holds `kc`
/// rows of NR values, columns past `nc` zero-filled.
unsafe fn pack_b(kc: usize, nc: usize, b: View, pc: usize, jc: usize, out: *mut f32) {
    let mut dst = out;
    let mut jr = 0;
    while jr < nc {
        let cols = NR.min(nc - jr);
        if cols == NR && b.cs == 1 {
            // Untransposed B: a panel row is NR contiguous floats, copied as vectors.
            for p in 0..kc {
                copy_vectors::<NR>(b.ptr.add((pc + p) * b.rs + jc + jr), dst);
                dst = dst.add(NR);
            }
        } else {
            for p in 0..kc {
                for j in 0..NR {
                    *dst.add(j) = if j < cols { b.at(pc + p, jc + jr + j) } else { 0.0 };
                }
                dst = dst.add(NR);
            }
        }
        jr += NR;
    }
}

/// Copies `LEN` (a multiple of 4) contiguous floats as f32x4 vectors.
#[inline(always)]
unsafe fn copy_vectors<const LEN: usize>(src: *const f32, dst: *mut f32) {
    for v in 0..LEN / 4 {
        v128_store(dst.add(4 * v) as *mut v128, v128_load(src.add(4 * v) as *const v128));
    }
}

/// The MR x NR micro-kernel: accumulates `kc` rank-1 updates of a packed A panel and a packed B
/// panel in 8 f32x4 registers, then writes `C = beta * C + alpha * acc` for the `rows x cols`
/// corner that lies inside C (a full tile writes vectors straight to C; an edge tile goes
/// through a stack buffer).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro_kernel(
    kc: usize,
    ap: *const f32,
    bp: *const f32,
    alpha: f32,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    rows: usize,
    cols: usize,
) {
    let zero = f32x4_splat(0.0);
    let mut acc = [[zero; 2]; MR];
    let (mut ap, mut bp) = (ap, bp);
    for _ in 0..kc {
        let b0 = v128_load(bp as *const v128);
        let b1 = v128_load(bp.add(4) as *const v128);
        for (i, row) in acc.iter_mut().enumerate() {
            let a = f32x4_splat(*ap.add(i));
            row[0] = f32x4_add(row[0], f32x4_mul(a, b0));
            row[1] = f32x4_add(row[1], f32x4_mul(a, b1));
        }
        ap = ap.add(MR);
        bp = bp.add(NR);
    }

    let va = f32x4_splat(alpha);
    if rows == MR && cols == NR {
        let vb = f32x4_splat(beta);
        for (i, row) in acc.iter().enumerate() {
            for (h, &v) in row.iter().enumerate() {
                let dst = c.add(i * ldc + 4 * h) as *mut v128;
                let scaled = f32x4_mul(va, v);
                let out = if beta == 0.0 {
                    scaled
                } else if beta == 1.0 {
                    f32x4_add(v128_load(dst), scaled)
                } else {
                    f32x4_add(f32x4_mul(vb, v128_load(dst)), scaled)
                };
                v128_store(dst, out);
            }
        }
        return;
    }
    let mut tile = [0.0f32; MR * NR];
    for (i, row) in acc.iter().enumerate() {
        for (h, &v) in row.iter().enumerate() {
            v128_store(tile.as_mut_ptr().add(i * NR + 4 * h) as *mut v128, f32x4_mul(va, v));
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            let dst = c.add(i * ldc + j);
            let t = tile[i * NR + j];
            *dst = if beta == 0.0 { t } else { beta * *dst + t };
        }
    }
}
