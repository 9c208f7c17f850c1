//! The library recipes behind `mfrnn report`: the computations that the report's stages
//! show, as typed results, so that the CLI only chooses parameters and renders.
//!
//! Each recipe combines calls to the layers below; none adds theory of its own:
//!
//! - [`engine_accuracy`]: the expectation engine's automatic method against its independent
//!   adaptive Gauss–Kronrod path on a grid of integrands, means, variances and correlations
//!   ([`EngineRow`]).
//! - [`finite_width`]: a statistic of simulated networks against the infinite-width theory
//!   across widths, with the weighted fit of the `O(1/N)` bias
//!   ([`crate::stats::fit_inverse_width`], `theory/07-simulation.md` (Sim.7)).
//! - [`propagation`]: the mean-field trajectory, the sampled exact theory and simulated
//!   networks for one cell and input schedule.
//! - [`critical_row`]: a critical initialization ([`crate::init::critical`]) with its
//!   spectral width and, optionally, the `χ₁` of simulated networks; an infeasible target
//!   becomes a row saying what is feasible.
//! - [`trainability_grid`]: a trainability grid ([`crate::training::trainability`]) run in
//!   memory and analysed against the factorised theory's timescales, on the presets of
//!   [`trainability_presets`].
//!
//! The spectra stage needs no recipe of its own: [`crate::spectrum::for_cell_each`] computes
//! the theory for several horizons and weight laws from one law, [`crate::sim::jacobian`]
//! samples networks and [`crate::stats`] compares them.
//!
//! Checked by `tests/report.rs` (the report these recipes produce) and the unit tests here.

mod accuracy;
mod init;
mod propagation;
mod trainability;

pub use accuracy::{
    BiasFit, ENGINE_ABSOLUTE_SCALE, ENGINE_INTEGRANDS, EngineGrid, EngineRow, EngineSummary,
    FiniteWidthRow, FiniteWidthStudy, Reference, WidthSweep, engine_accuracy, engine_summary,
    finite_width,
};
pub use init::{CriticalRow, SPREAD_HORIZON, critical_row};
pub use propagation::{Propagation, propagation};
pub use trainability::{
    TrainabilityPreset, trainability_grid, trainability_presets, trainability_steps,
};
