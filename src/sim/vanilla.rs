//! Simulation of finite-width vanilla RNNs on pairs of input sequences.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::{Estimates, SimConfig, bias_vector, input_matrix, recurrent_matrix};
use crate::activation::Deriv;
use crate::cells::RhoSchedule;
use crate::cells::vanilla::Vanilla;
use crate::error::Result;

/// Empirical statistics over time: means over seeds with their standard errors.
///
/// Per seed and step: `q = (1/NB) Σ (e − μ_b)²` (averaged over the two sequences),
/// `Q = (1/NB) Σ h²`, `q_ab = (1/NB) Σ (e_a − μ_b)(e_b − μ_b)`, `C = (1/NB) Σ h_a h_b` and
/// `c = q_ab / √(q_a q_b)`; then the mean and standard error over seeds.
pub type SimTrajectory = Estimates<SimConfig>;

/// Per-step statistics of one seed: `[q, Q, q_ab, C, c]`.
type Stats = [f64; 5];

fn run_seed(v: &Vanilla, rho: &RhoSchedule, cfg: &SimConfig, s: usize) -> Vec<Stats> {
    let mut rng = cfg.rng(s);
    let p = v.params();
    let (n, nin, b) = (cfg.width, cfg.input_dim, cfg.batch);
    let sample_w =
        |rng: &mut rand_chacha::ChaCha8Rng| recurrent_matrix(rng, cfg.weights, n, p.sigma_w);
    let sample_v = |rng: &mut rand_chacha::ChaCha8Rng| input_matrix(rng, n, nin, p.sigma_v);
    let mut w = sample_w(&mut rng);
    let mut vin = sample_v(&mut rng);
    let mut bias = bias_vector(&mut rng, n, p.mu_b, p.sigma_b);
    let act = v.activation().clone();
    let sr = p.r.sqrt();
    // Columns 0..b: sequence a; b..2b: sequence b. h⁰ = 0.
    let mut h = DMatrix::<f64>::zeros(n, 2 * b);
    let mut out = Vec::with_capacity(rho.len());
    for (t, &r) in rho.values().iter().enumerate() {
        if !cfg.tied && t > 0 {
            w = sample_w(&mut rng);
            vin = sample_v(&mut rng);
        }
        if cfg.fresh_bias && t > 0 {
            bias = bias_vector(&mut rng, n, p.mu_b, p.sigma_b);
        }
        let mut x = DMatrix::<f64>::zeros(nin, 2 * b);
        let orth = ((1.0 - r) * (1.0 + r)).max(0.0).sqrt();
        for j in 0..b {
            for i in 0..nin {
                let g1: f64 = rng.sample(StandardNormal);
                let g2: f64 = rng.sample(StandardNormal);
                x[(i, j)] = sr * g1;
                x[(i, b + j)] = sr * (r * g1 + orth * g2);
            }
        }
        let mut e = &w * &h + &vin * &x;
        for j in 0..2 * b {
            for i in 0..n {
                e[(i, j)] += bias[i];
            }
        }
        let (mut qa, mut qb, mut qab, mut qq, mut cc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for j in 0..b {
            for i in 0..n {
                let (ea, eb) = (e[(i, j)], e[(i, b + j)]);
                let (da, db) = (ea - p.mu_b, eb - p.mu_b);
                let (ha, hb) = (act.eval(Deriv::Phi, ea), act.eval(Deriv::Phi, eb));
                qa += da * da;
                qb += db * db;
                qab += da * db;
                qq += 0.5 * (ha * ha + hb * hb);
                cc += ha * hb;
                h[(i, j)] = ha;
                h[(i, b + j)] = hb;
            }
        }
        let nb = (n * b) as f64;
        // √qa·√qb, not √(qa·qb): the product overflows long before the statistics do.
        let c = if qa > 0.0 && qb > 0.0 {
            qab / (qa.sqrt() * qb.sqrt())
        } else {
            1.0
        };
        crate::budget::tick(1);
        out.push([0.5 * (qa + qb) / nb, qq / nb, qab / nb, cc / nb, c]);
    }
    out
}

/// Simulates `cfg.seeds` independent networks on `cfg.batch` pairs of input sequences with
/// correlations `ρ^t`, returning the statistics of [`SimTrajectory`].
///
/// # Errors
/// [`crate::Error::TooLarge`] when the run would exceed the memory or time limit
/// ([`SimConfig::estimate`]).
/// [`Error::Diverged`](crate::Error::Diverged) at the first step where a statistic of some
/// network is not finite (the states overflowed), with [`Vanilla::divergence_reason`].
pub fn simulate(v: &Vanilla, rho: &RhoSchedule, cfg: &SimConfig) -> Result<SimTrajectory> {
    cfg.estimate(rho.len()).check()?;
    let per_seed: Vec<Vec<Stats>> = (0..cfg.seeds)
        .into_par_iter()
        .map(|s| run_seed(v, rho, cfg, s))
        .collect();
    super::check_finite_runs(&per_seed, || v.divergence_reason())?;
    Ok(super::estimates(&per_seed, rho.len(), *cfg))
}
