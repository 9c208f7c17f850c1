//! `mfrnn trainability`: trainability grids (run, resume, shard, merge), their analysis
//! against the theory's timescales, and learning curves of the critical initialization
//! against the rest.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::cells::{parse_cell, parse_weights};
use super::svg;
use super::train::{OptArg, PadArg, PrecisionArg, TaskArg};
use crate::cells::{Cell, CellKind, WeightLaw};
use crate::error::{Error, Result};
use crate::output::{self, FileFormat};
use crate::training::curves::{self, CriticalTarget, CurveResult, CurveSpec};
use crate::training::trainability::{
    self as tr, Axis, BaseInit, Factorised, GridAnalysis, GridFile, GridPlan, GridSpec, GridTask,
    Shard, TimescaleSource, Training, Xi,
};
use crate::training::{Optimizer, Padding, Precision};

/// `mfrnn trainability` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TrainabilityCmd {
    /// Run a grid (or one shard of it) into a grid file, resuming where an earlier run stopped.
    Run(RunArgs),
    /// Combine grid files of one grid (shards) into the canonical whole.
    Merge(MergeArgs),
    /// Which timescale line k·ξ separates trainable from untrainable cells, against T ≤ T₀.
    Analyze(AnalyzeArgs),
    /// Learning curves (mean ± SE over seeds): critical initialization against the rest.
    Curves(CurvesArgs),
}

/// Arguments of `mfrnn trainability`.
#[derive(Debug, Args)]
pub(crate) struct TrainabilityArgs {
    #[command(subcommand)]
    cmd: TrainabilityCmd,
}

/// `--axis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AxisArg {
    /// The recurrent scale σ_w.
    SigmaW,
    /// The bias mean μ_b.
    MuB,
}

/// The training flags shared by `run` and `curves`.
#[derive(Debug, Args)]
pub(crate) struct TrainFlags {
    /// The recurrent cell: vanilla or minimal.
    #[arg(long, value_parser = parse_cell, default_value = "vanilla")]
    cell: CellKind,
    /// Activation of the vanilla cell.
    #[arg(long, default_value = "tanh")]
    phi: String,
    /// The task.
    #[arg(long, value_enum, default_value = "digits")]
    task: TaskArg,
    /// What the padding steps hold (digits, recall).
    #[arg(long, value_enum, default_value = "noise")]
    pad: PadArg,
    /// Number of patterns (recall).
    #[arg(long, default_value_t = 10)]
    classes: usize,
    /// Pattern dimension (recall).
    #[arg(long, default_value_t = 16)]
    dim: usize,
    /// Hidden width N.
    #[arg(long, default_value_t = 32, value_parser = super::count)]
    width: usize,
    /// Training steps per run (the budget).
    #[arg(long, default_value_t = 300, value_parser = super::count)]
    steps: usize,
    /// Sequences per step.
    #[arg(long, default_value_t = 32, value_parser = super::count)]
    batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptArg,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Clip the gradient norm at this value.
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    /// Do not clip the gradient.
    #[arg(long = "no-clip")]
    no_clip: bool,
    /// A gradient norm above this ends a run as diverged.
    #[arg(long, default_value_t = 1e6)]
    explode: f64,
    /// Evaluation batch of the synthetic tasks (digits: the 355 test images).
    #[arg(long = "eval-size", default_value_t = 1000, value_parser = super::count)]
    eval_size: usize,
    /// Seed of the task's fixed data.
    #[arg(long = "data-seed", default_value_t = 0)]
    data_seed: u64,
    /// minimalRNN: second moment R of the embedded input.
    #[arg(long = "embedding-r", default_value_t = 1.0)]
    embedding_r: f64,
    /// Float type.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Seeds per grid cell (or per initialization).
    #[arg(long, default_value_t = 3, value_parser = super::count)]
    seeds: usize,
    /// The first seed (run k has seed `seed + k`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads (default: all; results do not depend on it).
    #[arg(long, value_parser = super::count)]
    threads: Option<usize>,
}

impl TrainFlags {
    fn cell(&self) -> Result<Cell> {
        // --phi has a default (tanh) here and is ignored for the minimalRNN.
        let vanilla = self.cell == CellKind::Vanilla;
        Cell::of_kind(self.cell, vanilla.then_some(self.phi.as_str()))
    }

    fn grid_task(&self) -> GridTask {
        let pad = match self.pad {
            PadArg::Noise => Padding::Noise,
            PadArg::Zero => Padding::Zero,
        };
        match self.task {
            TaskArg::Digits => GridTask::Digits { pad },
            TaskArg::Recall => GridTask::Recall {
                classes: self.classes,
                dim: self.dim,
                pad,
            },
            TaskArg::Copy => GridTask::Copy,
            TaskArg::Adding => GridTask::Adding,
        }
    }

    fn training(&self) -> Result<Training> {
        if !(self.no_clip || self.clip.is_finite() && self.clip > 0.0) {
            return Err(Error::invalid(
                "clip",
                self.clip,
                "a finite number > 0 (or --no-clip)",
            ));
        }
        Ok(Training {
            width: self.width,
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            optimizer: match self.optimizer {
                OptArg::Sgd => Optimizer::sgd(self.momentum),
                OptArg::Rmsprop => Optimizer::rmsprop(),
                OptArg::Adam => Optimizer::adam(),
            },
            clip: (!self.no_clip).then_some(self.clip),
            explode: self.explode,
            eval_size: self.eval_size,
            data_seed: self.data_seed,
            embedding_r: self.embedding_r,
            precision: match self.precision {
                PrecisionArg::F32 => Precision::F32,
                PrecisionArg::F64 => Precision::F64,
            },
        })
    }

    /// Runs `f` on a pool of `--threads` threads (or the global pool).
    fn pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        match self.threads {
            None => Ok(f()),
            Some(0) => Err(Error::invalid("threads", 0.0, "at least 1 thread")),
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| Error::Unsupported(format!("cannot start {n} threads: {e}")))
                .map(|p| p.install(f)),
        }
    }

    fn threads(&self) -> usize {
        self.threads.unwrap_or_else(rayon::current_num_threads)
    }
}

/// Arguments of `mfrnn trainability run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    flags: TrainFlags,
    /// The hyper-parameter varied (default: σ_w for vanilla, μ_b for minimal).
    #[arg(long, value_enum)]
    axis: Option<AxisArg>,
    /// Its values: `lo:hi:n` (n evenly spaced, ends included) or a list `0.5,1,1.5`.
    #[arg(long, allow_hyphen_values = true)]
    values: String,
    /// The horizons T (padding steps, copy delay, adding length): a list `1,5,10,20`.
    #[arg(long)]
    horizons: String,
    /// σ_w when the axis is μ_b.
    #[arg(long = "sigma-w", default_value_t = 1.0)]
    sigma_w: f64,
    /// σ_v.
    #[arg(long = "sigma-v", default_value_t = 1.0)]
    sigma_v: f64,
    /// σ_b.
    #[arg(long = "sigma-b", default_value_t = 0.0)]
    sigma_b: f64,
    /// μ_b when the axis is σ_w (default 0 for vanilla, 4 for minimal).
    #[arg(long = "mu-b", allow_hyphen_values = true)]
    mu_b: Option<f64>,
    /// Law of W: gaussian or orthogonal.
    #[arg(long, value_parser = parse_weights, default_value = "gaussian")]
    weights: WeightLaw,
    /// A cell is trainable when its mean score, (accuracy − chance)/(1 − chance), reaches this.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Run only the cells whose index is i mod n (`i/n`, 0 ≤ i < n).
    #[arg(long)]
    shard: Option<String>,
    /// The grid file (JSON lines): a new path, or this grid's earlier file to resume.
    #[arg(long)]
    out: PathBuf,
    /// Print the plan and the cost estimate, run nothing.
    #[arg(long = "dry-run")]
    dry_run: bool,
}

/// Parses `lo:hi:n` or a comma list of numbers.
pub(crate) fn parse_values(text: &str) -> Result<Vec<f64>> {
    let bad = |reason: &str| Error::Parse {
        what: "values (lo:hi:n or a list a,b,c)",
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("empty (the grid needs at least one value)"));
    }
    if t.contains(':') {
        let parts: Vec<&str> = t.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("expected three parts lo:hi:n"));
        }
        let lo: f64 = parts[0]
            .trim()
            .parse()
            .map_err(|_| bad("lo is not a number"))?;
        let hi: f64 = parts[1]
            .trim()
            .parse()
            .map_err(|_| bad("hi is not a number"))?;
        let n: usize = parts[2]
            .trim()
            .parse()
            .map_err(|_| bad("n is not a whole number"))?;
        if n == 0 || n > tr::MAX_CELLS {
            return Err(bad("n must be 1 to 100 000"));
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(bad("lo and hi must be finite"));
        }
        if n == 1 {
            return Ok(vec![lo]);
        }
        return Ok((0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect());
    }
    t.split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad("not a number")))
        .collect()
}

fn parse_horizons(text: &str) -> Result<Vec<usize>> {
    let bad = |reason: &str| Error::Parse {
        what: "horizons (a list of whole numbers, e.g. 1,5,10)",
        input: text.to_string(),
        reason: reason.to_string(),
    };
    if text.trim().is_empty() {
        return Err(bad("empty (the grid needs at least one horizon)"));
    }
    text.split(',')
        .map(|p| super::count(p).map_err(|e| bad(&e)))
        .collect()
}

impl RunArgs {
    fn grid(&self) -> Result<GridSpec> {
        let cell = self.flags.cell()?;
        let minimal = cell.kind() == CellKind::Minimal;
        let axis = match self.axis {
            Some(AxisArg::SigmaW) => Axis::SigmaW,
            Some(AxisArg::MuB) => Axis::MuB,
            None if minimal => Axis::MuB,
            None => Axis::SigmaW,
        };
        Ok(GridSpec {
            cell,
            task: self.flags.grid_task(),
            axis,
            values: parse_values(&self.values)?,
            horizons: parse_horizons(&self.horizons)?,
            seeds: self.flags.seeds,
            first_seed: self.flags.seed,
            init: BaseInit {
                sigma_w: self.sigma_w,
                sigma_v: self.sigma_v,
                sigma_b: self.sigma_b,
                mu_b: self.mu_b.unwrap_or(if minimal { 4.0 } else { 0.0 }),
                weights: self.weights,
            },
            training: self.flags.training()?,
            threshold: self.threshold,
        })
    }
}

fn bar(total: u64, label: &str) -> ProgressBar {
    let b = ProgressBar::new(total.max(1));
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{label} {{bar:40}} {{percent}}%, {{elapsed}} elapsed, {{eta}} left"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

fn plan_text(p: &GridPlan, threads: usize) -> String {
    let e = p.estimate(threads);
    format!(
        "trainability grid: {} cells ({} values × {} horizons{}), {} seeds each; {} done, {} cells \
         = {} runs to go, {:.2e} floating-point operations (at most {} on {} threads at the \
         budget's 1 GFLOP/s per thread; typically 5–20× less), {} per run",
        p.grid.num_cells(),
        p.grid.values.len(),
        p.grid.horizons.len(),
        p.shard.map_or(String::new(), |s| format!(
            ", shard {}/{}",
            s.index, s.count
        )),
        p.grid.seeds,
        p.done,
        p.pending.len(),
        p.pending_runs(),
        p.flops,
        crate::budget::fmt_seconds(e.seconds()),
        threads,
        crate::budget::fmt_bytes(p.run_bytes)
    )
}

pub(crate) fn run(a: &TrainabilityArgs) -> Result<String> {
    match &a.cmd {
        TrainabilityCmd::Run(r) => run_grid(r),
        TrainabilityCmd::Merge(m) => run_merge(m),
        TrainabilityCmd::Analyze(x) => run_analyze(x),
        TrainabilityCmd::Curves(c) => run_curves(c),
    }
}

fn run_grid(a: &RunArgs) -> Result<String> {
    let grid = a.grid()?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let plan = GridPlan::new(&grid, shard, &a.out)?;
    let threads = a.flags.threads();
    let text = plan_text(&plan, threads);
    if a.dry_run {
        return Ok(text);
    }
    plan.estimate(threads).check()?;
    eprintln!("{text}");
    if plan.resume == Some(true) {
        eprintln!("(removing the incomplete last line of an interrupted run)");
    }
    let b = bar(plan.pending_steps(), "training");
    let file = a.flags.pool(|| plan.run(&|s| b.inc(s)))??;
    b.finish_and_clear();
    Ok(format!(
        "{}\n{} of {} cells of this {} in {}",
        table(&file),
        file.cells.len(),
        file.grid.num_cells(),
        if shard.is_some() {
            "shard's grid"
        } else {
            "grid"
        },
        a.out.display()
    ))
}

/// Mean accuracy (or score) per cell: rows T, columns the axis values.
fn table(f: &GridFile) -> String {
    let g = &f.grid;
    let mut s = String::new();
    let regression = g.task == GridTask::Adding;
    let _ = writeln!(
        s,
        "mean {} over {} seeds ({} cell, {}); * = trainable (mean score ≥ {}), d = runs diverged",
        if regression { "score" } else { "test accuracy" },
        g.seeds,
        g.cell.kind().as_str(),
        g.axis.symbol(),
        g.threshold
    );
    let _ = write!(s, "{:>8}", "T \\ ");
    for v in &g.values {
        let _ = write!(s, "{:>10}", format!("{v:.4}"));
    }
    s.push('\n');
    for it in g.horizon_order() {
        let _ = write!(s, "{:>8}", g.horizons[it]);
        for iv in 0..g.values.len() {
            let cell = f.cell(iv, it).map_or("-".to_string(), |c| {
                let v = c.mean_accuracy.unwrap_or(c.mean_score);
                format!(
                    "{:.3}{}{}",
                    v,
                    if c.trainable { "*" } else { " " },
                    if c.diverged > 0 { "d" } else { "" }
                )
            });
            let _ = write!(s, "{cell:>10}");
        }
        s.push('\n');
    }
    s.trim_end().to_string()
}

/// Arguments of `mfrnn trainability merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The grid files (shards) to combine.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The merged grid file (a new path, or an earlier grid file of mfrnn's).
    #[arg(long)]
    out: PathBuf,
    /// Allow missing cells.
    #[arg(long)]
    partial: bool,
}

fn run_merge(a: &MergeArgs) -> Result<String> {
    let files = a
        .inputs
        .iter()
        .map(|p| tr::read(p))
        .collect::<Result<Vec<_>>>()?;
    let merged = tr::merge(&files, a.partial)?;
    tr::write_merged(&merged, &a.out)?;
    Ok(format!(
        "merged {} files: {} of {} cells into {}",
        files.len(),
        merged.cells.len(),
        merged.grid.num_cells(),
        a.out.display()
    ))
}

/// Arguments of `mfrnn trainability analyze`.
#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// The grid file (merged, or any part).
    file: PathBuf,
    /// Write the phase diagram with the fitted k·ξ lines here (.svg).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Which theory's candidate timescales to test: the factorised mean-field theory (fast),
    /// the exact tied-weight theory at stationarity (sampled: one stationary solve per grid
    /// value, seconds to a minute each), or both.
    #[arg(long, value_enum, default_value_t = TheoryChoice::Factorised)]
    theory: TheoryChoice,
    #[command(flatten)]
    exact: super::exact::ExactArgs,
}

/// `trainability analyze --theory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TheoryChoice {
    /// The factorised mean-field theory.
    Factorised,
    /// The exact tied-weight, frozen-bias theory at stationarity.
    Exact,
    /// Both.
    Both,
}

fn run_analyze(a: &AnalyzeArgs) -> Result<String> {
    if let Some(p) = &a.svg {
        FileFormat::of(p, &[FileFormat::Svg], "svg")?;
        output::check_file(p, "trainability", "svg")?;
    }
    let file = tr::read(&a.file)?;
    let exact_wanted = a.theory != TheoryChoice::Factorised;
    if exact_wanted {
        if a.exact.untied || a.exact.fresh_bias {
            return Err(Error::Unsupported(
                "the trained networks have tied weights and a frozen bias: --untied and \
                 --fresh-bias do not describe them"
                    .into(),
            ));
        }
    } else {
        super::refuse_given(
            super::exact::EXACT_FLAGS,
            "to the factorised theory's timescales (it samples nothing); use --theory exact or both",
        )?;
    }
    let bar = if exact_wanted {
        let b = ProgressBar::new(file.grid.values.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "exact theory {bar:40} {pos}/{len} grid values, {eta} left",
            )
            .expect("valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let tick = |n: usize| bar.set_position(n as u64);
    let exact = tr::Exact {
        settings: a.exact.settings()?,
        progress: &tick,
    };
    let sources: Vec<&dyn TimescaleSource> = match a.theory {
        TheoryChoice::Factorised => vec![&Factorised],
        TheoryChoice::Exact => vec![&exact],
        TheoryChoice::Both => vec![&Factorised, &exact],
    };
    let an = tr::analyze(&file, &sources)?;
    bar.finish_and_clear();
    if let Some(p) = &a.svg {
        let svg = phase_svg(&file, &an);
        output::write_file(
            p,
            &output::sign(&svg, "trainability", FileFormat::Svg),
            "svg",
        )?;
    }
    if a.json {
        return Ok(serde_json::to_string_pretty(&an).expect("serialisable"));
    }
    Ok(format!("{}\n{}", table(&file), analysis_text(&file, &an)))
}

/// The separation table as text.
pub(crate) fn analysis_text(f: &GridFile, an: &GridAnalysis) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} cells, {} trainable (mean score ≥ {}); fraction of cells on the right side of each rule:",
        an.cells, an.trainable, an.threshold
    );
    let row = |s: &mut String, sep: &tr::Separation, extra: &str| {
        let _ = writeln!(
            s,
            "  {:<44} {:>6.3}  ({}/{}{}){}",
            sep.rule,
            sep.fraction,
            sep.correct,
            sep.total,
            if sep.undefined > 0 {
                format!(", {} undefined", sep.undefined)
            } else {
                String::new()
            },
            extra
        );
    };
    row(&mut s, &an.constant, "");
    row(
        &mut s,
        &an.trivial,
        &an.trivial
            .k
            .map_or(String::new(), |k| format!("  T₀ = {k:.3}")),
    );
    row(&mut s, &an.ceiling, "  (ceiling of any T ≤ f(value) rule)");
    for (c, sep) in &an.candidates {
        let xi: Vec<String> =
            c.xi.iter()
                .map(|x| match x {
                    Xi::Finite(v) => format!("{v:.3}"),
                    Xi::Infinite => "∞".into(),
                    Xi::Undefined => "-".into(),
                })
                .collect();
        row(
            &mut s,
            sep,
            &format!(
                "  k = {}{}; ξ = [{}]",
                sep.k.map_or("-".into(), |k| format!("{k:.3}")),
                if c.matches_task {
                    " (matches the task)"
                } else {
                    ""
                },
                xi.join(", ")
            ),
        );
    }
    let _ = write!(s, "({} axis: {:?})", f.grid.axis.symbol(), f.grid.values);
    s
}

/// The grid as coloured cells (mean score) with the fitted lines `T = k ξ(value)` of the four
/// best candidates and the trivial `T = T₀`.
pub(crate) fn phase_svg(f: &GridFile, an: &GridAnalysis) -> String {
    let g = &f.grid;
    let (w, h) = (980.0, 520.0);
    let (px, py, pw, ph) = (80.0, 50.0, 520.0, 400.0);
    let nv = g.values.len();
    let rows = g.horizon_order();
    let nt = rows.len();
    let (cw, rh) = (pw / nv as f64, ph / nt as f64);
    let row_y = |r: usize| py + ph - (r as f64 + 0.5) * rh;
    let sorted_t: Vec<f64> = rows.iter().map(|&i| g.horizons[i] as f64).collect();
    // y of a continuous T: linear in log T between the row centres, clamped to the plot.
    let y_of = |t: f64| -> f64 {
        if nt == 1 || !t.is_finite() {
            return if t.is_finite() { row_y(0) } else { py };
        }
        let lt = t.max(1e-9).log10();
        let seg = (0..nt - 1)
            .find(|&j| lt <= sorted_t[j + 1].log10())
            .unwrap_or(nt - 2);
        let (a, b) = (sorted_t[seg].log10(), sorted_t[seg + 1].log10());
        let frac = (lt - a) / (b - a);
        (row_y(seg) + frac * (row_y(seg + 1) - row_y(seg))).clamp(py, py + ph)
    };
    let mut s = svg::begin(w, h, 12, false);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="14">{}</text>"#,
        px + pw / 2.0,
        svg::esc(&format!(
            "Trainability: {} cell, {} task, {} steps, N = {}, {} seeds",
            g.cell.kind().as_str(),
            match g.task {
                GridTask::Digits { .. } => "digits",
                GridTask::Recall { .. } => "recall",
                GridTask::Copy => "copy",
                GridTask::Adding => "adding",
            },
            g.training.steps,
            g.training.width,
            g.seeds
        ))
    );
    for (r, &it) in rows.iter().enumerate() {
        for iv in 0..nv {
            let (x, y) = (px + iv as f64 * cw, py + ph - (r as f64 + 1.0) * rh);
            match f.cell(iv, it) {
                Some(c) => {
                    let [cr, cg, cb] = svg::colour(c.mean_score);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{rh:.1}" fill="rgb({cr},{cg},{cb})" stroke="{}" stroke-width="{}"/>"#,
                        if c.trainable { "black" } else { "white" },
                        if c.trainable { 2 } else { 1 }
                    );
                    let v = c.mean_accuracy.unwrap_or(c.mean_score);
                    let _ = writeln!(
                        s,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{}" font-size="11">{:.2}{}</text>"#,
                        x + cw / 2.0,
                        y + rh / 2.0 + 4.0,
                        if c.mean_score > 0.6 { "black" } else { "white" },
                        v,
                        if c.diverged > 0 { "d" } else { "" }
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        r##"<rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{rh:.1}" fill="#dddddd" stroke="white"/>"##
                    );
                }
            }
        }
    }
    for iv in 0..nv {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            px + (iv as f64 + 0.5) * cw,
            py + ph + 18.0,
            crate::error::fmt_num((g.values[iv] * 1e4).round() / 1e4)
        );
    }
    for (r, &it) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            px - 8.0,
            row_y(r) + 4.0,
            g.horizons[it]
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        px + pw / 2.0,
        py + ph + 40.0,
        g.axis.symbol()
    );
    let _ = writeln!(
        s,
        r#"<text x="24" y="{:.1}" text-anchor="middle" transform="rotate(-90 24 {:.1})">horizon T (log scale between rows)</text>"#,
        py + ph / 2.0,
        py + ph / 2.0
    );
    // Lines: the trivial rule, then the four best candidates.
    let mut lines: Vec<(String, Vec<Option<f64>>, bool)> = Vec::new();
    if let Some(t0) = an.trivial.k {
        lines.push((
            format!("T = T₀ = {t0:.2}: {:.2}", an.trivial.fraction),
            vec![Some(t0); nv],
            true,
        ));
    }
    for (c, sep) in an.ranked().into_iter().take(4) {
        let Some(k) = sep.k else { continue };
        let ts = c.line(k);
        lines.push((
            format!("T = {k:.2}·{} ({}): {:.2}", c.name, c.theory, sep.fraction),
            ts,
            false,
        ));
    }
    for (j, (label, ts, dashed)) in lines.iter().enumerate() {
        let colour = svg::PALETTE[j % svg::PALETTE.len()];
        let mut path = String::new();
        let mut pen = false;
        for (iv, t) in ts.iter().enumerate() {
            match t {
                Some(t) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen { "L" } else { "M" },
                        px + (iv as f64 + 0.5) * cw,
                        y_of(*t)
                    );
                    pen = true;
                }
                None => pen = false,
            }
        }
        let _ = writeln!(
            s,
            r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{}/>"#,
            if *dashed {
                r#" stroke-dasharray="6,4""#
            } else {
                ""
            }
        );
        let ly = py + 10.0 + 20.0 * j as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2.5"{}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            px + pw + 20.0,
            px + pw + 45.0,
            if *dashed {
                r#" stroke-dasharray="6,4""#
            } else {
                ""
            },
            px + pw + 52.0,
            ly + 4.0,
            svg::esc(label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="11">colour: mean score; number: mean accuracy;</text><text x="{:.1}" y="{:.1}" font-size="11">black frame: trainable (score ≥ {}); legend: fraction of</text><text x="{:.1}" y="{:.1}" font-size="11">cells on the right side of each line (best k)</text>"#,
        px + pw + 20.0,
        py + 140.0,
        px + pw + 20.0,
        py + 156.0,
        an.threshold,
        px + pw + 20.0,
        py + 172.0
    );
    s.push_str("</svg>\n");
    s
}

/// Arguments of `mfrnn trainability curves`.
#[derive(Debug, Args)]
pub(crate) struct CurvesArgs {
    #[command(flatten)]
    flags: TrainFlags,
    /// The horizon T.
    #[arg(long, default_value_t = 100, value_parser = super::count)]
    padding: usize,
    /// Evaluate every this many steps.
    #[arg(long = "eval-every", default_value_t = 50, value_parser = super::count)]
    eval_every: usize,
    /// q* of the critical initialization (default 0.05 vanilla, 16 minimal).
    #[arg(long = "q-star")]
    q_star: Option<f64>,
    /// μ_b of the critical initialization (default 0 vanilla, 4 minimal).
    #[arg(long = "mu-b", allow_hyphen_values = true)]
    mu_b: Option<f64>,
    /// σ_v given to the critical initialization (σ_b solved for; needed by vanilla with zero
    /// padding).
    #[arg(long = "sigma-v")]
    sigma_v: Option<f64>,
    /// Write the figure (accuracy and loss against step) here (.svg).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Print JSON (the curves with their standard errors).
    #[arg(long)]
    json: bool,
}

fn run_curves(a: &CurvesArgs) -> Result<String> {
    if let Some(p) = &a.svg {
        FileFormat::of(p, &[FileFormat::Svg], "svg")?;
        output::check_file(p, "curves", "svg")?;
    }
    let cell = a.flags.cell()?;
    let task = a.flags.grid_task().at(a.padding);
    let training = a.flags.training()?;
    let mut target = CriticalTarget::default_for(&cell);
    if let Some(q) = a.q_star {
        target.q_star = q;
    }
    if let Some(m) = a.mu_b {
        target.mu_b = m;
    }
    target.sigma_v = a.sigma_v;
    let spec = CurveSpec {
        inits: curves::standard_inits(&cell, task, &training, target)?,
        cell,
        task,
        training,
        eval_every: a.eval_every,
        seeds: a.flags.seeds,
        first_seed: a.flags.seed,
    };
    let (flops, bytes) = spec.validate()?;
    let threads = a.flags.threads();
    crate::budget::Estimate::new("the learning curves")
        .memory("width", spec.training.width as f64, bytes * threads as f64)
        .ops("steps", spec.training.steps as f64, flops, threads)
        .check()?;
    eprintln!(
        "learning curves: {} initializations × {} seeds, {:.2e} floating-point operations",
        spec.inits.len(),
        spec.seeds,
        flops
    );
    let total = (spec.inits.len() * spec.seeds * spec.training.steps) as u64;
    let b = bar(total, "training");
    let res = a
        .flags
        .pool(|| curves::learning_curves(&spec, &|s| b.inc(s)))??;
    b.finish_and_clear();
    if let Some(p) = &a.svg {
        output::write_file(
            p,
            &output::sign(&curves_svg(&res), "curves", FileFormat::Svg),
            "svg",
        )?;
    }
    if a.json {
        return Ok(serde_json::to_string_pretty(&res).expect("serialisable"));
    }
    Ok(curves_text(&res))
}

/// The final accuracy and loss of each initialization.
pub(crate) fn curves_text(r: &CurveResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} cell, {:?}, N = {}, {} steps, {} seeds; chance accuracy {}, baseline loss {:.4}",
        r.spec.cell.kind().as_str(),
        r.spec.task,
        r.spec.training.width,
        r.spec.training.steps,
        r.spec.seeds,
        r.baseline_accuracy
            .map_or("-".into(), |a| format!("{a:.3}")),
        r.baseline_loss
    );
    let _ = writeln!(
        s,
        "  {:<24} {:>30} {:>16} {:>18} {:>9}",
        "initialization", "σ_w, σ_v, σ_b, μ_b", "final accuracy", "final loss", "diverged"
    );
    let pm = |m: Option<f64>, se: Option<f64>| match (m, se) {
        (Some(m), Some(se)) => format!("{m:.3} ± {se:.3}"),
        (Some(m), None) => format!("{m:.3}"),
        _ => "-".into(),
    };
    for c in &r.series {
        let last = c.steps.len() - 1;
        let _ = writeln!(
            s,
            "  {:<24} {:>30} {:>16} {:>18} {:>9}",
            c.label,
            c.scales.map_or("-".into(), |[a, b, cc, d]| format!(
                "{a:.3}, {b:.3}, {cc:.3}, {d:.2}"
            )),
            pm(c.accuracy[last], c.accuracy_se[last]),
            pm(c.loss[last], c.loss_se[last]),
            c.diverged_at.len()
        );
    }
    s.trim_end().to_string()
}

/// Two stacked line charts: test accuracy and test loss against step, mean ± 2 SE.
pub(crate) fn curves_svg(r: &CurveResult) -> String {
    let mut xs: Vec<Vec<f64>> = Vec::new();
    let mut acc: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let mut loss: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for c in &r.series {
        let keep: Vec<usize> = (0..c.steps.len())
            .filter(|&i| c.loss[i].is_some())
            .collect();
        xs.push(keep.iter().map(|&i| c.steps[i] as f64).collect());
        acc.push((
            keep.iter()
                .map(|&i| c.accuracy[i].unwrap_or(f64::NAN))
                .collect(),
            keep.iter()
                .map(|&i| c.accuracy_se[i].unwrap_or(0.0))
                .collect(),
        ));
        loss.push((
            keep.iter()
                .map(|&i| c.loss[i].unwrap_or(f64::NAN))
                .collect(),
            keep.iter().map(|&i| c.loss_se[i].unwrap_or(0.0)).collect(),
        ));
    }
    fn mk<'a>(
        r: &CurveResult,
        xs: &'a [Vec<f64>],
        data: &'a [(Vec<f64>, Vec<f64>)],
    ) -> Vec<svg::Series<'a>> {
        r.series
            .iter()
            .enumerate()
            .map(|(j, c)| svg::Series {
                name: c.label.clone(),
                x: &xs[j],
                y: &data[j].0,
                err: Some(&data[j].1),
                colour: if j < 7 { svg::PALETTE[j] } else { "#888888" },
                dashed: j >= 7,
                marker: svg::MARKERS[j % svg::MARKERS.len()],
            })
            .collect()
    }
    let title = format!(
        "{} cell, {:?}, N = {}, {} seeds (mean ± 2 SE)",
        r.spec.cell.kind().as_str(),
        r.spec.task,
        r.spec.training.width,
        r.spec.seeds
    );
    let top = svg::line_chart(
        &title,
        "training step",
        "test accuracy",
        &mk(r, &xs, &acc),
        "",
    );
    let bottom = svg::line_chart("", "training step", "test loss", &mk(r, &xs, &loss), "");
    let inner = |s: &str, y: f64| s.replacen("<svg ", &format!("<svg y=\"{y}\" "), 1);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"960\" viewBox=\"0 0 900 960\">\n{}{}</svg>\n",
        inner(&top, 0.0),
        inner(&bottom, 480.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse() {
        assert_eq!(parse_values("0:1:3").unwrap(), vec![0.0, 0.5, 1.0]);
        assert_eq!(parse_values("1, 2.5").unwrap(), vec![1.0, 2.5]);
        assert_eq!(parse_values("2:3:1").unwrap(), vec![2.0]);
        for bad in ["", "1:2", "a,b", "0:1:0", "nan:1:2"] {
            assert!(parse_values(bad).is_err(), "{bad}");
        }
        assert!(parse_horizons("").is_err() && parse_horizons("1,x").is_err());
        assert_eq!(parse_horizons("1,1e1").unwrap(), vec![1, 10]);
    }
}
