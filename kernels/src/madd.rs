//! `madd(a, b, c) = a * b + c` on four float32 lanes, and [`madd_f64`] on two float64 lanes:
//! the one place the two builds differ.
//!
//! - The plain SIMD build (`wasm/prism.wasm`, for engines without relaxed SIMD) multiplies and
//!   then adds: two roundings.
//! - The fused build (`wasm/prism_fma.wasm`, compiled with `--cfg prism_fma`) calls an imported
//!   `prism.madd` that the build script rewrites into `f32x4.relaxed_madd`
//!   (`scripts/_fuse_madd.ts`): one rounding where the engine fuses, as V8 does on x86-64 with
//!   FMA and on arm64. rustc 1.63 cannot emit the instruction itself (its intrinsics arrived in
//!   Rust 1.82), but it passes three `v128` to an import and takes one back, which is exactly
//!   the instruction's operand stack, so the rewrite replaces each call with the opcode in place.
//!
//! Kernels use [`madd`] only where a product is added into a running sum (the GEMM / SYRK
//! micro-kernel, RX scoring, depthwise convolution); both builds are held to the same stated
//! tolerances against float64 references in `tests/`.

use core::arch::wasm32::v128;

#[cfg(prism_fma)]
#[link(wasm_import_module = "prism")]
#[allow(improper_ctypes)] // v128 is passed as a WebAssembly v128; the call never reaches a host
extern "C" {
    #[link_name = "madd"]
    fn imported_madd(a: v128, b: v128, c: v128) -> v128;
    #[link_name = "madd_f64"]
    fn imported_madd_f64(a: v128, b: v128, c: v128) -> v128;
}

/// `a * b + c`, fused in the `prism_fma` build.
#[cfg(prism_fma)]
#[inline(always)]
pub(crate) fn madd(a: v128, b: v128, c: v128) -> v128 {
    // Safety: the build rewrites every call into `f32x4.relaxed_madd`, which has no preconditions.
    unsafe { imported_madd(a, b, c) }
}

/// `a * b + c`, multiplied and then added (two roundings).
#[cfg(not(prism_fma))]
#[inline(always)]
pub(crate) fn madd(a: v128, b: v128, c: v128) -> v128 {
    use core::arch::wasm32::{f32x4_add, f32x4_mul};
    f32x4_add(f32x4_mul(a, b), c)
}

/// `a * b + c` on two float64 lanes, fused in the `prism_fma` build (the import `prism.madd_f64`
/// becomes `f64x2.relaxed_madd`): the float64 eigensolver's reduction, where the fused build's
/// one rounding per multiply-add is at least as accurate as the plain build's two.
#[cfg(prism_fma)]
#[inline(always)]
pub(crate) fn madd_f64(a: v128, b: v128, c: v128) -> v128 {
    // Safety: the build rewrites every call into `f64x2.relaxed_madd`, which has no preconditions.
    unsafe { imported_madd_f64(a, b, c) }
}

/// `a * b + c` on two float64 lanes, multiplied and then added (two roundings).
#[cfg(not(prism_fma))]
#[inline(always)]
pub(crate) fn madd_f64(a: v128, b: v128, c: v128) -> v128 {
    use core::arch::wasm32::{f64x2_add, f64x2_mul};
    f64x2_add(f64x2_mul(a, b), c)
}
