//! The recurrent cells and the vocabulary every module shares to talk about them.
//!
//! - **Which cell:** [`Cell`] (the vanilla RNN with its activation, or the minimalRNN), tagged
//!   by [`CellKind`]; **its hyper-parameters:** [`CellParams`] (σ_w, σ_v, σ_b, μ_b, R, validated,
//!   built with named setters); **which theory:** [`Theory`] (the factorised mean-field
//!   recursion or the exact theory of the real network); **the weights:** [`WeightLaw`] and
//!   [`Regime`] (tied or redrawn weights, frozen or fresh bias).
//! - **Mean-field theory** of each cell ([`vanilla`], [`minimal`]) behind one trait,
//!   [`MeanField`] (trajectories, the full [`Analysis`] with every fixed point, the fast
//!   [`Summary`]); [`Cell::mean_field`] builds it.
//! - **The unit rule** ([`Cell::unit_state`], [`Cell::unit_slopes`], [`Cell::update_states`]):
//!   one unit's update and its Jacobian entries, which the exact theory ([`crate::exact`]), the
//!   simulator and Jacobian sampler ([`crate::sim`]) and training share.
//! - Shared results: input-correlation schedules ([`RhoSchedule`]), trajectories
//!   ([`Trajectory`]) and the phase of a network ([`Phase`]).
//!
//! # Extension recipe: one place per concern
//!
//! Everything that varies by cell dispatches on [`Cell`] with one exhaustive `match` per
//! concern, so adding a variant (a GRU, say) makes the compiler list each place to fill in:
//!
//! | concern | the one dispatch | per-cell code |
//! |---|---|---|
//! | names, equation, validity, unit rule | `impl Cell` in `cells/cell.rs` | the match arms |
//! | mean-field theory | [`Cell::mean_field`] | `cells/<cell>.rs` implementing [`MeanField`] |
//! | exact theory, simulation, Jacobian sampling | none: generic over the unit rule | — |
//! | exact theory at stationarity, synchronisation of networks | matches on [`Cell`] in `exact::stationary` (path sampler, initial guess, timescales) and `sim::sync` | the match arms (not yet generic) |
//! | critical initialization | [`crate::init::critical`] | `init/<cell>.rs` |
//! | Jacobian spectrum | [`crate::spectrum::for_cell`] | the vanilla law or the gated law |
//! | training (BPTT) | `training::model` | `training/cell.rs` |
//!
//! A capability across cells (BPTT training was the latest) is one new module with one such
//! dispatch and the per-cell implementations behind it. A cell whose update is not "one
//! pre-activation per unit, then an elementwise rule" (a GRU's reset gate multiplies the state
//! before `W`) also needs the simulator's step (`sim::network`) to ask the cell for its
//! pre-activations: that is the one place the generic path would grow a match.

mod cell;
pub mod minimal;
pub mod vanilla;

pub use cell::{
    CELL_NAMES, Cell, CellKind, CellParams, CellParamsBuilder, Correlation, Regime, Theory,
    UnitSlopes, WeightLaw,
};

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::roots::{BrentParams, IterationParams, timescale};

/// The per-step correlation `ρ^t` between the inputs of two sequences, `t = 1..=T`.
///
/// Text form (CLI `--rho-schedule`): comma-separated `VALUExCOUNT` runs, e.g. `0.3x1,1x49`
/// is ρ = 0.3 at step 1 and ρ = 1 for steps 2..=50. Every run needs its count.
///
/// The length is bounded before anything is expanded: a schedule of `T` steps is only
/// useful for a trajectory over it, so `T` is refused (naming `steps`) when the schedule and
/// the smallest trajectory over it, [`BYTES_PER_STEP`] bytes a step, exceed the memory limit
/// ([`crate::budget`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RhoSchedule(Vec<f64>);

/// Bytes a step of a schedule costs at least: the value itself and the six numbers a
/// mean-field trajectory keeps per step (`t`, `q`, `Q`, `q_ab`, `C`, `c`).
pub const BYTES_PER_STEP: f64 = 56.0;

/// Refuses a schedule of `steps` steps that cannot fit (before it is expanded).
fn check_length(steps: usize) -> Result<()> {
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    crate::budget::Estimate::new("a schedule and its trajectory")
        .memory("steps", steps as f64, BYTES_PER_STEP * steps as f64)
        .check()
}

impl RhoSchedule {
    /// The same `rho` for `steps` steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `rho ∉ [−1, 1]` or `steps == 0`; [`Error::TooLarge`]
    /// (`steps`) beyond the memory limit.
    pub fn constant(rho: f64, steps: usize) -> Result<RhoSchedule> {
        check_rho(rho)?;
        check_length(steps)?;
        Ok(RhoSchedule(vec![rho; steps]))
    }

    /// From explicit values.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty list or a value outside `[−1, 1]`;
    /// [`Error::TooLarge`] (`steps`) beyond the memory limit.
    pub fn from_values(values: Vec<f64>) -> Result<RhoSchedule> {
        check_length(values.len())?;
        for &r in &values {
            check_rho(r)?;
        }
        Ok(RhoSchedule(values))
    }

    /// Parses `VALUExCOUNT,...`. The runs are read and the total length checked before the
    /// schedule is expanded.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the bad run (a missing or zero count, a count too large to
    /// hold), [`Error::InvalidParameter`] for ρ out of range, [`Error::TooLarge`] (`steps`)
    /// beyond the memory limit.
    pub fn parse(text: &str) -> Result<RhoSchedule> {
        let perr = |reason: String| Error::Parse {
            what: "rho schedule",
            input: text.to_string(),
            reason,
        };
        let mut runs = Vec::new();
        let mut total = 0usize;
        for run in text.split(',') {
            let run = run.trim();
            if run.is_empty() {
                return Err(perr("empty run (expected VALUExCOUNT)".into()));
            }
            let (v, n) = run.split_once(['x', 'X']).ok_or_else(|| {
                perr(format!(
                    "run `{run}` has no count (expected VALUExCOUNT, e.g. `{run}x1`)"
                ))
            })?;
            let (v, n) = (v.trim(), n.trim());
            let rho: f64 = v
                .parse()
                .map_err(|_| perr(format!("`{v}` is not a number")))?;
            let count: usize = n.parse().map_err(|e: std::num::ParseIntError| {
                if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                    perr(format!("count `{n}` is too large"))
                } else {
                    perr(format!("`{n}` is not a positive integer count"))
                }
            })?;
            if count == 0 {
                return Err(perr(format!("run `{run}` has count 0")));
            }
            check_rho(rho)?;
            total = total
                .checked_add(count)
                .ok_or_else(|| perr("the total number of steps is too large".into()))?;
            runs.push((rho, count));
        }
        check_length(total)?;
        let mut out = Vec::with_capacity(total);
        for (rho, count) in runs {
            out.extend(std::iter::repeat_n(rho, count));
        }
        Ok(RhoSchedule(out))
    }

    /// Number of steps `T`.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty (never, for a validated schedule).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `ρ^t` for `t = 1..=T` (index `t − 1`).
    pub fn values(&self) -> &[f64] {
        &self.0
    }
}

/// Checks that the variances a cell's scales feed into its pre-activations, `σ_w²`,
/// `σ_v² R` and `σ_b²`, sum to at most `1e300` (each scale is already finite), and that
/// `|μ_b| <= 1e150`: a scale near `1e154` or beyond would make `q` infinite, and the error
/// must name that scale (or `r`, `mu-b`), not `q`. The largest part is named.
pub(crate) fn check_variances(
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
) -> Result<()> {
    // φ(μ_b + ...)² overflows for unbounded φ long before μ_b does.
    if mu_b.abs() > 1e150 {
        return Err(Error::invalid(
            "mu-b",
            mu_b,
            "a number with |μ_b| <= 1e150 (its square must be a finite double)",
        ));
    }
    let parts = [
        ("sigma-w", sigma_w, sigma_w * sigma_w),
        ("sigma-v", sigma_v, sigma_v * sigma_v * r),
        ("sigma-b", sigma_b, sigma_b * sigma_b),
    ];
    // Headroom below f64::MAX: the maps add and double these variances.
    let total: f64 = parts.iter().map(|p| p.2).sum();
    if total <= 1e300 {
        return Ok(());
    }
    let (name, value, _) = parts
        .iter()
        .copied()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .expect("three parts");
    let name = if name == "sigma-v" && sigma_v * sigma_v <= 1e300 {
        "r" // σ_v² is finite, R makes σ_v² R overflow
    } else {
        name
    };
    let value = if name == "r" { r } else { value };
    Err(Error::invalid(
        name,
        value,
        "small enough that σ_w² + σ_v² R + σ_b² <= 1e300 (scales below about 1e150)",
    ))
}

fn check_rho(rho: f64) -> Result<()> {
    if rho.is_finite() && (-1.0..=1.0).contains(&rho) {
        Ok(())
    } else {
        Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"))
    }
}

/// Mean-field (or simulated) statistics of two sequences over time, `t = 1..=T`.
///
/// `q` is the pre-activation variance, `Q` the hidden second moment `(1/N) h·h`, `q_ab` the
/// pre-activation covariance of the two sequences, `C` their hidden second moment
/// `(1/N) h_a·h_b`, and `c = q_ab / q` the pre-activation correlation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trajectory {
    /// Time steps `1..=T`.
    pub t: Vec<usize>,
    /// Pre-activation variance `q^t`.
    pub q: Vec<f64>,
    /// Hidden second moment `Q^t`.
    #[serde(rename = "Q")]
    pub big_q: Vec<f64>,
    /// Pre-activation covariance `q_ab^t`.
    pub q_ab: Vec<f64>,
    /// Hidden second moment between sequences `C^t`.
    #[serde(rename = "C")]
    pub big_c: Vec<f64>,
    /// Pre-activation correlation `c^t = q_ab^t / q^t`.
    pub c: Vec<f64>,
}

impl Trajectory {
    /// An empty trajectory of `n` steps: `t = 1..=n`, room for `n` values of each quantity.
    pub(crate) fn with_capacity(n: usize) -> Trajectory {
        Trajectory {
            t: (1..=n).collect(),
            q: Vec::with_capacity(n),
            big_q: Vec::with_capacity(n),
            q_ab: Vec::with_capacity(n),
            big_c: Vec::with_capacity(n),
            c: Vec::with_capacity(n),
        }
    }
}

/// The grid on which the cells bracket their fixed points in `[0, hi]`: `0`, `n_log + 1`
/// points spaced logarithmically over the `decades` below `hi`, and `n_lin` points spaced
/// linearly up to `hi`, sorted without repeats.
pub(crate) fn log_linear_grid(hi: f64, decades: f64, n_log: u32, n_lin: u32) -> Vec<f64> {
    let mut grid: Vec<f64> = vec![0.0];
    for i in 0..=n_log {
        grid.push(hi * 10f64.powf(-decades + decades * f64::from(i) / f64::from(n_log)));
    }
    for i in 1..=n_lin {
        grid.push(hi * f64::from(i) / f64::from(n_lin));
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    grid
}

/// The headline numbers of a cell's analysis without the list of every fixed point: what
/// phase diagrams evaluate at each grid point ([`MeanField::summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// `q*` (reached from `h^0 = 0`).
    pub q_star: f64,
    /// `Q*`.
    #[serde(rename = "Q_star")]
    pub big_q_star: f64,
    /// `c*` (`None` if `q* = 0`).
    pub c_star: Option<f64>,
    /// `χ_q`.
    pub chi_q: f64,
    /// `χ_c` at `c*`.
    pub chi_c: Option<f64>,
    /// `χ₁`.
    pub chi_1: f64,
    /// `ξ_q`.
    pub xi_q: Option<f64>,
    /// `ξ_c`.
    pub xi_c: Option<f64>,
    /// `ξ₁`.
    pub xi_1: Option<f64>,
    /// Phase from `χ₁`.
    pub phase: Phase,
}

impl Summary {
    /// The summary of fixed points `q*`, `Q*`, `c*` with slopes `χ_q`, `χ_c`, `χ₁`: the
    /// timescales `ξ = −1/ln χ` ([`timescale`]) and the phase from `χ₁`.
    pub(crate) fn from_slopes(
        (q_star, big_q_star): (f64, f64),
        c_star: Option<f64>,
        chi_q: f64,
        chi_c: Option<f64>,
        chi_1: f64,
    ) -> Summary {
        Summary {
            q_star,
            big_q_star,
            c_star,
            chi_q,
            chi_c,
            chi_1,
            xi_q: timescale(chi_q),
            xi_c: chi_c.and_then(timescale),
            xi_1: timescale(chi_1),
            phase: Phase::from_chi1(chi_1),
        }
    }
}

/// Fixed points, slopes, timescales and phase of a cell at constant input correlation `ρ`
/// ([`MeanField::analyze`]): the headline numbers, the solver's diagnostics and every fixed
/// point of the cell's maps. Serialised flat (the keys of [`Summary`], then `residual`,
/// `iterations` and the fixed-point lists).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The headline numbers (`q*` and `Q*` reached from `h⁰ = 0`, `c*`, the slopes `χ`, the
    /// timescales `ξ = −1/ln χ` with `None` for infinite, the phase).
    #[serde(flatten)]
    pub summary: Summary,
    /// Largest residual of the reported fixed points.
    pub residual: f64,
    /// Total map evaluations of the fixed-point refinements.
    pub iterations: usize,
    /// Every fixed point of the cell's maps.
    #[serde(flatten)]
    pub fixed_points: FixedPoints,
}

/// Every fixed point of a cell's maps (the lists differ by cell: the vanilla RNN's maps act on
/// the pre-activation variance and correlation, the minimalRNN's on the state's second moments).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FixedPoints {
    /// The vanilla RNN (V.1)–(V.2).
    Vanilla {
        /// Every variance fixed point `q*` in `[0, ∞)`.
        variance_fixed_points: Vec<vanilla::VarianceFixedPoint>,
        /// Every correlation fixed point `c*` in `[−1, 1]`.
        correlation_fixed_points: Vec<vanilla::CorrelationFixedPoint>,
    },
    /// The minimalRNN (M.2)–(M.3).
    Minimal {
        /// Every `Q`-map fixed point in `[0, R]`.
        fixed_points: Vec<minimal::StateFixedPoint>,
        /// Every `C`-map fixed point in `[−Q*, Q*]` (empty when the gate is shut to memory
        /// loss, see `notes`).
        covariance_fixed_points: Vec<minimal::CovarianceFixedPoint>,
        /// What the numbers cannot say, in words (e.g. a gate open to within rounding, where
        /// `c*` and `χ_c` are not resolved).
        notes: Vec<String>,
    },
}

/// The mean-field theory of one cell at one set of hyper-parameters: what every cell provides
/// ([`vanilla::Vanilla`], [`minimal::Minimal`]; built by [`Cell::mean_field`]).
pub trait MeanField: Send + Sync + fmt::Debug {
    /// The cell.
    fn cell(&self) -> Cell;
    /// The hyper-parameters.
    fn params(&self) -> &CellParams;
    /// Mean-field trajectory of two sequences with input correlations `ρ^t` from `h⁰ = 0`.
    ///
    /// # Errors
    /// Errors of the expectation engine (e.g. when the variance leaves double precision).
    fn trajectory(&self, rho: &RhoSchedule) -> Result<Trajectory>;
    /// Every fixed point, the slopes, timescales and phase at constant `ρ`.
    ///
    /// # Errors
    /// Engine and solver errors ([`crate::Error::NoFixedPoint`], ...).
    fn analyze(&self, rho: f64) -> Result<Analysis>;
    /// [`MeanField::analyze`]'s headline numbers, computed for speed (phase diagrams).
    ///
    /// # Errors
    /// As [`MeanField::analyze`].
    fn summary(&self, rho: f64) -> Result<Summary>;
    /// Why a trajectory, simulation or sampled unit process of this network can leave the
    /// range of double precision, in words and numbers (the reason of
    /// [`crate::Error::Diverged`]).
    fn divergence_reason(&self) -> String;
    /// `χ₁` at the fixed point reached from `h⁰ = 0` (the mean squared singular value of one
    /// step's Jacobian there).
    ///
    /// # Errors
    /// As [`MeanField::summary`].
    fn chi_1(&self) -> Result<f64> {
        Ok(self.summary(1.0)?.chi_1)
    }
}

impl Cell {
    /// The cell's mean-field theory at `p` (the one dispatch of this concern).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `p` violates the cell's constraint ([`Cell::validate`]).
    pub fn mean_field(&self, p: &CellParams) -> Result<Box<dyn MeanField>> {
        Ok(match self {
            Cell::Vanilla(act) => Box::new(vanilla::Vanilla::new(act.clone(), *p)),
            Cell::Minimal => Box::new(minimal::Minimal::new(*p)?),
        })
    }
}

/// Settings of the fixed-point solvers of a cell's mean-field theory
/// ([`vanilla::Vanilla::with_solver`], [`minimal::Minimal::with_solver`]); the defaults are
/// those every result in the docs and tests was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SolverParams {
    /// Largest number of map evaluations of each Brent refinement of a fixed point (the
    /// tolerance is chosen per map). Default 200.
    pub brent_max_iter: usize,
    /// The iteration of the variance (state) map from `h⁰ = 0` that decides which fixed point
    /// the dynamics reach when there are several. Default: relative tolerance 1e-13, 20 000
    /// steps (the minimalRNN's default: 1e-14, 100 000 steps, see [`SolverParams::minimal`]).
    pub reach: IterationParams,
    /// The iteration of the correlation (covariance) map that chooses among several stable
    /// fixed points. Default: absolute tolerance 1e-14, 20 000 steps.
    pub correlation: IterationParams,
}

impl Default for SolverParams {
    fn default() -> Self {
        SolverParams {
            brent_max_iter: 200,
            reach: IterationParams::default(),
            correlation: IterationParams {
                rel_tol: 0.0,
                abs_tol: 1e-14,
                max_iter: 20_000,
            },
        }
    }
}

impl SolverParams {
    /// The minimalRNN's defaults: as [`SolverParams::default`] with the state-map iteration
    /// at relative tolerance 1e-14 and up to 100 000 steps (a nearly open gate approaches its
    /// fixed point slowly).
    pub fn minimal() -> SolverParams {
        SolverParams {
            reach: IterationParams {
                rel_tol: 1e-14,
                abs_tol: 0.0,
                max_iter: 100_000,
            },
            ..SolverParams::default()
        }
    }

    /// Brent settings with absolute tolerance `xtol` and this evaluation cap.
    pub fn brent(&self, xtol: f64) -> BrentParams {
        BrentParams {
            xtol,
            max_iter: self.brent_max_iter,
        }
    }
}

/// Phase of a network at its fixed point, from `χ₁`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `χ₁ < 1`: nearby trajectories converge; `c* = 1` is stable for identical inputs.
    Ordered,
    /// `|χ₁ − 1| <= 1e-8`.
    Critical,
    /// `χ₁ > 1`: nearby trajectories separate.
    Chaotic,
}

impl Phase {
    /// Tolerance on `|χ₁ − 1|` within which the phase is called critical.
    pub const CRITICAL_TOL: f64 = 1e-8;

    /// Phase from `χ₁`.
    pub fn from_chi1(chi1: f64) -> Phase {
        if (chi1 - 1.0).abs() <= Self::CRITICAL_TOL {
            Phase::Critical
        } else if chi1 < 1.0 {
            Phase::Ordered
        } else {
            Phase::Chaotic
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Ordered => "ordered",
            Phase::Critical => "critical",
            Phase::Chaotic => "chaotic",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_parses_runs() {
        let s = RhoSchedule::parse("0.3x1, 1x4,-0.5X1").unwrap();
        assert_eq!(s.values(), &[0.3, 1.0, 1.0, 1.0, 1.0, -0.5]);
        for bad in [
            "",
            "0.3x",
            "x3",
            "2x3",
            "0.3x0",
            "0.1x1,,0.2x1",
            "nanx2",
            "0.5",
            "0.5x1,0.2",
            "1x99999999999999999999999",
        ] {
            assert!(RhoSchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn huge_schedules_are_refused_before_expansion() {
        // 2 × 2^63 steps overflow the count; 10^12 steps (56 TB) exceed any memory limit.
        // Both are refused at once, without allocating.
        let t = std::time::Instant::now();
        let e = RhoSchedule::parse("1x9223372036854775807,1x9223372036854775807").unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let e = RhoSchedule::parse("0.2x1,1x1000000000000").unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    parameter: "steps",
                    ..
                }
            ),
            "{e}"
        );
        let e = RhoSchedule::constant(1.0, 1_000_000_000_000).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    parameter: "steps",
                    ..
                }
            ),
            "{e}"
        );
        assert!(t.elapsed().as_secs_f64() < 1.0);
    }
}
