//! `simulate` and `phase`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::cells::{CellArgs, Theory, schedule};
use super::svg::{Heatmap, heatmap};
use crate::activation::Builtin;
use crate::cells::vanilla::VanillaParams;
use crate::error::{Error, Result};
use crate::output::{self, FileFormat};
use crate::phase::{self, Axis, Param, PhaseDiagram, Quantity};
use crate::sim::{SimConfig, Weights};

/// Weight distribution flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WeightsArg {
    /// `W_ij ~ N(0, σ_w²/N)`.
    Gaussian,
    /// `W = σ_w O`, `O` Haar orthogonal.
    Orthogonal,
}

/// Arguments of `mfrnn simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Hidden width N.
    #[arg(long, default_value_t = 1000, value_parser = super::count, allow_hyphen_values = true)]
    pub width: usize,
    /// Number of steps T (with a constant --rho, or checked against --rho-schedule).
    #[arg(long, value_parser = super::count, allow_hyphen_values = true)]
    pub steps: Option<usize>,
    /// Input-correlation schedule, comma-separated VALUExCOUNT runs.
    #[arg(
        long = "rho-schedule",
        allow_hyphen_values = true,
        conflicts_with = "rho"
    )]
    pub rho_schedule: Option<String>,
    /// Constant input correlation (when no schedule is given).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub rho: f64,
    /// Independent networks.
    #[arg(long, default_value_t = 8, value_parser = super::count, allow_hyphen_values = true)]
    pub seeds: usize,
    /// Sequence pairs per network.
    #[arg(long, default_value_t = 16, value_parser = super::count, allow_hyphen_values = true)]
    pub batch: usize,
    /// Recurrent weight distribution.
    #[arg(long, value_enum, ignore_case = true, default_value = "gaussian")]
    pub weights: WeightsArg,
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
    if a.cell.theory == super::cells::TheoryKind::Exact || super::given("theory") {
        return Err(Error::Unsupported(
            "--theory does not apply to simulate (it runs real networks)".into(),
        ));
    }
    let theory = a.cell.theory()?;
    let sched = schedule(a.rho_schedule.as_deref(), a.rho, a.steps)?;
    let cfg = SimConfig::new(a.width, a.batch, a.seeds, a.seed)?
        .tied(!a.untied)
        .fresh_bias(a.fresh_bias)
        .weights(match a.weights {
            WeightsArg::Gaussian => Weights::Gaussian,
            WeightsArg::Orthogonal => Weights::Orthogonal,
        });
    let t = sched.len();
    cfg.estimate(t)
        .memory(
            "steps",
            t as f64,
            11.0 * super::cells::OUTPUT_BYTES_PER_NUMBER * t as f64,
        )
        .check()?;
    let total = (a.seeds as u64).saturating_mul(t as u64);
    let (tr, name) = match theory {
        Theory::Vanilla(v) => (
            super::follow("simulate", total, || {
                crate::sim::vanilla::simulate(&v, &sched, &cfg)
            })?,
            format!("vanilla RNN, φ = {}", v.activation().name()),
        ),
        Theory::Minimal(m) => (
            super::follow("simulate", total, || {
                crate::sim::minimal::simulate(&m, &sched, &cfg)
            })?,
            "minimalRNN".to_string(),
        ),
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
            WeightsArg::Gaussian => "Gaussian",
            WeightsArg::Orthogonal => "orthogonal",
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
    /// The recurrent cell.
    #[arg(long, value_enum, ignore_case = true, default_value = "vanilla")]
    pub cell: super::cells::Cell,
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
    #[arg(long, value_enum, ignore_case = true, default_value = "mean-field")]
    pub theory: super::cells::TheoryKind,
    #[command(flatten)]
    pub exact: super::exact::PhaseExactArgs,
}

/// SVG heatmap of a phase diagram with the critical line.
pub(crate) fn phase_svg(d: &PhaseDiagram) -> String {
    let crit: Vec<Vec<Option<f64>>> = d
        .chi_1
        .iter()
        .map(|r| r.iter().map(|c| c.map(|c| c - 1.0)).collect())
        .collect();
    let title = if d.cell == "minimal" {
        format!(
            "{} — minimalRNN (factorised mean field)",
            d.quantity.as_str()
        )
    } else {
        format!("{} — vanilla {} RNN", d.quantity.as_str(), d.activation)
    };
    let mut fixed = Vec::new();
    for (p, v) in [
        (Param::SigmaW, d.base.sigma_w),
        (Param::SigmaV, d.base.sigma_v),
        (Param::SigmaB, d.base.sigma_b),
        (Param::MuB, d.base.mu_b),
        (Param::R, d.base.r),
        (Param::Rho, d.rho),
    ] {
        if p != d.x.param && p != d.y.param {
            fixed.push(format!("{} = {}", p.symbol(), v));
        }
    }
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
    let minimal = a.cell == super::cells::Cell::Minimal;
    let act = if minimal {
        if a.phi.is_some() {
            return Err(Error::Unsupported(
                "--phi does not apply to --cell minimal (its gate is the logistic sigmoid)".into(),
            ));
        }
        Builtin::Sigmoid.arc()
    } else {
        let phi = a.phi.as_deref().ok_or_else(|| Error::Parse {
            what: "arguments",
            input: "--cell vanilla".into(),
            reason: "--phi is required for the vanilla cell".into(),
        })?;
        Builtin::from_name(phi)?.arc()
    };
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
    if a.theory == super::cells::TheoryKind::Exact {
        return super::exact::run_phase(a);
    }
    super::refuse_given(
        super::exact::EXACT_FLAGS,
        "to the mean-field phase diagram (it samples nothing); use --theory exact",
    )?;
    let quantity = Quantity::from_name(&a.quantity)?;
    let base = VanillaParams::new(a.sigma_w, a.sigma_v, a.sigma_b, a.mu_b, a.r)?;
    // The output contract (crate::output), checked before any work.
    let format = FileFormat::of(
        &a.out,
        &[FileFormat::Svg, FileFormat::Csv, FileFormat::Json],
        "out",
    )?;
    output::check_file(&a.out, "phase", "out")?;
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
    let bar = if total >= 2000 {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} points, {eta} left")
                .expect("valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let started = std::time::Instant::now();
    let tick = |n: usize| bar.set_position(n as u64);
    let d = if minimal {
        phase::minimal(base, a.rho, x, y, quantity, &tick)?
    } else {
        phase::vanilla(&act, base, a.rho, x, y, quantity, &tick)?
    };
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
