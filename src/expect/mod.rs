//! Gaussian expectations `E[f(u)]` and `E[f(u) g(v)]`, accurate everywhere, with error
//! estimates.
//!
//! This is the engine every mean-field map in mfrnn runs on. It chooses a method per call:
//!
//! | situation | method | accuracy |
//! |---|---|---|
//! | zero variance | point evaluation ([`Method::PointMass`]) | exact |
//! | erf family, zero-mean ReLU kernels | closed form ([`Method::ClosedForm`]) | a few ulps |
//! | linear, ReLU, hard-tanh (any products/powers) | truncated normal moments ([`Method::PiecewiseExact`]) | a few ulps |
//! | smooth φ with a known analyticity strip | self-checking trapezoid rule ([`Method::Trapezoid`]) | ~1e-16, certified by step halving |
//! | 2-D, smooth, moderate correlation | Mehler series ([`Method::Mehler`]) | truncation bound `abs(c)^(K+1)·‖f‖‖g‖` |
//! | 2-D, smooth, strong correlation | commensurate trapezoid lattice, Gauss–Hermite inner rule as `abs(c) → 1` ([`Method::Lattice`]) | ~1e-15, checked by step halving |
//! | 2-D with a piecewise-polynomial factor | exact inner, adaptive outer ([`Method::ConditionalExact`]) | ~1e-15 |
//! | anything else (closures, very large variance) | adaptive Gauss–Kronrod split at break points ([`Method::Adaptive`]) | requested tolerance |
//!
//! Plain Gauss–Hermite is deliberately absent: for tanh at `q = 16` it is off by ~1e-3 with
//! 100 nodes, and at kinks it converges only algebraically. The derivations are in
//! `theory/01-gaussian-expectations.md`.
//!
//! ```
//! use mfrnn::activation::Builtin;
//! use mfrnn::expect::{expect, expect2, BivariateNormal, Fun, Normal};
//! let tanh = Builtin::Tanh.arc();
//! // E[tanh(u)^2], u ~ N(0, 100)
//! let e = expect(&Fun::phi(&tanh).powi(2), &Normal::new(0.0, 100.0)?)?;
//! assert!((e.value - 0.9205368634305167).abs() < 1e-14);
//! assert!(e.error_estimate < 1e-13);
//! // E[tanh(u) tanh(v)] at equal variance 4 and correlation 0.99
//! let b = BivariateNormal::equal(0.0, 4.0, 0.99)?;
//! let e2 = expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &b)?;
//! assert!(e2.value > 0.0 && e2.value < 1.0);
//! # Ok::<(), mfrnn::Error>(())
//! ```

pub(crate) mod closed;
mod fun;
mod hermite;
pub mod logistic;
mod saturated;
mod smooth2d;

use std::cell::Cell;

use serde::Serialize;

pub use fun::Fun;
pub use hermite::HermiteExpansion;

use crate::activation::Parity;
use crate::activation::Smoothness;
use crate::error::{Error, Result, finite, non_negative};
use crate::gauss::piecewise::Piecewise;
use crate::gauss::quadrature::adaptive_with_floor;
use crate::gauss::special::norm_pdf;
use crate::gauss::trapezoid::{StepModel, gauss_trapezoid};

/// A univariate normal law `N(mean, var)`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Normal {
    /// Mean μ.
    pub mean: f64,
    /// Variance q (≥ 0).
    pub var: f64,
}

impl Normal {
    /// `N(mean, var)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `mean` or `q` if not finite, or `q < 0`.
    pub fn new(mean: f64, var: f64) -> Result<Normal> {
        Ok(Normal {
            mean: finite("mean", mean)?,
            var: non_negative("q", var)?,
        })
    }
}

/// A bivariate normal law for `(u, v)`, validated; stored through the correlation, so
/// `u = μ_u + √q_u z₁`, `v = μ_v + √q_v (c z₁ + √(1−c²) z₂)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BivariateNormal {
    /// Mean of `u`.
    pub mean_u: f64,
    /// Mean of `v`.
    pub mean_v: f64,
    /// Variance of `u`.
    pub var_u: f64,
    /// Variance of `v`.
    pub var_v: f64,
    /// Correlation `c ∈ [−1, 1]` (0 when a variance is 0).
    pub corr: f64,
}

impl BivariateNormal {
    /// From means, variances and the correlation `c`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for non-finite input, negative variance or `|c| > 1`.
    pub fn with_correlation(
        mean_u: f64,
        mean_v: f64,
        var_u: f64,
        var_v: f64,
        corr: f64,
    ) -> Result<BivariateNormal> {
        let corr = finite("c", corr)?;
        if corr.abs() > 1.0 {
            return Err(Error::invalid("c", corr, "a correlation in [-1, 1]"));
        }
        Ok(BivariateNormal {
            mean_u: finite("mean_u", mean_u)?,
            mean_v: finite("mean_v", mean_v)?,
            var_u: non_negative("q_u", var_u)?,
            var_v: non_negative("q_v", var_v)?,
            corr,
        })
    }

    /// From means, variances and the covariance `q_uv` (`|q_uv| <= √(q_u q_v)`; a relative
    /// excess of up to 1e-12 from rounding is clamped).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for non-finite input, negative variances, or a
    /// covariance incompatible with the variances.
    pub fn with_covariance(
        mean_u: f64,
        mean_v: f64,
        var_u: f64,
        var_v: f64,
        cov: f64,
    ) -> Result<BivariateNormal> {
        let var_u = non_negative("q_u", var_u)?;
        let var_v = non_negative("q_v", var_v)?;
        let cov = finite("q_uv", cov)?;
        let s = (var_u * var_v).sqrt();
        let corr = if s == 0.0 {
            if cov != 0.0 {
                return Err(Error::invalid(
                    "q_uv",
                    cov,
                    "0 when a variance is 0 (|q_uv| <= sqrt(q_u q_v))",
                ));
            }
            0.0
        } else {
            let c = cov / s;
            if c.abs() > 1.0 + 1e-12 {
                return Err(Error::invalid("q_uv", cov, "|q_uv| <= sqrt(q_u q_v)"));
            }
            c.clamp(-1.0, 1.0)
        };
        Self::with_correlation(mean_u, mean_v, var_u, var_v, corr)
    }

    /// Equal means and variances: `u, v ~ N(mean, var)` with correlation `c`.
    ///
    /// # Errors
    /// As [`BivariateNormal::with_correlation`].
    pub fn equal(mean: f64, var: f64, corr: f64) -> Result<BivariateNormal> {
        Self::with_correlation(mean, mean, var, var, corr)
    }

    /// The covariance `c √(q_u q_v)`.
    pub fn cov(&self) -> f64 {
        self.corr * (self.var_u * self.var_v).sqrt()
    }
}

/// How an expectation was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Zero variance: the integrand at the mean.
    PointMass,
    /// A closed-form expression.
    ClosedForm,
    /// Exact sum of truncated normal moments (piecewise polynomials).
    PiecewiseExact,
    /// Trapezoid rule on the real line with step-halving check.
    Trapezoid,
    /// Globally adaptive Gauss–Kronrod (21 points), split at break points.
    Adaptive,
    /// `E[f]·E[g]` (zero correlation).
    Factorized,
    /// Mehler (Hermite) series in the correlation.
    Mehler,
    /// Trapezoid lattice in `(z₁, z₂)` with commensurate steps.
    Lattice,
    /// Outer adaptive Gauss–Kronrod over `u`, inner expectation of `v | u` exact.
    ConditionalExact,
    /// Outer adaptive Gauss–Kronrod over `u`, inner expectation of `v | u` numerical.
    ConditionalAdaptive,
    /// Large variance: the exact expectation of the saturation limit (a piecewise
    /// polynomial) plus the remainder integrated over the transition windows (G.14).
    Saturated,
}

impl Method {
    /// Kebab-case name, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::PointMass => "point-mass",
            Method::ClosedForm => "closed-form",
            Method::PiecewiseExact => "piecewise-exact",
            Method::Trapezoid => "trapezoid",
            Method::Adaptive => "adaptive",
            Method::Factorized => "factorized",
            Method::Mehler => "mehler",
            Method::Lattice => "lattice",
            Method::ConditionalExact => "conditional-exact",
            Method::ConditionalAdaptive => "conditional-adaptive",
            Method::Saturated => "saturated",
        }
    }
}

/// An expectation with its diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Expectation {
    /// The value.
    pub value: f64,
    /// Estimated absolute error (a bound for exact methods: rounding only).
    pub error_estimate: f64,
    /// The method used.
    pub method: Method,
    /// Integrand evaluations spent (0 for closed forms).
    pub evaluations: usize,
}

/// Which methods the engine may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Closed forms and exact sums first, then the fastest accurate quadrature.
    #[default]
    Auto,
    /// Never closed forms or exact piecewise sums: quadrature only (for cross-checks).
    Quadrature,
    /// Only adaptive Gauss–Kronrod (nested in 2-D): the slow, independent reference path.
    Adaptive,
}

/// Configurable expectation engine. [`expect`] and [`expect2`] use `Integrator::default()`.
#[derive(Debug, Clone, Copy)]
pub struct Integrator {
    /// Relative tolerance for adaptive quadrature.
    pub rel_tol: f64,
    /// Absolute tolerance for adaptive quadrature.
    pub abs_tol: f64,
    /// Method selection.
    pub strategy: Strategy,
}

impl Default for Integrator {
    fn default() -> Self {
        Integrator {
            rel_tol: 1e-14,
            abs_tol: 1e-17,
            strategy: Strategy::Auto,
        }
    }
}

/// `E[f(u)]`, `u ~ n`, with [`Integrator::default`].
///
/// # Errors
/// [`Error::NonFiniteIntegrand`] if `f` is NaN/infinite where it must be evaluated;
/// [`Error::Integration`] if adaptive quadrature cannot meet its tolerance;
/// [`Error::Overflow`] if the value (or its error estimate) is beyond the largest double,
/// e.g. `E[u⁴] = 3q²` at `q = 1e200` — never an infinite or NaN "result".
pub fn expect(f: &Fun, n: &Normal) -> Result<Expectation> {
    Integrator::default().expect(f, n)
}

/// `E[f(u) g(v)]`, `(u, v) ~ b`, with [`Integrator::default`].
///
/// # Errors
/// As [`expect`].
pub fn expect2(f: &Fun, g: &Fun, b: &BivariateNormal) -> Result<Expectation> {
    Integrator::default().expect2(f, g, b)
}

/// Largest trapezoid grid (nodes) before switching to adaptive quadrature.
const TRAP_MAX_NODES: f64 = 1600.0;

/// Half-width of the z-range whose Gaussian tail is negligible (< 1e-20 relative) for an
/// integrand growing like `|z|^degree`.
fn z_range(degree: u32) -> f64 {
    (90.2 + 4.7 * f64::from(degree)).sqrt()
}

/// Trapezoid step for `F(μ + √q z) φ(z)` with `F` analytic for `|Im z| < a_max`, Gaussian
/// growth `gamma` and Hermite growth `beta` (see [`StepModel`]).
pub(crate) fn trap_step(a_max: f64, gamma: f64, beta: f64, degree: u32) -> f64 {
    StepModel {
        a_max,
        gamma,
        beta,
        degree: f64::from(degree),
    }
    .step()
}

/// Analyticity data of `f` in its own variable: (strip, Gaussian growth, degree), or `None`
/// if the trapezoid rule does not apply (kinks, unknown smoothness).
pub(crate) fn x_smoothness(f: &Fun) -> Option<(f64, f64, u32)> {
    match f.smoothness() {
        Smoothness::Polynomial { degree } => Some((f64::INFINITY, 0.0, degree)),
        Smoothness::Analytic {
            strip,
            growth,
            degree,
        } => Some((strip, growth, degree)),
        _ => None,
    }
}

impl Integrator {
    /// An engine with the given strategy and default tolerances.
    pub fn with_strategy(strategy: Strategy) -> Self {
        Integrator {
            strategy,
            ..Default::default()
        }
    }

    /// `E[f(u)]`, `u ~ n`.
    ///
    /// # Errors
    /// As [`expect`].
    pub fn expect(&self, f: &Fun, n: &Normal) -> Result<Expectation> {
        let e = self.expect_unchecked(f, n)?;
        finite_result(e, || format!("E[{f}(u)], u ~ N({}, {:e})", n.mean, n.var))
    }

    fn expect_unchecked(&self, f: &Fun, n: &Normal) -> Result<Expectation> {
        let (mean, var) = (n.mean, n.var);
        if var == 0.0 || f.is_constant() {
            let v = f.eval(mean);
            if !v.is_finite() {
                return Err(Error::NonFiniteIntegrand { at: mean, value: v });
            }
            return Ok(Expectation {
                value: v,
                error_estimate: 0.0,
                method: Method::PointMass,
                evaluations: 1,
            });
        }
        if self.strategy == Strategy::Auto {
            if let Some(v) = closed::one_d(f, mean, var) {
                return Ok(Expectation {
                    value: v,
                    error_estimate: 16.0 * f64::EPSILON * v.abs(),
                    method: Method::ClosedForm,
                    evaluations: 0,
                });
            }
            if let Some(p) = f.to_piecewise() {
                let (v, e) = p.gaussian_expectation(mean, var);
                return Ok(Expectation {
                    value: v,
                    error_estimate: e,
                    method: Method::PiecewiseExact,
                    evaluations: 0,
                });
            }
        }
        let sd = var.sqrt();
        if self.strategy != Strategy::Adaptive
            && let Some((strip, growth, degree)) = x_smoothness(f)
        {
            let model = StepModel {
                a_max: strip / sd,
                gamma: 0.5 + growth * var,
                beta: 0.0,
                degree: f64::from(degree),
            };
            let zmax = z_range(degree);
            if 2.0 * zmax / model.step() <= TRAP_MAX_NODES {
                let parity = if mean == 0.0 {
                    f.parity()
                } else {
                    Parity::None
                };
                let r = gauss_trapezoid(|z| f.eval(mean + sd * z), &model, zmax, parity, 3)?;
                if r.converged {
                    return Ok(Expectation {
                        value: r.value,
                        error_estimate: r.error,
                        method: Method::Trapezoid,
                        evaluations: r.evals,
                    });
                }
            }
        }
        if self.strategy == Strategy::Auto
            && sd >= saturated::SAT_MIN_SD
            && let Some(s) = saturated::sat_form(f).filter(|s| !s.is_exact())
        {
            return saturated::expect_1d(self, f, &s, mean, var);
        }
        self.adaptive_1d(f, mean, sd)
    }

    /// Adaptive Gauss–Kronrod over z, split at break points, transition points and the
    /// edges of their boundary layers.
    fn adaptive_1d(&self, f: &Fun, mean: f64, sd: f64) -> Result<Expectation> {
        let degree = match f.smoothness() {
            Smoothness::Polynomial { degree } | Smoothness::Analytic { degree, .. } => degree,
            Smoothness::PiecewisePolynomial => f.to_piecewise().map_or(0, |p| p.degree() as u32),
            Smoothness::Unknown => 2,
        };
        let zmax = z_range(degree) + 2.0;
        let mut pts = vec![-zmax, zmax];
        for b in f.breakpoints() {
            pts.push((b - mean) / sd);
        }
        let strip_z = match f.smoothness() {
            Smoothness::Analytic { strip, .. } if strip.is_finite() => strip / sd,
            // Entire (erf): the transition is O(1) wide in x, 1/sd in z; a layer width of
            // 1 in z missed it (9e-12 error for erf at sd = 2.7e3 with a 1e-15 estimate).
            Smoothness::Analytic { .. } => 1.0 / sd,
            _ => 1.0,
        };
        for c in f.centers() {
            let z = (c - mean) / sd;
            pts.push(z);
            layer_points(&mut pts, z, strip_z, zmax);
        }
        let r = run_adaptive(|z| weighted(f, mean, sd, z), pts, zmax, self)?;
        // Tail beyond ±zmax: bounded by the integrand there times the Mills ratio.
        let tail = (weighted(f, mean, sd, zmax).abs() + weighted(f, mean, sd, -zmax).abs()) / zmax;
        Ok(Expectation {
            value: r.value,
            error_estimate: r.error + if tail.is_finite() { tail } else { 0.0 },
            method: Method::Adaptive,
            evaluations: r.evals + 2,
        })
    }

    /// `E[f(u) g(v)]`, `(u, v) ~ b`.
    ///
    /// # Errors
    /// As [`expect`].
    pub fn expect2(&self, f: &Fun, g: &Fun, b: &BivariateNormal) -> Result<Expectation> {
        let e = self.expect2_unchecked(f, g, b)?;
        finite_result(e, || {
            format!(
                "E[{f}(u) {g}(v)], (u, v) with means ({}, {}), variances ({:e}, {:e}), \
                 correlation {}",
                b.mean_u, b.mean_v, b.var_u, b.var_v, b.corr
            )
        })
    }

    fn expect2_unchecked(&self, f: &Fun, g: &Fun, b: &BivariateNormal) -> Result<Expectation> {
        let (qu, qv, c) = (b.var_u, b.var_v, b.corr);
        // Degenerate laws reduce to one dimension.
        if qu == 0.0 || f.is_constant() {
            let a = f.eval(b.mean_u);
            if !a.is_finite() {
                return Err(Error::NonFiniteIntegrand {
                    at: b.mean_u,
                    value: a,
                });
            }
            let e = self.expect(g, &Normal::new(b.mean_v, qv)?)?;
            return Ok(scaled(e, a));
        }
        if qv == 0.0 || g.is_constant() {
            let a = g.eval(b.mean_v);
            if !a.is_finite() {
                return Err(Error::NonFiniteIntegrand {
                    at: b.mean_v,
                    value: a,
                });
            }
            let e = self.expect(f, &Normal::new(b.mean_u, qu)?)?;
            return Ok(scaled(e, a));
        }
        let (su, sv) = (qu.sqrt(), qv.sqrt());
        if c.abs() == 1.0 {
            // v = μ_v + c √(q_v/q_u) (u − μ_u): a one-dimensional expectation.
            let slope = c * sv / su;
            let gu = g.compose_affine(b.mean_v - slope * b.mean_u, slope);
            return self.expect(&(f * &gu), &Normal::new(b.mean_u, qu)?);
        }
        if c == 0.0 {
            let ef = self.expect(f, &Normal::new(b.mean_u, qu)?)?;
            let eg = self.expect(g, &Normal::new(b.mean_v, qv)?)?;
            return Ok(Expectation {
                value: ef.value * eg.value,
                error_estimate: ef.error_estimate * eg.value.abs()
                    + eg.error_estimate * ef.value.abs()
                    + ef.error_estimate * eg.error_estimate,
                method: Method::Factorized,
                evaluations: ef.evaluations + eg.evaluations,
            });
        }
        if self.strategy == Strategy::Auto
            && let Some(v) = closed::two_d(f, g, b)
        {
            return Ok(Expectation {
                value: v,
                error_estimate: 32.0 * f64::EPSILON * v.abs(),
                method: Method::ClosedForm,
                evaluations: 0,
            });
        }
        if self.strategy != Strategy::Adaptive {
            // Put a piecewise-polynomial factor on the inner (conditional) side.
            if g.to_piecewise().is_some() {
                return self.conditional(f, g, b, true);
            }
            if f.to_piecewise().is_some() {
                return self.conditional(g, f, &swap(b), true);
            }
            // The cheaper of the Mehler series and the lattice; the other as a fallback.
            let mehler_first = c.abs() <= smooth2d::MEHLER_MAX_CORR
                && match (
                    smooth2d::mehler_cost(f, g, b),
                    smooth2d::lattice_cost(f, g, b),
                ) {
                    (Some(m), Some(l)) => m < l,
                    (Some(_), None) => true,
                    _ => false,
                };
            if mehler_first && let Some(e) = smooth2d::mehler(f, g, b)? {
                return Ok(e);
            }
            if let Some(e) = smooth2d::lattice(f, g, b)? {
                return Ok(e);
            }
            if !mehler_first
                && c.abs() <= smooth2d::MEHLER_MAX_CORR
                && let Some(e) = smooth2d::mehler(f, g, b)?
            {
                return Ok(e);
            }
            // Large variances: the saturation-limit decomposition (G.14) before nested
            // adaptive quadrature, whose cost grows with the variance.
            if self.strategy == Strategy::Auto
                && su.max(sv) >= saturated::SAT_MIN_SD
                && let Some(e) = saturated::expect_2d(self, f, g, b)?
            {
                return Ok(e);
            }
        }
        self.conditional(f, g, b, false)
    }

    /// Outer adaptive quadrature over `z₁`, inner `E[g(v) | u]` exact (piecewise `g`) or
    /// by the 1-D engine.
    fn conditional(
        &self,
        f: &Fun,
        g: &Fun,
        b: &BivariateNormal,
        exact_inner: bool,
    ) -> Result<Expectation> {
        let gp = if exact_inner { g.to_piecewise() } else { None };
        match gp {
            Some(p) => self.conditional_with(f, Inner::Exact(&p), b),
            None => self.conditional_with(f, Inner::Engine(g), b),
        }
    }

    /// [`Integrator::conditional`] with the inner factor given as a piecewise polynomial
    /// (exact inner expectation) or as a [`Fun`] for the 1-D engine.
    fn conditional_with(
        &self,
        f: &Fun,
        inner: Inner<'_>,
        b: &BivariateNormal,
    ) -> Result<Expectation> {
        let (su, sv, c) = (b.var_u.sqrt(), b.var_v.sqrt(), b.corr);
        let s_cond = sv * ((1.0 - c) * (1.0 + c)).sqrt();
        let slope = sv * c; // d(conditional mean of v)/dz₁
        let (gp, g) = match inner {
            Inner::Exact(p) => (Some(p), None),
            Inner::Engine(g) => (None, Some(g)),
        };
        let exact_inner = gp.is_some();
        let inner_engine = Integrator {
            strategy: if self.strategy == Strategy::Adaptive {
                Strategy::Adaptive
            } else {
                Strategy::Auto
            },
            ..*self
        };
        let worst_inner = Cell::new(0.0f64);
        let inner_evals = Cell::new(0usize);
        let failure: Cell<Option<Error>> = Cell::new(None);
        let integrand = |z: f64| -> f64 {
            let w = norm_pdf(z);
            if w == 0.0 {
                return 0.0;
            }
            let fv = f.eval(b.mean_u + su * z);
            if fv == 0.0 {
                return 0.0;
            }
            let m = b.mean_v + slope * z;
            let (h, err) = match (gp, g) {
                (Some(p), _) => p.gaussian_expectation(m, s_cond * s_cond),
                (None, None) => unreachable!("one inner form is given"),
                (None, Some(g)) => match inner_engine.expect(
                    g,
                    &Normal {
                        mean: m,
                        var: s_cond * s_cond,
                    },
                ) {
                    Ok(e) => {
                        inner_evals.set(inner_evals.get() + e.evaluations);
                        (e.value, e.error_estimate)
                    }
                    Err(e) => {
                        failure.set(Some(e));
                        return f64::NAN;
                    }
                },
            };
            worst_inner.set(worst_inner.get().max((fv * err).abs()));
            fv * h * w
        };
        let zmax = z_range(4) + 2.0;
        let mut pts = vec![-zmax, zmax];
        for x in f.breakpoints() {
            pts.push((x - b.mean_u) / su);
        }
        let fstrip = match f.smoothness() {
            Smoothness::Analytic { strip, .. } if strip.is_finite() => strip / su,
            Smoothness::Analytic { .. } => 1.0 / su,
            _ => 1.0,
        };
        for x in f.centers() {
            let z = (x - b.mean_u) / su;
            pts.push(z);
            layer_points(&mut pts, z, fstrip, zmax);
        }
        // Where the conditional mean of v crosses g's break points / transitions, the inner
        // expectation changes over a z₁-width of about s_cond/|slope|.
        let layer = (s_cond / slope.abs()).max(1e-300);
        let gstrip = match g.map(Fun::smoothness) {
            Some(Smoothness::Analytic { strip, .. }) if strip.is_finite() => strip / slope.abs(),
            _ => 0.0,
        };
        let g_features: Vec<f64> = match (gp, g) {
            (Some(p), _) => p.breaks.clone(),
            (None, Some(g)) => g.breakpoints().into_iter().chain(g.centers()).collect(),
            (None, None) => Vec::new(),
        };
        for x in g_features {
            let z = (x - b.mean_v) / slope;
            pts.push(z);
            layer_points(&mut pts, z, layer, zmax);
            if gstrip > 0.0 {
                layer_points(&mut pts, z, gstrip, zmax);
            }
        }
        // The inner errors bound what the outer quadrature can resolve (∫ φ = 1).
        let noise = || worst_inner.get();
        let r = run_adaptive_noisy(integrand, pts, zmax, self, &noise);
        if let Some(e) = failure.take() {
            return Err(e);
        }
        let r = r?;
        Ok(Expectation {
            value: r.value,
            error_estimate: r.error + worst_inner.get(),
            method: if exact_inner {
                Method::ConditionalExact
            } else {
                Method::ConditionalAdaptive
            },
            evaluations: r.evals + inner_evals.get(),
        })
    }
}

/// `e` if its value and error estimate are finite, otherwise [`Error::Overflow`] naming
/// the expectation (`what()`): a Gaussian expectation of a finite integrand is finite, so a
/// non-finite result can only be an overflow of double precision.
fn finite_result(e: Expectation, what: impl FnOnce() -> String) -> Result<Expectation> {
    if e.value.is_finite() && e.error_estimate.is_finite() {
        return Ok(e);
    }
    Err(Error::Overflow {
        quantity: what(),
        reason: format!(
            "the value ({:e}, error estimate {:e}, {}) is beyond the largest double (1.8e308)",
            e.value,
            e.error_estimate,
            e.method.as_str()
        ),
    })
}

/// The inner factor of a conditional expectation: a piecewise polynomial (exact inner
/// expectation) or a function for the 1-D engine.
#[derive(Clone, Copy)]
enum Inner<'a> {
    Exact(&'a Piecewise),
    Engine(&'a Fun),
}

/// The integrand in z-coordinates: `f(μ + σz) φ(z)` (0 where φ underflows).
#[inline]
fn weighted(f: &Fun, mean: f64, sd: f64, z: f64) -> f64 {
    let w = norm_pdf(z);
    if w == 0.0 {
        0.0
    } else {
        f.eval(mean + sd * z) * w
    }
}

fn scaled(e: Expectation, a: f64) -> Expectation {
    Expectation {
        value: e.value * a,
        error_estimate: e.error_estimate * a.abs(),
        ..e
    }
}

fn swap(b: &BivariateNormal) -> BivariateNormal {
    BivariateNormal {
        mean_u: b.mean_v,
        mean_v: b.mean_u,
        var_u: b.var_v,
        var_v: b.var_u,
        corr: b.corr,
    }
}

/// Split points around a feature of width `w` at `z`: `z ± w·4^k` for `k = 0, 1, …` up to
/// the integration range, so that panels grow geometrically away from the feature and the
/// 21-point rule resolves its tail on every panel (a panel much wider than a feature next to
/// it can miss the feature entirely while its error estimate stays small).
fn layer_points(pts: &mut Vec<f64>, z: f64, w: f64, zmax: f64) {
    if w.is_nan() || w <= 0.0 || !w.is_finite() {
        return;
    }
    let mut d = w;
    while d < 2.0 * zmax {
        pts.push(z - d);
        pts.push(z + d);
        d *= 4.0;
    }
}

/// Adaptive GK over `[-zmax, zmax]` split at `pts` (clipped, sorted, de-duplicated).
fn run_adaptive<F: FnMut(f64) -> f64>(
    g: F,
    pts: Vec<f64>,
    zmax: f64,
    eng: &Integrator,
) -> Result<crate::gauss::quadrature::QuadResult> {
    run_adaptive_noisy(g, pts, zmax, eng, &|| 0.0)
}

/// [`run_adaptive`] for an integrand with its own error, bounded (in the integral) by
/// `noise()`; see [`adaptive_with_floor`](crate::gauss::quadrature::adaptive_with_floor).
fn run_adaptive_noisy<F: FnMut(f64) -> f64>(
    g: F,
    mut pts: Vec<f64>,
    zmax: f64,
    eng: &Integrator,
    noise: &dyn Fn() -> f64,
) -> Result<crate::gauss::quadrature::QuadResult> {
    pts.retain(|x| x.is_finite() && x.abs() <= zmax);
    pts.push(-zmax);
    pts.push(zmax);
    pts.sort_by(f64::total_cmp);
    pts.dedup_by(|a, b| (*a - *b).abs() <= 1e-15 * a.abs().max(1.0));
    let r = adaptive_with_floor(g, &pts, eng.abs_tol, eng.rel_tol, 4000, noise)?;
    if !r.converged && r.error > 1e-8 * r.value.abs().max(1e-7) {
        return Err(Error::Integration {
            method: "adaptive Gauss-Kronrod",
            estimate: r.value,
            error_estimate: r.error,
            evaluations: r.evals,
        });
    }
    Ok(r)
}
