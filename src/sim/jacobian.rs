//! Sampled state-to-state Jacobians of finite-width networks and their squared singular
//! values — the empirical side of `crate::spectrum`.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use super::{SimConfig, Weights, gaussian_matrix, mean_se, orthogonal_matrix};
use crate::activation::Deriv;
use crate::cells::vanilla::Vanilla;
use crate::error::{Error, Result};

/// Empirical moments of the squared singular values, with standard errors over networks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmpiricalMoments {
    /// Mean squared singular value.
    pub m1: f64,
    /// Its standard error.
    pub m1_se: f64,
    /// Mean of the fourth power of the singular values.
    pub m2: f64,
    /// Its standard error.
    pub m2_se: f64,
    /// `(m₂ − m₁²)/m₁²` (per network, then averaged).
    pub normalized_variance: f64,
    /// Its standard error.
    pub normalized_variance_se: f64,
}

/// Squared singular values of `J_T` from several networks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JacobianSample {
    /// All squared singular values (every network), sorted.
    pub squared_singular_values: Vec<f64>,
    /// Moments with standard errors over networks.
    pub moments: EmpiricalMoments,
    /// The settings used.
    pub config: SimConfig,
    /// Steps in the product.
    pub steps: usize,
    /// Steps run before the product starts (to reach the fixed point).
    pub burn_in: usize,
}

/// Samples `J_T = D_T W ⋯ D_1 W` of vanilla networks (one input sequence with second moment
/// `R`, after `burn_in` steps from `h^0 = 0`), `cfg.seeds` networks, and returns the squared
/// singular values. With untied weights each step draws a fresh `W`.
///
/// The product is formed explicitly (no renormalisation): fine near criticality and for
/// `T` up to a few hundred; far from criticality the small singular values lose relative
/// accuracy.
///
/// # Errors
/// [`Error::InvalidParameter`] for `steps == 0`.
pub fn vanilla(
    v: &Vanilla,
    cfg: &SimConfig,
    steps: usize,
    burn_in: usize,
) -> Result<JacobianSample> {
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let per: Vec<Vec<f64>> = (0..cfg.seeds)
        .into_par_iter()
        .map(|s| run_seed(v, cfg, steps, burn_in, s))
        .collect();
    let mut stats = Vec::with_capacity(per.len());
    for l in &per {
        let n = l.len() as f64;
        let m1 = l.iter().sum::<f64>() / n;
        let m2 = l.iter().map(|x| x * x).sum::<f64>() / n;
        stats.push((m1, m2, (m2 - m1 * m1) / (m1 * m1)));
    }
    let col = |k: usize| -> (f64, f64) {
        let xs: Vec<f64> = stats
            .iter()
            .map(|s| match k {
                0 => s.0,
                1 => s.1,
                _ => s.2,
            })
            .collect();
        mean_se(&xs)
    };
    let (m1, m1_se) = col(0);
    let (m2, m2_se) = col(1);
    let (nv, nv_se) = col(2);
    let mut all: Vec<f64> = per.into_iter().flatten().collect();
    all.sort_by(f64::total_cmp);
    Ok(JacobianSample {
        squared_singular_values: all,
        moments: EmpiricalMoments {
            m1,
            m1_se,
            m2,
            m2_se,
            normalized_variance: nv,
            normalized_variance_se: nv_se,
        },
        config: *cfg,
        steps,
        burn_in,
    })
}

fn run_seed(v: &Vanilla, cfg: &SimConfig, steps: usize, burn_in: usize, s: usize) -> Vec<f64> {
    let mut rng = cfg.rng(s);
    let p = v.params();
    let (n, nin) = (cfg.width, cfg.input_dim);
    let sample_w = |rng: &mut rand_chacha::ChaCha8Rng| match cfg.weights {
        Weights::Gaussian => gaussian_matrix(rng, n, n, p.sigma_w / (n as f64).sqrt()),
        Weights::Orthogonal => orthogonal_matrix(rng, n, p.sigma_w),
    };
    let mut w = sample_w(&mut rng);
    let vin = gaussian_matrix(&mut rng, n, nin, p.sigma_v / (nin as f64).sqrt());
    let bias: Vec<f64> = (0..n)
        .map(|_| p.mu_b + p.sigma_b * rng.sample::<f64, _>(StandardNormal))
        .collect();
    let act = v.activation().clone();
    let sr = p.r.sqrt();
    let mut h = DMatrix::<f64>::zeros(n, 1);
    let mut jac = DMatrix::<f64>::identity(n, n);
    for t in 0..burn_in + steps {
        let x = DMatrix::from_fn(nin, 1, |_, _| sr * rng.sample::<f64, _>(StandardNormal));
        let e = &w * &h + &vin * &x;
        let mut d = vec![0.0; n];
        for i in 0..n {
            let ei = e[(i, 0)] + bias[i];
            h[(i, 0)] = act.eval(Deriv::Phi, ei);
            d[i] = act.eval(Deriv::DPhi, ei);
        }
        if t >= burn_in {
            // J ← D W J  (the Jacobian of step t uses the W that produced e^t).
            let mut wj = &w * &jac;
            for (i, di) in d.iter().enumerate() {
                wj.row_mut(i).scale_mut(*di);
            }
            jac = wj;
        }
        if !cfg.tied {
            w = sample_w(&mut rng);
        }
    }
    jac.singular_values().iter().map(|s| s * s).collect()
}

/// Kolmogorov–Smirnov distance between the empirical distribution of `sample` (sorted) and
/// a distribution function `cdf`.
pub fn ks_distance(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sample.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sample.iter().enumerate() {
        let f = cdf(x);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    d
}
