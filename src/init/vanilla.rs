//! The vanilla RNN's critical initialization, (I.1)–(I.3) of `theory/06`.

use std::sync::Arc;

use super::{
    CriticalInit, FixedPointCheck, Given, PerWeights, Target, check_finite, critical_params,
    expect_at, fixed_point_warnings, split_or_infeasible, validate_given,
};
use crate::activation::Activation;
use crate::cells::Cell;
use crate::cells::vanilla::Vanilla;
use crate::error::{Error, Result};
use crate::expect::{Fun, Integrator, Strategy};

/// Closed-form critical initialization of the vanilla RNN (I.1)–(I.2): for the target
/// pre-activation variance `q*`, `σ_w² = 1/E[φ'(μ_b + √q* z)²]` (so `χ₁ = 1`) and the remaining
/// variance `q* − σ_w² E[φ(μ_b + √q* z)²] = σ_v² R + σ_b²` split as `given` says.
///
/// Returns the scales with `χ₁` recomputed by an independent quadrature, the moments
/// `μ_k = E[φ'^{2k}]`, the per-step spectral growth (I.3) and the check that `q*` is the fixed
/// point the dynamics reach from `h⁰ = 0` (warnings otherwise).
///
/// # Errors
/// [`Error::InvalidParameter`] for `q* <= 0`, `R < 0` (or `R = 0` when `σ_v` must be solved
/// for), a negative given scale, or an activation with `E[φ'²] = 0`; [`Error::Infeasible`] when
/// the remaining variance is smaller than the given part, with the feasible range of `q*`.
///
pub(crate) fn critical(act: &Arc<dyn Activation>, t: &Target) -> Result<CriticalInit> {
    let Target {
        q_star,
        mu_b,
        r,
        given,
    } = *t;
    check_finite("q-star", q_star, "a finite number > 0", q_star > 0.0)?;
    check_finite("r", r, "a finite number >= 0", r >= 0.0)?;
    check_finite("mu-b", mu_b, "a finite number", true)?;
    validate_given(given)?;
    if matches!(given, Given::SigmaB(_)) && r == 0.0 {
        return Err(Error::invalid(
            "r",
            r,
            "> 0 when σ_v is solved for (with R = 0 give --sigma-v instead and σ_b is solved for)",
        ));
    }
    let eng = Integrator::default();
    let dphi = Fun::dphi(act);
    let mu: Vec<f64> = (1..=4u32)
        .map(|k| expect_at(&dphi.powi(2 * k), mu_b, q_star, &eng))
        .collect::<Result<_>>()?;
    if !(mu[0].is_finite() && mu[0] > 0.0) {
        // φ' vanishes (to double precision) on the pre-activations: name what put them
        // there — a mean far out, or a variance too large — not the activation.
        let (parameter, value) = if mu_b.abs() >= q_star.sqrt() {
            ("mu-b", mu_b)
        } else {
            ("q-star", q_star)
        };
        return Err(Error::Infeasible {
            parameter,
            value,
            constraint: format!(
                "E[φ'(μ_b + √q* z)²] = {} at μ_b = {}, q* = {} ({}), so no finite σ_w gives \
                 χ₁ = σ_w² E[φ'²] = 1",
                crate::error::fmt_num(mu[0]),
                crate::error::fmt_num(mu_b),
                crate::error::fmt_num(q_star),
                act.name()
            ),
            feasible: "choose a q* and μ_b where φ' is not saturated".into(),
        });
    }
    let phi2 = Fun::phi(act).powi(2);
    let rest_at = |q: f64| -> Result<f64> {
        let m1 = expect_at(&dphi.powi(2), mu_b, q, &eng)?;
        Ok(q - expect_at(&phi2, mu_b, q, &eng)? / m1)
    };
    let sw2 = 1.0 / mu[0];
    let big_q = expect_at(&phi2, mu_b, q_star, &eng)?;
    let rest = q_star - sw2 * big_q;
    let split = split_or_infeasible(
        rest,
        r,
        given,
        q_star,
        format!("q* − σ_w² E[φ²] (σ_w² = {sw2:.6})"),
        |q| rest_at(q).ok(),
    )?;
    let params = critical_params(sw2, split, mu_b, r, q_star)?;
    let v = Vanilla::new(act.clone(), params);
    let chi_1 = v
        .clone()
        .with_integrator(Integrator::with_strategy(Strategy::Adaptive))
        .chi_1(q_star)?;
    let fixed_point = match v.variance_fixed_points() {
        Ok(fps) => {
            let points: Vec<_> = fps
                .iter()
                .map(|f| (f.q, f.stable, f.reached_from_zero))
                .collect();
            FixedPointCheck::against(q_star, &points)
        }
        Err(Error::NoFixedPoint { .. }) => None,
        Err(e) => return Err(e),
    };
    let nv1 = mu[1] / (mu[0] * mu[0]) - 1.0;
    let warnings = match &fixed_point {
        Some(fp) => fixed_point_warnings(fp, "q*"),
        None => vec![
            "the variance map has no isolated fixed point at these scales (e.g. critical \
             ReLU: every q is fixed and marginal), so q* is kept only by the initial state"
                .into(),
        ],
    };
    Ok(CriticalInit {
        cell: Cell::Vanilla(act.clone()),
        params,
        q_star,
        big_q_star: big_q,
        chi_1,
        mu,
        normalized_variance_per_step: PerWeights {
            orthogonal: nv1,
            gaussian: nv1 + 1.0,
        },
        spectrum_exact: true,
        fixed_point,
        warnings,
    })
}
