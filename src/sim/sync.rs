//! Stationary statistics and the forgetting of tied, frozen-bias networks: what the exact
//! stationary theory (`exact::stationary`, `theory/11-stationary-exact.md`) predicts, measured
//! on finite networks.
//!
//! Each network runs `batch` independent input sequences from `h^0 = 0` for `burn_in` steps,
//! then for `steps` more steps records
//!
//! - the time-averaged state second moment `Q̄ = ⟨h²⟩` and the Jacobian's mean squared singular
//!   value `m₁ = ‖J^t‖_F²/N`, `J^t = diag(a^t) + diag(b^t) W` (vanilla `a = 0`, `b = φ'(e)`;
//!   minimalRNN `a = u`, `b = u(1 − u)(h^{t−1} − z^t)`);
//! - the **synchronisation curve** `ln D(t)/D(0)` of two copies fed identical inputs after an
//!   infinitesimal random perturbation at time 0: the tangent `δ^t = J^t δ^{t−1}`, propagated
//!   exactly and renormalised every step (so no dynamic range is lost);
//! - the **memory curve** `C(t)/C(0)` (minimalRNN): a second copy of the state taken at time 0
//!   is fed independent inputs, and `C(t) = ⟨h_a h_b⟩` is the overlap the two keep of their
//!   shared past.
//!
//! Means and standard errors are over networks (each network has its own ChaCha8 stream, as in
//! [`super::SimConfig::rng`], so results do not depend on the number of threads).

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use super::{SimConfig, bias_vector, input_matrix, recurrent_matrix};
use crate::activation::{Deriv, sigmoid};
use crate::cells::{Cell, CellParams};
use crate::error::{Error, Result};

/// Stationary statistics and forgetting curves of simulated networks (means over networks with
/// standard errors).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncMeasurement {
    /// `Q̄`, the state second moment averaged over the recorded steps.
    #[serde(rename = "Q_mean")]
    pub big_q: f64,
    /// Its standard error.
    #[serde(rename = "Q_mean_se")]
    pub big_q_se: f64,
    /// `m₁ = ‖J‖_F²/N` averaged over the recorded steps.
    pub m1: f64,
    /// Its standard error.
    pub m1_se: f64,
    /// `ln D(t)/D(0)`, `t = 0..=steps`.
    pub log_d: Vec<f64>,
    /// Its standard error.
    pub log_d_se: Vec<f64>,
    /// `C(t)/C(0)`, `t = 0..=steps` (minimalRNN; empty for the vanilla cell).
    pub memory: Vec<f64>,
    /// Its standard error.
    pub memory_se: Vec<f64>,
    /// The settings.
    pub config: SimConfig,
}

type PerNetwork = (f64, f64, Vec<f64>, Vec<f64>);

fn run_network(
    upd: &Cell,
    p: &CellParams,
    cfg: &SimConfig,
    burn_in: usize,
    steps: usize,
    s: usize,
) -> PerNetwork {
    let mut rng = cfg.rng(s);
    let (n, b) = (cfg.width, cfg.batch);
    let w = recurrent_matrix(&mut rng, cfg.weights, n, p.sigma_w());
    let vin = input_matrix(&mut rng, n, n, p.sigma_v());
    let bias = bias_vector(&mut rng, n, p.mu_b(), p.sigma_b());
    let row2: Vec<f64> = (0..n).map(|i| w.row(i).norm_squared()).collect();
    let sr = p.r().sqrt();
    let minimal = matches!(upd, Cell::Minimal);
    let mut h = DMatrix::<f64>::zeros(n, b);
    let mut hb = DMatrix::<f64>::zeros(n, b);
    let mut delta = DMatrix::<f64>::zeros(n, b);
    let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
        DMatrix::<f64>::from_fn(n, b, |_, _| sr * rng.sample::<f64, _>(StandardNormal))
    };
    let (mut q_sum, mut m1_sum) = (0.0, 0.0);
    let mut log_d = vec![0.0; steps + 1];
    let mut memory = vec![1.0; steps + 1];
    let mut c0 = 0.0;
    let nb = (n * b) as f64;
    for t in 0..burn_in + steps {
        let rec = t >= burn_in;
        if t == burn_in {
            for x in delta.iter_mut() {
                *x = rng.sample(StandardNormal);
            }
            let d = delta.norm_squared() / nb;
            delta /= d.sqrt();
            hb.copy_from(&h);
            c0 = h.norm_squared() / nb;
        }
        let z = draw(&mut rng);
        let e = &w * &h + &vin * &z;
        let wd = if rec { Some(&w * &delta) } else { None };
        let (zb, eb) = if rec && minimal {
            let zb = draw(&mut rng);
            let eb = &w * &hb + &vin * &zb;
            (Some(zb), Some(eb))
        } else {
            (None, None)
        };
        let (mut qs, mut ms) = (0.0, 0.0);
        for j in 0..b {
            for i in 0..n {
                let x = e[(i, j)] + bias[i];
                let hp = h[(i, j)];
                let (a, bj, hn) = match upd {
                    Cell::Minimal => {
                        let u = sigmoid(x);
                        let zi = z[(i, j)];
                        (u, u * (1.0 - u) * (hp - zi), u * hp + (1.0 - u) * zi)
                    }
                    Cell::Vanilla(act) => (0.0, act.eval(Deriv::DPhi, x), act.eval(Deriv::Phi, x)),
                };
                h[(i, j)] = hn;
                if rec {
                    qs += hn * hn;
                    ms += a * a + 2.0 * a * bj * w[(i, i)] + bj * bj * row2[i];
                    let wd = wd.as_ref().expect("recording");
                    delta[(i, j)] = a * delta[(i, j)] + bj * wd[(i, j)];
                    if let (Some(zb), Some(eb)) = (zb.as_ref(), eb.as_ref()) {
                        let u = sigmoid(eb[(i, j)] + bias[i]);
                        let hp = hb[(i, j)];
                        hb[(i, j)] = u * hp + (1.0 - u) * zb[(i, j)];
                    }
                }
            }
        }
        if rec {
            let k = t - burn_in + 1;
            q_sum += qs / nb;
            m1_sum += ms / nb;
            let d = delta.norm_squared() / nb;
            log_d[k] = log_d[k - 1] + d.ln();
            delta /= d.sqrt();
            if minimal {
                memory[k] = h.dot(&hb) / nb / c0;
            }
        }
        crate::budget::tick(1);
    }
    let s = steps as f64;
    if !minimal {
        memory.clear();
    }
    (q_sum / s, m1_sum / s, log_d, memory)
}

/// Simulates `cfg.seeds` tied, frozen-bias networks (the regime of `cfg` must be tied and
/// frozen) and measures their stationary statistics and forgetting curves.
///
/// # Errors
/// [`Error::Unsupported`] for untied weights or a fresh bias; [`Error::InvalidParameter`] for
/// `steps == 0`; [`Error::TooLarge`] beyond the limits.
pub fn measure(
    upd: &Cell,
    p: &CellParams,
    cfg: &SimConfig,
    burn_in: usize,
    steps: usize,
) -> Result<SyncMeasurement> {
    // The same refusal as the stationary theory it is compared with: an input, R > 0.
    if p.r() <= 0.0 {
        return Err(Error::invalid("r", p.r(), "a finite number > 0"));
    }
    if !cfg.regime.tied || cfg.regime.fresh_bias {
        return Err(Error::Unsupported(
            "the synchronisation measurement runs real networks: tied weights, frozen bias".into(),
        ));
    }
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let total = burn_in
        .checked_add(steps)
        .ok_or_else(|| Error::invalid("burn-in", burn_in as f64, "burn-in + steps below 2^64"))?;
    // Three products with W per step (state, tangent, memory copy).
    let c3 = SimConfig {
        batch: 3 * cfg.batch,
        input_dim: cfg.width,
        ..*cfg
    };
    c3.estimate(total).check()?;
    let per: Vec<PerNetwork> = (0..cfg.seeds)
        .into_par_iter()
        .map(|s| run_network(upd, p, cfg, burn_in, steps, s))
        .collect();
    let stat = |f: &dyn Fn(&PerNetwork) -> f64| {
        let xs: Vec<f64> = per.iter().map(f).collect();
        {
            let m = crate::stats::mean_se(&xs);
            (m.mean, m.se)
        }
    };
    let (q, q_se) = stat(&|r| r.0);
    let (m1, m1_se) = stat(&|r| r.1);
    let curve = |k: usize, len: usize| -> (Vec<f64>, Vec<f64>) {
        (0..len)
            .map(|t| stat(&|r| if k == 2 { r.2[t] } else { r.3[t] }))
            .unzip()
    };
    let (log_d, log_d_se) = curve(2, steps + 1);
    let (memory, memory_se) = if matches!(upd, Cell::Minimal) {
        curve(3, steps + 1)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(SyncMeasurement {
        big_q: q,
        big_q_se: q_se,
        m1,
        m1_se,
        log_d,
        log_d_se,
        memory,
        memory_se,
        config: *cfg,
    })
}
