//! The trapezoid rule against the standard normal density, on a fixed ladder of steps whose
//! weights are computed once per process.
//!
//! For an integrand `F` analytic in a strip around the real axis, `h Σ_j F(jh) φ(jh)`
//! converges geometrically in `1/h` (Trefethen & Weideman 2014), so the step is chosen from
//! the strip width (see `theory/01-gaussian-expectations.md`, (G.11)). Steps are rounded
//! down to the ladder `h_L = 0.75 · 2^{−L/8}` (at most 9% finer than needed), which makes the
//! Gaussian weights `h_L φ(j h_L)` reusable across calls and exact to rounding.

use std::sync::OnceLock;

use super::quadrature::QuadResult;
use super::special::norm_pdf;
use crate::error::{Error, Result};

/// Symmetry of an integrand about `z = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// `F(−z) = F(z)`.
    Even,
    /// `F(−z) = −F(z)`: the Gaussian integral is exactly zero.
    Odd,
    /// No known symmetry.
    None,
}

impl Parity {
    /// Parity of a product.
    pub fn product(self, other: Parity) -> Parity {
        match (self, other) {
            (Parity::None, _) | (_, Parity::None) => Parity::None,
            (a, b) if a == b => Parity::Even,
            _ => Parity::Odd,
        }
    }
}

/// Largest error-bound constant the step-halving check accepts (see [`StepModel::accept`]).
const PREFACTOR_MAX: f64 = 1e3;

/// Target exponent of the a-priori step: the predicted error is `e^{-E}` of the scale.
pub(crate) const TRAP_EXPONENT: f64 = 40.0;

/// The error model (G.11) of the trapezoid rule for `F(z) φ(z)`, with `F` analytic in the
/// strip `|Im z| < a_max`, Gaussian growth `e^{γ y²}` there (γ includes the ½ of φ itself),
/// an extra exponential growth `e^{β |y|}` (Hermite polynomials, in Mehler sums) and
/// polynomial growth `(1 + |y|)^degree`. The predicted relative error of step `h` is
/// `exp(−max_a (2πa/h − γa² − βa − degree·ln(1+a)))` over
/// `0 < a <= 0.8 a_max` (the margin keeps away from the singularity itself).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepModel {
    pub a_max: f64,
    pub gamma: f64,
    pub beta: f64,
    /// Polynomial growth degree of `F` (adds `degree · ln(1 + a)` to the bound).
    pub degree: f64,
}

impl StepModel {
    /// The largest step whose predicted error is `e^{-E}`.
    pub fn step(&self) -> f64 {
        let a_opt = (TRAP_EXPONENT / self.gamma).sqrt();
        let a = a_opt.min(0.8 * self.a_max);
        2.0 * std::f64::consts::PI * a
            / (TRAP_EXPONENT + self.gamma * a * a + self.beta * a + self.degree * a.ln_1p())
    }

    /// Predicted relative error of step `h`.
    pub fn predicted(&self, h: f64) -> f64 {
        let two_pi_h = 2.0 * std::f64::consts::PI / h;
        let a_star = (two_pi_h - self.beta) / (2.0 * self.gamma);
        if a_star <= 0.0 {
            return 1.0;
        }
        let a = a_star.min(0.8 * self.a_max);
        (-(two_pi_h * a - self.gamma * a * a - self.beta * a - self.degree * a.ln_1p()))
            .exp()
            .min(1.0)
    }

    /// Acceptance threshold for the relative difference of the `h` and `2h` sums: within
    /// `PREFACTOR_MAX` times the model's prediction at `2h`, and never stricter than `1e-8`.
    ///
    /// The model bounds only the exponential factor; the constant in front grows with the
    /// order of the nearest singularity (measured: up to ~3e3 for `sech⁴`, whose poles are
    /// of order four). Accepting a constant up to `PREFACTOR_MAX` bounds the error at `h` by
    /// `PREFACTOR_MAX · e^{-40} ≈ 4e-15` of the scale in the worst case; the error estimate
    /// uses the constant actually observed at `2h`.
    pub fn accept(&self, h: f64) -> f64 {
        1e-8f64.max(PREFACTOR_MAX * self.predicted(2.0 * h))
    }

    /// Error estimate (relative) at `h` from the observed relative difference `d` of the `h`
    /// and `2h` sums: the model's prediction at `h`, scaled up by how much the observation at
    /// `2h` exceeded the model, and never more than `d²` (the geometric-convergence bound).
    pub fn error(&self, h: f64, d: f64) -> f64 {
        let ratio = (d / self.predicted(2.0 * h)).max(1.0);
        (d * d).min(ratio * self.predicted(h))
    }
}

/// Number of ladder levels (h from 0.75 down to about 1e-6).
const LEVELS: usize = 160;
/// Largest |z| covered by the weight tables.
pub(crate) const Z_TABLE: f64 = 13.0;

static TABLES: [OnceLock<Vec<f64>>; LEVELS] = [const { OnceLock::new() }; LEVELS];

/// Step of ladder level `l`.
#[inline]
pub(crate) fn step(l: usize) -> f64 {
    // Octaves by exact powers of two, so that step(l + 8) == step(l) / 2 bit for bit.
    0.75 * (-((l % 8) as f64) / 8.0).exp2() * 0.5f64.powi((l / 8) as i32)
}

/// The coarsest ladder level whose step is `<= h_max`.
pub(crate) fn level_for(h_max: f64) -> usize {
    if h_max >= 0.75 {
        return 0;
    }
    let l = (8.0 * (0.75 / h_max).log2()).ceil().max(0.0) as usize;
    // Guard against rounding in the logarithm.
    let l = if step(l) > h_max { l + 1 } else { l };
    l.min(LEVELS - 1)
}

/// Length of the weight table of level `l` (without building it).
pub(crate) fn weights_len(l: usize) -> usize {
    (Z_TABLE / step(l)).floor() as usize + 1
}

/// Weights `h φ(j h)` for `j = 0, 1, …` up to `|z| <= Z_TABLE`, at ladder level `l`.
pub(crate) fn weights(l: usize) -> &'static [f64] {
    TABLES[l].get_or_init(|| {
        let h = step(l);
        let n = (Z_TABLE / h).floor() as usize;
        (0..=n).map(|j| h * norm_pdf(j as f64 * h)).collect()
    })
}

#[inline]
fn check(z: f64, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::NonFiniteIntegrand { at: z, value: v })
    }
}

/// `∫ F(z) φ(z) dz` by the trapezoid rule with the model's step (rounded down to the ladder)
/// on `|z| <= zmax`, halving the step (reusing nodes) up to `max_halvings` times until the
/// sums at `h` and `2h` agree as [`StepModel::accept`] requires; the error estimate is
/// [`StepModel::error`] plus rounding.
///
/// Terms are summed outward from `z = 0`; once `|z| > 6` the sum stops early when two
/// consecutive node pairs contribute less than `1e-19` of the scale.
pub(crate) fn gauss_trapezoid<F: FnMut(f64) -> f64>(
    mut f: F,
    model: &StepModel,
    zmax: f64,
    parity: Parity,
    max_halvings: u32,
) -> Result<QuadResult> {
    if parity == Parity::Odd {
        return Ok(QuadResult {
            value: 0.0,
            error: 0.0,
            evals: 0,
            converged: true,
        });
    }
    let zmax = zmax.min(Z_TABLE);
    let mut level = level_for(model.step());
    let mut w = weights(level);
    let mut h = step(level);
    // Node sums: `sum` over all nodes of the current grid, `even` over the nodes of the 2h grid.
    let mut sum;
    let mut even = 0.0;
    let mut l1 = 0.0;
    let mut evals = 0usize;
    let mut jmax;
    {
        let f0 = check(0.0, f(0.0))?;
        evals += 1;
        sum = w[0] * f0;
        even += sum;
        l1 += sum.abs();
        let mut small = 0;
        jmax = 0;
        let nmax = ((zmax / h).floor() as usize).min(w.len() - 1);
        for (j, &wj) in w.iter().enumerate().take(nmax + 1).skip(1) {
            let z = j as f64 * h;
            let v = match parity {
                Parity::Even => 2.0 * check(z, f(z))?,
                _ => check(z, f(z))? + check(-z, f(-z))?,
            };
            evals += if parity == Parity::Even { 1 } else { 2 };
            let t = wj * v;
            sum += t;
            l1 += t.abs();
            if j % 2 == 0 {
                even += t;
            }
            jmax = j;
            if z > 6.0 && t.abs() < 1e-19 * l1 {
                small += 1;
                if small >= 2 && j % 2 == 0 {
                    break;
                }
            } else {
                small = 0;
            }
        }
        // The 2h rule has weights 2h φ(2ih) = 2 w[2i].
        even *= 2.0;
    }
    let mut halvings = 0;
    loop {
        let diff = (sum - even).abs();
        let scale = l1.max(f64::MIN_POSITIVE);
        let converged = diff <= model.accept(h) * scale;
        if converged || halvings >= max_halvings || level + 8 >= LEVELS {
            let rounding = 4.0 * f64::EPSILON * scale * ((jmax + 1) as f64).sqrt();
            return Ok(QuadResult {
                value: sum,
                error: if converged {
                    model.error(h, diff / scale) * scale + rounding
                } else {
                    diff
                },
                evals,
                converged,
            });
        }
        // Halve the step: old nodes are the even nodes of the new grid; weights halve.
        level += 8;
        w = weights(level);
        h = step(level);
        even = sum;
        sum *= 0.5;
        l1 *= 0.5;
        jmax *= 2;
        for j in (1..jmax.min(w.len() - 1)).step_by(2) {
            let z = j as f64 * h;
            let v = match parity {
                Parity::Even => 2.0 * check(z, f(z))?,
                _ => check(z, f(z))? + check(-z, f(-z))?,
            };
            evals += if parity == Parity::Even { 1 } else { 2 };
            let t = w[j] * v;
            sum += t;
            l1 += t.abs();
        }
        // `even` must be the 2h-grid sum at the new h: the old `sum` was at step 2h already.
        halvings += 1;
    }
}

/// Two integrals `∫ F₁ φ`, `∫ F₂ φ` on the same nodes (one call of `f` per node returns both),
/// with the step-halving check applied to each; `None` if either fails to converge.
/// Returns `(value₁, error₁, value₂, error₂)`.
pub(crate) fn gauss_trapezoid_pair<F: FnMut(f64) -> (f64, f64)>(
    mut f: F,
    model: &StepModel,
    zmax: f64,
    max_halvings: u32,
) -> Option<(f64, f64, f64, f64)> {
    let zmax = zmax.min(Z_TABLE);
    let mut level = level_for(model.step());
    let mut h = step(level);
    let mut w = weights(level);
    let mut n = ((zmax / h).floor() as usize).min(w.len() - 1);
    let (mut s, mut e, mut l1) = ([0.0f64; 2], [0.0f64; 2], [0.0f64; 2]);
    let mut add = |j: usize,
                   wj: f64,
                   z: f64,
                   s: &mut [f64; 2],
                   e: &mut [f64; 2],
                   l1: &mut [f64; 2],
                   even: bool|
     -> bool {
        let (a, b) = if j == 0 {
            f(0.0)
        } else {
            let (a1, b1) = f(z);
            let (a2, b2) = f(-z);
            (a1 + a2, b1 + b2)
        };
        if !a.is_finite() || !b.is_finite() {
            return false;
        }
        for (k, v) in [a, b].into_iter().enumerate() {
            s[k] += wj * v;
            l1[k] += (wj * v).abs();
            if even {
                e[k] += wj * v;
            }
        }
        true
    };
    for (j, &wj) in w.iter().enumerate().take(n + 1) {
        if !add(j, wj, j as f64 * h, &mut s, &mut e, &mut l1, j % 2 == 0) {
            return None;
        }
    }
    e = [2.0 * e[0], 2.0 * e[1]];
    for _ in 0..=max_halvings {
        let acc = model.accept(h);
        let d = [(s[0] - e[0]).abs(), (s[1] - e[1]).abs()];
        if d[0] <= acc * l1[0].max(f64::MIN_POSITIVE) && d[1] <= acc * l1[1].max(f64::MIN_POSITIVE)
        {
            let err = |k: usize| {
                let scale = l1[k].max(f64::MIN_POSITIVE);
                model.error(h, d[k] / scale) * scale
                    + 4.0 * f64::EPSILON * scale * ((n + 1) as f64).sqrt()
            };
            return Some((s[0], err(0), s[1], err(1)));
        }
        if level + 8 >= LEVELS {
            return None;
        }
        level += 8;
        h = step(level);
        w = weights(level);
        e = s;
        s = [0.5 * s[0], 0.5 * s[1]];
        l1 = [0.5 * l1[0], 0.5 * l1[1]];
        n = (2 * n).min(w.len() - 1);
        for j in (1..=n).step_by(2) {
            let mut dummy = [0.0; 2];
            if !add(j, w[j], j as f64 * h, &mut s, &mut dummy, &mut l1, false) {
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_steps_bracket_the_request() {
        for h in [0.7, 0.5, 0.1, 0.0312, 1e-3] {
            let l = level_for(h);
            assert!(step(l) <= h && step(l) > h / 1.1, "{h}: {}", step(l));
        }
        assert_eq!(step(8), 0.375);
    }

    #[test]
    fn gaussian_moments_and_parity() {
        let m = StepModel {
            a_max: f64::INFINITY,
            gamma: 0.5,
            beta: 0.0,
            degree: 4.0,
        };
        let r = gauss_trapezoid(|z| z * z, &m, 12.0, Parity::Even, 3).unwrap();
        assert!((r.value - 1.0).abs() < 1e-15 && r.converged);
        let r = gauss_trapezoid(|z| z.powi(4), &m, 12.0, Parity::None, 3).unwrap();
        assert!((r.value - 3.0).abs() < 1e-14);
        let r = gauss_trapezoid(|z| z.powi(3), &m, 12.0, Parity::Odd, 3).unwrap();
        assert_eq!(r.value, 0.0);
    }

    #[test]
    fn halving_recovers_from_a_coarse_start() {
        // A model that claims a far wider strip than tanh(10z) has (poles at ±iπ/20).
        let wrong = StepModel {
            a_max: 3.0,
            gamma: 0.5,
            beta: 0.0,
            degree: 4.0,
        };
        let r = gauss_trapezoid(
            |z: f64| (10.0 * z).tanh().powi(2),
            &wrong,
            10.0,
            Parity::Even,
            8,
        )
        .unwrap();
        assert!(r.converged);
        assert!(
            (r.value - 0.920_536_863_430_516_7).abs() < 2e-15,
            "{}",
            r.value
        );
    }
}
