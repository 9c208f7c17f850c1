//! Trainability grids: accuracy after a fixed training budget over a hyper-parameter and the
//! horizon `T` (`σ_w × T` for the vanilla cell, `μ_b × T` or `σ_w × T` for the minimalRNN),
//! several seeds per grid cell — the experiment that tests whether a memory timescale of the
//! mean-field theory predicts which networks learn (`theory/10-trainability.md`).
//!
//! A grid ([`GridSpec`]) is run into a **grid file**: JSON lines, a signed header line (the
//! grid and the shard) followed by one line per finished grid cell ([`CellResult`]), each line
//! closed by its own FNV-1a check. Runs append a line as soon as a grid cell's seeds are done,
//! and resume where they stopped: cells already in the file are skipped ([`GridPlan`]).
//! `Shard { index: i, count: n }` runs the cells whose index is `i mod n`; [`merge`] combines
//! shard files (or any files of the same grid) into the canonical file — header without shard,
//! cells in index order — which is byte-for-byte the canonical form of the unsharded run, since
//! every run's seed depends only on the grid cell and the seed number, and a run is computed
//! on one thread (`tests/trainability.rs` checks both with separate processes).
//!
//! The analysis ([`analyze`]) compares, for each candidate timescale `ξ` of the mean-field
//! theory ([`TimescaleSource`]; [`Factorised`] computes the factorised theory's), the rule
//! "trainable iff `T ≤ k ξ`" with its best `k` against the trivial rule "trainable iff
//! `T ≤ T₀`" that ignores the hyper-parameter, by the fraction of grid cells each puts on the
//! right side.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::init::InitScheme;
use super::optim::Optimizer;
use super::run::{Outcome, Precision, RunConfig, RunResult, train_with_progress};
use super::tasks::{Padding, Task};
use crate::activation::Builtin;
use crate::budget::Estimate;
use crate::cells::{Cell, CellKind, CellParams, Summary, WeightLaw};
use crate::error::{Error, Result};
use crate::exact::stationary::analysis::{self, ExactAnalysis, ExactSettings};
use crate::output::{self, FileFormat, io, refuse};
use crate::stats;

/// The kind named in a grid file's signature.
pub const KIND: &str = "trainability";

/// Version of the grid-file format.
pub const FORMAT: u32 = 1;

/// Largest number of grid cells of one grid.
pub const MAX_CELLS: usize = 100_000;

/// Largest number of seeds per grid cell.
pub const MAX_SEEDS: usize = 10_000;

/// The task of a grid, without its horizon (the grid's `T` sets it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum GridTask {
    /// Padded digits: `T` padding steps after the image.
    Digits {
        /// Noise or zeros.
        pad: Padding,
    },
    /// First-input recall: `T` padding steps after the pattern.
    Recall {
        /// Number of patterns.
        classes: usize,
        /// Pattern dimension.
        dim: usize,
        /// Noise or zeros.
        pad: Padding,
    },
    /// Copy memory with delay `T`.
    Copy,
    /// The adding problem of length `T`.
    Adding,
}

impl GridTask {
    /// The task at horizon `t`.
    pub fn at(&self, t: usize) -> Task {
        match *self {
            GridTask::Digits { pad } => Task::Digits { padding: t, pad },
            GridTask::Recall { classes, dim, pad } => Task::Recall {
                padding: t,
                classes,
                dim,
                pad,
            },
            GridTask::Copy => Task::Copy { delay: t },
            GridTask::Adding => Task::Adding { length: t },
        }
    }

    /// The padding of digits and recall (`None` for copy and adding).
    pub fn padding(&self) -> Option<Padding> {
        match *self {
            GridTask::Digits { pad } | GridTask::Recall { pad, .. } => Some(pad),
            _ => None,
        }
    }
}

/// The hyper-parameter a grid varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// The recurrent scale `σ_w`.
    SigmaW,
    /// The bias mean `μ_b` (the minimalRNN's gate bias).
    MuB,
}

impl Axis {
    /// `sigma_w` or `mu_b`.
    pub fn name(&self) -> &'static str {
        match self {
            Axis::SigmaW => "sigma_w",
            Axis::MuB => "mu_b",
        }
    }
    /// `σ_w` or `μ_b`.
    pub fn symbol(&self) -> &'static str {
        match self {
            Axis::SigmaW => "σ_w",
            Axis::MuB => "μ_b",
        }
    }
}

/// The theory initialization every grid cell starts from; the grid's axis replaces one of the
/// scales.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaseInit {
    /// `σ_w`.
    pub sigma_w: f64,
    /// `σ_v`.
    pub sigma_v: f64,
    /// `σ_b`.
    pub sigma_b: f64,
    /// `μ_b`.
    pub mu_b: f64,
    /// Gaussian or orthogonal `W`.
    pub weights: WeightLaw,
}

/// The training budget and settings of every run of a grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// Hidden width `N`.
    pub width: usize,
    /// Training steps (the budget).
    pub steps: usize,
    /// Sequences per step.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Gradient-norm clipping threshold.
    pub clip: Option<f64>,
    /// Gradient norm that ends a run as diverged (finite).
    pub explode: f64,
    /// Evaluation batch of the synthetic tasks.
    pub eval_size: usize,
    /// Seed of the task's fixed data.
    pub data_seed: u64,
    /// minimalRNN: second moment `R` of the embedded input.
    pub embedding_r: f64,
    /// `f32` or `f64`.
    pub precision: Precision,
}

impl Training {
    /// Width 32, 300 steps, batch 32, Adam at 2e-3, clipping at 1, `f32`: a few seconds per
    /// run at `T ≤ 50` on one core.
    pub fn small() -> Training {
        Training {
            width: 32,
            steps: 300,
            batch: 32,
            lr: 2e-3,
            optimizer: Optimizer::adam(),
            clip: Some(1.0),
            explode: 1e6,
            eval_size: 1000,
            data_seed: 0,
            embedding_r: 1.0,
            precision: Precision::F32,
        }
    }

    /// The run configuration of these settings for a cell, task and initialization.
    pub fn config(&self, cell: Cell, task: Task, init: InitScheme, seed: u64) -> RunConfig {
        let mut c = RunConfig::new(cell, task);
        c.width = self.width;
        c.init = init;
        c.embedding_r = self.embedding_r;
        c.optimizer = self.optimizer;
        c.lr = self.lr;
        c.clip = self.clip;
        c.explode = self.explode;
        c.batch = self.batch;
        c.steps = self.steps;
        c.eval_every = self.steps.max(1);
        c.eval_size = self.eval_size;
        c.seed = seed;
        c.data_seed = self.data_seed;
        c.precision = self.precision;
        c.batch_split = 1;
        c
    }
}

/// Reads a [`Cell`] from the form its `Serialize` writes, `{"cell": "vanilla", "activation":
/// "tanh"}` (the minimalRNN's `activation` is its gate, `sigmoid`), so that grid files keep
/// their keys and values.
fn deserialize_cell<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Cell, D::Error> {
    #[derive(Deserialize)]
    struct Repr {
        cell: String,
        activation: String,
    }
    let r = Repr::deserialize(d)?;
    let kind: CellKind = r.cell.parse().map_err(serde::de::Error::custom)?;
    match kind {
        CellKind::Minimal => Ok(Cell::minimal()),
        CellKind::Vanilla => Builtin::from_name(&r.activation)
            .map(Cell::vanilla)
            .map_err(serde::de::Error::custom),
    }
}

/// A trainability grid: values of one hyper-parameter × horizons × seeds, each run trained
/// with the same budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridSpec {
    /// The cell.
    #[serde(deserialize_with = "deserialize_cell")]
    pub cell: Cell,
    /// The task (its horizon is the grid's `T`).
    pub task: GridTask,
    /// The hyper-parameter varied.
    pub axis: Axis,
    /// Its values (the grid's columns).
    pub values: Vec<f64>,
    /// The horizons `T` (the grid's rows), each at least 1.
    pub horizons: Vec<usize>,
    /// Seeds per grid cell: run `k` has seed `first_seed + k` in every grid cell.
    pub seeds: usize,
    /// The first seed.
    pub first_seed: u64,
    /// The initialization (the axis replaces one scale).
    pub init: BaseInit,
    /// Budget and settings.
    pub training: Training,
    /// A grid cell is trainable when its mean score (see [`CellResult::mean_score`]) is at
    /// least this.
    pub threshold: f64,
}

impl GridSpec {
    /// Number of grid cells.
    pub fn num_cells(&self) -> usize {
        self.values.len() * self.horizons.len()
    }

    /// `(value index, horizon index)` of grid cell `index`: cells are numbered horizon-major
    /// (`index = i_T · values + i_value`), so that a shard's cells spread over all horizons.
    pub fn position(&self, index: usize) -> (usize, usize) {
        let nv = self.values.len().max(1);
        (index % nv, index / nv)
    }

    /// The horizon indices in increasing `T` (the rows of a table or figure, bottom up).
    pub fn horizon_order(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.horizons.len()).collect();
        rows.sort_by_key(|&i| self.horizons[i]);
        rows
    }

    /// The scales `σ_w, σ_v, σ_b, μ_b` at a value of the axis.
    pub fn scales(&self, value: f64) -> [f64; 4] {
        let b = &self.init;
        match self.axis {
            Axis::SigmaW => [value, b.sigma_v, b.sigma_b, b.mu_b],
            Axis::MuB => [b.sigma_w, b.sigma_v, b.sigma_b, value],
        }
    }

    /// The configuration of run `k` of grid cell `index`.
    pub fn config(&self, index: usize, k: usize) -> RunConfig {
        let (iv, it) = self.position(index);
        let [sigma_w, sigma_v, sigma_b, mu_b] = self.scales(self.values[iv]);
        let init = InitScheme::Theory {
            sigma_w,
            sigma_v,
            sigma_b,
            mu_b,
            weights: self.init.weights,
        };
        self.training.config(
            self.cell.clone(),
            self.task.at(self.horizons[it]),
            init,
            self.first_seed.wrapping_add(k as u64),
        )
    }

    /// Checks every number and every run's configuration; returns the largest memory one
    /// run holds (bytes) and the floating-point operations of each grid cell (all seeds).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `values` (empty, not finite, repeated; `σ_w < 0`),
    /// `horizons` (empty, 0, repeated), `seeds`, `threshold`, `explode` (must be finite), or
    /// what [`RunConfig::prepare`] reports for a run.
    pub fn validate(&self) -> Result<(f64, Vec<f64>)> {
        if self.values.is_empty() {
            return Err(Error::invalid(
                "values",
                0.0,
                "at least one value (the grid is empty)",
            ));
        }
        for (i, &v) in self.values.iter().enumerate() {
            if !v.is_finite() || (self.axis == Axis::SigmaW && v < 0.0) {
                return Err(Error::invalid(
                    "values",
                    v,
                    "finite values (σ_w ≥ 0) of the hyper-parameter",
                ));
            }
            if self.values[..i].contains(&v) {
                return Err(Error::invalid("values", v, "distinct values"));
            }
        }
        if self.horizons.is_empty() {
            return Err(Error::invalid(
                "horizons",
                0.0,
                "at least one horizon (the grid is empty)",
            ));
        }
        for (i, &t) in self.horizons.iter().enumerate() {
            if t == 0 {
                return Err(Error::invalid(
                    "horizons",
                    0.0,
                    "horizons T ≥ 1 (T = 0 leaves nothing to remember)",
                ));
            }
            if self.horizons[..i].contains(&t) {
                return Err(Error::invalid("horizons", t as f64, "distinct horizons"));
            }
        }
        if !(1..=MAX_SEEDS).contains(&self.seeds) {
            return Err(Error::invalid(
                "seeds",
                self.seeds as f64,
                "1 to 10 000 seeds",
            ));
        }
        if self.num_cells() > MAX_CELLS {
            return Err(Error::invalid(
                "values",
                self.values.len() as f64,
                "a grid of at most 100 000 cells (values × horizons)",
            ));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::invalid(
                "threshold",
                self.threshold,
                "a score in (0, 1]",
            ));
        }
        if !self.training.explode.is_finite() {
            return Err(Error::invalid(
                "explode",
                self.training.explode,
                "a finite threshold (grid files hold JSON numbers)",
            ));
        }
        let mut max_bytes = 0.0f64;
        let mut flops = vec![0.0; self.num_cells()];
        let mut per_horizon: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        for (index, f) in flops.iter_mut().enumerate() {
            let cfg = self.config(index, 0);
            let (_, it) = self.position(index);
            let t = self.horizons[it];
            let known = per_horizon.get(&t).copied();
            let (bytes, run_flops) = match known {
                // Sizes depend on the horizon only; the scales still need their check.
                Some(b) if self.position(index).0 > 0 => {
                    super::init::resolve(&cfg.init, &cfg.cell, 1.0, cfg.embedding_r)?;
                    b
                }
                _ => {
                    let (task, model) = cfg.prepare()?;
                    let b = run_cost(&cfg, &task, &model);
                    per_horizon.insert(t, b);
                    b
                }
            };
            max_bytes = max_bytes.max(bytes);
            *f = run_flops * self.seeds as f64;
        }
        Ok((max_bytes, flops))
    }
}

/// `(bytes, floating-point operations)` of one run (theory/09-training.md, the cost per
/// training step; the evaluations counted as forward passes, a third of a step's work).
fn run_cost(
    cfg: &RunConfig,
    task: &super::tasks::TaskData,
    model: &super::model::Model,
) -> (f64, f64) {
    let (n, d, l) = (cfg.width as f64, task.input_dim as f64, task.seq_len as f64);
    let per_seq = match cfg.cell.kind() {
        CellKind::Vanilla => 6.0 * n * n + 4.0 * n * d,
        CellKind::Minimal => 10.0 * n * n + 4.0 * n * d,
    } * l;
    let evals = (cfg.steps / cfg.eval_every.max(1) + 2) as f64;
    let eval_b = task.eval_batch_size(cfg.eval_size) as f64;
    let flops = cfg.steps as f64 * cfg.batch as f64 * per_seq + evals * eval_b * per_seq / 3.0;
    let elem = match cfg.precision {
        Precision::F32 => 4.0,
        Precision::F64 => 8.0,
    };
    let bytes = elem
        * (model.workspace_elems(cfg.batch) as f64
            + eval_b * l * d
            + 8.0 * model.num_params() as f64);
    (bytes, flops)
}

/// A deterministic part of a grid: the cells whose index is `index mod count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// `0 ≤ index < count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `i/n` (`0 ≤ i < n`, e.g. `$SLURM_ARRAY_TASK_ID/8`).
    ///
    /// # Errors
    /// [`Error::Parse`] naming the shard.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = |reason: &str| Error::Parse {
            what: "shard (expected i/n with 0 ≤ i < n, e.g. 0/4)",
            input: text.to_string(),
            reason: reason.to_string(),
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| bad("i is not a whole number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("n is not a whole number"))?;
        if count == 0 || index >= count {
            return Err(bad("needs 0 ≤ i < n"));
        }
        if count > MAX_CELLS {
            return Err(bad("at most 100 000 shards"));
        }
        Ok(Shard { index, count })
    }

    /// Whether grid cell `cell` belongs to this shard.
    pub fn contains(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }
}

/// One run of a grid cell, as stored in the grid file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's seed.
    pub seed: u64,
    /// Completed, or diverged with the step and reason.
    pub outcome: Outcome,
    /// Accuracy on the evaluation batch (`None`: diverged, or regression).
    pub test_accuracy: Option<f64>,
    /// Loss on the evaluation batch (`None`: diverged).
    pub test_loss: Option<f64>,
    /// Mean training loss over the last evaluation interval (`None`: diverged).
    pub final_train_loss: Option<f64>,
    /// The score of [`CellResult::mean_score`] (0 for a diverged run).
    pub score: f64,
    /// Gradient norm at the first step.
    pub first_grad_norm: f64,
    /// Largest gradient norm (before clipping).
    pub max_grad_norm: f64,
    /// Steps whose gradient was clipped.
    pub clipped_steps: usize,
}

impl RunSummary {
    /// The summary of a run's result.
    pub fn of(r: &RunResult) -> RunSummary {
        let score = match (r.outcome, r.baseline.accuracy, r.test_accuracy, r.test_loss) {
            (Outcome::Diverged { .. }, ..) => 0.0,
            (_, Some(chance), Some(acc), _) => (acc - chance) / (1.0 - chance),
            (_, None, _, Some(loss)) => (1.0 - loss / r.baseline.loss).max(-1.0),
            _ => 0.0,
        };
        RunSummary {
            seed: r.config.seed,
            outcome: r.outcome,
            test_accuracy: r.test_accuracy,
            test_loss: r.test_loss,
            final_train_loss: r.final_train_loss,
            score,
            first_grad_norm: r.diagnostics.first_grad_norm,
            max_grad_norm: r.diagnostics.max_grad_norm,
            clipped_steps: r.diagnostics.clipped_steps,
        }
    }
}

/// One finished grid cell: its runs and their mean score with its standard error. Holds no
/// wall-clock time, so that a cell's line does not depend on where or when it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The grid cell's index ([`GridSpec::position`]).
    pub index: usize,
    /// The axis value.
    pub value: f64,
    /// The horizon `T`.
    pub horizon: usize,
    /// The runs, by seed.
    pub runs: Vec<RunSummary>,
    /// Mean score over the seeds. A run's score is `(accuracy − chance)/(1 − chance)` for
    /// classification (chance: the task's trivial baseline), `1 − loss/baseline loss`
    /// (at least −1) for regression, and 0 for a diverged run.
    pub mean_score: f64,
    /// Its standard error over seeds (`None` with one seed).
    pub se_score: Option<f64>,
    /// Mean accuracy on the evaluation batch over the seeds, a diverged run counting as chance
    /// (`None` for regression).
    pub mean_accuracy: Option<f64>,
    /// Its standard error.
    pub se_accuracy: Option<f64>,
    /// Runs that diverged.
    pub diverged: usize,
    /// `mean_score ≥ threshold`.
    pub trainable: bool,
}

/// Mean and standard error over seeds ([`crate::stats::mean_se`]; `None` for fewer than two
/// values).
pub(crate) fn mean_se_over_seeds(x: &[f64]) -> (f64, Option<f64>) {
    let m = stats::mean_se(x);
    (m.mean, (x.len() >= 2).then_some(m.se))
}

impl CellResult {
    /// The grid cell's result from its runs (in seed order).
    pub fn of(grid: &GridSpec, index: usize, runs: &[RunResult]) -> CellResult {
        let (iv, it) = grid.position(index);
        let summaries: Vec<RunSummary> = runs.iter().map(RunSummary::of).collect();
        let scores: Vec<f64> = summaries.iter().map(|s| s.score).collect();
        let (mean_score, se_score) = mean_se_over_seeds(&scores);
        let (mean_accuracy, se_accuracy) = match runs.first().and_then(|r| r.baseline.accuracy) {
            Some(chance) => {
                let acc: Vec<f64> = runs
                    .iter()
                    .map(|r| r.test_accuracy.unwrap_or(chance))
                    .collect();
                let (m, se) = mean_se_over_seeds(&acc);
                (Some(m), se)
            }
            None => (None, None),
        };
        CellResult {
            index,
            value: grid.values[iv],
            horizon: grid.horizons[it],
            diverged: summaries
                .iter()
                .filter(|s| matches!(s.outcome, Outcome::Diverged { .. }))
                .count(),
            runs: summaries,
            mean_score,
            se_score,
            mean_accuracy,
            se_accuracy,
            trainable: mean_score >= grid.threshold,
        }
    }

    /// The cell's line in a grid file (without the newline): its JSON with a final `check`
    /// field, the FNV-1a hash of the text before it.
    pub fn line(&self) -> String {
        let json = serde_json::to_string(self).expect("serialisable");
        let body = json.strip_suffix('}').expect("an object");
        format!(
            "{body},\"check\":\"{:016x}\"}}",
            output::fnv1a64(body.as_bytes())
        )
    }

    /// Parses and verifies a line written by [`CellResult::line`].
    fn parse_line(line: &str) -> Option<CellResult> {
        const TAG: &str = ",\"check\":\"";
        let at = line.rfind(TAG)?;
        let (body, rest) = line.split_at(at);
        let hex = rest.strip_prefix(TAG)?.strip_suffix("\"}")?;
        let claimed = u64::from_str_radix(hex, 16).ok()?;
        if hex.len() != 16 || claimed != output::fnv1a64(body.as_bytes()) {
            return None;
        }
        serde_json::from_str(line).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    kind: String,
    format: u32,
    grid: GridSpec,
    shard: Option<Shard>,
}

/// The contents of a grid file.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFile {
    /// The grid.
    pub grid: GridSpec,
    /// The shard it holds (`None`: the whole grid).
    pub shard: Option<Shard>,
    /// The finished grid cells, in file order.
    pub cells: Vec<CellResult>,
}

impl GridFile {
    /// The signed header line (without the newline).
    fn header_line(grid: &GridSpec, shard: Option<Shard>) -> Vec<u8> {
        let h = Header {
            kind: KIND.into(),
            format: FORMAT,
            grid: grid.clone(),
            shard,
        };
        output::sign(
            &serde_json::to_string(&h).expect("serialisable"),
            KIND,
            FileFormat::Json,
        )
    }

    /// The canonical bytes: the header, then the cells in index order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = GridFile::header_line(&self.grid, self.shard);
        out.push(b'\n');
        let mut cells: Vec<&CellResult> = self.cells.iter().collect();
        cells.sort_by_key(|c| c.index);
        for c in cells {
            out.extend_from_slice(c.line().as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Whether every cell of the grid (or of its shard) is present.
    pub fn missing(&self) -> Vec<usize> {
        let have: std::collections::BTreeSet<usize> = self.cells.iter().map(|c| c.index).collect();
        (0..self.grid.num_cells())
            .filter(|i| self.shard.is_none_or(|s| s.contains(*i)) && !have.contains(i))
            .collect()
    }

    /// The cell at `(value index, horizon index)`, if present.
    pub fn cell(&self, iv: usize, it: usize) -> Option<&CellResult> {
        let index = it * self.grid.values.len() + iv;
        self.cells.iter().find(|c| c.index == index)
    }
}

/// A parsed file and the length of a torn last line (an interrupted append).
struct Parsed {
    file: GridFile,
    valid_len: u64,
    torn: bool,
}

/// Parses a grid file's bytes, verifying the header's signature and every line's check. A
/// last line without its newline is an append cut short by a kill: reported as `torn`.
fn parse(bytes: &[u8], path: &Path, flag: &'static str) -> Result<Parsed> {
    let not_ours = || {
        refuse(
            flag,
            path,
            "is not a trainability grid file written by mfrnn (its first line is not a signed \
             mfrnn trainability header); not touching it",
        )
    };
    let first_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(not_ours)?;
    let head = &bytes[..first_end];
    if output::verified_kind(head).as_deref() != Some(KIND) {
        return Err(not_ours());
    }
    let header: Header = serde_json::from_slice(head).map_err(|_| not_ours())?;
    if header.format != FORMAT {
        return Err(refuse(
            flag,
            path,
            format!(
                "is a grid file of format {} (this mfrnn reads {FORMAT})",
                header.format
            ),
        ));
    }
    let mut cells = Vec::new();
    let mut pos = first_end + 1;
    let mut torn = false;
    while pos < bytes.len() {
        match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(len) => {
                let line = std::str::from_utf8(&bytes[pos..pos + len]).ok();
                let cell = line.and_then(CellResult::parse_line).ok_or_else(|| {
                    refuse(
                        flag,
                        path,
                        format!(
                            "line {} was changed since mfrnn wrote it (its check fails); not \
                             touching the file",
                            cells.len() + 2
                        ),
                    )
                })?;
                if cell.index >= header.grid.num_cells()
                    || header.shard.is_some_and(|s| !s.contains(cell.index))
                    || cells.iter().any(|c: &CellResult| c.index == cell.index)
                {
                    return Err(refuse(
                        flag,
                        path,
                        format!(
                            "holds grid cell {} twice or outside its grid or shard",
                            cell.index
                        ),
                    ));
                }
                cells.push(cell);
                pos += len + 1;
            }
            None => {
                torn = true;
                break;
            }
        }
    }
    Ok(Parsed {
        file: GridFile {
            grid: header.grid,
            shard: header.shard,
            cells,
        },
        valid_len: pos as u64,
        torn,
    })
}

/// Reads and verifies a grid file (for merging and analysis). A torn last line (an
/// interrupted append) is ignored.
///
/// # Errors
/// [`Error::Io`]; [`Error::OutputPath`] (flag `input`) when the file is not an unmodified
/// grid file.
pub fn read(path: &Path) -> Result<GridFile> {
    let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
    Ok(parse(&bytes, path, "input")?.file)
}

/// A grid ready to run into a file: what is done, what is left, and the estimated cost.
#[derive(Debug, Clone)]
pub struct GridPlan {
    /// The grid.
    pub grid: GridSpec,
    /// The shard (`None`: all cells).
    pub shard: Option<Shard>,
    /// The grid file.
    pub path: PathBuf,
    /// Cells of the shard already in the file.
    pub done: usize,
    /// Cells left to run, in index order.
    pub pending: Vec<usize>,
    /// Floating-point operations of the pending cells.
    pub flops: f64,
    /// Largest memory of one run (bytes).
    pub run_bytes: f64,
    /// Whether the file exists (resume) and whether its last line was torn.
    pub resume: Option<bool>,
}

impl GridPlan {
    /// Validates the grid and inspects `path` (written to nothing): a new path, or an earlier
    /// grid file of the same grid and shard, whose finished cells are skipped.
    ///
    /// # Errors
    /// As [`GridSpec::validate`]; [`Error::OutputPath`] naming `out` when the path holds
    /// anything else (a user's file, another grid or shard, a modified grid file).
    pub fn new(grid: &GridSpec, shard: Option<Shard>, path: &Path) -> Result<GridPlan> {
        let (run_bytes, flops) = grid.validate()?;
        let (done, resume) = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                output::check_file(path, KIND, "out")?;
                (Vec::new(), None)
            }
            Err(e) => return Err(io(path, "inspecting", e)),
            Ok(m) if !m.is_file() => {
                return Err(refuse("out", path, "exists and is not a regular file"));
            }
            Ok(_) => {
                let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
                let p = parse(&bytes, path, "out")?;
                if p.file.grid != *grid || p.file.shard != shard {
                    return Err(refuse(
                        "out",
                        path,
                        "holds another trainability grid or shard (resuming needs the same \
                         flags); choose another path",
                    ));
                }
                (p.file.cells.iter().map(|c| c.index).collect(), Some(p.torn))
            }
        };
        let pending: Vec<usize> = (0..grid.num_cells())
            .filter(|i| shard.is_none_or(|s| s.contains(*i)) && !done.contains(i))
            .collect();
        Ok(GridPlan {
            grid: grid.clone(),
            shard,
            path: path.to_path_buf(),
            done: done.len(),
            flops: pending.iter().map(|&i| flops[i]).sum::<f64>() + 0.0,
            pending,
            run_bytes,
            resume,
        })
    }

    /// Runs of the pending cells.
    pub fn pending_runs(&self) -> usize {
        self.pending.len() * self.grid.seeds
    }

    /// Training steps of the pending cells (the progress bar's total).
    pub fn pending_steps(&self) -> u64 {
        (self.pending_runs() * self.grid.training.steps) as u64
    }

    /// The budget estimate for `threads` threads (memory: one run per thread).
    pub fn estimate(&self, threads: usize) -> Estimate {
        let threads = crate::budget::concurrency(self.pending_runs()).min(threads.max(1));
        Estimate::new("the trainability grid")
            .memory(
                "width",
                self.grid.training.width as f64,
                self.run_bytes * threads as f64,
            )
            .ops(
                "steps",
                self.grid.training.steps as f64,
                self.flops,
                threads,
            )
    }

    /// Runs the pending cells (runs in parallel on the current rayon pool, one run per
    /// thread), appending each finished cell's line to the file; `progress(steps)` is called
    /// as training steps are done. Returns the file's contents at the end.
    ///
    /// # Errors
    /// [`Error::OutputPath`] when the file changed since the plan or another process is
    /// writing it; [`Error::Io`]; a run's configuration error (checked by the plan, so not
    /// expected). Finished cells stay in the file; a new file that received no cell is
    /// removed.
    pub fn run(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<GridFile> {
        let path = &self.path;
        let (file, created) = match self.resume {
            None => {
                let mut f = File::create_new(path).map_err(|e| {
                    if e.kind() == ErrorKind::AlreadyExists {
                        refuse(
                            "out",
                            path,
                            "appeared while mfrnn was preparing; not replacing it",
                        )
                    } else {
                        io(path, "creating", e)
                    }
                })?;
                let mut head = GridFile::header_line(&self.grid, self.shard);
                head.push(b'\n');
                let w = f
                    .try_lock()
                    .map_err(|_| refuse("out", path, "another process is writing it"))
                    .and_then(|_| f.write_all(&head).map_err(|e| io(path, "writing", e)));
                if let Err(e) = w {
                    drop(f);
                    let _ = fs::remove_file(path);
                    return Err(e);
                }
                (f, true)
            }
            Some(_) => {
                let f = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| io(path, "opening", e))?;
                f.try_lock().map_err(|_| {
                    refuse(
                        "out",
                        path,
                        "another mfrnn run is writing this grid file (each shard needs its own \
                         file)",
                    )
                })?;
                (f, false)
            }
        };
        // Under the lock: re-read and cut a torn last line (our own interrupted append).
        let pending = if created {
            self.pending.clone()
        } else {
            let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
            let p = parse(&bytes, path, "out")?;
            if p.file.grid != self.grid || p.file.shard != self.shard {
                return Err(refuse("out", path, "changed since it was inspected"));
            }
            if p.torn {
                file.set_len(p.valid_len)
                    .map_err(|e| io(path, "removing the torn last line", e))?;
            }
            let done: Vec<usize> = p.file.cells.iter().map(|c| c.index).collect();
            self.pending
                .iter()
                .copied()
                .filter(|i| !done.contains(i))
                .collect()
        };
        let file_lock = Mutex::new(file);
        let outcome = train_cells(&self.grid, &pending, progress, &|cell| {
            let mut line = cell.line();
            line.push('\n');
            let mut f = file_lock.lock().expect("not poisoned");
            f.write_all(line.as_bytes())
                .and_then(|_| f.sync_data())
                .map_err(|e| io(path, "appending", e))
        });
        let file = file_lock.into_inner().expect("not poisoned");
        drop(file);
        if let Err((written, e)) = outcome {
            if created && written == 0 {
                let _ = fs::remove_file(path);
            }
            return Err(e);
        }
        read(path)
    }
}

/// Trains the seeds of the grid cells `pending` (runs in parallel on the current rayon pool,
/// one run per thread) and hands each finished cell to `sink` as soon as its last seed is
/// done; `progress(steps)` is called as training steps are done. On an error (of a run or of
/// the sink) the remaining runs are skipped and the error is returned with the number of cells
/// the sink accepted.
fn train_cells(
    grid: &GridSpec,
    pending: &[usize],
    progress: &(dyn Fn(u64) + Sync),
    sink: &(dyn Fn(&CellResult) -> Result<()> + Sync),
) -> std::result::Result<usize, (usize, Error)> {
    let seeds = grid.seeds;
    let steps = grid.training.steps as u64;
    let jobs: Vec<(usize, usize)> = pending
        .iter()
        .flat_map(|&c| (0..seeds).map(move |k| (c, k)))
        .collect();
    struct State {
        partial: BTreeMap<usize, Vec<Option<RunResult>>>,
        written: usize,
        error: Option<Error>,
    }
    let state = Mutex::new(State {
        partial: BTreeMap::new(),
        written: 0,
        error: None,
    });
    jobs.par_iter().with_max_len(1).for_each(|&(c, k)| {
        if state.lock().expect("not poisoned").error.is_some() {
            return;
        }
        let cfg = grid.config(c, k);
        let result = train_with_progress(&cfg, &|_| progress(1));
        let mut st = state.lock().expect("not poisoned");
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                st.error.get_or_insert(e);
                return;
            }
        };
        progress(steps.saturating_sub(r.diagnostics.steps_done as u64));
        let slot = st.partial.entry(c).or_insert_with(|| vec![None; seeds]);
        slot[k] = Some(r);
        if slot.iter().all(Option::is_some) {
            let runs: Vec<RunResult> = st
                .partial
                .remove(&c)
                .expect("present")
                .into_iter()
                .map(|r| r.expect("all present"))
                .collect();
            match sink(&CellResult::of(grid, c, &runs)) {
                Ok(()) => st.written += 1,
                Err(e) => {
                    st.error.get_or_insert(e);
                }
            }
        }
    });
    let st = state.into_inner().expect("not poisoned");
    match st.error {
        Some(e) => Err((st.written, e)),
        None => Ok(st.written),
    }
}

/// Runs a whole grid in memory (no grid file; for the report, which writes the canonical
/// bytes [`GridFile::to_bytes`] through its own output directory). The same runs, seeds and
/// cell results as [`GridPlan::run`]: its canonical file has the same bytes.
///
/// # Errors
/// As [`GridSpec::validate`]; a run's error.
pub fn run_in_memory(grid: &GridSpec, progress: &(dyn Fn(u64) + Sync)) -> Result<GridFile> {
    grid.validate()?;
    let pending: Vec<usize> = (0..grid.num_cells()).collect();
    let cells = Mutex::new(Vec::new());
    train_cells(grid, &pending, progress, &|c| {
        cells.lock().expect("not poisoned").push(c.clone());
        Ok(())
    })
    .map_err(|(_, e)| e)?;
    let mut cells = cells.into_inner().expect("not poisoned");
    cells.sort_by_key(|c| c.index);
    Ok(GridFile {
        grid: grid.clone(),
        shard: None,
        cells,
    })
}

/// Combines grid files of one grid (shards, resumed parts, earlier merges) into the canonical
/// whole: header without shard, cells in index order. A cell present in several inputs must
/// be identical in all.
///
/// # Errors
/// [`Error::Unsupported`] when the inputs hold different grids, disagree on a cell, or (unless
/// `partial`) leave cells missing — the message names how many and the first.
pub fn merge(inputs: &[GridFile], partial: bool) -> Result<GridFile> {
    let first = inputs
        .first()
        .ok_or_else(|| Error::Unsupported("merge needs at least one grid file".into()))?;
    let mut cells: BTreeMap<usize, CellResult> = BTreeMap::new();
    for (i, f) in inputs.iter().enumerate() {
        if f.grid != first.grid {
            return Err(Error::Unsupported(format!(
                "input {} holds another grid than input 1 (merge combines shards of one grid)",
                i + 1
            )));
        }
        for c in &f.cells {
            match cells.get(&c.index) {
                Some(old) if old != c => {
                    return Err(Error::Unsupported(format!(
                        "grid cell {} differs between the inputs (runs on machines with other \
                         vector units can round differently)",
                        c.index
                    )));
                }
                Some(_) => {}
                None => {
                    cells.insert(c.index, c.clone());
                }
            }
        }
    }
    let out = GridFile {
        grid: first.grid.clone(),
        shard: None,
        cells: cells.into_values().collect(),
    };
    let missing = out.missing();
    if !partial && !missing.is_empty() {
        return Err(Error::Unsupported(format!(
            "{} of {} grid cells are missing (the first is cell {}); run the missing shards or \
             resume them, or merge with --partial",
            missing.len(),
            out.grid.num_cells(),
            missing[0]
        )));
    }
    Ok(out)
}

/// Writes a merged grid file to `path` atomically: a new path, or an earlier grid file of
/// mfrnn's (verified unmodified).
///
/// # Errors
/// [`Error::OutputPath`] naming `out`; [`Error::Io`].
pub fn write_merged(file: &GridFile, path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => output::check_file(path, KIND, "out")?,
        Err(e) => return Err(io(path, "inspecting", e)),
        Ok(m) if !m.is_file() => {
            return Err(refuse("out", path, "exists and is not a regular file"));
        }
        Ok(_) => {
            let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
            parse(&bytes, path, "out")?;
        }
    }
    output::write_file(path, &file.to_bytes(), "out")
}

/// A candidate timescale's value at one column of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "xi", rename_all = "snake_case")]
pub enum Xi {
    /// A finite timescale.
    Finite(f64),
    /// `χ ≥ 1`: no decay (the line is at `T = ∞`).
    Infinite,
    /// The quantity does not exist here (no fixed point, or the theory does not cover it).
    Undefined,
}

/// One candidate timescale over the grid's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Short name (`xi_c_rho0`, ...).
    pub name: String,
    /// The theory it comes from (`factorised`, `exact`).
    pub theory: String,
    /// What it is, in words.
    pub description: String,
    /// Whether it is the timescale theory/10 derives for this task's padding.
    pub matches_task: bool,
    /// Its value at each of the grid's values.
    pub xi: Vec<Xi>,
}

/// A source of candidate timescales: the factorised theory ([`Factorised`]); the exact
/// tied-weight theory plugs in here with the same interface.
pub trait TimescaleSource {
    /// The theory's name.
    fn theory(&self) -> &'static str;
    /// The candidates at the grid's values.
    ///
    /// # Errors
    /// What the theory reports for an unusable grid.
    fn candidates(&self, grid: &GridSpec) -> Result<Vec<Candidate>>;
}

/// The factorised mean-field theory's timescales ([`crate::cells::vanilla`],
/// [`crate::cells::minimal`]): `ξ_q`, `ξ₁`, `ξ_c` at the `ρ = 0` and `ρ = 1` correlation fixed
/// points, and for the minimalRNN the per-unit gate timescales `−1/ln σ(e)` of the median
/// unit (`e = μ_b`) and of the 90th-percentile unit (`e = μ_b + 1.2816 √q*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Factorised;

fn xi_of(x: Option<f64>) -> Xi {
    x.map_or(Xi::Infinite, Xi::Finite)
}

impl TimescaleSource for Factorised {
    fn theory(&self) -> &'static str {
        "factorised"
    }

    fn candidates(&self, grid: &GridSpec) -> Result<Vec<Candidate>> {
        let pad = grid.task.padding();
        let task_r = task_input_moment(grid)?;
        let names: Vec<(&str, &str, bool)> = {
            let mut v = vec![
                (
                    "xi_q",
                    "ξ_q = −1/ln χ_q: decay of the state variance towards q*",
                    false,
                ),
                (
                    "xi_1",
                    "ξ₁ = −1/ln χ₁: decay of the mean squared Jacobian (gradients)",
                    false,
                ),
                (
                    "xi_c_rho0",
                    "ξ_c at the ρ = 0 correlation fixed point: the first input's excess correlation under independent noise",
                    pad == Some(Padding::Noise),
                ),
                (
                    "xi_c_rho1",
                    "ξ_c at the ρ = 1 correlation fixed point: two sequences that differ only at step 1 under identical (zero) padding",
                    pad == Some(Padding::Zero) && grid.cell.kind() != CellKind::Minimal,
                ),
            ];
            if grid.cell.kind() == CellKind::Minimal {
                v.push((
                    "xi_gate_median",
                    "−1/ln σ(μ_b): memory of the median unit's gate (under zero padding the state decays, h_t = u_t h_{t−1}, and this is the first input's timescale)",
                    pad == Some(Padding::Zero),
                ));
                v.push((
                    "xi_gate_p90",
                    "−1/ln σ(μ_b + 1.2816 √q*): memory of the 90th-percentile unit's gate",
                    false,
                ));
            }
            v
        };
        let mut xi: Vec<Vec<Xi>> = vec![Vec::new(); names.len()];
        for &value in &grid.values {
            let mb = grid.scales(value)[3];
            let minimal = grid.cell.kind() == CellKind::Minimal;
            let theory =
                theory_params(grid, value, task_r).and_then(|p| grid.cell.mean_field(&p).ok());
            let row: Vec<Xi> = match theory {
                Some(mf) => {
                    let s0 = mf.summary(0.0).ok();
                    let s1 = mf.summary(1.0).ok();
                    let c = |s: &Option<Summary>| match s {
                        Some(s) if s.c_star.is_some() => xi_of(s.xi_c),
                        _ => Xi::Undefined,
                    };
                    let mut row = vec![
                        s1.as_ref().map_or(Xi::Undefined, |s| xi_of(s.xi_q)),
                        s1.as_ref().map_or(Xi::Undefined, |s| xi_of(s.xi_1)),
                        c(&s0),
                        c(&s1),
                    ];
                    if minimal {
                        let gate =
                            |e: f64| xi_of(crate::roots::timescale(crate::activation::sigmoid(e)));
                        row.push(gate(mb));
                        row.push(
                            s1.as_ref()
                                .map_or(Xi::Undefined, |s| gate(mb + 1.2816 * s.q_star.sqrt())),
                        );
                    }
                    row
                }
                // A minimalRNN under zero padding: z = 0, so h_t = u_t h_{t−1} decays and the
                // gate's pre-activation tends to the frozen bias, e = b ~ N(μ_b, σ_b²): the
                // gate timescales need no fixed point (the median unit's σ(μ_b), the 90th
                // percentile's σ(μ_b + 1.2816 σ_b)); the rest of the theory needs R > 0.
                None if minimal && pad == Some(Padding::Zero) => {
                    let sb = grid.scales(value)[2];
                    let gate =
                        |e: f64| xi_of(crate::roots::timescale(crate::activation::sigmoid(e)));
                    let mut row = vec![Xi::Undefined; names.len() - 2];
                    row.push(gate(mb));
                    row.push(gate(mb + 1.2816 * sb));
                    row
                }
                None => vec![Xi::Undefined; names.len()],
            };
            for (col, x) in xi.iter_mut().zip(row) {
                col.push(x);
            }
        }
        Ok(names
            .into_iter()
            .zip(xi)
            .map(|((name, description, matches_task), xi)| Candidate {
                name: name.into(),
                theory: self.theory().into(),
                description: description.into(),
                matches_task,
                xi,
            })
            .collect())
    }
}

/// The exact (tied-weight, frozen-bias) theory's timescales at stationarity
/// ([`crate::exact::stationary::analysis`], `theory/11-stationary-exact.md`), sampled with
/// standard errors: `ξ₁` from the exact `χ₁` (X.5), `ξ_c(ρ = 1)` from the synchronisation rate of
/// identical-input copies (X.6), and for the minimalRNN `ξ_c(ρ = 0)` from the memory curve at
/// independent inputs (X.7) and the gate timescale `−1/ln E[u]` of the stationary gate. The
/// exact theory has no `ξ_q` at stationarity, and no memory curve for the vanilla cell (whose
/// `ρ = 0` fixed point under a tied `W` is the factorised one when `σ_b = 0`).
///
/// One stationary solve per grid value (seconds to a minute each, longest at large `μ_b`),
/// warm-started from the previous value's solution; `progress(done)` is called after each.
pub struct Exact<'a> {
    /// The sampling settings (paths, replicas, decay-curve horizon, seed).
    pub settings: ExactSettings,
    /// Called with the number of grid values done.
    pub progress: &'a (dyn Fn(usize) + Sync),
}

impl std::fmt::Debug for Exact<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exact")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TimescaleSource for Exact<'_> {
    fn theory(&self) -> &'static str {
        "exact"
    }

    fn candidates(&self, grid: &GridSpec) -> Result<Vec<Candidate>> {
        let pad = grid.task.padding();
        let minimal = grid.cell.kind() == CellKind::Minimal;
        let task_r = task_input_moment(grid)?;
        let mut names: Vec<(&str, &str, bool)> = vec![
            (
                "xi_1",
                "ξ₁ = −1/ln χ₁ with the exact χ₁ (mean squared singular value of the one-step Jacobian at stationarity)",
                false,
            ),
            (
                "xi_c_rho1",
                "ξ_c = −1/ln Λ: synchronisation of identical-input copies that differ only at step 1 (identical padding)",
                pad == Some(Padding::Zero),
            ),
        ];
        if minimal {
            names.push((
                "xi_c_rho0",
                "ξ_c of the memory curve: the first input's excess correlation under independent noise",
                pad == Some(Padding::Noise),
            ));
            names.push((
                "xi_gate_mean",
                "−1/ln E[u]: memory of the mean stationary gate",
                false,
            ));
        }
        let regime = crate::cells::Regime::REAL;
        let rho = if minimal { 0.0 } else { 1.0 };
        let mut xi: Vec<Vec<Xi>> = vec![Vec::new(); names.len()];
        let mut previous: Option<ExactAnalysis> = None;
        for (done, &value) in grid.values.iter().enumerate() {
            // The stationary theory needs an input that drives the state (`R > 0`); a
            // vanilla cell under zero padding runs autonomously, outside it.
            let row = match theory_params(grid, value, task_r).filter(|p| p.r() > 0.0) {
                None => vec![Xi::Undefined; names.len()],
                Some(p) => {
                    let a = analysis::analyze_from(
                        &grid.cell,
                        &p,
                        regime,
                        rho,
                        &self.settings,
                        previous.as_ref(),
                    )?;
                    // A rate at or above 1 within its sampling error: no decay.
                    let rate = |chi: f64, se: f64| {
                        if chi > 0.0 && chi + 2.0 * se < 1.0 {
                            Xi::Finite(-1.0 / chi.ln())
                        } else if chi > 0.0 {
                            Xi::Infinite
                        } else {
                            Xi::Undefined
                        }
                    };
                    let mut row = vec![
                        rate(a.chi_1, a.chi_1_se),
                        rate(a.synchronisation.chi, a.synchronisation.chi_se),
                    ];
                    if minimal {
                        row.push(
                            a.memory
                                .as_ref()
                                .map_or(Xi::Undefined, |m| rate(m.chi, m.chi_se)),
                        );
                        row.push(
                            a.stationary
                                .gate
                                .map_or(Xi::Undefined, |g| rate(g.mean_u, g.mean_u_se)),
                        );
                    }
                    previous = Some(a);
                    row
                }
            };
            for (col, x) in xi.iter_mut().zip(row) {
                col.push(x);
            }
            (self.progress)(done + 1);
        }
        Ok(names
            .into_iter()
            .zip(xi)
            .map(|((name, description, matches_task), xi)| Candidate {
                name: name.into(),
                theory: self.theory().into(),
                description: description.into(),
                matches_task,
                xi,
            })
            .collect())
    }
}

/// The second moment `R` of the task's input during the padding steps (of the longest
/// horizon's task).
fn task_input_moment(grid: &GridSpec) -> Result<f64> {
    let longest = *grid.horizons.iter().max().unwrap_or(&1);
    Ok(grid
        .task
        .at(longest)
        .build(grid.training.data_seed)?
        .input_second_moment)
}

/// The theory's hyper-parameters at one of the grid's values, or `None` where the theory does
/// not describe the network: the state of a cell whose input enters it (the minimalRNN) is
/// driven by the embedded input `z = U x + b_z`, of second moment `R` during noise padding;
/// zero padding gives `z = 0`, outside the theory's `R > 0`. Other cells see the task's input
/// (`task_r`).
fn theory_params(grid: &GridSpec, value: f64, task_r: f64) -> Option<CellParams> {
    let [sw, sv, sb, mb] = grid.scales(value);
    let r = if grid.cell.input_enters_state() {
        if grid.task.padding() == Some(Padding::Zero) {
            return None;
        }
        grid.training.embedding_r
    } else {
        task_r
    };
    CellParams::builder()
        .sigma_w(sw)
        .sigma_v(sv)
        .sigma_b(sb)
        .mu_b(mb)
        .r(r)
        .build()
        .ok()
}

/// How well one rule "trainable iff `x ≤ k`" separates trainable from untrainable cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Separation {
    /// The rule, in words.
    pub rule: String,
    /// The fitted constant (`k` of `T ≤ k ξ`, or `T₀`); `None` when no cell is defined or the
    /// best rule calls every cell untrainable.
    pub k: Option<f64>,
    /// Cells on the right side.
    pub correct: usize,
    /// All cells scored.
    pub total: usize,
    /// `correct / total`.
    pub fraction: f64,
    /// Cells where the rule's quantity is undefined (counted as wrong).
    pub undefined: usize,
}

/// Best threshold `k` for "positive iff `x ≤ k`" over `(x, label)` (`x = None`: undefined, always
/// wrong). Ties are broken towards the smallest `k`; the reported `k` is the geometric middle of
/// the best interval (or twice its lower end when open-ended).
fn fit_threshold(points: &[(Option<f64>, bool)]) -> (Option<f64>, usize, usize) {
    let undefined = points.iter().filter(|p| p.0.is_none()).count();
    let mut xs: Vec<f64> = points.iter().filter_map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.is_empty() {
        return (None, 0, undefined);
    }
    let count = |k: f64| {
        points
            .iter()
            .filter(|(x, y)| x.is_some_and(|x| (x <= k) == *y))
            .count()
    };
    // k below every x (all negative), then k at each distinct x.
    let mut best = (count(f64::NEG_INFINITY), None::<usize>);
    for (j, &x) in xs.iter().enumerate() {
        let c = count(x);
        if c > best.0 {
            best = (c, Some(j));
        }
    }
    let k = match best.1 {
        // Every cell called untrainable: no line.
        None => return (None, best.0, undefined),
        Some(j) if j + 1 < xs.len() => {
            let (a, b) = (xs[j], xs[j + 1]);
            if a > 0.0 { (a * b).sqrt() } else { b / 2.0 }
        }
        Some(j) => xs[j] * 2.0,
    };
    (Some(k), best.0, undefined)
}

/// The analysis of a grid: which rule separates trainable from untrainable cells best.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridAnalysis {
    /// Cells analysed (the finished ones).
    pub cells: usize,
    /// Of those, trainable.
    pub trainable: usize,
    /// The threshold on the mean score.
    pub threshold: f64,
    /// Calling every cell trainable, or every cell untrainable (whichever is right more often).
    pub constant: Separation,
    /// The trivial rule `T ≤ T₀`, ignoring the hyper-parameter.
    pub trivial: Separation,
    /// The best any rule `T ≤ f(value)` can do (a threshold per column): the ceiling.
    pub ceiling: Separation,
    /// Each candidate timescale's rule `T ≤ k ξ(value)`, with the candidate.
    pub candidates: Vec<(Candidate, Separation)>,
}

impl GridAnalysis {
    /// The candidates, best first (by the fraction of cells on the right side; ties keep the
    /// order of [`GridAnalysis::candidates`]).
    pub fn ranked(&self) -> Vec<&(Candidate, Separation)> {
        let mut best: Vec<&(Candidate, Separation)> = self.candidates.iter().collect();
        best.sort_by(|a, b| b.1.fraction.total_cmp(&a.1.fraction));
        best
    }
}

impl Candidate {
    /// The fitted line `T = k ξ` at each of the grid's values (`∞` where `ξ` is infinite,
    /// `None` where it is undefined).
    pub fn line(&self, k: f64) -> Vec<Option<f64>> {
        self.xi
            .iter()
            .map(|x| match x {
                Xi::Finite(v) => Some(k * v),
                Xi::Infinite => Some(f64::INFINITY),
                Xi::Undefined => None,
            })
            .collect()
    }
}

/// Fits and scores every rule on the finished cells of `file`.
///
/// # Errors
/// What a timescale source reports.
pub fn analyze(file: &GridFile, sources: &[&dyn TimescaleSource]) -> Result<GridAnalysis> {
    let g = &file.grid;
    let cells: Vec<&CellResult> = {
        let mut c: Vec<&CellResult> = file.cells.iter().collect();
        c.sort_by_key(|c| c.index);
        c
    };
    let n = cells.len();
    let trainable = cells.iter().filter(|c| c.trainable).count();
    let sep = |rule: String, fit: (Option<f64>, usize, usize)| Separation {
        rule,
        k: fit.0,
        correct: fit.1,
        total: n,
        fraction: if n == 0 { 0.0 } else { fit.1 as f64 / n as f64 },
        undefined: fit.2,
    };
    let majority = trainable.max(n - trainable);
    let constant = sep(
        format!(
            "every cell {}",
            if trainable * 2 >= n {
                "trainable"
            } else {
                "untrainable"
            }
        ),
        (None, majority, 0),
    );
    let by_t: Vec<(Option<f64>, bool)> = cells
        .iter()
        .map(|c| (Some(c.horizon as f64), c.trainable))
        .collect();
    let trivial = sep("T ≤ T₀".into(), fit_threshold(&by_t));
    let mut ceiling_correct = 0;
    for iv in 0..g.values.len() {
        let col: Vec<(Option<f64>, bool)> = cells
            .iter()
            .filter(|c| g.position(c.index).0 == iv)
            .map(|c| (Some(c.horizon as f64), c.trainable))
            .collect();
        if !col.is_empty() {
            ceiling_correct += fit_threshold(&col).1;
        }
    }
    let ceiling = sep(
        "T ≤ T₀(value), one threshold per column".into(),
        (None, ceiling_correct, 0),
    );
    let mut out = Vec::new();
    for s in sources {
        for cand in s.candidates(g)? {
            let pts: Vec<(Option<f64>, bool)> = cells
                .iter()
                .map(|c| {
                    let x = match cand.xi[g.position(c.index).0] {
                        Xi::Finite(xi) if xi > 0.0 => Some(c.horizon as f64 / xi),
                        Xi::Finite(_) => Some(f64::INFINITY),
                        Xi::Infinite => Some(0.0),
                        Xi::Undefined => None,
                    };
                    (x, c.trainable)
                })
                .collect();
            let rule = format!("T ≤ k·{} ({})", cand.name, cand.theory);
            out.push((cand, sep(rule, fit_threshold(&pts))));
        }
    }
    Ok(GridAnalysis {
        cells: n,
        trainable,
        threshold: g.threshold,
        constant,
        trivial,
        ceiling,
        candidates: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_fit_finds_the_separating_k() {
        // Positives at x ≤ 2, negatives above: k between 2 and 3, all right.
        let pts: Vec<(Option<f64>, bool)> = [1.0, 2.0, 3.0, 4.0]
            .iter()
            .map(|&x| (Some(x), x <= 2.0))
            .collect();
        let (k, c, u) = fit_threshold(&pts);
        assert_eq!((c, u), (4, 0));
        let k = k.unwrap();
        assert!(k > 2.0 && k < 3.0, "{k}");
        // An undefined point is counted wrong.
        let mut p2 = pts.clone();
        p2.push((None, true));
        assert_eq!(fit_threshold(&p2).1, 4);
        // All negative: k below every x.
        let neg: Vec<(Option<f64>, bool)> = [1.0, 2.0].iter().map(|&x| (Some(x), false)).collect();
        let (k, c, _) = fit_threshold(&neg);
        assert_eq!((k, c), (None, 2));
    }

    #[test]
    fn lines_verify_and_edits_are_caught() {
        let c = CellResult {
            index: 3,
            value: 1.25,
            horizon: 10,
            runs: Vec::new(),
            mean_score: 0.5,
            se_score: None,
            mean_accuracy: Some(0.55),
            se_accuracy: None,
            diverged: 0,
            trainable: true,
        };
        let line = c.line();
        assert_eq!(CellResult::parse_line(&line), Some(c));
        let edited = line.replace("0.55", "0.56");
        assert_eq!(CellResult::parse_line(&edited), None);
    }

    #[test]
    fn shards_partition_the_cells() {
        for n in 1..6 {
            for cell in 0..40 {
                let owners = (0..n)
                    .filter(|&i| Shard { index: i, count: n }.contains(cell))
                    .count();
                assert_eq!(owners, 1);
            }
        }
        assert!(Shard::parse("2/2").is_err() && Shard::parse("0/0").is_err());
        assert!(Shard::parse("x/2").is_err() && Shard::parse("1").is_err());
        assert_eq!(Shard::parse(" 1/3 ").unwrap(), Shard { index: 1, count: 3 });
    }
}
