//! Initial parameters: the theory's scales (`σ_w, σ_v, σ_b, μ_b`, Gaussian or orthogonal `W`),
//! the critical initialization of [`crate::init`], and the baselines practitioners use.
//! The schemes set the cell's `W, V, b`; the embedding and the readout are drawn the same way
//! for every scheme (`theory/09-training.md` §Initializations).

use nalgebra::DMatrix;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::cell::Role;
use super::model::{CellSpec, Model};
use crate::error::{Error, Result, finite, non_negative};
use crate::init::{self as critical, Given};
use crate::sim::{self, Weights};

/// How the cell's `W`, `V`, `b` are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum InitScheme {
    /// The theory's ensemble: `W_ij ~ N(0, σ_w²/N)` (or `σ_w` times a Haar orthogonal matrix),
    /// `V_ij ~ N(0, σ_v²/fan-in)`, `b_i ~ N(μ_b, σ_b²)` — the simulators' draw.
    Theory {
        /// Recurrent scale `σ_w`.
        sigma_w: f64,
        /// Input scale `σ_v`.
        sigma_v: f64,
        /// Bias standard deviation `σ_b`.
        sigma_b: f64,
        /// Bias mean `μ_b`.
        mu_b: f64,
        /// Gaussian or orthogonal `W`.
        weights: Weights,
    },
    /// The critical initialization ([`crate::init::vanilla`], [`crate::init::minimal`]):
    /// `χ₁ = 1` with the fixed point `q*`, for the task's input second moment (vanilla) or
    /// the embedding's `R` (minimalRNN). Exactly one of `sigma_b`, `sigma_v` is given; the
    /// other is solved for.
    Critical {
        /// Target pre-activation variance `q*`.
        q_star: f64,
        /// Bias mean `μ_b`.
        mu_b: f64,
        /// Given bias standard deviation (`σ_v` solved for).
        sigma_b: Option<f64>,
        /// Given input scale (`σ_b` solved for).
        sigma_v: Option<f64>,
        /// Gaussian or orthogonal `W`.
        weights: Weights,
    },
    /// PyTorch's `nn.RNN` default: every weight `U(−1/√N, 1/√N)`; the bias is the sum of two
    /// such draws (PyTorch's `b_ih + b_hh`).
    PyTorch,
    /// Glorot (Xavier) uniform weights `U(±√(6/(fan-in + fan-out)))`, zero bias.
    Glorot,
    /// Haar-orthogonal `W` (gain 1), Glorot-uniform `V`, zero bias.
    Orthogonal,
    /// IRNN (Le, Jaitly & Hinton 2015): `W = I`, `V_ij ~ N(0, 0.001²)`, zero bias.
    Identity,
}

impl InitScheme {
    /// The flag-style name.
    pub fn name(&self) -> &'static str {
        match self {
            InitScheme::Theory { .. } => "theory",
            InitScheme::Critical { .. } => "critical",
            InitScheme::PyTorch => "pytorch",
            InitScheme::Glorot => "glorot",
            InitScheme::Orthogonal => "orthogonal",
            InitScheme::Identity => "identity",
        }
    }
}

/// The scales an initialization resolved to (theory and critical schemes), with the critical
/// initialization's diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedInit {
    /// The scheme's name.
    pub scheme: &'static str,
    /// `σ_w`, `σ_v`, `σ_b`, `μ_b` (theory and critical schemes).
    pub scales: Option<[f64; 4]>,
    /// The input second moment `R` the critical scales were solved for.
    pub r: Option<f64>,
    /// `χ₁` at the critical scales (1 to about 1e-12).
    pub chi_1: Option<f64>,
    /// The critical initialization's warnings (unreachable fixed point, ...).
    pub warnings: Vec<String>,
}

fn check(name: &'static str, v: f64) -> Result<f64> {
    non_negative(name, v)
}

/// Resolves `scheme` to scales, validating every number.
pub(crate) fn resolve(
    scheme: &InitScheme,
    cell: CellSpec,
    input_r: f64,
    embedding_r: f64,
) -> Result<ResolvedInit> {
    let mut out = ResolvedInit {
        scheme: scheme.name(),
        scales: None,
        r: None,
        chi_1: None,
        warnings: Vec::new(),
    };
    match *scheme {
        InitScheme::Theory {
            sigma_w,
            sigma_v,
            sigma_b,
            mu_b,
            ..
        } => {
            out.scales = Some([
                check("sigma-w", sigma_w)?,
                check("sigma-v", sigma_v)?,
                check("sigma-b", sigma_b)?,
                finite("mu-b", mu_b)?,
            ]);
        }
        InitScheme::Critical {
            q_star,
            mu_b,
            sigma_b,
            sigma_v,
            ..
        } => {
            let given = match (sigma_b, sigma_v) {
                (Some(_), Some(_)) => {
                    return Err(Error::Unsupported(
                        "the critical initialization takes --sigma-b or --sigma-v, not both (the \
                         other is solved for)"
                            .into(),
                    ));
                }
                (_, Some(v)) => Given::SigmaV(v),
                (Some(b), None) => Given::SigmaB(b),
                (None, None) => Given::SigmaB(0.0),
            };
            if matches!(cell, CellSpec::Vanilla(_))
                && input_r == 0.0
                && matches!(given, Given::SigmaB(_))
            {
                return Err(Error::Unsupported(
                    "the critical initialization of the vanilla cell with zero padding (input \
                     second moment R = 0 during the padding) cannot solve for σ_v: give \
                     --sigma-v (σ_b is then solved for)"
                        .into(),
                ));
            }
            let (c, r) = match cell {
                CellSpec::Vanilla(phi) => (
                    critical::vanilla(phi.arc(), q_star, input_r, mu_b, given)?,
                    input_r,
                ),
                CellSpec::Minimal => (
                    critical::minimal(q_star, mu_b, embedding_r, given)?,
                    embedding_r,
                ),
            };
            out.scales = Some([c.sigma_w, c.sigma_v, c.sigma_b, c.mu_b]);
            out.r = Some(r);
            out.chi_1 = Some(c.chi_1);
            out.warnings = c.warnings;
        }
        _ => {}
    }
    Ok(out)
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f64) -> Vec<f64> {
    (0..n)
        .map(|_| bound * (2.0 * rng.random::<f64>() - 1.0))
        .collect()
}

/// Draws all parameters of `model` (flat, column-major, in [`Model::tensors`] order) from
/// `rng`, tensor by tensor. For the theory and critical schemes `W, V, b` are the draw of
/// [`crate::init::weights::sample`] with the same stream (stream 0 of the seed).
pub(crate) fn draw(
    model: &Model,
    scheme: &InitScheme,
    resolved: &ResolvedInit,
    embedding_r: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let n = model.width;
    let weights = match scheme {
        InitScheme::Theory { weights, .. } | InitScheme::Critical { weights, .. } => *weights,
        _ => Weights::Gaussian,
    };
    let mut out = Vec::with_capacity(model.num_params());
    let col_major = |m: DMatrix<f64>| m.as_slice().to_vec();
    for t in model.tensors() {
        let (rows, cols) = (t.rows, t.cols);
        let glorot = (6.0 / (rows + cols) as f64).sqrt();
        let v: Vec<f64> = match (t.role, resolved.scales) {
            (Role::Recurrent, Some([sw, ..])) => {
                col_major(sim::recurrent_matrix(rng, weights, n, sw))
            }
            (Role::Input, Some([_, sv, ..])) => col_major(sim::input_matrix(rng, rows, cols, sv)),
            (Role::Bias, Some([_, _, sb, mb])) => sim::bias_vector(rng, rows, mb, sb),
            (Role::Recurrent, None) => match scheme {
                InitScheme::PyTorch => uniform(rng, rows * cols, 1.0 / (n as f64).sqrt()),
                InitScheme::Orthogonal => col_major(sim::orthogonal_matrix(rng, n, 1.0)),
                InitScheme::Identity => col_major(DMatrix::identity(n, n)),
                _ => uniform(rng, rows * cols, glorot),
            },
            (Role::Input, None) => match scheme {
                InitScheme::PyTorch => uniform(rng, rows * cols, 1.0 / (n as f64).sqrt()),
                InitScheme::Identity => col_major(sim::gaussian_matrix(rng, rows, cols, 0.001)),
                _ => uniform(rng, rows * cols, glorot),
            },
            (Role::Bias, None) => match scheme {
                InitScheme::PyTorch => {
                    let k = 1.0 / (n as f64).sqrt();
                    let a = uniform(rng, rows, k);
                    let b = uniform(rng, rows, k);
                    a.iter().zip(&b).map(|(x, y)| x + y).collect()
                }
                _ => vec![0.0; rows],
            },
            // z = U x + b_z with per-coordinate second moment R for unit-moment inputs.
            (Role::EmbeddingWeight, _) => {
                col_major(sim::input_matrix(rng, rows, cols, embedding_r.sqrt()))
            }
            (Role::ReadoutWeight, _) => col_major(sim::gaussian_matrix(
                rng,
                rows,
                cols,
                1.0 / (cols as f64).sqrt(),
            )),
            (Role::EmbeddingBias | Role::ReadoutBias, _) => vec![0.0; rows],
        };
        debug_assert_eq!(v.len(), t.len());
        out.extend(v);
    }
    out
}
