//! Mean-field theory of the recurrent cells: the vanilla RNN ([`vanilla`]) and the gated
//! minimalRNN ([`minimal`]).
//!
//! Shared vocabulary: input-correlation schedules ([`RhoSchedule`]), trajectories
//! ([`Trajectory`]) and the phase of a network ([`Phase`]).

pub mod exact;
pub mod minimal;
pub mod vanilla;

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// The per-step correlation `ρ^t` between the inputs of two sequences, `t = 1..=T`.
///
/// Text form (CLI `--rho-schedule`): comma-separated `VALUExCOUNT` runs, e.g. `0.3x1,1x49`
/// is ρ = 0.3 at step 1 and ρ = 1 for steps 2..=50. A bare `VALUE` counts once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RhoSchedule(Vec<f64>);

impl RhoSchedule {
    /// The same `rho` for `steps` steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `rho ∉ [−1, 1]` or `steps == 0`.
    pub fn constant(rho: f64, steps: usize) -> Result<RhoSchedule> {
        check_rho(rho)?;
        if steps == 0 {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        Ok(RhoSchedule(vec![rho; steps]))
    }

    /// From explicit values.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty list or a value outside `[−1, 1]`.
    pub fn from_values(values: Vec<f64>) -> Result<RhoSchedule> {
        if values.is_empty() {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        for &r in &values {
            check_rho(r)?;
        }
        Ok(RhoSchedule(values))
    }

    /// Parses `VALUExCOUNT,...`.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the bad run, or [`Error::InvalidParameter`] for ρ out of range.
    pub fn parse(text: &str) -> Result<RhoSchedule> {
        let perr = |reason: String| Error::Parse {
            what: "rho schedule",
            input: text.to_string(),
            reason,
        };
        let mut out = Vec::new();
        for run in text.split(',') {
            let run = run.trim();
            if run.is_empty() {
                return Err(perr("empty run (expected VALUExCOUNT)".into()));
            }
            let (v, n) = match run.split_once(['x', 'X']) {
                Some((v, n)) => (v.trim(), n.trim()),
                None => (run, "1"),
            };
            let rho: f64 = v
                .parse()
                .map_err(|_| perr(format!("`{v}` is not a number")))?;
            let count: usize = n
                .parse()
                .map_err(|_| perr(format!("`{n}` is not a positive integer count")))?;
            if count == 0 {
                return Err(perr(format!("run `{run}` has count 0")));
            }
            check_rho(rho)?;
            out.extend(std::iter::repeat_n(rho, count));
        }
        if out.len() > 10_000_000 {
            return Err(perr("more than 10^7 steps".into()));
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

/// The headline numbers of a cell's analysis without the list of every fixed point: what
/// phase diagrams evaluate at each grid point (`Vanilla::summary`, `Minimal::summary`).
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
        let s = RhoSchedule::parse("0.3x1, 1x4,0.5").unwrap();
        assert_eq!(s.values(), &[0.3, 1.0, 1.0, 1.0, 1.0, 0.5]);
        for bad in ["", "0.3x", "x3", "2x3", "0.3x0", "0.1,,0.2", "nanx2"] {
            assert!(RhoSchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
