//! Gaussian expectations of logistic monomials with *relative* accuracy, however small
//! (G.15): `E[(x − μ)^k σ(x)^a σ(−x)^b]`, `x ~ N(μ, q)`, returned as `e^M · I`.
//!
//! The minimalRNN's gate `u = σ(e)` saturates when `|μ_b|` is large: `1 − u` (or `u`) is then
//! of order `e^{−|μ_b|}`, far below the engine's absolute accuracy (~1e-16), and the maps'
//! fixed-point conditions and slopes are differences of such numbers against 1. Written
//! without cancellation (`theory/03-minimal-rnn.md`, (M.8)) they need `E[σ(−x)²]`,
//! `E[σ'(x)]`, `E[σ'(x)²]` and two Stein integrals to full relative precision.
//!
//! With `ℓ(x) = −a·softplus(−x) − b·softplus(x)` (so `σ(x)^a σ(−x)^b = e^{ℓ(x)}`, concave) the
//! integrand in `z = (x − μ)/√q` is `(√q z)^k e^{L(z)}/√(2π)` with `L(z) = ℓ(μ + √q z) − z²/2`
//! strictly concave (`L'' <= −1`). Its maximiser `z*` solves
//! `L'(z) = √q (a σ(−x) − b σ(x)) − z = 0` (a monotone equation, bisected), `M = L(z*)`, and
//! `e^{L − M} <= e^{−(z − z*)²/2}`, so the integral of the scaled integrand over
//! `|z − z*| <= 13` misses less than `e^{−84}` of it. Adaptive Gauss–Kronrod on that interval,
//! split at `z*` and at the transition `x = 0` with geometric layers, gives `I` to relative
//! accuracy ~1e-14 (the scaled integrand is 1 at its peak). Nothing underflows until `e^M`
//! itself does. The problem's own conditioning limits the result to a relative `~ε|μ|`
//! (`ln E` moves by about 1 per unit of `μ`): 1e-12 at `|μ| = 3e4`. Checked against mpmath in
//! `logistic_moments_match_the_mpmath_references` (`tests/numerics.rs`; generator
//! `tests/reference/logistic.py`, 350 cases down to `e^{−60000}`) and against the engine at
//! moderate `μ` (unit tests below).

use crate::error::{Error, Result};
use crate::gauss::quadrature::adaptive_with_floor;
use crate::gauss::special::INV_SQRT_2PI;

/// A positive-or-signed quantity stored as `e^{ln_scale} · value` (so that neither part
/// underflows when the quantity does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaled {
    /// `M`.
    pub ln_scale: f64,
    /// `I`.
    pub value: f64,
    /// Absolute error estimate of `I` (on the same scale).
    pub error: f64,
}

impl Scaled {
    /// The quantity as a double (0 when `e^M` underflows).
    pub fn to_f64(&self) -> f64 {
        if self.value == 0.0 {
            0.0
        } else {
            self.value * self.ln_scale.exp()
        }
    }

    /// `ln` of the quantity (for a positive one; `−∞` for zero).
    pub fn ln(&self) -> f64 {
        if self.value <= 0.0 {
            f64::NEG_INFINITY
        } else {
            self.ln_scale + self.value.ln()
        }
    }
}

/// `ln(1 + e^y)` without overflow or loss for large `|y|`.
#[inline]
fn softplus(y: f64) -> f64 {
    y.max(0.0) + (-y.abs()).exp().ln_1p()
}

/// `ln(e^x + e^y)`.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    let m = x.max(y);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((x - m).exp() + (y - m).exp()).ln()
}

/// `E[(x − μ)^k σ(x)^a σ(−x)^b]` for `x ~ N(mean, var)` as `e^M · I` (G.15), with `I`
/// accurate to a relative 1e-13 of `∫ |integrand|`, plus `~ε|μ|` from the conditioning (see the
/// module docs).
///
/// # Errors
/// [`Error::InvalidParameter`] for a non-finite mean or a negative or non-finite variance;
/// [`Error::Integration`] if the quadrature does not converge (not expected).
pub fn logistic_moment(mean: f64, var: f64, a: u32, b: u32, k: u32) -> Result<Scaled> {
    if !mean.is_finite() {
        return Err(Error::invalid("mean", mean, "a finite number"));
    }
    if !(var.is_finite() && var >= 0.0) {
        return Err(Error::invalid("q", var, "a finite number >= 0"));
    }
    let (af, bf) = (f64::from(a), f64::from(b));
    let ell = |x: f64| -> f64 {
        let mut v = 0.0;
        if a > 0 {
            v -= af * softplus(-x);
        }
        if b > 0 {
            v -= bf * softplus(x);
        }
        v
    };
    if var == 0.0 {
        return Ok(Scaled {
            ln_scale: ell(mean),
            value: if k == 0 { 1.0 } else { 0.0 },
            error: 0.0,
        });
    }
    let sd = var.sqrt();
    let big_l = |z: f64| ell(mean + sd * z) - 0.5 * z * z;
    // L'(z) = sd (a σ(−x) − b σ(x)) − z is decreasing; its root lies in [−b sd − 1, a sd + 1].
    let dl = |z: f64| {
        let x = mean + sd * z;
        let s = crate::activation::sigmoid(x);
        let t = crate::activation::sigmoid(-x);
        sd * (af * t - bf * s) - z
    };
    let (mut lo, mut hi) = (-bf * sd - 1.0, af * sd + 1.0);
    // Bisection to adjacent doubles: each step replaces an end by a double strictly inside
    // the bracket, so it ends (within about 2100 steps) without a cap; a NaN midpoint (from
    // a NaN or doubly infinite bracket) ends it at once.
    loop {
        let mid = 0.5 * (lo + hi);
        if !(lo < mid && mid < hi) {
            break;
        }
        if dl(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let z_star = 0.5 * (lo + hi);
    let m = big_l(z_star);
    if !m.is_finite() {
        // e^M underflows (|μ| near the largest double): the expectation is 0 to double
        // precision; M = −∞ says so.
        return Ok(Scaled {
            ln_scale: f64::NEG_INFINITY,
            value: if k == 0 { 1.0 } else { 0.0 },
            error: 0.0,
        });
    }
    let (z_lo, z_hi) = (z_star - 13.0, z_star + 13.0);
    let mut pts = vec![z_lo, z_hi, z_star];
    // Features: the peak (width >= 1/(sd √(a+b)/2) near the transition) and the transition
    // x = 0 itself, with layers growing by 4 so every panel resolves its neighbour's tail.
    let w = 1.0 / sd.max(1.0);
    for c in [z_star, -mean / sd] {
        if c.is_finite() && c > z_lo && c < z_hi {
            pts.push(c);
            let mut d = w;
            while d < z_hi - z_lo {
                pts.push(c - d);
                pts.push(c + d);
                d *= 4.0;
            }
        }
    }
    pts.retain(|z| *z >= z_lo && *z <= z_hi);
    pts.sort_by(f64::total_cmp);
    pts.dedup();
    let integrand = |z: f64| -> f64 {
        let e = (big_l(z) - m).exp();
        let poly = match k {
            0 => 1.0,
            1 => sd * z,
            _ => (sd * z).powi(k as i32),
        };
        poly * e * INV_SQRT_2PI
    };
    let r = adaptive_with_floor(integrand, &pts, 0.0, 1e-14, 4000, &|| 0.0)?;
    if !r.converged && r.error > 1e-10 * r.value.abs().max(f64::MIN_POSITIVE) {
        return Err(Error::Integration {
            method: "logistic moment (adaptive Gauss-Kronrod, scaled)",
            estimate: r.value,
            error_estimate: r.error,
            evaluations: r.evals,
        });
    }
    Ok(Scaled {
        ln_scale: m,
        value: r.value,
        error: r.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Builtin;
    use crate::expect::{Fun, Normal, expect};

    #[test]
    fn matches_the_engine_at_moderate_means() {
        let sig = Builtin::Sigmoid.arc();
        let s = Fun::phi(&sig);
        let t = s.compose_affine(0.0, -1.0);
        let lin = Builtin::Linear.arc();
        for (mu, q) in [(0.0, 1.0), (1.5, 0.3), (-2.0, 7.0), (3.0, 40.0), (0.2, 1e4)] {
            let n = Normal::new(mu, q).unwrap();
            let centred = Fun::phi(&lin).compose_affine(-mu, 1.0);
            let cases: [(u32, u32, u32, Fun); 5] = [
                (0, 2, 0, t.powi(2)),
                (1, 1, 0, &s * &t),
                (2, 2, 0, (&s * &t).powi(2)),
                (1, 2, 1, &(&s * &t.powi(2)) * &centred),
                (2, 1, 1, &(&s.powi(2) * &t) * &centred),
            ];
            for (a, b, k, f) in cases {
                let exact = expect(&f, &n).unwrap();
                let got = logistic_moment(mu, q, a, b, k).unwrap().to_f64();
                let scale = expect(&f.powi(2), &n).unwrap().value.sqrt();
                assert!(
                    (got - exact.value).abs() <= 1e-13 * scale + exact.error_estimate,
                    "μ={mu} q={q} (a,b,k)=({a},{b},{k}): {got} vs {}",
                    exact.value
                );
            }
        }
    }

    #[test]
    fn tiny_values_keep_their_relative_accuracy() {
        // E[σ(−x)] at μ = 200, q = 1: e^{−200 + 1/2}·(1 − O(e^{−199})) to all digits
        // (σ(−x) = e^{−x}/(1 + e^{−x}) and the Gaussian mass below x = 0 is e^{−2·10⁴}).
        let got = logistic_moment(200.0, 1.0, 0, 1, 0).unwrap();
        let ln_exact = -200.0 + 0.5;
        assert!(
            (got.ln() - ln_exact).abs() < 1e-13,
            "{}",
            got.ln() - ln_exact
        );
        // Far below underflow: still a logarithm.
        let got = logistic_moment(1e4, 4.0, 1, 1, 0).unwrap();
        assert!((got.ln() - (-1e4 + 2.0)).abs() < 1e-9 * 1e4, "{}", got.ln());
        assert_eq!(got.to_f64(), 0.0);
        // At μ = 1e308 the scale itself is −∞: the value is 0 in double precision.
        assert_eq!(logistic_moment(1e308, 1.0, 0, 2, 0).unwrap().to_f64(), 0.0);
    }
}
