//! Single-precision general matrix multiply, `C = alpha * op(A) * op(B) + beta * C`, row-major.
//!
//! The structure follows bluss/matrixmultiply (itself after BLIS): five loops around the shared
//! register-blocked micro-kernel ([`super::micro`]), with both operands packed into contiguous
//! panels first ([`super::pack`]) so the micro-kernel streams through memory with unit stride
//! whatever the transposes and leading dimensions were. Transposes are absorbed by the packing
//! (a pair of strides), so the backward passes of a dense layer (`Xᵀ·dY`, `dY·Wᵀ`) never
//! materialise a transposed copy. Block sizes ([`KC`], [`MC`], [`NC`]) live in `params.rs`.
//!
//! Numerics: products are summed in f32 inside one depth block of at most [`KC`] terms, then
//! added to C in f32. A dense layer's depth is at most a few thousand, where the relative error
//! stays near `k · 2⁻²⁴` of `Σ|a||b|`; this is the usual BLAS trade and the tests bound it.

use super::micro::{accumulate, Tile};
use super::pack::{pack, round_up, View};
use crate::params::{KC, MC, MR, NC, NR};
use crate::status;
use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};

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
                pack::<NR>(bv.from(pc, jc), kc, nc, None, packed_b);
                // Loop 3: row blocks of C and op(A), MC tall, packed transposed into MR panels.
                let mut ic = 0;
                while ic < m {
                    let mc = MC.min(m - ic);
                    pack::<MR>(av.from(ic, pc).t(), kc, mc, None, packed_a);
                    // Loop 2: NR-wide column panels within the block.
                    let mut jr = 0;
                    while jr < nc {
                        let cols = NR.min(nc - jr);
                        let bp = packed_b.add(jr * kc);
                        // Loop 1: MR-tall row panels; each pair of panels is one micro-tile.
                        let mut ir = 0;
                        while ir < mc {
                            let rows = MR.min(mc - ir);
                            let ct = c.add((ic + ir) * ldc + jc + jr);
                            let ap = packed_a.add(ir * kc);
                            micro_tile(kc, ap, bp, alpha, beta_block, ct, ldc, rows, cols);
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
    (rows - 1)
        .checked_mul(ld)?
        .checked_add(cols)?
        .checked_mul(4)
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

/// One MR x NR tile of C: the shared micro-kernel, then GEMM's epilogue, which writes
/// `C = beta * C + alpha * acc` for the `rows x cols` corner of the tile that lies inside C (a
/// full tile writes vectors straight to C; an edge tile reads its values back from the stack).
/// Kept out of line so the engine compiles the hot loop in a small function of its own, whatever
/// the loop nest around it (inlined into `prism_sgemm` it measured a few percent slower).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro_tile(
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
    let acc: Tile = accumulate::<2, MR>(kc, ap, bp);
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
    let mut scaled = acc;
    for v in scaled.iter_mut().flatten() {
        *v = f32x4_mul(va, *v);
    }
    // The tile as MR rows of NR floats.
    let tile = scaled.as_ptr() as *const f32;
    for i in 0..rows {
        for j in 0..cols {
            let dst = c.add(i * ldc + j);
            let t = *tile.add(i * NR + j);
            *dst = if beta == 0.0 { t } else { beta * *dst + t };
        }
    }
}
