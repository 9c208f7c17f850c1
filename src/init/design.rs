//! Inverse design: "my sequences have length T — give me an initialization". Searches the
//! critical family for initializations whose predicted spectral spread at horizon `T` stays
//! below a bound, and picks the one furthest from the linear regime (largest `q*`) or the one
//! with the longest memory timescale `ξ_c` (`theory/06`, (I.7)–(I.8)).

use serde::Serialize;

use super::{CriticalInit, Given, Target, critical};
use crate::cells::{Cell, WeightLaw};
use crate::error::{Error, Result};

/// The width bound: `√(m₂)/m₁ = √(1 + T v₁) <= max_rms_ratio` at horizon `T` for the chosen
/// weight law, `v₁` the per-step normalised variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WidthBound {
    /// Horizon `T` (sequence length).
    pub horizon: usize,
    /// Bound on the root-mean-square squared singular value over its mean (`> 1`).
    pub max_rms_ratio: f64,
    /// Weight law the bound is for.
    pub weights: WeightLaw,
}

impl WidthBound {
    /// Validated bound.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `horizon == 0` or `max_rms_ratio` not finite and `> 1`.
    pub fn new(horizon: usize, max_rms_ratio: f64, weights: WeightLaw) -> Result<WidthBound> {
        if horizon == 0 {
            return Err(Error::invalid("horizon", 0.0, "at least 1"));
        }
        if !(max_rms_ratio.is_finite() && max_rms_ratio > 1.0) {
            return Err(Error::invalid(
                "max-width-ratio",
                max_rms_ratio,
                "a finite number > 1 (1 is exact isometry, reached only as q* → 0)",
            ));
        }
        Ok(WidthBound {
            horizon,
            max_rms_ratio,
            weights,
        })
    }

    /// The largest per-step normalised variance the bound allows: `(r² − 1)/T`.
    pub fn per_step_budget(&self) -> f64 {
        (self.max_rms_ratio * self.max_rms_ratio - 1.0) / self.horizon as f64
    }

    fn per_step(&self, c: &CriticalInit) -> f64 {
        match self.weights {
            WeightLaw::Orthogonal => c.normalized_variance_per_step.orthogonal,
            WeightLaw::Gaussian => c.normalized_variance_per_step.gaussian,
        }
    }
}

/// Which admissible initialization the design returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The largest admissible `q*` (furthest from the linear regime), over all bias means.
    #[default]
    LargestQStar,
    /// Among the frontier points (the largest admissible `q*` of each bias mean), the one
    /// with the longest memory timescale `ξ_c` at independent inputs (ρ = 0), (I.8).
    LongestMemory,
}

/// `ξ_c` at input correlation 0 (I.8) of a critical initialization: how many steps the
/// correlation of two hidden states driven by independent inputs takes to relax by a factor
/// e; `f64::INFINITY` when the map is marginal.
///
/// # Errors
/// Errors of the cell's `summary`.
pub fn memory_timescale(c: &CriticalInit) -> Result<f64> {
    let s = c.cell.mean_field(&c.params)?.summary(0.0)?;
    Ok(s.xi_c.unwrap_or(f64::INFINITY))
}

/// One point of the search: the largest admissible `q*` at a bias mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrontierPoint {
    /// Bias mean.
    pub mu_b: f64,
    /// Largest `q*` meeting the bound and feasible (`None`: no critical initialization at this
    /// `μ_b` meets it).
    pub q_star: Option<f64>,
    /// Its `√(1 + T v₁)`.
    pub rms_ratio: Option<f64>,
    /// Its memory timescale `ξ_c` at ρ = 0 (I.8).
    pub xi_c: Option<f64>,
}

/// The result of a design search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    /// The chosen initialization.
    pub init: CriticalInit,
    /// The bound it was chosen for.
    pub bound: WidthBound,
    /// Its predicted `√(1 + T v₁)` at the horizon.
    pub rms_ratio: f64,
    /// Its memory timescale `ξ_c` at ρ = 0 (I.8).
    pub xi_c: f64,
    /// The objective used.
    pub objective: Objective,
    /// The largest admissible `q*` per bias mean examined.
    pub frontier: Vec<FrontierPoint>,
    /// What is attainable for this cell, in words.
    pub attainable: String,
}

/// Largest `q` on `[lo, hi]` with `ok(q)`, given `ok(lo)`: a log-grid scan then bisection on
/// the last transition. `None` if `ok(lo)` fails.
fn largest_ok(mut ok: impl FnMut(f64) -> bool, lo: f64, hi: f64) -> Option<f64> {
    if !ok(lo) {
        return None;
    }
    let n = 60;
    let xs: Vec<f64> = (0..=n)
        .map(|i| lo * (hi / lo).powf(i as f64 / n as f64))
        .collect();
    let mut last = 0;
    for (i, &x) in xs.iter().enumerate().skip(1) {
        if ok(x) {
            last = i;
        }
    }
    if last == n {
        return Some(hi);
    }
    // 40 halvings of one step of the 60-point log grid over [lo, hi]: q to a relative
    // resolution ln(hi/lo)/60 · 2⁻⁴⁰ (about 2e-13 over [1e-4, 1e3]).
    Some(crate::roots::bisect_geometric(&mut ok, xs[last], xs[last + 1], 40).0)
}

const Q_LO: f64 = 1e-4;

/// The inverse design (I.7)–(I.8): for each bias mean in `mu_bs`, the largest `q*` in
/// `[1e-4, q_max]` (`q_max` = 100 for the vanilla RNN, 1000 for the minimalRNN) whose critical
/// initialization ([`critical`]) is feasible, reached from `h⁰ = 0` without warnings, and meets
/// `bound`; the chosen initialization is, by `objective`, the one with the largest `q*` or the
/// longest memory timescale `ξ_c` (I.8) over the bias means. For the vanilla RNN `v₁(q*)` grows
/// with `q*` (smaller targets are more isometric, any bound is met by a small enough `q*`); for
/// the minimalRNN small `q*` is infeasible (`σ_v² < 0`), so each bias mean is scanned for its
/// first feasible point, and its spread is the free approximation across steps.
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty `mu_bs`; [`Error::Infeasible`] when no bias mean
/// admits one, with what is attainable.
pub fn design(
    cell: &Cell,
    r: f64,
    given: Given,
    mu_bs: &[f64],
    bound: WidthBound,
    objective: Objective,
) -> Result<Design> {
    if mu_bs.is_empty() {
        return Err(Error::invalid(
            "mu-b",
            0.0,
            "at least one bias mean to search",
        ));
    }
    let target = |q: f64, mu_b: f64| Target {
        q_star: q,
        mu_b,
        r,
        given,
    };
    let q_max = match cell {
        Cell::Vanilla(_) => 100.0,
        Cell::Minimal => 1e3,
    };
    let budget = bound.per_step_budget();
    let mut frontier = Vec::with_capacity(mu_bs.len());
    // (score, q*, μ_b): the score is q* or ξ_c by the objective.
    let mut best: Option<(f64, f64, f64)> = None;
    for &mu_b in mu_bs {
        let ok = |q: f64| {
            critical(cell, &target(q, mu_b))
                .map(|c| bound.per_step(&c) <= budget && c.warnings.is_empty())
                .unwrap_or(false)
        };
        // The first feasible point of a log scan (the lower end itself for the vanilla RNN).
        let start = (0..=70)
            .map(|i| Q_LO * 10f64.powf(7.0 * i as f64 / 70.0))
            .take_while(|&q| q <= q_max)
            .find(|&q| ok(q));
        let q = start.and_then(|s| largest_ok(ok, s, q_max));
        let init = q.and_then(|q| critical(cell, &target(q, mu_b)).ok());
        let rms = init
            .as_ref()
            .map(|c| (1.0 + bound.horizon as f64 * bound.per_step(c)).sqrt());
        let xi_c = match &init {
            Some(c) => Some(memory_timescale(c)?),
            None => None,
        };
        frontier.push(FrontierPoint {
            mu_b,
            q_star: q,
            rms_ratio: rms,
            xi_c,
        });
        if let (Some(q), Some(xi)) = (q, xi_c) {
            let score = match objective {
                Objective::LargestQStar => q,
                Objective::LongestMemory => xi,
            };
            if best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, q, mu_b));
            }
        }
    }
    let Some((_, q, mu_b)) = best else {
        return Err(match cell {
            Cell::Vanilla(_) => {
                let at_lo = critical(cell, &target(Q_LO, mu_bs[0]))?;
                let rms = (1.0 + bound.horizon as f64 * bound.per_step(&at_lo)).sqrt();
                Error::Infeasible {
                    parameter: "max-width-ratio",
                    value: bound.max_rms_ratio,
                    constraint: format!(
                        "no critical initialization with q* >= {Q_LO:e} keeps √(m₂)/m₁ below \
                         the bound at T = {}",
                        bound.horizon
                    ),
                    feasible: format!(
                        "the smallest spread on the critical line (q* = {Q_LO:e}) is \
                         {rms:.4}; the spread grows like √(T) at fixed q*, so shorten the \
                         horizon or use orthogonal W"
                    ),
                }
            }
            Cell::Minimal => Error::Infeasible {
                parameter: "max-width-ratio",
                value: bound.max_rms_ratio,
                constraint: format!(
                    "no feasible critical minimalRNN initialization over μ_b ∈ {mu_bs:?} meets \
                     the bound at T = {}",
                    bound.horizon
                ),
                feasible: "raise the bound, shorten the horizon, or widen the μ_b range".into(),
            },
        });
    };
    let init = critical(cell, &target(q, mu_b))?;
    let rms = (1.0 + bound.horizon as f64 * bound.per_step(&init)).sqrt();
    let xi_c = memory_timescale(&init)?;
    let reached = frontier.iter().filter(|f| f.q_star.is_some()).count();
    Ok(Design {
        attainable: match cell {
            Cell::Vanilla(_) => format!(
                "vanilla: any √(m₂)/m₁ > 1 at any horizon, by taking q* small (v₁ → 0 as \
                 q* → 0, the linear regime); here q* <= {q:.4e}"
            ),
            Cell::Minimal => format!(
                "minimalRNN: {reached} of {} bias means admit a critical initialization \
                 meeting the bound (free approximation across steps, exact: false)",
                mu_bs.len()
            ),
        },
        init,
        bound,
        rms_ratio: rms,
        xi_c,
        objective,
        frontier,
    })
}
