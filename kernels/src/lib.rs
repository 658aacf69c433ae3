//! prism's CPU kernels, compiled to `wasm32-unknown-unknown` with `simd128`.
//!
//! Conventions every kernel follows (the TypeScript loader in `wasm/` relies on them):
//! - exports are `extern "C"`, named `prism_<kernel>`, and take only integers, floats and
//!   pointers into this module's memory (buffers come from `prism_alloc`);
//! - a kernel that can fail returns an `i32` status from [`status`]; 0 is success;
//! - no allocation inside kernels: callers pass every buffer, scratch included;
//! - float32 storage, float64 accumulation wherever a sum runs long;
//! - block sizes are set once, in [`params`]; kernels that multiply packed panels share the
//!   packing and the micro-kernel of `gemm/`.
//!
//! The build generates `wasm/kernel_exports.generated.ts` from these sources: every
//! `#[no_mangle] pub extern "C" fn` (on a line of its own above the function, parameters of
//! integer, float or raw-pointer types) becomes a typed, documented entry of the TypeScript
//! export table, and every `pub const` of [`params`] a TypeScript constant.
//!
//! Bump [`ABI_VERSION`] whenever an export's name, arguments or meaning changes.
#![cfg_attr(not(test), no_std)]
// The fused build passes v128 to an import that the build rewrites away (see `madd`).
#![cfg_attr(prism_fma, feature(simd_ffi))]

pub mod status;
mod alloc;
mod conv;
mod eigen;
mod gemm;
mod madd;
mod mahalanobis;
pub mod params;
mod reduce;

/// The ABI version the TypeScript loader checks at load time (`wasm/loader.ts`).
pub const ABI_VERSION: u32 = 2;

/// Returns [`ABI_VERSION`].
#[no_mangle]
pub extern "C" fn prism_abi_version() -> u32 {
    ABI_VERSION
}

/// A panic in a kernel is a bug; trap so the caller sees a `RuntimeError` instead of garbage.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
