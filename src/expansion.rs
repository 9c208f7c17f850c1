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

use std::cmp::Ordering;
use std::fmt;
use std::num::FpCategory;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

pub use num_rational::BigRational;
use num_traits::{Float, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};

use crate::activation::Builtin;
use crate::error::{Error, Result};

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
// Jets: truncated Taylor series with a Float implementation
// ---------------------------------------------------------------------------------------------

/// A truncated Taylor series `c₀ + c₁ε + … + c_{N−1}ε^{N−1}` in an infinitesimal `ε`: the jet of a
/// function at a point, for Taylor-mode automatic differentiation (SV.7).
///
/// `Jet` implements [`num_traits::Float`], so a function written generically over `F: Float`
/// and evaluated at [`Jet::variable(x0)`](Jet::variable) returns its Taylor coefficients at
/// `x0` to degree `N − 1`, every elementary function being propagated by its standard
/// recurrence (products by convolution; `exp`, `ln`, powers, `sin`/`cos`, `tan`/`tanh`,
/// `sinh`/`cosh` by the linear recurrences of their differential equations; inverse
/// functions by integrating `a'·g(a)`). Checked against closed-form series, finite
/// differences and functional identities by `jet_*` tests in `tests/expansion.rs`.
///
/// **Order and branches.** Jets are ordered lexicographically (`ε` is a positive
/// infinitesimal), so comparisons, `max`, `abs`, `floor` and the like take the branch that
/// holds just to the right of the point: `Jet::variable(0.0).max(Jet::zero())` is `x`, the
/// right-hand germ of ReLU. [`taylor`] evaluates on both sides of 0 and rejects functions whose
/// two germs differ. `floor`, `ceil`, `round`, `trunc` and `signum` return locally constant
/// jets; `powf`, `sqrt`, `cbrt` and `ln` at a zero value, and divisions `a/b` with `b₀ = 0` that
/// do not cancel, give non-finite coefficients (the function is not analytic there). A
/// division with `a₀ = b₀ = 0` cancels the common factor `ε` (so `sin(x)/x` works) and the
/// coefficients lost by the shift are NaN ([`taylor`] then rejects the result: evaluate the jet
/// directly and drop them).
///
/// **Conversions.** `to_f64` and the other [`ToPrimitive`] conversions return the value `c₀`;
/// [`NumCast::from`] and constants such as `F::one()` give constant jets. `integer_decode`,
/// `classify` and `is_normal` describe `c₀`; `is_nan`, `is_finite` and `is_infinite` look at
/// every coefficient.
///
/// ```
/// use mfrnn::expansion::Jet;
/// use num_traits::Float;
/// fn phi<F: Float>(x: F) -> F { x * x.tanh() + x.sin().powi(2) }
/// let c = phi(Jet::<6>::variable(0.0)).coefficients();
/// // x tanh x + sin² x = 2x² − (1/3 + 1/3) x⁴ + …
/// assert!((c[2] - 2.0).abs() < 1e-15 && (c[4] + 2.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jet<const N: usize> {
    c: [f64; N],
}

// The recurrences index several series at shifted positions (b_k from a_j, b_{k−j}); indices
// keep them readable against the formulas of theory/05.
#[allow(clippy::needless_range_loop)]
impl<const N: usize> Jet<N> {
    /// The constant `c` (all higher coefficients zero).
    pub fn constant(c: f64) -> Self {
        // Every operation reads c₀; a jet without coefficients is a compile-time error.
        const { assert!(N > 0, "Jet<N> needs N >= 1 coefficients") };
        let mut a = [0.0; N];
        a[0] = c;
        Jet { c: a }
    }

    /// The independent variable at `x0`: `x0 + ε`.
    pub fn variable(x0: f64) -> Self {
        let mut j = Self::constant(x0);
        if N > 1 {
            j.c[1] = 1.0;
        }
        j
    }

    /// A jet from its coefficients `c₀ … c_{N−1}`.
    pub fn from_coefficients(c: [f64; N]) -> Self {
        const { assert!(N > 0, "Jet<N> needs N >= 1 coefficients") };
        Jet { c }
    }

    /// The Taylor coefficients `c₀ … c_{N−1}` (`c_k = f^{(k)}(x0)/k!`).
    pub fn coefficients(&self) -> [f64; N] {
        self.c
    }

    /// The value `c₀`.
    pub fn value(&self) -> f64 {
        self.c[0]
    }

    /// `c₀` and NaN beyond: the result of a function that is not analytic at the point.
    fn not_analytic(value: f64) -> Self {
        let mut c = [f64::NAN; N];
        c[0] = value;
        Jet { c }
    }

    fn is_constant(&self) -> bool {
        self.c[1..].iter().all(|&x| x == 0.0)
    }

    /// Sign of the first non-zero coefficient after `c₀` (`Equal` if there is none, `None` if a
    /// NaN comes first): which side of `c₀` the germ lies on.
    fn tail_sign(&self) -> Option<Ordering> {
        for &x in &self.c[1..] {
            if x.is_nan() {
                return None;
            }
            if x != 0.0 {
                return Some(if x > 0.0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                });
            }
        }
        Some(Ordering::Equal)
    }

    /// The derivative series `a'`. Its top coefficient would need `c_N` and is set to 0; it is
    /// only ever used through [`Jet::integral`], which never reads it.
    fn derivative(&self) -> Self {
        let mut d = [0.0; N];
        for k in 0..N - 1 {
            d[k] = (k + 1) as f64 * self.c[k + 1];
        }
        Jet { c: d }
    }

    /// The series `b` with `b₀ = b0` and `b' = d`: `b_k = d_{k−1}/k`.
    fn integral(b0: f64, d: &Self) -> Self {
        let mut c = [0.0; N];
        c[0] = b0;
        for k in 1..N {
            c[k] = d.c[k - 1] / k as f64;
        }
        Jet { c }
    }

    /// `b = f(a)` for `f' = g`: `b₀ = f(a₀)` and `b = b₀ + ∫ a'·g(a)` (inverse functions).
    fn compose_integral(self, b0: f64, g_of_a: Self) -> Self {
        Self::integral(b0, &(self.derivative() * g_of_a))
    }

    /// `exp`-type recurrence for `b' = s·a'·b` with a given `b₀` (SV.7):
    /// `b_k = (s/k) Σ_{j=1}^{k} j a_j b_{k−j}`.
    fn exp_like(&self, b0: f64, s: f64) -> Self {
        let a = &self.c;
        let mut b = [0.0; N];
        b[0] = b0;
        for k in 1..N {
            let acc: f64 = (1..=k).map(|j| j as f64 * a[j] * b[k - j]).sum();
            b[k] = s * acc / k as f64;
        }
        Jet { c: b }
    }

    /// `a^r` for `a₀ ≠ 0` with a given `b₀ = a₀^r` (SV.7), from `a b' = r a' b`:
    /// `b_k = (1/(k a₀)) Σ_{j=1}^{k} ((r+1) j − k) a_j b_{k−j}`.
    fn pow_recurrence(&self, b0: f64, r: f64) -> Self {
        let a = &self.c;
        let mut b = [0.0; N];
        b[0] = b0;
        for k in 1..N {
            let acc: f64 = (1..=k)
                .map(|j| ((r + 1.0) * j as f64 - k as f64) * a[j] * b[k - j])
                .sum();
            b[k] = acc / (k as f64 * a[0]);
        }
        Jet { c: b }
    }

    /// `a^r` for a real constant `r`, with f64's conventions for the value.
    fn pow_real(self, r: f64) -> Self {
        let a0 = self.c[0];
        if r.fract() == 0.0 && r.abs() <= <f64 as From<i32>>::from(i32::MAX) {
            // Integer powers are polynomials: exact at a₀ = 0 and for negative bases.
            return self.powi(r as i32);
        }
        if a0 > 0.0 {
            self.pow_recurrence(a0.powf(r), r)
        } else if a0 == 0.0 && self.is_constant() {
            Self::constant(a0.powf(r))
        } else {
            // A non-integer power of a germ through 0 or of a negative base is not analytic
            // (NaN value for negative bases, as for f64).
            Self::not_analytic(a0.powf(r))
        }
    }

    /// `ln a` with the value computed by `value` (so `log2`, `ln_1p` keep f64's accuracy) and
    /// the tail scaled by `s`: `b' = s a'/a`.
    fn ln_like(&self, value: f64, s: f64) -> Self {
        let a = &self.c;
        if a[0] > 0.0 {
            // k b_k a₀ = k a_k − Σ_{j=1}^{k−1} j b_j a_{k−j}, for the unscaled logarithm.
            let mut b = [0.0; N];
            for k in 1..N {
                let acc: f64 = (1..k).map(|j| j as f64 * b[j] * a[k - j]).sum();
                b[k] = (a[k] - acc / k as f64) / a[0];
            }
            for x in &mut b[1..] {
                *x *= s;
            }
            b[0] = value;
            Jet { c: b }
        } else if a[0] == 0.0 && self.is_constant() {
            Self::constant(value)
        } else {
            Self::not_analytic(value)
        }
    }

    /// `(sin a, cos a)` or `(sinh a, cosh a)` (`sign = −1` or `+1` in `c' = sign·a'·s`).
    fn sin_cos_like(&self, s0: f64, c0: f64, sign: f64) -> (Self, Self) {
        let a = &self.c;
        let (mut s, mut c) = ([0.0; N], [0.0; N]);
        s[0] = s0;
        c[0] = c0;
        for k in 1..N {
            let (mut ss, mut cc) = (0.0, 0.0);
            for j in 1..=k {
                ss += j as f64 * a[j] * c[k - j];
                cc += j as f64 * a[j] * s[k - j];
            }
            s[k] = ss / k as f64;
            c[k] = sign * cc / k as f64;
        }
        (Jet { c: s }, Jet { c })
    }

    /// `tan a` (`sign = +1`, `t' = (1 + t²) a'`) or `tanh a` (`sign = −1`, `t' = (1 − t²) a'`).
    fn tan_like(&self, t0: f64, sign: f64) -> Self {
        let a = &self.c;
        let mut t = [0.0; N];
        let mut w = [0.0; N];
        t[0] = t0;
        for k in 1..N {
            // w_{k−1} = [k = 1] + sign·(t²)_{k−1} needs t up to k − 1 only.
            let m = k - 1;
            let sq: f64 = (0..=m).map(|i| t[i] * t[m - i]).sum();
            w[m] = if m == 0 { 1.0 } else { 0.0 } + sign * sq;
            let acc: f64 = (1..=k).map(|j| j as f64 * a[j] * w[k - j]).sum();
            t[k] = acc / k as f64;
        }
        Jet { c: t }
    }
}

impl<const N: usize> Add for Jet<N> {
    type Output = Self;
    fn add(mut self, o: Self) -> Self {
        for (a, b) in self.c.iter_mut().zip(o.c) {
            *a += b;
        }
        self
    }
}

impl<const N: usize> Sub for Jet<N> {
    type Output = Self;
    fn sub(mut self, o: Self) -> Self {
        for (a, b) in self.c.iter_mut().zip(o.c) {
            *a -= b;
        }
        self
    }
}

impl<const N: usize> Neg for Jet<N> {
    type Output = Self;
    fn neg(mut self) -> Self {
        for a in &mut self.c {
            *a = -*a;
        }
        self
    }
}

impl<const N: usize> Mul for Jet<N> {
    type Output = Self;
    /// Cauchy product (SV.7).
    fn mul(self, o: Self) -> Self {
        let mut c = [0.0; N];
        for (k, ck) in c.iter_mut().enumerate() {
            *ck = (0..=k).map(|j| self.c[j] * o.c[k - j]).sum();
        }
        Jet { c }
    }
}

impl<const N: usize> Div for Jet<N> {
    type Output = Self;
    /// Series quotient `q = a/b` (SV.3): `q_k = (a_k − Σ_{j=1}^{k} b_j q_{k−j})/b₀`, after
    /// cancelling common leading zeros of `a` and `b`.
    fn div(self, o: Self) -> Self {
        // Cancel ε^s when both series start at order s: the quotient of the shifted series is
        // the germ of a/b (removable singularity), and its top s coefficients are unknown.
        let mut s = 0;
        while s < N && self.c[s] == 0.0 && o.c[s] == 0.0 {
            s += 1;
        }
        if s == N {
            return Self::not_analytic(f64::NAN);
        }
        let mut a = [f64::NAN; N];
        let mut b = [f64::NAN; N];
        a[..N - s].copy_from_slice(&self.c[s..]);
        b[..N - s].copy_from_slice(&o.c[s..]);
        let mut q = [0.0; N];
        for k in 0..N {
            let acc: f64 = (1..=k).map(|j| b[j] * q[k - j]).sum();
            q[k] = (a[k] - acc) / b[0];
        }
        Jet { c: q }
    }
}

impl<const N: usize> Rem for Jet<N> {
    type Output = Self;
    /// `a − b·trunc(a/b)`, as for f64.
    fn rem(self, o: Self) -> Self {
        self - o * (self / o).trunc()
    }
}

macro_rules! assign_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl<const N: usize> $tr for Jet<N> {
            fn $m(&mut self, o: Self) {
                *self = *self $op o;
            }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *,
    DivAssign div_assign /, RemAssign rem_assign %);

impl<const N: usize> PartialOrd for Jet<N> {
    /// Lexicographic: `ε` is a positive infinitesimal. Consistent with `==`.
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        for (a, b) in self.c.iter().zip(&o.c) {
            match a.partial_cmp(b)? {
                Ordering::Equal => {}
                ord => return Some(ord),
            }
        }
        Some(Ordering::Equal)
    }
}

impl<const N: usize> Zero for Jet<N> {
    fn zero() -> Self {
        Self::constant(0.0)
    }
    fn is_zero(&self) -> bool {
        self.c.iter().all(|&x| x == 0.0)
    }
}

impl<const N: usize> One for Jet<N> {
    fn one() -> Self {
        Self::constant(1.0)
    }
}

impl<const N: usize> Num for Jet<N> {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> std::result::Result<Self, Self::FromStrRadixErr> {
        <f64 as Num>::from_str_radix(s, radix).map(Self::constant)
    }
}

impl<const N: usize> ToPrimitive for Jet<N> {
    fn to_i64(&self) -> Option<i64> {
        self.c[0].to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.c[0].to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        Some(self.c[0])
    }
}

impl<const N: usize> NumCast for Jet<N> {
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        n.to_f64().map(Self::constant)
    }
}

impl<const N: usize> Float for Jet<N> {
    fn nan() -> Self {
        Self::constant(f64::NAN)
    }
    fn infinity() -> Self {
        Self::constant(f64::INFINITY)
    }
    fn neg_infinity() -> Self {
        Self::constant(f64::NEG_INFINITY)
    }
    fn neg_zero() -> Self {
        Self::constant(-0.0)
    }
    fn min_value() -> Self {
        Self::constant(f64::MIN)
    }
    fn min_positive_value() -> Self {
        Self::constant(f64::MIN_POSITIVE)
    }
    fn epsilon() -> Self {
        Self::constant(f64::EPSILON)
    }
    fn max_value() -> Self {
        Self::constant(f64::MAX)
    }
    fn is_nan(self) -> bool {
        self.c.iter().any(|x| x.is_nan())
    }
    fn is_infinite(self) -> bool {
        !self.is_nan() && self.c.iter().any(|x| x.is_infinite())
    }
    fn is_finite(self) -> bool {
        self.c.iter().all(|x| x.is_finite())
    }
    fn is_normal(self) -> bool {
        self.is_finite() && self.c[0].is_normal()
    }
    fn classify(self) -> FpCategory {
        if self.is_nan() {
            FpCategory::Nan
        } else if self.is_infinite() {
            FpCategory::Infinite
        } else {
            self.c[0].classify()
        }
    }
    /// Locally constant: `floor(c₀ + ε·(negative)) = c₀ − 1` at an integer `c₀`.
    fn floor(self) -> Self {
        let (a, f) = (self.c[0], self.c[0].floor());
        Self::constant(if a == f && self.tail_sign() == Some(Ordering::Less) {
            f - 1.0
        } else {
            f
        })
    }
    fn ceil(self) -> Self {
        let (a, c) = (self.c[0], self.c[0].ceil());
        Self::constant(if a == c && self.tail_sign() == Some(Ordering::Greater) {
            c + 1.0
        } else {
            c
        })
    }
    /// Half-way cases go the way the germ leans, exact half-way values away from zero.
    fn round(self) -> Self {
        let a = self.c[0];
        if (a - a.trunc()).abs() == 0.5 {
            match self.tail_sign() {
                Some(Ordering::Greater) => return Self::constant(a.ceil()),
                Some(Ordering::Less) => return Self::constant(a.floor()),
                _ => {}
            }
        }
        Self::constant(a.round())
    }
    fn trunc(self) -> Self {
        if self.is_sign_negative() {
            self.ceil()
        } else {
            self.floor()
        }
    }
    fn fract(self) -> Self {
        self - self.trunc()
    }
    fn abs(self) -> Self {
        if self.is_sign_negative() { -self } else { self }
    }
    fn signum(self) -> Self {
        if self.is_nan() {
            Self::nan()
        } else if self.is_zero() {
            Self::constant(self.c[0].signum())
        } else if self.is_sign_negative() {
            Self::constant(-1.0)
        } else {
            Self::constant(1.0)
        }
    }
    /// The sign of the first non-zero coefficient (of `c₀` if all are zero).
    fn is_sign_positive(self) -> bool {
        !self.is_sign_negative()
    }
    fn is_sign_negative(self) -> bool {
        for &x in &self.c {
            if x.is_nan() {
                return x.is_sign_negative();
            }
            if x != 0.0 {
                return x < 0.0;
            }
        }
        self.c[0].is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn recip(self) -> Self {
        Self::one() / self
    }
    fn powi(self, n: i32) -> Self {
        // Binary powering: exact at a zero value, unlike exp(n ln a).
        let mut base = self;
        let mut e = n.unsigned_abs();
        let mut acc = Self::one();
        while e > 0 {
            if e & 1 == 1 {
                acc *= base;
            }
            base = base * base;
            e >>= 1;
        }
        if n < 0 { acc.recip() } else { acc }
    }
    fn powf(self, n: Self) -> Self {
        if n.is_constant() {
            self.pow_real(n.c[0])
        } else {
            (n * self.ln()).exp()
        }
    }
    fn sqrt(self) -> Self {
        let a0 = self.c[0];
        if a0 > 0.0 {
            self.pow_recurrence(a0.sqrt(), 0.5)
        } else if a0 == 0.0 && self.is_constant() {
            Self::constant(a0.sqrt())
        } else {
            Self::not_analytic(a0.sqrt())
        }
    }
    fn cbrt(self) -> Self {
        let a0 = self.c[0];
        if a0 != 0.0 {
            // The recurrence holds for any a₀ ≠ 0 given the real cube root as b₀.
            self.pow_recurrence(a0.cbrt(), 1.0 / 3.0)
        } else if self.is_constant() {
            Self::constant(a0)
        } else {
            Self::not_analytic(a0)
        }
    }
    fn exp(self) -> Self {
        self.exp_like(self.c[0].exp(), 1.0)
    }
    fn exp2(self) -> Self {
        self.exp_like(self.c[0].exp2(), std::f64::consts::LN_2)
    }
    fn exp_m1(self) -> Self {
        let mut b = self.exp();
        b.c[0] = self.c[0].exp_m1();
        b
    }
    fn ln(self) -> Self {
        self.ln_like(self.c[0].ln(), 1.0)
    }
    fn log(self, base: Self) -> Self {
        if base.is_constant() {
            let lb = base.c[0].ln();
            self.ln_like(self.c[0].log(base.c[0]), 1.0 / lb)
        } else {
            self.ln() / base.ln()
        }
    }
    fn log2(self) -> Self {
        self.ln_like(self.c[0].log2(), std::f64::consts::LOG2_E)
    }
    fn log10(self) -> Self {
        self.ln_like(self.c[0].log10(), std::f64::consts::LOG10_E)
    }
    fn ln_1p(self) -> Self {
        let mut b = (Self::one() + self).ln();
        b.c[0] = self.c[0].ln_1p();
        b
    }
    fn max(self, o: Self) -> Self {
        if self.is_nan() || (!o.is_nan() && o > self) {
            o
        } else {
            self
        }
    }
    fn min(self, o: Self) -> Self {
        if self.is_nan() || (!o.is_nan() && o < self) {
            o
        } else {
            self
        }
    }
    fn abs_sub(self, o: Self) -> Self {
        if self <= o { Self::zero() } else { self - o }
    }
    fn hypot(self, o: Self) -> Self {
        let mut b = (self * self + o * o).sqrt();
        b.c[0] = self.c[0].hypot(o.c[0]);
        b
    }
    fn sin(self) -> Self {
        self.sin_cos().0
    }
    fn cos(self) -> Self {
        self.sin_cos().1
    }
    fn tan(self) -> Self {
        self.tan_like(self.c[0].tan(), 1.0)
    }
    fn asin(self) -> Self {
        // asin' = (1 − a²)^{−1/2}
        let g = (Self::one() - self * self).pow_real(-0.5);
        self.compose_integral(self.c[0].asin(), g)
    }
    fn acos(self) -> Self {
        let g = -(Self::one() - self * self).pow_real(-0.5);
        self.compose_integral(self.c[0].acos(), g)
    }
    fn atan(self) -> Self {
        let g = (Self::one() + self * self).recip();
        self.compose_integral(self.c[0].atan(), g)
    }
    /// `atan2(y, x)` with `self = y`: `b' = (x y' − y x')/(x² + y²)`.
    fn atan2(self, x: Self) -> Self {
        let y = self;
        let d = (x * y.derivative() - y * x.derivative()) / (x * x + y * y);
        Self::integral(y.c[0].atan2(x.c[0]), &d)
    }
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.c[0].sin_cos();
        self.sin_cos_like(s, c, -1.0)
    }
    fn sinh(self) -> Self {
        self.sin_cos_like(self.c[0].sinh(), self.c[0].cosh(), 1.0).0
    }
    fn cosh(self) -> Self {
        self.sin_cos_like(self.c[0].sinh(), self.c[0].cosh(), 1.0).1
    }
    fn tanh(self) -> Self {
        self.tan_like(self.c[0].tanh(), -1.0)
    }
    fn asinh(self) -> Self {
        let g = (Self::one() + self * self).pow_real(-0.5);
        self.compose_integral(self.c[0].asinh(), g)
    }
    fn acosh(self) -> Self {
        let g = (self * self - Self::one()).pow_real(-0.5);
        self.compose_integral(self.c[0].acosh(), g)
    }
    fn atanh(self) -> Self {
        let g = (Self::one() - self * self).recip();
        self.compose_integral(self.c[0].atanh(), g)
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        <f64 as Float>::integer_decode(self.c[0])
    }
}

/// The Taylor coefficients at 0 of an activation written generically over [`Float`], checked to
/// be those of a function analytic at 0 (SV.7).
///
/// The function is evaluated on the right germ `0 + ε` and on the left germ `0 − ε`; for an
/// analytic φ the second gives `(−1)^k c_k`. Branches on the sign of `x` (`max`, `abs`,
/// `floor`, `if x > 0`) make the two differ, which is how kinks and jumps at 0 are detected.
/// Checked by `jet_rejects_kinks_and_singularities` in `tests/expansion.rs`.
///
/// # Errors
/// [`Error::Unsupported`] if a coefficient is not finite (a singularity at 0, or a
/// non-analytic operation such as `sqrt` of a germ through 0) or if the two one-sided
/// expansions differ (beyond `10⁻⁹` relative, plus `10⁻¹⁴` of the largest coefficient).
///
/// ```
/// use mfrnn::expansion::{taylor, Jet};
/// use num_traits::Float;
/// let c = taylor(|x: Jet<5>| x.exp())?;
/// assert_eq!(c, [1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0]);
/// assert!(taylor(|x: Jet<5>| x.max(Jet::from_coefficients([0.0; 5]))).is_err()); // ReLU
/// # Ok::<(), mfrnn::Error>(())
/// ```
pub fn taylor<const N: usize>(phi: impl Fn(Jet<N>) -> Jet<N>) -> Result<[f64; N]> {
    let right = phi(Jet::variable(0.0)).c;
    let left = phi(-Jet::variable(0.0)).c;
    for (side, c) in [("right", &right), ("left", &left)] {
        if let Some(k) = c.iter().position(|x| !x.is_finite()) {
            return Err(Error::Unsupported(format!(
                "Taylor coefficient {k} of φ at 0 (from the {side}) is {}: φ is not analytic \
                 at 0 (a singularity there, or sqrt/ln/powf of a germ through 0), so it has no \
                 small-variance expansion",
                c[k]
            )));
        }
    }
    let scale = right.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    for k in 0..N {
        let mirrored = if k % 2 == 1 { -right[k] } else { right[k] };
        let tol = 1e-9 * mirrored.abs().max(left[k].abs()) + 1e-14 * scale;
        if (left[k] - mirrored).abs() > tol {
            return Err(Error::Unsupported(format!(
                "φ is not analytic at 0: its expansions from the right and from the left differ \
                 at order {k} ({} vs {}), a kink or jump at 0 (max, abs, floor or a branch on the \
                 sign of x); the small-variance expansion does not exist",
                right[k],
                if k % 2 == 1 { -left[k] } else { left[k] }
            )));
        }
    }
    Ok(right)
}

// ---------------------------------------------------------------------------------------------
// Power series over a coefficient field (f64 or exact rationals)
// ---------------------------------------------------------------------------------------------

/// A coefficient field: f64 for the floating-point path, [`BigRational`] for the exact one.
trait Coef: Clone + Num + Neg<Output = Self> + FromPrimitive {}
impl<T: Clone + Num + Neg<Output = T> + FromPrimitive> Coef for T {}

fn int<T: Coef>(k: usize) -> T {
    T::from_usize(k).expect("f64 and BigRational represent every usize")
}

/// Cauchy product truncated to `len` terms.
fn mul_t<T: Coef>(a: &[T], b: &[T], len: usize) -> Vec<T> {
    (0..len)
        .map(|k| {
            (0..=k)
                .filter(|&j| j < a.len() && k - j < b.len())
                .fold(T::zero(), |s, j| s + a[j].clone() * b[k - j].clone())
        })
        .collect()
}

/// Series reciprocal (SV.3): `b₀ = 1/a₀`, `b_k = −(1/a₀) Σ_{j=1}^{k} a_j b_{k−j}`; `None` if
/// `a₀ = 0`.
fn recip_t<T: Coef>(a: &[T], len: usize) -> Option<Vec<T>> {
    if a[0].is_zero() {
        return None;
    }
    let mut b: Vec<T> = Vec::with_capacity(len);
    b.push(T::one() / a[0].clone());
    for k in 1..len {
        let acc =
            (1..=k.min(a.len() - 1)).fold(T::zero(), |s, j| s + a[j].clone() * b[k - j].clone());
        b.push(-(acc / a[0].clone()));
    }
    Some(b)
}

/// Termwise derivative.
fn deriv_t<T: Coef>(a: &[T]) -> Vec<T> {
    (1..a.len()).map(|k| int::<T>(k) * a[k].clone()).collect()
}

/// Isserlis (SV.1): `E[f(√q z)] = Σ_k f_{2k} (2k−1)!! q^k`, for `k = 0..=order`.
fn gauss_t<T: Coef>(f: &[T], order: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(order + 1);
    let mut double_factorial = T::one();
    for k in 0..=order {
        if k > 0 {
            double_factorial = double_factorial * int::<T>(2 * k - 1);
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
fn raw<T: Coef>(phi: Option<&[T]>, dphi: &[T], order: usize) -> Result<Raw<T>> {
    let len = 2 * order + 1;
    let n = order + 1;
    let d2 = mul_t(dphi, dphi, len);
    let d4 = mul_t(&d2, &d2, len);
    let mu1 = gauss_t(&d2, order);
    let mu2 = gauss_t(&d4, order);
    let sigma_w2 = recip_t(&mu1, n).ok_or_else(|| {
        Error::Unsupported(
            "φ'(0) = 0, so μ₁ = E[φ'(√q z)²] vanishes at q = 0 and the critical line \
             σ_w² = 1/μ₁(q*) has no power series in q* (σ_w² → ∞ as q* → 0)"
                .to_string(),
        )
    })?;
    let inv_mu1_sq = recip_t(&mul_t(&mu1, &mu1, n), n).expect("μ₁(0) ≠ 0 checked above");
    let mut spectral_growth = mul_t(&mu2, &inv_mu1_sq, n);
    spectral_growth[0] = spectral_growth[0].clone() - T::one();
    let phi2 = phi.map(|p| gauss_t(&mul_t(p, p, len), order));
    let input_variance = phi2.as_ref().map(|p2| {
        let mut v: Vec<T> = mul_t(&sigma_w2, p2, n).into_iter().map(|x| -x).collect();
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
    check_order(order)?;
    if f.len() < 2 * order + 1 {
        return Err(Error::invalid(
            "order",
            order as f64,
            "at most (f.len() − 1)/2: the q^k term needs the Taylor coefficient of degree 2k",
        ));
    }
    if let Some(&x) = f[..=2 * order].iter().find(|x| !x.is_finite()) {
        return Err(Error::invalid("f", x, "finite Taylor coefficients"));
    }
    Ok(gauss_t(f, order))
}

// ---------------------------------------------------------------------------------------------
// Exact Taylor coefficients of the built-ins
// ---------------------------------------------------------------------------------------------

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

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// tanh from `y' = 1 − y²`, `y(0) = 0`: `(k+1) y_{k+1} = [k = 0] − (y²)_k` (SV.8).
fn tanh_coefficients<T: Coef>(degree: usize) -> Vec<T> {
    let mut y = vec![T::zero()];
    for k in 0..degree {
        let sq = (0..=k).fold(T::zero(), |s, i| s + y[i].clone() * y[k - i].clone());
        let rhs = if k == 0 { T::one() - sq } else { -sq };
        y.push(rhs / int::<T>(k + 1));
    }
    y
}

/// Logistic sigmoid from `y' = y − y²`, `y(0) = 1/2`: `(k+1) y_{k+1} = y_k − (y²)_k` (SV.8).
fn sigmoid_coefficients(degree: usize) -> Vec<BigRational> {
    let mut y = vec![rat(1, 2)];
    for k in 0..degree {
        let sq = (0..=k).fold(BigRational::zero(), |s, i| s + &y[i] * &y[k - i]);
        let next = (y[k].clone() - sq) / int::<BigRational>(k + 1);
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
        c[2 * n + 1] = inv_fact.clone() / int::<BigRational>(2 * n + 1);
        n += 1;
        inv_fact = -inv_fact / int::<BigRational>(n);
    }
    c
}

/// The kink/non-analyticity error of ReLU and hard-tanh.
fn not_smooth(b: Builtin) -> Error {
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
/// `2/√π` times rationals. Checked by `exact_taylor_matches_jets` in `tests/expansion.rs`.
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

fn to_f64(r: &BigRational) -> f64 {
    r.to_f64().unwrap_or(f64::NAN)
}

/// Floating-point Taylor coefficients at 0 of a built-in activation, degrees `0..=degree`
/// (the exact ones rounded; softplus as `ln 2 + ∫ sigmoid`).
///
/// # Errors
/// As [`exact_taylor`], except that softplus is supported.
pub fn builtin_taylor(b: Builtin, degree: usize) -> Result<Vec<f64>> {
    if b == Builtin::Softplus {
        let s = exact_taylor(Builtin::Sigmoid, degree.saturating_sub(1))?;
        let mut c = vec![std::f64::consts::LN_2];
        c.extend(
            (1..=degree).map(|k| to_f64(&(s.coefficients[k - 1].clone() / int::<BigRational>(k)))),
        );
        return Ok(c);
    }
    let e = exact_taylor(b, degree)?;
    let f = e.prefactor.value();
    Ok(e.coefficients.iter().map(|c| to_f64(c) * f).collect())
}

// ---------------------------------------------------------------------------------------------
// Series and the small-variance quantities
// ---------------------------------------------------------------------------------------------

/// A power series `Σ_{k=0}^{order} c_k q^k + O(q^{order+1})`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `c_0 … c_order` in floating point (rounded from the exact values where those exist;
    /// including the factor `π^pi_power`).
    pub coefficients: Vec<f64>,
    /// Exact rationals `r_k` with `c_k = r_k π^pi_power`, where the coefficients are rational
    /// multiples of a power of π.
    pub exact: Option<Vec<BigRational>>,
    /// The power of π multiplying the exact coefficients (0 except for erf).
    pub pi_power: i32,
}

impl Series {
    fn from_f64(coefficients: Vec<f64>) -> Series {
        Series {
            coefficients,
            exact: None,
            pi_power: 0,
        }
    }

    fn from_exact(exact: Vec<BigRational>, pi_power: i32) -> Series {
        let pi = std::f64::consts::PI.powi(pi_power);
        Series {
            coefficients: exact.iter().map(|r| to_f64(r) * pi).collect(),
            exact: Some(exact),
            pi_power,
        }
    }

    /// The highest power of q kept.
    pub fn order(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// The truncated series at `q` (Horner).
    pub fn eval(&self, q: f64) -> f64 {
        self.coefficients.iter().rev().fold(0.0, |s, &c| s * q + c)
    }

    /// The exact coefficients as strings (`"-17/3"`, `"2"`), if they exist.
    pub fn exact_strings(&self) -> Option<Vec<String>> {
        self.exact
            .as_ref()
            .map(|e| e.iter().map(|r| r.to_string()).collect())
    }

    /// The series as a formula, `1 + 2 q - 3 q^2 + O(q^3)`: exact rationals where they exist,
    /// 10 significant digits otherwise, zero terms omitted, and a factor `π^p` written in front
    /// (`π (…)`) or as a divisor (`(…)/π`).
    pub fn formula(&self) -> String {
        let mut terms: Vec<(bool, String, usize)> = Vec::new();
        match &self.exact {
            Some(e) => {
                for (k, r) in e.iter().enumerate() {
                    if !r.is_zero() {
                        let neg = *r < BigRational::zero();
                        terms.push((
                            neg,
                            (if neg { -r.clone() } else { r.clone() }).to_string(),
                            k,
                        ));
                    }
                }
            }
            None => {
                for (k, &c) in self.coefficients.iter().enumerate() {
                    if c != 0.0 {
                        terms.push((c < 0.0, decimal(c.abs()), k));
                    }
                }
            }
        }
        let mut s = String::new();
        for (i, (neg, mag, k)) in terms.iter().enumerate() {
            s.push_str(match (i, neg) {
                (0, false) => "",
                (0, true) => "-",
                (_, false) => " + ",
                (_, true) => " - ",
            });
            let power = match k {
                0 => String::new(),
                1 => "q".to_string(),
                _ => format!("q^{k}"),
            };
            match (k, mag.as_str()) {
                (0, _) => s.push_str(mag),
                (_, "1") => s.push_str(&power),
                _ => s.push_str(&format!("{mag} {power}")),
            }
        }
        if s.is_empty() {
            s.push('0');
        }
        let n = self.order() + 1;
        if n == 1 {
            s.push_str(" + O(q)");
        } else {
            s.push_str(&format!(" + O(q^{n})"));
        }
        match self.pi_power {
            0 => s,
            1 => format!("π ({s})"),
            -1 => format!("({s})/π"),
            p if p > 1 => format!("π^{p} ({s})"),
            p => format!("({s})/π^{}", -p),
        }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formula())
    }
}

/// `x > 0` to 10 significant digits, plain between 1e-4 and 1e6, scientific outside.
fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let e = x.log10().floor();
    if (-4.0..6.0).contains(&e) {
        let digits = (9.0 - e).max(0.0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.9e}");
        let (m, ex) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{ex}")
    }
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
            let fl = raw::<f64>(Some(&phi), &deriv_t(&phi), order)?;
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
            let d = deriv_t(&e.coefficients);
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
    check_order(order)?;
    if phi.len() < 2 * order + 2 {
        return Err(Error::invalid(
            "order",
            order as f64,
            "at most (number of Taylor coefficients − 2)/2: order k needs φ to degree 2k + 1",
        ));
    }
    let phi = &phi[..2 * order + 2];
    if let Some(&x) = phi.iter().find(|x| !x.is_finite()) {
        return Err(Error::invalid("phi", x, "finite Taylor coefficients"));
    }
    let r = raw::<f64>(Some(phi), &deriv_t(phi), order)?;
    Ok(SmallVariance::from_raw_f64(name, order, r))
}

/// The small-variance expansions (SV.2–SV.6) of an activation written generically over
/// [`Float`], by Taylor-mode automatic differentiation with [`Jet`]`<N>` (needs
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

    #[test]
    fn decimal_formatting() {
        assert_eq!(decimal(0.4804530139182014), "0.4804530139");
        assert_eq!(decimal(2.0), "2");
        assert_eq!(decimal(123456.0), "123456");
        assert_eq!(decimal(1.5e-7), "1.5e-7");
        assert_eq!(decimal(3.25e9), "3.25e9");
    }

    #[test]
    fn formula_layout() {
        let s = Series::from_exact(vec![rat(0, 1), rat(1, 1), rat(-17, 3)], -1);
        assert_eq!(s.formula(), "(q - 17/3 q^2 + O(q^3))/π");
        let z = Series::from_f64(vec![0.0]);
        assert_eq!(z.formula(), "0 + O(q)");
        let d = Series::from_f64(vec![-1.0, 0.0, 0.25]);
        assert_eq!(d.formula(), "-1 + 0.25 q^2 + O(q^3)");
    }
}
