//! Training runs: the configuration, the loop (sample, forward, backward, clip, update,
//! evaluate), divergence detection, and many runs in parallel.

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::init::{self, InitScheme, ResolvedInit};
use super::linalg::{Real, sum_sq};
use super::model::{Eval, Model, Split};
use super::optim::{Optimizer, State};
use super::tasks::{Baseline, Batch, Task, TaskData, rng};
use crate::cells::{Cell, WeightLaw};
use crate::error::{Error, Result};

/// Float type of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// `f32` (fast).
    F32,
    /// `f64`.
    F64,
}

/// Everything that defines a training run. Two runs with equal configurations give
/// bit-identical results on the same machine, whatever the number of threads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunConfig {
    /// The cell.
    pub cell: Cell,
    /// Hidden width `N`.
    pub width: usize,
    /// The task.
    pub task: Task,
    /// Initialization of the cell's `W, V, b`.
    pub init: InitScheme,
    /// minimalRNN: second moment `R` of the embedded input `z` at initialization (the scale of
    /// `U`, `U_ij ~ N(0, R/d)`); also the `R` of its critical initialization.
    pub embedding_r: f64,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// Gradient-norm clipping threshold (`None`: no clipping).
    pub clip: Option<f64>,
    /// A gradient norm (before clipping) above this ends the run as diverged.
    pub explode: f64,
    /// Sequences per training step.
    pub batch: usize,
    /// Training steps.
    pub steps: usize,
    /// Evaluate every this many steps (and at the end).
    pub eval_every: usize,
    /// Size of the evaluation batch of the synthetic tasks (digits: the test split).
    pub eval_size: usize,
    /// Seed of the initialization (ChaCha8 stream 0) and the training batches (stream 1).
    pub seed: u64,
    /// Seed of the task's fixed data: recall patterns (stream 1), evaluation batch (stream 2).
    pub data_seed: u64,
    /// `f32` or `f64`.
    pub precision: Precision,
    /// Split each training batch into this many equal parts computed in parallel (one run on
    /// several threads). Results depend on it (the order of the sums), not on the number of
    /// threads. 1 (the default) suits grids, which run one run per thread.
    pub batch_split: usize,
}

/// Largest memory one run may hold for its buffers (bytes).
pub const MAX_RUN_BYTES: usize = 6 << 30;

impl RunConfig {
    /// Defaults that train in seconds: width 64, theory initialization at the critical tanh
    /// scales' neighbourhood (`σ_w = 1`, `σ_v = 1`, `σ_b = 0`), Adam with learning rate 1e-3,
    /// clipping at 1, batch 32, 1,000 steps, `f32`.
    pub fn new(cell: Cell, task: Task) -> RunConfig {
        RunConfig {
            cell,
            width: 64,
            task,
            init: InitScheme::Theory {
                sigma_w: 1.0,
                sigma_v: 1.0,
                sigma_b: 0.0,
                mu_b: 0.0,
                weights: WeightLaw::Gaussian,
            },
            embedding_r: 1.0,
            optimizer: Optimizer::adam(),
            lr: 1e-3,
            clip: Some(1.0),
            explode: 1e6,
            batch: 32,
            steps: 1000,
            eval_every: 100,
            eval_size: 1000,
            seed: 0,
            data_seed: 0,
            precision: Precision::F32,
            batch_split: 1,
        }
    }

    /// Checks every number, builds the task and the model, and bounds the memory.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the parameter (`lr`, `clip`, `batch`, `steps`,
    /// `eval-every`, `eval-size`, `embedding-r`, `explode`, the task's and the model's), or
    /// naming `batch` when the run would need more than 6 GiB.
    pub fn prepare(&self) -> Result<(TaskData, Model)> {
        let pos = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(name, v, "a finite number > 0"))
            }
        };
        pos("lr", self.lr)?;
        if let Some(c) = self.clip {
            pos("clip", c)?;
        }
        if self.explode.is_nan() || self.explode <= 0.0 {
            return Err(Error::invalid(
                "explode",
                self.explode,
                "a number > 0 (inf: never)",
            ));
        }
        pos("embedding-r", self.embedding_r)?;
        self.optimizer.validate()?;
        let count = |name: &'static str, v: usize, max: usize, what: &'static str| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(name, v as f64, what))
            }
        };
        count("batch", self.batch, 1 << 20, "1 to 1 048 576")?;
        count("steps", self.steps, 1 << 40, "at least 1")?;
        count("eval-every", self.eval_every, usize::MAX, "at least 1")?;
        count("eval-size", self.eval_size, 1 << 20, "1 to 1 048 576")?;
        count("batch-split", self.batch_split, 64, "1 to 64")?;
        let task = self.task.build(self.data_seed)?;
        let model = Model::for_task(self.cell.clone(), self.width, &task)?;
        let elem = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        // Training buffers, the evaluation batch (held whole) and its chunked passes.
        let eval_b = task.eval_batch_size(self.eval_size);
        let bytes = elem
            * (model
                .workspace_elems(self.batch)
                .saturating_add(eval_b.saturating_mul(task.seq_len * task.input_dim))
                .saturating_add(8 * model.num_params()));
        if bytes > MAX_RUN_BYTES {
            return Err(Error::invalid(
                "batch",
                self.batch as f64,
                "a batch, width, sequence length and evaluation size that fit in 6 GiB per run",
            ));
        }
        init::resolve(
            &self.init,
            &self.cell,
            task.input_second_moment,
            self.embedding_r,
        )?;
        Ok((task, model))
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Divergence {
    /// The training loss was NaN or infinite.
    NonFiniteLoss,
    /// The gradient had a NaN or infinite entry.
    NonFiniteGradient,
    /// The gradient norm (before clipping) exceeded the `explode` threshold.
    ExplodingGradient {
        /// The norm.
        norm: f64,
        /// The threshold.
        threshold: f64,
    },
    /// An update produced a NaN or infinite parameter.
    NonFiniteParameters,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// All steps ran.
    Completed,
    /// Stopped at training step `step` (1-based): the update of that step was not applied.
    Diverged {
        /// The step.
        step: usize,
        /// Why.
        reason: Divergence,
    },
}

/// One point of the learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Training steps done.
    pub step: usize,
    /// Mean training loss over the steps since the previous point (`None` at step 0).
    pub train_loss: Option<f64>,
    /// Loss on the evaluation batch.
    pub eval_loss: f64,
    /// Accuracy on the evaluation batch (`None` for regression).
    pub eval_accuracy: Option<f64>,
}

/// Diagnostics of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunDiagnostics {
    /// Training steps applied.
    pub steps_done: usize,
    /// Steps whose gradient was clipped.
    pub clipped_steps: usize,
    /// Largest gradient norm seen (before clipping).
    pub max_grad_norm: f64,
    /// Gradient norm at the first step.
    pub first_grad_norm: f64,
    /// Number of parameters.
    pub params: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The result of a training run. No field is ever NaN: quantities a diverged run does not
/// have are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    /// The configuration.
    pub config: RunConfig,
    /// Completed or diverged (with the step and reason).
    pub outcome: Outcome,
    /// Mean training loss over the last evaluation interval (`None` if diverged).
    pub final_train_loss: Option<f64>,
    /// Loss on the evaluation batch at the end (`None` if diverged).
    pub test_loss: Option<f64>,
    /// Accuracy on the evaluation batch at the end (`None` if diverged or regression).
    pub test_accuracy: Option<f64>,
    /// Evaluation at initialization, then every `eval_every` steps (until divergence).
    pub curve: Vec<CurvePoint>,
    /// The task's trivial baseline.
    pub baseline: Baseline,
    /// The initialization's scales and diagnostics.
    pub init: ResolvedInit,
    /// Step counts, gradient norms, time.
    pub diagnostics: RunDiagnostics,
}

/// Parameters of a run at the start and at the end (for export).
pub(crate) struct Trained<T> {
    pub initial: Vec<T>,
    pub last: Vec<T>,
}

/// Trains one run on the current thread.
///
/// # Errors
/// Bad configuration ([`RunConfig::prepare`]). Divergence is not an error: it is the
/// [`Outcome::Diverged`] of the result.
pub fn train(cfg: &RunConfig) -> Result<RunResult> {
    train_with_progress(cfg, &|_| {})
}

/// As [`train`], calling `progress(steps_done)` after every step.
///
/// # Errors
/// As [`train`].
pub fn train_with_progress(
    cfg: &RunConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RunResult> {
    let (task, model) = cfg.prepare()?;
    Ok(match cfg.precision {
        Precision::F32 => run::<f32>(cfg, &task, &model, progress)?.0,
        Precision::F64 => run::<f64>(cfg, &task, &model, progress)?.0,
    })
}

/// Trains every configuration, runs in parallel (one per thread, each sequential), results
/// in the order of `configs`. Each run's result is bit-identical to [`train`] of it alone, so
/// results do not depend on the number of threads. `progress(i, steps_done)` is called for
/// run `i`.
pub fn train_many(
    configs: &[RunConfig],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Result<RunResult>> {
    configs
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(i, c)| train_with_progress(c, &|s| progress(i, s)))
        .collect()
}

/// The configuration's initialization resolved for the task's input scale, and the initial
/// parameters drawn from it (stream 0 of the run's seed) in precision `T`.
fn initial_params<T: Real>(
    cfg: &RunConfig,
    task: &TaskData,
    model: &Model,
) -> Result<(ResolvedInit, Vec<T>)> {
    let resolved = init::resolve(
        &cfg.init,
        &cfg.cell,
        task.input_second_moment,
        cfg.embedding_r,
    )?;
    let params = init::draw(
        model,
        &cfg.init,
        &resolved,
        cfg.embedding_r,
        &mut rng(cfg.seed, 0),
    )
    .into_iter()
    .map(T::of)
    .collect();
    Ok((resolved, params))
}

pub(crate) fn run<T: Real>(
    cfg: &RunConfig,
    task: &TaskData,
    model: &Model,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(RunResult, Trained<T>)> {
    let start = Instant::now();
    let (resolved, mut params) = initial_params::<T>(cfg, task, model)?;
    let initial = params.clone();
    let mut prev = params.clone();
    let eval: Batch<T> = task.eval_batch(cfg.eval_size, cfg.data_seed);
    let mut engine = Split::<T>::new(model, cfg.batch_split);
    let mut grad = vec![T::zero(); params.len()];
    let mut opt = State::new(cfg.optimizer, params.len());
    let mut batches = rng(cfg.seed, 1);
    let mut batch: Batch<T> = task.sample(&mut rng(cfg.seed, 1), 0);
    let evaluate = |engine: &mut Split<T>, p: &[T]| -> Eval {
        engine.engine().evaluate_chunked(p, &eval, cfg.batch, None)
    };
    let e0 = evaluate(&mut engine, &params);
    let mut curve = vec![CurvePoint {
        step: 0,
        train_loss: None,
        eval_loss: e0.loss,
        eval_accuracy: e0.accuracy(),
    }];
    let mut diag = RunDiagnostics {
        steps_done: 0,
        clipped_steps: 0,
        max_grad_norm: 0.0,
        first_grad_norm: 0.0,
        params: params.len(),
        seconds: 0.0,
    };
    let (mut window_loss, mut window_n) = (0.0, 0usize);
    let mut last_window = None;
    let mut outcome = Outcome::Completed;
    let mut last_eval = e0;
    for step in 1..=cfg.steps {
        task.refill(&mut batches, cfg.batch, &mut batch);
        let e = engine.pass(&params, &batch, Some(&mut grad));
        let diverged = |reason| Outcome::Diverged { step, reason };
        if !e.loss.is_finite() {
            outcome = diverged(Divergence::NonFiniteLoss);
            break;
        }
        let norm = sum_sq(&grad).sqrt();
        if !norm.is_finite() {
            outcome = diverged(Divergence::NonFiniteGradient);
            break;
        }
        if norm > cfg.explode {
            outcome = diverged(Divergence::ExplodingGradient {
                norm,
                threshold: cfg.explode,
            });
            break;
        }
        if step == 1 {
            diag.first_grad_norm = norm;
        }
        diag.max_grad_norm = diag.max_grad_norm.max(norm);
        if let Some(c) = cfg.clip
            && norm > c
        {
            let f = T::of(c / norm);
            for g in &mut grad {
                *g *= f;
            }
            diag.clipped_steps += 1;
        }
        prev.copy_from_slice(&params);
        opt.update(&mut params, &grad, cfg.lr);
        if params.iter().any(|p| !p.is_finite()) {
            params.copy_from_slice(&prev);
            outcome = diverged(Divergence::NonFiniteParameters);
            break;
        }
        diag.steps_done = step;
        window_loss += e.loss;
        window_n += 1;
        progress(step);
        if step % cfg.eval_every == 0 || step == cfg.steps {
            let ev = evaluate(&mut engine, &params);
            let train_loss = window_loss / window_n as f64;
            // A finite training loss can still give a non-finite evaluation (an input the
            // training batches never had): that is a divergence too.
            if !ev.loss.is_finite() {
                outcome = diverged(Divergence::NonFiniteLoss);
                break;
            }
            curve.push(CurvePoint {
                step,
                train_loss: Some(train_loss),
                eval_loss: ev.loss,
                eval_accuracy: ev.accuracy(),
            });
            last_window = Some(train_loss);
            last_eval = ev;
            window_loss = 0.0;
            window_n = 0;
        }
    }
    diag.seconds = start.elapsed().as_secs_f64();
    let done = outcome == Outcome::Completed;
    let result = RunResult {
        config: cfg.clone(),
        outcome,
        final_train_loss: if done { last_window } else { None },
        test_loss: done.then_some(last_eval.loss),
        test_accuracy: if done { last_eval.accuracy() } else { None },
        curve,
        baseline: task.baseline,
        init: resolved,
        diagnostics: diag,
    };
    Ok((
        result,
        Trained {
            initial,
            last: params,
        },
    ))
}

/// A run's training state for stepping by hand (benchmarks, custom loops): parameters at the
/// configuration's initialization, optimizer state, buffers.
pub struct Trainer<T: Real> {
    engine: Split<T>,
    params: Vec<T>,
    grad: Vec<T>,
    opt: State<T>,
    lr: f64,
    clip: Option<f64>,
}

impl<T: Real> Trainer<T> {
    /// The trainer of `cfg` (its precision field is ignored: `T` decides) and the task.
    ///
    /// # Errors
    /// As [`RunConfig::prepare`].
    pub fn new(cfg: &RunConfig) -> Result<(Trainer<T>, TaskData)> {
        let (task, model) = cfg.prepare()?;
        let (_, params) = initial_params::<T>(cfg, &task, &model)?;
        let n = params.len();
        Ok((
            Trainer {
                engine: Split::new(&model, cfg.batch_split),
                params,
                grad: vec![T::zero(); n],
                opt: State::new(cfg.optimizer, n),
                lr: cfg.lr,
                clip: cfg.clip,
            },
            task,
        ))
    }

    /// One training step on `batch` (forward, backward, clipping, update); returns the
    /// batch's loss and accuracy before the update and the gradient norm before clipping.
    /// No divergence check: see [`train`] for that.
    ///
    /// # Panics
    /// If the batch does not fit the task the trainer was made for.
    pub fn step(&mut self, batch: &Batch<T>) -> (Eval, f64) {
        let e = self.engine.pass(&self.params, batch, Some(&mut self.grad));
        let norm = sum_sq(&self.grad).sqrt();
        if let Some(c) = self.clip
            && norm > c
        {
            let f = T::of(c / norm);
            for g in &mut self.grad {
                *g *= f;
            }
        }
        self.opt.update(&mut self.params, &self.grad, self.lr);
        (e, norm)
    }

    /// The current parameters.
    pub fn params(&self) -> &[T] {
        &self.params
    }
}
