//! Exact Taylor coefficients at 0 of the built-in activations, as [`BigRational`]s (or
//! rationals times `2/√π` for erf), from the differential equations they satisfy
//! (theory/05-small-variance.md, (SV.8)).

use num_traits::{One, ToPrimitive, Zero};

use super::MAX_ORDER;
use crate::activation::Builtin;
use crate::error::{Error, Result};
use crate::power_series::{self as ps, Coefficient, Trig};
use num_rational::BigRational;

/// A constant factor in front of exact rational Taylor coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefactor {
    /// No factor: the coefficients are rational.
    One,
    /// `2/√π` (erf).
    TwoOverSqrtPi,
}

impl Prefactor {
    /// The factor's value.
    pub fn value(self) -> f64 {
        match self {
            Prefactor::One => 1.0,
            Prefactor::TwoOverSqrtPi => std::f64::consts::FRAC_2_SQRT_PI,
        }
    }
}

/// Exact Taylor coefficients at 0: `φ(x) = prefactor · Σ_k coefficients[k] x^k`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactTaylor {
    /// The rational coefficients, degrees `0..=degree`.
    pub coefficients: Vec<BigRational>,
    /// The common constant factor.
    pub prefactor: Prefactor,
}

pub(super) fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// tanh from `y' = 1 − y²`, `y(0) = 0`: `(k+1) y_{k+1} = [k = 0] − (y²)_k` (SV.8), the
/// tangent recurrence of [`power_series::tan`](crate::power_series::tan) applied to `x`.
fn tanh_coefficients(degree: usize) -> Vec<BigRational> {
    let x = [BigRational::zero(), BigRational::one()];
    let mut y = vec![BigRational::zero(); degree + 1];
    ps::tan(&x, BigRational::zero(), Trig::Hyperbolic, &mut y);
    y
}

/// Logistic sigmoid from `y' = y − y²`, `y(0) = 1/2`: `(k+1) y_{k+1} = y_k − (y²)_k` (SV.8).
fn sigmoid_coefficients(degree: usize) -> Vec<BigRational> {
    let mut y = vec![rat(1, 2)];
    for k in 0..degree {
        let sq = ps::product_coefficient(&y, &y, k);
        let next = (y[k].clone() - sq) / BigRational::from_index(k + 1);
        y.push(next);
    }
    y
}

/// `erf(x)·√π/2 = Σ_n (−1)^n x^{2n+1}/(n!(2n+1))` (SV.8).
fn erf_coefficients(degree: usize) -> Vec<BigRational> {
    let mut c = vec![BigRational::zero(); degree + 1];
    let mut inv_fact = BigRational::one(); // (−1)^n/n!
    let mut n = 0;
    while 2 * n < degree {
        c[2 * n + 1] = inv_fact.clone() / BigRational::from_index(2 * n + 1);
        n += 1;
        inv_fact = -inv_fact / BigRational::from_index(n);
    }
    c
}

/// The kink/non-analyticity error of ReLU and hard-tanh.
pub(super) fn not_smooth(b: Builtin) -> Error {
    Error::Unsupported(match b {
        Builtin::Relu => "relu has a kink at 0, so it has no Taylor series there and the \
                          small-variance expansion does not exist (by homogeneity its moments \
                          are exactly E[φ(√q z)²] = q/2 and E[φ'(√q z)²] = 1/2; see `mfrnn expect`)"
            .to_string(),
        _ => format!(
            "{b} has kinks at ±1: its Gaussian moments differ from those of its linear part by \
             terms like e^{{−1/(2q)}}, which are not analytic at q = 0, so the small-variance \
             expansion does not exist (the power series would silently be that of `linear`)"
        ),
    })
}

/// Exact Taylor coefficients at 0 of a built-in activation, degrees `0..=degree` (SV.8):
/// tanh from `y' = 1 − y²`, the logistic sigmoid from `y' = y(1 − y)`, linear, and erf as
/// `2/√π` times rationals. Checked by `tanh_known_coefficients` (the tanh and sigmoid
/// coefficients) and `exact_and_jet_paths_agree` (against the jets) in `tests/expansion.rs`.
///
/// # Errors
/// [`Error::Unsupported`] for softplus (`softplus(0) = ln 2` is irrational; its derivative,
/// the sigmoid, is rational) and for ReLU and hard-tanh (kinks);
/// [`Error::InvalidParameter`] naming `degree` above `2·MAX_ORDER + 1`.
///
/// ```
/// use mfrnn::activation::Builtin;
/// let t = mfrnn::expansion::exact_taylor(Builtin::Tanh, 7)?;
/// let s: Vec<String> = t.coefficients.iter().map(|c| c.to_string()).collect();
/// assert_eq!(s, ["0", "1", "0", "-1/3", "0", "2/15", "0", "-17/315"]);
/// # Ok::<(), mfrnn::Error>(())
/// ```
pub fn exact_taylor(b: Builtin, degree: usize) -> Result<ExactTaylor> {
    if degree > 2 * MAX_ORDER + 1 {
        return Err(Error::invalid(
            "degree",
            degree as f64,
            "at most 2·MAX_ORDER + 1 = 81 (the exact-arithmetic limit)",
        ));
    }
    let (coefficients, prefactor) = match b {
        Builtin::Tanh => (tanh_coefficients(degree), Prefactor::One),
        Builtin::Sigmoid => (sigmoid_coefficients(degree), Prefactor::One),
        Builtin::Linear => {
            let mut c = vec![BigRational::zero(); degree + 1];
            if degree >= 1 {
                c[1] = BigRational::one();
            }
            (c, Prefactor::One)
        }
        Builtin::Erf => (erf_coefficients(degree), Prefactor::TwoOverSqrtPi),
        Builtin::Softplus => {
            return Err(Error::Unsupported(
                "softplus(0) = ln 2 is irrational, so its Taylor coefficients are not all \
                 rational (those of its derivative, the logistic sigmoid, are)"
                    .to_string(),
            ));
        }
        Builtin::Relu | Builtin::HardTanh => return Err(not_smooth(b)),
    };
    Ok(ExactTaylor {
        coefficients,
        prefactor,
    })
}

pub(super) fn to_f64(r: &BigRational) -> f64 {
    r.to_f64().unwrap_or(f64::NAN)
}

/// Floating-point Taylor coefficients at 0 of a built-in activation, degrees `0..=degree`
/// (the exact ones rounded; softplus as `ln 2 + ∫ sigmoid`).
///
/// # Errors
/// As [`exact_taylor`], except that softplus is supported.
pub fn builtin_taylor(b: Builtin, degree: usize) -> Result<Vec<f64>> {
    if b == Builtin::Softplus {
        // softplus = ln 2 + ∫ sigmoid: the integral is exact, the constant is not.
        let s = exact_taylor(Builtin::Sigmoid, degree.saturating_sub(1))?;
        let mut c = vec![BigRational::zero(); degree + 1];
        ps::integral(&s.coefficients, BigRational::zero(), &mut c);
        let mut c: Vec<f64> = c.iter().map(to_f64).collect();
        c[0] = std::f64::consts::LN_2;
        return Ok(c);
    }
    let e = exact_taylor(b, degree)?;
    let f = e.prefactor.value();
    Ok(e.coefficients.iter().map(|c| to_f64(c) * f).collect())
}
