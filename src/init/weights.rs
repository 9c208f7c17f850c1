//! Sampled weights for a critical initialization, ready to load in numpy, PyTorch or JAX.

use std::path::Path;

use nalgebra::DMatrix;
use serde::Serialize;

use super::{CellKind, CriticalInit, npy};
use crate::error::{Error, Result};
use crate::output::{OutputDir, write_new};
use crate::sim::{SimConfig, Weights, bias_vector, input_matrix, recurrent_matrix};

/// One network's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkWeights {
    /// Recurrent weights `W` (`N × N`).
    pub w: DMatrix<f64>,
    /// Input weights `V` (`N × N_in`).
    pub v: DMatrix<f64>,
    /// Bias `b` (`N`).
    pub b: Vec<f64>,
}

/// The manifest written next to the `.npy` files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Tool and version that wrote the files.
    pub generator: String,
    /// The cell and its update equation (which matrix multiplies what).
    pub cell: CellKind,
    /// The update equation, in words.
    pub equation: &'static str,
    /// Hidden width `N`.
    pub width: usize,
    /// Input dimension `N_in`.
    pub input_dim: usize,
    /// `gaussian` or `orthogonal`.
    pub weights: Weights,
    /// The seed (ChaCha8, stream 0: the same network as simulation seed `seed`, network 0).
    pub seed: u64,
    /// Files: name → shape.
    pub files: Vec<(String, Vec<usize>)>,
    /// The initialization the weights were drawn from.
    pub init: CriticalInit,
}

/// Draws `W, V, b` at the scales of `init` for width `n` and input dimension `nin` (the
/// minimalRNN needs `nin = n`: its input enters the state directly). The draw is the one the
/// simulators make for network 0 of seed `seed` (`SimConfig::rng(0)`, in the order `W, V, b`),
/// so `mfrnn simulate --seed s` runs exactly these weights first.
///
/// # Errors
/// [`Error::InvalidParameter`] for `n == 0`, `nin == 0`, or `nin != n` for the minimalRNN;
/// [`Error::TooLarge`] (`width` or `input-dim`) when the matrices would not fit in memory
/// ([`estimate`]).
pub fn sample(
    init: &CriticalInit,
    n: usize,
    nin: usize,
    weights: Weights,
    seed: u64,
) -> Result<NetworkWeights> {
    if n == 0 {
        return Err(Error::invalid("width", 0.0, "at least 1"));
    }
    if nin == 0 {
        return Err(Error::invalid("input-dim", 0.0, "at least 1"));
    }
    if init.cell == CellKind::Minimal && nin != n {
        return Err(Error::invalid(
            "input-dim",
            nin as f64,
            "equal to the width for the minimalRNN (h = u h + (1 − u) z)",
        ));
    }
    estimate(n, nin, weights).check()?;
    let mut rng = SimConfig::new(n, 1, 2, seed)?.rng(0);
    let w = recurrent_matrix(&mut rng, weights, n, init.sigma_w);
    let v = input_matrix(&mut rng, n, nin, init.sigma_v);
    let b = bias_vector(&mut rng, n, init.mu_b, init.sigma_b);
    Ok(NetworkWeights { w, v, b })
}

/// The memory and time of drawing and writing one network: `W` with the copies a Haar draw
/// makes (4 `N²` doubles), or `W` with its row-major copy and file bytes when written (3
/// `N²`), the same for `V` (`N × N_in`); time 20 operations a normal draw and `3 N³` for the
/// QR factorisation of a Haar draw.
pub fn estimate(n: usize, nin: usize, weights: Weights) -> crate::budget::Estimate {
    let (nf, nif) = (n as f64, nin as f64);
    let orth = weights == Weights::Orthogonal;
    crate::budget::Estimate::new("sampling the weights")
        .memory("width", nf, 8.0 * (4.0 * nf * nf + nf))
        .memory("input-dim", nif, 8.0 * 3.0 * nf * nif)
        .ops(
            "width",
            nf,
            20.0 * (nf * nf + nf * nif) + if orth { 3.0 * nf * nf * nf } else { 0.0 },
            1,
        )
}

fn row_major(m: &DMatrix<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(m.len());
    for i in 0..m.nrows() {
        out.extend(m.row(i).iter());
    }
    out
}

/// Writes `W.npy`, `V.npy`, `b.npy` (float64, C order) and `manifest.json` into `dir`, under
/// the output contract of [`crate::output`]: `dir` must not exist (its parent must), be empty,
/// or hold an unmodified earlier weights output of mfrnn; anything else is refused before
/// the weights are drawn. Returns the manifest.
///
/// # Errors
/// As [`sample`]; [`Error::OutputPath`] for a refused `dir` (flag `out`); [`Error::Io`].
pub fn write(
    init: &CriticalInit,
    n: usize,
    nin: usize,
    weights: Weights,
    seed: u64,
    dir: &Path,
) -> Result<Manifest> {
    let out = OutputDir::prepare(dir, "weights", "out")?;
    let net = sample(init, n, nin, weights, seed)?;
    let stage = out.staging();
    npy::write(&stage.join("W.npy"), &row_major(&net.w), &[n, n])?;
    npy::write(&stage.join("V.npy"), &row_major(&net.v), &[n, nin])?;
    npy::write(&stage.join("b.npy"), &net.b, &[n])?;
    let manifest = Manifest {
        generator: format!("mfrnn {}", env!("CARGO_PKG_VERSION")),
        cell: init.cell,
        equation: match init.cell {
            CellKind::Vanilla => "h_t = phi(W h_{t-1} + V x_t + b)",
            CellKind::Minimal => {
                "u_t = sigmoid(W h_{t-1} + V z_t + b); h_t = u_t * h_{t-1} + (1 - u_t) * z_t"
            }
        },
        width: n,
        input_dim: nin,
        weights,
        seed,
        files: vec![
            ("W.npy".into(), vec![n, n]),
            ("V.npy".into(), vec![n, nin]),
            ("b.npy".into(), vec![n]),
        ],
        init: init.clone(),
    };
    let json = serde_json::to_string_pretty(&manifest).expect("serialisable");
    write_new(&stage.join("manifest.json"), json.as_bytes())?;
    out.commit()?;
    Ok(manifest)
}
