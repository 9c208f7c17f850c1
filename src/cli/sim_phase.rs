//! `simulate` and `phase`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::cells::{CellArgs, ScheduleArgs, parse_cell, parse_weights};
use super::svg::{Heatmap, heatmap};
use crate::cells::{Cell, CellKind, CellParams, Theory, WeightLaw};
use crate::error::{Error, Result};
use crate::output::{self, FileFormat};
use crate::phase::{self, Axis, Param, PhaseDiagram, Quantity};
use crate::sim::SimConfig;

/// Arguments of `mfrnn simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Hidden width N.
    #[arg(long, default_value_t = 1000, value_parser = super::count, allow_hyphen_values = true)]
    pub width: usize,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// Independent networks.
    #[arg(long, default_value_t = 8, value_parser = super::count, allow_hyphen_values = true)]
    pub seeds: usize,
    /// Sequence pairs per network.
    #[arg(long, default_value_t = 16, value_parser = super::count, allow_hyphen_values = true)]
    pub batch: usize,
    /// Recurrent weight distribution: gaussian or orthogonal.
    #[arg(long, value_parser = parse_weights, default_value = "gaussian")]
    pub weights: WeightLaw,
    /// Fresh weights at every step (the mean-field assumption) instead of tied weights.
    #[arg(long)]
    pub untied: bool,
    /// Redraw the bias every step instead of freezing it.
    #[arg(long = "fresh-bias")]
    pub fresh_bias: bool,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run_simulate(a: &SimulateArgs) -> Result<String> {
    if a.cell.theory == Theory::Exact || super::given("theory") {
        return Err(Error::Unsupported(
            "--theory does not apply to simulate (it runs real networks)".into(),
        ));
    }
    let cell = a.cell.cell()?;
    let p = a.cell.params()?;
    let sched = a.schedule.schedule()?;
    let cfg = SimConfig::builder()
        .width(a.width)
        .batch(a.batch)
        .seeds(a.seeds)
        .seed(a.seed)
        .tied(!a.untied)
        .fresh_bias(a.fresh_bias)
        .weights(a.weights)
        .build()?;
    let t = sched.len();
    cfg.estimate(t)
        .memory(
            "steps",
            t as f64,
            11.0 * super::cells::OUTPUT_BYTES_PER_NUMBER * t as f64,
        )
        .check()?;
    let total = (a.seeds as u64).saturating_mul(t as u64);
    let tr = super::follow("simulate", total, || {
        crate::sim::simulate(&cell, &p, &sched, &cfg)
    })?;
    let name = match &cell {
        Cell::Vanilla(act) => format!("vanilla RNN, φ = {}", act.name()),
        Cell::Minimal => "minimalRNN".to_string(),
    };
    if a.json {
        return Ok(serde_json::to_string_pretty(&tr).expect("serialisable"));
    }
    let mut s = format!(
        "{name}, width {}, {} seeds × {} pairs, {} {} weights{}\n    t   q ± se                 Q ± se                 c ± se\n",
        a.width,
        a.seeds,
        a.batch,
        if a.untied { "untied" } else { "tied" },
        match a.weights {
            WeightLaw::Gaussian => "Gaussian",
            WeightLaw::Orthogonal => "orthogonal",
        },
        if a.fresh_bias { ", fresh bias" } else { "" }
    );
    for i in 0..tr.t.len() {
        let _ = writeln!(
            s,
            "{:5}   {:.6} ± {:.6}   {:.6} ± {:.6}   {:.6} ± {:.6}",
            tr.t[i], tr.q[i], tr.q_se[i], tr.big_q[i], tr.big_q_se[i], tr.c[i], tr.c_se[i]
        );
    }
    Ok(s.trim_end().to_string())
}

/// Arguments of `mfrnn phase`.
#[derive(Debug, Args)]
pub(crate) struct PhaseArgs {
    /// The recurrent cell: vanilla or minimal.
    #[arg(long, value_parser = parse_cell, default_value = "vanilla")]
    pub cell: CellKind,
    /// Activation (vanilla cell).
    #[arg(long)]
    pub phi: Option<String>,
    /// Horizontal axis, NAME=LO:HI:N with NAME one of sigma-w, sigma-v, sigma-b, mu-b, r, rho.
    #[arg(long)]
    pub x: String,
    /// Vertical axis, same syntax.
    #[arg(long)]
    pub y: String,
    /// Quantity: q_star, Q_star, c_star, chi_q, chi_c, chi_1, xi_q, xi_c, xi_1.
    #[arg(long, default_value = "xi_c")]
    pub quantity: String,
    /// Fixed σ_w (when not an axis).
    #[arg(long = "sigma-w", default_value_t = 1.0, allow_hyphen_values = true)]
    pub sigma_w: f64,
    /// Fixed σ_v.
    #[arg(long = "sigma-v", default_value_t = 0.0, allow_hyphen_values = true)]
    pub sigma_v: f64,
    /// Fixed σ_b.
    #[arg(long = "sigma-b", default_value_t = 0.0, allow_hyphen_values = true)]
    pub sigma_b: f64,
    /// Fixed μ_b.
    #[arg(long = "mu-b", default_value_t = 0.0, allow_hyphen_values = true)]
    pub mu_b: f64,
    /// Fixed R.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub r: f64,
    /// Fixed input correlation ρ (1: identical inputs, the usual ξ_c setting).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub rho: f64,
    /// Output file: .svg (heatmap with the χ₁ = 1 line), .csv or .json. A new path (its
    /// parent must exist) or an earlier, unmodified `mfrnn phase` output; otherwise refused.
    #[arg(long)]
    pub out: PathBuf,
    /// Theory: the factorised mean-field recursion, or the exact theory of the tied-weight,
    /// frozen-bias network at stationarity (sampled: every point has a standard error).
    #[arg(long, value_parser = super::cells::parse_theory, default_value = "mean-field")]
    pub theory: crate::cells::Theory,
    #[command(flatten)]
    pub exact: super::exact::PhaseExactArgs,
}

impl PhaseArgs {
    /// The parameters of the point, those not on an axis being fixed at these values.
    pub(crate) fn base_params(&self) -> Result<CellParams> {
        CellParams::builder()
            .sigma_w(self.sigma_w)
            .sigma_v(self.sigma_v)
            .sigma_b(self.sigma_b)
            .mu_b(self.mu_b)
            .r(self.r)
            .build()
    }

    /// The format of `--out`, with the output contract ([`crate::output`]) checked before
    /// any work.
    pub(crate) fn output_format(&self) -> Result<FileFormat> {
        let format = FileFormat::of(
            &self.out,
            &[FileFormat::Svg, FileFormat::Csv, FileFormat::Json],
            "out",
        )?;
        output::check_file(&self.out, "phase", "out")?;
        Ok(format)
    }
}

/// A progress bar over the `total` points of a phase diagram, shown from `shown_from`
/// points on (hidden for a diagram that finishes at once).
pub(crate) fn points_bar(total: u64, shown_from: u64) -> ProgressBar {
    if total >= shown_from {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} points, {eta} left")
                .expect("valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    }
}

/// The parameters a phase diagram holds fixed (not on axis `x` or `y`), as `symbol = value`
/// for the note under its heatmap.
pub(crate) fn fixed_labels(base: &CellParams, rho: f64, x: &Axis, y: &Axis) -> Vec<String> {
    let mut fixed = Vec::new();
    for (p, v) in [
        (Param::SigmaW, base.sigma_w()),
        (Param::SigmaV, base.sigma_v()),
        (Param::SigmaB, base.sigma_b()),
        (Param::MuB, base.mu_b()),
        (Param::R, base.r()),
        (Param::Rho, rho),
    ] {
        if p != x.param && p != y.param {
            fixed.push(format!("{} = {}", p.symbol(), v));
        }
    }
    fixed
}

/// SVG heatmap of a phase diagram with the critical line.
pub(crate) fn phase_svg(d: &PhaseDiagram) -> String {
    let crit: Vec<Vec<Option<f64>>> = d
        .chi_1
        .iter()
        .map(|r| r.iter().map(|c| c.map(|c| c - 1.0)).collect())
        .collect();
    let title = match &d.cell {
        Cell::Minimal => format!(
            "{} — minimalRNN (factorised mean field)",
            d.quantity.as_str()
        ),
        Cell::Vanilla(act) => format!("{} — vanilla {} RNN", d.quantity.as_str(), act.name()),
    };
    let fixed = fixed_labels(&d.base, d.rho, &d.x, &d.y);
    heatmap(&Heatmap {
        title: &title,
        x_label: d.x.param.symbol(),
        y_label: d.y.param.symbol(),
        x_range: (d.x.lo, d.x.hi),
        y_range: (d.y.lo, d.y.hi),
        values: &d.values,
        log: d.quantity.is_timescale(),
        colour_label: d.quantity.as_str(),
        contour: Some((&crit, "χ₁ = 1")),
        note: &format!(
            "fixed: {}; generated by mfrnn {}",
            fixed.join(", "),
            env!("CARGO_PKG_VERSION")
        ),
    })
}

pub(crate) fn run_phase(a: &PhaseArgs) -> Result<String> {
    let cell = Cell::of_kind(a.cell, a.phi.as_deref())?;
    let x = Axis::parse(&a.x)?;
    let y = Axis::parse(&a.y)?;
    for axis in [&x, &y] {
        let (id, flag) = match axis.param {
            Param::SigmaW => ("sigma_w", "--sigma-w"),
            Param::SigmaV => ("sigma_v", "--sigma-v"),
            Param::SigmaB => ("sigma_b", "--sigma-b"),
            Param::MuB => ("mu_b", "--mu-b"),
            Param::R => ("r", "--r"),
            Param::Rho => ("rho", "--rho"),
        };
        if super::given(id) {
            return Err(Error::Unsupported(format!(
                "{flag} fixes a parameter that is also an axis ({}); drop one of them",
                axis.param.as_str()
            )));
        }
    }
    if a.theory == crate::cells::Theory::Exact {
        return super::exact::run_phase(a);
    }
    super::refuse_given(
        super::exact::EXACT_FLAGS,
        "to the mean-field phase diagram (it samples nothing); use --theory exact",
    )?;
    let quantity = Quantity::from_name(&a.quantity)?;
    let base = a.base_params()?;
    let format = a.output_format()?;
    let total = (x.n * y.n) as u64;
    // Per point: the two values kept, about 100 bytes of output (an SVG cell or a CSV row),
    // and a few fixed-point solves.
    let (axis, n) = if x.n >= y.n { ("x", x.n) } else { ("y", y.n) };
    crate::budget::Estimate::new("the phase diagram")
        .memory(axis, n as f64, 150.0 * total as f64)
        .ops(
            axis,
            n as f64,
            1e5 * total as f64,
            crate::budget::concurrency(y.n),
        )
        .check()?;
    let bar = points_bar(total, 2000);
    let started = std::time::Instant::now();
    let tick = |n: usize| bar.set_position(n as u64);
    let d = phase::diagram(&cell, base, a.rho, x, y, quantity, &tick)?;
    bar.finish_and_clear();
    let contents = match format {
        FileFormat::Svg => phase_svg(&d),
        FileFormat::Csv => d.to_csv(),
        FileFormat::Json => serde_json::to_string(&d).expect("serialisable"),
    };
    output::write_file(&a.out, &output::sign(&contents, "phase", format), "out")?;
    let mut msg = format!(
        "wrote {} ({} × {} points, {:.2} s)",
        a.out.display(),
        x.n,
        y.n,
        started.elapsed().as_secs_f64()
    );
    for (reason, n) in &d.failures {
        let _ = write!(msg, "\n  {n} points undefined: {reason}");
    }
    Ok(msg)
}
