//! The derivations behind mfrnn, one document per topic, rendered from `theory/*.md`.
//!
//! Every result is labelled, names the function that implements it and the test that
//! checks it.

#[doc = include_str!("../../theory/01-gaussian-expectations.md")]
pub mod gaussian_expectations {}

#[doc = include_str!("../../theory/02-vanilla-rnn.md")]
pub mod vanilla_rnn {}

#[doc = include_str!("../../theory/03-minimal-rnn.md")]
pub mod minimal_rnn {}

#[doc = include_str!("../../theory/08-fixed-points-and-timescales.md")]
pub mod fixed_points_and_timescales {}

#[doc = include_str!("../../theory/04-spectra.md")]
pub mod spectra {}

#[doc = include_str!("../../theory/05-small-variance.md")]
pub mod small_variance {}

#[doc = include_str!("../../theory/06-critical-initialization.md")]
pub mod critical_initialization {}

#[doc = include_str!("../../theory/07-simulation.md")]
pub mod simulation {}

#[doc = include_str!("../../theory/09-training.md")]
pub mod training {}

#[doc = include_str!("../../theory/10-trainability.md")]
pub mod trainability {}

#[doc = include_str!("../../theory/11-stationary-exact.md")]
pub mod stationary_exact {}
