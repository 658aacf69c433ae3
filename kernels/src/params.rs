//! Block sizes of every kernel: the one place they are set, each documented with the buffer or
//! the loop it sizes.
//!
//! The build (`scripts/build_wasm.ts`) exports every `pub const` here to TypeScript under the
//! same name, with its doc comment, in `wasm/kernel_exports.generated.ts`, so code that sizes a
//! buffer or cuts work at a block edge reads the number the kernels were built with. Each value
//! is therefore a plain integer literal.

/// Micro-tile rows: rows of the register tile one micro-kernel call produces (4 rows x 2
/// `f32x4` = 8 accumulators, plus 2 operand vectors and 1 broadcast, fit the 16 SIMD registers
/// V8 has on x86-64 without spilling). Sizes the height of a packed GEMM A panel (`MR * KC`
/// floats) and the columns of the packed SYRK operand broadcast per step.
pub const MR: usize = 4;

/// Rows `prism_mahalanobis_f32` scores together, in the lanes of two `f32x4` (8 accumulators
/// for 4 columns of `W`, plus 2 row vectors and 1 broadcast). Sizes its scratch: one block of
/// rows, centred and transposed, `RX_ROWS * cols` floats.
pub const RX_ROWS: usize = 8;

/// Micro-tile columns (two `f32x4` vectors): the width of every packed panel. Sizes a packed
/// GEMM B panel (`NR * KC` floats), the panels of the packed SYRK / Gram operand
/// (`round_up(n, NR) * GRAM_BLOCK` floats of scratch) and the panels of the packed whitening
/// matrix of `prism_mahalanobis_f32` (`cols * NR * ceil(k / NR)` floats).
pub const NR: usize = 8;

/// GEMM depth block (loop 4's step): products summed in float32 per pass over C. Sizes the
/// depth of both packed GEMM buffers; one A panel (`MR * KC` floats = 4 KiB) and one B panel
/// (`NR * KC` = 8 KiB) sit in L1 together.
pub const KC: usize = 256;

/// GEMM row block (loop 3's step): rows of op(A) packed at once. The packed A buffer holds
/// `round_up(min(m, MC), MR) * min(k, KC)` floats (64 KiB at most, L2-resident). A multiple of
/// [`MR`].
pub const MC: usize = 64;

/// GEMM column block (loop 5's step): columns of op(B) packed at once. The packed B buffer holds
/// `round_up(min(n, NC), NR) * min(k, KC)` floats (1 MiB at most; a dense layer's B is usually
/// much narrower). A multiple of [`NR`].
pub const NC: usize = 1024;

/// Rows of the SYRK operand (rows of `X` for `prism_syrk_shifted_f32`, columns of `A` for
/// `prism_gram_rows_f32`) summed in float32 before the block is merged into float64. Bounds the
/// float32 error (about `GRAM_BLOCK * 2^-24` relative; see `gemm/syrk.rs`) and sizes the SYRK
/// scratch: one packed block, `round_up(n, NR) * GRAM_BLOCK` floats (28 KiB at n = 50, in L1).
/// Callers that split rows between workers cut at multiples of it, so a split run sums the
/// same blocks as one call. Measured at 1,638,400 x 50: 256 is about 5% faster but doubles the
/// error when the shift is off the mean; 64 halves it again at a further cost.
pub const GRAM_BLOCK: usize = 128;

/// Rows of the SYRK register tile in the fused build (`gemm/syrk_micro.rs`): 6 rows x 2
/// `f32x4` = 12 accumulators, enough independent fused multiply-add chains to cover their
/// latency on both FMA units; with 2 operand vectors and 1 broadcast, the 15 SIMD registers V8
/// allocates on x86-64. Sizes no buffer (the tile's rows are read in place in the packed
/// operand, whose panels stay [`NR`] wide).
pub const SYRK_MR_FMA: usize = 6;

/// Rows of the SYRK register tile in the plain SIMD build, which needs a register for each
/// product before its add: [`MR`], the shared 4 x 8 micro-kernel's tile (measured: 5 rows ran
/// 40 % slower, its registers spilling).
pub const SYRK_MR_SIMD: usize = 4;

/// Rows `prism_column_sums_f32` sums in float32 before merging into float64. Sizes no buffer
/// (the partial sums live in registers); it bounds the float32 error of each block.
pub const COLUMN_SUMS_BLOCK: usize = 256;

/// Output pixels whose products a convolution's weight gradient (`prism_conv_wgrad_f32`,
/// `prism_conv_depthwise_wgrad_f32`) sums in float32 before merging them into its float64
/// accumulators: bounds the float32 error of each block (about `CONV_BLOCK * 2^-24` relative)
/// whatever the batch and image size. Sizes the dense weight gradient's gathered input block
/// (`CONV_BLOCK * kh * kw * c` floats; 288 KiB for 3x3x32). Hosts that split pixels between
/// workers cut at multiples of it, so a split run sums the same blocks as one call.
pub const CONV_BLOCK: usize = 256;

/// Most chunks one step of the float64 tridiagonal reduction (`eigen/tridiag.rs`) is cut into:
/// rows of equal area of the trailing triangle, each accumulating its share of the next
/// matrix-vector product into its own vector, added in chunk order, so the sums are the same
/// whichever thread ran which chunk. Sizes the reduction's scratch: `EIGEN_CHUNKS - 1` vectors
/// of `n` values beyond the four it always needs.
pub const EIGEN_CHUNKS: usize = 8;

/// Elements of the trailing triangle per chunk of a reduction step, at least (the chunk count
/// is `min(EIGEN_CHUNKS, m² / 2 / EIGEN_CHUNK_AREA)`, 1 below it): a chunk costs a claim and
/// an `O(m)` zeroing and add, so it must carry enough work to pay for them. Sizes no buffer.
pub const EIGEN_CHUNK_AREA: usize = 8192;

const _: () = assert!(
    MR == 4 && NR == 2 * 4,
    "the micro-kernel is written for 4 x (2 x f32x4)"
);
const _: () = assert!(EIGEN_CHUNKS >= 1 && EIGEN_CHUNKS <= 255, "the reduction's ticket has 8-bit chunk fields");
const _: () = assert!(MC % MR == 0 && NC % NR == 0 && GRAM_BLOCK % 4 == 0);
