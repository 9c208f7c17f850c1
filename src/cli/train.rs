//! `mfrnn train`: one training run by backpropagation through time, with `--save DIR` for
//! independent checking.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::cells::Cell;
use super::sim_phase::WeightsArg;
use crate::activation::Builtin;
use crate::error::{Error, Result};
use crate::sim::Weights;
use crate::training::{
    self, CellSpec, InitScheme, Optimizer, Outcome, Padding, Precision, RunConfig, RunResult,
    SaveManifest, Task,
};

/// `--task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TaskArg {
    /// 8×8 digits at step 1, then T padding steps; classify at the end.
    Digits,
    /// A random pattern at step 1, then T padding steps; classify at the end.
    Recall,
    /// Copy memory with delay T (length T + 20).
    Copy,
    /// The adding problem of length T.
    Adding,
}

/// `--pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PadArg {
    /// Independent N(0, 1) inputs.
    Noise,
    /// Zero inputs.
    Zero,
}

/// `--init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InitArg {
    /// The theory's scales --sigma-w, --sigma-v, --sigma-b, --mu-b.
    Theory,
    /// The critical initialization at --q-star (χ₁ = 1).
    Critical,
    /// PyTorch's nn.RNN default U(−1/√N, 1/√N).
    Pytorch,
    /// Glorot uniform.
    Glorot,
    /// Orthogonal W, Glorot V.
    Orthogonal,
    /// IRNN: W = I.
    Identity,
}

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OptArg {
    /// SGD with --momentum.
    Sgd,
    /// RMSProp (ρ = 0.99, ε = 1e-8).
    Rmsprop,
    /// Adam (β = 0.9, 0.999, ε = 1e-8).
    Adam,
}

/// `--precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PrecisionArg {
    /// 32-bit floats (fast).
    F32,
    /// 64-bit floats.
    F64,
}

/// Arguments of `mfrnn train`.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// The recurrent cell.
    #[arg(long, value_enum, default_value = "vanilla")]
    pub cell: Cell,
    /// Activation of the vanilla cell.
    #[arg(long, default_value = "tanh")]
    pub phi: String,
    /// The task.
    #[arg(long, value_enum, default_value = "digits")]
    pub task: TaskArg,
    /// T: padding steps after the first input (digits, recall), the delay (copy), the length
    /// (adding).
    #[arg(long, default_value_t = 10)]
    pub padding: usize,
    /// What the padding steps hold (digits, recall).
    #[arg(long, value_enum, default_value = "noise")]
    pub pad: PadArg,
    /// Number of patterns (recall).
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Pattern dimension (recall).
    #[arg(long, default_value_t = 16)]
    pub dim: usize,
    /// Hidden width N.
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// Initialization of the cell's W, V, b.
    #[arg(long, value_enum, default_value = "critical")]
    pub init: InitArg,
    /// σ_w (theory init).
    #[arg(long = "sigma-w", default_value_t = 1.0)]
    pub sigma_w: f64,
    /// σ_v (theory init; with --init critical: given, and σ_b is solved for).
    #[arg(long = "sigma-v")]
    pub sigma_v: Option<f64>,
    /// σ_b (theory init, default 0; with --init critical: given, default 0, σ_v solved for).
    #[arg(long = "sigma-b")]
    pub sigma_b: Option<f64>,
    /// μ_b (theory and critical inits; default 0 for vanilla, 4 for minimal).
    #[arg(long = "mu-b", allow_hyphen_values = true)]
    pub mu_b: Option<f64>,
    /// q* of the critical initialization (default 0.05 for vanilla, 16 for minimal).
    #[arg(long = "q-star")]
    pub q_star: Option<f64>,
    /// Law of W (theory and critical inits).
    #[arg(long, value_enum, default_value = "orthogonal")]
    pub weights: WeightsArg,
    /// minimalRNN: second moment R of the embedded input z at initialization.
    #[arg(long = "embedding-r", default_value_t = 1.0)]
    pub embedding_r: f64,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptArg,
    /// Learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Clip the gradient norm at this value.
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Do not clip the gradient.
    #[arg(long = "no-clip")]
    pub no_clip: bool,
    /// A gradient norm above this ends the run as diverged (inf: never).
    #[arg(long, default_value_t = 1e6)]
    pub explode: f64,
    /// Sequences per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Training steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Evaluate every this many steps.
    #[arg(long = "eval-every", default_value_t = 200)]
    pub eval_every: usize,
    /// Evaluation batch size of the synthetic tasks (digits: the 355 test images).
    #[arg(long = "eval-size", default_value_t = 1000)]
    pub eval_size: usize,
    /// Seed of the initialization and the training batches.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the task's fixed data (recall patterns, evaluation batch).
    #[arg(long = "data-seed", default_value_t = 0)]
    pub data_seed: u64,
    /// Float type.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: PrecisionArg,
    /// Split each batch into this many parts computed on parallel threads (results depend on
    /// the split, not on the number of threads).
    #[arg(long = "batch-split", default_value_t = 1)]
    pub batch_split: usize,
    /// Write parameters, evaluation batch, initial gradient and manifest.json into this
    /// directory (a new path, an empty directory, or an earlier unmodified --save output).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The run configuration the arguments describe.
pub(crate) fn config(a: &TrainArgs) -> Result<RunConfig> {
    let cell = match a.cell {
        Cell::Vanilla => CellSpec::Vanilla(Builtin::from_name(&a.phi)?),
        Cell::Minimal => CellSpec::Minimal,
    };
    let pad = match a.pad {
        PadArg::Noise => Padding::Noise,
        PadArg::Zero => Padding::Zero,
    };
    let task = match a.task {
        TaskArg::Digits => Task::Digits {
            padding: a.padding,
            pad,
        },
        TaskArg::Recall => Task::Recall {
            padding: a.padding,
            classes: a.classes,
            dim: a.dim,
            pad,
        },
        TaskArg::Copy => Task::Copy { delay: a.padding },
        TaskArg::Adding => Task::Adding { length: a.padding },
    };
    let weights = match a.weights {
        WeightsArg::Gaussian => Weights::Gaussian,
        WeightsArg::Orthogonal => Weights::Orthogonal,
    };
    let minimal = a.cell == Cell::Minimal;
    let mu_b = a.mu_b.unwrap_or(if minimal { 4.0 } else { 0.0 });
    let init = match a.init {
        InitArg::Theory => InitScheme::Theory {
            sigma_w: a.sigma_w,
            sigma_v: a.sigma_v.unwrap_or(1.0),
            sigma_b: a.sigma_b.unwrap_or(0.0),
            mu_b,
            weights,
        },
        InitArg::Critical => InitScheme::Critical {
            q_star: a.q_star.unwrap_or(if minimal { 16.0 } else { 0.05 }),
            mu_b,
            sigma_b: a.sigma_b,
            sigma_v: a.sigma_v,
            weights,
        },
        InitArg::Pytorch => InitScheme::PyTorch,
        InitArg::Glorot => InitScheme::Glorot,
        InitArg::Orthogonal => InitScheme::Orthogonal,
        InitArg::Identity => InitScheme::Identity,
    };
    let optimizer = match a.optimizer {
        OptArg::Sgd => Optimizer::sgd(a.momentum),
        OptArg::Rmsprop => Optimizer::rmsprop(),
        OptArg::Adam => Optimizer::adam(),
    };
    if !(a.no_clip || a.clip.is_finite() && a.clip > 0.0) {
        return Err(Error::invalid(
            "clip",
            a.clip,
            "a finite number > 0 (or --no-clip)",
        ));
    }
    let mut c = RunConfig::new(cell, task);
    c.width = a.width;
    c.init = init;
    c.embedding_r = a.embedding_r;
    c.optimizer = optimizer;
    c.lr = a.lr;
    c.clip = (!a.no_clip).then_some(a.clip);
    c.explode = a.explode;
    c.batch = a.batch;
    c.steps = a.steps;
    c.eval_every = a.eval_every;
    c.eval_size = a.eval_size;
    c.seed = a.seed;
    c.data_seed = a.data_seed;
    c.batch_split = a.batch_split;
    c.precision = match a.precision {
        PrecisionArg::F32 => Precision::F32,
        PrecisionArg::F64 => Precision::F64,
    };
    Ok(c)
}

#[derive(Serialize)]
struct TrainOut<'a> {
    #[serde(flatten)]
    result: &'a RunResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<&'a SaveManifest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    save_dir: Option<String>,
}

pub(crate) fn run_train(a: &TrainArgs) -> Result<String> {
    let cfg = config(a)?;
    if let Some(dir) = &a.save {
        // The output contract (crate::output), checked before any work.
        crate::output::check_dir(dir, training::SAVE_KIND, "save")?;
    }
    cfg.prepare()?;
    let bar = ProgressBar::new(cfg.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps, {eta} left")
            .expect("valid template"),
    );
    let tick = |s: usize| {
        if s.is_multiple_of(10) || s == cfg.steps {
            bar.set_position(s as u64);
        }
    };
    let (result, manifest) = match &a.save {
        Some(dir) => {
            let (r, m) = training::train_and_save(&cfg, dir, &tick)?;
            (r, Some(m))
        }
        None => (training::train_with_progress(&cfg, &tick)?, None),
    };
    bar.finish_and_clear();
    if a.json {
        return Ok(serde_json::to_string_pretty(&TrainOut {
            result: &result,
            saved: manifest.as_ref(),
            save_dir: a.save.as_ref().map(|p| p.display().to_string()),
        })
        .expect("serialisable"));
    }
    Ok(human(&result, a.save.as_ref(), manifest.as_ref()))
}

fn human(r: &RunResult, save: Option<&PathBuf>, m: Option<&SaveManifest>) -> String {
    let c = &r.config;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} cell ({}), width {}, task {} {:?}, init {}, {} lr {}, batch {}, {} steps, {:?}",
        c.cell.name(),
        c.cell.activation(),
        c.width,
        c.task.name(),
        c.task,
        c.init.name(),
        c.optimizer.name(),
        c.lr,
        c.batch,
        c.steps,
        c.precision
    );
    if let Some([sw, sv, sb, mb]) = r.init.scales {
        let _ = writeln!(
            s,
            "  scales: σ_w = {sw:.6}, σ_v = {sv:.6}, σ_b = {sb:.6}, μ_b = {mb}"
        );
    }
    for w in &r.init.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    let _ = writeln!(
        s,
        "  {:>8}  {:>12}  {:>12}  {:>10}",
        "step", "train loss", "eval loss", "eval acc"
    );
    for p in &r.curve {
        let _ = writeln!(
            s,
            "  {:>8}  {:>12}  {:>12.6}  {:>10}",
            p.step,
            p.train_loss.map_or("-".into(), |v| format!("{v:.6}")),
            p.eval_loss,
            p.eval_accuracy.map_or("-".into(), |v| format!("{v:.4}"))
        );
    }
    match r.outcome {
        Outcome::Completed => {
            let _ = writeln!(
                s,
                "completed: test loss {} (baseline {:.6}), test accuracy {} (baseline {}), {:.1} s",
                r.test_loss.map_or("-".into(), |v| format!("{v:.6}")),
                r.baseline.loss,
                r.test_accuracy.map_or("-".into(), |v| format!("{v:.4}")),
                r.baseline
                    .accuracy
                    .map_or("-".into(), |v| format!("{v:.4}")),
                r.diagnostics.seconds
            );
        }
        Outcome::Diverged { step, reason } => {
            let _ = writeln!(s, "diverged at step {step}: {reason:?}");
        }
    }
    if let (Some(dir), Some(m)) = (save, m) {
        let _ = writeln!(
            s,
            "saved {} files and manifest.json to {} (float64 re-evaluation: loss {}, accuracy {})",
            m.files.len(),
            dir.display(),
            m.test_loss.map_or("-".into(), |v| format!("{v:.6}")),
            m.test_accuracy.map_or("-".into(), |v| format!("{v:.4}"))
        );
    }
    s.trim_end().to_string()
}
