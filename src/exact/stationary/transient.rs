//! Long finite-horizon trajectories of the exact theory (minimalRNN, one input sequence):
//! the transient from `h^0 = 0` towards the stationary state, at `O(M T W)` instead of the
//! `O(M T² + T³)` of `exact` (`theory/11-stationary-exact.md`, (X.10)–(X.12)).
//!
//! Three structural facts make it cheap:
//!
//! 1. **Inputs integrated out** (as in the stationary solver, (X.3)): given its gates a unit's
//!    state is Gaussian, so each path carries `P_t = Var(h^t | gates)` and the conditional
//!    covariances `Cov(h^t, h^s | gates) = P_s u_{s+1} ⋯ u_t` instead of sampled states;
//!    `Q(t, s)` is their average over paths.
//! 2. **Static part apart**: the frozen bias is one number per path (stratified over the
//!    paths), so the remaining field covariance `σ_w² Q(t−1, s−1) + σ_v² R δ_ts` decays with
//!    `|t − s|` (`Q(t, s) → 0`: the state is a gated sum of zero-mean inputs).
//! 3. **A band**: covariances below `tol · Q(t−1, t−1)` are dropped, so the field is sampled
//!    from a banded Cholesky factor (the factor of a band matrix is a band of the same width)
//!    over the last `W` steps, `W` following the decay of `Q` (at most `max_band`).
//!
//! Two variance reductions bring the standard error down by one to two orders of magnitude
//! where the input drive dominates the field (X.12): **antithetic pairs** (a path and its
//! negated field) and two **control variates** with exactly known means, fitted per step by
//! regression over the paths — the same unit driven by a white field on the path's own
//! innovations ([`control_recursion`]), and the state variance linearised in the gate
//! products, driven by the path's real gates. Strong recurrence (a slow, large recurrent
//! field) gains little from them.
//!
//! Replicas solve the self-consistency on their own paths; estimates are replica means with
//! standard errors. The vanilla cell is not covered: its static recurrent field does not
//! decay (and its same-time statistics are the mean-field maps anyway). Nor is a second,
//! correlated sequence: with `ρ = 0` the cross statistics vanish exactly for the minimalRNN
//! (`C = 0`: each state is a gated sum of its own zero-mean inputs).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use super::norm_quantile;
use crate::activation::sigmoid;
use crate::cells::{CellParams, Regime};
use crate::error::{Error, Result};

/// Settings of the banded transient sampler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TransientConfig {
    /// Unit paths in total over the replicas.
    pub paths: usize,
    /// Independent replicas.
    pub replicas: usize,
    /// Covariances below this fraction of the current `Q(t−1, t−1)` are dropped.
    pub tol: f64,
    /// The widest band.
    pub max_band: usize,
    /// Antithetic pairs: every second path runs on the negated field of its partner (and the
    /// mirrored static field), which cancels the odd part of the response to the field.
    pub antithetic: bool,
    /// Control variate: each path also runs the annealed-field process of
    /// [`control_recursion`] on its own innovations, whose mean is known deterministically.
    pub control_variate: bool,
    /// Base seed (replica `r` uses ChaCha8 stream `r`).
    pub seed: u64,
}

impl TransientConfig {
    /// Settings with `paths` paths over `replicas` replicas, tolerance `1e-10`, band at most
    /// 2048.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `replicas` (at least 2) or `paths` (at least 2 per
    /// replica).
    pub fn new(paths: usize, replicas: usize, seed: u64) -> Result<TransientConfig> {
        crate::exact::check_replicas("paths", paths, replicas)?;
        Ok(TransientConfig {
            paths,
            replicas,
            tol: 1e-10,
            max_band: 2048,
            antithetic: true,
            control_variate: true,
            seed,
        })
    }

    /// Sets the band tolerance and the widest band.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `tol` (in `(0, 0.1]`) or `max-band` (8 to 65 536).
    pub fn with_band(mut self, tol: f64, max_band: usize) -> Result<Self> {
        if !(tol > 0.0 && tol <= 0.1) {
            return Err(Error::invalid("tol", tol, "a number in (0, 0.1]"));
        }
        if !(8..=65_536).contains(&max_band) {
            return Err(Error::invalid(
                "max-band",
                max_band as f64,
                "between 8 and 65536",
            ));
        }
        self.tol = tol;
        self.max_band = max_band;
        Ok(self)
    }

    /// Without antithetic pairs (every path draws its own field).
    pub fn without_antithetic(mut self) -> Self {
        self.antithetic = false;
        self
    }

    /// Without the control variate.
    pub fn without_control_variate(mut self) -> Self {
        self.control_variate = false;
        self
    }

    /// Memory and time of `steps` steps at the widest band `W` (at most `steps`): per running
    /// replica of `m` paths the ring buffers of the normals (`m/2` single-precision numbers a
    /// step with antithetic pairs) and of the scaled covariances (`m` doubles a step) over the
    /// band, and the band of the Cholesky factor (`W²`); time per step and replica
    /// `≈ 1.5 m W + W²/2` (the field, the lag sums and the Cholesky row).
    pub fn estimate(&self, steps: usize) -> crate::budget::Estimate {
        use crate::budget::{blame, concurrency};
        let k = concurrency(self.replicas) as f64;
        let m = (self.paths / self.replicas) as f64;
        let w = (self.max_band + 2).min(steps + 1) as f64;
        let t = steps as f64;
        let r = self.replicas as f64;
        let (name, value) = blame(&[
            ("paths", self.paths as f64, 100_000.0),
            ("steps", t, 1000.0),
        ]);
        crate::budget::Estimate::new("the banded exact-theory sampler")
            .memory("paths", self.paths as f64, k * (10.0 * m * w + 32.0 * m))
            .memory("max-band", w, 8.0 * k * w * w)
            .memory("steps", t, 8.0 * 6.0 * r * t)
            .ops(
                name,
                value,
                r * t * (1.5 * m * w + 0.5 * w * w),
                concurrency(self.replicas),
            )
    }
}

/// A single-sequence exact trajectory with standard errors and the band it used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransientTrajectory {
    /// Steps `1..=T`.
    pub t: Vec<usize>,
    /// Gate variance `q^t = σ_w² Q^{t−1} + σ_v² R + σ_b²` (replica mean).
    pub q: Vec<f64>,
    /// Its standard error.
    pub q_se: Vec<f64>,
    /// `Q^t = E[(h^t)²]`.
    #[serde(rename = "Q")]
    pub big_q: Vec<f64>,
    /// Its standard error.
    #[serde(rename = "Q_se")]
    pub big_q_se: Vec<f64>,
    /// The widest band used (largest over replicas).
    pub band: usize,
    /// Whether the band was capped at `max_band` while covariances above the tolerance
    /// remained (then the dropped part is larger than `tol`).
    pub band_capped: bool,
    /// The settings.
    pub config: TransientConfig,
}

/// Nodes and weights of `E[f(x)]`, `x ~ N(0, 1)`, by the trapezoid rule on `[−9, 9]` with step
/// `h` (weights normalised to sum 1): for an integrand analytic in a strip of half-width `d`
/// the error is `≈ e^{−2π d/h}`.
fn normal_nodes(h: f64) -> Vec<(f64, f64)> {
    let n = (9.0 / h).ceil() as i64;
    let mut v: Vec<(f64, f64)> = (-n..=n)
        .map(|k| {
            let x = k as f64 * h;
            (x, (-0.5 * x * x).exp())
        })
        .collect();
    let s: f64 = v.iter().map(|x| x.1).sum();
    v.iter_mut().for_each(|x| x.1 /= s);
    v
}

/// `(E[u²], E[(1 − u)²])` for `u = σ(μ + √var · x)`, `x ~ N(0, 1)` (trapezoid rule, error about
/// `1e-12`).
fn gate_moments(mu: f64, var: f64) -> (f64, f64) {
    let c = var.max(0.0).sqrt();
    let x_nodes = if c > 0.0 {
        normal_nodes(node_step(c))
    } else {
        vec![(0.0, 1.0)]
    };
    let (mut m2, mut n2) = (0.0, 0.0);
    for &(x, w) in &x_nodes {
        let u = sigmoid(mu + c * x);
        m2 += w * u * u;
        n2 += w * (1.0 - u) * (1.0 - u);
    }
    (m2, n2)
}

/// Trapezoid step for a sigmoid of `scale · x`: its poles lie `π/scale` off the real axis.
fn node_step(scale: f64) -> f64 {
    (0.3 / scale.max(1e-300)).min(0.1)
}

/// Nodes of the static field `s ~ N(0, sd²)` (one node at 0 without one).
fn static_nodes(sd: f64) -> Vec<(f64, f64)> {
    if sd > 0.0 {
        normal_nodes(node_step(sd))
            .into_iter()
            .map(|(x, w)| (sd * x, w))
            .collect()
    } else {
        vec![(0.0, 1.0)]
    }
}

/// The control process ((X.12)): the unit driven by a white (annealed) field of variance
/// `c_t² = σ_v² R + σ_w² Q_c^{t−1}` (plus `σ_b²` with a fresh bias) around its own static
/// field `μ_b + s`, `s ~ N(0, σ_b²)` (frozen bias). Its state variance obeys the closed
/// recursion `R_t(s) = E[u²] R_{t−1}(s) + E[(1 − u)²] R`, `Q_c^t = E_s[R_t(s)]`, computed here by
/// quadrature in `s` and in the field (to about `1e-12`). Returns `(c_t, Q_c^t)`, `t = 1..=T`.
pub fn control_recursion(p: &CellParams, regime: Regime, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let sw2 = p.sigma_w() * p.sigma_w();
    let sb2 = p.sigma_b() * p.sigma_b();
    let white = p.sigma_v() * p.sigma_v() * p.r() + if regime.fresh_bias { sb2 } else { 0.0 };
    let s_nodes = static_nodes(if regime.fresh_bias { 0.0 } else { p.sigma_b() });
    let mut rs = vec![0.0f64; s_nodes.len()];
    let (mut cs, mut qs) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    let mut qc = 0.0;
    for _ in 0..steps {
        let c = (white + sw2 * qc).max(0.0).sqrt();
        let x_nodes = if c > 0.0 {
            normal_nodes(node_step(c))
        } else {
            vec![(0.0, 1.0)]
        };
        qc = 0.0;
        for (r, &(s, ws)) in rs.iter_mut().zip(&s_nodes) {
            let (mut m2, mut n2) = (0.0, 0.0);
            for &(x, w) in &x_nodes {
                let u = sigmoid(p.mu_b() + s + c * x);
                m2 += w * u * u;
                n2 += w * (1.0 - u) * (1.0 - u);
            }
            *r = m2 * *r + n2 * p.r();
            qc += ws * *r;
        }
        cs.push(c);
        qs.push(qc);
    }
    (cs, qs)
}

/// Per replica: `(Q^t per step, widest band, capped)`.
type ReplicaOut = (Vec<f64>, usize, bool);

/// `Σ x_i y_i` with eight independent partial sums (a single running sum is a chain of
/// dependent additions the compiler may not reorder, four times slower).
#[inline]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for ((s, p), q) in acc.iter_mut().zip(a).zip(b) {
            *s += p * q;
        }
    }
    let tail: f64 = xr.iter().zip(yr).map(|(p, q)| p * q).sum();
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `Σ_{k=from}^{to−1} a[k mod cap] b[k mod cap]` over ring buffers of length `cap`, as at most
/// two contiguous dot products (so that they vectorise).
#[inline]
fn ring_dot(a: &[f64], b: &[f64], from: usize, to: usize, cap: usize) -> f64 {
    if from >= to {
        return 0.0;
    }
    let (i, j) = (from % cap, (to - 1) % cap + 1);
    if i < j {
        dot(&a[i..j], &b[i..j])
    } else {
        dot(&a[i..], &b[i..]) + dot(&a[..j], &b[..j])
    }
}

/// Products of gates since the path's base below this are folded into its stored
/// covariances (so that neither the running product underflows nor the stored values
/// overflow).
const REBASE: f64 = 1e-150;

fn run_replica(
    p: &CellParams,
    regime: Regime,
    steps: usize,
    m: usize,
    cfg: &TransientConfig,
    control: Option<&(Vec<f64>, Vec<f64>)>,
    rng: &mut ChaCha8Rng,
) -> ReplicaOut {
    let sw2 = p.sigma_w() * p.sigma_w();
    let sb2 = p.sigma_b() * p.sigma_b();
    let white = p.sigma_v() * p.sigma_v() * p.r() + if regime.fresh_bias { sb2 } else { 0.0 };
    // Independent field draws per step: with antithetic pairs path `h + i` runs on the
    // negated field (and the mirrored static field) of path `i`.
    let h = if cfg.antithetic { m / 2 } else { m };
    let m = if cfg.antithetic { 2 * h } else { m };
    // Ring length: the band plus the step itself and the one more column the next step may
    // use (never more slots than steps).
    let cap = (cfg.max_band + 2).min(steps + 1);
    // Static fields (frozen bias): stratified over the independent paths.
    let mut order: Vec<usize> = (0..h).collect();
    for i in (1..h).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    let mut shift = vec![p.mu_b(); m];
    if !regime.fresh_bias && p.sigma_b() > 0.0 {
        for (i, &k) in order.iter().enumerate() {
            let v: f64 = rng.random();
            let s =
                p.sigma_b() * norm_quantile(((k as f64 + v) / h as f64).clamp(1e-300, 1.0 - 1e-16));
            shift[i] = p.mu_b() + s;
            if cfg.antithetic {
                shift[h + i] = p.mu_b() - s;
            }
        }
    }
    // Ring buffers, slot `s mod cap` for step `s` (1-based): the normals `ξ^s` of the
    // independent paths (single precision: they are only ever multiplied into a
    // double-precision sum), the scaled conditional covariances `a_s = P_s / g(s)` of every
    // path, and the band rows of the Cholesky factor (row of step `s` in slot `s mod cap`,
    // its entry in column `j` at `j mod cap`) with their first columns.
    let mut xi = vec![0.0f32; cap * h];
    let mut a = vec![0.0f64; cap * m];
    let mut lrow = vec![0.0f64; cap * cap];
    let mut first = vec![0usize; cap];
    // Per path: `P_t = Var(h^t | gates)` and `g = u_{base+1} ⋯ u_t`, the gate product since the
    // path's base, so that `Cov(h^t, h^s | gates) = P_s u_{s+1} ⋯ u_t = a_s g`.
    let mut pvar = vec![0.0f64; m];
    let mut g = vec![1.0f64; m];
    let mut e = vec![0.0f64; h];
    // The control process's state variances.
    let mut pc = vec![0.0f64; m];
    // The linearised state variance `Z_t = w_t Z_{t−1} + (1 − u_t)² R` of every path, driven by
    // its real gates, with `w_t = E[u_t²]` over the marginal law of the field, and its mean.
    let mut zc = vec![0.0f64; m];
    let mut ez = 0.0f64;
    // The static field's variance adds to the dynamic one in the marginal law of the field.
    let static_var = if regime.fresh_bias { 0.0 } else { sb2 };
    let mut out = Vec::with_capacity(steps);
    // Q(t−1, t−1−k), k = 0, 1, … (from the previous step).
    let mut q_prev: Vec<f64> = Vec::new();
    let mut widest = 0;
    let mut capped = false;
    let mf = m as f64;
    for t in 1..=steps {
        // Band of row t: columns t − k, k = 1..=w, while Cov(e^t, e^{t−k}) = σ_w² Q(t−1, t−1−k)
        // stays above the tolerance (column 1 never: h^0 = 0).
        let mut w = 0;
        if regime.tied && t > 1 {
            let floor = cfg.tol * q_prev[0].abs();
            while w + 1 < q_prev.len() && t - (w + 1) >= 2 && q_prev[w + 1].abs() >= floor {
                w += 1;
            }
            if w + 2 > cap {
                w = cap - 2;
                capped = true;
            }
        }
        widest = widest.max(w);
        let lo = t - w;
        let slot = t % cap;
        first[slot] = lo;
        let kcol = |j: usize| -> f64 {
            if j == t {
                (if t > 1 { sw2 * q_prev[0] } else { 0.0 }) + white
            } else {
                sw2 * q_prev[t - j]
            }
        };
        // Row t of the banded Cholesky factor (rows of earlier steps are read, row t
        // written: they are distinct slots since t − j < cap).
        let (row, rest) = {
            let (left, right) = lrow.split_at_mut(slot * cap);
            let (row, right) = right.split_at_mut(cap);
            (row, (left, right))
        };
        let other = |js: usize| -> &[f64] {
            if js < slot {
                &rest.0[js * cap..(js + 1) * cap]
            } else {
                &rest.1[(js - slot - 1) * cap..(js - slot) * cap]
            }
        };
        for j in lo..t {
            let js = j % cap;
            let rj = other(js);
            let start = lo.max(first[js]);
            let sum = kcol(j) - ring_dot(row, rj, start, j, cap);
            let d = rj[js];
            row[js] = if d > 0.0 { sum / d } else { 0.0 };
        }
        let diag = kcol(t) - ring_dot(row, row, lo, t, cap);
        // A direction determined by the earlier ones gets no fresh noise (as in exact).
        row[slot] = if diag > 1e-12 * kcol(t).abs() {
            diag.sqrt()
        } else {
            0.0
        };
        // Fields of the independent paths: e = Σ_j L[t, j] ξ^j over the band.
        for x in xi[slot * h..(slot + 1) * h].iter_mut() {
            *x = rng.sample::<f64, _>(StandardNormal) as f32;
        }
        e.iter_mut().for_each(|x| *x = 0.0);
        for j in lo..=t {
            let js = j % cap;
            let c = row[js];
            if c != 0.0 {
                for (ei, &x) in e.iter_mut().zip(&xi[js * h..(js + 1) * h]) {
                    *ei += c * f64::from(x);
                }
            }
        }
        // Gates, state variances, gate products and the scaled covariances of step t.
        let keep_from = lo.saturating_sub(1).max(1);
        let ct = control.map_or(0.0, |c| c.0[t - 1]);
        let (wt, nt) = if control.is_some() {
            gate_moments(p.mu_b(), kcol(t) + static_var)
        } else {
            (0.0, 0.0)
        };
        ez = wt * ez + nt * p.r();
        // Sums over the paths for the control-variate estimate: `y = P`, `x = (P_c, Z)`.
        let mut sy = 0.0;
        let mut sx = [0.0f64; 2];
        let mut sxx = [0.0f64; 3];
        let mut sxy = [0.0f64; 2];
        for i in 0..m {
            let (field, innovation) = if i < h {
                (e[i], f64::from(xi[slot * h + i]))
            } else {
                (-e[i - h], -f64::from(xi[slot * h + i - h]))
            };
            if control.is_some() {
                let uc = sigmoid(shift[i] + ct * innovation);
                pc[i] = uc * uc * pc[i] + (1.0 - uc) * (1.0 - uc) * p.r();
            }
            let u = sigmoid(shift[i] + field);
            pvar[i] = u * u * pvar[i] + (1.0 - u) * (1.0 - u) * p.r();
            g[i] *= u;
            if g[i] < REBASE {
                // Fold the product into the stored covariances of the window and restart it.
                for s in keep_from.max(t.saturating_sub(cap - 1))..t {
                    a[(s % cap) * m + i] *= g[i];
                }
                g[i] = 1.0;
            }
            a[slot * m + i] = pvar[i] / g[i];
            zc[i] = wt * zc[i] + (1.0 - u) * (1.0 - u) * p.r();
            let (y, x0, x1) = (pvar[i], pc[i], zc[i]);
            sy += y;
            sx[0] += x0;
            sx[1] += x1;
            sxx[0] += x0 * x0;
            sxx[1] += x0 * x1;
            sxx[2] += x1 * x1;
            sxy[0] += x0 * y;
            sxy[1] += x1 * y;
        }
        // Q(t, s) = ⟨a_s g⟩ over the window the next step may use (one column more than
        // this band: it can grow by one per step).
        q_prev.clear();
        for s in (keep_from..=t).rev() {
            let row_s = &a[(s % cap) * m..(s % cap + 1) * m];
            q_prev.push(dot(row_s, &g) / mf);
        }
        // With the control variates: `Q̂ = ⟨P⟩ − β·(⟨x⟩ − E[x])`, `β` the regression coefficients
        // of `P` on `x` over the paths (their estimation adds a bias of order 1/m).
        out.push(match control {
            Some(c) => {
                let my = sy / mf;
                let mx = [sx[0] / mf, sx[1] / mf];
                let c00 = sxx[0] / mf - mx[0] * mx[0];
                let c01 = sxx[1] / mf - mx[0] * mx[1];
                let c11 = sxx[2] / mf - mx[1] * mx[1];
                let r0 = sxy[0] / mf - mx[0] * my;
                let r1 = sxy[1] / mf - mx[1] * my;
                let det = c00 * c11 - c01 * c01;
                let beta = if det > 1e-12 * c00 * c11 && det > 0.0 {
                    [(c11 * r0 - c01 * r1) / det, (c00 * r1 - c01 * r0) / det]
                } else if c00 > 0.0 {
                    [r0 / c00, 0.0]
                } else {
                    [0.0, 0.0]
                };
                my - beta[0] * (mx[0] - c.1[t - 1]) - beta[1] * (mx[1] - ez)
            }
            None => q_prev[0],
        });
        crate::budget::tick(1);
    }
    (out, widest, capped)
}

/// Samples the single-sequence exact trajectory of the minimalRNN over `steps` steps from
/// `h^0 = 0` ((X.10)–(X.12)). Checked against `exact::trajectory` by
/// `banded_sampler_matches_full_sampler` and against the stationary solver by
/// `banded_sampler_reaches_the_stationary_state` (`tests/stationary_theory.rs`).
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid parameters or `steps == 0`; [`Error::TooLarge`]
/// beyond the limits ([`TransientConfig::estimate`]).
pub fn trajectory(
    p: &CellParams,
    regime: Regime,
    steps: usize,
    cfg: &TransientConfig,
) -> Result<TransientTrajectory> {
    super::check_params(p)?;
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    cfg.estimate(steps).check()?;
    let m = cfg.paths / cfg.replicas;
    let control = cfg
        .control_variate
        .then(|| control_recursion(p, regime, steps));
    let per: Vec<ReplicaOut> = (0..cfg.replicas)
        .into_par_iter()
        .map(|r| {
            let mut rng = crate::exact::replica_rng(cfg.seed, r);
            run_replica(p, regime, steps, m, cfg, control.as_ref(), &mut rng)
        })
        .collect();
    let sw2 = p.sigma_w() * p.sigma_w();
    let drive = p.sigma_v() * p.sigma_v() * p.r() + p.sigma_b() * p.sigma_b();
    let mut tr = TransientTrajectory {
        t: (1..=steps).collect(),
        q: Vec::with_capacity(steps),
        q_se: Vec::with_capacity(steps),
        big_q: Vec::with_capacity(steps),
        big_q_se: Vec::with_capacity(steps),
        band: per.iter().map(|r| r.1).max().unwrap_or(0),
        band_capped: per.iter().any(|r| r.2),
        config: *cfg,
    };
    for t in 0..steps {
        let xs: Vec<f64> = per.iter().map(|r| r.0[t]).collect();
        let (a, b) = {
            let m = crate::stats::mean_se(&xs);
            (m.mean, m.se)
        };
        tr.big_q.push(a);
        tr.big_q_se.push(b);
        let prev: Vec<f64> = per
            .iter()
            .map(|r| if t == 0 { 0.0 } else { r.0[t - 1] })
            .collect();
        let (pa, pb) = {
            let m = crate::stats::mean_se(&prev);
            (m.mean, m.se)
        };
        tr.q.push(sw2 * pa + drive);
        tr.q_se.push(if t == 0 { 0.0 } else { sw2 * pb });
    }
    Ok(tr)
}
