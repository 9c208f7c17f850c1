//! Exact timescales at stationarity (`theory/11-stationary-exact.md`, (X.6)–(X.8)).
//!
//! - **Synchronisation** (identical inputs, `ρ = 1`): two copies of the network that differ by
//!   a small `δ` at time 0 follow, per unit, the linearised two-copy process
//!   `δ^t = a^t δ^{t−1} + b^t ζ^t`, where `a, b` are the unit's Jacobian entries along its
//!   stationary path and `ζ^t = (W δ^{t−1})_i` is, by the same mean-field argument as the
//!   forward field, a zero-mean Gaussian sequence independent of the unit's own history, with
//!   covariance `σ_w² D(t−1, s−1)`, `D(t, s) = E[δ^t δ^s]` (X.6). It is *not* white: `δ` of a
//!   slow unit persists, so `ζ` does too. [`synchronisation`] samples this process forward in
//!   time for a population of unit paths (each new `ζ^t` from its Gaussian conditional on the
//!   path's earlier ones, the covariance taken from the population as in `exact`),
//!   renormalising `δ` every step, and returns the decay curve `ln D(t)/D(0)`.
//! - **Memory at independent inputs** (`ρ = 0`, minimalRNN): the cross-covariance of the two
//!   sequences' states decays per unit as `C^t = u_a^t u_b^t C^{t−1}` (the gates of the two
//!   sequences share the unit's static field and nothing else once `C` is small), so
//!   `C(t) ∝ E[P^0 ∏ u_a u_b]` (X.7); [`memory`] averages it over sampled pairs of paths.
//!
//! Neither decay need be exponential: units with a large static field (frozen bias) have
//! gates near 1 and forget slowly, and at long times they dominate the average. The
//! timescale reported is the local one at the horizon, `ξ = −1/λ` with `λ` the slope of
//! `ln D` over the second half of the horizon (X.8), and the slope over the quarter before it
//! is reported alongside: when they differ the decay is not exponential and `ξ` grows with the
//! horizon.

use nalgebra::DMatrix;
use num_complex::Complex64;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use super::fft::Circulant;
use super::{ReplicaSolution, StationaryFixedPoint, field_kernel};
use crate::activation::{Deriv, sigmoid};
use crate::cells::{Cell, CellParams};
use crate::error::{Error, Result};

/// A decay curve `ln D(t) − ln D(0)`, `t = 0..=H`, averaged over replicas, with its local
/// timescales.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecayCurve {
    /// `ln D(t)/D(0)` (replica mean), `t = 0..=H`.
    pub log_d: Vec<f64>,
    /// Its standard error.
    pub log_d_se: Vec<f64>,
    /// Growth factor per step `Λ = e^λ` of `D` over the second half of the horizon (the
    /// exact-theory `χ_c`; `< 1`: the copies converge).
    pub chi: f64,
    /// Its standard error.
    pub chi_se: f64,
    /// `ξ = −1/λ` (`None` when `λ >= 0`: no convergence at this horizon).
    pub xi: Option<f64>,
    /// Its standard error (delta method).
    pub xi_se: Option<f64>,
    /// The same factor over `[H/4, H/2]`: equal to `chi` within errors when the decay is
    /// exponential.
    pub chi_early: f64,
    /// Its standard error.
    pub chi_early_se: f64,
    /// The horizon `H` the slopes use: the one requested, or the last step before `ln D`
    /// falls below −40 (a fast decay).
    pub horizon: usize,
    /// Effective fraction of the population carrying `D` at the horizon,
    /// `(Σ δ²)² / (M Σ δ⁴)` averaged over replicas (synchronisation only; 1 for the memory
    /// curve): small values mean a few slow units dominate.
    pub effective_fraction: f64,
    /// Unit paths per replica.
    pub paths_per_replica: usize,
}

fn check_horizon(horizon: usize, fp: &StationaryFixedPoint) -> Result<()> {
    if horizon < 8 {
        return Err(Error::invalid("horizon", horizon as f64, "at least 8"));
    }
    let m = fp.replicas.iter().map(|r| r.period).min().unwrap_or(0);
    if horizon >= m {
        return Err(Error::invalid(
            "horizon",
            horizon as f64,
            "shorter than the period of the stationary paths (raise --length)",
        ));
    }
    Ok(())
}

fn budget(paths: usize, horizon: usize, replicas: usize, what: &str) -> Result<()> {
    use crate::budget::{blame, concurrency};
    let k = concurrency(replicas) as f64;
    let (m, h) = (paths as f64, horizon as f64);
    let (name, value) = blame(&[("paths", m, 1024.0), ("horizon", h, 256.0)]);
    crate::budget::Estimate::new(what.to_string())
        .memory(name, value, 8.0 * k * (4.0 * m * h + 2.0 * h * h))
        .ops(
            name,
            value,
            replicas as f64 * (4.0 * m * h * h + h * h * h / 3.0 + 100.0 * m * h),
            concurrency(replicas),
        )
        .check()
}

/// One replica's stationary unit paths: for each path the Jacobian entries `(a^t, b^t)`,
/// `t = 1..=H`, and the state variance `P^0` and gates for the memory curve.
struct UnitPaths {
    a: DMatrix<f64>,
    b: DMatrix<f64>,
}

/// Samples `paths` stationary unit paths from a replica's kernel and records the Jacobian
/// entries over `horizon` steps (inputs `z` sampled, the state on its periodic solution).
fn jacobian_paths(
    upd: &Cell,
    p: &CellParams,
    fp: &StationaryFixedPoint,
    sol: &ReplicaSolution,
    paths: usize,
    horizon: usize,
    rng: &mut ChaCha8Rng,
) -> Result<UnitPaths> {
    let (k, stat) = field_kernel(&sol.q, sol.q_inf, &sol.params, fp.regime);
    let m = sol.period;
    let circ = Circulant::new(&k, m)?;
    let mut buf = vec![Complex64::new(0.0, 0.0); m];
    let (mut ea, mut eb) = (vec![0.0; m], vec![0.0; m]);
    let mut a = DMatrix::zeros(paths, horizon);
    let mut b = DMatrix::zeros(paths, horizon);
    let sd = stat.sqrt();
    let sr = p.r().sqrt();
    let mut z = vec![0.0; m];
    let mut u = vec![0.0; m];
    let mut i = 0;
    while i < paths {
        circ.sample_pair(rng, &mut buf, &mut ea, &mut eb);
        for e in [&ea, &eb] {
            if i >= paths {
                break;
            }
            let s0: f64 = rng.sample(StandardNormal);
            let shift = p.mu_b() + sd * s0;
            match upd {
                Cell::Minimal => {
                    for t in 0..m {
                        u[t] = sigmoid(e[t] + shift);
                        z[t] = sr * rng.sample::<f64, _>(StandardNormal);
                    }
                    // Periodic solution of h_t = u_t h_{t−1} + (1 − u_t) z_t.
                    let (mut h, mut log_a) = (0.0, 0.0);
                    for t in 0..m {
                        h = u[t] * h + (1.0 - u[t]) * z[t];
                        log_a += u[t].ln();
                    }
                    let one_minus_a = -f64::exp_m1(log_a);
                    let mut h = if one_minus_a > 0.0 {
                        h / one_minus_a
                    } else {
                        0.0
                    };
                    for t in 0..=horizon {
                        let x = u[t];
                        if t > 0 {
                            a[(i, t - 1)] = x;
                            b[(i, t - 1)] = x * (1.0 - x) * (h - z[t]);
                        }
                        h = x * h + (1.0 - x) * z[t];
                    }
                }
                Cell::Vanilla(act) => {
                    for t in 1..=horizon {
                        b[(i, t - 1)] = act.eval(Deriv::DPhi, e[t] + shift);
                    }
                }
            }
            i += 1;
        }
    }
    Ok(UnitPaths { a, b })
}

/// `ln D(t)` over the horizon and the effective fraction at its end, for one replica.
fn tangent_replica(
    up: &UnitPaths,
    sigma_w: f64,
    tied: bool,
    rng: &mut ChaCha8Rng,
) -> (Vec<f64>, f64) {
    let (m, h) = (up.a.nrows(), up.a.ncols());
    let mf = m as f64;
    let sw2 = sigma_w * sigma_w;
    // δ̃ history (normalised to mean square 1 at every step), standard normals of ζ̃, and
    // the Cholesky factor of the ζ̃ covariance σ_w² d(t−1, s−1).
    let mut delta = DMatrix::<f64>::zeros(m, h + 1);
    let mut xi = DMatrix::<f64>::zeros(m, h);
    let mut l = DMatrix::<f64>::zeros(h, h);
    for i in 0..m {
        delta[(i, 0)] = rng.sample(StandardNormal);
    }
    let norm0 = (delta.column(0).norm_squared() / mf).sqrt();
    delta.column_mut(0).scale_mut(1.0 / norm0);
    let mut log_d = vec![0.0; h + 1];
    let mut zeta = vec![0.0; m];
    for t in 0..h {
        for i in 0..m {
            xi[(i, t)] = rng.sample(StandardNormal);
        }
        if tied {
            // Covariance of ζ̃^{t+1} with ζ̃^{s+1}, s ≤ t: σ_w² d(t, s).
            let k: Vec<f64> = (0..=t)
                .map(|s| sw2 * delta.column(t).dot(&delta.column(s)) / mf)
                .collect();
            for j in 0..t {
                let mut sum = k[j];
                for c in 0..j {
                    sum -= l[(t, c)] * l[(j, c)];
                }
                l[(t, j)] = if l[(j, j)] > 0.0 {
                    sum / l[(j, j)]
                } else {
                    0.0
                };
            }
            let mut diag = k[t];
            for c in 0..t {
                diag -= l[(t, c)] * l[(t, c)];
            }
            // A direction determined by the earlier ones gets no fresh noise (as in
            // `exact`).
            l[(t, t)] = if diag > 1e-10 * k[t].abs() {
                diag.sqrt()
            } else {
                0.0
            };
            let row = l.view((t, 0), (1, t + 1)).transpose();
            let z = xi.columns(0, t + 1) * row;
            zeta.copy_from_slice(z.as_slice());
        } else {
            for (i, zi) in zeta.iter_mut().enumerate() {
                *zi = sigma_w * xi[(i, t)];
            }
        }
        let mut g = 0.0;
        for i in 0..m {
            let x = up.a[(i, t)] * delta[(i, t)] + up.b[(i, t)] * zeta[i];
            delta[(i, t + 1)] = x;
            g += x * x;
        }
        g /= mf;
        if g > 0.0 {
            delta.column_mut(t + 1).scale_mut(1.0 / g.sqrt());
            log_d[t + 1] = log_d[t] + g.ln();
        } else {
            log_d[t + 1] = f64::NEG_INFINITY;
        }
        crate::budget::tick(1);
    }
    let last = delta.column(h);
    let s2: f64 = last.iter().map(|x| x * x).sum();
    let s4: f64 = last.iter().map(|x| x.powi(4)).sum();
    let eff = if s4 > 0.0 { s2 * s2 / (mf * s4) } else { 0.0 };
    (log_d, eff)
}

/// The decay below which a curve is cut (far below anything a network could resolve, far
/// above the products dropped as negligible).
const FLOOR: f64 = -40.0;

fn curve(per: Vec<(Vec<f64>, f64)>, horizon: usize, paths: usize) -> DecayCurve {
    let n = per.len();
    // The horizon actually used: the last step at which every replica's curve is above the
    // floor (a fast decay reaches it within a few steps).
    let h = (0..=horizon)
        .take_while(|&t| per.iter().all(|r| r.0[t].is_finite() && r.0[t] >= FLOOR))
        .last()
        .unwrap_or(0)
        .max(1);
    let mut log_d = Vec::with_capacity(horizon + 1);
    let mut log_d_se = Vec::with_capacity(horizon + 1);
    for t in 0..=horizon {
        let xs: Vec<f64> = per.iter().map(|r| r.0[t]).collect();
        let (a, b) = {
            let m = crate::stats::mean_se(&xs);
            (m.mean, m.se)
        };
        log_d.push(a);
        log_d_se.push(b);
    }
    let slope = |from: usize, to: usize| -> (f64, f64) {
        let xs: Vec<f64> = per
            .iter()
            .map(|r| (r.0[to] - r.0[from]) / (to - from) as f64)
            .collect();
        {
            let m = crate::stats::mean_se(&xs);
            (m.mean, m.se)
        }
    };
    let late = if h >= 2 { (h / 2, h) } else { (0, h) };
    let early = if h >= 4 { (h / 4, h / 2) } else { late };
    let (lam, lam_se) = slope(late.0, late.1);
    let (lam_e, lam_e_se) = slope(early.0, early.1);
    let (xi, xi_se) = if lam.is_finite() && lam < 0.0 {
        (Some(-1.0 / lam), Some(lam_se / (lam * lam)))
    } else {
        (None, None)
    };
    DecayCurve {
        log_d,
        log_d_se,
        chi: lam.exp(),
        chi_se: lam.exp() * lam_se,
        xi,
        xi_se,
        chi_early: lam_e.exp(),
        chi_early_se: lam_e.exp() * lam_e_se,
        horizon: h,
        effective_fraction: per.iter().map(|r| r.1).sum::<f64>() / n as f64,
        paths_per_replica: paths,
    }
}

/// Checks the request for a decay curve (`what`) of `paths` paths per replica over `horizon`
/// steps: valid parameters, a horizon within the paths' period, at least 16 paths, within the
/// limits.
fn check_curve(
    p: &CellParams,
    fp: &StationaryFixedPoint,
    horizon: usize,
    paths: usize,
    what: &str,
) -> Result<()> {
    super::check_params(p)?;
    check_horizon(horizon, fp)?;
    if paths < 16 {
        return Err(Error::invalid("paths", paths as f64, "at least 16"));
    }
    budget(paths, horizon, fp.replicas.len(), what)
}

/// The synchronisation curve of two copies with identical inputs (X.6): `ln D(t)/D(0)` of the
/// linearised two-copy process over `horizon` steps from the stationary state, with `paths`
/// unit paths per replica of `fp` (replica `r` uses ChaCha8 stream `r` of `seed`). Checked
/// against tied networks in `tests/stationary_theory.rs`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `horizon < 8`, a horizon not shorter than the paths'
/// period, or `paths < 16`; [`Error::TooLarge`] beyond the limits.
pub fn synchronisation(
    upd: &Cell,
    p: &CellParams,
    fp: &StationaryFixedPoint,
    horizon: usize,
    paths: usize,
    seed: u64,
) -> Result<DecayCurve> {
    check_curve(p, fp, horizon, paths, "the synchronisation curve")?;
    let per: Vec<Result<(Vec<f64>, f64)>> = fp
        .replicas
        .par_iter()
        .enumerate()
        .map(|(r, sol)| {
            let mut rng = crate::exact::replica_rng(seed, r);
            let up = jacobian_paths(upd, p, fp, sol, paths, horizon, &mut rng)?;
            Ok(tangent_replica(&up, p.sigma_w(), fp.regime.tied, &mut rng))
        })
        .collect();
    let per = per.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(curve(per, horizon, paths))
}

/// The memory curve at independent inputs (X.7, minimalRNN): `ln C(t)/C(0)` with
/// `C(t) = E[P^0 ∏_{k=1}^t u_a^k u_b^k]` over pairs of stationary gate paths that share the
/// unit's static field, `paths` pairs per replica, every start point of each periodic path
/// used (stride 1) up to `horizon`.
///
/// # Errors
/// [`Error::Unsupported`] for the vanilla cell; as [`synchronisation`].
pub fn memory(
    upd: &Cell,
    p: &CellParams,
    fp: &StationaryFixedPoint,
    horizon: usize,
    paths: usize,
    seed: u64,
) -> Result<DecayCurve> {
    if !matches!(upd, Cell::Minimal) {
        return Err(Error::Unsupported(
            "the exact memory curve at independent inputs is derived for the minimalRNN".into(),
        ));
    }
    check_curve(p, fp, horizon, paths, "the memory curve")?;
    let per: Vec<Result<(Vec<f64>, f64)>> = fp
        .replicas
        .par_iter()
        .enumerate()
        .map(|(r, sol)| {
            let mut rng = crate::exact::replica_rng(seed, r);
            let (k, stat) = field_kernel(&sol.q, sol.q_inf, &sol.params, fp.regime);
            let m = sol.period;
            let circ = Circulant::new(&k, m)?;
            let mut buf = vec![Complex64::new(0.0, 0.0); m];
            let (mut ea, mut eb) = (vec![0.0; m], vec![0.0; m]);
            let mut acc = vec![0.0; horizon + 1];
            let sd = stat.sqrt();
            let mut lu = vec![0.0; m + horizon];
            let mut ua = vec![0.0; m];
            for _ in 0..paths {
                circ.sample_pair(&mut rng, &mut buf, &mut ea, &mut eb);
                let s0: f64 = rng.sample(StandardNormal);
                let shift = p.mu_b() + sd * s0;
                for t in 0..m {
                    ua[t] = sigmoid(ea[t] + shift);
                    lu[t] = sigmoid(ea[t] + shift) * sigmoid(eb[t] + shift);
                }
                lu.copy_within(0..horizon, m);
                // P along path a (the state variance the two sequences shared).
                let mut pv = super::periodic_variance(&ua, p.r());
                for t in 0..m {
                    let x = ua[t];
                    pv = x * x * pv + (1.0 - x) * (1.0 - x) * p.r();
                    let mut prod = pv;
                    acc[0] += prod;
                    // Below 1e-30 of P^0 a product is irrelevant at any horizon reported.
                    let cut = 1e-30 * pv;
                    for (tau, &x) in lu[t + 1..=t + horizon].iter().enumerate() {
                        prod *= x;
                        acc[tau + 1] += prod;
                        if prod < cut {
                            break;
                        }
                    }
                }
                crate::budget::tick(1);
            }
            let log_d: Vec<f64> = acc.iter().map(|x| (x / acc[0]).ln()).collect();
            Ok((log_d, 1.0))
        })
        .collect();
    let per = per.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(curve(per, horizon, paths))
}
