//! Truncated power series: the one implementation of series arithmetic that the small-variance
//! expansions ([`expansion`](crate::expansion): exact rationals and the Taylor-mode
//! [`Jet`](crate::expansion::Jet)) and the S-transform moments
//! ([`spectrum::series`](crate::spectrum::series)) share.
//!
//! A series $a(x) = \sum_{k \ge 0} a_k x^k$ is given by a slice of its first coefficients, and
//! every operation writes the first `out.len()` coefficients of its result. These depend only
//! on as many leading coefficients of the inputs, so truncation commutes with the operations:
//! they are exact identities of formal power series, with no convergence condition.
//! Coefficients past the end of an input slice are zero (and are never multiplied, so an
//! infinite coefficient is not turned into a NaN by a missing zero).
//!
//! The operations are generic over the [`Coefficient`] field: `f64` (the jets and the spectra)
//! or [`BigRational`] (the exact Taylor coefficients of the built-in activations), so the
//! rational and floating-point paths run the same recurrences. Functions of a series whose
//! constant term is transcendental (`exp`, `log`, powers, `sin`/`cos`, `tan`/`tanh`) take that
//! constant term as an argument: over the rationals the caller supplies it exactly, and over
//! `f64` from the correctly rounded library function ([`exp_f64`], [`log_f64`]).
//!
//! # Recurrences
//!
//! With $b = F(a)$ for a function satisfying a linear differential equation, comparing the
//! coefficients of $x^{k-1}$ in that equation gives $b_k$ from $b_0 \dots b_{k-1}$
//! (theory/05-small-variance.md, (SV.3) and (SV.7); Griewank & Walther, *Evaluating
//! Derivatives*, ch. 13):
//!
//! - product (Cauchy), $c = ab$: $c_k = \sum_{j=0}^{k} a_j b_{k-j}$ ([`mul`]);
//! - quotient, from $\sum_j b_j q_{k-j} = a_k$:
//!   $q_k = \big(a_k - \sum_{j=1}^{k} b_j q_{k-j}\big)/b_0$ ([`div`]); the reciprocal (SV.3)
//!   $r_0 = 1/a_0$, $r_k = -\big(\sum_{j=1}^{k} a_j r_{k-j}\big)/a_0$ ([`recip`]);
//! - exponential, $b^\prime = s a^\prime b$:
//!   $b_k = \frac{s}{k}\sum_{j=1}^{k} j a_j b_{k-j}$ ([`exp`]);
//! - logarithm, $a b^\prime = a^\prime$:
//!   $b_k = \big(a_k - \frac{1}{k}\sum_{j=1}^{k-1} j b_j a_{k-j}\big)/a_0$ ([`log`]);
//! - power, $a b^\prime = r a^\prime b$:
//!   $b_k = \frac{1}{k a_0}\sum_{j=1}^{k}\big((r+1)j - k\big) a_j b_{k-j}$ ([`pow`]);
//! - sine and cosine jointly, $s^\prime = a^\prime c$, $c^\prime = \mp a^\prime s$ (upper sign
//!   circular, lower hyperbolic): $s_k = \frac1k\sum_{j=1}^{k} j a_j c_{k-j}$,
//!   $c_k = \mp\frac1k\sum_{j=1}^{k} j a_j s_{k-j}$ ([`sin_cos`]);
//! - tangent, $t^\prime = (1 \pm t^2) a^\prime$ (upper sign circular): with $w = 1 \pm t^2$,
//!   $t_k = \frac1k\sum_{j=1}^{k} j a_j w_{k-j}$, where $w_{k-1}$ needs $t_0 \dots t_{k-1}$
//!   only ([`tan`]);
//! - derivative $d = a^\prime$, $d_k = (k+1) a_{k+1}$, and integral $b$ of $d$,
//!   $b_k = d_{k-1}/k$ ([`deriv`], [`integral`]);
//! - compositional inverse by Lagrange inversion: for $f(y) = y h(y)$ with $h_0 = f_1 \ne 0$,
//!   $$ [x^k] f^{-1}(x) = \frac1k [y^{k-1}] h(y)^{-k} $$
//!   (theory/04-spectra.md, (S.8)) ([`revert`]).
//!
//! # Rounding
//!
//! Over `f64` every sum runs left to right in increasing `j`, as written above
//! ([`Coefficient::sum_of`]), and the divisions come last, so the rounding is that of the
//! formulas as written; over [`BigRational`] everything is exact.
//!
//! Checked by the unit tests of this module: round trips (`exp_log_round_trip`,
//! `recip_times_a_is_one`, `revert_inverts`), known series (`known_series`: tan, tanh, atanh,
//! arcsin, Catalan and Fuss–Catalan numbers, Lambert W), and the rational path against the
//! floating-point one (`rational_and_f64_paths_agree`).
//!
//! ```
//! use mfrnn::power_series::{exp_f64, log_f64, mul};
//! // exp(log(1 + x)) = 1 + x, and (1 + x)(1 − x) = 1 − x².
//! let one_plus_x = [1.0, 1.0, 0.0, 0.0];
//! let e = exp_f64(&log_f64(&one_plus_x));
//! assert!(e.iter().zip(one_plus_x).all(|(a, b)| (a - b).abs() < 1e-15));
//! let mut p = [0.0; 3];
//! mul(&[1.0, 1.0], &[1.0, -1.0], &mut p);
//! assert_eq!(p, [1.0, 0.0, -1.0]);
//! ```

// The recurrences read earlier coefficients of the series they write (`out[k − j]`): indices
// keep them readable against the formulas above.
#![allow(clippy::needless_range_loop)]

use std::fmt;
use std::ops::Neg;

use num_rational::BigRational;
use num_traits::{Num, Zero};

/// A coefficient field for power series: `f64` or [`BigRational`].
pub trait Coefficient: Clone + Num + Neg<Output = Self> {
    /// The integer `k`: exact for every `k` that indexes a series (below 2⁵³ for `f64`).
    fn from_index(k: usize) -> Self;

    /// Whether division by `self` is defined: every `f64` (IEEE division is total, a zero
    /// divisor gives infinite or NaN coefficients), every non-zero rational.
    fn is_invertible(&self) -> bool;

    /// The sum of `terms` from left to right. For `f64` this is [`Iterator::sum`], whose
    /// start value `−0.0` leaves the first term unchanged, so a non-empty sum is exactly
    /// `((t₀ + t₁) + t₂) + …`.
    fn sum_of<I: Iterator<Item = Self>>(terms: I) -> Self;
}

impl Coefficient for f64 {
    fn from_index(k: usize) -> Self {
        k as f64
    }
    fn is_invertible(&self) -> bool {
        true
    }
    fn sum_of<I: Iterator<Item = Self>>(terms: I) -> Self {
        terms.sum()
    }
}

impl Coefficient for BigRational {
    fn from_index(k: usize) -> Self {
        BigRational::from_integer(k.into())
    }
    fn is_invertible(&self) -> bool {
        !self.is_zero()
    }
    fn sum_of<I: Iterator<Item = Self>>(terms: I) -> Self {
        terms.fold(BigRational::zero(), |s, t| s + t)
    }
}

/// A series whose leading coefficient is zero has no reciprocal, logarithm, non-integer power
/// or compositional inverse as a power series (returned only for exact coefficient types;
/// over `f64` the division by zero gives infinite or NaN coefficients instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotInvertible;

impl fmt::Display for NotInvertible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the leading coefficient of the series is zero, so it cannot be divided by")
    }
}

impl std::error::Error for NotInvertible {}

/// Circular (`sin`, `cos`, `tan`) or hyperbolic (`sinh`, `cosh`, `tanh`) functions, for
/// [`sin_cos`] and [`tan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trig {
    /// `sin`, `cos`, `tan`: `c' = −a's`, `t' = (1 + t²)a'`.
    Circular,
    /// `sinh`, `cosh`, `tanh`: `c' = a's`, `t' = (1 − t²)a'`.
    Hyperbolic,
}

/// The leading coefficient, zero for an empty slice, if it can be divided by.
fn leading<T: Coefficient>(a: &[T]) -> Result<T, NotInvertible> {
    let a0 = a.first().cloned().unwrap_or_else(T::zero);
    if a0.is_invertible() {
        Ok(a0)
    } else {
        Err(NotInvertible)
    }
}

/// Coefficient `k` of `a`, zero past its end.
fn at<T: Coefficient>(a: &[T], k: usize) -> T {
    a.get(k).cloned().unwrap_or_else(T::zero)
}

/// The coefficient of `x^k` in the product `a·b`: $\sum_j a_j b_{k-j}$ over the `j` where
/// both coefficients are given, in increasing `j`.
pub fn product_coefficient<T: Coefficient>(a: &[T], b: &[T], k: usize) -> T {
    let lo = (k + 1).saturating_sub(b.len());
    T::sum_of((lo..a.len().min(k + 1)).map(|j| a[j].clone() * b[k - j].clone()))
}

/// The truncated product `out = a·b` (Cauchy product, (SV.7)).
/// Checked by `recip_times_a_is_one` and `known_series` (Catalan numbers).
pub fn mul<T: Coefficient>(a: &[T], b: &[T], out: &mut [T]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = product_coefficient(a, b, k);
    }
}

/// The quotient `out = a/b`:
/// $q_k = \big(a_k - \sum_{j=1}^{k} b_j q_{k-j}\big)/b_0$ ((SV.3) with a numerator).
/// Checked by `recip_times_a_is_one`.
///
/// # Errors
/// [`NotInvertible`] if `b₀ = 0` over the rationals (`out` is then left unchanged).
pub fn div<T: Coefficient>(a: &[T], b: &[T], out: &mut [T]) -> Result<(), NotInvertible> {
    let b0 = leading(b)?;
    for k in 0..out.len() {
        let acc = T::sum_of((1..b.len().min(k + 1)).map(|j| b[j].clone() * out[k - j].clone()));
        out[k] = (at(a, k) - acc) / b0.clone();
    }
    Ok(())
}

/// The reciprocal `out = 1/a` (SV.3): $r_0 = 1/a_0$,
/// $r_k = -\big(\sum_{j=1}^{k} a_j r_{k-j}\big)/a_0$. Checked by `recip_times_a_is_one`.
///
/// # Errors
/// [`NotInvertible`] if `a₀ = 0` over the rationals (`out` is then left unchanged).
pub fn recip<T: Coefficient>(a: &[T], out: &mut [T]) -> Result<(), NotInvertible> {
    let a0 = leading(a)?;
    for k in 0..out.len() {
        out[k] = if k == 0 {
            T::one() / a0.clone()
        } else {
            let acc = T::sum_of((1..a.len().min(k + 1)).map(|j| a[j].clone() * out[k - j].clone()));
            -(acc / a0.clone())
        };
    }
    Ok(())
}

/// The derivative `out = a'`: $(a')_k = (k+1) a_{k+1}$ (zero where `a` has no coefficient
/// `k + 1`). Checked by `known_series`, where it undoes [`integral`].
pub fn deriv<T: Coefficient>(a: &[T], out: &mut [T]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = a
            .get(k + 1)
            .map_or_else(T::zero, |x| T::from_index(k + 1) * x.clone());
    }
}

/// The antiderivative `out` of `d` with `out₀ = b0`: $b_k = d_{k-1}/k$.
/// Checked by `known_series` (atanh and arcsin as integrals).
pub fn integral<T: Coefficient>(d: &[T], b0: T, out: &mut [T]) {
    for k in 0..out.len() {
        out[k] = if k == 0 {
            b0.clone()
        } else {
            at(d, k - 1) / T::from_index(k)
        };
    }
}

/// The series `b` with `b' = s·a'·b` and `b₀ = b0`, that is $b = b_0 e^{s(a - a_0)}$ (SV.7):
/// $b_k = \frac{s}{k}\sum_{j=1}^{k} j a_j b_{k-j}$. With `s = 1` and `b0 = exp(a₀)` this is
/// `exp a`; `s = ln 2` and `b0 = 2^{a₀}` give `2^a`. Checked by `exp_log_round_trip`.
pub fn exp<T: Coefficient>(a: &[T], b0: T, s: &T, out: &mut [T]) {
    for k in 0..out.len() {
        out[k] = if k == 0 {
            b0.clone()
        } else {
            let acc = T::sum_of(
                (1..a.len().min(k + 1))
                    .map(|j| T::from_index(j) * a[j].clone() * out[k - j].clone()),
            );
            s.clone() * acc / T::from_index(k)
        };
    }
}

/// The logarithm `out = log a` with `out₀ = b0` (`ln a₀`, which the caller supplies), from
/// `a b' = a'` (SV.7): $b_k = \big(a_k - \frac1k\sum_{j=1}^{k-1} j b_j a_{k-j}\big)/a_0$.
/// Checked by `exp_log_round_trip`.
///
/// # Errors
/// [`NotInvertible`] if `a₀ = 0` over the rationals (`out` is then left unchanged).
pub fn log<T: Coefficient>(a: &[T], b0: T, out: &mut [T]) -> Result<(), NotInvertible> {
    let a0 = leading(a)?;
    for k in 0..out.len() {
        out[k] = if k == 0 {
            b0.clone()
        } else {
            let lo = (k + 1).saturating_sub(a.len()).max(1);
            let acc =
                T::sum_of((lo..k).map(|j| T::from_index(j) * out[j].clone() * a[k - j].clone()));
            (at(a, k) - acc / T::from_index(k)) / a0.clone()
        };
    }
    Ok(())
}

/// The power `out = a^r` with `out₀ = b0` (`a₀^r`, which the caller supplies), from
/// `a b' = r a' b` (SV.7):
/// $b_k = \frac{1}{k a_0}\sum_{j=1}^{k}\big((r+1)j - k\big) a_j b_{k-j}$.
/// Checked by `known_series` (arcsin through `(1 − x²)^{−1/2}`) and
/// `rational_and_f64_paths_agree`.
///
/// # Errors
/// [`NotInvertible`] if `a₀ = 0` over the rationals (`out` is then left unchanged).
pub fn pow<T: Coefficient>(a: &[T], r: &T, b0: T, out: &mut [T]) -> Result<(), NotInvertible> {
    let a0 = leading(a)?;
    let r1 = r.clone() + T::one();
    for k in 0..out.len() {
        out[k] = if k == 0 {
            b0.clone()
        } else {
            let acc = T::sum_of((1..a.len().min(k + 1)).map(|j| {
                (r1.clone() * T::from_index(j) - T::from_index(k))
                    * a[j].clone()
                    * out[k - j].clone()
            }));
            acc / (T::from_index(k) * a0.clone())
        };
    }
    Ok(())
}

/// `sin a` and `cos a` (or `sinh a` and `cosh a`) jointly, with constant terms `s0`, `c0`
/// (SV.7): $s_k = \frac1k\sum_{j=1}^{k} j a_j c_{k-j}$,
/// $c_k = \mp\frac1k\sum_{j=1}^{k} j a_j s_{k-j}$ (upper sign circular). Writes
/// `min(sin.len(), cos.len())` coefficients of each. Checked by `known_series`.
pub fn sin_cos<T: Coefficient>(a: &[T], s0: T, c0: T, kind: Trig, sin: &mut [T], cos: &mut [T]) {
    let sign = match kind {
        Trig::Circular => -T::one(),
        Trig::Hyperbolic => T::one(),
    };
    for k in 0..sin.len().min(cos.len()) {
        if k == 0 {
            sin[0] = s0.clone();
            cos[0] = c0.clone();
            continue;
        }
        let (mut ss, mut cc) = (T::zero(), T::zero());
        for j in 1..a.len().min(k + 1) {
            ss = ss + T::from_index(j) * a[j].clone() * cos[k - j].clone();
            cc = cc + T::from_index(j) * a[j].clone() * sin[k - j].clone();
        }
        sin[k] = ss / T::from_index(k);
        cos[k] = sign.clone() * cc / T::from_index(k);
    }
}

/// `tan a` (or `tanh a`) with constant term `t0`, from `t' = (1 ± t²)a'` (upper sign
/// circular, (SV.7)): with $w = 1 \pm t^2$, $t_k = \frac1k\sum_{j=1}^{k} j a_j w_{k-j}$.
/// Over the rationals with `a = x` this is the exact recurrence of tanh's coefficients (SV.8).
/// Checked by `known_series` (tan, tanh).
pub fn tan<T: Coefficient>(a: &[T], t0: T, kind: Trig, out: &mut [T]) {
    let sign = match kind {
        Trig::Circular => T::one(),
        Trig::Hyperbolic => -T::one(),
    };
    let mut w = vec![T::zero(); out.len()];
    for k in 0..out.len() {
        if k == 0 {
            out[0] = t0.clone();
            continue;
        }
        // w_{k−1} = [k = 1] ± (t²)_{k−1} needs t up to k − 1 only.
        let m = k - 1;
        let sq = product_coefficient(&out[..k], &out[..k], m);
        let unit = if m == 0 { T::one() } else { T::zero() };
        w[m] = unit + sign.clone() * sq;
        let acc = T::sum_of(
            (1..a.len().min(k + 1)).map(|j| T::from_index(j) * a[j].clone() * w[k - j].clone()),
        );
        out[k] = acc / T::from_index(k);
    }
}

/// The compositional inverse `g` of `f` (`f(g(x)) = x`) to degree `out.len() − 1`, by
/// Lagrange inversion: for `f(y) = y h(y)`, $[x^k] f^{-1} = \frac1k [y^{k-1}] h^{-k}$
/// ((S.8)). The constant term `f₀` is not read (the inverse is that of `f − f₀`), and
/// `out₀ = 0`. Cost `O(n³)` for `n` coefficients. Checked by `revert_inverts` and
/// `known_series` (Catalan, Fuss–Catalan, Lambert W).
///
/// # Errors
/// [`NotInvertible`] if `f₁ = 0` over the rationals (`out` is then left unchanged).
pub fn revert<T: Coefficient>(f: &[T], out: &mut [T]) -> Result<(), NotInvertible> {
    let h = f.get(1..).unwrap_or(&[]);
    let n = out.len().saturating_sub(1);
    let mut q = vec![T::zero(); n];
    recip(h, &mut q)?;
    let mut p = q.clone();
    let mut next = vec![T::zero(); n];
    for k in 0..out.len() {
        out[k] = if k == 0 {
            T::zero()
        } else {
            if k > 1 {
                mul(&p, &q, &mut next);
                std::mem::swap(&mut p, &mut next);
            }
            p[k - 1].clone() / T::from_index(k)
        };
    }
    Ok(())
}

/// `a·b` in floating point, with as many coefficients as `a`.
pub fn mul_f64(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    mul(a, b, &mut out);
    out
}

/// `1/a` in floating point (infinite or NaN coefficients for `a₀ = 0`).
pub fn recip_f64(a: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    // f64 division is total (`is_invertible` is always true): there is no error to handle.
    let _ = recip(a, &mut out);
    out
}

/// `exp a` in floating point, with the constant term `e^{a₀}`.
pub fn exp_f64(a: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    exp(a, a.first().map_or(1.0, |a0| a0.exp()), &1.0, &mut out);
    out
}

/// `log a` in floating point, with the constant term `ln a₀` (real for `a₀ > 0`).
pub fn log_f64(a: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    let _ = log(
        a,
        a.first().map_or(f64::NEG_INFINITY, |a0| a0.ln()),
        &mut out,
    );
    out
}

/// The compositional inverse of `f` (`f₀` not read, `f₁ ≠ 0`) to degree `n`, in floating point.
pub fn revert_f64(f: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n + 1];
    let _ = revert(f, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0))
    }

    fn rat(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    fn rats(v: &[(i64, i64)]) -> Vec<BigRational> {
        v.iter().map(|&(n, d)| rat(n, d)).collect()
    }

    fn to_f64(v: &[BigRational]) -> Vec<f64> {
        use num_traits::ToPrimitive;
        v.iter().map(|r| r.to_f64().unwrap_or(f64::NAN)).collect()
    }

    /// `exp` and `log` are mutually inverse, and `(1+x)^{1/2}` squared is `1+x`
    /// (moved from `spectrum::series`, tolerances unchanged).
    #[test]
    fn log_exp_roundtrip() {
        let a = [0.7, -0.3, 1.2, 0.05, -2.0, 0.4, 0.9];
        assert!(close(&exp_f64(&log_f64(&a)), &a, 1e-13));
        let b = [0.1, 0.5, -0.25, 2.0, 0.0, -1.0];
        assert!(close(&log_f64(&exp_f64(&b)), &b, 1e-13));
        let half: Vec<f64> = log_f64(&[1.0, 1.0, 0.0, 0.0, 0.0])
            .iter()
            .map(|x| 0.5 * x)
            .collect();
        let r = exp_f64(&half);
        assert!(close(&mul_f64(&r, &r), &[1.0, 1.0, 0.0, 0.0, 0.0], 1e-15));
    }

    /// `1/(1 − x) = Σ x^k` and `a · (1/a) = 1` (moved from `spectrum::series`).
    #[test]
    fn reciprocal() {
        assert!(close(&recip_f64(&[1.0, -1.0, 0.0, 0.0]), &[1.0; 4], 0.0));
        let a = [2.0, 0.3, -1.0, 4.0, 0.5];
        assert!(close(
            &mul_f64(&a, &recip_f64(&a)),
            &[1.0, 0.0, 0.0, 0.0, 0.0],
            1e-14
        ));
    }

    /// `x/(1−x)` and `x/(1+x)` are inverse; `x e^x` inverts to Lambert W,
    /// `W(x) = Σ (−k)^{k−1} x^k / k!` (moved from `spectrum::series`).
    #[test]
    fn reversion() {
        let f = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        assert!(close(
            &revert_f64(&f, 5),
            &[0.0, 1.0, -1.0, 1.0, -1.0, 1.0],
            1e-15
        ));
        let xex = [0.0, 1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0];
        let w = [0.0, 1.0, -1.0, 1.5, -8.0 / 3.0, 125.0 / 24.0, -54.0 / 5.0];
        assert!(close(&revert_f64(&xex, 6), &w, 1e-14));
        // Round trip on a generic series with f_1 ≠ 1.
        let g = [0.0, 2.0, -0.5, 0.3, 1.1];
        let inv = revert_f64(&g, 4);
        assert!(close(&revert_f64(&inv, 4), &g, 1e-13));
    }

    /// `exp(log a) = a` and `log(exp b) = b`, exactly over the rationals (where the constant
    /// terms are supplied: `log` of a series with `a₀ = 1` has `b₀ = 0`, and `exp` of one with
    /// `b₀ = 0` has constant term 1), and to rounding in f64; `exp` with rate `s` is
    /// `exp(s·a)`.
    #[test]
    fn exp_log_round_trip() {
        let a = rats(&[(1, 1), (-3, 7), (2, 5), (0, 1), (-9, 4), (1, 3), (5, 2)]);
        let n = a.len();
        let one = BigRational::from_index(1);
        let mut l = vec![BigRational::zero(); n];
        log(&a, BigRational::zero(), &mut l).unwrap();
        let mut e = vec![BigRational::zero(); n];
        exp(&l, one.clone(), &one, &mut e);
        assert_eq!(e, a);
        let mut back = vec![BigRational::zero(); n];
        log(&e, BigRational::zero(), &mut back).unwrap();
        assert_eq!(back, l);
        // f64, with a₀ ≠ 1.
        let af = [2.5, 0.3, -1.1, 0.0, 0.7, -0.2, 0.05, 1.5];
        assert!(close(&exp_f64(&log_f64(&af)), &af, 1e-14));
        // The rate: exp with s = 3 is exp(3a).
        let b = [0.2, -0.4, 0.1, 0.9, 0.0, -0.3];
        let scaled: Vec<f64> = b.iter().map(|x| 3.0 * x).collect();
        let mut e3 = [0.0; 6];
        exp(&b, (3.0 * b[0]).exp(), &3.0, &mut e3);
        assert!(close(&e3, &exp_f64(&scaled), 1e-14));
        // A log of a series with zero constant term has no series.
        let z = [BigRational::zero(), one];
        assert_eq!(
            log(&z, BigRational::zero(), &mut [BigRational::zero()]),
            Err(NotInvertible)
        );
    }

    /// `a·(1/a) = 1` and `(a·b)/b = a` exactly over the rationals; a zero leading
    /// coefficient is refused there and gives IEEE infinities in f64.
    #[test]
    fn recip_times_a_is_one() {
        let a = rats(&[(3, 2), (1, 5), (-7, 3), (0, 1), (4, 9), (-1, 8)]);
        let n = a.len();
        let mut r = vec![BigRational::zero(); n];
        recip(&a, &mut r).unwrap();
        let mut p = vec![BigRational::zero(); n];
        mul(&a, &r, &mut p);
        let mut unit = vec![BigRational::zero(); n];
        unit[0] = BigRational::from_index(1);
        assert_eq!(p, unit);
        // The quotient: (a·b)/b = a, and 1/a by `div` equals `recip`.
        let b = rats(&[(-2, 1), (1, 1), (1, 7)]);
        let mut ab = vec![BigRational::zero(); n];
        mul(&a, &b, &mut ab);
        let mut q = vec![BigRational::zero(); n];
        div(&ab, &b, &mut q).unwrap();
        assert_eq!(q, a);
        div(&unit, &a, &mut q).unwrap();
        assert_eq!(q, r);
        // Refusals over the rationals, IEEE infinities in f64.
        let z = [BigRational::zero(), BigRational::from_index(1)];
        let mut out = vec![BigRational::from_index(7); 2];
        assert_eq!(recip(&z, &mut out), Err(NotInvertible));
        assert_eq!(div(&a, &z, &mut out), Err(NotInvertible));
        assert_eq!(recip::<BigRational>(&[], &mut out), Err(NotInvertible));
        assert_eq!(out, vec![BigRational::from_index(7); 2], "left unchanged");
        assert_eq!(recip_f64(&[0.0, 1.0])[0], f64::INFINITY);
        // f64 against the rational path.
        let af = to_f64(&a);
        assert!(close(&recip_f64(&af), &to_f64(&r), 1e-15));
        assert!(close(&mul_f64(&af, &recip_f64(&af)), &to_f64(&unit), 1e-15));
    }

    /// `revert(revert(f)) = f` and `f(revert(f)(x)) = x` exactly over the rationals.
    #[test]
    fn revert_inverts() {
        let f: Vec<BigRational> =
            rats(&[(0, 1), (2, 3), (-1, 2), (5, 7), (1, 1), (-3, 11), (2, 9)]);
        let n = f.len();
        let mut g = vec![BigRational::zero(); n];
        revert(&f, &mut g).unwrap();
        let mut back = vec![BigRational::zero(); n];
        revert(&g, &mut back).unwrap();
        assert_eq!(back, f);
        // f(g(x)) = Σ_k f_k g(x)^k = x, truncated.
        let mut comp = vec![BigRational::zero(); n];
        let mut power = vec![BigRational::zero(); n];
        power[0] = BigRational::from_index(1);
        for fk in &f {
            for (c, p) in comp.iter_mut().zip(&power) {
                *c = c.clone() + fk.clone() * p.clone();
            }
            let mut next = vec![BigRational::zero(); n];
            mul(&power, &g, &mut next);
            power = next;
        }
        let mut x = vec![BigRational::zero(); n];
        x[1] = BigRational::from_index(1);
        assert_eq!(comp, x);
        // f₁ = 0 has no inverse.
        let flat = [
            BigRational::zero(),
            BigRational::zero(),
            BigRational::from_index(1),
        ];
        assert_eq!(revert(&flat, &mut g), Err(NotInvertible));
    }

    /// Closed-form series: tan and tanh (from the tangent recurrence, against the rational
    /// `sin/cos`), atanh and arcsin (as integrals of `1/(1 − x²)` and `(1 − x²)^{−1/2}`),
    /// the Catalan numbers (`C(x) = 1 + x C²` reverts `x − x²`), the Fuss–Catalan numbers
    /// `binom(3k, k)/(2k + 1)` (reverting `x(1 − x)²`), and Lambert W.
    #[test]
    fn known_series() {
        const N: usize = 16;
        let mut x = vec![BigRational::zero(); N];
        x[1] = BigRational::from_index(1);
        let zero = BigRational::zero;
        let one = || BigRational::from_index(1);
        // tan = sin/cos and tanh = sinh/cosh over the rationals, and their known coefficients.
        for (kind, tan_known) in [
            (
                Trig::Circular,
                [(1, 1), (1, 3), (2, 15), (17, 315), (62, 2835)],
            ),
            (
                Trig::Hyperbolic,
                [(1, 1), (-1, 3), (2, 15), (-17, 315), (62, 2835)],
            ),
        ] {
            let (mut s, mut c) = (vec![zero(); N], vec![zero(); N]);
            sin_cos(&x, zero(), one(), kind, &mut s, &mut c);
            let mut quotient = vec![zero(); N];
            div(&s, &c, &mut quotient).unwrap();
            let mut t = vec![zero(); N];
            tan(&x, zero(), kind, &mut t);
            assert_eq!(t, quotient, "{kind:?}");
            for (i, &(n, d)) in tan_known.iter().enumerate() {
                assert_eq!(t[2 * i + 1], rat(n, d), "{kind:?} x^{}", 2 * i + 1);
                assert_eq!(t[2 * i], zero());
            }
            // sin and cos themselves: ±1/k!.
            let mut fact = one();
            for k in 0..N {
                if k > 0 {
                    fact *= BigRational::from_index(k);
                }
                let sign = if kind == Trig::Circular && (k / 2) % 2 == 1 {
                    -1
                } else {
                    1
                };
                let want = BigRational::from_integer(sign.into()) / fact.clone();
                let (sk, ck) = if k % 2 == 1 {
                    (want, zero())
                } else {
                    (zero(), want)
                };
                assert_eq!((s[k].clone(), c[k].clone()), (sk, ck), "{kind:?} {k}");
            }
        }
        // atanh x = ∫ 1/(1 − x²) = Σ x^{2i+1}/(2i+1); arcsin x = ∫ (1 − x²)^{−1/2},
        // [x^{2i+1}] = binom(2i, i)/(4^i (2i+1)).
        let mut one_minus_x2 = vec![zero(); N];
        one_minus_x2[0] = one();
        one_minus_x2[2] = -one();
        let mut g = vec![zero(); N];
        recip(&one_minus_x2, &mut g).unwrap();
        let mut atanh = vec![zero(); N];
        integral(&g, zero(), &mut atanh);
        let mut half = vec![zero(); N];
        pow(&one_minus_x2, &rat(-1, 2), one(), &mut half).unwrap();
        let mut asin = vec![zero(); N];
        integral(&half, zero(), &mut asin);
        let mut central = one(); // binom(2i, i)/4^i
        for i in 0..N / 2 {
            let odd = BigRational::from_index(2 * i + 1);
            assert_eq!(atanh[2 * i + 1], one() / odd.clone(), "atanh");
            assert_eq!(asin[2 * i + 1], central.clone() / odd, "arcsin");
            assert_eq!(atanh[2 * i], zero());
            central *= rat((2 * i + 1) as i64, (2 * i + 2) as i64);
        }
        // deriv undoes integral.
        let mut d = vec![zero(); N - 1];
        deriv(&asin, &mut d);
        assert_eq!(d, half[..N - 1]);
        // Catalan: the inverse of x − x² is (1 − √(1 − 4x))/2 = Σ_{k≥1} C_{k−1} x^k.
        // Fuss–Catalan: B = 1 + x B³ makes u = B − 1 the inverse of u (1 + u)^{−3}, so
        // [x^k] of that inverse is binom(3k, k)/(2k + 1) (1, 3, 12, 55, …).
        let binom = |n: usize, k: usize| -> BigRational {
            (0..k).fold(one(), |b, i| b * rat((n - i) as i64, (i + 1) as i64))
        };
        let mut catalan = vec![zero(); N];
        revert(&[zero(), one(), -one()], &mut catalan).unwrap();
        let mut cube = vec![zero(); N - 1];
        pow(&[one(), one()], &rat(-3, 1), one(), &mut cube).unwrap();
        let mut f = vec![zero()];
        f.extend(cube);
        let mut fuss = vec![zero(); N];
        revert(&f, &mut fuss).unwrap();
        for k in 1..N {
            let m = k - 1;
            assert_eq!(
                catalan[k],
                binom(2 * m, m) / BigRational::from_index(m + 1),
                "C_{m}"
            );
            assert_eq!(
                fuss[k],
                binom(3 * k, k) / BigRational::from_index(2 * k + 1),
                "FC_{k}"
            );
        }
        // Lambert W: the inverse of x e^x has [x^k] = (−k)^{k−1}/k!.
        let mut xex = vec![zero(); N];
        let mut fact = one();
        for k in 1..N {
            xex[k] = one() / fact.clone();
            fact *= BigRational::from_index(k);
        }
        let mut w = vec![zero(); N];
        revert(&xex, &mut w).unwrap();
        let mut fact = one();
        for k in 1..N {
            fact *= BigRational::from_index(k);
            let pow = num_traits::pow(BigRational::from_integer((-(k as i64)).into()), k - 1);
            assert_eq!(w[k], pow / fact.clone(), "W {k}");
        }
    }

    /// The same recurrences over f64 agree with the exact rational path to rounding, on
    /// generic inputs with non-trivial constant terms.
    #[test]
    fn rational_and_f64_paths_agree() {
        const N: usize = 12;
        let a: Vec<BigRational> = (0..N)
            .map(|k| rat(((k * 7 + 3) % 11) as i64 - 5, (k % 4 + 1) as i64))
            .collect();
        let mut a = a;
        a[0] = rat(3, 2);
        let af = to_f64(&a);
        let zero = || vec![BigRational::zero(); N];
        let check = |exact: &[BigRational], float: &[f64], what: &str| {
            let e = to_f64(exact);
            let scale = e.iter().fold(1.0f64, |m, x| m.max(x.abs()));
            for (k, (x, y)) in e.iter().zip(float).enumerate() {
                assert!((x - y).abs() <= 1e-13 * scale, "{what} {k}: {x} vs {y}");
            }
        };
        let mut r = zero();
        recip(&a, &mut r).unwrap();
        check(&r, &recip_f64(&af), "recip");
        let mut p = zero();
        mul(&a, &r[..5], &mut p);
        check(&p, &mul_f64(&af, &recip_f64(&af)[..5]), "mul");
        // Powers with rational exponent and an exact constant term: a^2 via pow, against a·a.
        let mut sq = zero();
        pow(&a, &rat(2, 1), rat(9, 4), &mut sq).unwrap();
        let mut aa = zero();
        mul(&a, &a, &mut aa);
        assert_eq!(sq, aa);
        let mut sqf = [0.0; N];
        pow(&af, &0.5, af[0].sqrt(), &mut sqf).unwrap();
        let root_sq = mul_f64(&sqf, &sqf);
        check(&a, &root_sq, "sqrt²");
        // log with the constant term removed (a/a₀ has log constant 0), exp back.
        let scaled: Vec<BigRational> = a.iter().map(|x| x.clone() / a[0].clone()).collect();
        let mut l = zero();
        log(&scaled, BigRational::zero(), &mut l).unwrap();
        let lf = log_f64(&to_f64(&scaled));
        check(&l, &lf, "log");
        let mut t = zero();
        tan(&l, BigRational::zero(), Trig::Hyperbolic, &mut t);
        let mut tf = [0.0; N];
        tan(&lf, 0.0, Trig::Hyperbolic, &mut tf);
        check(&t, &tf, "tanh");
        let mut g = zero();
        let mut f = a.clone();
        f[0] = BigRational::zero();
        revert(&f, &mut g).unwrap();
        let ff = to_f64(&f);
        check(&g, &revert_f64(&ff, N - 1), "revert");
    }

    #[test]
    fn f64_sum_is_left_to_right() {
        // −0.0 start: an empty sum is −0.0 and a one-term sum is the term itself.
        assert!(f64::sum_of(std::iter::empty()).is_sign_negative());
        assert!(f64::sum_of([-0.0].into_iter()).is_sign_negative());
        assert_eq!(
            f64::sum_of([1e16, 1.0, -1e16].into_iter()),
            (1e16 + 1.0) - 1e16
        );
    }
}
