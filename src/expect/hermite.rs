//! Hermite expansions of `f(μ + √q z)`: the precomputed form of the Mehler series (G.12).
//!
//! Once the coefficients `a_k = E[f(μ + √q z) h_k(z)]` are known, every correlation `c`
//! costs `O(K)`: the kernel `E[f(u) g(v)] = Σ a_k b_k c^k`, its slope in `c`
//! (`Σ k a_k b_k c^{k−1}`, which by Price's theorem is `√(q_u q_v) E[f'(u) g'(v)]`), and the
//! gap `E[f(u)²] − E[f(u) f(v)] = Σ a_k² (1 − c^k)` without cancellation as `c → 1`. This
//! is what the mean-field correlation maps iterate and solve on.

use serde::Serialize;

use super::smooth2d::{EXPANSION_BUDGET_NS, hermite_coefficients};
use super::{Fun, Normal};
use crate::error::{Error, Result};

/// The Hermite coefficients of `f(μ + √q z)` with their norm and truncated tail.
#[derive(Debug, Clone, Serialize)]
pub struct HermiteExpansion {
    /// `a_k = E[f(μ + √q z) h_k(z)]`, `h_k = He_k/√(k!)`, `k = 0..=K`.
    pub coefficients: Vec<f64>,
    /// `E[f(u)²] = Σ_k a_k²` (computed directly, by the same quadrature).
    pub norm2: f64,
    /// `E[f(u)²] − Σ_{k≤K} a_k² ≥ 0`: the mass of the omitted terms (clamped at 0; its
    /// rounding floor is about `1e-16 E[f²]`).
    pub tail: f64,
    /// Integrand evaluations spent.
    pub evaluations: usize,
}

impl HermiteExpansion {
    /// Coefficients up to order `terms − 1`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if `f` is not smooth with a known analyticity strip (the
    /// expansion's quadrature needs one) or the grid would be unreasonably large;
    /// [`Error::NonFiniteIntegrand`] if `f` is not finite at a node.
    pub fn new(f: &Fun, n: &Normal, terms: usize) -> Result<HermiteExpansion> {
        let k_max = terms.max(1) - 1;
        let c = hermite_coefficients(f, n.mean, n.var.sqrt(), k_max, 0.0, EXPANSION_BUDGET_NS)?
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "Hermite expansion of `{f}` needs a smooth integrand with a known \
                     analyticity strip and a moderate variance"
                ))
            })?;
        let norm2 = c.norm * c.norm;
        let sum2 = neumaier(c.a.iter().map(|x| x * x));
        Ok(HermiteExpansion {
            coefficients: c.a,
            norm2,
            tail: (norm2 - sum2).max(0.0),
            evaluations: c.evals,
        })
    }

    /// Doubles the number of terms (from 64, up to `max_terms`) until the tail is below
    /// `rel_tail · E[f²]` or stops shrinking (its rounding floor, about `1e-16 E[f²]`);
    /// returns the last expansion even if it did not get there (check
    /// [`HermiteExpansion::tail`]).
    ///
    /// # Errors
    /// As [`HermiteExpansion::new`].
    pub fn with_tail_below(
        f: &Fun,
        n: &Normal,
        rel_tail: f64,
        max_terms: usize,
    ) -> Result<HermiteExpansion> {
        let mut terms = 64.min(max_terms.max(2));
        let mut prev_tail = f64::INFINITY;
        loop {
            let e = HermiteExpansion::new(f, n, terms)?;
            let floor = e.tail > 0.5 * prev_tail && e.tail < 1e-13 * e.norm2;
            if e.tail <= rel_tail * e.norm2 || terms >= max_terms || floor {
                return Ok(e);
            }
            // Hopeless: the tail shrinks by less than half per doubling (the algebraic decay
            // of a step-like f(μ + √q z) at large q, far from the geometric regime) and even
            // at that rate would need more than 16 max_terms. Stop instead of computing ever
            // larger expansions (seconds and hundreds of megabytes at σ_w = 1e4).
            let ratio = e.tail / prev_tail;
            if ratio > 0.5 && ratio < 1.0 {
                let doublings = (rel_tail * e.norm2 / e.tail).ln() / ratio.ln();
                if (terms as f64) * doublings.exp2() > 16.0 * max_terms as f64 {
                    return Ok(e);
                }
            }
            prev_tail = e.tail;
            terms = (terms * 2).min(max_terms);
        }
    }

    /// Number of coefficients.
    pub fn len(&self) -> usize {
        self.coefficients.len()
    }

    /// True if there are no coefficients.
    pub fn is_empty(&self) -> bool {
        self.coefficients.is_empty()
    }

    /// `E[f(u) g(v)] = Σ a_k b_k c^k` and a bound on the truncation error,
    /// `|c|^{K+1} √(tail_f tail_g)` plus rounding.
    pub fn kernel(&self, other: &HermiteExpansion, c: f64) -> (f64, f64) {
        let mut v = 0.0;
        let mut abs = 0.0;
        let mut ck = 1.0;
        for (a, b) in self.coefficients.iter().zip(&other.coefficients) {
            let t = a * b * ck;
            v += t;
            abs += t.abs();
            ck *= c;
        }
        let k = self.len().min(other.len());
        let trunc = c.abs().powi(k as i32) * (self.tail * other.tail).sqrt();
        (
            v,
            trunc + 4.0 * f64::EPSILON * (abs + (self.norm2 * other.norm2).sqrt()),
        )
    }

    /// `d/dc Σ a_k b_k c^k = Σ k a_k b_k c^{k−1}` (equal to `√(q_u q_v) E[f'(u) g'(v)]`).
    pub fn kernel_slope(&self, other: &HermiteExpansion, c: f64) -> f64 {
        let mut v = 0.0;
        let mut ck = 1.0; // c^{k-1}
        for (k, (a, b)) in self
            .coefficients
            .iter()
            .zip(&other.coefficients)
            .enumerate()
            .skip(1)
        {
            v += k as f64 * a * b * ck;
            ck *= c;
        }
        v
    }

    /// `E[f(u)²] − E[f(u) f(v)] = Σ a_k² (1 − c^k)` for `(u, v)` equal in law with
    /// correlation `c ∈ [−1, 1]`, accurate as `c → 1` (no cancellation:
    /// `1 − c^k = −expm1(k ln c)`), and a bound on the error.
    ///
    /// The omitted terms are `tail − Σ_{k>K} a_k² c^k`; the known `tail` is added, which
    /// leaves an error of at most `|c|^{K+1} · tail` (plus rounding).
    pub fn gap(&self, c: f64) -> (f64, f64) {
        let mut v = 0.0;
        let lnc = if c > 0.0 { c.ln() } else { f64::NAN };
        let mut ck = 1.0;
        for (k, a) in self.coefficients.iter().enumerate().skip(1) {
            ck *= c;
            let one_minus = if c > 0.0 {
                -(k as f64 * lnc).exp_m1()
            } else {
                1.0 - ck
            };
            v += a * a * one_minus;
        }
        let k1 = self.len() as i32;
        let bound = self.tail * c.abs().powi(k1);
        (
            v + self.tail,
            bound + 4.0 * f64::EPSILON * self.norm2 * (1.0 - c).abs().min(1.0),
        )
    }

    /// `(E[f²] − E[f(u)f(v)]) / (1 − c) = Σ a_k² (1 + c + … + c^{k−1})`, finite at `c = 1`
    /// (where it equals `Σ k a_k² = q E[f'²]`), and a bound on the error.
    ///
    /// For `c < 1` the omitted terms are `(tail − Σ_{k>K} a_k² c^k)/(1 − c)`: the known part
    /// is added and the error is at most `|c|^{K+1} tail / (1 − c)`. At `c = 1` the omitted
    /// `Σ_{k>K} k a_k²` is not determined by the tail; the bound returned there is infinite
    /// unless the tail is zero.
    pub fn gap_over_one_minus_c(&self, c: f64) -> (f64, f64) {
        // S_k(c) = 1 + c + … + c^{k−1}, built up term by term.
        let mut v = 0.0;
        let mut s = 0.0;
        let mut ck = 1.0;
        for a in self.coefficients.iter().skip(1) {
            s += ck;
            ck *= c;
            v += a * a * s;
        }
        if c < 1.0 {
            let k1 = self.len() as i32;
            (
                v + self.tail / (1.0 - c),
                self.tail * c.abs().powi(k1) / (1.0 - c) + 4.0 * f64::EPSILON * v.abs(),
            )
        } else if self.tail == 0.0 {
            (v, 4.0 * f64::EPSILON * v.abs())
        } else {
            (v, f64::INFINITY)
        }
    }
}

/// Compensated (Neumaier) summation.
fn neumaier(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Builtin;
    use crate::expect::{BivariateNormal, expect, expect2};

    #[test]
    fn expansion_reproduces_the_engine() {
        let tanh = Builtin::Tanh.arc();
        let f = Fun::phi(&tanh);
        for (m, q) in [(0.0, 1.0), (0.3, 4.0), (-1.0, 0.2)] {
            let n = Normal::new(m, q).unwrap();
            let e = HermiteExpansion::with_tail_below(&f, &n, 1e-16, 4096).unwrap();
            assert!(e.tail <= 1e-15, "tail {} with {} terms", e.tail, e.len());
            let e2 = expect(&f.powi(2), &n).unwrap().value;
            assert!((e.norm2 - e2).abs() < 1e-14, "{} {}", e.norm2, e2);
            for c in [-0.7, 0.2, 0.9, 0.999] {
                let (k, err) = e.kernel(&e, c);
                let direct = expect2(&f, &f, &BivariateNormal::equal(m, q, c).unwrap()).unwrap();
                assert!(
                    (k - direct.value).abs() < 1e-13,
                    "c={c}: {k} vs {}",
                    direct.value
                );
                assert!(err < 1e-13);
                // Slope = q E[φ'φ'] (Price).
                let df = Fun::dphi(&tanh);
                let dd = expect2(&df, &df, &BivariateNormal::equal(m, q, c).unwrap()).unwrap();
                assert!((e.kernel_slope(&e, c) - q * dd.value).abs() < 1e-11 * q);
                // Gap without cancellation.
                let (g, _) = e.gap(c);
                assert!((g - (e2 - direct.value)).abs() < 1e-13);
            }
            // At c = 1: gap/(1 − c) → Σ k a_k² = q E[φ'²].
            let d2 = expect(&Fun::dphi(&tanh).powi(2), &n).unwrap().value;
            assert!((e.gap_over_one_minus_c(1.0).0 - q * d2).abs() < 1e-11 * q);
        }
    }
}
