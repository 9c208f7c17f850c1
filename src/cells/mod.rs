//! Mean-field theory of the recurrent cells: the vanilla RNN ([`vanilla`]) and the gated
//! minimalRNN ([`minimal`]).
//!
//! Shared vocabulary: input-correlation schedules ([`RhoSchedule`]), trajectories
//! ([`Trajectory`]) and the phase of a network ([`Phase`]).

pub mod exact;
pub mod minimal;
pub mod stationary;
pub mod vanilla;

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

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
