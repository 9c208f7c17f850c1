//! Activation functions φ with their derivatives, break points and smoothness class.
//!
//! Seven activations are built in ([`Builtin`]); any other can be supplied as a
//! [`CustomActivation`] (closures) or by implementing [`Activation`]. Built-ins carry the
//! extra structure the expectation engine exploits: the analyticity strip of smooth ones
//! (which fixes the trapezoid step), the piecewise-polynomial form of kinked ones (which
//! gives exact expectations) and closed forms (see [`crate::expect`]).
//!
//! # Conventions at break points
//! Kinked activations (ReLU, hard-tanh) are evaluated at a break point as the **mean of the
//! two one-sided limits**: `relu'(0) = 1/2`, `hard_tanh'(±1) = 1/2`. This is the value that
//! makes `E[φ'(μ + √q z)]` continuous as `q → 0` with `μ` at the kink. Second derivatives
//! of kinked activations are the classical ones (zero almost everywhere): the Dirac masses at
//! the kinks are not represented, so Price's theorem at second order does not hold for them.
//!
//! See `theory/01-gaussian-expectations.md` for the formulas.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gauss::piecewise::Piecewise;
pub use crate::gauss::trapezoid::Parity;

/// Which derivative of φ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Deriv {
    /// φ itself.
    Phi,
    /// φ'.
    DPhi,
    /// φ''.
    DDPhi,
}

impl Deriv {
    /// The next derivative, if it is one of the three represented.
    pub fn next(self) -> Option<Deriv> {
        match self {
            Deriv::Phi => Some(Deriv::DPhi),
            Deriv::DPhi => Some(Deriv::DDPhi),
            Deriv::DDPhi => None,
        }
    }

    /// Spec name (`phi`, `dphi`, `ddphi`).
    pub fn name(self) -> &'static str {
        match self {
            Deriv::Phi => "phi",
            Deriv::DPhi => "dphi",
            Deriv::DDPhi => "ddphi",
        }
    }
}

/// How smooth a function is: decides which quadrature the engine may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Smoothness {
    /// A polynomial of the given degree.
    Polynomial {
        /// Degree.
        degree: u32,
    },
    /// Piecewise polynomial (kinks at the activation's break points).
    PiecewisePolynomial,
    /// Analytic in the strip `|Im x| < strip`, with `|f(x+iy)| <= C e^{growth·y²}(1+|x|)^degree`
    /// there (`strip` may be infinite).
    Analytic {
        /// Half-width of the strip of analyticity (distance to the nearest singularity).
        strip: f64,
        /// Gaussian growth rate in the imaginary direction (1 for `erf`, 0 for bounded).
        growth: f64,
        /// Polynomial growth degree along the real axis.
        degree: u32,
    },
    /// Nothing known beyond the declared break points.
    Unknown,
}

/// An activation function: φ, φ', φ'' and what is known about their smoothness.
pub trait Activation: Send + Sync + fmt::Debug {
    /// Short name (used in output and error messages).
    fn name(&self) -> &str;
    /// φ(x), φ'(x) or φ''(x).
    fn eval(&self, d: Deriv, x: f64) -> f64;
    /// Points where φ or a represented derivative is not smooth.
    fn breakpoints(&self) -> Vec<f64> {
        Vec::new()
    }
    /// Smoothness of the given derivative (default: unknown, which selects the robust
    /// adaptive quadrature split at the break points).
    fn smoothness(&self, _d: Deriv) -> Smoothness {
        Smoothness::Unknown
    }
    /// The piecewise-polynomial form of the given derivative, if it is one.
    fn piecewise(&self, _d: Deriv) -> Option<Piecewise> {
        None
    }
    /// `sup_x |φ(x)|` if φ is bounded (used to bracket fixed points of variance maps);
    /// `None` if unbounded or unknown.
    fn sup_abs(&self) -> Option<f64> {
        None
    }
    /// Symmetry of the given derivative about 0 (used to halve quadrature work at zero
    /// mean); default: none known.
    fn parity(&self, _d: Deriv) -> Parity {
        Parity::None
    }
    /// Identifies the built-in activations (for closed forms); `None` for user types.
    fn builtin(&self) -> Option<Builtin> {
        None
    }
}

/// The built-in activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `tanh x`.
    Tanh,
    /// `erf x` (unscaled: slope `2/√π` at 0).
    Erf,
    /// `max(0, x)`.
    Relu,
    /// `x`.
    Linear,
    /// `clamp(x, −1, 1)`.
    HardTanh,
    /// The logistic sigmoid `1/(1 + e^{−x})`.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
}

/// Names accepted by [`Builtin::from_name`], as shown in error messages.
pub const BUILTIN_NAMES: &str = "tanh, erf, relu, linear, hard_tanh, sigmoid, softplus";

impl Builtin {
    /// All built-ins.
    pub const ALL: [Builtin; 7] = [
        Builtin::Tanh,
        Builtin::Erf,
        Builtin::Relu,
        Builtin::Linear,
        Builtin::HardTanh,
        Builtin::Sigmoid,
        Builtin::Softplus,
    ];

    /// Parses a name (`tanh`, `erf`, `relu`, `linear`, `hard_tanh`/`hardtanh`/`hard-tanh`,
    /// `sigmoid`/`logistic`, `softplus`).
    ///
    /// # Errors
    /// [`Error::UnknownName`] listing the accepted names.
    pub fn from_name(name: &str) -> Result<Builtin> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "tanh" => Builtin::Tanh,
            "erf" => Builtin::Erf,
            "relu" => Builtin::Relu,
            "linear" | "identity" => Builtin::Linear,
            "hard_tanh" | "hardtanh" | "hard-tanh" => Builtin::HardTanh,
            "sigmoid" | "logistic" => Builtin::Sigmoid,
            "softplus" => Builtin::Softplus,
            _ => {
                return Err(Error::UnknownName {
                    kind: "activation",
                    name: name.to_string(),
                    expected: BUILTIN_NAMES.to_string(),
                });
            }
        })
    }

    /// Canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::Tanh => "tanh",
            Builtin::Erf => "erf",
            Builtin::Relu => "relu",
            Builtin::Linear => "linear",
            Builtin::HardTanh => "hard_tanh",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Softplus => "softplus",
        }
    }

    /// A shareable handle, for [`crate::expect::Fun`].
    pub fn arc(self) -> Arc<dyn Activation> {
        Arc::new(self)
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `tanh x` from one exponential where that is exact to a few ulps (`|x| >= 0.55`, where
/// `1 − e^{−2|x|}` does not cancel), and from `f64::tanh` near 0.
#[inline]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    if a < 0.55 {
        x.tanh()
    } else {
        let e = (-2.0 * a).exp();
        ((1.0 - e) / (1.0 + e)).copysign(x)
    }
}

/// `sech² x`, without the cancellation of `1 − tanh² x` at large `|x|`.
#[inline]
pub fn sech2(x: f64) -> f64 {
    let e = (-2.0 * x.abs()).exp();
    4.0 * e / ((1.0 + e) * (1.0 + e))
}

/// The logistic sigmoid, accurate in both tails.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `σ'(x) = σ(x)(1 − σ(x))`, accurate in both tails.
#[inline]
pub fn dsigmoid(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    e / ((1.0 + e) * (1.0 + e))
}

impl Activation for Builtin {
    fn name(&self) -> &str {
        self.as_str()
    }

    fn eval(&self, d: Deriv, x: f64) -> f64 {
        use Builtin::*;
        use Deriv::*;
        match (self, d) {
            (Tanh, Phi) => tanh(x),
            (Tanh, DPhi) => sech2(x),
            (Tanh, DDPhi) => {
                // −2 tanh x sech² x from one exponential.
                let e = (-2.0 * x.abs()).exp();
                let t = if x.abs() < 0.55 {
                    x.tanh()
                } else {
                    ((1.0 - e) / (1.0 + e)).copysign(x)
                };
                -8.0 * t * e / ((1.0 + e) * (1.0 + e))
            }
            (Erf, Phi) => libm::erf(x),
            (Erf, DPhi) => std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            (Erf, DDPhi) => -2.0 * x * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            (Relu, Phi) => x.max(0.0),
            (Relu, DPhi) => step(x),
            (Relu, DDPhi) => 0.0,
            (Linear, Phi) => x,
            (Linear, DPhi) => 1.0,
            (Linear, DDPhi) => 0.0,
            (HardTanh, Phi) => x.clamp(-1.0, 1.0),
            (HardTanh, DPhi) => {
                let a = x.abs();
                if a < 1.0 {
                    1.0
                } else if a > 1.0 {
                    0.0
                } else {
                    0.5
                }
            }
            (HardTanh, DDPhi) => 0.0,
            (Sigmoid, Phi) => sigmoid(x),
            (Sigmoid, DPhi) => dsigmoid(x),
            // σ'' = σ'(1 − 2σ) = −σ' tanh(x/2).
            (Sigmoid, DDPhi) => -dsigmoid(x) * (0.5 * x).tanh(),
            (Softplus, Phi) => {
                if x > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            (Softplus, DPhi) => sigmoid(x),
            (Softplus, DDPhi) => dsigmoid(x),
        }
    }

    fn breakpoints(&self) -> Vec<f64> {
        match self {
            Builtin::Relu => vec![0.0],
            Builtin::HardTanh => vec![-1.0, 1.0],
            _ => Vec::new(),
        }
    }

    fn smoothness(&self, d: Deriv) -> Smoothness {
        use std::f64::consts::{FRAC_PI_2, PI};
        match self {
            // tanh has poles at ±iπ/2; the logistic and softplus singularities sit at ±iπ.
            Builtin::Tanh => Smoothness::Analytic {
                strip: FRAC_PI_2,
                growth: 0.0,
                degree: 0,
            },
            Builtin::Sigmoid => Smoothness::Analytic {
                strip: PI,
                growth: 0.0,
                degree: 0,
            },
            Builtin::Softplus => Smoothness::Analytic {
                strip: PI,
                growth: 0.0,
                degree: u32::from(d == Deriv::Phi),
            },
            // erf is entire; |erf^{(k)}(x+iy)| grows like e^{y²}.
            Builtin::Erf => Smoothness::Analytic {
                strip: f64::INFINITY,
                growth: 1.0,
                degree: u32::from(d == Deriv::DDPhi),
            },
            Builtin::Linear => Smoothness::Polynomial {
                degree: u32::from(d == Deriv::Phi),
            },
            Builtin::Relu | Builtin::HardTanh => Smoothness::PiecewisePolynomial,
        }
    }

    fn piecewise(&self, d: Deriv) -> Option<Piecewise> {
        use Deriv::*;
        Some(match (self, d) {
            (Builtin::Linear, Phi) => Piecewise::polynomial(vec![0.0, 1.0]),
            (Builtin::Linear, DPhi) => Piecewise::constant(1.0),
            (Builtin::Relu, Phi) => Piecewise {
                breaks: vec![0.0],
                pieces: vec![vec![], vec![0.0, 1.0]],
            },
            (Builtin::Relu, DPhi) => Piecewise {
                breaks: vec![0.0],
                pieces: vec![vec![], vec![1.0]],
            },
            (Builtin::HardTanh, Phi) => Piecewise {
                breaks: vec![-1.0, 1.0],
                pieces: vec![vec![-1.0], vec![0.0, 1.0], vec![1.0]],
            },
            (Builtin::HardTanh, DPhi) => Piecewise {
                breaks: vec![-1.0, 1.0],
                pieces: vec![vec![], vec![1.0], vec![]],
            },
            (Builtin::Linear | Builtin::Relu | Builtin::HardTanh, DDPhi) => {
                Piecewise::constant(0.0)
            }
            _ => return None,
        })
    }

    fn sup_abs(&self) -> Option<f64> {
        match self {
            Builtin::Tanh | Builtin::Erf | Builtin::HardTanh | Builtin::Sigmoid => Some(1.0),
            Builtin::Relu | Builtin::Linear | Builtin::Softplus => None,
        }
    }

    fn parity(&self, d: Deriv) -> Parity {
        use Builtin::*;
        use Deriv::*;
        match (self, d) {
            (Tanh | Erf | HardTanh, Phi) | (Tanh | Erf | Sigmoid, DDPhi) => Parity::Odd,
            (Tanh | Erf | HardTanh | Sigmoid | Linear, DPhi) => Parity::Even,
            (Linear, Phi) => Parity::Odd,
            (Linear | HardTanh, DDPhi) => Parity::Even,
            (Softplus, DDPhi) => Parity::Even,
            _ => Parity::None,
        }
    }

    fn builtin(&self) -> Option<Builtin> {
        Some(*self)
    }
}

#[inline]
fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        0.0
    } else {
        0.5
    }
}

/// A real-valued function of one variable, shareable across threads.
pub type ScalarFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// A user-supplied activation given by closures for φ, φ' and φ''.
///
/// Everything in mfrnn works for it except closed forms: expectations use adaptive
/// Gauss–Kronrod quadrature split at the declared break points (or the trapezoid rule, if
/// an analyticity strip is declared with [`CustomActivation::with_smoothness`]).
///
/// ```
/// use mfrnn::activation::{CustomActivation, Deriv, Activation};
/// let swish = CustomActivation::new(
///     "swish",
///     |x: f64| x / (1.0 + (-x).exp()),
///     |x: f64| { let s = 1.0 / (1.0 + (-x).exp()); s + x * s * (1.0 - s) },
///     |x: f64| { let s = 1.0 / (1.0 + (-x).exp()); s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s)) },
/// );
/// assert!((swish.eval(Deriv::Phi, 1.0) - 0.7310585786300049).abs() < 1e-15);
/// ```
#[derive(Clone)]
pub struct CustomActivation {
    name: String,
    f: [ScalarFn; 3],
    breakpoints: Vec<f64>,
    smoothness: [Smoothness; 3],
}

impl fmt::Debug for CustomActivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomActivation")
            .field("name", &self.name)
            .field("breakpoints", &self.breakpoints)
            .field("smoothness", &self.smoothness)
            .finish()
    }
}

impl CustomActivation {
    /// An activation from closures for φ, φ' and φ''.
    pub fn new(
        name: impl Into<String>,
        phi: impl Fn(f64) -> f64 + Send + Sync + 'static,
        dphi: impl Fn(f64) -> f64 + Send + Sync + 'static,
        ddphi: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        CustomActivation {
            name: name.into(),
            f: [Arc::new(phi), Arc::new(dphi), Arc::new(ddphi)],
            breakpoints: Vec::new(),
            smoothness: [Smoothness::Unknown; 3],
        }
    }

    /// Declares kinks (the quadrature is split there).
    #[must_use]
    pub fn with_breakpoints(mut self, mut points: Vec<f64>) -> Self {
        points.retain(|x| x.is_finite());
        points.sort_by(f64::total_cmp);
        points.dedup();
        self.breakpoints = points;
        self
    }

    /// Declares the smoothness of φ, φ', φ'' (e.g. an analyticity strip, which enables the
    /// fast trapezoid rule). A wrong declaration gives wrong answers: the trapezoid rule's
    /// self-check catches gross errors only.
    #[must_use]
    pub fn with_smoothness(mut self, s: [Smoothness; 3]) -> Self {
        self.smoothness = s;
        self
    }

    /// Shareable handle.
    pub fn arc(self) -> Arc<dyn Activation> {
        Arc::new(self)
    }
}

impl Activation for CustomActivation {
    fn name(&self) -> &str {
        &self.name
    }
    fn eval(&self, d: Deriv, x: f64) -> f64 {
        (self.f[d as usize])(x)
    }
    fn breakpoints(&self) -> Vec<f64> {
        self.breakpoints.clone()
    }
    fn smoothness(&self, d: Deriv) -> Smoothness {
        self.smoothness[d as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for b in Builtin::ALL {
            for x in [-3.1, -0.7, 0.2, 0.9, 2.3] {
                for (d, dd) in [(Deriv::Phi, Deriv::DPhi), (Deriv::DPhi, Deriv::DDPhi)] {
                    let h = 1e-5;
                    let fd = (b.eval(d, x + h) - b.eval(d, x - h)) / (2.0 * h);
                    let an = b.eval(dd, x);
                    assert!((fd - an).abs() < 1e-8, "{b} {d:?} at {x}: {fd} vs {an}");
                }
            }
        }
    }

    #[test]
    fn piecewise_forms_match_eval() {
        for b in [Builtin::Relu, Builtin::HardTanh, Builtin::Linear] {
            for d in [Deriv::Phi, Deriv::DPhi, Deriv::DDPhi] {
                let p = b.piecewise(d).unwrap();
                for x in [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0] {
                    assert_eq!(p.eval(x), b.eval(d, x), "{b} {d:?} at {x}");
                }
            }
        }
    }

    #[test]
    fn declared_parities_hold() {
        for b in Builtin::ALL {
            for d in [Deriv::Phi, Deriv::DPhi, Deriv::DDPhi] {
                for x in [0.3, 1.1, 2.7] {
                    let (p, m) = (b.eval(d, x), b.eval(d, -x));
                    match b.parity(d) {
                        Parity::Even => assert_eq!(p, m, "{b} {d:?}"),
                        Parity::Odd => assert_eq!(p, -m, "{b} {d:?}"),
                        Parity::None => {}
                    }
                }
            }
        }
    }

    #[test]
    fn fast_tanh_matches_libm() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = f64::from(i) * 1e-4;
            if x != 0.0 {
                worst = worst.max(((tanh(x) - x.tanh()) / x.tanh()).abs());
            }
        }
        assert!(worst < 4.0 * f64::EPSILON, "{worst:e}");
    }

    #[test]
    fn tails_do_not_cancel() {
        assert!((sech2(30.0) / (4.0 * (-60.0f64).exp()) - 1.0).abs() < 1e-14);
        assert!((dsigmoid(-40.0) / (-40.0f64).exp() - 1.0).abs() < 1e-14);
        assert!((Builtin::Softplus.eval(Deriv::Phi, -40.0) / (-40.0f64).exp() - 1.0).abs() < 1e-14);
    }

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for b in Builtin::ALL {
            assert_eq!(Builtin::from_name(b.as_str()).unwrap(), b);
        }
        let e = Builtin::from_name("gelu").unwrap_err();
        assert!(e.to_string().contains("gelu") && e.to_string().contains("tanh"));
    }
}
