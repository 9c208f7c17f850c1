//! The minimalRNN's critical initialization in the factorised theory, (I.4)–(I.6) of
//! `theory/06`.

use std::sync::Arc;

use super::{
    CriticalInit, FixedPointCheck, PerWeights, Target, check_finite, critical_params, expect_at,
    fixed_point_warnings, split_or_infeasible, validate_given,
};
use crate::activation::{Activation, Builtin};
use crate::cells::Cell;
use crate::cells::minimal::Minimal;
use crate::error::{Error, Result};
use crate::expect::{Fun, Integrator, Strategy};

/// Gate moments of the minimalRNN at gate variance `q`:
/// `[E u², E (1−u)², E σ'², E u⁴, E u²σ'², E σ'⁴]`, `u = σ(μ_b + √q z)`.
fn gate_moments(mu_b: f64, q: f64, eng: &Integrator) -> Result<[f64; 6]> {
    let sig: Arc<dyn Activation> = Builtin::Sigmoid.arc();
    let u = Fun::phi(&sig);
    let omu = u.compose_affine(0.0, -1.0);
    let du2 = Fun::dphi(&sig).powi(2);
    let u2 = u.powi(2);
    let fs = [
        u2.clone(),
        omu.powi(2),
        du2.clone(),
        u.powi(4),
        &u2 * &du2,
        du2.powi(2),
    ];
    let mut out = [0.0; 6];
    for (o, f) in out.iter_mut().zip(&fs) {
        *o = expect_at(f, mu_b, q, eng)?;
    }
    Ok(out)
}

/// Closed-form critical initialization of the minimalRNN (I.4)–(I.5), in the factorised
/// mean-field theory: with `u = σ(μ_b + √q* z)`,
/// `Q* = R E[(1−u)²]/(1 − E[u²])`, `σ_w² = (1 − E[u²])/(E[σ'²](Q* + R))` (so
/// `χ₁ = E[u²] + σ_w² E[σ'²](Q* + R) = 1`) and `σ_v² R + σ_b² = q* − σ_w² Q*` split as `given`
/// says. The per-step spectral growth is that of one step's Jacobian `D_u + D_g W` (I.6)
/// under the factorised law, and is an approximation across steps (`spectrum_exact: false`).
///
/// # Errors
/// [`Error::InvalidParameter`] for `q* <= 0`, `R <= 0` or a negative given scale;
/// [`Error::Infeasible`] when `q* − σ_w² Q*` cannot cover the given part, with the feasible
/// range of `q*` at this `μ_b`.
///
pub(crate) fn critical(t: &Target) -> Result<CriticalInit> {
    let Target {
        q_star,
        mu_b,
        r,
        given,
    } = *t;
    check_finite("q-star", q_star, "a finite number > 0", q_star > 0.0)?;
    check_finite("r", r, "a finite number > 0", r > 0.0)?;
    check_finite("mu-b", mu_b, "a finite number", true)?;
    validate_given(given)?;
    let eng = Integrator::default();
    let scales = |q: f64| -> Result<(f64, f64, [f64; 6])> {
        let g = gate_moments(mu_b, q, &eng)?;
        let big_q = r * g[1] / (1.0 - g[0]);
        let sw2 = (1.0 - g[0]) / (g[2] * (big_q + r));
        Ok((big_q, sw2, g))
    };
    let (big_q, sw2, g) = scales(q_star)?;
    if !(sw2.is_finite() && sw2 > 0.0) {
        return Err(Error::invalid(
            "mu-b",
            mu_b,
            "a bias mean at which the gate is not saturated (E[σ'²] > 0 and E[u²] < 1)",
        ));
    }
    let rest = q_star - sw2 * big_q;
    let split = split_or_infeasible(
        rest,
        r,
        given,
        q_star,
        format!("q* − σ_w² Q* (σ_w² = {sw2:.6}, Q* = {big_q:.6e})"),
        |q| {
            scales(q)
                .ok()
                .map(|(bq, s2, _)| q - s2 * bq)
                .filter(|x| x.is_finite())
        },
    )?;
    let params = critical_params(sw2, split, mu_b, r, q_star)?;
    let m = Minimal::new(params)?;
    let chi_1 = m
        .clone()
        .with_integrator(Integrator::with_strategy(Strategy::Adaptive))
        .chi_1(big_q)?;
    let points: Vec<_> = m
        .state_fixed_points()?
        .iter()
        .map(|f| (f.big_q, f.stable, f.reached_from_zero))
        .collect();
    let fixed_point =
        FixedPointCheck::against(big_q, &points).ok_or_else(|| Error::NoFixedPoint {
            map: "state map",
            reason: "the solver returned no fixed point at the critical scales".into(),
        })?;
    let warnings = fixed_point_warnings(&fixed_point, "Q*");
    let fixed_point = Some(fixed_point);
    let (orthogonal, gaussian) = minimal_step_variance(&g, sw2, big_q + r);
    Ok(CriticalInit {
        cell: Cell::Minimal,
        params,
        q_star,
        big_q_star: big_q,
        chi_1,
        mu: Vec::new(),
        normalized_variance_per_step: PerWeights {
            orthogonal,
            gaussian,
        },
        spectrum_exact: false,
        fixed_point,
        warnings,
    })
}

/// One-step normalised variance of `J Jᵀ`, `J = D_a + D_b W` (I.6), with `a = u` and
/// `b = σ'(e)(h − z)`, `h − z ~ N(0, s2)` independent of `e` (factorised law):
/// `⟨a²⟩ = E u²`, `⟨b²⟩ = σ_w² s2 E σ'²`, `⟨(a² + b²)²⟩ = E u⁴ + 2σ_w² s2 E[u²σ'²] + 3σ_w⁴ s2² E σ'⁴`,
/// `m₂ = ⟨(a² + b²)²⟩ + 2⟨a²⟩⟨b²⟩ (+ ⟨b²⟩²` Gaussian), as `GatedLaw::one_step_moments`.
fn minimal_step_variance(g: &[f64; 6], sw2: f64, s2: f64) -> (f64, f64) {
    let a2 = g[0];
    let b2 = sw2 * s2 * g[2];
    let ab4 = g[3] + 2.0 * sw2 * s2 * g[4] + 3.0 * sw2 * sw2 * s2 * s2 * g[5];
    let m1 = a2 + b2;
    let m2o = ab4 + 2.0 * a2 * b2;
    let m2g = m2o + b2 * b2;
    (m2o / (m1 * m1) - 1.0, m2g / (m1 * m1) - 1.0)
}
