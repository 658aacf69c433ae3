//! The blocked matrix-product engine: one packing routine ([`pack`]) and one register-tile
//! micro-kernel ([`micro`]) shared by every kernel that multiplies packed panels, each kernel
//! being only its loop nest and the epilogue that stores the tile:
//!
//! - [`sgemm`]: `C = alpha * op(A) * op(B) + beta * C` (float32 C);
//! - [`syrk`]: the upper triangle of `PᵀP`, merged into float64 (covariance, Gram); in the
//!   fused build its tiles are 6 rows high ([`syrk_micro`]), 12 FMA chains instead of 8.
//!
//! Convolution (`crate::conv`) reuses the packing, the micro-kernel (through its indirect
//! variant) and `prism_sgemm` for the weight gradient.
//!
//! Block sizes (`MR`, `NR`, `KC`, `MC`, `NC`, `GRAM_BLOCK`) live in `crate::params`, the one
//! place they are set, from where the build exports them to TypeScript.

pub(crate) mod micro;
pub(crate) mod pack;
pub(crate) mod sgemm;
mod syrk;
mod syrk_micro;
