//! Status codes returned by kernels; `wasm/loader.ts` maps each to a thrown error.

/// Success.
pub const OK: i32 = 0;
/// An argument is out of range (a zero dimension where one is needed, an overflowing size).
pub const INVALID_ARGUMENT: i32 = 1;
/// The module could not grow its memory.
pub const OUT_OF_MEMORY: i32 = 2;
/// The input holds NaN or infinity where finite values are required.
pub const NON_FINITE: i32 = 3;
/// An iterative method did not converge.
pub const NO_CONVERGENCE: i32 = 4;

/// [`OK`] when every value a kernel checked was finite, else [`NON_FINITE`].
#[inline(always)]
pub fn finite_or_error(finite: bool) -> i32 {
    if finite {
        OK
    } else {
        NON_FINITE
    }
}
