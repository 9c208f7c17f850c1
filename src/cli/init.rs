//! `mfrnn init`: critical initialization, its predicted spectra, the inverse design for a
//! horizon, and sampled weights as `.npy` files.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::cells::{parse_cell, parse_weights};
use crate::cells::{Cell, CellKind, WeightLaw};
use crate::error::{Error, Result};
use crate::init::design::{self, Design, WidthBound};
use crate::init::{
    self, CriticalInit, FixedPointCheck, Given, PerWeights, SpectralWidth, Target, weights,
};

/// Arguments of `mfrnn init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The recurrent cell: vanilla or minimal.
    #[arg(long, value_parser = parse_cell, default_value = "vanilla")]
    pub cell: CellKind,
    /// Activation (vanilla cell only).
    #[arg(long)]
    pub phi: Option<String>,
    /// Target pre-activation variance q* at the fixed point (not needed with
    /// --max-width-ratio, which searches for it).
    #[arg(
        long = "q-star",
        allow_hyphen_values = true,
        conflicts_with = "max_width_ratio"
    )]
    pub q_star: Option<f64>,
    /// Bias mean μ_b (default 0; with --cell minimal and --max-width-ratio and no --mu-b, the
    /// search runs over μ_b = −4, −3, …, 8).
    #[arg(long = "mu-b", allow_hyphen_values = true)]
    pub mu_b: Option<f64>,
    /// Input second moment per coordinate R.
    #[arg(long = "r")]
    pub r: f64,
    /// Bias standard deviation (σ_v is solved for). Default when neither is given: 0.
    #[arg(long = "sigma-b", conflicts_with = "sigma_v")]
    pub sigma_b: Option<f64>,
    /// Input weight scale (σ_b is solved for instead).
    #[arg(long = "sigma-v")]
    pub sigma_v: Option<f64>,
    /// Horizon T for the predicted spectral width (and for the design).
    #[arg(long, default_value_t = 10, value_parser = super::count, allow_hyphen_values = true)]
    pub horizon: usize,
    /// Inverse design: the largest q* whose √(m₂)/m₁ at the horizon stays below this.
    #[arg(long = "max-width-ratio")]
    pub max_width_ratio: Option<f64>,
    /// Design objective: the largest q* meeting the bound, or (minimalRNN, over μ_b) the
    /// longest memory timescale ξ_c at independent inputs.
    #[arg(long, value_enum, ignore_case = true, default_value = "largest-q-star")]
    pub objective: ObjectiveArg,
    /// Weight law for the design and the sampled weights: orthogonal or gaussian.
    #[arg(long, value_parser = parse_weights, default_value = "orthogonal")]
    pub weights: WeightLaw,
    /// Sample W, V, b and write them as .npy files with a manifest.
    #[arg(long)]
    pub sample: bool,
    /// Width N of the sampled network.
    #[arg(long, default_value_t = 512, value_parser = super::count, allow_hyphen_values = true)]
    pub width: usize,
    /// Input dimension (vanilla; default the width; the minimalRNN needs the width).
    #[arg(long = "input-dim", value_parser = super::count, allow_hyphen_values = true)]
    pub input_dim: Option<usize>,
    /// Seed of the sampled weights (ChaCha8; the simulators' network 0 for this seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for the .npy files and manifest.json: a new path (its parent must exist), an
    /// empty directory, or an earlier, unmodified `mfrnn init --sample` output.
    #[arg(long, default_value = "weights")]
    pub out: PathBuf,
    /// Theory: the factorised closed form (I.4)–(I.5), or (minimalRNN) χ₁ = 1 in the exact
    /// theory of the tied-weight, frozen-bias network at stationarity (sampled, with
    /// standard errors).
    #[arg(long, value_parser = super::cells::parse_theory, default_value = "mean-field")]
    pub theory: crate::cells::Theory,
    /// Exact theory: unit paths per iteration of the stationary solver (total over replicas).
    #[arg(long, default_value_t = 1024, value_parser = super::count, allow_hyphen_values = true)]
    pub paths: usize,
    /// Exact theory: independent replicas (for the standard errors).
    #[arg(long, default_value_t = 8, value_parser = super::count, allow_hyphen_values = true)]
    pub replicas: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--objective`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ObjectiveArg {
    /// The largest admissible q*.
    LargestQStar,
    /// The longest memory timescale ξ_c (ρ = 0) among the frontier points.
    LongestMemory,
}

#[derive(Serialize)]
struct InitOut<'a> {
    cell: CellKind,
    activation: &'a str,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
    q_star: f64,
    #[serde(rename = "Q_star")]
    big_q_star: f64,
    chi_1: f64,
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    mu: &'a [f64],
    normalized_variance_per_step: PerWeights,
    /// minimalRNN: the same from the exact unit process of the tied network.
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized_variance_per_step_unit_process: Option<init::UnitProcessVariance>,
    spectrum_exact: bool,
    spectral_width: SpectralWidth,
    fixed_point: &'a Option<FixedPointCheck>,
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    design: Option<DesignOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<Vec<String>>,
}

#[derive(Serialize)]
struct DesignOut<'a> {
    horizon: usize,
    max_width_ratio: f64,
    weights: WeightLaw,
    rms_ratio: f64,
    xi_c: f64,
    objective: design::Objective,
    frontier: &'a [design::FrontierPoint],
    attainable: &'a str,
}

impl InitArgs {
    /// The scale held: `--sigma-v` if given, else `--sigma-b` (0 by default).
    pub(crate) fn given(&self) -> Given {
        match (self.sigma_b, self.sigma_v) {
            (_, Some(sv)) => Given::SigmaV(sv),
            (Some(sb), None) => Given::SigmaB(sb),
            (None, None) => Given::SigmaB(0.0),
        }
    }
}

/// `init --sample`: writes weights sampled from `c` into `--out` and lists the files
/// written, the manifest last.
pub(crate) fn write_weights(c: &CriticalInit, a: &InitArgs) -> Result<Vec<String>> {
    let nin = a.input_dim.unwrap_or(a.width);
    let m = weights::write(c, a.width, nin, a.weights, a.seed, &a.out)?;
    let mut f: Vec<String> = m
        .files
        .iter()
        .map(|(name, _)| a.out.join(name).display().to_string())
        .collect();
    f.push(a.out.join("manifest.json").display().to_string());
    Ok(f)
}

pub(crate) fn run_init(a: &InitArgs) -> Result<String> {
    if a.theory == crate::cells::Theory::Exact {
        return super::exact::run_init(a);
    }
    super::refuse_given(
        &[("paths", "--paths"), ("replicas", "--replicas")],
        "to the closed-form initialization (it samples nothing); use --theory exact",
    )?;
    if !a.sample {
        super::refuse_given(
            &[
                ("width", "--width"),
                ("input_dim", "--input-dim"),
                ("out", "--out"),
            ],
            "without --sample",
        )?;
        if a.max_width_ratio.is_none() {
            super::refuse_given(
                &[("weights", "--weights")],
                "without --max-width-ratio or --sample (the output lists both weight laws)",
            )?;
        }
        if a.cell == CellKind::Vanilla {
            super::refuse_given(
                &[("seed", "--seed")],
                "to --cell vanilla without --sample (nothing is sampled)",
            )?;
        }
    }
    if a.max_width_ratio.is_none() || a.cell == CellKind::Vanilla {
        super::refuse_given(
            &[("objective", "--objective")],
            "except to the minimalRNN design (--cell minimal --max-width-ratio)",
        )?;
    }
    if a.sample {
        // The output contract (crate::output), checked before any work.
        crate::output::check_dir(&a.out, "weights", "out")?;
    }
    let given = a.given();
    let w = a.weights;
    let cell = Cell::of_kind(a.cell, a.phi.as_deref())?;
    let mu_b = a.mu_b.unwrap_or(0.0);
    let mut design: Option<Design> = None;
    let c: CriticalInit = if let Some(ratio) = a.max_width_ratio {
        let bound = WidthBound::new(a.horizon, ratio, w)?;
        // The minimalRNN's design searches over bias means unless one is given.
        let grid: Vec<f64> = match (&cell, a.mu_b) {
            (Cell::Minimal, None) => (-4..=8).map(f64::from).collect(),
            _ => vec![mu_b],
        };
        let objective = match a.objective {
            ObjectiveArg::LargestQStar => design::Objective::LargestQStar,
            ObjectiveArg::LongestMemory => design::Objective::LongestMemory,
        };
        let d = design::design(&cell, a.r, given, &grid, bound, objective)?;
        let c = d.init.clone();
        design = Some(d);
        c
    } else {
        let q = a.q_star.ok_or_else(|| Error::Parse {
            what: "arguments",
            input: "init".into(),
            reason: "give --q-star, or --max-width-ratio (with --horizon) to search for it".into(),
        })?;
        init::critical(
            &cell,
            &Target {
                q_star: q,
                mu_b,
                r: a.r,
                given,
            },
        )?
    };
    let width = c.spectral_width(a.horizon)?;
    let unit = match c.cell {
        Cell::Minimal => Some(c.unit_process_step_variance(32_000, 100, a.seed)?),
        Cell::Vanilla(_) => None,
    };
    let files = if a.sample {
        Some(write_weights(&c, a)?)
    } else {
        None
    };
    let out = InitOut {
        cell: c.cell.kind(),
        activation: c.cell.activation_name(),
        sigma_w: c.params.sigma_w(),
        sigma_v: c.params.sigma_v(),
        sigma_b: c.params.sigma_b(),
        mu_b: c.params.mu_b(),
        r: c.params.r(),
        q_star: c.q_star,
        big_q_star: c.big_q_star,
        chi_1: c.chi_1,
        mu: &c.mu,
        normalized_variance_per_step: c.normalized_variance_per_step,
        normalized_variance_per_step_unit_process: unit,
        spectrum_exact: c.spectrum_exact,
        spectral_width: width,
        fixed_point: &c.fixed_point,
        warnings: &c.warnings,
        design: design.as_ref().map(|d| DesignOut {
            horizon: d.bound.horizon,
            max_width_ratio: d.bound.max_rms_ratio,
            weights: d.bound.weights,
            rms_ratio: d.rms_ratio,
            xi_c: d.xi_c,
            objective: d.objective,
            frontier: &d.frontier,
            attainable: &d.attainable,
        }),
        files,
    };
    if a.json {
        return Ok(serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    let f6 = |x: f64| super::fmt_fixed(x, 6);
    let mut t = format!(
        "critical initialization ({}, {}): σ_w = {}  σ_v = {}  σ_b = {}  μ_b = {}  R = {}\n  \
         q* = {}  Q* = {}  χ₁ = {:.15}",
        match c.cell {
            Cell::Vanilla(_) => "vanilla",
            Cell::Minimal => "minimalRNN",
        },
        c.cell.activation_name(),
        f6(c.params.sigma_w()),
        f6(c.params.sigma_v()),
        f6(c.params.sigma_b()),
        crate::error::fmt_num(c.params.mu_b()),
        crate::error::fmt_num(c.params.r()),
        f6(c.q_star),
        f6(c.big_q_star),
        c.chi_1
    );
    t += &format!(
        "\n  per-step normalised variance of J Jᵀ: orthogonal {}, Gaussian {}{}",
        f6(c.normalized_variance_per_step.orthogonal),
        f6(c.normalized_variance_per_step.gaussian),
        if c.spectrum_exact {
            ""
        } else {
            " (factorised law, free approximation across steps: not exact)"
        }
    );
    if let Some(u) = unit {
        t += &format!(
            "\n  the same from the exact unit process (tied network): orthogonal {:.4} ± {:.4}, Gaussian {:.4} ± {:.4}",
            u.value.orthogonal, u.se.orthogonal, u.value.gaussian, u.se.gaussian
        );
    }
    t += &format!(
        "\n  at T = {}: √(m₂)/m₁ orthogonal {}, Gaussian {}",
        width.horizon,
        super::fmt_fixed(width.rms_ratio.orthogonal, 4),
        super::fmt_fixed(width.rms_ratio.gaussian, 4)
    );
    if let Some(l) = width.lambda_max {
        t += &format!(
            "; largest squared singular value orthogonal {}, Gaussian {}",
            super::fmt_fixed(l.orthogonal, 4),
            super::fmt_fixed(l.gaussian, 4)
        );
    }
    if let Some(d) = &design {
        t += &format!(
            "\n  design ({:?}): memory timescale ξ_c (ρ = 0) = {:.4}; {}",
            d.objective, d.xi_c, d.attainable
        );
        if d.frontier.len() > 1 {
            t += "\n  frontier (μ_b: largest q*, √(m₂)/m₁, ξ_c):";
            for f in &d.frontier {
                match (f.q_star, f.rms_ratio, f.xi_c) {
                    (Some(q), Some(r), Some(x)) => {
                        t += &format!("\n    {:>5}: {q:.4}, {r:.4}, {x:.4}", f.mu_b)
                    }
                    _ => t += &format!("\n    {:>5}: none", f.mu_b),
                }
            }
        }
    }
    for w in &c.warnings {
        t += &format!("\n  warning: {w}");
    }
    if let Some(f) = &out.files {
        t += &format!("\n  wrote {}", f.join(", "));
    }
    Ok(t)
}
