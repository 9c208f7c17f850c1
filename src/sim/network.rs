//! Simulation of finite-width networks of any cell on pairs of input sequences.
//!
//! One step of a network of width `N` on a batch of `B` pairs of sequences: the
//! pre-activations `e = W h + V x + b` for all `2B` columns by matrix products, then every
//! unit's new state from the cell's unit rule ([`Cell::update_states`]). The minimalRNN's
//! input enters its state, so its input dimension is the width (its `x` is the embedded
//! input `z`).

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::{NetworkWeights, SimConfig};
use crate::cells::{Cell, CellParams, Correlation, RhoSchedule};
use crate::error::Result;
use crate::stats::{Estimates, StepStats, check_finite_runs, estimates};

/// Empirical statistics over time: means over networks with their standard errors.
///
/// Per network and step: `q = (1/NB) Σ (e − μ_b)²` (averaged over the two sequences),
/// `Q = (1/NB) Σ h²` (likewise), `q_ab = (1/NB) Σ (e_a − μ_b)(e_b − μ_b)`,
/// `C = (1/NB) Σ h_a h_b`, and the correlation the cell's theory reports
/// ([`Cell::correlation`]): `c = q_ab / √(q_a q_b)` (vanilla) or `C / √(Q_a Q_b)`
/// (minimalRNN); then the mean and standard error over networks.
pub type SimTrajectory = Estimates<SimConfig>;

fn run_network(
    cell: &Cell,
    p: &CellParams,
    rho: &RhoSchedule,
    cfg: &SimConfig,
    s: usize,
) -> Vec<StepStats> {
    let mut rng = cfg.rng(s);
    let (n, b) = (cfg.width(), cfg.batch());
    let nin = cfg.input_dim();
    let mut net = NetworkWeights::draw(&mut rng, cfg, p);
    let state_input = cell.input_enters_state();
    let hidden = cell.correlation() == Correlation::Hidden;
    let sr = p.r().sqrt();
    let mu_b = p.mu_b();
    // Columns 0..b: sequence a; b..2b: sequence b. h⁰ = 0.
    let mut h = DMatrix::<f64>::zeros(n, 2 * b);
    let mut out = Vec::with_capacity(rho.len());
    for (t, &r) in rho.values().iter().enumerate() {
        if t > 0 {
            net.redraw(&mut rng, cfg, p);
        }
        // Inputs with per-coordinate second moment R; sequence b correlated with ρ^t.
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
        let mut e = &net.w * &h + &net.vin * &x;
        for j in 0..2 * b {
            for i in 0..n {
                e[(i, j)] += net.bias[i];
            }
        }
        let (mut qa, mut qb, mut qab, mut hha, mut hhb, mut cc) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        // Σ ½(h_a² + h_b²) unit by unit: the vanilla simulator's summation order before the
        // cells shared this loop, kept so that its Q is bit-for-bit what it was.
        let mut qq = 0.0;
        for j in 0..b {
            for i in 0..n {
                let (ea, eb) = (e[(i, j)], e[(i, b + j)]);
                let (da, db) = (ea - mu_b, eb - mu_b);
                qa += da * da;
                qb += db * db;
                qab += da * db;
                let (xa, xb) = if state_input {
                    (x[(i, j)], x[(i, b + j)])
                } else {
                    (0.0, 0.0)
                };
                let ha = cell.unit_state(h[(i, j)], ea, xa);
                let hb = cell.unit_state(h[(i, b + j)], eb, xb);
                h[(i, j)] = ha;
                h[(i, b + j)] = hb;
                hha += ha * ha;
                hhb += hb * hb;
                qq += 0.5 * (ha * ha + hb * hb);
                cc += ha * hb;
            }
        }
        let nb = (n * b) as f64;
        let (num, da, db) = if hidden {
            (cc, hha, hhb)
        } else {
            (qab, qa, qb)
        };
        // √a·√b, not √(a·b): the product overflows long before the statistics do.
        let c = if da > 0.0 && db > 0.0 {
            num / (da.sqrt() * db.sqrt())
        } else {
            1.0
        };
        crate::budget::tick(1);
        out.push(StepStats {
            q: 0.5 * (qa + qb) / nb,
            big_q: if hidden {
                0.5 * (hha + hhb) / nb
            } else {
                qq / nb
            },
            q_ab: qab / nb,
            big_c: cc / nb,
            c,
        });
    }
    out
}

/// Simulates `cfg.seeds()` independent networks of `cell` at `p` on `cfg.batch()` pairs of
/// input sequences with correlations `ρ^t`, returning the statistics of [`SimTrajectory`].
/// For a cell whose input enters its state (the minimalRNN) the input dimension is the width.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] when `p` violates the cell's constraint;
/// [`crate::Error::TooLarge`] when the run would exceed the memory or time limit
/// ([`SimConfig::estimate`]); [`crate::Error::Diverged`] at the first step where a statistic
/// of some network is not finite (the states overflowed), with the reason of the cell's
/// mean-field theory ([`crate::cells::MeanField::divergence_reason`]: a variance map that
/// grows without bound, or input scales near the limit of double precision).
pub fn simulate(
    cell: &Cell,
    p: &CellParams,
    rho: &RhoSchedule,
    cfg: &SimConfig,
) -> Result<SimTrajectory> {
    cell.validate(p)?;
    let cfg = if cell.input_enters_state() {
        cfg.with_state_sized_input()
    } else {
        *cfg
    };
    cfg.estimate(rho.len()).check()?;
    let per_network: Vec<Vec<StepStats>> = (0..cfg.seeds())
        .into_par_iter()
        .map(|s| run_network(cell, p, rho, &cfg, s))
        .collect();
    check_finite_runs(&per_network, || match cell.mean_field(p) {
        Ok(mf) => mf.divergence_reason(),
        Err(e) => e.to_string(),
    })?;
    Ok(estimates(&per_network, rho.len(), cfg))
}
