#![doc = include_str!("../docs/crate-intro.md")]
// One audited `unsafe` call: the raw-pointer GEMM of the training engine
// (`training::linalg::gemm`, which checks every bound first). Everything else is safe code.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(rustdoc::broken_intra_doc_links)]

pub mod activation;
pub mod budget;
pub mod cells;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
/// Small-variance (power-series in q) expansions, Taylor-mode jets and the critical line near q* = 0.
pub mod expansion;
pub mod expect;
pub mod gauss;
pub mod init;
pub mod output;
pub mod phase;
pub mod power_series;
pub mod roots;
pub mod sim;
pub mod spectrum;
pub mod theory;
pub mod training;

pub use error::{Error, Result};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The user guide's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/user-guide.md")]
pub struct UserGuideDoctests;
