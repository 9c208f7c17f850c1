//! Piecewise polynomials and their exact Gaussian expectations.
//!
//! ReLU, hard-tanh and the linear activation — and every product, power and derivative
//! of them — are piecewise polynomials. Their Gaussian expectations are finite sums of
//! truncated normal moments, so they are computed in closed form rather than by
//! quadrature (which converges only algebraically across a kink).

use super::special::truncated_moments;

/// A piecewise polynomial on the real line: `breaks` (strictly increasing) cut it into
/// `breaks.len() + 1` pieces; piece `i` is `Σ_j pieces[i][j] x^j`.
#[derive(Debug, Clone, PartialEq)]
pub struct Piecewise {
    /// Break points, strictly increasing.
    pub breaks: Vec<f64>,
    /// Coefficients (ascending powers) of each piece.
    pub pieces: Vec<Vec<f64>>,
}

fn poly_mul(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    trim(out)
}

fn trim(mut p: Vec<f64>) -> Vec<f64> {
    while p.last() == Some(&0.0) {
        p.pop();
    }
    p
}

/// Coefficients of `p(a + b y)` as a polynomial in `y`.
pub(crate) fn poly_affine(p: &[f64], a: f64, b: f64) -> Vec<f64> {
    // Taylor shift by `a` (repeated synthetic division), then scale by powers of b.
    let mut c = p.to_vec();
    let n = c.len();
    for k in 0..n {
        for j in (k..n.saturating_sub(1)).rev() {
            c[j] += a * c[j + 1];
        }
    }
    let mut s = 1.0;
    for x in c.iter_mut() {
        *x *= s;
        s *= b;
    }
    trim(c)
}

fn poly_eval(p: &[f64], x: f64) -> f64 {
    p.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

impl Piecewise {
    /// A single polynomial on the whole line.
    pub fn polynomial(coefficients: Vec<f64>) -> Self {
        Piecewise {
            breaks: Vec::new(),
            pieces: vec![trim(coefficients)],
        }
    }

    /// The constant function `c`.
    pub fn constant(c: f64) -> Self {
        Self::polynomial(vec![c])
    }

    /// Highest degree over the pieces (0 for the zero function).
    pub fn degree(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| p.len().saturating_sub(1))
            .max()
            .unwrap_or(0)
    }

    /// Value at `x`; at a break point, the mean of the two one-sided limits.
    pub fn eval(&self, x: f64) -> f64 {
        let i = self.breaks.partition_point(|&b| b < x);
        if i < self.breaks.len() && self.breaks[i] == x {
            0.5 * (poly_eval(&self.pieces[i], x) + poly_eval(&self.pieces[i + 1], x))
        } else {
            poly_eval(&self.pieces[i], x)
        }
    }

    /// Pointwise product.
    pub fn mul(&self, other: &Piecewise) -> Piecewise {
        let mut breaks: Vec<f64> = self
            .breaks
            .iter()
            .chain(other.breaks.iter())
            .copied()
            .collect();
        breaks.sort_by(f64::total_cmp);
        breaks.dedup();
        let mut pieces = Vec::with_capacity(breaks.len() + 1);
        for i in 0..=breaks.len() {
            // A point strictly inside piece i of the merged partition.
            let x = if breaks.is_empty() {
                0.0
            } else if i == 0 {
                breaks[0] - 1.0
            } else if i == breaks.len() {
                breaks[i - 1] + 1.0
            } else {
                0.5 * (breaks[i - 1] + breaks[i])
            };
            let a = &self.pieces[self.breaks.partition_point(|&b| b < x)];
            let b = &other.pieces[other.breaks.partition_point(|&b| b < x)];
            pieces.push(poly_mul(a, b));
        }
        Piecewise { breaks, pieces }
    }

    /// `self^k` (`k >= 0`).
    pub fn powi(&self, k: u32) -> Piecewise {
        let mut out = Piecewise::constant(1.0);
        for _ in 0..k {
            out = out.mul(self);
        }
        out
    }

    /// The function `x ↦ self(a + b x)`; `b` must be non-zero.
    pub fn compose_affine(&self, a: f64, b: f64) -> Piecewise {
        debug_assert!(b != 0.0);
        let mut breaks: Vec<f64> = self.breaks.iter().map(|&t| (t - a) / b).collect();
        let mut pieces: Vec<Vec<f64>> = self.pieces.iter().map(|p| poly_affine(p, a, b)).collect();
        if b < 0.0 {
            breaks.reverse();
            pieces.reverse();
        }
        Piecewise { breaks, pieces }
    }

    /// Exact `E[p(u)]` for `u ~ N(mean, var)`, `var > 0`, with an error bound from
    /// rounding (the sum of absolute contributions times a few ulps).
    pub fn gaussian_expectation(&self, mean: f64, var: f64) -> (f64, f64) {
        let sd = var.sqrt();
        let deg = self.degree();
        let mut t = vec![0.0; deg + 1];
        let mut value = 0.0;
        let mut abs = 0.0;
        for (i, p) in self.pieces.iter().enumerate() {
            if p.is_empty() {
                continue;
            }
            let lo = if i == 0 {
                f64::NEG_INFINITY
            } else {
                (self.breaks[i - 1] - mean) / sd
            };
            let hi = if i == self.breaks.len() {
                f64::INFINITY
            } else {
                (self.breaks[i] - mean) / sd
            };
            if hi <= lo {
                continue;
            }
            let c = poly_affine(p, mean, sd);
            truncated_moments(lo, hi, &mut t[..c.len()]);
            // A piece with no Gaussian mass contributes nothing — also when its coefficients
            // overflow (e.g. ReLU² at mean −1e308: μ² · 0 would be NaN).
            if t[..c.len()].iter().all(|x| *x == 0.0) {
                continue;
            }
            for (ck, tk) in c.iter().zip(&t) {
                let term = ck * tk;
                value += term;
                abs += term.abs();
            }
        }
        (value, 8.0 * f64::EPSILON * abs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_composition_matches_pointwise() {
        let p = Piecewise {
            breaks: vec![-1.0, 1.0],
            pieces: vec![vec![-1.0], vec![0.0, 1.0], vec![1.0]],
        };
        let q = p.mul(&p).compose_affine(0.3, -2.0);
        for x in [-3.0, -0.2, 0.1, 0.64, 0.66, 2.0] {
            let direct = p.eval(0.3 - 2.0 * x).powi(2);
            assert!((q.eval(x) - direct).abs() < 1e-15, "x={x}");
        }
    }

    #[test]
    fn relu_mean_closed_form() {
        // E[relu(u)], u ~ N(m, s²) = m Φ(m/s) + s φ(m/s).
        let relu = Piecewise {
            breaks: vec![0.0],
            pieces: vec![vec![], vec![0.0, 1.0]],
        };
        let (m, s) = (0.4_f64, 1.7_f64);
        let (v, _) = relu.gaussian_expectation(m, s * s);
        let r = m / s;
        let exact = m * super::super::special::norm_cdf(r) + s * super::super::special::norm_pdf(r);
        assert!((v - exact).abs() < 1e-15, "{v} {exact}");
    }
}
