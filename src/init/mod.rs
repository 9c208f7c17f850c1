//! Critical initialization: weight scales that put an RNN at `χ₁ = 1` with a chosen fixed
//! point, their predicted Jacobian spectra, an inverse design for a sequence length, and
//! sampled weights written as `.npy` files.
//!
//! Derivations: `theory/06-critical-initialization.md` ((I.1)–(I.6)); checks in
//! `tests/init.rs`.

pub mod design;
pub mod exact;
pub mod npy;
pub mod weights;

use std::sync::Arc;

use serde::Serialize;

use crate::activation::{Activation, Builtin};
use crate::cells::minimal::{Minimal, MinimalParams};
use crate::cells::vanilla::{Vanilla, VanillaParams};
use crate::error::{Error, Result};
use crate::expect::{Fun, Integrator, Normal, Strategy};
use crate::spectrum::{DiagonalLaw, ProductSpectrum, WeightLaw};

/// Which of the two input-side scales the user fixes; the other one supplies the rest of the
/// pre-activation variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given {
    /// `σ_b` is given; `σ_v` is solved for.
    SigmaB(f64),
    /// `σ_v` is given; `σ_b` is solved for.
    SigmaV(f64),
}

/// The cell an initialization is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// `h = φ(W h + V x + b)`.
    Vanilla,
    /// `u = σ(W h + V z + b)`, `h = u h + (1 − u) z`.
    Minimal,
}

/// A number per weight law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PerWeights {
    /// Haar-orthogonal `W` (times `σ_w`).
    pub orthogonal: f64,
    /// i.i.d. Gaussian `W` with variance `σ_w²/N`.
    pub gaussian: f64,
}

/// How the target fixed point relates to the dynamics the returned scales produce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedPointCheck {
    /// The fixed point found by the cell's own solver closest to the target (`q*` for the
    /// vanilla cell, `Q*` for the minimalRNN).
    pub found: f64,
    /// `|found − target|` relative to the target.
    pub relative_error: f64,
    /// Whether it is stable (`|slope| < 1`).
    pub stable: bool,
    /// Whether the dynamics from `h⁰ = 0` converge to it.
    pub reached_from_zero: bool,
    /// The fixed point the dynamics from `h⁰ = 0` do reach (equal to `found` when
    /// `reached_from_zero`).
    pub reached: Option<f64>,
    /// All fixed points of the map.
    pub all: Vec<f64>,
}

impl FixedPointCheck {
    /// The check of `target` against all fixed points `(value, stable, reached_from_zero)`
    /// of a map: the closest one, and the one the dynamics reach. `None` for no points.
    fn against(target: f64, points: &[(f64, bool, bool)]) -> Option<FixedPointCheck> {
        let closest = points
            .iter()
            .min_by(|a, b| (a.0 - target).abs().total_cmp(&(b.0 - target).abs()))?;
        Some(FixedPointCheck {
            found: closest.0,
            relative_error: (closest.0 - target).abs() / target,
            stable: closest.1,
            reached_from_zero: closest.2,
            reached: points.iter().find(|p| p.2).map(|p| p.0),
            all: points.iter().map(|p| p.0).collect(),
        })
    }
}

/// A critical initialization with its predictions and checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalInit {
    /// The cell.
    pub cell: CellKind,
    /// Activation name (`sigmoid` gates for the minimalRNN).
    pub activation: String,
    /// Recurrent weight scale (`W` entries `N(0, σ_w²/N)`, or `σ_w` times an orthogonal matrix).
    pub sigma_w: f64,
    /// Input weight scale (`V` entries `N(0, σ_v²/N_in)`).
    pub sigma_v: f64,
    /// Bias standard deviation.
    pub sigma_b: f64,
    /// Bias mean.
    pub mu_b: f64,
    /// Input second moment `R`.
    pub r: f64,
    /// Pre-activation variance at the fixed point.
    pub q_star: f64,
    /// Hidden second moment at the fixed point.
    pub big_q_star: f64,
    /// `χ₁` recomputed at the returned scales by the cell's theory with an independent
    /// quadrature (adaptive Gauss–Kronrod): 1 to about 1e-12.
    pub chi_1: f64,
    /// Vanilla: `μ_k = E[φ'(μ_b + √q* z)^{2k}]`, `k = 1..4`. minimalRNN: empty.
    pub mu: Vec<f64>,
    /// Growth per step of the normalised variance `(m₂ − m₁²)/m₁²` of the squared singular
    /// values of `J_T` (additive over steps for free factors).
    pub normalized_variance_per_step: PerWeights,
    /// `true` for the vanilla cell (free probability is exact at infinite width); `false` for
    /// the minimalRNN beyond one step (its Jacobians are not free across steps,
    /// `theory/04-spectra.md`), and the minimalRNN law is the factorised one.
    pub spectrum_exact: bool,
    /// The target fixed point against the dynamics (`None` when the map has no isolated
    /// fixed point, e.g. critical ReLU, whose variance map is the identity; see `warnings`).
    pub fixed_point: Option<FixedPointCheck>,
    /// Anything the user should know (unstable or unreachable target, ...).
    pub warnings: Vec<String>,
}

/// A per-step normalised variance estimated from sampled unit paths, with standard errors
/// over the process's independent replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitProcessVariance {
    /// The estimate from all paths.
    pub value: PerWeights,
    /// Its standard error.
    pub se: PerWeights,
}

/// Predicted spread of the squared singular values of `J_T` at horizon `T`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpectralWidth {
    /// Horizon `T`.
    pub horizon: usize,
    /// Normalised variance `T · v₁` per weight law.
    pub normalized_variance: PerWeights,
    /// `√(m₂)/m₁ = √(1 + v)`: root-mean-square of `λ` over its mean (1 at isometry).
    pub rms_ratio: PerWeights,
    /// Upper edge of the support of `J_T J_Tᵀ` (vanilla cell with a built-in activation;
    /// `None` otherwise; `m₁ = 1` at criticality).
    pub lambda_max: Option<PerWeights>,
}

fn check_finite(name: &'static str, v: f64, expected: &'static str, ok: bool) -> Result<()> {
    if v.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::invalid(name, v, expected))
    }
}

fn validate_given(given: Given) -> Result<()> {
    match given {
        Given::SigmaB(s) => check_finite("sigma-b", s, "a finite number >= 0", s >= 0.0),
        Given::SigmaV(s) => check_finite("sigma-v", s, "a finite number >= 0", s >= 0.0),
    }
}

/// Splits the remaining pre-activation variance `rest = σ_v² R + σ_b²` between input and bias
/// ((I.2)) as [`split`] does, or returns [`Error::Infeasible`] with the constraint (`what` names
/// `rest` and its ingredients) and the feasible range of `q*` from `rest_at(q)`, the remaining
/// variance at another target.
fn split_or_infeasible(
    rest: f64,
    r: f64,
    given: Given,
    q_star: f64,
    what: String,
    rest_at: impl Fn(f64) -> Option<f64>,
) -> Result<(f64, f64)> {
    if let Some((sigma_v, sigma_b)) = split(rest, r, given, q_star) {
        if !(sigma_v.is_finite() && sigma_b.is_finite()) {
            // σ_v² = (rest − σ_b²)/R overflows for a tiny R: the R given is to blame.
            return Err(Error::invalid(
                "r",
                r,
                "large enough that σ_v² = (q* − σ_w² Q* − σ_b²)/R is finite",
            ));
        }
        return Ok((sigma_v, sigma_b));
    }
    let (need, label) = match given {
        Given::SigmaB(s) => (s * s, "σ_b²"),
        Given::SigmaV(s) => (s * s * r, "σ_v² R"),
    };
    Err(Error::Infeasible {
        parameter: "q-star",
        value: q_star,
        constraint: format!(
            "the remaining variance {what} = {rest:.6e} must cover the given {label} = {need:.6e}"
        ),
        feasible: feasible_intervals(|q| rest_at(q).map(|x| x - need)),
    })
}

/// Splits the remaining pre-activation variance `rest = σ_v² R + σ_b²` between input and bias
/// ((I.2)); returns `(σ_v, σ_b)` or `None` if the given part exceeds `rest`.
fn split(rest: f64, r: f64, given: Given, q_star: f64) -> Option<(f64, f64)> {
    // Rounding: `rest` is a difference of O(q*) terms, so a few ulps of q* below zero is zero
    // (critical ReLU has rest = 0 exactly).
    let tol = 1e-13 * q_star;
    match given {
        Given::SigmaB(sb) => {
            let sv2 = (rest - sb * sb) / r;
            if sv2 >= -tol / r {
                Some((sv2.max(0.0).sqrt(), sb))
            } else {
                None
            }
        }
        Given::SigmaV(sv) => {
            let sb2 = rest - sv * sv * r;
            if sb2 >= -tol {
                Some((sv, sb2.max(0.0).sqrt()))
            } else {
                None
            }
        }
    }
}

/// Intervals of `q*` on a log grid over `[1e-4, 1e3]` where `g(q*) >= 0`, refined by
/// bisection, formatted for an error message.
fn feasible_intervals(mut g: impl FnMut(f64) -> Option<f64>) -> String {
    let xs: Vec<f64> = (0..=140)
        .map(|i| 10f64.powf(-4.0 + 7.0 * i as f64 / 140.0))
        .collect();
    let vals: Vec<Option<f64>> = xs.iter().map(|&x| g(x)).collect();
    let ok = |v: &Option<f64>| v.is_some_and(|v| v >= 0.0);
    let mut refine = |mut lo: f64, mut hi: f64, lo_ok: bool| -> f64 {
        for _ in 0..50 {
            let mid = (lo * hi).sqrt();
            if ok(&g(mid)) == lo_ok {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if lo_ok { lo } else { hi }
    };
    let mut out = Vec::new();
    let mut start: Option<f64> = ok(&vals[0]).then_some(xs[0]);
    for i in 1..xs.len() {
        match (ok(&vals[i - 1]), ok(&vals[i])) {
            (false, true) => start = Some(refine(xs[i - 1], xs[i], false)),
            (true, false) => {
                let end = refine(xs[i - 1], xs[i], true);
                out.push(format!("[{:.4e}, {:.4e}]", start.unwrap_or(xs[0]), end));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(format!("[{s:.4e}, 1e3 and beyond]"));
    }
    if out.is_empty() {
        "no q* in [1e-4, 1e3] is feasible with these settings".into()
    } else {
        format!("feasible q* in [1e-4, 1e3]: {}", out.join(" ∪ "))
    }
}

fn expect_at(f: &Fun, mean: f64, var: f64, eng: &Integrator) -> Result<f64> {
    Ok(eng.expect(f, &Normal::new(mean, var)?)?.value)
}

/// The closed-form scales solved from `q*` cannot form valid parameters (e.g. σ_v of order
/// √q* beyond the variance budget): the user chose `q*`, so the error names `q-star`.
fn unrepresentable_scales(e: Error, q_star: f64) -> Error {
    match e {
        Error::InvalidParameter {
            name,
            value,
            expected,
        } => Error::Infeasible {
            parameter: "q-star",
            value: q_star,
            constraint: format!(
                "the critical scales at q* = {} give {name} = {} ({expected})",
                crate::error::fmt_num(q_star),
                crate::error::fmt_num(value)
            ),
            feasible: "choose a smaller q*".into(),
        },
        other => other,
    }
}

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
/// # Example
/// ```
/// use mfrnn::activation::Builtin;
/// use mfrnn::init::{self, Given};
/// let c = init::vanilla(Builtin::Tanh.arc(), 0.05, 1.0, 0.0, Given::SigmaB(0.0)).unwrap();
/// assert!((c.chi_1 - 1.0).abs() < 1e-12);
/// assert!(c.sigma_w > 1.0 && c.sigma_v > 0.0);
/// ```
pub fn vanilla(
    act: Arc<dyn Activation>,
    q_star: f64,
    r: f64,
    mu_b: f64,
    given: Given,
) -> Result<CriticalInit> {
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
    let dphi = Fun::dphi(&act);
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
    let phi2 = Fun::phi(&act).powi(2);
    let rest_at = |q: f64| -> Result<f64> {
        let m1 = expect_at(&dphi.powi(2), mu_b, q, &eng)?;
        Ok(q - expect_at(&phi2, mu_b, q, &eng)? / m1)
    };
    let sw2 = 1.0 / mu[0];
    let big_q = expect_at(&phi2, mu_b, q_star, &eng)?;
    let rest = q_star - sw2 * big_q;
    let (sigma_v, sigma_b) = split_or_infeasible(
        rest,
        r,
        given,
        q_star,
        format!("q* − σ_w² E[φ²] (σ_w² = {sw2:.6})"),
        |q| rest_at(q).ok(),
    )?;
    let v = Vanilla::new(
        act.clone(),
        VanillaParams::new(sw2.sqrt(), sigma_v, sigma_b, mu_b, r)
            .map_err(|e| unrepresentable_scales(e, q_star))?,
    );
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
        cell: CellKind::Vanilla,
        activation: act.name().to_string(),
        sigma_w: sw2.sqrt(),
        sigma_v,
        sigma_b,
        mu_b,
        r,
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

fn fixed_point_warnings(fp: &FixedPointCheck, name: &str) -> Vec<String> {
    let mut w = Vec::new();
    if fp.relative_error > 1e-6 {
        w.push(format!(
            "the target {name} is not a fixed point the solver finds (closest {:.6e}, \
             relative error {:.1e})",
            fp.found, fp.relative_error
        ));
    }
    if !fp.stable {
        w.push(format!("the target {name} is an unstable fixed point"));
    }
    if !fp.reached_from_zero {
        match fp.reached {
            Some(r) => w.push(format!(
                "the dynamics from h⁰ = 0 do not reach the target {name}: they settle at \
                 {r:.6e} instead"
            )),
            None => w.push(format!(
                "the dynamics from h⁰ = 0 do not reach the target {name}"
            )),
        }
    }
    w
}

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
/// # Example
/// ```
/// use mfrnn::init::{self, Given};
/// let c = init::minimal(16.0, 4.0, 0.46, Given::SigmaB(0.0)).unwrap();
/// assert!((c.chi_1 - 1.0).abs() < 1e-12);
/// ```
pub fn minimal(q_star: f64, mu_b: f64, r: f64, given: Given) -> Result<CriticalInit> {
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
    let (sigma_v, sigma_b) = split_or_infeasible(
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
    let m = Minimal::new(
        MinimalParams::new(sw2.sqrt(), sigma_v, sigma_b, mu_b, r)
            .map_err(|e| unrepresentable_scales(e, q_star))?,
    );
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
        cell: CellKind::Minimal,
        activation: "sigmoid".into(),
        sigma_w: sw2.sqrt(),
        sigma_v,
        sigma_b,
        mu_b,
        r,
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

impl CriticalInit {
    /// minimalRNN: the one-step normalised variance `v₁` of `J Jᵀ` from the exact unit process
    /// of the tied-weight network (`cells::exact`, `units` paths after `burn_in` steps, seeded
    /// by `seed`) instead of the factorised Gaussian law of (I.6). Exact for one step given
    /// the unit law (`theory/04-spectra.md`, (S.5)); across steps it is still the free
    /// approximation. Checked against sampled networks in `tests/init.rs`
    /// (`minimal_width_from_unit_process`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for the vanilla cell (its law is exact already); errors of the
    /// exact theory.
    pub fn unit_process_step_variance(
        &self,
        units: usize,
        burn_in: usize,
        seed: u64,
    ) -> Result<UnitProcessVariance> {
        use crate::cells::exact::{self, ExactConfig, ProcessParams, Regime, UnitUpdate};
        use crate::spectrum::gated::GatedLaw;
        if self.cell != CellKind::Minimal {
            return Err(Error::Unsupported(
                "the unit-process law applies to the minimalRNN; the vanilla per-step variance \
                 is exact already"
                    .into(),
            ));
        }
        let p = ProcessParams {
            sigma_w: self.sigma_w,
            sigma_v: self.sigma_v,
            sigma_b: self.sigma_b,
            mu_b: self.mu_b,
            r: self.r,
        };
        let regime = Regime {
            tied: true,
            fresh_bias: false,
        };
        let paths = exact::jacobian_paths(
            &UnitUpdate::Minimal,
            &p,
            regime,
            burn_in,
            1,
            &ExactConfig::new(units, 8, seed)?,
        )?;
        let nv = |law: &GatedLaw, w| {
            let (m1, m2) = law.one_step_moments(w);
            m2 / (m1 * m1) - 1.0
        };
        let law = GatedLaw::from_paths(&paths, 0, self.sigma_w)?;
        // Standard errors from the spread over the independent replicas.
        let mut per = [Vec::new(), Vec::new()];
        for r in 0..paths.len() {
            let l = GatedLaw::from_paths(&paths[r..r + 1], 0, self.sigma_w)?;
            per[0].push(nv(&l, WeightLaw::Orthogonal));
            per[1].push(nv(&l, WeightLaw::Gaussian));
        }
        let se = |xs: &[f64]| crate::sim::mean_se(xs).1;
        Ok(UnitProcessVariance {
            value: PerWeights {
                orthogonal: nv(&law, WeightLaw::Orthogonal),
                gaussian: nv(&law, WeightLaw::Gaussian),
            },
            se: PerWeights {
                orthogonal: se(&per[0]),
                gaussian: se(&per[1]),
            },
        })
    }

    /// Predicted spread of the squared singular values of `J_T` at horizon `T` (I.3): the
    /// normalised variance `T v₁` and, for the vanilla cell, the upper edge of the support from
    /// free probability. For the minimalRNN the multi-step numbers are the free approximation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `horizon == 0`; spectrum errors.
    pub fn spectral_width(&self, horizon: usize) -> Result<SpectralWidth> {
        if horizon == 0 {
            return Err(Error::invalid("horizon", 0.0, "at least 1"));
        }
        let t = horizon as f64;
        let nv = PerWeights {
            orthogonal: t * self.normalized_variance_per_step.orthogonal,
            gaussian: t * self.normalized_variance_per_step.gaussian,
        };
        let lambda_max = match self.cell {
            CellKind::Vanilla => {
                let act = Builtin::from_name(&self.activation)
                    .map(|b| b.arc())
                    .map_err(|_| {
                        Error::Unsupported(
                            "lambda_max needs a built-in activation (custom ones: use \
                             ProductSpectrum directly)"
                                .into(),
                        )
                    });
                match act {
                    Ok(act) => {
                        let law = DiagonalLaw::of_activation(act.as_ref(), self.mu_b, self.q_star)?;
                        let sw2 = self.sigma_w * self.sigma_w;
                        let edge = |w| -> Result<f64> {
                            let e = ProductSpectrum::new(law.clone(), sw2, horizon, w)?.edges()[1];
                            if e.is_finite() {
                                Ok(e)
                            } else {
                                Err(Error::Overflow {
                                    quantity: format!(
                                        "the largest squared singular value at horizon {horizon}"
                                    ),
                                    reason: format!(
                                        "λ_max = {e:e} is beyond the largest double (1.8e308); \
                                         choose a shorter --horizon"
                                    ),
                                })
                            }
                        };
                        Some(PerWeights {
                            orthogonal: edge(WeightLaw::Orthogonal)?,
                            gaussian: edge(WeightLaw::Gaussian)?,
                        })
                    }
                    Err(_) => None,
                }
            }
            CellKind::Minimal => None,
        };
        Ok(SpectralWidth {
            horizon,
            normalized_variance: nv,
            rms_ratio: PerWeights {
                orthogonal: (1.0 + nv.orthogonal).sqrt(),
                gaussian: (1.0 + nv.gaussian).sqrt(),
            },
            lambda_max,
        })
    }
}
