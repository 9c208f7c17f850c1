//! Learning curves of the critical initialization against the rest: accuracy and loss on the
//! evaluation batch against training step, mean ± standard error over seeds, for the critical initialization
//! (orthogonal and Gaussian `W`), off-critical scales (`σ_w × 0.9`, `× 1.1`) and the
//! practitioners' baselines (PyTorch's default, Glorot, orthogonal, IRNN)
//! (`theory/10-trainability.md`, §Learning curves).

use rayon::prelude::*;
use serde::Serialize;

use super::init::{InitScheme, resolve};
use super::run::{Outcome, RunResult, train_with_progress};
use super::tasks::Task;
use super::trainability::{MAX_SEEDS, Training, mean_se_over_seeds};
use crate::cells::{Cell, CellKind, WeightLaw};
use crate::error::{Error, Result};

/// An initialization with its label in figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedInit {
    /// The label (`critical (orthogonal)`, `σ_w × 0.9`, ...).
    pub label: String,
    /// The scheme.
    pub scheme: InitScheme,
}

/// The critical initialization's target: `q*`, `μ_b` and the given scale (the other is solved
/// for; neither given: `σ_b = 0`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CriticalTarget {
    /// Target `q*`.
    pub q_star: f64,
    /// Bias mean.
    pub mu_b: f64,
    /// Given `σ_b`.
    pub sigma_b: Option<f64>,
    /// Given `σ_v`.
    pub sigma_v: Option<f64>,
}

impl CriticalTarget {
    /// The defaults of `mfrnn train`: `q* = 0.05`, `μ_b = 0` (vanilla); `q* = 16`, `μ_b = 4`
    /// (minimalRNN); `σ_b = 0`.
    pub fn default_for(cell: &Cell) -> CriticalTarget {
        match cell.kind() {
            CellKind::Minimal => CriticalTarget {
                q_star: 16.0,
                mu_b: 4.0,
                sigma_b: None,
                sigma_v: None,
            },
            CellKind::Vanilla => CriticalTarget {
                q_star: 0.05,
                mu_b: 0.0,
                sigma_b: None,
                sigma_v: None,
            },
        }
    }

    fn scheme(&self, weights: WeightLaw) -> InitScheme {
        InitScheme::Critical {
            q_star: self.q_star,
            mu_b: self.mu_b,
            sigma_b: self.sigma_b,
            sigma_v: self.sigma_v,
            weights,
        }
    }
}

/// The standard comparison: critical (orthogonal, Gaussian), off-critical `σ_w × 0.9` and
/// `× 1.1` (orthogonal, the other critical scales kept), PyTorch's default, Glorot,
/// orthogonal, identity (IRNN).
///
/// # Errors
/// What the critical initialization reports for the task (e.g. vanilla with zero padding
/// needs a given `σ_v`).
pub fn standard_inits(
    cell: &Cell,
    task: Task,
    training: &Training,
    target: CriticalTarget,
) -> Result<Vec<NamedInit>> {
    let data = task.build(training.data_seed)?;
    let crit = target.scheme(WeightLaw::Orthogonal);
    let r = resolve(&crit, cell, data.input_second_moment, training.embedding_r)?;
    let [sw, sv, sb, mb] = r.scales.ok_or_else(|| {
        Error::Unsupported("the critical initialization resolved to no scales".into())
    })?;
    let off = |f: f64| NamedInit {
        label: format!("σ_w × {f}"),
        scheme: InitScheme::Theory {
            sigma_w: sw * f,
            sigma_v: sv,
            sigma_b: sb,
            mu_b: mb,
            weights: WeightLaw::Orthogonal,
        },
    };
    Ok(vec![
        NamedInit {
            label: "critical (orthogonal)".into(),
            scheme: crit,
        },
        NamedInit {
            label: "critical (Gaussian)".into(),
            scheme: target.scheme(WeightLaw::Gaussian),
        },
        off(0.9),
        off(1.1),
        NamedInit {
            label: "PyTorch default".into(),
            scheme: InitScheme::PyTorch,
        },
        NamedInit {
            label: "Glorot".into(),
            scheme: InitScheme::Glorot,
        },
        NamedInit {
            label: "orthogonal".into(),
            scheme: InitScheme::Orthogonal,
        },
        NamedInit {
            label: "identity (IRNN)".into(),
            scheme: InitScheme::Identity,
        },
    ])
}

/// A learning-curve experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveSpec {
    /// The cell.
    pub cell: Cell,
    /// The task (with its horizon).
    pub task: Task,
    /// Budget and settings.
    pub training: Training,
    /// Evaluate every this many steps.
    pub eval_every: usize,
    /// Seeds per initialization (`first_seed + k`).
    pub seeds: usize,
    /// The first seed.
    pub first_seed: u64,
    /// The initializations compared.
    pub inits: Vec<NamedInit>,
}

/// One initialization's learning curve over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveSeries {
    /// The label.
    pub label: String,
    /// The scheme.
    pub scheme: InitScheme,
    /// The resolved scales `σ_w, σ_v, σ_b, μ_b` (theory and critical schemes).
    pub scales: Option<[f64; 4]>,
    /// Evaluation steps.
    pub steps: Vec<usize>,
    /// Runs still running at each step (diverged runs stop contributing).
    pub runs: Vec<usize>,
    /// Mean accuracy on the evaluation batch at each step (`None` for regression or when no
    /// run is left).
    pub accuracy: Vec<Option<f64>>,
    /// Its standard error.
    pub accuracy_se: Vec<Option<f64>>,
    /// Mean loss on the evaluation batch at each step (`None` when no run is left).
    pub loss: Vec<Option<f64>>,
    /// Its standard error.
    pub loss_se: Vec<Option<f64>>,
    /// Runs that diverged (with the step of each).
    pub diverged_at: Vec<usize>,
}

/// The result of [`learning_curves`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveResult {
    /// The experiment.
    pub spec: CurveSpec,
    /// The task's trivial baseline accuracy (chance) and loss.
    pub baseline_accuracy: Option<f64>,
    /// The baseline loss.
    pub baseline_loss: f64,
    /// One series per initialization, in the spec's order.
    pub series: Vec<CurveSeries>,
}

impl CurveSpec {
    /// The configuration of run `k` of initialization `i`.
    pub fn config(&self, i: usize, k: usize) -> super::run::RunConfig {
        let mut c = self.training.config(
            self.cell.clone(),
            self.task,
            self.inits[i].scheme,
            self.first_seed.wrapping_add(k as u64),
        );
        c.eval_every = self.eval_every;
        c
    }

    /// Floating-point operations of the whole experiment, and one run's memory (bytes).
    ///
    /// # Errors
    /// As [`super::run::RunConfig::prepare`] for each initialization.
    pub fn validate(&self) -> Result<(f64, f64)> {
        if self.inits.is_empty() {
            return Err(Error::invalid("inits", 0.0, "at least one initialization"));
        }
        if !(1..=MAX_SEEDS).contains(&self.seeds) {
            return Err(Error::invalid(
                "seeds",
                self.seeds as f64,
                "1 to 10 000 seeds",
            ));
        }
        let mut flops = 0.0;
        let mut bytes = 0.0f64;
        for i in 0..self.inits.len() {
            let cfg = self.config(i, 0);
            let (task, model) = cfg.prepare()?;
            let (n, d, l) = (cfg.width as f64, task.input_dim as f64, task.seq_len as f64);
            let per_seq = match cfg.cell.kind() {
                CellKind::Vanilla => 6.0 * n * n + 4.0 * n * d,
                CellKind::Minimal => 10.0 * n * n + 4.0 * n * d,
            } * l;
            let evals = (cfg.steps / cfg.eval_every + 2) as f64;
            let eval_b = task.eval_batch_size(cfg.eval_size) as f64;
            flops += self.seeds as f64
                * (cfg.steps as f64 * cfg.batch as f64 * per_seq + evals * eval_b * per_seq / 3.0);
            bytes = bytes.max(
                8.0 * (model.workspace_elems(cfg.batch) as f64
                    + eval_b * l * d
                    + 8.0 * model.num_params() as f64),
            );
        }
        Ok((flops, bytes))
    }
}

/// Trains every initialization of `spec` with every seed (runs in parallel, one per thread,
/// results independent of the thread count) and aggregates the curves; `progress(1)` per
/// training step.
///
/// # Errors
/// As [`CurveSpec::validate`]. Divergence is not an error: a diverged run stops contributing
/// at its step, and is counted in `diverged_at`.
pub fn learning_curves(spec: &CurveSpec, progress: &(dyn Fn(u64) + Sync)) -> Result<CurveResult> {
    spec.validate()?;
    let jobs: Vec<(usize, usize)> = (0..spec.inits.len())
        .flat_map(|i| (0..spec.seeds).map(move |k| (i, k)))
        .collect();
    let steps = spec.training.steps as u64;
    let results: Vec<Result<RunResult>> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|&(i, k)| {
            let r = train_with_progress(&spec.config(i, k), &|_| progress(1));
            if let Ok(r) = &r {
                progress(steps.saturating_sub(r.diagnostics.steps_done as u64));
            }
            r
        })
        .collect();
    let mut results = results.into_iter().collect::<Result<Vec<RunResult>>>()?;
    let first = results.first().expect("at least one run");
    let (baseline_accuracy, baseline_loss) = (first.baseline.accuracy, first.baseline.loss);
    let mut series = Vec::new();
    let mut all = results.drain(..);
    for ni in &spec.inits {
        let runs: Vec<RunResult> = all.by_ref().take(spec.seeds).collect();
        let mut eval_steps: Vec<usize> = (0..=spec.training.steps)
            .step_by(spec.eval_every.max(1))
            .collect();
        if eval_steps.last() != Some(&spec.training.steps) {
            eval_steps.push(spec.training.steps);
        }
        let mut s = CurveSeries {
            label: ni.label.clone(),
            scheme: ni.scheme,
            scales: runs[0].init.scales,
            steps: eval_steps.clone(),
            runs: Vec::new(),
            accuracy: Vec::new(),
            accuracy_se: Vec::new(),
            loss: Vec::new(),
            loss_se: Vec::new(),
            diverged_at: runs
                .iter()
                .filter_map(|r| match r.outcome {
                    Outcome::Diverged { step, .. } => Some(step),
                    Outcome::Completed => None,
                })
                .collect(),
        };
        for &st in &eval_steps {
            let pts: Vec<&super::run::CurvePoint> = runs
                .iter()
                .filter_map(|r| r.curve.iter().find(|p| p.step == st))
                .collect();
            s.runs.push(pts.len());
            let stat = |v: Vec<f64>| {
                if v.is_empty() {
                    (None, None)
                } else {
                    let (m, se) = mean_se_over_seeds(&v);
                    (Some(m), se)
                }
            };
            let (l, lse) = stat(pts.iter().map(|p| p.eval_loss).collect());
            let acc: Vec<f64> = pts.iter().filter_map(|p| p.eval_accuracy).collect();
            let (a, ase) = stat(acc);
            s.loss.push(l);
            s.loss_se.push(lse);
            s.accuracy.push(a);
            s.accuracy_se.push(ase);
        }
        series.push(s);
    }
    Ok(CurveResult {
        spec: spec.clone(),
        baseline_accuracy,
        baseline_loss,
        series,
    })
}
