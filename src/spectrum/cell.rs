//! The Jacobian spectrum of a cell at its fixed point: the one recipe behind `mfrnn spectrum`,
//! the report's spectra stage and the spectral predictions of the critical initialization.
//!
//! - **Vanilla RNN:** free probability with the law of `D = diag φ'(e)` at the fixed point
//!   ([`ProductSpectrum`]), exact at infinite width; or, with [`LawSource::Transient`], the laws
//!   along the mean-field trajectory from `h⁰ = 0` ([`ProductSpectrum::along`]), or with
//!   [`LawSource::AtVariance`] the law at a given `q` (a critical initialization's target `q*`).
//!   Moments of any order from the S-transform series.
//! - **minimalRNN:** the one-step law of the Jacobian diagonals `(a, b)` from unit paths of the
//!   exact theory after a burn-in ([`crate::exact::jacobian_paths`], [`GatedLaw`]), exact for
//!   one step; across steps the free approximation ([`GatedSpectrum`], `exact: false`), with
//!   `m₁` also from the exact per-unit recursion ([`crate::exact::m1_by_unit_recursion`]).
//!
//! [`for_cell_each`] computes several horizons and weight laws from one law (one set of unit
//! paths), as the report does.
//!
//! Derivations: `theory/04-spectra.md` (S.1)–(S.8); checks: `tests/spectrum.rs`,
//! `tests/gated_spectrum.rs`.

use serde::Serialize;

use super::gated::{GatedLaw, GatedSpectrum};
use super::{Density, DiagonalLaw, ProductSpectrum};
use crate::cells::{Cell, CellParams, Regime, RhoSchedule, Summary, WeightLaw};
use crate::error::{Error, Result};
use crate::exact::{self, ExactConfig};

/// Where the law of the Jacobian diagonals comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LawSource {
    /// The fixed point reached from `h⁰ = 0` (vanilla RNN).
    FixedPoint,
    /// The law at a given pre-activation variance `q` (vanilla RNN): e.g. the target `q*` of a
    /// critical initialization, which the solved fixed point equals up to rounding.
    AtVariance {
        /// The pre-activation variance `q` (> 0).
        q: f64,
    },
    /// The mean-field trajectory from `h⁰ = 0`, steps `burn_in + 1 … burn_in + T` (vanilla
    /// RNN: the spectrum of the transient).
    Transient {
        /// Steps before the product starts.
        burn_in: usize,
    },
    /// Unit paths of the exact theory after `burn_in` steps (minimalRNN).
    UnitPaths {
        /// Steps before the product starts.
        burn_in: usize,
        /// Tied or redrawn weights in the unit process.
        regime: Regime,
        /// Paths, replicas and seed of the sampler.
        config: ExactConfig,
    },
}

/// What to compute ([`for_cell`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Steps `T` in the product `J_T = J^T ⋯ J^1`.
    pub steps: usize,
    /// The law of `W`.
    pub weights: WeightLaw,
    /// Base points of the density grid (0: moments only, no density).
    pub points: usize,
    /// Where the law of the diagonals comes from.
    pub source: LawSource,
}

/// `m₁` by the exact per-unit recursion on the unit paths (minimalRNN).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitRecursionM1 {
    /// `m₁` after `T` steps.
    pub m1: f64,
    /// Its standard error over replicas.
    pub m1_se: f64,
    /// The weights for which the recursion is exact (`untied`); with tied weights it is the
    /// untied answer on the tied network's unit paths.
    pub exact_for: &'static str,
}

/// The spectrum of `J_T J_Tᵀ` for a cell ([`for_cell`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CellSpectrum {
    /// The mean-field summary at the fixed point (`q*`, `χ₁`, ...).
    pub summary: Summary,
    /// `m₁ = E[λ]`.
    pub m1: f64,
    /// `m₂ = E[λ²]`.
    pub m2: f64,
    /// `(m₂ − m₁²)/m₁²`.
    pub normalized_variance: f64,
    /// `[m₁, m₂, m₃, m₄]` from the S-transform series (vanilla RNN).
    pub moments: Option<Vec<f64>>,
    /// Exact at infinite width (`false`: the free approximation across steps).
    pub exact: bool,
    /// The density on its grid (`None` when `points` was 0).
    pub density: Option<Density>,
    /// `m₁` by the per-unit recursion (minimalRNN).
    pub unit_recursion: Option<UnitRecursionM1>,
    /// Atoms of the one-step law (minimalRNN).
    pub law_atoms: Option<usize>,
}

/// The spectrum of `J_T J_Tᵀ` of `cell` at `p` as `request` says (see the module doc).
///
/// # Errors
/// [`Error::InvalidParameter`] for `steps == 0`, or a source that does not apply to the cell
/// (the vanilla RNN's law is exact at the fixed point or along the trajectory; the minimalRNN's
/// comes from unit paths); [`Error::Infeasible`] naming the parameter when `φ'` vanishes at the
/// fixed point (a point mass at 0); errors of the theory, the exact sampler and the density
/// solver.
pub fn for_cell(cell: &Cell, p: &CellParams, request: &Request) -> Result<CellSpectrum> {
    let mut one = for_cell_each(cell, p, std::slice::from_ref(request))?;
    Ok(one.pop().expect("one request, one spectrum"))
}

/// The spectra of `cell` at `p` for several requests (horizons, weight laws, grids) that share
/// one [`LawSource`]: the law of the Jacobian diagonals is computed once — for unit paths, one
/// set of paths up to the longest horizon — and each request's spectrum from it. Each result
/// is the one [`for_cell`] returns for that request alone (the unit paths of a shorter horizon
/// are the first steps of a longer one's: the sampler draws step by step).
///
/// # Errors
/// As [`for_cell`]; [`Error::Unsupported`] when the requests' sources differ.
pub fn for_cell_each(
    cell: &Cell,
    p: &CellParams,
    requests: &[Request],
) -> Result<Vec<CellSpectrum>> {
    let Some(first) = requests.first() else {
        return Ok(Vec::new());
    };
    if requests.iter().any(|r| r.source != first.source) {
        return Err(Error::Unsupported(
            "spectra computed together must share one law source".into(),
        ));
    }
    if requests.iter().any(|r| r.steps == 0) {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let summary = cell.mean_field(p)?.summary(1.0)?;
    let steps = requests.iter().map(|r| r.steps).max().expect("non-empty");
    let density = |r: &Request, d: &dyn Fn(usize) -> Result<Density>| -> Result<Option<Density>> {
        if r.points == 0 {
            Ok(None)
        } else {
            d(r.points).map(Some)
        }
    };
    match (cell, first.source) {
        (
            Cell::Vanilla(act),
            LawSource::FixedPoint | LawSource::AtVariance { .. } | LawSource::Transient { .. },
        ) => {
            let (mu_b, sw2) = (p.mu_b(), p.sigma_w2());
            // The law at the fixed point, or one law per step along the trajectory.
            let (fixed, along) = match first.source {
                LawSource::Transient { burn_in } => {
                    let total = burn_in.checked_add(steps).ok_or_else(|| {
                        Error::invalid("burn-in", burn_in as f64, "burn-in + steps below 2^64")
                    })?;
                    // One discretised law per step (up to ~1800 nodes of 16 bytes each).
                    let (name, value) = crate::budget::blame(&[
                        ("steps", steps as f64, 10.0),
                        ("burn-in", burn_in as f64, 50.0),
                    ]);
                    crate::budget::Estimate::new("the laws along the trajectory")
                        .memory(name, value, 30_000.0 * steps as f64)
                        .memory(name, value, crate::cells::BYTES_PER_STEP * total as f64)
                        .check()?;
                    let tr = cell
                        .mean_field(p)?
                        .trajectory(&RhoSchedule::constant(1.0, total)?)?;
                    let laws = tr.q[burn_in..]
                        .iter()
                        .map(|&q| DiagonalLaw::of_activation(act.as_ref(), mu_b, q))
                        .collect::<Result<Vec<_>>>()?;
                    if laws
                        .iter()
                        .any(|l| l.moment(1).is_nan() || l.moment(1) <= 0.0)
                    {
                        return Err(vanishing_jacobian(p, &summary));
                    }
                    (None, laws)
                }
                _ => {
                    let q = match first.source {
                        LawSource::AtVariance { q } => q,
                        _ => summary.q_star,
                    };
                    let law = DiagonalLaw::of_activation(act.as_ref(), mu_b, q)?;
                    if law.moment(1).is_nan() || law.moment(1) <= 0.0 {
                        return Err(vanishing_jacobian(p, &summary));
                    }
                    (Some(law), Vec::new())
                }
            };
            requests
                .iter()
                .map(|r| {
                    let sp = match &fixed {
                        Some(law) => ProductSpectrum::new(law.clone(), sw2, r.steps, r.weights)?,
                        None => ProductSpectrum::along(along[..r.steps].to_vec(), sw2, r.weights)?,
                    };
                    let mom = sp.moments();
                    Ok(CellSpectrum {
                        summary,
                        m1: mom.m1,
                        m2: mom.m2,
                        normalized_variance: mom.normalized_variance,
                        moments: Some(sp.moment_series(4)?),
                        exact: true,
                        density: density(r, &|n| sp.density(n))?,
                        unit_recursion: None,
                        law_atoms: None,
                    })
                })
                .collect()
        }
        (
            Cell::Minimal,
            LawSource::UnitPaths {
                burn_in,
                regime,
                config,
            },
        ) => {
            let paths = exact::jacobian_paths(cell, p, regime, burn_in, steps, &config)?;
            let m1 = exact::m1_by_unit_recursion(&paths, p.sigma_w());
            // The stationary one-step law: the first step after the burn-in.
            let law = GatedLaw::from_paths(&paths, 0, p.sigma_w())?;
            let atoms = law.len();
            requests
                .iter()
                .map(|r| {
                    let sp = GatedSpectrum::new(law.clone(), r.weights, r.steps)?;
                    let mom = sp.moments();
                    Ok(CellSpectrum {
                        summary,
                        m1: mom.m1,
                        m2: mom.m2,
                        normalized_variance: mom.normalized_variance,
                        moments: None,
                        exact: mom.exact,
                        density: density(r, &|n| sp.density(n))?,
                        unit_recursion: Some(UnitRecursionM1 {
                            m1: m1.m1[r.steps - 1],
                            m1_se: m1.se[r.steps - 1],
                            exact_for: "untied",
                        }),
                        law_atoms: Some(atoms),
                    })
                })
                .collect()
        }
        (Cell::Vanilla(_), LawSource::UnitPaths { .. }) => Err(Error::Unsupported(
            "the vanilla RNN's Jacobian law is exact at the fixed point (or along the \
             trajectory); unit paths apply to the minimalRNN"
                .into(),
        )),
        (Cell::Minimal, _) => Err(Error::Unsupported(
            "the minimalRNN's Jacobian law comes from unit paths of the exact theory \
             (LawSource::UnitPaths)"
                .into(),
        )),
    }
}

/// The error for a Jacobian that vanishes at the fixed point (`φ' = 0` to double precision
/// for every pre-activation): names the flag that pushed the pre-activations there — `μ_b`
/// when it dominates their spread, else the largest part of `q* = σ_w² Q* + σ_v² R + σ_b²`.
fn vanishing_jacobian(p: &CellParams, s: &Summary) -> Error {
    let parts = [
        ("sigma-w", p.sigma_w(), p.sigma_w2() * s.big_q_star),
        ("sigma-v", p.sigma_v(), p.sigma_v() * p.sigma_v() * p.r()),
        ("sigma-b", p.sigma_b(), p.sigma_b() * p.sigma_b()),
    ];
    let (parameter, value) = if p.mu_b().abs() >= s.q_star.sqrt() {
        ("mu-b", p.mu_b())
    } else {
        let big = parts
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .expect("three parts");
        (big.0, big.1)
    };
    Error::Infeasible {
        parameter,
        value,
        constraint: format!(
            "φ' is 0 to double precision for the pre-activations at the fixed point \
             (μ_b = {}, q* = {}), so the Jacobian vanishes",
            crate::error::fmt_num(p.mu_b()),
            crate::error::fmt_num(s.q_star)
        ),
        feasible: "its spectrum is a point mass at 0; choose μ_b and scales where φ' is not \
                   saturated"
            .into(),
    }
}
