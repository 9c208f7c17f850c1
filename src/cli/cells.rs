//! `fixed-point` and `trajectory`: mean-field theory of a cell from the command line.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};

use crate::activation::Builtin;
use crate::cells::RhoSchedule;
use crate::cells::vanilla::{Analysis, Vanilla, VanillaParams};
use crate::error::{Error, Result};

/// Which recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Cell {
    /// `h = φ(W h + V x + b)`.
    Vanilla,
    /// The gated minimalRNN.
    Minimal,
}

/// Which theory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TheoryKind {
    /// The factorised mean-field recursion.
    MeanField,
    /// The exact infinite-width theory of the tied-weight network.
    Exact,
}

/// Cell and hyper-parameters shared by the theory commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct CellArgs {
    /// The recurrent cell.
    #[arg(long, value_enum, default_value = "vanilla")]
    pub cell: Cell,
    /// Activation (vanilla cell): tanh, erf, relu, linear, hard_tanh, sigmoid, softplus.
    #[arg(long)]
    pub phi: Option<String>,
    /// Recurrent weight scale σ_w.
    #[arg(long = "sigma-w", allow_hyphen_values = true)]
    pub sigma_w: f64,
    /// Input weight scale σ_v.
    #[arg(long = "sigma-v", allow_hyphen_values = true)]
    pub sigma_v: f64,
    /// Bias standard deviation σ_b.
    #[arg(long = "sigma-b", allow_hyphen_values = true)]
    pub sigma_b: f64,
    /// Bias mean μ_b.
    #[arg(long = "mu-b", default_value_t = 0.0, allow_hyphen_values = true)]
    pub mu_b: f64,
    /// Input second moment per coordinate R.
    #[arg(long = "r", allow_hyphen_values = true)]
    pub r: f64,
    /// Theory: the mean-field recursion or the exact tied-weight theory.
    #[arg(long, value_enum, default_value = "mean-field")]
    pub theory: TheoryKind,
}

impl CellArgs {
    pub(crate) fn vanilla(&self) -> Result<Vanilla> {
        match self.cell {
            Cell::Vanilla => {}
            Cell::Minimal => {
                return Err(Error::Unsupported(
                    "--cell minimal is not implemented yet (the minimalRNN theory is issue 4)"
                        .into(),
                ));
            }
        }
        if self.theory == TheoryKind::Exact {
            return Err(Error::Unsupported(
                "--theory exact is not implemented yet for the vanilla cell; its same-time \
                 statistics equal the mean-field ones (see theory/02-vanilla-rnn.md)"
                    .into(),
            ));
        }
        let phi = self.phi.as_deref().ok_or_else(|| Error::Parse {
            what: "arguments",
            input: "--cell vanilla".into(),
            reason: "--phi is required for the vanilla cell".into(),
        })?;
        let b = Builtin::from_name(phi)?;
        let p = VanillaParams::new(self.sigma_w, self.sigma_v, self.sigma_b, self.mu_b, self.r)?;
        Ok(Vanilla::with_builtin(b, p))
    }
}

/// Arguments of `mfrnn fixed-point`.
#[derive(Debug, Args)]
pub(crate) struct FixedPointArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Constant input correlation ρ of the two sequences.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub rho: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `mfrnn trajectory`.
#[derive(Debug, Args)]
pub(crate) struct TrajectoryArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Number of steps T (with a constant --rho, or checked against --rho-schedule).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Input-correlation schedule, comma-separated VALUExCOUNT runs (e.g. `0.3x1,1x49`).
    #[arg(long = "rho-schedule")]
    pub rho_schedule: Option<String>,
    /// Constant input correlation (when no schedule is given).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub rho: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Builds the ρ schedule from `--rho-schedule` / `--rho` / `--steps`.
pub(crate) fn schedule(
    rho_schedule: Option<&str>,
    rho: f64,
    steps: Option<usize>,
) -> Result<RhoSchedule> {
    let s = match rho_schedule {
        Some(text) => RhoSchedule::parse(text)?,
        None => RhoSchedule::constant(rho, steps.unwrap_or(50))?,
    };
    if let Some(n) = steps
        && n != s.len()
    {
        return Err(Error::invalid(
            "steps",
            n as f64,
            "equal to the length of --rho-schedule",
        ));
    }
    if steps == Some(0) {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    Ok(s)
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "inf".to_string(), |v| format!("{v:.10}"))
}

pub(crate) fn run_fixed_point(a: &FixedPointArgs) -> Result<String> {
    let v = a.cell.vanilla()?;
    if !(-1.0..=1.0).contains(&a.rho) || a.rho.is_nan() {
        return Err(Error::invalid("rho", a.rho, "a correlation in [-1, 1]"));
    }
    let an: Analysis = v.analyze(a.rho)?;
    if a.json {
        return Ok(serde_json::to_string_pretty(&an).expect("serialisable"));
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "vanilla RNN, φ = {}, σ_w = {}, σ_v = {}, σ_b = {}, μ_b = {}, R = {}, ρ = {}",
        v.activation().name(),
        v.params().sigma_w,
        v.params().sigma_v,
        v.params().sigma_b,
        v.params().mu_b,
        v.params().r,
        a.rho
    );
    let _ = writeln!(
        s,
        "  q*    = {:.12}   (Q* = {:.12})",
        an.q_star, an.big_q_star
    );
    let _ = writeln!(
        s,
        "  c*    = {}",
        an.c_star
            .map_or("undefined (q* = 0)".into(), |c| format!("{c:.12}"))
    );
    let _ = writeln!(s, "  χ_q   = {:.10}   ξ_q = {}", an.chi_q, fmt_opt(an.xi_q));
    let _ = writeln!(
        s,
        "  χ_c   = {}   ξ_c = {}",
        an.chi_c.map_or("-".into(), |c| format!("{c:.10}")),
        fmt_opt(an.xi_c)
    );
    let _ = writeln!(s, "  χ₁    = {:.10}   ξ₁  = {}", an.chi_1, fmt_opt(an.xi_1));
    let _ = writeln!(s, "  phase = {}", an.phase);
    let _ = writeln!(
        s,
        "  residual = {:.1e}, iterations = {}",
        an.residual, an.iterations
    );
    if an.variance_fixed_points.len() > 1 || an.correlation_fixed_points.len() > 1 {
        let _ = writeln!(s, "  all variance fixed points:");
        for f in &an.variance_fixed_points {
            let _ = writeln!(
                s,
                "    q = {:.12}  χ_q = {:.6}  {}{}",
                f.q,
                f.chi_q,
                if f.stable { "stable" } else { "unstable" },
                if f.reached_from_zero {
                    ", reached from h⁰ = 0"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(s, "  all correlation fixed points:");
        for f in &an.correlation_fixed_points {
            let _ = writeln!(
                s,
                "    c = {:.12}  χ_c = {:.6}  {}",
                f.c,
                f.chi_c,
                if f.stable { "stable" } else { "unstable" }
            );
        }
    }
    Ok(s.trim_end().to_string())
}

pub(crate) fn run_trajectory(a: &TrajectoryArgs) -> Result<String> {
    let v = a.cell.vanilla()?;
    let sched = schedule(a.rho_schedule.as_deref(), a.rho, a.steps)?;
    let tr = v.trajectory(&sched)?;
    if a.json {
        return Ok(serde_json::to_string_pretty(&tr).expect("serialisable"));
    }
    let mut s =
        String::from("    t            q            Q         q_ab            C            c\n");
    for i in 0..tr.t.len() {
        let _ = writeln!(
            s,
            "{:5} {:12.8} {:12.8} {:12.8} {:12.8} {:12.9}",
            tr.t[i], tr.q[i], tr.big_q[i], tr.q_ab[i], tr.big_c[i], tr.c[i]
        );
    }
    Ok(s.trim_end().to_string())
}
