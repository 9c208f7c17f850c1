//! The exact infinite-width theory of the real network (tied weights, frozen biases): the
//! per-unit Gaussian process over time (`theory/03-minimal-rnn.md`, (E.1)–(E.3)).
//!
//! One unit's gate pre-activations over time and over the two sequences,
//! `(e_a^1, e_b^1, …, e_a^T, e_b^T)`, are jointly Gaussian with mean `μ_b` and covariance
//!
//! `K(e_x^t, e_y^s) = σ_w² Q_xy(t−1, s−1) + σ_v² R ρ_xy^t δ_ts + σ_b²`,
//!
//! where `Q_xy(t, s) = E[h_x^t h_y^s]` is the unit's two-time state correlation (zero at time
//! 0), `ρ_aa = 1`, `ρ_ab^t = ρ^t`. With untied weights the `σ_w²` term is present only at
//! `t = s`; with a bias redrawn every step, the `σ_b²` term only at `t = s`. `Q` is obtained
//! self-consistently: `M` unit paths are sampled forward in time, each new pre-activation from
//! its Gaussian conditional given the path so far (an incremental Cholesky factor of `K`),
//! and `Q` up to time `t` is the average over the paths. Cost `O(M T²)`.
//!
//! The statistical error comes from splitting the units into independent replicas, each
//! solved self-consistently on its own paths; estimates are the replica means, errors the
//! standard errors over replicas (the self-consistency adds a bias of order `1/M_replica`,
//! far below the standard error at the default sizes).
//!
//! [`stationary`] solves the same theory at stationarity (a DMFT fixed point with its
//! timescales, `theory/11-stationary-exact.md`) and samples it over long horizons
//! ([`stationary::transient`]).

pub mod stationary;

use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use crate::cells::{Cell, CellParams, Correlation, Regime, RhoSchedule};
use crate::error::{Error, Result};
use crate::stats::{Estimates, StepStats, check_finite_runs, estimates, mean_se};

/// Per-unit Jacobian entries `a, b` (units × recorded steps) of sequence `a` along the unit
/// paths of one replica: the diagonals of `J^t = diag(a^t) + diag(b^t) W`.
#[derive(Debug, Clone, PartialEq)]
pub struct JacobianPaths {
    /// `a_{i,t}` (rows: units, columns: recorded steps).
    pub a: DMatrix<f64>,
    /// `b_{i,t}` (without the factor `σ_w`).
    pub b: DMatrix<f64>,
}

/// Settings of the unit-process sampler (validated; built with
/// [`ExactConfig::builder`]). Serialised with the keys `units`, `replicas`, `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactConfig {
    units: usize,
    replicas: usize,
    seed: u64,
}

/// The builder of [`ExactConfig`]; unset values default to 40 000 unit paths in 8 replicas,
/// seed 1.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct ExactConfigBuilder {
    units: usize,
    replicas: usize,
    seed: u64,
}

impl ExactConfigBuilder {
    /// Total number of unit paths `M` (split over the replicas).
    pub fn units(mut self, units: usize) -> Self {
        self.units = units;
        self
    }
    /// Independent replicas (for the standard errors).
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas;
        self
    }
    /// Base seed (replica `r` uses ChaCha8 stream `r`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `units` (at least 2 per replica) or `replicas`
    /// (at least 2); [`Error::TooLarge`] when one step would not fit in memory (the sampler
    /// checks again with the number of steps: [`ExactConfig::estimate`]).
    pub fn build(self) -> Result<ExactConfig> {
        let ExactConfigBuilder {
            units,
            replicas,
            seed,
        } = self;
        check_replicas("units", units, replicas)?;
        let cfg = ExactConfig {
            units,
            replicas,
            seed,
        };
        cfg.estimate(("steps", 1), 0).check()?;
        Ok(cfg)
    }
}

impl ExactConfig {
    /// A builder with the defaults of [`ExactConfigBuilder`].
    pub fn builder() -> ExactConfigBuilder {
        ExactConfigBuilder {
            units: 40_000,
            replicas: 8,
            seed: 1,
        }
    }
    /// Total number of unit paths.
    pub fn units(&self) -> usize {
        self.units
    }
    /// Independent replicas.
    pub fn replicas(&self) -> usize {
        self.replicas
    }
    /// Base seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The memory and time of sampling `steps.1` steps (the parameter named `steps.0` in
    /// messages), recording the Jacobian entries of the last `recorded` steps. Per running
    /// replica of `m = units/replicas` paths over `D = 2T` dimensions: the normals and states
    /// (`2 m D` doubles), the Cholesky factor (`D²`: memory grows as `T²`) and the recorded
    /// entries (`2 m · recorded`); time `≈ 4 m D² + D³/3` a replica (the covariances with every
    /// earlier dimension, the conditional means, the incremental Cholesky factor).
    pub fn estimate(
        &self,
        steps: (&'static str, usize),
        recorded: usize,
    ) -> crate::budget::Estimate {
        use crate::budget::{blame, concurrency};
        let k = concurrency(self.replicas) as f64;
        let m = (self.units / self.replicas.max(1)) as f64;
        let (t, rec) = (steps.1 as f64, recorded as f64);
        let d = 2.0 * t;
        let r = self.replicas as f64;
        let (paths, pv) = blame(&[("units", self.units as f64, 40_000.0), (steps.0, t, 50.0)]);
        let (reps, rv) = blame(&[("replicas", r, 8.0), (steps.0, t, 50.0)]);
        let (all, av) = blame(&[
            ("units", self.units as f64, 40_000.0),
            (steps.0, t, 50.0),
            ("replicas", r, 8.0),
        ]);
        crate::budget::Estimate::new("the exact-theory sampler")
            .memory(paths, pv, 8.0 * k * (2.0 * m * d + 2.0 * m * rec + 3.0 * m))
            .memory(steps.0, t, 8.0 * k * (d * d + d))
            .memory(reps, rv, 40.0 * r * t + 96.0 * t)
            .ops(
                all,
                av,
                r * (4.0 * m * d * d + d * d * d / 3.0 + 40.0 * m * d),
                concurrency(self.replicas),
            )
    }
}

/// Exact-theory trajectory: replica means and their standard errors. `q` and `q_ab` are the
/// diagonal and cross terms of `K` at each step; `c` is `C/Q` for the minimalRNN (hidden
/// correlation) and `q_ab/q` for the vanilla RNN.
pub type ExactTrajectory = Estimates<ExactConfig>;

#[allow(clippy::too_many_arguments)]
fn run_replica(
    cell: &Cell,
    p: &CellParams,
    rho: &RhoSchedule,
    regime: Regime,
    m: usize,
    mut rng: ChaCha8Rng,
    hidden_corr: bool,
    record_from: Option<usize>,
) -> (Vec<StepStats>, Option<JacobianPaths>) {
    let steps = rho.len();
    let dims = 2 * steps;
    let sw2 = p.sigma_w() * p.sigma_w();
    let sb2 = p.sigma_b() * p.sigma_b();
    let sv2r = p.sigma_v() * p.sigma_v() * p.r();
    let sr = p.r().sqrt();
    // Column d of `xi`: the standard normals of dimension d; of `h`: the states after it.
    let mut xi = DMatrix::<f64>::zeros(m, dims);
    let mut hs = DMatrix::<f64>::zeros(m, dims);
    let mut l = DMatrix::<f64>::zeros(dims, dims);
    let mut za = vec![0.0f64; m];
    let mut out = Vec::with_capacity(steps);
    let recorded = record_from.map_or(0, |r| steps.saturating_sub(r));
    let mut jac = record_from.map(|_| JacobianPaths {
        a: DMatrix::zeros(m, recorded),
        b: DMatrix::zeros(m, recorded),
    });
    let mf = m as f64;
    // Q_xy(t−1, s−1) between the state columns (dimension index of time t−1, seq x) and
    // (time s−1, seq y); zero when either time is 0.
    let qcorr = |hs: &DMatrix<f64>, da: Option<usize>, db: Option<usize>| -> f64 {
        match (da, db) {
            (Some(i), Some(j)) => hs.column(i).dot(&hs.column(j)) / mf,
            _ => 0.0,
        }
    };
    for t in 0..steps {
        let r = rho.values()[t];
        for x in 0..2 {
            let d = 2 * t + x;
            // Covariance of the new dimension with every earlier one and itself.
            let prev_state =
                |tt: usize, y: usize| -> Option<usize> { (tt > 0).then(|| 2 * (tt - 1) + y) };
            let mut k = vec![0.0; d + 1];
            for (e, slot) in k.iter_mut().enumerate() {
                let (s, y) = (e / 2, e % 2);
                let same_time = s == t;
                let mut v = 0.0;
                if regime.tied || same_time {
                    v += sw2 * qcorr(&hs, prev_state(t, x), prev_state(s, y));
                }
                if same_time {
                    v += sv2r * if x == y { 1.0 } else { r };
                }
                if !regime.fresh_bias || same_time {
                    v += sb2;
                }
                *slot = v;
            }
            // Incremental Cholesky: L[d, :d] solves L[:d, :d] y = k[:d].
            for j in 0..d {
                let mut sum = k[j];
                for i in 0..j {
                    sum -= l[(d, i)] * l[(j, i)];
                }
                l[(d, j)] = if l[(j, j)] > 0.0 {
                    sum / l[(j, j)]
                } else {
                    0.0
                };
            }
            let mut diag = k[d];
            for i in 0..d {
                diag -= l[(d, i)] * l[(d, i)];
            }
            // A dimension (numerically) determined by the earlier ones — e.g. the second
            // sequence when ρ = 1 — gets no fresh noise and, later, no weight: dividing by
            // a pivot made of rounding error would amplify it without bound.
            l[(d, d)] = if diag > 1e-10 * k[d].abs() {
                diag.sqrt()
            } else {
                0.0
            };
            for i in 0..m {
                xi[(i, d)] = rng.sample::<f64, _>(StandardNormal);
            }
            let row = l.view((d, 0), (1, d + 1)).transpose();
            let e = xi.columns(0, d + 1) * row;
            // Inputs: z_a ~ N(0, R); z_b with correlation ρ^t to z_a (its normal kept in `za`).
            let orth = ((1.0 - r) * (1.0 + r)).max(0.0).sqrt();
            for i in 0..m {
                let hp = if t > 0 { hs[(i, d - 2)] } else { 0.0 };
                let z = if x == 0 {
                    za[i] = rng.sample(StandardNormal);
                    sr * za[i]
                } else {
                    let g2: f64 = rng.sample(StandardNormal);
                    sr * (r * za[i] + orth * g2)
                };
                hs[(i, d)] = cell.unit_state(hp, p.mu_b() + e[(i, 0)], z);
                if x == 0
                    && let (Some(from), Some(j)) = (record_from, jac.as_mut())
                    && t >= from
                {
                    let slopes = cell.unit_slopes(hp, p.mu_b() + e[(i, 0)], z);
                    j.a[(i, t - from)] = slopes.a;
                    j.b[(i, t - from)] = slopes.b;
                }
            }
        }
        // Work of this step grows with t (covariances with every earlier dimension).
        crate::budget::tick(2 * t as u64 + 1);
        let (da, db) = (2 * t, 2 * t + 1);
        let q = l.row(da).dot(&l.row(da));
        let q_ab = l.row(da).dot(&l.row(db));
        let qb = l.row(db).dot(&l.row(db));
        let qa_h = hs.column(da).dot(&hs.column(da)) / mf;
        let qb_h = hs.column(db).dot(&hs.column(db)) / mf;
        let cc = hs.column(da).dot(&hs.column(db)) / mf;
        // √a·√b, not √(a·b): the product overflows long before the statistics do.
        let c = if hidden_corr {
            if qa_h > 0.0 && qb_h > 0.0 {
                cc / (qa_h.sqrt() * qb_h.sqrt())
            } else {
                1.0
            }
        } else if q > 0.0 && qb > 0.0 {
            q_ab / (q.sqrt() * qb.sqrt())
        } else {
            1.0
        };
        // An overflowed covariance breaks the Cholesky factor (pivots set to 0 above would
        // silently drop the noise): mark the step as not finite so that the caller reports
        // the divergence instead of numbers.
        let broken = (0..=db).any(|j| !(l[(da, j)].is_finite() && l[(db, j)].is_finite()));
        if broken {
            out.push(StepStats::not_finite());
        } else {
            out.push(StepStats {
                q: 0.5 * (q + qb),
                big_q: 0.5 * (qa_h + qb_h),
                q_ab,
                big_c: cc,
                c,
            });
        }
    }
    (out, jac)
}

/// Why the unit process of this cell can overflow: the mean-field reason
/// ([`crate::cells::MeanField::divergence_reason`]: growth of the variance map for unbounded
/// activations, otherwise the input scales).
fn divergence_reason(cell: &Cell, p: &CellParams) -> String {
    match cell.mean_field(p) {
        Ok(mf) => mf.divergence_reason(),
        Err(e) => e.to_string(),
    }
}

/// Samples the unit process and returns the statistics over time.
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid settings; [`Error::TooLarge`] beyond the memory or
/// time limit ([`ExactConfig::estimate`]); [`Error::Diverged`] at the first step where a
/// statistic of some replica is not finite (a variance that grows without bound, e.g. ReLU
/// with `σ_w > √2`), instead of overflowed numbers.
pub fn trajectory(
    cell: &Cell,
    p: &CellParams,
    rho: &RhoSchedule,
    regime: Regime,
    cfg: &ExactConfig,
) -> Result<ExactTrajectory> {
    cfg.estimate(("steps", rho.len()), 0).check()?;
    let m = cfg.units() / cfg.replicas();
    let hidden_corr = cell.correlation() == Correlation::Hidden;
    let reps: Vec<Vec<StepStats>> = (0..cfg.replicas())
        .into_par_iter()
        .map(|r| {
            let rng = replica_rng(cfg.seed(), r);
            run_replica(cell, p, rho, regime, m, rng, hidden_corr, None).0
        })
        .collect();
    check_finite_runs(&reps, || divergence_reason(cell, p))?;
    Ok(estimates(&reps, rho.len(), *cfg))
}

/// Samples the unit process for `burn_in + steps` steps and returns,
/// per replica, the Jacobian entries of the last `steps` steps.
///
/// # Errors
/// [`Error::InvalidParameter`] for `steps == 0`; [`Error::TooLarge`] beyond the memory or
/// time limit ([`ExactConfig::estimate`], naming `burn-in` or `steps`).
pub fn jacobian_paths(
    cell: &Cell,
    p: &CellParams,
    regime: Regime,
    burn_in: usize,
    steps: usize,
    cfg: &ExactConfig,
) -> Result<Vec<JacobianPaths>> {
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let total = burn_in
        .checked_add(steps)
        .ok_or_else(|| Error::invalid("burn-in", burn_in as f64, "burn-in + steps below 2^64"))?;
    let (name, _) = crate::budget::blame(&[
        ("burn-in", burn_in as f64, 50.0),
        ("steps", steps as f64, 10.0),
    ]);
    cfg.estimate((name, total), steps).check()?;
    // The second sequence is not needed; make it independent (ρ = 0) so that it adds no
    // degenerate dimensions.
    let rho = RhoSchedule::constant(0.0, burn_in + steps)?;
    let m = cfg.units() / cfg.replicas();
    let hidden_corr = cell.correlation() == Correlation::Hidden;
    Ok((0..cfg.replicas())
        .into_par_iter()
        .map(|r| {
            let rng = replica_rng(cfg.seed(), r);
            run_replica(cell, p, &rho, regime, m, rng, hidden_corr, Some(burn_in))
                .1
                .expect("recording requested")
        })
        .collect())
}

/// `m₁` after each recorded step by the per-unit recursion ([`m1_by_unit_recursion`]): replica
/// means and their standard errors; entry `t` is after `t + 1` steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct M1Recursion {
    /// `m₁ = tr(J_T J_Tᵀ)/N`.
    pub m1: Vec<f64>,
    /// Its standard error over replicas.
    pub se: Vec<f64>,
}

/// `m₁ = tr(J_T J_Tᵀ)/N` over the recorded steps by the per-unit recursion
/// `p_{t,i} = a_{t,i}² p_{t−1,i} + σ_w² b_{t,i}² ⟨p_{t−1}⟩`, `p_0 = 1` — exact for a
/// Jacobian whose `W` is drawn afresh each step, given the diagonals
/// (`theory/04-spectra.md`, (S.6)).
pub fn m1_by_unit_recursion(paths: &[JacobianPaths], sigma_w: f64) -> M1Recursion {
    let steps = paths.first().map_or(0, |p| p.a.ncols());
    let sw2 = sigma_w * sigma_w;
    let per: Vec<Vec<f64>> = paths
        .iter()
        .map(|jp| {
            let m = jp.a.nrows();
            let mut p = vec![1.0; m];
            let mut out = Vec::with_capacity(steps);
            for t in 0..steps {
                let mean = p.iter().sum::<f64>() / m as f64;
                for (i, pi) in p.iter_mut().enumerate() {
                    let (a, b) = (jp.a[(i, t)], jp.b[(i, t)]);
                    *pi = a * a * *pi + sw2 * b * b * mean;
                }
                out.push(p.iter().sum::<f64>() / m as f64);
            }
            out
        })
        .collect();
    let mut mean = Vec::with_capacity(steps);
    let mut se = Vec::with_capacity(steps);
    for t in 0..steps {
        let xs: Vec<f64> = per.iter().map(|v| v[t]).collect();
        let s = mean_se(&xs);
        mean.push(s.mean);
        se.push(s.se);
    }
    M1Recursion { m1: mean, se }
}

/// The random stream of replica `r` of a sampler seeded by `seed`: ChaCha8 stream `r`, so
/// that replicas are independent and each is the same whatever the number of threads.
pub(crate) fn replica_rng(seed: u64, r: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(r as u64);
    rng
}

/// The sample sizes of a replicated sampler: at least 2 replicas (for a standard error) and
/// at least 2 of the `name`d samples per replica.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `replicas` or `name`.
pub(crate) fn check_replicas(name: &'static str, count: usize, replicas: usize) -> Result<()> {
    if replicas < 2 {
        return Err(Error::invalid("replicas", replicas as f64, "at least 2"));
    }
    if count < 2 * replicas {
        return Err(Error::invalid(name, count as f64, "at least 2 per replica"));
    }
    Ok(())
}
