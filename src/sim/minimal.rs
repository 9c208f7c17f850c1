//! Simulation of finite-width minimalRNNs on pairs of (embedded) input sequences.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::vanilla::SimTrajectory;
use super::{SimConfig, bias_vector, input_matrix, recurrent_matrix};
use crate::activation::sigmoid;
use crate::cells::RhoSchedule;
use crate::cells::minimal::Minimal;
use crate::error::Result;

type Stats = [f64; 5];

fn run_seed(m: &Minimal, rho: &RhoSchedule, cfg: &SimConfig, s: usize) -> Vec<Stats> {
    let mut rng = cfg.rng(s);
    let p = m.params();
    let (n, b) = (cfg.width, cfg.batch);
    let sample_w =
        |rng: &mut rand_chacha::ChaCha8Rng| recurrent_matrix(rng, cfg.weights, n, p.sigma_w);
    let sample_v = |rng: &mut rand_chacha::ChaCha8Rng| input_matrix(rng, n, n, p.sigma_v);
    let sample_b = |rng: &mut rand_chacha::ChaCha8Rng| bias_vector(rng, n, p.mu_b, p.sigma_b);
    let mut w = sample_w(&mut rng);
    let mut vin = sample_v(&mut rng);
    let mut bias = sample_b(&mut rng);
    let sr = p.r.sqrt();
    let mut h = DMatrix::<f64>::zeros(n, 2 * b);
    let mut out = Vec::with_capacity(rho.len());
    for (t, &r) in rho.values().iter().enumerate() {
        if t > 0 {
            if !cfg.tied {
                w = sample_w(&mut rng);
                vin = sample_v(&mut rng);
            }
            if cfg.fresh_bias {
                bias = sample_b(&mut rng);
            }
        }
        // Embedded inputs z ~ N(0, R) per coordinate; the b sequence correlated with ρ^t.
        let mut z = DMatrix::<f64>::zeros(n, 2 * b);
        let orth = ((1.0 - r) * (1.0 + r)).max(0.0).sqrt();
        for j in 0..b {
            for i in 0..n {
                let g1: f64 = rng.sample(StandardNormal);
                let g2: f64 = rng.sample(StandardNormal);
                z[(i, j)] = sr * g1;
                z[(i, b + j)] = sr * (r * g1 + orth * g2);
            }
        }
        let e = &w * &h + &vin * &z;
        let (mut qa, mut qb, mut qab, mut hha, mut hhb, mut cc) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for j in 0..b {
            for i in 0..n {
                let ea = e[(i, j)] + bias[i];
                let eb = e[(i, b + j)] + bias[i];
                let (da, db) = (ea - p.mu_b, eb - p.mu_b);
                qa += da * da;
                qb += db * db;
                qab += da * db;
                let (ua, ub) = (sigmoid(ea), sigmoid(eb));
                let ha = ua * h[(i, j)] + (1.0 - ua) * z[(i, j)];
                let hb = ub * h[(i, b + j)] + (1.0 - ub) * z[(i, b + j)];
                h[(i, j)] = ha;
                h[(i, b + j)] = hb;
                hha += ha * ha;
                hhb += hb * hb;
                cc += ha * hb;
            }
        }
        let nb = (n * b) as f64;
        let c = if hha > 0.0 && hhb > 0.0 {
            cc / (hha.sqrt() * hhb.sqrt())
        } else {
            1.0
        };
        crate::budget::tick(1);
        out.push([
            0.5 * (qa + qb) / nb,
            0.5 * (hha + hhb) / nb,
            qab / nb,
            cc / nb,
            c,
        ]);
    }
    out
}

/// Simulates `cfg.seeds` independent minimalRNNs on `cfg.batch` pairs of input sequences.
/// `c` is the hidden-state correlation `C/√(Q_a Q_b)`, the quantity of the theory's (M.3).
///
/// # Errors
/// [`crate::Error::TooLarge`] when the run would exceed the memory or time limit
/// ([`SimConfig::estimate`], with the input dimension equal to the width).
/// [`Error::Diverged`](crate::Error::Diverged) at the first step where a statistic of some
/// network is not finite, with [`Minimal::divergence_reason`] (the state is bounded by the
/// inputs, so only input scales near the limit of double precision overflow).
pub fn simulate(m: &Minimal, rho: &RhoSchedule, cfg: &SimConfig) -> Result<SimTrajectory> {
    SimConfig {
        input_dim: cfg.width,
        ..*cfg
    }
    .estimate(rho.len())
    .check()?;
    let per_seed: Vec<Vec<Stats>> = (0..cfg.seeds)
        .into_par_iter()
        .map(|s| run_seed(m, rho, cfg, s))
        .collect();
    super::check_finite_runs(&per_seed, || m.divergence_reason())?;
    Ok(super::estimates(&per_seed, rho.len(), *cfg))
}
