//! Integrands: products of powers of φ, φ', φ'' (of any activation, at an affine argument)
//! and arbitrary closures.

use std::fmt;
use std::ops::Mul;
use std::sync::Arc;

use crate::activation::{Activation, Deriv, Parity, ScalarFn, Smoothness};
use crate::error::{Error, Result};
use crate::gauss::piecewise::Piecewise;

#[derive(Clone)]
pub(crate) enum Source {
    Act(Arc<dyn Activation>, Deriv),
    Closure(ScalarFn, Vec<f64>),
}

/// `(activation, derivative, power)` of a factor at the identity argument.
pub(crate) type PlainFactor = (Arc<dyn Activation>, Deriv, u32);

/// One factor `source(shift + slope·x)^power`.
#[derive(Clone)]
pub(crate) struct Factor {
    pub(crate) src: Source,
    pub(crate) power: u32,
    pub(crate) shift: f64,
    pub(crate) slope: f64,
}

impl Factor {
    #[inline]
    fn eval(&self, x: f64) -> f64 {
        let y = self.shift + self.slope * x;
        let v = match &self.src {
            Source::Act(a, d) => a.eval(*d, y),
            Source::Closure(f, _) => f(y),
        };
        match self.power {
            1 => v,
            2 => v * v,
            p => v.powi(p as i32),
        }
    }

    fn same_base(&self, other: &Factor) -> bool {
        if self.shift != other.shift || self.slope != other.slope {
            return false;
        }
        match (&self.src, &other.src) {
            (Source::Act(a, d), Source::Act(b, e)) => {
                d == e
                    && match (a.builtin(), b.builtin()) {
                        (Some(x), Some(y)) => x == y,
                        _ => Arc::ptr_eq(a, b),
                    }
            }
            (Source::Closure(f, _), Source::Closure(g, _)) => Arc::ptr_eq(f, g),
            _ => false,
        }
    }

    /// Break points in the variable `x`.
    fn breakpoints(&self) -> Vec<f64> {
        let raw = match &self.src {
            Source::Act(a, _) => a.breakpoints(),
            Source::Closure(_, b) => b.clone(),
        };
        raw.into_iter()
            .map(|t| (t - self.shift) / self.slope)
            .collect()
    }

    fn smoothness(&self) -> Smoothness {
        let s = match &self.src {
            Source::Act(a, d) => a.smoothness(*d),
            Source::Closure(_, b) if b.is_empty() => Smoothness::Unknown,
            Source::Closure(..) => Smoothness::Unknown,
        };
        let p = self.power;
        match s {
            Smoothness::Polynomial { degree } => Smoothness::Polynomial { degree: degree * p },
            Smoothness::Analytic {
                strip,
                growth,
                degree,
            } => Smoothness::Analytic {
                strip: strip / self.slope.abs(),
                growth: growth * f64::from(p) * self.slope * self.slope,
                degree: degree * p,
            },
            other => other,
        }
    }

    fn piecewise(&self) -> Option<Piecewise> {
        let Source::Act(a, d) = &self.src else {
            return None;
        };
        let p = a.piecewise(*d)?.powi(self.power);
        Some(if self.shift == 0.0 && self.slope == 1.0 {
            p
        } else {
            p.compose_affine(self.shift, self.slope)
        })
    }

    /// The point where the factor's argument is 0 (the transition of saturating φ).
    fn center(&self) -> f64 {
        -self.shift / self.slope
    }
}

/// A real function built from activations: `coef · Π_i src_i(shift_i + slope_i x)^{p_i}`.
///
/// Build one with [`Fun::phi`], [`Fun::dphi`], [`Fun::ddphi`], [`Fun::one`],
/// [`Fun::closure`], multiply with `*` and raise with [`Fun::powi`], or parse a spec string
/// like `"phi^2*dphi"` with [`Fun::parse`].
///
/// ```
/// use mfrnn::activation::Builtin;
/// use mfrnn::expect::Fun;
/// let tanh = Builtin::Tanh.arc();
/// let f = Fun::phi(&tanh) * Fun::dphi(&tanh).powi(2);
/// assert_eq!(f.to_string(), "phi*dphi^2");
/// assert!((f.eval(0.5) - 0.5f64.tanh() * (1.0 - 0.5f64.tanh().powi(2)).powi(2)).abs() < 1e-15);
/// ```
#[derive(Clone)]
pub struct Fun {
    pub(crate) coef: f64,
    pub(crate) factors: Vec<Factor>,
}

impl fmt::Debug for Fun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fun({self})")
    }
}

impl fmt::Display for Fun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.coef != 1.0 || self.factors.is_empty() {
            parts.push(if self.factors.is_empty() && self.coef == 1.0 {
                "one".to_string()
            } else {
                format!("{}", self.coef)
            });
        }
        for fa in &self.factors {
            let base = match &fa.src {
                Source::Act(_, d) => d.name().to_string(),
                Source::Closure(..) => "closure".to_string(),
            };
            let arg = if fa.shift == 0.0 && fa.slope == 1.0 {
                String::new()
            } else {
                format!("({} + {}x)", fa.shift, fa.slope)
            };
            if fa.power == 1 {
                parts.push(format!("{base}{arg}"));
            } else {
                parts.push(format!("{base}{arg}^{}", fa.power));
            }
        }
        f.write_str(&parts.join("*"))
    }
}

impl Fun {
    /// The constant function 1.
    pub fn one() -> Fun {
        Fun {
            coef: 1.0,
            factors: Vec::new(),
        }
    }

    /// The constant function `c`.
    pub fn constant(c: f64) -> Fun {
        Fun {
            coef: c,
            factors: Vec::new(),
        }
    }

    /// φ, φ' or φ'' of an activation.
    pub fn deriv(act: &Arc<dyn Activation>, d: Deriv) -> Fun {
        Fun {
            coef: 1.0,
            factors: vec![Factor {
                src: Source::Act(Arc::clone(act), d),
                power: 1,
                shift: 0.0,
                slope: 1.0,
            }],
        }
    }

    /// φ.
    pub fn phi(act: &Arc<dyn Activation>) -> Fun {
        Fun::deriv(act, Deriv::Phi)
    }

    /// φ'.
    pub fn dphi(act: &Arc<dyn Activation>) -> Fun {
        Fun::deriv(act, Deriv::DPhi)
    }

    /// φ''.
    pub fn ddphi(act: &Arc<dyn Activation>) -> Fun {
        Fun::deriv(act, Deriv::DDPhi)
    }

    /// An arbitrary closure (smoothness unknown: integrated adaptively).
    pub fn closure(f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Fun {
        Fun::closure_with_breakpoints(f, Vec::new())
    }

    /// An arbitrary closure with declared kinks, where the quadrature is split.
    pub fn closure_with_breakpoints(
        f: impl Fn(f64) -> f64 + Send + Sync + 'static,
        breakpoints: Vec<f64>,
    ) -> Fun {
        Fun {
            coef: 1.0,
            factors: vec![Factor {
                src: Source::Closure(Arc::new(f), breakpoints),
                power: 1,
                shift: 0.0,
                slope: 1.0,
            }],
        }
    }

    /// Parses a spec such as `phi`, `dphi^2`, `phi*ddphi`, `one` for the activation `act`.
    ///
    /// # Errors
    /// [`Error::Parse`] or [`Error::UnknownName`] for a malformed spec.
    pub fn parse(spec: &str, act: &Arc<dyn Activation>) -> Result<Fun> {
        let perr = |reason: String| Error::Parse {
            what: "integrand",
            input: spec.to_string(),
            reason,
        };
        if spec.trim().is_empty() {
            return Err(perr("empty".into()));
        }
        let mut out = Fun::one();
        for part in spec.split('*') {
            let part = part.trim();
            let (name, pow) = match part.split_once('^') {
                Some((n, p)) => {
                    let k: u32 = p
                        .trim()
                        .parse()
                        .map_err(|_| perr(format!("power `{p}` is not a non-negative integer")))?;
                    (n.trim(), k)
                }
                None => (part, 1),
            };
            let f = match name {
                "one" | "1" => Fun::one(),
                "phi" => Fun::phi(act),
                "dphi" => Fun::dphi(act),
                "ddphi" => Fun::ddphi(act),
                _ => {
                    return Err(Error::UnknownName {
                        kind: "integrand factor",
                        name: name.to_string(),
                        expected: "one, phi, dphi, ddphi (optionally ^k, joined by *)".into(),
                    });
                }
            };
            out = out * f.powi(pow);
        }
        Ok(out)
    }

    /// `self^k`.
    #[must_use]
    pub fn powi(&self, k: u32) -> Fun {
        if k == 0 {
            return Fun::one();
        }
        Fun {
            coef: self.coef.powi(k as i32),
            factors: self
                .factors
                .iter()
                .map(|f| Factor {
                    power: f.power * k,
                    ..f.clone()
                })
                .collect(),
        }
    }

    /// The function `x ↦ self(shift + slope·x)`.
    #[must_use]
    pub fn compose_affine(&self, shift: f64, slope: f64) -> Fun {
        Fun {
            coef: self.coef,
            factors: self
                .factors
                .iter()
                .map(|f| Factor {
                    shift: f.shift + f.slope * shift,
                    slope: f.slope * slope,
                    ..f.clone()
                })
                .collect(),
        }
    }

    /// Evaluates the function.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        let mut v = self.coef;
        for f in &self.factors {
            v *= f.eval(x);
        }
        v
    }

    /// True if both are built from the same factors (same activations, derivatives, powers
    /// and arguments) with the same coefficient.
    pub(crate) fn same_as(&self, other: &Fun) -> bool {
        self.coef == other.coef
            && self.factors.len() == other.factors.len()
            && self.factors.iter().all(|f| {
                other
                    .factors
                    .iter()
                    .any(|g| f.same_base(g) && f.power == g.power)
            })
    }

    /// True for a constant function.
    pub fn is_constant(&self) -> bool {
        self.factors.is_empty()
    }

    /// Symmetry of `x ↦ f(x)` about 0 (none unless every factor is an activation derivative
    /// with known parity at an unshifted argument).
    pub fn parity(&self) -> Parity {
        let mut p = Parity::Even;
        for f in &self.factors {
            let q = match &f.src {
                Source::Act(a, d) if f.shift == 0.0 => a.parity(*d),
                _ => Parity::None,
            };
            let q = if f.power % 2 == 0 && q != Parity::None {
                Parity::Even
            } else {
                q
            };
            p = p.product(q);
        }
        p
    }

    /// Sorted, de-duplicated break points of all factors.
    pub fn breakpoints(&self) -> Vec<f64> {
        let mut b: Vec<f64> = self
            .factors
            .iter()
            .flat_map(Factor::breakpoints)
            .filter(|x| x.is_finite())
            .collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        b
    }

    /// Points where a factor's argument vanishes (transitions of saturating activations).
    pub(crate) fn centers(&self) -> Vec<f64> {
        let mut c: Vec<f64> = self
            .factors
            .iter()
            .filter(|f| matches!(f.smoothness(), Smoothness::Analytic { .. }))
            .map(Factor::center)
            .filter(|x| x.is_finite())
            .collect();
        c.sort_by(f64::total_cmp);
        c.dedup();
        c
    }

    /// Smoothness class of the product.
    pub fn smoothness(&self) -> Smoothness {
        let mut strip = f64::INFINITY;
        let mut growth = 0.0;
        let mut degree = 0;
        let mut piecewise = false;
        let mut analytic = false;
        for f in &self.factors {
            match f.smoothness() {
                Smoothness::Polynomial { degree: d } => degree += d,
                Smoothness::PiecewisePolynomial => piecewise = true,
                Smoothness::Analytic {
                    strip: s,
                    growth: g,
                    degree: d,
                } => {
                    analytic = true;
                    strip = strip.min(s);
                    growth += g;
                    degree += d;
                }
                Smoothness::Unknown => return Smoothness::Unknown,
            }
        }
        match (piecewise, analytic) {
            (true, true) => Smoothness::Unknown,
            (true, false) => Smoothness::PiecewisePolynomial,
            (false, true) => Smoothness::Analytic {
                strip,
                growth,
                degree,
            },
            (false, false) => Smoothness::Polynomial { degree },
        }
    }

    /// The product as a piecewise polynomial, when every factor is one.
    pub fn to_piecewise(&self) -> Option<Piecewise> {
        let mut p = Piecewise::constant(self.coef);
        for f in &self.factors {
            p = p.mul(&f.piecewise()?);
        }
        Some(p)
    }

    /// The factors as `(activation, derivative, power)` when all are activations at the
    /// identity argument (the shape closed forms are written for).
    pub(crate) fn plain_factors(&self) -> Option<Vec<PlainFactor>> {
        self.factors
            .iter()
            .map(|f| match &f.src {
                Source::Act(a, d) if f.shift == 0.0 && f.slope == 1.0 => {
                    Some((Arc::clone(a), *d, f.power))
                }
                _ => None,
            })
            .collect()
    }
}

impl Mul for Fun {
    type Output = Fun;
    fn mul(self, rhs: Fun) -> Fun {
        &self * &rhs
    }
}

impl Mul<&Fun> for &Fun {
    type Output = Fun;
    fn mul(self, rhs: &Fun) -> Fun {
        let mut factors = self.factors.clone();
        for g in &rhs.factors {
            if let Some(f) = factors.iter_mut().find(|f| f.same_base(g)) {
                f.power += g.power;
            } else {
                factors.push(g.clone());
            }
        }
        Fun {
            coef: self.coef * rhs.coef,
            factors,
        }
    }
}
