//! Critical initialization of the minimalRNN in the exact theory of the tied-weight,
//! frozen-bias network (`theory/06-critical-initialization.md`, (I.9)): the weight scales at
//! which the stationary exact `χ₁` (`exact::stationary`, (X.5)) is 1 at a target gate
//! variance `q*`, found from the closed form (I.4)–(I.5) by a secant search on `σ_w²`.
//!
//! At every trial `σ_w` the stationary solver holds `q*` fixed by adjusting the input-side
//! scale that is not given (`σ_v` when `σ_b` is given, `σ_b` otherwise;
//! `exact::stationary::solve_at_gate_variance`). Every trial uses the same seed (common
//! random numbers), so the sampled `χ₁(σ_w)` is smooth in `σ_w` and the secant converges to
//! the root of the sampled function; the standard errors of the result come from the
//! replicas at the root.

use serde::Serialize;

use super::{CriticalInit, Given, Target};
use crate::cells::{Cell, CellParams, Regime};
use crate::error::{Error, Result};
use crate::exact::stationary::analysis::ExactSettings;
use crate::exact::stationary::{Hold, StationaryFixedPoint, solve_at_gate_variance, timescales};

/// A critical initialization in the exact theory, with the closed form it corrects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactCriticalInit {
    /// The factorised closed form (I.4)–(I.5) at the same target (the starting point).
    pub closed_form: CriticalInit,
    /// `σ_w` at which the exact `χ₁ = 1`.
    pub sigma_w: f64,
    /// Its standard error (`se(χ₁) / |∂χ₁/∂σ_w|`).
    pub sigma_w_se: f64,
    /// `σ_v` (given, or solved to hold `q*`).
    pub sigma_v: f64,
    /// Its standard error (0 when given).
    pub sigma_v_se: f64,
    /// `σ_b` (given, or solved to hold `q*`).
    pub sigma_b: f64,
    /// Its standard error (0 when given).
    pub sigma_b_se: f64,
    /// Bias mean.
    pub mu_b: f64,
    /// Input second moment.
    pub r: f64,
    /// The target gate variance.
    pub q_star: f64,
    /// The exact stationary `Q*` at the returned scales.
    #[serde(rename = "Q_star")]
    pub big_q_star: f64,
    /// Its standard error.
    #[serde(rename = "Q_star_se")]
    pub big_q_star_se: f64,
    /// The exact `χ₁` at the returned scales (1 within its error).
    pub chi_1: f64,
    /// Its standard error.
    pub chi_1_se: f64,
    /// The exact `χ₁` at the closed-form `σ_w` (with `q*` held): how far the closed form is
    /// from critical in the exact theory.
    pub chi_1_closed_form: f64,
    /// Its standard error.
    pub chi_1_closed_form_se: f64,
    /// `σ_w / σ_w(closed form) − 1`.
    pub sigma_w_correction: f64,
    /// The synchronisation rate `Λ` of identical-input copies at the returned scales (the
    /// exact theory's order parameter; it need not be 1 where `χ₁` is).
    pub sync_rate: f64,
    /// Its standard error.
    pub sync_rate_se: f64,
    /// Solver evaluations of the secant search.
    pub evaluations: usize,
    /// Anything the user should know.
    pub warnings: Vec<String>,
}

/// The exact-theory critical initialization of the minimalRNN at the target's gate variance
/// `q*`, bias mean `μ_b`, input second moment `R` and given scale (see the module
/// documentation). Checked against sampled tied networks in
/// `tests/stationary_theory.rs`.
///
/// # Errors
/// As [`super::critical`] for [`Cell::Minimal`] (the closed form must exist); [`Error::Infeasible`] when the exact
/// theory cannot hold `q*` with the given scale; errors of the solver.
pub fn minimal_exact(target: &Target, settings: &ExactSettings) -> Result<ExactCriticalInit> {
    let Target {
        q_star,
        mu_b,
        r,
        given,
    } = *target;
    let cf = super::critical(&Cell::Minimal, target)?;
    let hold = match given {
        Given::SigmaB(_) => Hold::SigmaV,
        Given::SigmaV(_) => Hold::SigmaB,
    };
    let regime = Regime {
        tied: true,
        fresh_bias: false,
    };
    let eval = |x: f64| -> Result<StationaryFixedPoint> {
        let p = cf.params.to_builder().sigma_w(x.sqrt()).build()?;
        solve_at_gate_variance(&Cell::Minimal, &p, regime, &settings.solver, q_star, hold)
    };
    let x0 = cf.params.sigma_w() * cf.params.sigma_w();
    let f0 = eval(x0)?;
    let (chi_cf, chi_cf_se) = (f0.chi_1, f0.chi_1_se);
    // χ₁ = E[u²] + σ_w² E[σ'²(P + R)]: the slope in σ_w² with the unit law held fixed, for the
    // first step; secant steps after that.
    let slope0 = (f0.chi_1 - f0.gate.map_or(0.0, |g| g.mean_u2)) / x0;
    let mut pts = vec![(x0, f0.chi_1 - 1.0)];
    let mut best = f0;
    let mut evaluations = 1;
    let mut warnings = Vec::new();
    for _ in 0..8 {
        let (x, f) = *pts.last().expect("a point");
        if f.abs() <= 2.0 * best.chi_1_se {
            break;
        }
        let slope = if pts.len() >= 2 {
            let (xp, fp) = pts[pts.len() - 2];
            if x != xp { (f - fp) / (x - xp) } else { slope0 }
        } else {
            slope0
        };
        if !(slope.is_finite() && slope > 0.0) {
            warnings.push(
                "the sampled χ₁ did not increase with σ_w between trials; the search stopped \
                 at the best point"
                    .into(),
            );
            break;
        }
        // Keep σ_w² positive and the step within a factor 2.
        let xn = (x - f / slope).clamp(0.5 * x, 2.0 * x);
        if (xn - x).abs() <= 1e-6 * x {
            break;
        }
        let fp = eval(xn)?;
        evaluations += 1;
        pts.push((xn, fp.chi_1 - 1.0));
        if (fp.chi_1 - 1.0).abs() <= (best.chi_1 - 1.0).abs() {
            best = fp;
        }
    }
    let root = pts
        .iter()
        .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .expect("a point")
        .0;
    if (best.chi_1 - 1.0).abs() > 3.0 * best.chi_1_se {
        warnings.push(format!(
            "the search ended at χ₁ = {:.5} ± {:.5}, not within 3 standard errors of 1",
            best.chi_1, best.chi_1_se
        ));
    }
    let sigma_w = root.sqrt();
    let slope_w = 2.0 * sigma_w * (best.chi_1 - best.gate.map_or(0.0, |g| g.mean_u2)) / root;
    let held = best.held.ok_or_else(|| Error::NoFixedPoint {
        map: "exact critical initialization",
        reason: "the solver did not report the held scale".into(),
    })?;
    let (sigma_v, sigma_v_se, sigma_b, sigma_b_se) = match hold {
        Hold::SigmaV => (held.value, held.se, cf.params.sigma_b(), 0.0),
        Hold::SigmaB => (cf.params.sigma_v(), 0.0, held.value, held.se),
    };
    let p = CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_v(sigma_v)
        .sigma_b(sigma_b)
        .mu_b(mu_b)
        .r(r)
        .build()?;
    let sync = timescales::synchronisation(
        &Cell::Minimal,
        &p,
        &best,
        settings.horizon,
        settings.curve_paths,
        settings.solver.seed ^ 0x5eed,
    )?;
    Ok(ExactCriticalInit {
        sigma_w_se: best.chi_1_se / slope_w.abs().max(1e-300),
        sigma_w_correction: sigma_w / cf.params.sigma_w() - 1.0,
        closed_form: cf,
        sigma_w,
        sigma_v,
        sigma_v_se,
        sigma_b,
        sigma_b_se,
        mu_b,
        r,
        q_star,
        big_q_star: best.big_q_star,
        big_q_star_se: best.big_q_star_se,
        chi_1: best.chi_1,
        chi_1_se: best.chi_1_se,
        chi_1_closed_form: chi_cf,
        chi_1_closed_form_se: chi_cf_se,
        sync_rate: sync.chi,
        sync_rate_se: sync.chi_se,
        evaluations,
        warnings,
    })
}
