//! The `mfrnn` command-line tool (feature `cli`): a thin layer over library calls.

mod cells;
mod exact;
mod init;
mod report;
mod series;
mod sim_phase;
mod spectrum;
mod svg;
mod train;
mod trainability;

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::activation::Builtin;
use crate::error::fmt_num;
use crate::expect::{BivariateNormal, Expectation, Fun, Normal, expect, expect2};

/// Mean-field and random-matrix theory of signal propagation in RNNs.
#[derive(Debug, Parser)]
#[command(name = "mfrnn", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Memory limit for any command, e.g. 32G, 512M (default: half the available memory).
    /// Sizes whose estimated memory exceeds it are refused before anything is allocated.
    #[arg(
        long = "max-memory",
        global = true,
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    max_memory: Option<String>,
    /// Limit on the estimated computation time, e.g. 90s, 30m, 48h, 7d, inf (default 24h).
    #[arg(
        long = "max-time",
        global = true,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    max_time: Option<String>,
}

/// The flags the user gave explicitly (argument ids of the subcommand), for the checks that
/// refuse conflicting flags and flags that do not apply.
static GIVEN: OnceLock<HashSet<String>> = OnceLock::new();

/// Whether the flag with argument id `id` (the field name, e.g. `burn_in`) was given on the
/// command line (not taken from its default).
pub(crate) fn given(id: &str) -> bool {
    GIVEN.get().is_some_and(|g| g.contains(id))
}

/// An error for a flag given where it has no effect.
pub(crate) fn not_applicable(flag: &str, why: &str) -> crate::Error {
    crate::Error::Unsupported(format!("{flag} does not apply {why}"))
}

/// Refuses each of `flags` (argument id, flag) that was given, saying why it does not apply.
pub(crate) fn refuse_given(flags: &[(&str, &str)], why: &str) -> crate::Result<()> {
    for (id, flag) in flags {
        if given(id) {
            return Err(not_applicable(flag, why));
        }
    }
    Ok(())
}

/// A count flag (width, steps, points, ...): a whole number, also in scientific notation
/// (`1e6`); refused with a message naming the flag when negative, fractional or beyond
/// what a count can hold.
pub(crate) fn count(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<usize>() {
        return Ok(n);
    }
    let x: f64 = t
        .parse()
        .map_err(|_| "expected a whole number such as 1000 or 1e6".to_string())?;
    if !(x >= 0.0 && x.fract() == 0.0) {
        return Err("expected a whole number >= 0, such as 1000 or 1e6".into());
    }
    if x >= usize::MAX as f64 {
        return Err(format!(
            "{} is too large for a count (at most {})",
            crate::error::fmt_num(x),
            crate::error::fmt_num(usize::MAX as f64)
        ));
    }
    Ok(x as usize)
}

/// Runs `f` while a progress bar on stderr (shown only on a terminal, and only once the
/// work has taken more than a second) follows the library's work counter
/// ([`crate::budget::progress`]) up to `total` units.
pub(crate) fn follow<T>(label: &str, total: u64, f: impl FnOnce() -> T) -> T {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    crate::budget::reset_progress();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            let start = Instant::now();
            let mut bar: Option<ProgressBar> = None;
            while !done.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_millis(200));
                if bar.is_none() && start.elapsed() > Duration::from_secs(1) {
                    let b = ProgressBar::new(total.max(1));
                    b.set_style(
                        ProgressStyle::with_template(&format!(
                            "{label} {{bar:40}} {{percent}}%, {{elapsed}} elapsed, {{eta}} left"
                        ))
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar = Some(b);
                }
                if let Some(b) = &bar {
                    b.set_position(crate::budget::progress().min(total));
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        ticker.thread().unpark();
        out
    })
}

/// `x` with `decimals` decimals when moderate, in scientific notation when huge or tiny (so
/// that 1e38 does not print as 39 digits).
pub(crate) fn fmt_fixed(x: f64, decimals: usize) -> String {
    if x == 0.0 || !x.is_finite() || (1e-3..1e9).contains(&x.abs()) {
        format!("{x:.decimals$}")
    } else {
        format!("{x:.decimals$e}")
    }
}

/// A clap error on one line (`error: ...`), without the usage block.
fn one_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        || e.kind() == clap::error::ErrorKind::MissingSubcommand
    {
        return "error: missing a command (expect, fixed-point, trajectory, simulate, phase, \
                spectrum, series, init, report, train, trainability); see `mfrnn --help`"
            .into();
    }
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let mut line = parts.join("; ");
    if !line.starts_with("error:") {
        line = format!("error: {line}");
    }
    line.replace(":;", ":")
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Gaussian expectation E[f(u) g(u)] (1-D) or E[f(u) g(v)] at correlation c (2-D).
    Expect(ExpectArgs),
    /// Fixed points, slopes χ, timescales ξ and phase of a cell (constant ρ).
    FixedPoint(cells::FixedPointArgs),
    /// Mean-field trajectory of two sequences under an input-correlation schedule.
    Trajectory(cells::TrajectoryArgs),
    /// Finite-width simulation of real networks: statistics with standard errors.
    Simulate(sim_phase::SimulateArgs),
    /// Phase diagram of a theory quantity over two parameters (.svg, .csv or .json).
    Phase(sim_phase::PhaseArgs),
    /// Singular-value spectrum of the T-step Jacobian (free probability; --simulate to compare).
    Spectrum(spectrum::SpectrumArgs),
    /// Small-variance expansions in q: E[φ²], E[φ'²], E[φ'⁴] and the critical line near q* = 0.
    Series(series::SeriesArgs),
    /// Critical initialization (χ₁ = 1 at a target q*), its predicted spectra, an inverse
    /// design for a horizon, and sampled weights as .npy files.
    Init(init::InitArgs),
    /// Run the analysis on built-in defaults and write a report directory.
    Report(report::ReportArgs),
    /// Train a cell by backpropagation through time on a task (digits, recall, copy, adding).
    Train(train::TrainArgs),
    /// Trainability grids over a hyper-parameter and the horizon T (run, merge, analyze) and
    /// learning curves of the critical initialization against the rest.
    Trainability(trainability::TrainabilityArgs),
}

/// Arguments of `mfrnn expect`.
#[derive(Debug, clap::Args)]
struct ExpectArgs {
    /// Activation: tanh, erf, relu, linear, hard_tanh, sigmoid, softplus.
    #[arg(long)]
    phi: String,
    /// First factor: one, phi, dphi, ddphi, or a product like `phi^2*dphi`.
    #[arg(long)]
    f: String,
    /// Second factor (same syntax); defaults to `one`.
    #[arg(long, default_value = "one")]
    g: String,
    /// Variance q of u (and of v).
    #[arg(long, allow_hyphen_values = true)]
    q: f64,
    /// Mean of u (and of v).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    mean: f64,
    /// Correlation of (u, v); without it, the 1-D expectation E[f(u) g(u)].
    #[arg(long, allow_hyphen_values = true)]
    c: Option<f64>,
    /// Print JSON instead of a human-readable line.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ExpectOut<'a> {
    value: f64,
    error_estimate: f64,
    method: &'a str,
    evaluations: usize,
}

fn run_expect(a: &ExpectArgs) -> crate::Result<String> {
    let act = Builtin::from_name(&a.phi)?.arc();
    let f = Fun::parse(&a.f, &act)?;
    let g = Fun::parse(&a.g, &act)?;
    let (e, what): (Expectation, String) = match a.c {
        None => {
            let n = Normal::new(a.mean, a.q)?;
            let (mean, q) = (fmt_num(a.mean), fmt_num(a.q));
            let what = if g.is_constant() && a.g.trim() == "one" {
                format!("E[{f}(u)], u ~ N({mean}, {q})")
            } else {
                format!("E[{f}(u)·{g}(u)], u ~ N({mean}, {q})")
            };
            (expect(&(&f * &g), &n)?, what)
        }
        Some(c) => {
            let b = BivariateNormal::equal(a.mean, a.q, c)?;
            (
                expect2(&f, &g, &b)?,
                format!(
                    "E[{f}(u)·{g}(v)], u, v ~ N({}, {}), corr {}",
                    fmt_num(a.mean),
                    fmt_num(a.q),
                    fmt_num(c)
                ),
            )
        }
    };
    Ok(if a.json {
        serde_json::to_string_pretty(&ExpectOut {
            value: e.value,
            error_estimate: e.error_estimate,
            method: e.method.as_str(),
            evaluations: e.evaluations,
        })
        .expect("serialisable")
    } else {
        format!(
            "{what} [{}]\n  = {:.17e}  ± {:.1e}  ({}, {} evaluations)",
            a.phi,
            e.value,
            e.error_estimate,
            e.method.as_str(),
            e.evaluations
        )
    })
}

/// Parses the command line, runs the command, prints errors on stderr (one line, exit
/// status 1, for bad input of any kind).
pub fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                e.exit();
            }
            eprintln!("{}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    // The flags given at every level of subcommands (`trainability analyze` is two deep).
    let mut ids = HashSet::new();
    let mut level = matches.subcommand();
    while let Some((_, sub)) = level {
        ids.extend(
            sub.ids()
                .filter(|id| sub.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| id.as_str().to_string()),
        );
        level = sub.subcommand();
    }
    let _ = GIVEN.set(ids);
    let limits = (|| -> crate::Result<()> {
        if let Some(m) = &cli.max_memory {
            crate::budget::set_memory_limit(Some(crate::budget::parse_memory(m)?))?;
        }
        if let Some(t) = &cli.max_time {
            crate::budget::set_time_limit(Some(crate::budget::parse_duration(t)?))?;
        }
        Ok(())
    })();
    if let Err(e) = limits {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let out = match &cli.command {
        Command::Expect(a) => run_expect(a).map_err(|e| e.to_string()),
        Command::FixedPoint(a) => cells::run_fixed_point(a).map_err(|e| e.to_string()),
        Command::Trajectory(a) => cells::run_trajectory(a).map_err(|e| e.to_string()),
        Command::Simulate(a) => sim_phase::run_simulate(a).map_err(|e| e.to_string()),
        Command::Phase(a) => sim_phase::run_phase(a).map_err(|e| e.to_string()),
        Command::Spectrum(a) => spectrum::run_spectrum(a).map_err(|e| e.to_string()),
        Command::Init(a) => init::run_init(a).map_err(|e| e.to_string()),
        Command::Series(a) => series::run_series(a).map_err(|e| e.to_string()),
        Command::Report(a) => report::run(a).map_err(|e| e.to_string()),
        Command::Train(a) => train::run_train(a).map_err(|e| e.to_string()),
        Command::Trainability(a) => trainability::run(a).map_err(|e| e.to_string()),
    };
    match out {
        Ok(s) => {
            if !s.is_empty() {
                use std::io::Write;
                // A closed pipe (`mfrnn ... | head`) is not an error of ours: stop quietly.
                let mut stdout = std::io::stdout().lock();
                if let Err(e) = writeln!(stdout, "{s}")
                    && e.kind() != std::io::ErrorKind::BrokenPipe
                {
                    eprintln!("error: writing output: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
