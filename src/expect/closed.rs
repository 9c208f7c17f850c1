//! Closed-form Gaussian expectations of the built-in activations.
//!
//! Piecewise-polynomial activations (linear, ReLU, hard-tanh) are exact through
//! [`crate::gauss::piecewise`]; this module adds the non-polynomial closed forms:
//! the error-function family (Williams 1997) and the zero-mean arc-cosine kernels of ReLU
//! (Cho & Saul 2009). See `theory/01-gaussian-expectations.md`, equations (G.4)–(G.9).

use std::f64::consts::{FRAC_2_SQRT_PI, PI};

use super::BivariateNormal;
use super::fun::Fun;
use crate::activation::Builtin;

/// Powers `(p_phi, p_dphi, p_ddphi)` of a product of one built-in's derivatives.
fn powers(f: &Fun) -> Option<(Option<Builtin>, [u32; 3])> {
    let mut p = [0u32; 3];
    let mut which = None;
    for (a, d, k) in f.plain_factors()? {
        let b = a.builtin()?;
        if which.is_some_and(|w| w != b) {
            return None;
        }
        which = Some(b);
        p[d as usize] += k;
    }
    Some((which, p))
}

/// Raw moment `E[x^b]`, `x ~ N(m, v)`.
fn raw_moment(b: u32, m: f64, v: f64) -> f64 {
    let (mut prev, mut cur) = (1.0, m);
    if b == 0 {
        return 1.0;
    }
    for k in 1..b {
        let next = m * cur + f64::from(k) * v * prev;
        prev = cur;
        cur = next;
    }
    cur
}

/// `E[x^b e^{−λx²}]` for `x ~ N(m, q)` (the Gaussian tilt of erf' powers), eq. (G.5).
fn tilted_moment_1d(b: u32, lambda: f64, m: f64, q: f64) -> f64 {
    let d = 1.0 + 2.0 * lambda * q;
    let norm = (-lambda * m * m / d).exp() / d.sqrt();
    norm * raw_moment(b, m / d, q / d)
}

/// One-dimensional closed forms (erf family). `None` when no closed form applies.
pub(crate) fn one_d(f: &Fun, mean: f64, var: f64) -> Option<f64> {
    let (Some(Builtin::Erf), [p0, p1, p2]) = powers(f)? else {
        return None;
    };
    let c = f.coef;
    let lambda = f64::from(p1 + p2);
    let scale = FRAC_2_SQRT_PI.powi((p1 + p2) as i32) * (-2.0f64).powi(p2 as i32);
    match p0 {
        0 => Some(c * scale * tilted_moment_1d(p2, lambda, mean, var)),
        1 if p2 <= 1 => {
            // E[x^b erf(x) e^{−λx²}] = norm · E'[x^b erf(x)] under the tilted Gaussian.
            let d = 1.0 + 2.0 * lambda * var;
            let norm = (-lambda * mean * mean / d).exp() / d.sqrt();
            let (m, v) = (mean / d, var / d);
            let e_erf = libm::erf(m / (1.0 + 2.0 * v).sqrt());
            let inner = if p2 == 0 {
                e_erf
            } else {
                // Stein: E[x erf(x)] = m E[erf] + v E[erf'].
                let e_derf =
                    FRAC_2_SQRT_PI * (-m * m / (1.0 + 2.0 * v)).exp() / (1.0 + 2.0 * v).sqrt();
                m * e_erf + v * e_derf
            };
            Some(c * scale * norm * inner)
        }
        2 if p1 == 0 && p2 == 0 && mean == 0.0 => {
            // Scaled by 1/q for q >= 1 (atan2 is scale invariant): 1 + 4q overflows near 1e308.
            let angle = if var >= 1.0 {
                2.0f64.atan2((1.0 / var + 4.0).sqrt() / var.sqrt())
            } else {
                (2.0 * var).atan2((1.0 + 4.0 * var).sqrt())
            };
            Some(c * 2.0 / PI * angle)
        }
        _ => None,
    }
}

/// Two-dimensional closed forms. `None` when no closed form applies.
pub(crate) fn two_d(f: &Fun, g: &Fun, b: &BivariateNormal) -> Option<f64> {
    let (wf, pf) = powers(f)?;
    let (wg, pg) = powers(g)?;
    let which = match (wf, wg) {
        (Some(x), Some(y)) if x == y => x,
        _ => return None,
    };
    let coef = f.coef * g.coef;
    let (qu, qv, c) = (b.var_u, b.var_v, b.corr);
    let one_m_c2 = (1.0 - c) * (1.0 + c);
    let zero_means = b.mean_u == 0.0 && b.mean_v == 0.0;
    match which {
        Builtin::Erf => {
            if pf == [1, 0, 0] && pg == [1, 0, 0] && zero_means {
                // (G.6) arcsine kernel, in atan2 form (stable as |c| → 1). atan2 is invariant
                // under a common positive scale: for √(q_u q_v) >= 1 both arguments are divided
                // by it, since det ~ 4 q_u q_v overflows from q ≈ 1e154 (and atan2(·, ∞) = 0
                // would be a silently wrong kernel).
                let p = qu.sqrt() * qv.sqrt();
                let angle = if p >= 1.0 {
                    let det = (1.0 / p).powi(2) + 2.0 / qv + 2.0 / qu + 4.0 * one_m_c2;
                    (2.0 * c).atan2(det.sqrt())
                } else {
                    let det = 1.0 + 2.0 * qu + 2.0 * qv + 4.0 * qu * qv * one_m_c2;
                    (2.0 * c * p).atan2(det.sqrt())
                };
                return Some(coef * 2.0 / PI * angle);
            }
            if pf[0] == 0 && pg[0] == 0 && pf[2] <= 2 && pg[2] <= 2 {
                // (G.7) products of erf' and erf'' powers: a tilted bivariate Gaussian.
                let lam = f64::from(pf[1] + pf[2]);
                let kap = f64::from(pg[1] + pg[2]);
                let s11 = qu;
                let s22 = qv;
                let s12 = c * (qu * qv).sqrt();
                let det =
                    1.0 + 2.0 * s11 * lam + 2.0 * s22 * kap + 4.0 * lam * kap * qu * qv * one_m_c2;
                // A = I + 2ΣΛ, A^{-1} = adj/det.
                let ai = [
                    [(1.0 + 2.0 * s22 * kap) / det, -2.0 * s12 * kap / det],
                    [-2.0 * s12 * lam / det, (1.0 + 2.0 * s11 * lam) / det],
                ];
                let (m1, m2) = (b.mean_u, b.mean_v);
                let t1 = ai[0][0] * m1 + ai[0][1] * m2;
                let t2 = ai[1][0] * m1 + ai[1][1] * m2;
                let expo = lam * m1 * t1 + kap * m2 * t2;
                let norm = (-expo).exp() / det.sqrt();
                // Σ' = A^{-1} Σ (symmetric in exact arithmetic).
                let c11 = ai[0][0] * s11 + ai[0][1] * s12;
                let c22 = ai[1][0] * s12 + ai[1][1] * s22;
                let c12 = 0.5 * (ai[0][0] * s12 + ai[0][1] * s22 + ai[1][0] * s11 + ai[1][1] * s12);
                let mom = bivariate_raw_moment(pf[2], pg[2], t1, t2, c11, c22, c12);
                let scale = FRAC_2_SQRT_PI.powi((pf[1] + pf[2] + pg[1] + pg[2]) as i32)
                    * (-2.0f64).powi((pf[2] + pg[2]) as i32);
                return Some(coef * scale * norm * mom);
            }
            None
        }
        Builtin::Relu if zero_means => {
            // (G.8) arc-cosine kernels, θ = arccos c.
            let s = one_m_c2.sqrt();
            let theta = s.atan2(c);
            match (pf, pg) {
                ([1, 0, 0], [1, 0, 0]) => {
                    // √q_u·√q_v, not √(q_u q_v), which overflows from q ≈ 1e154.
                    Some(coef * qu.sqrt() * qv.sqrt() / (2.0 * PI) * (s + (PI - theta) * c))
                }
                ([0, 1, 0], [0, 1, 0]) => Some(coef * (PI - theta) / (2.0 * PI)),
                ([1, 0, 0], [0, 1, 0]) => {
                    Some(coef * qu.sqrt() * (1.0 + c) / (2.0 * (2.0 * PI).sqrt()))
                }
                ([0, 1, 0], [1, 0, 0]) => {
                    Some(coef * qv.sqrt() * (1.0 + c) / (2.0 * (2.0 * PI).sqrt()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `E[x^i y^j]` for a bivariate Gaussian with means `(m1, m2)` and covariance
/// `[[c11, c12], [c12, c22]]`, `i, j <= 2`.
fn bivariate_raw_moment(i: u32, j: u32, m1: f64, m2: f64, c11: f64, c22: f64, c12: f64) -> f64 {
    match (i, j) {
        (0, 0) => 1.0,
        (1, 0) => m1,
        (0, 1) => m2,
        (2, 0) => c11 + m1 * m1,
        (0, 2) => c22 + m2 * m2,
        (1, 1) => c12 + m1 * m2,
        (2, 1) => m2 * (c11 + m1 * m1) + 2.0 * m1 * c12,
        (1, 2) => m1 * (c22 + m2 * m2) + 2.0 * m2 * c12,
        (2, 2) => {
            c11 * c22
                + 2.0 * c12 * c12
                + m1 * m1 * c22
                + m2 * m2 * c11
                + 4.0 * m1 * m2 * c12
                + m1 * m1 * m2 * m2
        }
        _ => f64::NAN,
    }
}
