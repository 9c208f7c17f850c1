//! The headline numbers of the exact theory at stationarity — the same quantities the
//! mean-field `analyze` reports (`q*`, `Q*`, `c*`, `χ₁`, `χ_c`, `ξ_c`, `ξ₁`, the phase), each
//! with its standard error — from the stationary solver and the decay curves
//! (`theory/11-stationary-exact.md`, (X.5)–(X.9)).

use serde::Serialize;

use super::timescales::{self, DecayCurve};
use super::{StationaryConfig, StationaryFixedPoint, solve_from};
use crate::cells::Phase;
use crate::cells::{Cell, CellParams, Regime};
use crate::error::{Error, Result};

/// Settings of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactSettings {
    /// The stationary solver.
    pub solver: StationaryConfig,
    /// Unit paths per replica of the decay curves.
    pub curve_paths: usize,
    /// Horizon of the decay curves (steps).
    pub horizon: usize,
}

impl ExactSettings {
    /// Settings with `paths` solver paths per iteration over `replicas` replicas, `curve_paths`
    /// paths per replica for the decay curves over `horizon` steps, seeded by `seed`.
    ///
    /// # Errors
    /// As [`StationaryConfig::new`]; [`Error::InvalidParameter`] naming `horizon` (8 to
    /// 16 384) or `paths` (curve paths at least 16).
    pub fn new(
        paths: usize,
        replicas: usize,
        curve_paths: usize,
        horizon: usize,
        seed: u64,
    ) -> Result<ExactSettings> {
        let solver = StationaryConfig::new(paths, replicas, seed)?;
        if !(8..=16_384).contains(&horizon) {
            return Err(Error::invalid(
                "horizon",
                horizon as f64,
                "between 8 and 16384 steps",
            ));
        }
        if curve_paths < 16 {
            return Err(Error::invalid(
                "paths",
                curve_paths as f64,
                "at least 16 paths per replica for the decay curves",
            ));
        }
        // The paths must be longer than the horizon.
        let solver = if solver.length <= horizon {
            let l = (2 * horizon).next_power_of_two();
            solver.with_length(l, solver.max_length.max(l))?
        } else {
            solver
        };
        Ok(ExactSettings {
            solver,
            curve_paths,
            horizon,
        })
    }

    /// Adjusts the solver settings (e.g. `|s| s.with_length(1024, 8192)`), keeping the paths
    /// longer than the horizon.
    ///
    /// # Errors
    /// The error of `f`; [`Error::InvalidParameter`] (`horizon`) when the new longest period
    /// is not longer than the horizon.
    pub fn with_solver(
        mut self,
        f: impl FnOnce(StationaryConfig) -> Result<StationaryConfig>,
    ) -> Result<ExactSettings> {
        let mut solver = f(self.solver)?;
        if solver.length <= self.horizon {
            let l = (2 * self.horizon).next_power_of_two();
            if solver.max_length < l {
                return Err(Error::invalid(
                    "horizon",
                    self.horizon as f64,
                    "shorter than half the longest period of the stationary paths",
                ));
            }
            solver = solver.with_length(l, solver.max_length)?;
        }
        self.solver = solver;
        Ok(self)
    }
}

/// The exact theory's fixed point, slopes, timescales and phase at constant `ρ`, with
/// standard errors over replicas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactAnalysis {
    /// Input correlation of the two sequences (0 or 1).
    pub rho: f64,
    /// `q* = σ_w² Q* + σ_v² R + σ_b²`.
    pub q_star: f64,
    /// Its standard error.
    pub q_star_se: f64,
    /// `Q* = E[h²]` at stationarity.
    #[serde(rename = "Q_star")]
    pub big_q_star: f64,
    /// Its standard error.
    #[serde(rename = "Q_star_se")]
    pub big_q_star_se: f64,
    /// The stationary correlation of the two sequences: 1 for identical inputs when the
    /// copies synchronise (`None` when they do not), 0 for the minimalRNN's hidden states at
    /// independent inputs.
    pub c_star: Option<f64>,
    /// The approach to stationarity is not computed at stationarity (`None`); see
    /// `trajectory --theory exact`.
    pub chi_q: Option<f64>,
    /// `ξ_Q` (not computed: `None`).
    pub xi_q: Option<f64>,
    /// Per-step decay factor of the two-sequence deviation at the horizon: the synchronisation
    /// rate `Λ` (ρ = 1) or the memory rate (ρ = 0).
    pub chi_c: Option<f64>,
    /// Its standard error.
    pub chi_c_se: Option<f64>,
    /// `ξ_c = −1/ln χ_c` at the horizon (`None`: no decay).
    pub xi_c: Option<f64>,
    /// Its standard error.
    pub xi_c_se: Option<f64>,
    /// Exact `χ₁` (X.5).
    pub chi_1: f64,
    /// Its standard error.
    pub chi_1_se: f64,
    /// `ξ₁ = −1/ln χ₁` (`None` for `χ₁ >= 1`).
    pub xi_1: Option<f64>,
    /// Its standard error.
    pub xi_1_se: Option<f64>,
    /// The phase from the synchronisation rate `Λ`: ordered when `Λ + 2 se < 1`, chaotic when
    /// `Λ − 2 se > 1`, critical (not resolved) otherwise.
    pub phase: Phase,
    /// The stationary fixed point (autocorrelation, gate statistics, diagnostics).
    pub stationary: StationaryFixedPoint,
    /// The synchronisation curve (X.6).
    pub synchronisation: DecayCurve,
    /// The memory curve at independent inputs (X.7), for `ρ = 0`.
    pub memory: Option<DecayCurve>,
    /// What the user should know about these numbers (convergence, non-exponential decay).
    pub notes: Vec<Note>,
}

/// A caveat of an exact analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// Its kind: `not converged`, `drifting`, `autocorrelation cut off`, `embedding clipped`,
    /// `non-exponential decay`, `no synchronisation`.
    pub kind: &'static str,
    /// The explanation, with the numbers.
    pub text: String,
}

impl Note {
    fn new(kind: &'static str, text: String) -> Note {
        Note { kind, text }
    }
}

/// `(−1/ln χ, its standard error)` for `0 < χ < 1`.
fn timescale(chi: f64, se: f64) -> (Option<f64>, Option<f64>) {
    if chi > 0.0 && chi < 1.0 {
        let l = chi.ln();
        (Some(-1.0 / l), Some(se / (chi * l * l)))
    } else {
        (None, None)
    }
}

/// Solves the stationary exact theory and its timescales at input correlation `rho`
/// (`1`: synchronisation of identical-input copies; `0`: memory at independent inputs,
/// minimalRNN). Checked in `tests/stationary_theory.rs`.
///
/// # Errors
/// [`Error::Unsupported`] for other `rho` (or `rho = 0` for the vanilla cell); errors of the
/// solver and the curves.
pub fn analyze(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    rho: f64,
    s: &ExactSettings,
) -> Result<ExactAnalysis> {
    analyze_from(upd, p, regime, rho, s, None)
}

/// [`analyze`] with the stationary solver started from `start`'s solution (a neighbouring
/// parameter point; see [`super::solve_from`]).
///
/// # Errors
/// As [`analyze`].
pub fn analyze_from(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    rho: f64,
    s: &ExactSettings,
    start: Option<&ExactAnalysis>,
) -> Result<ExactAnalysis> {
    if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
        return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
    }
    let minimal = matches!(upd, Cell::Minimal);
    if !(rho == 1.0 || (rho == 0.0 && minimal)) {
        return Err(Error::Unsupported(format!(
            "the exact theory at stationarity is computed for identical inputs (--rho 1: \
             synchronisation){}; got --rho {}",
            if minimal {
                " and independent inputs (--rho 0: memory)"
            } else {
                " for the vanilla cell"
            },
            crate::error::fmt_num(rho)
        )));
    }
    let fp = solve_from(upd, p, regime, &s.solver, start.map(|a| &a.stationary))?;
    let seed = s.solver.seed ^ 0x5eed_0fc0_ffee;
    let sync = timescales::synchronisation(upd, p, &fp, s.horizon, s.curve_paths, seed)?;
    let memory = if rho == 0.0 {
        Some(timescales::memory(
            upd,
            p,
            &fp,
            s.horizon,
            s.curve_paths,
            seed ^ 1,
        )?)
    } else {
        None
    };
    let phase = if sync.chi + 2.0 * sync.chi_se < 1.0 {
        Phase::Ordered
    } else if sync.chi - 2.0 * sync.chi_se > 1.0 {
        Phase::Chaotic
    } else {
        Phase::Critical
    };
    let mut notes = Vec::new();
    let d = &fp.diagnostics;
    if !d.converged {
        notes.push(Note::new(
            "not converged",
            format!(
                "the self-consistency did not meet its convergence test within {} iterations \
             (raise the iterations or the paths)",
                s.solver.max_iterations
            ),
        ));
    }
    if d.drift_z.abs() > 3.0 {
        notes.push(Note::new(
            "drifting",
            format!(
                "the averaged iterations drift by {:.1} standard errors: Q* may still be moving",
                d.drift_z
            ),
        ));
    }
    if d.lag_tail > 1e-3 {
        notes.push(Note::new(
            "autocorrelation cut off",
            format!(
                "the autocorrelation has not decayed within the longest period ({}): \
             |Q(L)|/Q(0) = {:.1e} was cut off",
                s.solver.max_length, d.lag_tail
            ),
        ));
    }
    if d.clipped > 1e-3 {
        notes.push(Note::new(
            "embedding clipped",
            format!(
                "the circulant embedding dropped {:.1e} of the field variance",
                d.clipped
            ),
        ));
    }
    let curve = memory.as_ref().unwrap_or(&sync);
    let dz = (curve.chi - curve.chi_early).abs()
        / (curve.chi_se.powi(2) + curve.chi_early_se.powi(2))
            .sqrt()
            .max(1e-300);
    if dz > 3.0 {
        notes.push(Note::new(
            "non-exponential decay",
            format!(
                "the decay is not exponential: the rate over steps {}–{} ({:.4}) differs from \
             the one over {}–{} ({:.4}); ξ_c depends on the horizon",
                curve.horizon / 4,
                curve.horizon / 2,
                curve.chi_early,
                curve.horizon / 2,
                curve.horizon,
                curve.chi
            ),
        ));
    }
    let (c_star, chi_c, chi_c_se, xi_c, xi_c_se) = if rho == 1.0 {
        let sync_c = (phase != Phase::Chaotic).then_some(1.0);
        if phase == Phase::Chaotic {
            notes.push(Note::new(
                "no synchronisation",
                "identical-input copies do not synchronise (Λ > 1); their stationary \
                 correlation c* < 1 is not computed by the exact theory here"
                    .into(),
            ));
        }
        (
            sync_c,
            Some(sync.chi),
            Some(sync.chi_se),
            sync.xi,
            sync.xi_se,
        )
    } else {
        let m = memory.as_ref().expect("ρ = 0");
        (Some(0.0), Some(m.chi), Some(m.chi_se), m.xi, m.xi_se)
    };
    let (xi_1, xi_1_se) = timescale(fp.chi_1, fp.chi_1_se);
    Ok(ExactAnalysis {
        rho,
        q_star: fp.q_star,
        q_star_se: fp.q_star_se,
        big_q_star: fp.big_q_star,
        big_q_star_se: fp.big_q_star_se,
        c_star,
        chi_q: None,
        xi_q: None,
        chi_c,
        chi_c_se,
        xi_c,
        xi_c_se,
        chi_1: fp.chi_1,
        chi_1_se: fp.chi_1_se,
        xi_1,
        xi_1_se,
        phase,
        stationary: fp,
        synchronisation: sync,
        memory,
        notes,
    })
}
