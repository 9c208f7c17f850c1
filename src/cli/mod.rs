//! The `mfrnn` command-line tool (feature `cli`): a thin layer over library calls.

mod cells;
mod init;
mod report;
mod series;
mod sim_phase;
mod spectrum;
mod svg;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::activation::Builtin;
use crate::expect::{BivariateNormal, Expectation, Fun, Normal, expect, expect2};

/// Mean-field and random-matrix theory of signal propagation in RNNs.
#[derive(Debug, Parser)]
#[command(name = "mfrnn", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
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
            let what = if g.is_constant() && a.g.trim() == "one" {
                format!("E[{f}(u)], u ~ N({}, {})", a.mean, a.q)
            } else {
                format!("E[{f}(u)·{g}(u)], u ~ N({}, {})", a.mean, a.q)
            };
            (expect(&(&f * &g), &n)?, what)
        }
        Some(c) => {
            let b = BivariateNormal::equal(a.mean, a.q, c)?;
            (
                expect2(&f, &g, &b)?,
                format!(
                    "E[{f}(u)·{g}(v)], u, v ~ N({}, {}), corr {}",
                    a.mean, a.q, c
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

/// Parses the command line, runs the command, prints errors on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = match &cli.command {
        Command::Expect(a) => run_expect(a).map_err(|e| e.to_string()),
        Command::FixedPoint(a) => cells::run_fixed_point(a).map_err(|e| e.to_string()),
        Command::Trajectory(a) => cells::run_trajectory(a).map_err(|e| e.to_string()),
        Command::Simulate(a) => sim_phase::run_simulate(a).map_err(|e| e.to_string()),
        Command::Phase(a) => sim_phase::run_phase(a).map_err(|e| e.to_string()),
        Command::Spectrum(a) => spectrum::run_spectrum(a).map_err(|e| e.to_string()),
        Command::Init(a) => init::run_init(a).map_err(|e| e.to_string()),
        Command::Series(a) => series::run_series(a).map_err(|e| e.to_string()),
        Command::Report(a) => report::run(a),
        Command::Train(a) => train::run_train(a).map_err(|e| e.to_string()),
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
