//! `--theory exact` at stationarity for `fixed-point`: the stationary solution of the exact
//! (tied-weight, frozen-bias) theory with standard errors (`exact::stationary`).

use std::fmt::Write as _;

use clap::Args;

use super::cells::CellArgs;
use crate::cells::{Cell, CellKind, Regime};
use crate::error::{Result, fmt_num};
use crate::exact::stationary::analysis::{self, ExactAnalysis, ExactSettings};

/// Settings of the exact theory at stationarity.
#[derive(Debug, Clone, Args)]
pub(crate) struct ExactArgs {
    /// Exact theory: unit paths per iteration of the stationary solver (total over replicas).
    #[arg(long, default_value_t = 1024, value_parser = super::count, allow_hyphen_values = true)]
    pub paths: usize,
    /// Exact theory: independent replicas (for the standard errors).
    #[arg(long, default_value_t = 8, value_parser = super::count, allow_hyphen_values = true)]
    pub replicas: usize,
    /// Exact theory: unit paths per replica of the synchronisation and memory curves.
    #[arg(long = "curve-paths", default_value_t = 256, value_parser = super::count, allow_hyphen_values = true)]
    pub curve_paths: usize,
    /// Exact theory: horizon (steps) at which ξ_c is measured (the slope of the decay over its
    /// second half).
    #[arg(long, default_value_t = 200, value_parser = super::count, allow_hyphen_values = true)]
    pub horizon: usize,
    /// Exact theory: base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Exact theory for untied weights (fresh W, V every step).
    #[arg(long)]
    pub untied: bool,
    /// Exact theory with the bias redrawn every step.
    #[arg(long = "fresh-bias")]
    pub fresh_bias: bool,
}

/// The flags of [`ExactArgs`] as (argument id, flag), for refusing them where they do not apply.
pub(crate) const EXACT_FLAGS: &[(&str, &str)] = &[
    ("paths", "--paths"),
    ("replicas", "--replicas"),
    ("curve_paths", "--curve-paths"),
    ("horizon", "--horizon"),
    ("seed", "--seed"),
    ("untied", "--untied"),
    ("fresh_bias", "--fresh-bias"),
];

impl ExactArgs {
    pub(crate) fn settings(&self) -> Result<ExactSettings> {
        ExactSettings::new(
            self.paths,
            self.replicas,
            self.curve_paths,
            self.horizon,
            self.seed,
        )
    }

    pub(crate) fn regime(&self) -> Regime {
        Regime {
            tied: !self.untied,
            fresh_bias: self.fresh_bias,
        }
    }
}

fn pm(x: f64, se: f64) -> String {
    format!("{x:.6} ± {se:.6}")
}

fn pm_opt(x: Option<f64>, se: Option<f64>) -> String {
    match (x, se) {
        (Some(x), Some(se)) => pm(x, se),
        (Some(x), None) => format!("{x:.6}"),
        _ => "inf".into(),
    }
}

/// `fixed-point --theory exact`.
pub(crate) fn run_fixed_point(
    cell: &CellArgs,
    rho: f64,
    e: &ExactArgs,
    json: bool,
) -> Result<String> {
    let (upd, p) = (cell.cell()?, cell.params()?);
    let settings = e.settings()?;
    let name = match &upd {
        Cell::Vanilla(act) => format!("vanilla RNN, φ = {}", act.name()),
        Cell::Minimal => "minimalRNN".to_string(),
    };
    let s = &settings.solver;
    let total = (s.paths_per_replica() * s.replicas * (s.max_iterations + s.averaging)) as u64;
    let an: ExactAnalysis = super::follow("exact theory at stationarity", total, || {
        analysis::analyze(&upd, &p, e.regime(), rho, &settings)
    })?;
    if json {
        return Ok(serde_json::to_string_pretty(&an).expect("serialisable"));
    }
    let mut o = String::new();
    let regime = match (e.untied, e.fresh_bias) {
        (false, false) => "tied weights, frozen bias",
        (true, false) => "untied weights, frozen bias",
        (false, true) => "tied weights, fresh bias",
        (true, true) => "untied weights, fresh bias",
    };
    let _ = writeln!(
        o,
        "{name} (exact theory at stationarity, {regime}), σ_w = {}, σ_v = {}, σ_b = {}, μ_b = {}, R = {}, ρ = {}",
        fmt_num(p.sigma_w()),
        fmt_num(p.sigma_v()),
        fmt_num(p.sigma_b()),
        fmt_num(p.mu_b()),
        fmt_num(p.r()),
        fmt_num(rho)
    );
    let _ = writeln!(
        o,
        "  Q*    = {}   (q* = {})",
        pm(an.big_q_star, an.big_q_star_se),
        pm(an.q_star, an.q_star_se)
    );
    let _ = writeln!(
        o,
        "  c*    = {}",
        an.c_star.map_or("-".into(), |c| format!("{c}"))
    );
    let _ = writeln!(
        o,
        "  χ_c   = {}   ξ_c = {}   (at horizon {}; {})",
        pm_opt(an.chi_c, an.chi_c_se),
        pm_opt(an.xi_c, an.xi_c_se),
        an.memory.as_ref().unwrap_or(&an.synchronisation).horizon,
        if rho == 1.0 {
            "synchronisation of identical-input copies"
        } else {
            "memory at independent inputs"
        }
    );
    let _ = writeln!(
        o,
        "  χ₁    = {}   ξ₁ = {}",
        pm(an.chi_1, an.chi_1_se),
        pm_opt(an.xi_1, an.xi_1_se)
    );
    let _ = writeln!(
        o,
        "  phase = {}   (synchronisation rate Λ = {})",
        an.phase,
        pm(an.synchronisation.chi, an.synchronisation.chi_se)
    );
    if let Some(g) = &an.stationary.gate {
        let _ = writeln!(
            o,
            "  gates: E[u] = {}, E[u²] = {}, E[(1−u)²] = {}, E[σ'²] = {}",
            pm(g.mean_u, g.mean_u_se),
            pm(g.mean_u2, g.mean_u2_se),
            pm(g.mean_one_minus_u2, g.mean_one_minus_u2_se),
            pm(g.mean_dsigma2, g.mean_dsigma2_se)
        );
    } else {
        let _ = writeln!(
            o,
            "  static part Q_∞ = {}",
            pm(an.stationary.big_q_inf, an.stationary.big_q_inf_se)
        );
    }
    let d = &an.stationary.diagnostics;
    let _ = writeln!(
        o,
        "  solver: {} iterations (max over {} replicas), converged = {}, drift = {:.1} se, \
         period {}, {} lags",
        d.iterations.iter().max().copied().unwrap_or(0),
        d.iterations.len(),
        d.converged,
        d.drift_z,
        d.period,
        d.lags
    );
    let _ = writeln!(
        o,
        "  ξ_Q: not computed at stationarity (trajectory --theory exact)"
    );
    for n in &an.notes {
        let _ = writeln!(o, "  note: {}", n.text);
    }
    Ok(o.trim_end().to_string())
}

/// Exact-theory settings of `phase` (per grid point; cheaper defaults than `fixed-point`).
#[derive(Debug, Clone, Args)]
pub(crate) struct PhaseExactArgs {
    /// Exact theory: unit paths per iteration of each point's stationary solver (total over
    /// replicas).
    #[arg(long, default_value_t = 128, value_parser = super::count, allow_hyphen_values = true)]
    pub paths: usize,
    /// Exact theory: independent replicas per point (for the standard errors).
    #[arg(long, default_value_t = 4, value_parser = super::count, allow_hyphen_values = true)]
    pub replicas: usize,
    /// Exact theory: unit paths per replica of the synchronisation and memory curves.
    #[arg(long = "curve-paths", default_value_t = 128, value_parser = super::count, allow_hyphen_values = true)]
    pub curve_paths: usize,
    /// Exact theory: horizon (steps) at which ξ_c is measured.
    #[arg(long, default_value_t = 100, value_parser = super::count, allow_hyphen_values = true)]
    pub horizon: usize,
    /// Exact theory: base seed (each point derives its own).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Exact theory for untied weights.
    #[arg(long)]
    pub untied: bool,
    /// Exact theory with the bias redrawn every step.
    #[arg(long = "fresh-bias")]
    pub fresh_bias: bool,
}

/// `phase --theory exact`.
pub(crate) fn run_phase(a: &super::sim_phase::PhaseArgs) -> Result<String> {
    use crate::output::{self, FileFormat};
    use crate::phase::exact::diagram;
    use crate::phase::{Axis, Quantity};
    let e = &a.exact;
    let upd = Cell::of_kind(a.cell, a.phi.as_deref())?;
    let x = Axis::parse(&a.x)?;
    let y = Axis::parse(&a.y)?;
    let quantity = Quantity::from_name(&a.quantity)?;
    let base = a.base_params()?;
    let format = a.output_format()?;
    let settings = ExactSettings::new(e.paths, e.replicas, e.curve_paths, e.horizon, e.seed)?
        .with_solver(|s| s.with_length(1024, 8192))?;
    let regime = Regime {
        tied: !e.untied,
        fresh_bias: e.fresh_bias,
    };
    let total = (x.n * y.n) as u64;
    let bar = super::sim_phase::points_bar(total, 20);
    let started = std::time::Instant::now();
    let tick = |n: usize| bar.set_position(n as u64);
    let d = diagram(&upd, base, a.rho, regime, x, y, quantity, &settings, &tick)?;
    bar.finish_and_clear();
    let contents = match format {
        FileFormat::Svg => {
            let crit: Vec<Vec<Option<f64>>> = d
                .sync_rate
                .iter()
                .map(|r| r.iter().map(|c| c.map(|c| c - 1.0)).collect())
                .collect();
            let title = format!(
                "{} — {} (exact theory at stationarity)",
                quantity.as_str(),
                if d.cell == "minimal" {
                    "minimalRNN".to_string()
                } else {
                    format!("vanilla {} RNN", d.activation)
                }
            );
            let fixed = super::sim_phase::fixed_labels(&base, a.rho, &x, &y);
            super::svg::heatmap(&super::svg::Heatmap {
                title: &title,
                x_label: x.param.symbol(),
                y_label: y.param.symbol(),
                x_range: (x.lo, x.hi),
                y_range: (y.lo, y.hi),
                values: &d.values,
                log: quantity.is_timescale(),
                colour_label: quantity.as_str(),
                contour: Some((&crit, "Λ = 1 (synchronisation)")),
                note: &format!(
                    "fixed: {}; relative standard error median {:.1e}, max {:.1e}; generated by mfrnn {}",
                    fixed.join(", "),
                    d.median_relative_se,
                    d.max_relative_se,
                    env!("CARGO_PKG_VERSION")
                ),
            })
        }
        FileFormat::Csv => d.to_csv(),
        FileFormat::Json => serde_json::to_string(&d).expect("serialisable"),
    };
    output::write_file(&a.out, &output::sign(&contents, "phase", format), "out")?;
    let mut msg = format!(
        "wrote {} ({} × {} points, exact theory, {:.2} s); relative standard error of {}: \
         median {:.1e}, max {:.1e}",
        a.out.display(),
        x.n,
        y.n,
        started.elapsed().as_secs_f64(),
        quantity.as_str(),
        d.median_relative_se,
        d.max_relative_se
    );
    for (reason, n) in &d.failures {
        let _ = write!(msg, "\n  {n} points undefined: {reason}");
    }
    for (note, n) in &d.caveats {
        let _ = write!(msg, "\n  {n} points: {note}");
    }
    Ok(msg)
}

/// `init --theory exact` (minimalRNN).
pub(crate) fn run_init(a: &super::init::InitArgs) -> Result<String> {
    use crate::init::Target;
    use crate::init::exact::minimal_exact;
    if a.cell != CellKind::Minimal {
        return Err(crate::Error::Unsupported(
            "init --theory exact is for --cell minimal: the vanilla cell's same-time statistics \
             are the mean-field maps', so its closed form is already exact"
                .into(),
        ));
    }
    if a.phi.is_some() {
        return Err(crate::Error::Unsupported(
            "--phi does not apply to --cell minimal (its gate is the logistic sigmoid)".into(),
        ));
    }
    super::refuse_given(
        &[
            ("max_width_ratio", "--max-width-ratio"),
            ("objective", "--objective"),
            ("horizon", "--horizon"),
        ],
        "to init --theory exact (it solves χ₁ = 1 at a given --q-star)",
    )?;
    if !a.sample {
        super::refuse_given(
            &[
                ("width", "--width"),
                ("input_dim", "--input-dim"),
                ("out", "--out"),
                ("weights", "--weights"),
            ],
            "without --sample",
        )?;
    }
    if a.sample {
        crate::output::check_dir(&a.out, "weights", "out")?;
    }
    let q = a.q_star.ok_or_else(|| crate::Error::Parse {
        what: "arguments",
        input: "init --theory exact".into(),
        reason: "give --q-star (the target gate variance)".into(),
    })?;
    let given = a.given();
    let settings = ExactSettings::new(a.paths, a.replicas, 256, 200, a.seed)?;
    let s = &settings.solver;
    let total = 4 * (s.paths_per_replica() * s.replicas * (s.max_iterations + s.averaging)) as u64;
    let c = super::follow("exact critical initialization", total, || {
        let target = Target::q_star(q)
            .mu_b(a.mu_b.unwrap_or(0.0))
            .r(a.r)
            .given(given);
        minimal_exact(&target, &settings)
    })?;
    let files = if a.sample {
        // The closed form's record with the exact scales.
        let mut init = c.closed_form.clone();
        init.params = init
            .params
            .to_builder()
            .sigma_w(c.sigma_w)
            .sigma_v(c.sigma_v)
            .sigma_b(c.sigma_b)
            .build()?;
        init.big_q_star = c.big_q_star;
        init.chi_1 = c.chi_1;
        Some(super::init::write_weights(&init, a)?)
    } else {
        None
    };
    if a.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            init: &'a crate::init::exact::ExactCriticalInit,
            #[serde(skip_serializing_if = "Option::is_none")]
            files: Option<Vec<String>>,
        }
        return Ok(serde_json::to_string_pretty(&Out { init: &c, files }).expect("serialisable"));
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "critical initialization (minimalRNN, exact theory of the tied, frozen-bias network):"
    );
    let _ = writeln!(
        o,
        "  σ_w = {}  σ_v = {}  σ_b = {}  μ_b = {}  R = {}",
        pm(c.sigma_w, c.sigma_w_se),
        pm(c.sigma_v, c.sigma_v_se),
        pm(c.sigma_b, c.sigma_b_se),
        fmt_num(c.mu_b),
        fmt_num(c.r)
    );
    let _ = writeln!(
        o,
        "  q* = {}  Q* = {}  χ₁ = {}",
        fmt_num(c.q_star),
        pm(c.big_q_star, c.big_q_star_se),
        pm(c.chi_1, c.chi_1_se)
    );
    let _ = writeln!(
        o,
        "  closed form (I.4)–(I.5): σ_w = {:.6}, where the exact χ₁ = {}; correction to σ_w: {:+.3}%",
        c.closed_form.params.sigma_w(),
        pm(c.chi_1_closed_form, c.chi_1_closed_form_se),
        100.0 * c.sigma_w_correction
    );
    let _ = writeln!(
        o,
        "  synchronisation rate of identical-input copies Λ = {} ({} solver runs)",
        pm(c.sync_rate, c.sync_rate_se),
        c.evaluations
    );
    for w in c.closed_form.warnings.iter().chain(&c.warnings) {
        let _ = writeln!(o, "  warning: {w}");
    }
    if let Some(f) = &files {
        let _ = writeln!(o, "  wrote {}", f.join(", "));
    }
    Ok(o.trim_end().to_string())
}
