//! Finite-width Monte Carlo simulation of real networks — the empirical check of the theory.
//!
//! Every routine takes an explicit seed. Seed `s` of a run with base seed `S` uses the
//! ChaCha8 stream `(S, s)`, and seeds run in parallel but each one sequentially, so results
//! are bit-identical for any number of threads.

pub mod jacobian;
pub mod minimal;
pub mod sync;
pub mod vanilla;

use nalgebra::DMatrix;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::error::{Error, Result};

/// Distribution of the recurrent weight matrix `W`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// `W_ij ~ N(0, σ_w²/N)`.
    Gaussian,
    /// `W = σ_w O`, `O` Haar-distributed orthogonal.
    Orthogonal,
}

/// Simulation settings shared by the cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimConfig {
    /// Hidden width `N`.
    pub width: usize,
    /// Input dimension `N_in` (the input weights are `N(0, σ_v²/N_in)`).
    pub input_dim: usize,
    /// Sequence pairs per network.
    pub batch: usize,
    /// Independent networks (seeds).
    pub seeds: usize,
    /// Base seed.
    pub seed: u64,
    /// Distribution of `W`.
    pub weights: Weights,
    /// `true`: one `W, V` for all steps (the real network); `false`: fresh `W, V` every step
    /// (the mean-field theory's assumption).
    pub tied: bool,
    /// Redraw the bias every step (instead of freezing it, as a real network does).
    pub fresh_bias: bool,
}

impl SimConfig {
    /// Validated settings (input dimension = width).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `width`, `batch` or `seeds` when zero (`seeds >= 2`
    /// is required for a standard error); [`Error::TooLarge`] naming the parameter when one
    /// step of the simulation would not fit in memory ([`crate::budget`]; the simulators check
    /// again with the number of steps).
    pub fn new(width: usize, batch: usize, seeds: usize, seed: u64) -> Result<SimConfig> {
        if width == 0 {
            return Err(Error::invalid("width", 0.0, "at least 1"));
        }
        if batch == 0 {
            return Err(Error::invalid("batch", 0.0, "at least 1"));
        }
        if seeds < 2 {
            return Err(Error::invalid(
                "seeds",
                seeds as f64,
                "at least 2 (for a standard error)",
            ));
        }
        let cfg = SimConfig {
            width,
            input_dim: width,
            batch,
            seeds,
            seed,
            weights: Weights::Gaussian,
            tied: true,
            fresh_bias: false,
        };
        cfg.memory_estimate(1).check()?;
        Ok(cfg)
    }

    /// The memory a simulation of `steps` steps holds at its peak, by parameter: every
    /// running network's `W` (with the copies a Haar draw or a redraw makes), `V`, states and
    /// pre-activations of its batch, and the per-step statistics of all networks.
    pub fn memory_estimate(&self, steps: usize) -> crate::budget::Estimate {
        let (n, nin, b) = (self.width as f64, self.input_dim as f64, self.batch as f64);
        let (s, t) = (self.seeds as f64, steps as f64);
        let k = crate::budget::concurrency(self.seeds) as f64;
        let wf = match (self.weights, self.tied) {
            (Weights::Gaussian, true) => 1.0,
            (Weights::Gaussian, false) => 2.0,
            (Weights::Orthogonal, true) => 4.0,
            (Weights::Orthogonal, false) => 5.0,
        };
        let vf = if self.tied { 1.0 } else { 2.0 };
        let (long, long_value) = crate::budget::blame(&[("steps", t, 50.0), ("seeds", s, 8.0)]);
        let (wide, wide_value) =
            crate::budget::blame(&[("width", n, 1000.0), ("input-dim", nin, n.max(1.0))]);
        let (bat, bat_value) = crate::budget::blame(&[("batch", b, 16.0), ("width", n, 1000.0)]);
        crate::budget::Estimate::new("the simulation")
            .memory(wide, wide_value, 8.0 * k * (wf * n * n + vf * n * nin + n))
            .memory(bat, bat_value, 8.0 * k * (8.0 * n * b + 2.0 * nin * b))
            .memory(long, long_value, 40.0 * s * t + 96.0 * t)
    }

    /// [`SimConfig::memory_estimate`] with the time of `steps` steps: per step and network,
    /// the products `W h` and `V x` over the batch and the draws of the inputs (and of `W`,
    /// `V` again when untied; a Haar draw costs a QR factorisation).
    pub fn estimate(&self, steps: usize) -> crate::budget::Estimate {
        let (n, nin, b) = (self.width as f64, self.input_dim as f64, self.batch as f64);
        let (s, t) = (self.seeds as f64, steps as f64);
        let draw = 20.0 * (n * n + n * nin)
            + if self.weights == Weights::Orthogonal {
                3.0 * n * n * n
            } else {
                0.0
            };
        let per_step = 4.0 * n * n * b
            + 4.0 * n * nin * b
            + 40.0 * (n + nin) * b
            + if self.tied { 0.0 } else { draw };
        let (p, v) = crate::budget::blame(&[
            ("steps", t, 50.0),
            ("seeds", s, 8.0),
            ("width", n, 1000.0),
            ("batch", b, 16.0),
        ]);
        self.memory_estimate(steps).ops(
            p,
            v,
            s * (t * per_step + draw),
            crate::budget::concurrency(self.seeds),
        )
    }

    /// Sets the weight distribution.
    #[must_use]
    pub fn weights(mut self, w: Weights) -> Self {
        self.weights = w;
        self
    }

    /// Tied (`true`, default) or untied weights.
    #[must_use]
    pub fn tied(mut self, tied: bool) -> Self {
        self.tied = tied;
        self
    }

    /// Frozen (`false`, default) or per-step resampled bias.
    #[must_use]
    pub fn fresh_bias(mut self, fresh: bool) -> Self {
        self.fresh_bias = fresh;
        self
    }

    /// Sets the input dimension.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if zero; [`Error::TooLarge`] (`input-dim`) when `V` would
    /// not fit in memory.
    pub fn input_dim(mut self, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("input-dim", 0.0, "at least 1"));
        }
        self.input_dim = n;
        self.memory_estimate(1).check()?;
        Ok(self)
    }

    /// The RNG of seed index `s`: ChaCha8 stream `s` of the base seed.
    pub fn rng(&self, s: usize) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::seed_from_u64(self.seed);
        r.set_stream(s as u64);
        r
    }
}

/// An `n × m` matrix of i.i.d. `N(0, sd²)` entries.
pub fn gaussian_matrix<R: Rng>(rng: &mut R, n: usize, m: usize, sd: f64) -> DMatrix<f64> {
    DMatrix::from_fn(n, m, |_, _| sd * rng.sample::<f64, _>(StandardNormal))
}

/// The recurrent weights `W` of one network: entries `N(0, σ_w²/N)`, or `σ_w` times a Haar
/// orthogonal matrix (so `W Wᵀ = σ_w² I`).
pub fn recurrent_matrix<R: Rng>(
    rng: &mut R,
    weights: Weights,
    n: usize,
    sigma_w: f64,
) -> DMatrix<f64> {
    match weights {
        Weights::Gaussian => gaussian_matrix(rng, n, n, sigma_w / (n as f64).sqrt()),
        Weights::Orthogonal => orthogonal_matrix(rng, n, sigma_w),
    }
}

/// The input weights `V` (`n × n_in`, entries `N(0, σ_v²/n_in)`).
pub fn input_matrix<R: Rng>(rng: &mut R, n: usize, nin: usize, sigma_v: f64) -> DMatrix<f64> {
    gaussian_matrix(rng, n, nin, sigma_v / (nin as f64).sqrt())
}

/// The bias `b` (entries `N(μ_b, σ_b²)`).
pub fn bias_vector<R: Rng>(rng: &mut R, n: usize, mu_b: f64, sigma_b: f64) -> Vec<f64> {
    (0..n)
        .map(|_| mu_b + sigma_b * rng.sample::<f64, _>(StandardNormal))
        .collect()
}

/// `scale · O` with `O` Haar-distributed on the orthogonal group: QR of a Gaussian matrix with
/// the signs of `diag(R)` moved into `Q` (Mezzadri 2007), so that the law is exactly Haar.
pub fn orthogonal_matrix<R: Rng>(rng: &mut R, n: usize, scale: f64) -> DMatrix<f64> {
    let g = gaussian_matrix(rng, n, n, 1.0);
    let qr = g.qr();
    let (mut q, r) = qr.unpack();
    for j in 0..n {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q * scale
}

/// Statistics of two sequences over time, `t = 1..=T`, each with its standard error: from
/// simulated networks ([`vanilla::SimTrajectory`], over seeds) or from the sampled exact
/// theory ([`crate::cells::exact::ExactTrajectory`], over replicas). The quantities are those
/// of [`crate::cells::Trajectory`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimates<C> {
    /// Steps `1..=T`.
    pub t: Vec<usize>,
    /// Pre-activation (gate) variance.
    pub q: Vec<f64>,
    /// Its standard error.
    pub q_se: Vec<f64>,
    /// Hidden second moment.
    #[serde(rename = "Q")]
    pub big_q: Vec<f64>,
    /// Its standard error.
    #[serde(rename = "Q_se")]
    pub big_q_se: Vec<f64>,
    /// Pre-activation covariance of the two sequences.
    pub q_ab: Vec<f64>,
    /// Its standard error.
    pub q_ab_se: Vec<f64>,
    /// Hidden second moment between sequences.
    #[serde(rename = "C")]
    pub big_c: Vec<f64>,
    /// Its standard error.
    #[serde(rename = "C_se")]
    pub big_c_se: Vec<f64>,
    /// Correlation.
    pub c: Vec<f64>,
    /// Its standard error.
    pub c_se: Vec<f64>,
    /// The settings used.
    pub config: C,
}

/// Means and standard errors over independent runs of per-run `[q, Q, q_ab, C, c]` series.
pub(crate) fn estimates<C>(runs: &[Vec<[f64; 5]>], steps: usize, config: C) -> Estimates<C> {
    let mut out = Estimates {
        t: (1..=steps).collect(),
        q: Vec::with_capacity(steps),
        q_se: Vec::with_capacity(steps),
        big_q: Vec::with_capacity(steps),
        big_q_se: Vec::with_capacity(steps),
        q_ab: Vec::with_capacity(steps),
        q_ab_se: Vec::with_capacity(steps),
        big_c: Vec::with_capacity(steps),
        big_c_se: Vec::with_capacity(steps),
        c: Vec::with_capacity(steps),
        c_se: Vec::with_capacity(steps),
        config,
    };
    for t in 0..steps {
        let stat = |k: usize| -> (f64, f64) {
            let col: Vec<f64> = runs.iter().map(|r| r[t][k]).collect();
            mean_se(&col)
        };
        for (k, (m, e)) in [
            (&mut out.q, &mut out.q_se),
            (&mut out.big_q, &mut out.big_q_se),
            (&mut out.q_ab, &mut out.q_ab_se),
            (&mut out.big_c, &mut out.big_c_se),
            (&mut out.c, &mut out.c_se),
        ]
        .into_iter()
        .enumerate()
        {
            let (a, b) = stat(k);
            m.push(a);
            e.push(b);
        }
    }
    out
}

/// Names of the per-step statistics `[q, Q, q_ab, C, c]`, as in [`Estimates`].
pub(crate) const STAT_NAMES: [&str; 5] = ["q", "Q", "q_ab", "C", "c"];

/// The first step (1-based) at which a per-run statistic is not finite, as
/// [`Error::Diverged`] with `reason()`; `Ok` if every value is finite.
///
/// A statistic that overflows is not a result: from there on sums of squares are infinite,
/// differences of them NaN, and a correlation computed from them would be fabricated.
pub(crate) fn check_finite_runs(
    runs: &[Vec<[f64; 5]>],
    reason: impl FnOnce() -> String,
) -> Result<()> {
    let mut first: Option<(usize, usize, f64)> = None;
    for run in runs {
        let limit = first.map_or(run.len(), |f| f.0.min(run.len()));
        if let Some((t, k, v)) = run[..limit].iter().enumerate().find_map(|(t, st)| {
            st.iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite())
                .map(|(k, v)| (t, k, *v))
        }) {
            first = Some((t, k, v));
        }
    }
    match first {
        None => Ok(()),
        Some((t, k, value)) => {
            let last = runs
                .iter()
                .filter_map(|r| r.get(t.wrapping_sub(1)).map(|st| st[k]))
                .filter(|v| v.is_finite())
                .fold(f64::NAN, f64::max);
            let before = if t > 0 && last.is_finite() {
                format!(" (largest finite value at step {t}: {last:e})")
            } else {
                String::new()
            };
            Err(Error::Diverged {
                quantity: STAT_NAMES[k],
                step: t + 1,
                value,
                reason: format!("{}{before}", reason()),
            })
        }
    }
}

/// Mean and standard error of per-seed estimates, scaled so that neither the mean nor the
/// sum of squared deviations overflows for values up to the largest double.
pub(crate) fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mut m = xs.iter().sum::<f64>() / n;
    if !m.is_finite() {
        m = xs.iter().map(|x| x / n).sum::<f64>();
    }
    if xs.len() < 2 {
        return (m, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    if var.is_finite() {
        return (m, (var / n).sqrt());
    }
    let scale = xs.iter().fold(0.0f64, |a, x| a.max((x - m).abs()));
    if scale == 0.0 || !scale.is_finite() {
        return (m, scale);
    }
    let ss = xs.iter().map(|x| ((x - m) / scale).powi(2)).sum::<f64>();
    (m, scale * (ss / (n * (n - 1.0))).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_is_orthogonal_and_scaled() {
        let cfg = SimConfig::new(10, 1, 2, 3).unwrap();
        let o = orthogonal_matrix(&mut cfg.rng(0), 40, 1.5);
        let g = o.transpose() * &o;
        for i in 0..40 {
            for j in 0..40 {
                let e = if i == j { 2.25 } else { 0.0 };
                assert!((g[(i, j)] - e).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let cfg = SimConfig::new(10, 1, 2, 42).unwrap();
        let a: f64 = cfg.rng(3).sample(StandardNormal);
        let b: f64 = cfg.rng(3).sample(StandardNormal);
        let c: f64 = cfg.rng(4).sample(StandardNormal);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
