//! The blocked matrix-product engine: one packing routine ([`pack`]) and one register-tile
//! micro-kernel ([`micro`]) shared by every kernel that multiplies packed panels, each kernel
//! being only its loop nest and the epilogue that stores the tile:
//!
//! - [`sgemm`]: `C = alpha * op(A) * op(B) + beta * C` (float32 C);
//! - [`syrk`]: the upper triangle of `PᵀP`, merged into float64 (covariance, Gram).
//!
//! Block sizes (`MR`, `NR`, `KC`, `MC`, `NC`, `GRAM_BLOCK`) live in `crate::params`, the one
//! place they are set, from where the build exports them to TypeScript.

mod micro;
mod pack;
mod sgemm;
mod syrk;
