//! The exact infinite-width theory at stationarity: the dynamical mean-field (DMFT) fixed point
//! of the per-unit Gaussian process of `theory/03-minimal-rnn.md` (E.1)–(E.3) when the inputs
//! are i.i.d. over time (`theory/11-stationary-exact.md`, (X.1)–(X.6)).
//!
//! At stationarity one unit's gate (vanilla: pre-activation) field is
//! `e^t = μ_b + s + η^t`, with a static part `s ~ N(0, K_∞)` fixed per unit (the frozen bias,
//! plus for the vanilla cell the static part of the recurrent field) and a zero-mean
//! stationary Gaussian sequence `η` with autocovariance
//!
//! `K(τ) = σ_w² (Q(τ) − Q_∞) + σ_v² R δ_τ0`,  `K_∞ = σ_b² + σ_w² Q_∞`   (X.1)
//!
//! where `Q(τ) = E[h^t h^{t+τ}]` and `Q_∞ = lim Q(τ)` (zero for the minimalRNN). The solver
//! iterates: sample periodic stationary paths of `η` by circulant embedding ([`fft`]), run the
//! unit, re-estimate `Q(τ)`, damp, repeat. For the minimalRNN the unit's own inputs are
//! integrated out exactly (X.3): given its gates, `h` is Gaussian with variance
//! `P_t = u_t² P_{t−1} + (1 − u_t)² R` and `E[h^t h^{t+τ} | gates] = P_t u_{t+1} ⋯ u_{t+τ}`,
//! which removes the input noise from every estimate (Rao–Blackwellisation).
//!
//! Independent replicas each solve the self-consistency on their own paths; estimates are
//! replica means and errors standard errors over replicas (which include the amplification
//! of sampling noise by the self-consistency). Exact χ₁ (X.5) comes with the fixed point;
//! the timescales are in [`timescales`].

pub mod analysis;
pub mod fft;
pub mod timescales;
pub mod transient;

use num_complex::Complex64;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::activation::{Deriv, sigmoid};
use crate::cells::{Cell, CellParams, Regime};
use crate::error::{Error, Result, non_negative};
use fft::Circulant;

/// Settings of the stationary solver.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StationaryConfig {
    /// Unit paths sampled per iteration at the initial period, in total over the replicas
    /// (rounded up to an even number per replica: paths come in pairs from one transform).
    /// At a longer period `m` a replica samples `length/m` times as many (at least 4), so
    /// that an iteration always covers about `paths × length` unit steps.
    pub paths: usize,
    /// Independent replicas (for the standard errors).
    pub replicas: usize,
    /// Initial period of the sampled paths (a power of two); it grows while the
    /// autocorrelation is longer than a quarter of it.
    pub length: usize,
    /// The largest period the paths may grow to (a power of two).
    pub max_length: usize,
    /// Iterations of the self-consistency before averaging starts regardless of convergence.
    pub max_iterations: usize,
    /// Iterations averaged once converged (the estimate).
    pub averaging: usize,
    /// Weight of the new estimate in the damped update `Q ← (1 − α) Q + α Q_new`.
    pub damping: f64,
    /// Base seed (replica `r` uses ChaCha8 stream `r`).
    pub seed: u64,
}

impl StationaryConfig {
    /// Settings with `paths` unit paths per iteration over `replicas` replicas and the
    /// defaults: initial period 2048, largest period 32 768, at most 40 iterations, 6
    /// averaged, damping 0.7.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `replicas` (at least 2) or `paths` (at least 2 per
    /// replica); [`Error::TooLarge`] beyond the limits ([`StationaryConfig::estimate`]).
    pub fn new(paths: usize, replicas: usize, seed: u64) -> Result<StationaryConfig> {
        crate::exact::check_replicas("paths", paths, replicas)?;
        let cfg = StationaryConfig {
            paths,
            replicas,
            length: 2048,
            max_length: 32_768,
            max_iterations: 40,
            averaging: 6,
            damping: 0.7,
            seed,
        };
        cfg.estimate().check()?;
        Ok(cfg)
    }

    /// Sets the initial and the largest period (each rounded up to a power of two).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `length` (at least 64) or `max-length` (at least
    /// `length`); [`Error::TooLarge`] beyond the limits.
    pub fn with_length(mut self, length: usize, max_length: usize) -> Result<Self> {
        if !(64..=1 << 40).contains(&length) {
            return Err(Error::invalid(
                "length",
                length as f64,
                "between 64 and 2^40",
            ));
        }
        if max_length < length || max_length > 1 << 40 {
            return Err(Error::invalid(
                "max-length",
                max_length as f64,
                "at least `length` and at most 2^40",
            ));
        }
        self.length = length.next_power_of_two();
        self.max_length = max_length.next_power_of_two();
        self.estimate().check()?;
        Ok(self)
    }

    /// Sets the iteration limits.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `iterations` (at least 1) or `averaging` (at least
    /// 2, for the drift diagnostic); [`Error::TooLarge`] beyond the limits.
    pub fn with_iterations(mut self, max_iterations: usize, averaging: usize) -> Result<Self> {
        if max_iterations == 0 {
            return Err(Error::invalid("iterations", 0.0, "at least 1"));
        }
        if averaging < 2 {
            return Err(Error::invalid("averaging", averaging as f64, "at least 2"));
        }
        self.max_iterations = max_iterations;
        self.averaging = averaging;
        self.estimate().check()?;
        Ok(self)
    }

    /// Sets the damping `α ∈ (0, 1]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `damping`.
    pub fn with_damping(mut self, damping: f64) -> Result<Self> {
        if !(damping > 0.0 && damping <= 1.0) {
            return Err(Error::invalid("damping", damping, "a number in (0, 1]"));
        }
        self.damping = damping;
        Ok(self)
    }

    /// Paths per replica (even).
    pub fn paths_per_replica(&self) -> usize {
        let m = self.paths.div_ceil(self.replicas);
        m + (m & 1)
    }

    /// Memory and time at the worst case (every iteration at the largest period): per running
    /// replica a few sequences of the period (complex transform buffer, two fields, gates and
    /// state variances); time per path of period `m`: the transform (`≈ 5 m log₂ m`), the gates
    /// and the lag sums (`≈ 200 m`).
    pub fn estimate(&self) -> crate::budget::Estimate {
        use crate::budget::{blame, concurrency};
        let k = concurrency(self.replicas) as f64;
        let m = self.max_length as f64;
        let paths = (self.paths_per_replica() * self.replicas) as f64;
        let its = (self.max_iterations + self.averaging) as f64;
        // Unit steps of an iteration: `paths × length`, or 4 paths a replica at the longest
        // period if that is more.
        let steps = (paths * self.length as f64).max(4.0 * self.replicas as f64 * m);
        let (name, value) = blame(&[
            ("paths", paths, 2048.0),
            ("length", self.length as f64, 2048.0),
            ("iterations", its, 46.0),
        ]);
        crate::budget::Estimate::new("the stationary exact-theory solver")
            .memory("max-length", m, 8.0 * k * 12.0 * m)
            .ops(
                name,
                value,
                its * steps * (5.0 * m.log2() + 200.0),
                concurrency(self.replicas),
            )
    }
}

/// Gate statistics at stationarity (minimalRNN), each with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GateStatistics {
    /// `E[u]`.
    pub mean_u: f64,
    /// Its standard error.
    pub mean_u_se: f64,
    /// `E[u²]`.
    pub mean_u2: f64,
    /// Its standard error.
    pub mean_u2_se: f64,
    /// `E[(1 − u)²]`.
    pub mean_one_minus_u2: f64,
    /// Its standard error.
    pub mean_one_minus_u2_se: f64,
    /// `E[σ'(e)²] = E[u²(1 − u)²]`.
    pub mean_dsigma2: f64,
    /// Its standard error.
    pub mean_dsigma2_se: f64,
}

/// How the iteration went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationaryDiagnostics {
    /// Iterations per replica (including the averaged ones).
    pub iterations: Vec<usize>,
    /// Whether every replica converged within its iteration limit (`max_iterations`): two
    /// successive changes of `Q(0)` and of `Σ_τ Q(τ)` below twice their sampling error.
    pub converged: bool,
    /// Drift over the averaged iterations: (mean of the second half − mean of the first half)
    /// of `Q(0)`, averaged over replicas, in units of its standard error. `|drift_z| > 3`
    /// means the averaged iterations were still moving.
    pub drift_z: f64,
    /// The largest variance fraction removed from the circulant embedding (negative
    /// eigenvalues set to zero) in the averaged iterations.
    pub clipped: f64,
    /// The final period of the sampled paths (largest over replicas).
    pub period: usize,
    /// Lags of `Q(τ)` kept in the kernel (largest over replicas).
    pub lags: usize,
    /// `|Q(L) − Q_∞| / (Q(0) − Q_∞)` at the last kept lag `L` (largest over replicas): how much
    /// of the autocorrelation the lag window cut off (small when the window is long enough).
    pub lag_tail: f64,
    /// Unit paths per iteration and replica at the final period (smallest over replicas).
    pub paths_per_replica: usize,
}

/// The stationary fixed point of the exact theory, with standard errors over replicas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationaryFixedPoint {
    /// `Q* = E[h²]`.
    #[serde(rename = "Q_star")]
    pub big_q_star: f64,
    /// Its standard error.
    #[serde(rename = "Q_star_se")]
    pub big_q_star_se: f64,
    /// `q* = σ_w² Q* + σ_v² R + σ_b²`: the variance of `e − μ_b`.
    pub q_star: f64,
    /// Its standard error.
    pub q_star_se: f64,
    /// The static part `Q_∞` of the autocorrelation (0 for the minimalRNN, by symmetry).
    #[serde(rename = "Q_inf")]
    pub big_q_inf: f64,
    /// Its standard error.
    #[serde(rename = "Q_inf_se")]
    pub big_q_inf_se: f64,
    /// `Q(τ)`, `τ = 0, 1, …` (the stationary autocorrelation).
    pub autocorrelation: Vec<f64>,
    /// Its standard errors.
    pub autocorrelation_se: Vec<f64>,
    /// Gate statistics (minimalRNN).
    pub gate: Option<GateStatistics>,
    /// Exact `χ₁ = E[a²] + σ_w² E[b²]` at stationarity (X.5): the mean squared singular value
    /// of the one-step Jacobian `diag(a) + diag(b) W`.
    pub chi_1: f64,
    /// Its standard error.
    pub chi_1_se: f64,
    /// With [`solve_at_gate_variance`]: the adjusted scale.
    pub held: Option<HeldScale>,
    /// Iteration diagnostics.
    pub diagnostics: StationaryDiagnostics,
    /// Each replica's solution (for the timescales, which continue on the same replicas).
    #[serde(skip)]
    pub(crate) replicas: Vec<ReplicaSolution>,
    /// The settings used.
    pub config: StationaryConfig,
    /// The regime solved.
    pub regime: Regime,
}

/// Which input-side scale [`solve_at_gate_variance`] adjusts to hold `q*` at its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hold {
    /// `σ_v` supplies `q* − σ_w² Q* − σ_b²`.
    SigmaV,
    /// `σ_b` supplies `q* − σ_w² Q* − σ_v² R`.
    SigmaB,
}

/// The scale adjusted to hold `q*`, with its standard error over replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeldScale {
    /// Which scale.
    pub scale: Hold,
    /// Its value at the fixed point.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

/// One replica's converged kernel.
#[derive(Debug, Clone)]
pub(crate) struct ReplicaSolution {
    /// `Q(τ)`, `τ = 0..=L`.
    pub q: Vec<f64>,
    /// `Q_∞`.
    pub q_inf: f64,
    /// Period.
    pub period: usize,
    /// The process parameters of the kernel (with the held scale, if any, at its final
    /// value).
    pub params: CellParams,
    /// The held scale would have needed a negative variance.
    pub infeasible: bool,
}

impl PartialEq for ReplicaSolution {
    fn eq(&self, o: &Self) -> bool {
        let (a, b) = (&self.params, &o.params);
        self.q == o.q
            && self.q_inf == o.q_inf
            && self.period == o.period
            && self.infeasible == o.infeasible
            && (a.sigma_w(), a.sigma_v(), a.sigma_b(), a.mu_b(), a.r())
                == (b.sigma_w(), b.sigma_v(), b.sigma_b(), b.mu_b(), b.r())
    }
}

/// Checks what [`CellParams::builder`] leaves to the cell: the stationary theory needs an
/// input, `R > 0` (the scales themselves were validated when `p` was built).
pub(crate) fn check_params(p: &CellParams) -> Result<()> {
    let r = non_negative("r", p.r())?;
    if r == 0.0 {
        return Err(Error::invalid("r", r, "a finite number > 0"));
    }
    Ok(())
}

/// The field kernel (X.1) of a regime: the autocovariance of `η` at lags `0..=L` and the
/// static variance `K_∞`.
pub(crate) fn field_kernel(
    q: &[f64],
    q_inf: f64,
    p: &CellParams,
    regime: Regime,
) -> (Vec<f64>, f64) {
    let sw2 = p.sigma_w() * p.sigma_w();
    let sb2 = p.sigma_b() * p.sigma_b();
    let sv2r = p.sigma_v() * p.sigma_v() * p.r();
    let (mut k, mut stat);
    if regime.tied {
        let l = q.len();
        // A cosine taper over the last quarter of the window keeps the truncated kernel
        // smooth (a sharp cut is not positive definite).
        let taper_from = (3 * l) / 4;
        k = q
            .iter()
            .enumerate()
            .map(|(tau, &x)| {
                let w = if tau <= taper_from || l <= 4 {
                    1.0
                } else {
                    let f = (tau - taper_from) as f64 / (l - taper_from) as f64;
                    0.5 * (1.0 + (std::f64::consts::PI * f).cos())
                };
                sw2 * (x - q_inf) * w
            })
            .collect::<Vec<f64>>();
        stat = sw2 * q_inf;
    } else {
        k = vec![sw2 * q[0]];
        stat = 0.0;
    }
    k[0] += sv2r;
    if regime.fresh_bias {
        k[0] += sb2;
    } else {
        stat += sb2;
    }
    (k, stat.max(0.0))
}

/// The periodic solution of `P_t = u_t² P_{t−1} + (1 − u_t)² R` on the circle (X.3): `P_{m−1}`
/// such that one lap returns to it.
pub(crate) fn periodic_variance(u: &[f64], r: f64) -> f64 {
    let mut p = 0.0;
    let mut log_a = 0.0;
    for &x in u {
        p = x * x * p + (1.0 - x) * (1.0 - x) * r;
        log_a += 2.0 * x.ln();
    }
    let one_minus_a = -log_a.exp_m1();
    if one_minus_a > 0.0 {
        (p / one_minus_a).min(r)
    } else {
        0.0
    }
}

/// `Φ^{-1}(p)` for `p ∈ (0, 1)`: safeguarded Newton steps on `Φ` (bisection when a step leaves
/// the bracket), to about `1e-12` — used only to stratify the static fields.
pub(crate) fn norm_quantile(p: f64) -> f64 {
    use crate::gauss::special::{norm_cdf, norm_pdf, norm_sf};
    let (mut lo, mut hi) = (-39.0f64, 39.0f64);
    let mut x = 0.0;
    for _ in 0..200 {
        // f(x) = Φ(x) − p, from the tail that keeps it accurate.
        let f = if x < 0.0 {
            norm_cdf(x) - p
        } else {
            (1.0 - p) - norm_sf(x)
        };
        if f > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let d = norm_pdf(x);
        let mut next = x - f / d.max(1e-300);
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-13 * (1.0 + x.abs()) {
            return next;
        }
        x = next;
    }
    x
}

/// Per-iteration sums of one replica.
#[derive(Debug, Clone)]
struct Sums {
    /// `Σ w · (lag products)` per lag.
    lag: Vec<f64>,
    /// `Σ w` (the number of time points represented).
    weight: f64,
    /// Per path: its stratum of the static field, its `Q(0)` and `Σ_τ Q(τ)` estimates (for
    /// the within-iteration error).
    per_path: Vec<(usize, f64, f64)>,
    /// The stratum of the path being accumulated.
    stratum: usize,
    /// `Σ` per-path static contributions (times the period).
    stat: f64,
    /// `Σ_t` of `u, u², (1−u)², σ'², a² + σ_w² b²` (vanilla: only the last).
    gate: [f64; 5],
    steps: f64,
}

impl Sums {
    fn new(lags: usize) -> Sums {
        Sums {
            lag: vec![0.0; lags + 1],
            weight: 0.0,
            per_path: Vec::new(),
            stratum: 0,
            stat: 0.0,
            gate: [0.0; 5],
            steps: 0.0,
        }
    }
}

/// Products `P_t u_{t+1} ⋯ u_{t+τ}` below this fraction of `P_t` are dropped (their
/// contribution is far below the sampling error).
const PRODUCT_CUTOFF: f64 = 1e-8;

/// Accumulates one minimalRNN path (gate pre-activations `e`, period `m`) into `s`.
fn minimal_path(e: &[f64], p: &CellParams, u: &mut Vec<f64>, pv: &mut Vec<f64>, s: &mut Sums) {
    let m = e.len();
    let lags = s.lag.len() - 1;
    let r = p.r();
    let sw2 = p.sigma_w() * p.sigma_w();
    u.clear();
    u.extend(e.iter().map(|&x| sigmoid(x)));
    let mut prev = periodic_variance(u, r);
    pv.clear();
    let mut mean_u = 0.0;
    for &x in u.iter() {
        let ds = x * (1.0 - x);
        s.gate[0] += x;
        s.gate[1] += x * x;
        s.gate[2] += (1.0 - x) * (1.0 - x);
        s.gate[3] += ds * ds;
        s.gate[4] += x * x + sw2 * ds * ds * (prev + r);
        prev = x * x * prev + (1.0 - x) * (1.0 - x) * r;
        pv.push(prev);
        mean_u += x;
    }
    s.steps += m as f64;
    mean_u /= m as f64;
    // Lag window wraps around the circle.
    u.extend_from_within(0..lags.min(m));
    // Stride: successive time points of a slow unit carry nearly the same information.
    let tau = 1.0 / (1.0 - mean_u).max(1e-12);
    let stride = ((tau / 4.0) as usize).clamp(1, 64);
    let w = stride as f64;
    let mut path_q0 = 0.0;
    let mut path_power = 0.0;
    let mut path_weight = 0.0;
    for t in (0..m).step_by(stride) {
        let pt = pv[t];
        let mut prod = pt;
        s.lag[0] += w * prod;
        path_q0 += w * prod;
        path_power += w * prod;
        let cut = PRODUCT_CUTOFF * pt;
        for (tau, &x) in u[t + 1..t + 1 + lags].iter().enumerate() {
            prod *= x;
            s.lag[tau + 1] += w * prod;
            path_power += 2.0 * w * prod;
            if prod < cut {
                break;
            }
        }
        path_weight += w;
    }
    s.weight += path_weight;
    s.per_path
        .push((s.stratum, path_q0 / path_weight, path_power / path_weight));
}

/// Accumulates one vanilla path into `s` (direct lag sums; the static part from the path
/// mean, corrected for the variance of a time average).
fn vanilla_path(
    e: &[f64],
    act: &dyn crate::activation::Activation,
    p: &CellParams,
    h: &mut Vec<f64>,
    s: &mut Sums,
) {
    let m = e.len();
    let lags = s.lag.len() - 1;
    let sw2 = p.sigma_w() * p.sigma_w();
    h.clear();
    for &x in e {
        h.push(act.eval(Deriv::Phi, x));
        let d = act.eval(Deriv::DPhi, x);
        s.gate[4] += sw2 * d * d;
    }
    s.steps += m as f64;
    let mean = h.iter().sum::<f64>() / m as f64;
    h.extend_from_within(0..lags.min(m));
    let mut path = vec![0.0; lags + 1];
    for t in 0..m {
        let x = h[t];
        for (tau, slot) in path.iter_mut().enumerate() {
            *slot += x * h[t + tau];
        }
    }
    // Autocovariance within the path → variance of its time mean → unbiased square of the
    // static mean.
    let gamma = |tau: usize| path[tau] / m as f64 - mean * mean;
    let var_mean = (gamma(0) + 2.0 * (1..=lags).map(gamma).sum::<f64>()).max(0.0) / m as f64;
    s.stat += (mean * mean - var_mean) * m as f64;
    let q0 = path[0] / m as f64;
    // The total power of the fluctuating part (the static part excluded, as in the kernel).
    let power = gamma(0) + 2.0 * (1..=lags).map(gamma).sum::<f64>();
    for (a, b) in s.lag.iter_mut().zip(&path) {
        *a += b;
    }
    s.weight += m as f64;
    s.per_path.push((s.stratum, q0, power));
}

/// The estimates of one iteration.
#[derive(Debug, Clone)]
struct IterationEstimate {
    q: Vec<f64>,
    q_inf: f64,
    q0_se: f64,
    power: f64,
    power_se: f64,
    gate: [f64; 5],
    clipped: f64,
}

/// Samples `paths` periodic unit paths under the kernel `(k, stat)` of period `m` and
/// estimates `Q(τ)` at lags `0..=lags`.
#[allow(clippy::too_many_arguments)]
fn iterate_once(
    upd: &Cell,
    p: &CellParams,
    k: &[f64],
    stat: f64,
    m: usize,
    lags: usize,
    paths: usize,
    rng: &mut ChaCha8Rng,
) -> Result<IterationEstimate> {
    let circ = Circulant::new(k, m)?;
    let mut buf = vec![Complex64::new(0.0, 0.0); m];
    let (mut ea, mut eb) = (vec![0.0; m], vec![0.0; m]);
    let mut s = Sums::new(lags);
    let (mut w1, mut w2) = (Vec::with_capacity(m + lags), Vec::with_capacity(m));
    let sd = stat.sqrt();
    // Static fields stratified over the paths of the iteration: one in each of `paths`
    // equal-probability strata of N(0, K_∞), at a uniform position within it (unbiased, and
    // the frozen-bias spread is covered evenly even with few paths).
    let mut strata: Vec<usize> = (0..paths).collect();
    for i in (1..paths).rev() {
        let j = rng.random_range(0..=i);
        strata.swap(i, j);
    }
    let mut next_stratum = strata.into_iter();
    for _ in 0..paths / 2 {
        circ.sample_pair(rng, &mut buf, &mut ea, &mut eb);
        for e in [&mut ea, &mut eb] {
            let k = next_stratum.next().unwrap_or(0);
            s.stratum = k;
            let v: f64 = rng.random();
            let s0 = norm_quantile(((k as f64 + v) / paths as f64).clamp(1e-300, 1.0 - 1e-16));
            let shift = p.mu_b() + sd * s0;
            for x in e.iter_mut() {
                *x += shift;
            }
            match upd {
                Cell::Minimal => minimal_path(e, p, &mut w1, &mut w2, &mut s),
                Cell::Vanilla(act) => vanilla_path(e, act.as_ref(), p, &mut w1, &mut s),
            }
        }
        crate::budget::tick(2);
    }
    let q: Vec<f64> = s.lag.iter().map(|x| x / s.weight).collect();
    // Standard errors of the stratified means: paths of neighbouring strata paired,
    // `Var ≈ Σ_pairs (x_a − x_b)² / n²` (the spread between strata — most of the spread of
    // the static fields — is not sampling error).
    s.per_path.sort_by_key(|x| x.0);
    let n = s.per_path.len() as f64;
    let se = |f: fn(&(usize, f64, f64)) -> f64| -> f64 {
        let v: f64 = s
            .per_path
            .chunks_exact(2)
            .map(|c| (f(&c[0]) - f(&c[1])).powi(2))
            .sum();
        v.sqrt() / n
    };
    let power = s.per_path.iter().map(|x| x.2).sum::<f64>() / n;
    let q_inf = match upd {
        Cell::Minimal => 0.0,
        Cell::Vanilla(_) => s.stat / s.weight,
    };
    Ok(IterationEstimate {
        q0_se: se(|x| x.1),
        power,
        power_se: se(|x| x.2),
        q,
        q_inf,
        gate: s.gate.map(|x| x / s.steps),
        clipped: circ.clipped(),
    })
}

/// Initial `Q(τ)` for the iteration: the factorised theory's fixed point and its exponential
/// autocorrelation `Q* E[u]^τ` (minimalRNN), or a white guess (vanilla).
fn initial_guess(upd: &Cell, p: &CellParams, lags: usize) -> (Vec<f64>, f64) {
    match upd {
        Cell::Minimal => {
            let guess = || -> Result<(f64, f64)> {
                use crate::cells::minimal::Minimal;
                let m = Minimal::new(*p)?;
                let s = m.summary(0.0)?;
                let sig = crate::activation::Builtin::Sigmoid.arc();
                let eu = crate::expect::Integrator::default()
                    .expect(
                        &crate::expect::Fun::phi(&sig),
                        &crate::expect::Normal::new(p.mu_b(), s.q_star)?,
                    )?
                    .value;
                Ok((s.big_q_star, eu))
            };
            let (q0, eu) = guess().unwrap_or((0.5 * p.r(), 0.5));
            ((0..=lags).map(|t| q0 * eu.powi(t as i32)).collect(), 0.0)
        }
        Cell::Vanilla(_) => {
            let mut q = vec![0.0; lags + 1];
            q[0] = 0.5;
            (q, 0.0)
        }
    }
}

/// Relative level below which `|Q(τ) − Q_∞|` counts as decayed when sizing the lag window.
const LAG_TOL: f64 = 1e-4;

/// The lag window for the next iteration from the current estimate: twice the lag where the
/// autocorrelation falls below [`LAG_TOL`] of its range (or below `noise`), at least 8, at
/// most `m_max/2`.
fn next_lags(q: &[f64], q_inf: f64, noise: f64, m_max: usize) -> usize {
    let range = (q[0] - q_inf).abs().max(1e-300);
    let floor = (LAG_TOL * range).max(noise);
    let last = q
        .iter()
        .rposition(|&x| (x - q_inf).abs() > floor)
        .unwrap_or(0);
    let want = if last + 1 >= q.len() {
        2 * q.len()
    } else {
        2 * (last + 1)
    };
    want.clamp(8, m_max / 2)
}

/// `x + α (F(x) − x)`.
fn damped(x: &[f64], fx: &[f64], alpha: f64) -> Vec<f64> {
    x.iter().zip(fx).map(|(a, b)| a + alpha * (b - a)).collect()
}

/// Depth of the Anderson mixing.
const ANDERSON_DEPTH: usize = 3;

/// One Anderson-accelerated step (type II, depth [`ANDERSON_DEPTH`]) of the fixed-point
/// iteration `x = F(x)`: with residuals `f_j = F(x_j) − x_j` and their differences `ΔF`, `ΔX`
/// over the last steps, `γ = argmin |f − ΔF γ|` and `x ← x + α f − (ΔX + α ΔF) γ`. It removes
/// the slow directions a damped iteration crawls along (a self-consistency near a fold).
/// Falls back to the damped step when the extrapolation is not finite, makes `Q(0) <= 0`, or
/// moves more than ten damped steps.
fn anderson(
    history: &mut Vec<(Vec<f64>, Vec<f64>)>,
    x: &[f64],
    fx: &[f64],
    alpha: f64,
) -> Vec<f64> {
    let f: Vec<f64> = fx.iter().zip(x).map(|(a, b)| a - b).collect();
    history.push((x.to_vec(), f.clone()));
    if history.len() > ANDERSON_DEPTH + 1 {
        history.remove(0);
    }
    let plain = damped(x, fx, alpha);
    let k = history.len() - 1;
    if k == 0 {
        return plain;
    }
    let n = x.len();
    let diff = |j: usize, which: usize| -> Vec<f64> {
        let (a, b) = (&history[j + 1], &history[j]);
        let (u, v) = if which == 0 {
            (&a.0, &b.0)
        } else {
            (&a.1, &b.1)
        };
        (0..n).map(|i| u[i] - v[i]).collect()
    };
    let dx: Vec<Vec<f64>> = (0..k).map(|j| diff(j, 0)).collect();
    let df: Vec<Vec<f64>> = (0..k).map(|j| diff(j, 1)).collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut a = nalgebra::DMatrix::<f64>::zeros(k, k);
    let mut rhs = nalgebra::DVector::<f64>::zeros(k);
    for i in 0..k {
        for j in 0..k {
            a[(i, j)] = dot(&df[i], &df[j]);
        }
        rhs[i] = dot(&df[i], &f);
    }
    let reg = 1e-10 * a.trace() / k as f64 + 1e-300;
    for i in 0..k {
        a[(i, i)] += reg;
    }
    let Some(gamma) = a.lu().solve(&rhs) else {
        return plain;
    };
    let mut out = plain.clone();
    for j in 0..k {
        for i in 0..n {
            out[i] -= gamma[j] * (dx[j][i] + alpha * df[j][i]);
        }
    }
    let dist = |y: &[f64]| -> f64 { y.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() };
    if out.iter().all(|v| v.is_finite()) && out[0] > 0.0 && dist(&out) <= 100.0 * dist(&plain) {
        out
    } else {
        plain
    }
}

fn resize(q: &mut Vec<f64>, lags: usize, q_inf: f64) {
    q.resize(lags + 1, q_inf);
}

/// Solves the stationary self-consistency of the exact theory (X.1)–(X.4) for one cell and
/// regime; checked in `tests/stationary_theory.rs`.
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid process parameters (named as the CLI flags);
/// [`Error::TooLarge`] beyond the limits ([`StationaryConfig::estimate`]).
pub fn solve(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
) -> Result<StationaryFixedPoint> {
    solve_from(upd, p, regime, cfg, None)
}

/// [`solve`] starting each replica from the solution of `start` (e.g. a neighbouring point
/// of a phase diagram) instead of the factorised theory; `start` must come from a solve with
/// the same number of replicas (otherwise it is ignored).
///
/// # Errors
/// As [`solve`].
pub fn solve_from(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
    start: Option<&StationaryFixedPoint>,
) -> Result<StationaryFixedPoint> {
    solve_inner(upd, p, regime, cfg, start, None)
}

/// [`solve`] with the gate variance held at `q_star`: at every iteration the scale `hold`
/// is set so that `σ_w² Q + σ_v² R + σ_b² = q*` at the current `Q(0)` (the other two scales
/// are those of `p`); the result reports the adjusted scale ([`StationaryFixedPoint::held`]).
/// Used by the exact critical initialization (`init::exact`).
///
/// # Errors
/// As [`solve`]; [`Error::Infeasible`] (`q-star`) when `q*` is below what the fixed scales
/// already give (`σ_w² Q* + σ_b²` or `σ_w² Q* + σ_v² R`).
pub fn solve_at_gate_variance(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
    q_star: f64,
    hold: Hold,
) -> Result<StationaryFixedPoint> {
    if !(q_star.is_finite() && q_star > 0.0) {
        return Err(Error::invalid("q-star", q_star, "a finite number > 0"));
    }
    let fp = solve_inner(upd, p, regime, cfg, None, Some((q_star, hold)))?;
    if fp.replicas.iter().any(|r| r.infeasible) {
        let other = match hold {
            Hold::SigmaV => p.sigma_b() * p.sigma_b(),
            Hold::SigmaB => p.sigma_v() * p.sigma_v() * p.r(),
        };
        return Err(Error::Infeasible {
            parameter: "q-star",
            value: q_star,
            constraint: format!(
                "σ_w² Q* + {} = {:.6} already exceeds q* in the exact theory",
                match hold {
                    Hold::SigmaV => "σ_b²",
                    Hold::SigmaB => "σ_v² R",
                },
                p.sigma_w() * p.sigma_w() * fp.big_q_star + other
            ),
            feasible: "a larger q*, or a smaller fixed scale".into(),
        });
    }
    Ok(fp)
}

fn solve_inner(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
    start: Option<&StationaryFixedPoint>,
    target: Option<(f64, Hold)>,
) -> Result<StationaryFixedPoint> {
    let start = start.filter(|s| s.replicas.len() == cfg.replicas);
    check_params(p)?;
    cfg.estimate().check()?;
    if let Cell::Vanilla(act) = upd {
        // The vanilla cell's same-time statistics are the mean-field maps' (theory/02): when
        // the variance map has no finite fixed point there is no stationary state to sample.
        use crate::cells::vanilla::Vanilla;
        Vanilla::new(act.clone(), *p).analyze(1.0)?;
    }
    let per = cfg.paths_per_replica();
    let results: Vec<Result<ReplicaRun>> = (0..cfg.replicas)
        .into_par_iter()
        .map(|r| {
            let mut rng = crate::exact::replica_rng(cfg.seed, r);
            run_replica(
                upd,
                p,
                regime,
                cfg,
                per,
                start.map(|s| &s.replicas[r]),
                target,
                &mut rng,
            )
        })
        .collect();
    let runs = results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(combine(upd, p, regime, cfg, per, target, runs))
}

/// One replica's iterations and averaged estimates.
#[derive(Debug, Clone)]
struct ReplicaRun {
    q: Vec<f64>,
    q_inf: f64,
    gate: [f64; 5],
    iterations: usize,
    converged: bool,
    drift: (f64, f64),
    clipped: f64,
    period: usize,
    lags: usize,
    lag_tail: f64,
    paths: usize,
    solution: ReplicaSolution,
}

#[allow(clippy::too_many_arguments)]
fn run_replica(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
    per: usize,
    start: Option<&ReplicaSolution>,
    target: Option<(f64, Hold)>,
    rng: &mut ChaCha8Rng,
) -> Result<ReplicaRun> {
    // With a target q*, the held scale follows the current Q(0).
    let mut infeasible = false;
    let held = |q0: f64, infeasible: &mut bool| -> Result<CellParams> {
        let mut pl = *p;
        if let Some((qt, hold)) = target {
            let sw2 = p.sigma_w() * p.sigma_w();
            let rest = match hold {
                Hold::SigmaV => qt - sw2 * q0 - p.sigma_b() * p.sigma_b(),
                Hold::SigmaB => qt - sw2 * q0 - p.sigma_v() * p.sigma_v() * p.r(),
            };
            *infeasible = rest < 0.0;
            let rest = rest.max(0.0);
            pl = match hold {
                Hold::SigmaV => p.to_builder().sigma_v((rest / p.r()).sqrt()).build()?,
                Hold::SigmaB => p.to_builder().sigma_b(rest.sqrt()).build()?,
            };
        }
        Ok(pl)
    };
    let (mut lags, mut q, mut q_inf) = match start {
        Some(s) if s.q.len() >= 2 && s.q.len() <= cfg.max_length / 2 + 1 => {
            (s.q.len() - 1, s.q.clone(), s.q_inf)
        }
        _ => {
            let lags = match upd {
                Cell::Minimal => 64,
                Cell::Vanilla(_) => 16,
            }
            .min(cfg.max_length / 2);
            let (q, q_inf) = initial_guess(upd, p, lags);
            (lags, q, q_inf)
        }
    };
    let period = |lags: usize| {
        cfg.length
            .max((2 * lags).next_power_of_two())
            .min(cfg.max_length)
    };
    // The work of an iteration is kept at about `per × length` unit steps: a longer period
    // (slow units) carries proportionally more time points per path.
    let paths_at = |m: usize| {
        let n = ((per * cfg.length) / m).clamp(4, per.max(4));
        n + (n & 1)
    };
    let mut m = period(lags);
    let mut calm = 0;
    let mut converged = false;
    let mut it = 0;
    let mut history: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    // Averaging phase.
    let mut avg: Vec<IterationEstimate> = Vec::new();
    loop {
        let pl = held(q[0], &mut infeasible)?;
        let (k, stat) = field_kernel(&q, q_inf, &pl, regime);
        let est = iterate_once(upd, &pl, &k, stat, m, lags, paths_at(m), rng)?;
        it += 1;
        if !(est.q[0].is_finite() && est.q[0] < 1e150 && est.q_inf.is_finite()) {
            return Err(Error::NoFixedPoint {
                map: "stationary self-consistency",
                reason: format!(
                    "Q(0) = {} after {it} iterations: the state grows without bound (no \
                     finite stationary state; the mean-field variance map has none either)",
                    crate::error::fmt_num(est.q[0])
                ),
            });
        }
        if !avg.is_empty() || converged || it >= cfg.max_iterations {
            avg.push(est.clone());
        }
        // Convergence: the residual of the fixed point, `Q_new − Q`, at lag 0 and in the
        // total power `Σ_τ Q(τ)`, against the sampling error of the new estimate.
        let power = (q[0] - q_inf) + 2.0 * q[1..].iter().map(|x| x - q_inf).sum::<f64>();
        let small = (est.q[0] - q[0]).abs() <= 2.0 * est.q0_se + 1e-12 * q[0].abs()
            && (est.power - power).abs() <= 2.0 * est.power_se + 1e-12 * power.abs();
        // Update: Anderson-accelerated while converging, damped while averaging.
        let x: Vec<f64> = q.iter().copied().chain([q_inf]).collect();
        let fx: Vec<f64> = est.q.iter().copied().chain([est.q_inf]).collect();
        // Once the residual is at the level of the sampling noise, extrapolating from noisy
        // residual differences only amplifies the noise: plain damping from there on.
        let next = if avg.is_empty() && !small {
            anderson(&mut history, &x, &fx, cfg.damping)
        } else {
            history.clear();
            damped(&x, &fx, cfg.damping)
        };
        q_inf = next[lags + 1];
        q.copy_from_slice(&next[..=lags]);
        if avg.len() >= cfg.averaging {
            break;
        }
        if avg.is_empty() {
            calm = if small { calm + 1 } else { 0 };
            if calm >= 2 {
                converged = true;
            }
            // Grow or shrink the lag window (not while averaging: the averaged estimates
            // must share one window).
            // Hysteresis: grow when the tail is cut, shrink only when far too long.
            // The vanilla unit has no memory of its own (h = φ(e)): its autocorrelation beyond
            // the static part comes only through the field, and its lag estimates are direct,
            // noisy products; it keeps a fixed window of 16 lags (`lag_tail` reports what
            // that cuts off). The minimalRNN's window follows its Rao–Blackwellised estimate.
            let want = match upd {
                Cell::Minimal => next_lags(&q, q_inf, 0.0, cfg.max_length),
                Cell::Vanilla(_) => lags,
            };
            if want > lags || 2 * want < lags {
                lags = want;
                resize(&mut q, lags, q_inf);
                m = period(lags);
                // The history keeps its meaning on the new window: states padded with `Q_∞`
                // (the decayed value), residuals with 0.
                for (x, f) in &mut history {
                    let qi = x.pop().unwrap_or(0.0);
                    let fi = f.pop().unwrap_or(0.0);
                    x.resize(lags + 1, qi);
                    f.resize(lags + 1, 0.0);
                    x.push(qi);
                    f.push(fi);
                }
            }
        }
    }
    let n = avg.len() as f64;
    let mut qa = vec![0.0; lags + 1];
    let mut gate = [0.0; 5];
    let mut q_inf_avg = 0.0;
    for e in &avg {
        for (x, y) in qa.iter_mut().zip(&e.q) {
            *x += y / n;
        }
        for (x, y) in gate.iter_mut().zip(&e.gate) {
            *x += y / n;
        }
        q_inf_avg += e.q_inf / n;
    }
    let half = avg.len() / 2;
    let first = avg[..half].iter().map(|e| e.q[0]).sum::<f64>() / half as f64;
    let second = avg[half..].iter().map(|e| e.q[0]).sum::<f64>() / (avg.len() - half) as f64;
    let clipped = avg.iter().map(|e| e.clipped).fold(0.0, f64::max);
    let range = (qa[0] - q_inf_avg).abs().max(1e-300);
    let lag_tail = (qa[lags] - q_inf_avg).abs() / range;
    let params = held(qa[0], &mut infeasible)?;
    Ok(ReplicaRun {
        solution: ReplicaSolution {
            q: qa.clone(),
            q_inf: q_inf_avg,
            period: m,
            params,
            infeasible,
        },
        q: qa,
        q_inf: q_inf_avg,
        gate,
        iterations: it,
        converged,
        drift: (first, second),
        clipped,
        period: m,
        lags,
        lag_tail,
        paths: paths_at(m),
    })
}

fn combine(
    upd: &Cell,
    p: &CellParams,
    regime: Regime,
    cfg: &StationaryConfig,
    per: usize,
    target: Option<(f64, Hold)>,
    runs: Vec<ReplicaRun>,
) -> StationaryFixedPoint {
    let ms = |f: &dyn Fn(&ReplicaRun) -> f64| -> (f64, f64) {
        let xs: Vec<f64> = runs.iter().map(f).collect();
        {
            let m = crate::stats::mean_se(&xs);
            (m.mean, m.se)
        }
    };
    let sw2 = p.sigma_w() * p.sigma_w();
    let drive = p.sigma_v() * p.sigma_v() * p.r() + p.sigma_b() * p.sigma_b();
    let held = target.map(|(_, hold)| {
        let (value, se) = ms(&|r| match hold {
            Hold::SigmaV => r.solution.params.sigma_v(),
            Hold::SigmaB => r.solution.params.sigma_b(),
        });
        HeldScale {
            scale: hold,
            value,
            se,
        }
    });
    let (bq, bq_se) = ms(&|r| r.q[0]);
    let (qinf, qinf_se) = ms(&|r| r.q_inf);
    let lags = runs.iter().map(|r| r.lags).max().unwrap_or(0);
    let mut ac = Vec::with_capacity(lags + 1);
    let mut ac_se = Vec::with_capacity(lags + 1);
    for tau in 0..=lags {
        let (a, b) = ms(&|r| r.q.get(tau).copied().unwrap_or(r.q_inf));
        ac.push(a);
        ac_se.push(b);
    }
    let (chi, chi_se) = ms(&|r| r.gate[4]);
    let gate = matches!(upd, Cell::Minimal).then(|| {
        let g = |i: usize| ms(&|r| r.gate[i]);
        let (a, ase) = g(0);
        let (b, bse) = g(1);
        let (c, cse) = g(2);
        let (d, dse) = g(3);
        GateStatistics {
            mean_u: a,
            mean_u_se: ase,
            mean_u2: b,
            mean_u2_se: bse,
            mean_one_minus_u2: c,
            mean_one_minus_u2_se: cse,
            mean_dsigma2: d,
            mean_dsigma2_se: dse,
        }
    });
    let diffs: Vec<f64> = runs.iter().map(|r| r.drift.1 - r.drift.0).collect();
    let (dm, dse) = {
        let m = crate::stats::mean_se(&diffs);
        (m.mean, m.se)
    };
    let drift_z = if dse > 0.0 { dm / dse } else { 0.0 };
    StationaryFixedPoint {
        big_q_star: bq,
        big_q_star_se: bq_se,
        // With a held scale q* is the target by construction.
        q_star: target.map_or(sw2 * bq + drive, |t| t.0),
        q_star_se: if target.is_some() { 0.0 } else { sw2 * bq_se },
        big_q_inf: qinf,
        big_q_inf_se: qinf_se,
        autocorrelation: ac,
        autocorrelation_se: ac_se,
        gate,
        chi_1: chi,
        chi_1_se: chi_se,
        held,
        diagnostics: StationaryDiagnostics {
            iterations: runs.iter().map(|r| r.iterations).collect(),
            converged: runs.iter().all(|r| r.converged),
            drift_z,
            clipped: runs.iter().map(|r| r.clipped).fold(0.0, f64::max),
            period: runs.iter().map(|r| r.period).max().unwrap_or(0),
            lags,
            lag_tail: runs.iter().map(|r| r.lag_tail).fold(0.0, f64::max),
            paths_per_replica: runs.iter().map(|r| r.paths).min().unwrap_or(per),
        },
        replicas: runs.into_iter().map(|r| r.solution).collect(),
        config: *cfg,
        regime,
    }
}
