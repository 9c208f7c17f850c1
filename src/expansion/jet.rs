//! [`Jet`]: truncated Taylor series with a [`num_traits::Float`] implementation, for
//! Taylor-mode automatic differentiation (theory/05-small-variance.md, (SV.7)), and [`taylor`],
//! the Taylor coefficients at 0 of an activation written generically over `Float`.
//!
//! The coefficient recurrences are those of [`power_series`](crate::power_series); this file
//! adds what is particular to jets: fixed length, the germ ordering, branches, cancellation in
//! quotients and f64's conventions for values.

use std::cmp::Ordering;
use std::num::FpCategory;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use num_traits::{Float, Num, NumCast, One, ToPrimitive, Zero};

use crate::error::{Error, Result};
use crate::power_series::{self as ps, NotInvertible, Trig};

/// Over f64 division is total (IEEE: a zero divisor gives infinite or NaN coefficients, which is
/// how a jet marks a non-analytic point), so the power-series operations never refuse.
fn total(r: std::result::Result<(), NotInvertible>) {
    debug_assert!(r.is_ok(), "f64 division is total");
}

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
        ps::deriv(&self.c, &mut d);
        Jet { c: d }
    }

    /// The series `b` with `b₀ = b0` and `b' = d`: `b_k = d_{k−1}/k`.
    fn integral(b0: f64, d: &Self) -> Self {
        let mut c = [0.0; N];
        ps::integral(&d.c, b0, &mut c);
        Jet { c }
    }

    /// `b = f(a)` for `f' = g`: `b₀ = f(a₀)` and `b = b₀ + ∫ a'·g(a)` (inverse functions).
    fn compose_integral(self, b0: f64, g_of_a: Self) -> Self {
        Self::integral(b0, &(self.derivative() * g_of_a))
    }

    /// `exp`-type recurrence for `b' = s·a'·b` with a given `b₀` (SV.7):
    /// `b_k = (s/k) Σ_{j=1}^{k} j a_j b_{k−j}`.
    fn exp_like(&self, b0: f64, s: f64) -> Self {
        let mut b = [0.0; N];
        ps::exp(&self.c, b0, &s, &mut b);
        Jet { c: b }
    }

    /// `a^r` for `a₀ ≠ 0` with a given `b₀ = a₀^r` (SV.7), from `a b' = r a' b`:
    /// `b_k = (1/(k a₀)) Σ_{j=1}^{k} ((r+1) j − k) a_j b_{k−j}`.
    fn pow_recurrence(&self, b0: f64, r: f64) -> Self {
        let mut b = [0.0; N];
        total(ps::pow(&self.c, &r, b0, &mut b));
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
        let a0 = self.c[0];
        if a0 > 0.0 {
            // The unscaled logarithm, then the tail scaled (the recurrence reads the unscaled b).
            let mut b = [0.0; N];
            total(ps::log(&self.c, value, &mut b));
            for x in &mut b[1..] {
                *x *= s;
            }
            Jet { c: b }
        } else if a0 == 0.0 && self.is_constant() {
            Self::constant(value)
        } else {
            Self::not_analytic(value)
        }
    }

    /// `(sin a, cos a)` or `(sinh a, cosh a)` with the values `s0`, `c0`.
    fn sin_cos_like(&self, s0: f64, c0: f64, kind: Trig) -> (Self, Self) {
        let (mut s, mut c) = ([0.0; N], [0.0; N]);
        ps::sin_cos(&self.c, s0, c0, kind, &mut s, &mut c);
        (Jet { c: s }, Jet { c })
    }

    /// `tan a` or `tanh a` with the value `t0`.
    fn tan_like(&self, t0: f64, kind: Trig) -> Self {
        let mut t = [0.0; N];
        ps::tan(&self.c, t0, kind, &mut t);
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
        ps::mul(&self.c, &o.c, &mut c);
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
        total(ps::div(&a, &b, &mut q));
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
        self.tan_like(self.c[0].tan(), Trig::Circular)
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
        self.sin_cos_like(s, c, Trig::Circular)
    }
    fn sinh(self) -> Self {
        self.sin_cos_like(self.c[0].sinh(), self.c[0].cosh(), Trig::Hyperbolic)
            .0
    }
    fn cosh(self) -> Self {
        self.sin_cos_like(self.c[0].sinh(), self.c[0].cosh(), Trig::Hyperbolic)
            .1
    }
    fn tanh(self) -> Self {
        self.tan_like(self.c[0].tanh(), Trig::Hyperbolic)
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
