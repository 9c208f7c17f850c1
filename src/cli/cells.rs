//! `fixed-point` and `trajectory`: mean-field theory of a cell from the command line.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};

use crate::cells::{
    Cell, CellKind, CellParams, FixedPoints, MeanField, Regime, RhoSchedule, Summary, Theory,
    WeightLaw,
};
use crate::error::{Error, Result, fmt_num};
use crate::exact::{self, ExactConfig};

/// `--cell` (any case): the library's [`CellKind`].
pub(crate) fn parse_cell(s: &str) -> std::result::Result<CellKind, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// `--theory` (any case): the library's [`Theory`].
pub(crate) fn parse_theory(s: &str) -> std::result::Result<Theory, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// `--weights` (any case): the library's [`WeightLaw`].
pub(crate) fn parse_weights(s: &str) -> std::result::Result<WeightLaw, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// Cell and hyper-parameters shared by the theory commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct CellArgs {
    /// The recurrent cell: vanilla or minimal.
    #[arg(long, value_parser = parse_cell, default_value = "vanilla")]
    pub cell: CellKind,
    /// Activation (vanilla cell only): tanh, erf, relu, linear, hard_tanh, sigmoid, softplus.
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
    /// Theory: mean-field (the factorised recursion) or exact (the theory of the tied-weight
    /// network: sampled unit process; adds `*_se`).
    #[arg(long, value_parser = parse_theory, default_value = "mean-field")]
    pub theory: Theory,
}

impl CellArgs {
    /// The cell (`--cell`, `--phi`).
    pub(crate) fn cell(&self) -> Result<Cell> {
        Cell::of_kind(self.cell, self.phi.as_deref())
    }

    /// The hyper-parameters, validated for the cell.
    pub(crate) fn params(&self) -> Result<CellParams> {
        let p = CellParams::builder()
            .sigma_w(self.sigma_w)
            .sigma_v(self.sigma_v)
            .sigma_b(self.sigma_b)
            .mu_b(self.mu_b)
            .r(self.r)
            .build()?;
        self.cell()?.validate(&p)?;
        Ok(p)
    }

    /// The cell, its parameters and its mean-field theory.
    pub(crate) fn mean_field(&self) -> Result<(Cell, CellParams, Box<dyn MeanField>)> {
        let cell = self.cell()?;
        let p = self.params()?;
        let mf = cell.mean_field(&p)?;
        Ok((cell, p, mf))
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
    #[command(flatten)]
    pub exact: super::exact::ExactArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `mfrnn trajectory`.
#[derive(Debug, Args)]
pub(crate) struct TrajectoryArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// Exact theory: number of sampled unit paths.
    #[arg(long, default_value_t = 40_000, value_parser = super::count, allow_hyphen_values = true)]
    pub units: usize,
    /// Exact theory: independent replicas (for the standard errors).
    #[arg(long, default_value_t = 8, value_parser = super::count, allow_hyphen_values = true)]
    pub replicas: usize,
    /// Exact theory: base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Exact theory for untied weights (fresh W, V every step).
    #[arg(long)]
    pub untied: bool,
    /// Exact theory with the bias redrawn every step.
    #[arg(long = "fresh-bias")]
    pub fresh_bias: bool,
    /// Exact theory: the sampler. `full`: both sequences, O(units·T²) time and T² memory;
    /// `banded`: minimalRNN with ρ = 0 only (then C = c = 0 exactly), O(units·T·W) with the
    /// band W following the decay of Q, variance-reduced — for long horizons; `auto`: banded
    /// where it applies and T > 100, else full.
    #[arg(long, value_enum, ignore_case = true, default_value = "auto")]
    pub sampler: SamplerKind,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The exact-theory sampler of `trajectory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SamplerKind {
    /// Banded where it applies and T > 100, else full.
    Auto,
    /// The two-sequence O(M T²) sampler (`exact::trajectory`).
    Full,
    /// The single-sequence banded sampler (`exact::stationary::transient`).
    Banded,
}

/// `trajectory --theory exact` with the banded sampler: JSON and text.
#[derive(serde::Serialize)]
struct BandedOutput<'a> {
    sampler: &'static str,
    #[serde(flatten)]
    trajectory: &'a crate::exact::stationary::transient::TransientTrajectory,
}

/// The input-correlation schedule of `trajectory` and `simulate`: `--steps` with a constant
/// `--rho`, or `--rho-schedule` (with `--steps` checked against its length).
#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    /// Number of steps T (with a constant --rho, or checked against --rho-schedule).
    #[arg(long, value_parser = super::count, allow_hyphen_values = true)]
    pub steps: Option<usize>,
    /// Input-correlation schedule, comma-separated VALUExCOUNT runs (e.g. `0.3x1,1x49`).
    #[arg(
        long = "rho-schedule",
        allow_hyphen_values = true,
        conflicts_with = "rho"
    )]
    pub rho_schedule: Option<String>,
    /// Constant input correlation (when no schedule is given).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub rho: f64,
}

impl ScheduleArgs {
    /// Builds the ρ schedule (50 steps when neither `--steps` nor a schedule is given).
    pub(crate) fn schedule(&self) -> Result<RhoSchedule> {
        if self.steps == Some(0) {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        let s = match &self.rho_schedule {
            Some(text) => RhoSchedule::parse(text)?,
            None => RhoSchedule::constant(self.rho, self.steps.unwrap_or(50))?,
        };
        if let Some(n) = self.steps
            && n != s.len()
        {
            return Err(Error::invalid(
                "steps",
                n as f64,
                "equal to the length of --rho-schedule",
            ));
        }
        Ok(s)
    }
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "inf".to_string(), |v| format!("{v:.10}"))
}

fn check_rho(rho: f64) -> Result<()> {
    if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
        return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
    }
    Ok(())
}

pub(crate) fn run_fixed_point(a: &FixedPointArgs) -> Result<String> {
    check_rho(a.rho)?;
    if a.cell.theory == Theory::Exact {
        return super::exact::run_fixed_point(&a.cell, a.rho, &a.exact, a.json);
    }
    super::refuse_given(
        super::exact::EXACT_FLAGS,
        "to the mean-field fixed point (it samples nothing); use --theory exact",
    )?;
    let (cell, p, mf) = a.cell.mean_field()?;
    let an = mf.analyze(a.rho)?;
    if a.json {
        return Ok(serde_json::to_string_pretty(&an).expect("serialisable"));
    }
    let sm: &Summary = &an.summary;
    let mut s = String::new();
    let scales = format!(
        "σ_w = {}, σ_v = {}, σ_b = {}, μ_b = {}, R = {}, ρ = {}",
        fmt_num(p.sigma_w()),
        fmt_num(p.sigma_v()),
        fmt_num(p.sigma_b()),
        fmt_num(p.mu_b()),
        fmt_num(p.r()),
        fmt_num(a.rho)
    );
    match &cell {
        Cell::Vanilla(act) => {
            let _ = writeln!(s, "vanilla RNN, φ = {}, {scales}", act.name());
            let _ = writeln!(
                s,
                "  q*    = {:.12}   (Q* = {:.12})",
                sm.q_star, sm.big_q_star
            );
            let _ = writeln!(
                s,
                "  c*    = {}",
                sm.c_star
                    .map_or("undefined (q* = 0)".into(), |c| format!("{c:.12}"))
            );
        }
        Cell::Minimal => {
            let _ = writeln!(s, "minimalRNN (factorised mean field), {scales}");
            let _ = writeln!(
                s,
                "  Q*    = {:.12}   (q* = {:.12})",
                sm.big_q_star, sm.q_star
            );
            let _ = writeln!(
                s,
                "  c*    = {}   (hidden-state correlation C*/Q*)",
                sm.c_star.map_or("-".into(), |c| format!("{c:.12}"))
            );
        }
    }
    write_slopes(&mut s, sm);
    let _ = writeln!(s, "  phase = {}", sm.phase);
    let _ = writeln!(
        s,
        "  residual = {:.1e}, iterations = {}",
        an.residual, an.iterations
    );
    match &an.fixed_points {
        FixedPoints::Vanilla {
            variance_fixed_points,
            correlation_fixed_points,
        } => {
            if variance_fixed_points.len() > 1 || correlation_fixed_points.len() > 1 {
                let _ = writeln!(s, "  all variance fixed points:");
                for f in variance_fixed_points {
                    let _ = writeln!(
                        s,
                        "    q = {:.12}  χ_q = {:.6}  {}",
                        f.q,
                        f.chi_q,
                        stability(f.stable, f.reached_from_zero)
                    );
                }
                let _ = writeln!(s, "  all correlation fixed points:");
                for f in correlation_fixed_points {
                    let _ = writeln!(
                        s,
                        "    c = {:.12}  χ_c = {:.6}  {}",
                        f.c,
                        f.chi_c,
                        if f.stable { "stable" } else { "unstable" }
                    );
                }
            }
        }
        FixedPoints::Minimal {
            fixed_points,
            notes,
            ..
        } => {
            for n in notes {
                let _ = writeln!(s, "  note: {n}");
            }
            let _ = writeln!(s, "  fixed points of the Q-map:");
            for f in fixed_points {
                let _ = writeln!(
                    s,
                    "    Q = {:.12}  χ_Q = {:.6}  {}",
                    f.big_q,
                    f.chi_q,
                    stability(f.stable, f.reached_from_zero)
                );
            }
        }
    }
    Ok(s.trim_end().to_string())
}

fn write_slopes(s: &mut String, sm: &Summary) {
    let _ = writeln!(s, "  χ_q   = {:.10}   ξ_q = {}", sm.chi_q, fmt_opt(sm.xi_q));
    let _ = writeln!(
        s,
        "  χ_c   = {}   ξ_c = {}",
        sm.chi_c.map_or("-".into(), |c| format!("{c:.10}")),
        fmt_opt(sm.xi_c)
    );
    let _ = writeln!(s, "  χ₁    = {:.10}   ξ₁  = {}", sm.chi_1, fmt_opt(sm.xi_1));
}

/// Bytes of printed output per number of a per-step array (JSON, pretty-printed).
pub(crate) const OUTPUT_BYTES_PER_NUMBER: f64 = 32.0;

pub(crate) fn run_trajectory(a: &TrajectoryArgs) -> Result<String> {
    if a.cell.theory == Theory::MeanField {
        super::refuse_given(
            &[
                ("units", "--units"),
                ("replicas", "--replicas"),
                ("seed", "--seed"),
            ],
            "to the mean-field recursion (it samples nothing); use --theory exact",
        )?;
    }
    let sched = a.schedule.schedule()?;
    let (cell, p, mf) = a.cell.mean_field()?;
    let t = sched.len();
    if a.cell.theory == Theory::MeanField && super::given("sampler") {
        return Err(super::not_applicable(
            "--sampler",
            "to the mean-field recursion (it samples nothing); use --theory exact",
        ));
    }
    if a.cell.theory == Theory::Exact {
        let regime = Regime {
            tied: !a.untied,
            fresh_bias: a.fresh_bias,
        };
        let banded_applies =
            a.cell.cell == CellKind::Minimal && sched.values().iter().all(|&r| r == 0.0);
        let banded = match a.sampler {
            SamplerKind::Full => false,
            SamplerKind::Auto => banded_applies && t > 100,
            SamplerKind::Banded if banded_applies => true,
            SamplerKind::Banded => {
                return Err(Error::Unsupported(
                    "--sampler banded follows one input sequence of the minimalRNN: it needs \
                     --cell minimal and ρ = 0 at every step; use --sampler full"
                        .into(),
                ));
            }
        };
        if banded {
            use crate::exact::stationary::transient::{self, TransientConfig};
            let cfg = TransientConfig::new(a.units, a.replicas, a.seed)?;
            cfg.estimate(t)
                .memory("steps", t as f64, 4.0 * OUTPUT_BYTES_PER_NUMBER * t as f64)
                .check()?;
            let total = (a.replicas as u64).saturating_mul(t as u64);
            let tr = super::follow("exact theory (banded sampler)", total, || {
                transient::trajectory(&p, regime, t, &cfg)
            })?;
            let out = BandedOutput {
                sampler: "banded",
                trajectory: &tr,
            };
            if a.json {
                return Ok(serde_json::to_string_pretty(&out).expect("serialisable"));
            }
            let mut s = format!(
                "# exact theory, banded sampler (one sequence, ρ = 0: C = c = 0 exactly), widest \
                 band {}{}\n    t   q ± se                 Q ± se\n",
                tr.band,
                if tr.band_capped {
                    " (capped: covariances above the tolerance were dropped)"
                } else {
                    ""
                }
            );
            for i in 0..tr.t.len() {
                let _ = writeln!(
                    s,
                    "{:5}   {:.6} ± {:.6}   {:.6} ± {:.6}",
                    tr.t[i], tr.q[i], tr.q_se[i], tr.big_q[i], tr.big_q_se[i]
                );
            }
            return Ok(s.trim_end().to_string());
        }
        let cfg = ExactConfig::builder()
            .units(a.units)
            .replicas(a.replicas)
            .seed(a.seed)
            .build()?;
        cfg.estimate(("steps", t), 0)
            .memory("steps", t as f64, 12.0 * OUTPUT_BYTES_PER_NUMBER * t as f64)
            .check()?;
        let total = (a.replicas as u64).saturating_mul((t as u64).saturating_mul(t as u64));
        let tr = super::follow("exact theory", total, || {
            exact::trajectory(&cell, &p, &sched, regime, &cfg)
        })?;
        if a.json {
            #[derive(serde::Serialize)]
            struct Full<'a> {
                sampler: &'static str,
                #[serde(flatten)]
                trajectory: &'a exact::ExactTrajectory,
            }
            let out = Full {
                sampler: "full",
                trajectory: &tr,
            };
            return Ok(serde_json::to_string_pretty(&out).expect("serialisable"));
        }
        let mut s = String::from("    t   q ± se                 Q ± se                 c ± se\n");
        for i in 0..tr.t.len() {
            let _ = writeln!(
                s,
                "{:5}   {:.6} ± {:.6}   {:.6} ± {:.6}   {:.6} ± {:.6}",
                tr.t[i], tr.q[i], tr.q_se[i], tr.big_q[i], tr.big_q_se[i], tr.c[i], tr.c_se[i]
            );
        }
        return Ok(s.trim_end().to_string());
    }
    if a.untied || a.fresh_bias {
        return Err(Error::Unsupported(
            "--untied and --fresh-bias select the regime of --theory exact; the mean-field \
             recursion already assumes fresh weights"
                .into(),
        ));
    }
    crate::budget::Estimate::new("the trajectory and its output")
        .memory(
            "steps",
            t as f64,
            (crate::cells::BYTES_PER_STEP + 6.0 * OUTPUT_BYTES_PER_NUMBER) * t as f64,
        )
        .check()?;
    let tr = super::follow("trajectory", t as u64, || mf.trajectory(&sched))?;
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

/// A fixed point's stability, and whether the dynamics from `h⁰ = 0` reach it.
fn stability(stable: bool, reached_from_zero: bool) -> String {
    format!(
        "{}{}",
        if stable { "stable" } else { "unstable" },
        if reached_from_zero {
            ", reached from h⁰ = 0"
        } else {
            ""
        }
    )
}
