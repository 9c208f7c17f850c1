//! Small-variance expansions: Gaussian expectations of φ as power series in the variance q,
//! and the critical line of the vanilla RNN near `q* = 0`, from φ's Taylor coefficients at 0.
//!
//! For `z ~ N(0, 1)` and φ analytic at 0, Isserlis' theorem turns Taylor coefficients into
//! Gaussian moments term by term (SV.1), giving
//!
//! - `Q(q) = E[φ(√q z)²]`, `μ₁(q) = E[φ'(√q z)²]`, `μ₂(q) = E[φ'(√q z)⁴]` (SV.2);
//! - the critical line `χ₁ = 1` with zero bias mean: `σ_w² = 1/μ₁(q*)` by the series
//!   reciprocal (SV.3, SV.4), and the variance `σ_b² + σ_v² R = q* − σ_w² Q(q*)` the bias and
//!   input must supply there (SV.5);
//! - the per-step growth `μ₂/μ₁² − 1` of the normalised spectral variance of the Jacobian with
//!   orthogonal weights (SV.6).
//!
//! Taylor coefficients come from two places:
//!
//! - [`Jet`](crate::expansion::Jet), a truncated power series that implements
//!   [`num_traits::Float`], so any activation written generically as
//!   `fn phi<F: Float>(x: F) -> F` yields its coefficients in floating point by Taylor-mode
//!   automatic differentiation (SV.7): [`taylor`](crate::expansion::taylor),
//!   [`small_variance_of`](crate::expansion::small_variance_of);
//! - exact rationals for the built-ins whose coefficients are rational
//!   ([`exact_taylor`](crate::expansion::exact_taylor): tanh, logistic sigmoid, linear, and erf
//!   up to its factor `2/√π`), computed with [`BigRational`](crate::expansion::BigRational)
//!   from the differential equations they satisfy (SV.8):
//!   [`small_variance`](crate::expansion::small_variance).
//!
//! The series are asymptotic as `q → 0` (for tanh they diverge for every `q > 0`, see
//! `theory/05-small-variance.md`): a fixed order is accurate to `O(q^{order+1})`, and more terms
//! do not help at a fixed `q`. Activations with a kink at 0 (ReLU) or whose expectations are
//! not analytic at `q = 0` (hard-tanh) have no expansion: a typed error says so.
//!
//! The code is split by concern: the physics (this file: (SV.1)–(SV.6)), the jet type
//! (`expansion/jet.rs`), the exact coefficients of the built-ins (`expansion/rational.rs`) and
//! the [`Series`](crate::expansion::Series) type's formulas (`expansion/formula.rs`); the series arithmetic of all of
//! them is [`power_series`](crate::power_series), shared with the spectra.
//!
//! Checked by `tests/expansion.rs`.
//!
//! ```
//! use mfrnn::activation::Builtin;
//! use mfrnn::expansion::small_variance;
//! let s = small_variance(Builtin::Tanh, 3)?;
//! assert_eq!(s.sigma_w2.formula(), "1 + 2 q - 3 q^2 + 34/3 q^3 + O(q^4)");
//! assert_eq!(s.input_variance.formula(), "4/3 q^3 + O(q^4)");
//! # Ok::<(), mfrnn::Error>(())
//! ```

pub use num_rational::BigRational;
use num_traits::One;

use crate::activation::Builtin;
use crate::error::{Error, Result};
use crate::power_series::{self as ps, Coefficient};

mod formula;
mod jet;
mod rational;

pub use formula::Series;
pub use jet::{Jet, taylor};
use rational::not_smooth;
pub use rational::{ExactTaylor, Prefactor, builtin_taylor, exact_taylor};

/// The highest order in q that the expansion functions accept.
///
/// Exact rational coefficients grow in size with the order (the tanh critical-line
/// coefficient of `q^40` has an 84-digit numerator) and the series are asymptotic, so
/// orders beyond this limit cost time without adding accuracy at any fixed `q`.
pub const MAX_ORDER: usize = 40;

/// The `expected` text of the order error; it must quote [`MAX_ORDER`] (a unit test checks it).
const ORDER_EXPECTED: &str = "an integer from 0 to 40 (the exact-arithmetic limit MAX_ORDER; the \
     series are asymptotic, so higher orders add cost, not accuracy)";

// ---------------------------------------------------------------------------------------------
// Gaussian moments and the small-variance series over a coefficient field (f64 or rationals)
// ---------------------------------------------------------------------------------------------

/// `len` zero coefficients.
fn zeros<T: Coefficient>(len: usize) -> Vec<T> {
    vec![T::zero(); len]
}

/// The Cauchy product truncated to `len` terms.
fn product<T: Coefficient>(a: &[T], b: &[T], len: usize) -> Vec<T> {
    let mut out = zeros(len);
    ps::mul(a, b, &mut out);
    out
}

/// The termwise derivative (one coefficient fewer).
fn derivative<T: Coefficient>(a: &[T]) -> Vec<T> {
    let mut out = zeros(a.len().saturating_sub(1));
    ps::deriv(a, &mut out);
    out
}

/// Isserlis (SV.1): `E[f(√q z)] = Σ_k f_{2k} (2k−1)!! q^k`, for `k = 0..=order`.
fn gauss_t<T: Coefficient>(f: &[T], order: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(order + 1);
    let mut double_factorial = T::one();
    for k in 0..=order {
        if k > 0 {
            double_factorial = double_factorial * T::from_index(2 * k - 1);
        }
        out.push(f[2 * k].clone() * double_factorial.clone());
    }
    out
}

/// The six series of a [`SmallVariance`] over one coefficient field.
struct Raw<T> {
    phi2: Option<Vec<T>>,
    dphi2: Vec<T>,
    dphi4: Vec<T>,
    sigma_w2: Vec<T>,
    input_variance: Option<Vec<T>>,
    spectral_growth: Vec<T>,
}

/// (SV.2)–(SV.6) from the Taylor coefficients of φ (degrees `0..=2·order`, optional: without
/// them `Q` and the input variance are skipped) and of φ' (degrees `0..=2·order`).
fn raw<T: Coefficient>(phi: Option<&[T]>, dphi: &[T], order: usize) -> Result<Raw<T>> {
    let len = 2 * order + 1;
    let n = order + 1;
    let d2 = product(dphi, dphi, len);
    let d4 = product(&d2, &d2, len);
    let mu1 = gauss_t(&d2, order);
    let mu2 = gauss_t(&d4, order);
    // Checked here for f64 too, where a division by μ₁(0) = 0 would not be refused.
    let no_critical_series = || {
        Error::Unsupported(
            "φ'(0) = 0, so μ₁ = E[φ'(√q z)²] vanishes at q = 0 and the critical line \
             σ_w² = 1/μ₁(q*) has no power series in q* (σ_w² → ∞ as q* → 0)"
                .to_string(),
        )
    };
    if mu1[0].is_zero() {
        return Err(no_critical_series());
    }
    let mut sigma_w2 = zeros(n);
    ps::recip(&mu1, &mut sigma_w2).map_err(|_| no_critical_series())?;
    let mut inv_mu1_sq = zeros(n);
    ps::recip(&product(&mu1, &mu1, n), &mut inv_mu1_sq).map_err(|_| no_critical_series())?;
    let mut spectral_growth = product(&mu2, &inv_mu1_sq, n);
    spectral_growth[0] = spectral_growth[0].clone() - T::one();
    let phi2 = phi.map(|p| gauss_t(&product(p, p, len), order));
    let input_variance = phi2.as_ref().map(|p2| {
        let mut v: Vec<T> = product(&sigma_w2, p2, n).into_iter().map(|x| -x).collect();
        if order >= 1 {
            v[1] = v[1].clone() + T::one();
        }
        v
    });
    Ok(Raw {
        phi2,
        dphi2: mu1,
        dphi4: mu2,
        sigma_w2,
        input_variance,
        spectral_growth,
    })
}

fn check_order(order: usize) -> Result<()> {
    if order > MAX_ORDER {
        Err(Error::invalid("order", order as f64, ORDER_EXPECTED))
    } else {
        Ok(())
    }
}

/// `E[f(√q z)]` for `z ~ N(0, 1)` as a power series in `q` to `q^order`, from the Taylor
/// coefficients `f[k]` of `f` at 0 (SV.1: Isserlis' theorem, `E[z^{2k}] = (2k−1)!!`, odd
/// moments vanish). Checked by `gaussian_series_of_polynomials_is_exact` in
/// `tests/expansion.rs`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `order` if `f` has fewer than `2·order + 1`
/// coefficients or `order` exceeds [`MAX_ORDER`], naming `f` if a coefficient used is not
/// finite.
///
/// ```
/// // E[cosh(√q z)] = e^{q/2}
/// let even = |k: usize| if k % 2 == 0 { 1.0 / (1..=k).product::<usize>() as f64 } else { 0.0 };
/// let f: Vec<f64> = (0..9).map(even).collect();
/// let s = mfrnn::expansion::gaussian_series(&f, 4)?;
/// assert!((s[2] - 1.0 / 8.0).abs() < 1e-16);
/// # Ok::<(), mfrnn::Error>(())
/// ```
pub fn gaussian_series(f: &[f64], order: usize) -> Result<Vec<f64>> {
    let f = checked_taylor(
        f,
        "f",
        order,
        2 * order + 1,
        "at most (f.len() − 1)/2: the q^k term needs the Taylor coefficient of degree 2k",
    )?;
    Ok(gauss_t(f, order))
}

/// The first `needed` Taylor coefficients of `f` (the parameter `name`), after checking
/// `order` (against [`MAX_ORDER`], and that `f` has `needed` coefficients: `expected` says how
/// many) and that those coefficients are finite.
fn checked_taylor<'a>(
    f: &'a [f64],
    name: &'static str,
    order: usize,
    needed: usize,
    expected: &'static str,
) -> Result<&'a [f64]> {
    check_order(order)?;
    if f.len() < needed {
        return Err(Error::invalid("order", order as f64, expected));
    }
    let f = &f[..needed];
    if let Some(&x) = f.iter().find(|x| !x.is_finite()) {
        return Err(Error::invalid(name, x, "finite Taylor coefficients"));
    }
    Ok(f)
}

/// The small-variance expansions of one activation, all in powers of `q` (= `q*` on the
/// critical line), to `q^order` (SV.2–SV.6).
#[derive(Debug, Clone, PartialEq)]
pub struct SmallVariance {
    /// The activation's name.
    pub activation: String,
    /// The highest power of q kept.
    pub order: usize,
    /// `Q(q) = E[φ(√q z)²]` (SV.2).
    pub phi2: Series,
    /// `μ₁(q) = E[φ'(√q z)²]` (SV.2).
    pub dphi2: Series,
    /// `μ₂(q) = E[φ'(√q z)⁴]` (SV.2).
    pub dphi4: Series,
    /// The critical line `χ₁ = 1` at zero bias mean: `σ_w² = 1/μ₁(q*)` (SV.4).
    pub sigma_w2: Series,
    /// `σ_b² + σ_v² R = q* − σ_w² Q(q*)` on the critical line (SV.5).
    pub input_variance: Series,
    /// `μ₂/μ₁² − 1`, the per-step growth of the normalised spectral variance of the Jacobian
    /// with orthogonal weights (SV.6).
    pub spectral_growth: Series,
}

impl SmallVariance {
    /// `(JSON key, label, series)` for each quantity, in display order.
    pub fn entries(&self) -> [(&'static str, &'static str, &Series); 6] {
        [
            ("E_phi2", "Q = E[φ(√q z)²]", &self.phi2),
            ("E_dphi2", "μ₁ = E[φ'(√q z)²]", &self.dphi2),
            ("E_dphi4", "μ₂ = E[φ'(√q z)⁴]", &self.dphi4),
            ("sigma_w2", "critical σ_w² = 1/μ₁", &self.sigma_w2),
            (
                "sigma_b2_plus_sigma_v2_R",
                "critical σ_b² + σ_v² R = q − σ_w² Q",
                &self.input_variance,
            ),
            ("spectral_growth", "μ₂/μ₁² − 1", &self.spectral_growth),
        ]
    }

    fn from_raw_f64(name: &str, order: usize, r: Raw<f64>) -> SmallVariance {
        let nan = || vec![f64::NAN; order + 1];
        SmallVariance {
            activation: name.to_string(),
            order,
            phi2: Series::from_f64(r.phi2.unwrap_or_else(nan)),
            dphi2: Series::from_f64(r.dphi2),
            dphi4: Series::from_f64(r.dphi4),
            sigma_w2: Series::from_f64(r.sigma_w2),
            input_variance: Series::from_f64(r.input_variance.unwrap_or_else(nan)),
            spectral_growth: Series::from_f64(r.spectral_growth),
        }
    }
}

/// The small-variance expansions (SV.2–SV.6) of a built-in activation to `q^order`, with exact
/// coefficients: rationals for tanh, sigmoid and linear; rationals times a power of π for erf
/// (its Taylor coefficients carry `2/√π`, so `Q`, `μ₁` carry `1/π`, `μ₂` carries `1/π²`, `σ_w²`
/// carries `π`, and the input variance and spectral growth are rational); softplus has exact
/// `μ₁`, `μ₂`, `σ_w²` and spectral growth (its derivative is the sigmoid) and floating-point
/// `Q` and input variance (`softplus(0) = ln 2`).
///
/// Checked against quadrature, with the truncation error scaling as `q^{order+1}`, by
/// `series_match_quadrature_with_the_right_truncation_order`, and against the jet path by
/// `exact_and_jet_paths_agree`, in `tests/expansion.rs`.
///
/// # Errors
/// [`Error::Unsupported`] for ReLU (kink at 0) and hard-tanh (kinks at ±1: its moments are not
/// analytic at `q = 0`); [`Error::InvalidParameter`] naming `order` above [`MAX_ORDER`].
pub fn small_variance(b: Builtin, order: usize) -> Result<SmallVariance> {
    check_order(order)?;
    let degree = 2 * order + 1;
    match b {
        Builtin::Relu | Builtin::HardTanh => Err(not_smooth(b)),
        Builtin::Softplus => {
            let sig = exact_taylor(Builtin::Sigmoid, degree - 1)?.coefficients;
            let ex = raw::<BigRational>(None, &sig, order)?;
            let phi = builtin_taylor(b, degree)?;
            let fl = raw::<f64>(Some(&phi), &derivative(&phi), order)?;
            Ok(SmallVariance {
                activation: b.to_string(),
                order,
                phi2: Series::from_f64(fl.phi2.expect("φ given")),
                dphi2: Series::from_exact(ex.dphi2, 0),
                dphi4: Series::from_exact(ex.dphi4, 0),
                sigma_w2: Series::from_exact(ex.sigma_w2, 0),
                input_variance: Series::from_f64(fl.input_variance.expect("φ given")),
                spectral_growth: Series::from_exact(ex.spectral_growth, 0),
            })
        }
        _ => {
            let e = exact_taylor(b, degree)?;
            let d = derivative(&e.coefficients);
            let r = raw(Some(&e.coefficients), &d, order)?;
            // With φ = s·g, s = 2/√π (erf): s² = 4/π, so a quantity homogeneous of degree 2m
            // in φ is 4^m π^{−m} times its value for g.
            let scaled = |v: Vec<BigRational>, m: i32| -> Series {
                if e.prefactor == Prefactor::One {
                    return Series::from_exact(v, 0);
                }
                let four = BigRational::from_integer(4.into());
                let f = if m >= 0 {
                    num_traits::pow(four, m as usize)
                } else {
                    BigRational::one() / num_traits::pow(four, (-m) as usize)
                };
                Series::from_exact(v.into_iter().map(|x| x * &f).collect(), -m)
            };
            Ok(SmallVariance {
                activation: b.to_string(),
                order,
                phi2: scaled(r.phi2.expect("φ given"), 1),
                dphi2: scaled(r.dphi2, 1),
                dphi4: scaled(r.dphi4, 2),
                sigma_w2: scaled(r.sigma_w2, -1),
                input_variance: scaled(r.input_variance.expect("φ given"), 0),
                spectral_growth: scaled(r.spectral_growth, 0),
            })
        }
    }
}

/// The small-variance expansions (SV.2–SV.6) in floating point from φ's Taylor coefficients
/// at 0 (`phi[k]`, at least degrees `0..=2·order+1`). Checked by
/// `exact_and_jet_paths_agree` and `sin_has_closed_forms` in `tests/expansion.rs`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `order` if there are fewer than `2·order + 2`
/// coefficients or `order > MAX_ORDER`, naming `phi` if a coefficient is not finite;
/// [`Error::Unsupported`] if `φ'(0) = 0` (no power series for the critical line).
pub fn small_variance_from_taylor(name: &str, phi: &[f64], order: usize) -> Result<SmallVariance> {
    let phi = checked_taylor(
        phi,
        "phi",
        order,
        2 * order + 2,
        "at most (number of Taylor coefficients − 2)/2: order k needs φ to degree 2k + 1",
    )?;
    let r = raw::<f64>(Some(phi), &derivative(phi), order)?;
    Ok(SmallVariance::from_raw_f64(name, order, r))
}

/// The small-variance expansions (SV.2–SV.6) of an activation written generically over
/// [`Float`](num_traits::Float), by Taylor-mode automatic differentiation with [`Jet`]`<N>` (needs
/// `N ≥ 2·order + 2`). Checked by `exact_and_jet_paths_agree` and `sin_has_closed_forms` in
/// `tests/expansion.rs`.
///
/// ```
/// use mfrnn::expansion::{small_variance_of, Jet};
/// use num_traits::Float;
/// fn phi<F: Float>(x: F) -> F { x.sin() }
/// let s = small_variance_of("sin", |x: Jet<10>| phi(x), 4)?;
/// // E[sin²(√q z)] = (1 − e^{−2q})/2 = q − q² + 2/3 q³ − …
/// assert!((s.phi2.coefficients[3] - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), mfrnn::Error>(())
/// ```
///
/// # Errors
/// As [`taylor`] (φ not analytic at 0) and [`small_variance_from_taylor`].
pub fn small_variance_of<const N: usize>(
    name: &str,
    phi: impl Fn(Jet<N>) -> Jet<N>,
    order: usize,
) -> Result<SmallVariance> {
    let c = taylor(phi)?;
    small_variance_from_taylor(name, &c, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_message_quotes_the_limit() {
        assert!(ORDER_EXPECTED.contains(&format!(" {MAX_ORDER} ")));
        assert!(
            exact_taylor(Builtin::Tanh, 2 * MAX_ORDER + 2)
                .unwrap_err()
                .to_string()
                .contains(&(2 * MAX_ORDER + 1).to_string())
        );
    }
}
