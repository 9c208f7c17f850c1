//! Finite-width Monte Carlo simulation of real networks — the empirical check of the theory.
//!
//! Every routine takes an explicit seed. Seed `s` of a run with base seed `S` uses the
//! ChaCha8 stream `(S, s)`, and seeds run in parallel but each one sequentially, so results
//! are bit-identical for any number of threads.

pub mod jacobian;
mod network;
pub mod sync;

pub use network::{SimTrajectory, simulate};

use nalgebra::DMatrix;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::cells::{CellParams, Regime, WeightLaw};
use crate::error::{Error, Result};

/// Simulation settings shared by the cells (validated; built with [`SimConfig::builder`]).
/// Serialised with the keys `width`, `input_dim`, `batch`, `seeds`, `seed`, `weights`, `tied`,
/// `fresh_bias`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimConfig {
    width: usize,
    input_dim: usize,
    batch: usize,
    seeds: usize,
    seed: u64,
    weights: WeightLaw,
    #[serde(flatten)]
    regime: Regime,
}

/// The builder of [`SimConfig`]. Unset values default to width 1000, input dimension = width,
/// 16 sequence pairs per network, 8 networks, seed 1, Gaussian `W`, the real network's regime
/// ([`Regime::REAL`]: tied weights, frozen bias).
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct SimConfigBuilder {
    width: usize,
    input_dim: Option<usize>,
    batch: usize,
    seeds: usize,
    seed: u64,
    weights: WeightLaw,
    regime: Regime,
}

impl SimConfigBuilder {
    /// Hidden width `N`.
    pub fn width(mut self, n: usize) -> Self {
        self.width = n;
        self
    }
    /// Input dimension `N_in` (the input weights are `N(0, σ_v²/N_in)`; default: the width).
    pub fn input_dim(mut self, n: usize) -> Self {
        self.input_dim = Some(n);
        self
    }
    /// Sequence pairs per network.
    pub fn batch(mut self, b: usize) -> Self {
        self.batch = b;
        self
    }
    /// Independent networks (at least 2, for a standard error).
    pub fn seeds(mut self, s: usize) -> Self {
        self.seeds = s;
        self
    }
    /// Base seed (network `s` uses ChaCha8 stream `s`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The law of `W`.
    pub fn weights(mut self, w: WeightLaw) -> Self {
        self.weights = w;
        self
    }
    /// Tied or redrawn weights, frozen or fresh bias.
    pub fn regime(mut self, r: Regime) -> Self {
        self.regime = r;
        self
    }
    /// One `W, V` for all steps (`true`, the real network) or fresh ones every step.
    pub fn tied(mut self, tied: bool) -> Self {
        self.regime.tied = tied;
        self
    }
    /// Redraw the bias every step (instead of freezing it, as a real network does).
    pub fn fresh_bias(mut self, fresh: bool) -> Self {
        self.regime.fresh_bias = fresh;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `width`, `input-dim` or `batch` when zero, or
    /// `seeds` below 2 (a standard error needs two networks); [`Error::TooLarge`] naming the
    /// parameter when one step of the simulation would not fit in memory ([`crate::budget`];
    /// the simulators check again with the number of steps).
    pub fn build(self) -> Result<SimConfig> {
        if self.width == 0 {
            return Err(Error::invalid("width", 0.0, "at least 1"));
        }
        if self.input_dim == Some(0) {
            return Err(Error::invalid("input-dim", 0.0, "at least 1"));
        }
        if self.batch == 0 {
            return Err(Error::invalid("batch", 0.0, "at least 1"));
        }
        if self.seeds < 2 {
            return Err(Error::invalid(
                "seeds",
                self.seeds as f64,
                "at least 2 (for a standard error)",
            ));
        }
        let cfg = SimConfig {
            width: self.width,
            input_dim: self.input_dim.unwrap_or(self.width),
            batch: self.batch,
            seeds: self.seeds,
            seed: self.seed,
            weights: self.weights,
            regime: self.regime,
        };
        cfg.memory_estimate(1).check()?;
        Ok(cfg)
    }
}

impl SimConfig {
    /// A builder with the defaults of [`SimConfigBuilder`].
    pub fn builder() -> SimConfigBuilder {
        SimConfigBuilder {
            width: 1000,
            input_dim: None,
            batch: 16,
            seeds: 8,
            seed: 1,
            weights: WeightLaw::Gaussian,
            regime: Regime::REAL,
        }
    }

    /// A builder holding these settings (to change some and build again).
    pub fn to_builder(&self) -> SimConfigBuilder {
        SimConfigBuilder {
            width: self.width,
            input_dim: Some(self.input_dim),
            batch: self.batch,
            seeds: self.seeds,
            seed: self.seed,
            weights: self.weights,
            regime: self.regime,
        }
    }

    /// Hidden width `N`.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Input dimension `N_in`.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
    /// Sequence pairs per network.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Independent networks.
    pub fn seeds(&self) -> usize {
        self.seeds
    }
    /// Base seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The law of `W`.
    pub fn weights(&self) -> WeightLaw {
        self.weights
    }
    /// Tied or redrawn weights, frozen or fresh bias.
    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// The same settings with the input dimension set to the width (for cells whose input
    /// enters the state, [`crate::cells::Cell::input_enters_state`]).
    pub(crate) fn with_state_sized_input(&self) -> SimConfig {
        SimConfig {
            input_dim: self.width,
            ..*self
        }
    }

    /// The memory a simulation of `steps` steps holds at its peak, by parameter: every
    /// running network's `W` (with the copies a Haar draw or a redraw makes), `V`, states and
    /// pre-activations of its batch, and the per-step statistics of all networks.
    pub fn memory_estimate(&self, steps: usize) -> crate::budget::Estimate {
        let (n, nin, b) = (self.width as f64, self.input_dim as f64, self.batch as f64);
        let (s, t) = (self.seeds as f64, steps as f64);
        let k = crate::budget::concurrency(self.seeds) as f64;
        let wf = match (self.weights, self.regime.tied) {
            (WeightLaw::Gaussian, true) => 1.0,
            (WeightLaw::Gaussian, false) => 2.0,
            (WeightLaw::Orthogonal, true) => 4.0,
            (WeightLaw::Orthogonal, false) => 5.0,
        };
        let vf = if self.regime.tied { 1.0 } else { 2.0 };
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
            + if self.weights == WeightLaw::Orthogonal {
                3.0 * n * n * n
            } else {
                0.0
            };
        let per_step = 4.0 * n * n * b
            + 4.0 * n * nin * b
            + 40.0 * (n + nin) * b
            + if self.regime.tied { 0.0 } else { draw };
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
    weights: WeightLaw,
    n: usize,
    sigma_w: f64,
) -> DMatrix<f64> {
    match weights {
        WeightLaw::Gaussian => gaussian_matrix(rng, n, n, sigma_w / (n as f64).sqrt()),
        WeightLaw::Orthogonal => orthogonal_matrix(rng, n, sigma_w),
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

/// The weights `W`, `V`, `b` of one sampled network, redrawn from step to step as the
/// configuration's [`Regime`] says: the simulator and the Jacobian sampler draw them alike.
pub(crate) struct NetworkWeights {
    /// `W` ([`recurrent_matrix`]).
    pub w: DMatrix<f64>,
    /// `V` ([`input_matrix`]).
    pub vin: DMatrix<f64>,
    /// `b` ([`bias_vector`]).
    pub bias: Vec<f64>,
}

impl NetworkWeights {
    /// The weights of step 1, drawn in the order `W`, `V`, `b`.
    pub(crate) fn draw<R: Rng>(rng: &mut R, cfg: &SimConfig, p: &CellParams) -> NetworkWeights {
        let (n, nin) = (cfg.width(), cfg.input_dim());
        NetworkWeights {
            w: recurrent_matrix(rng, cfg.weights(), n, p.sigma_w()),
            vin: input_matrix(rng, n, nin, p.sigma_v()),
            bias: bias_vector(rng, n, p.mu_b(), p.sigma_b()),
        }
    }

    /// The weights of a later step: fresh `W` and `V` when untied, a fresh `b` when the bias
    /// is redrawn (in that order), the others kept.
    pub(crate) fn redraw<R: Rng>(&mut self, rng: &mut R, cfg: &SimConfig, p: &CellParams) {
        let (n, nin) = (cfg.width(), cfg.input_dim());
        let regime = cfg.regime();
        if !regime.tied {
            self.w = recurrent_matrix(rng, cfg.weights(), n, p.sigma_w());
            self.vin = input_matrix(rng, n, nin, p.sigma_v());
        }
        if regime.fresh_bias {
            self.bias = bias_vector(rng, n, p.mu_b(), p.sigma_b());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_is_orthogonal_and_scaled() {
        let cfg = SimConfig::builder()
            .width(10)
            .batch(1)
            .seeds(2)
            .seed(3)
            .build()
            .unwrap();
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
        let cfg = SimConfig::builder()
            .width(10)
            .batch(1)
            .seeds(2)
            .seed(42)
            .build()
            .unwrap();
        let a: f64 = cfg.rng(3).sample(StandardNormal);
        let b: f64 = cfg.rng(3).sample(StandardNormal);
        let c: f64 = cfg.rng(4).sample(StandardNormal);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
