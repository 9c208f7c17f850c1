//! `--theory exact` at stationarity for `fixed-point`: the stationary solution of the exact
//! (tied-weight, frozen-bias) theory with standard errors (`cells::stationary`).

use std::fmt::Write as _;

use clap::Args;

use super::cells::{CellArgs, Theory};
use crate::cells::exact::{Regime, UnitUpdate};
use crate::cells::stationary::analysis::{self, ExactAnalysis, ExactSettings};
use crate::error::{Result, fmt_num};

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
    let theory = cell.theory()?;
    let settings = e.settings()?;
    let (upd, name) = match &theory {
        Theory::Vanilla(v) => (
            UnitUpdate::Vanilla(v.activation().clone()),
            format!("vanilla RNN, φ = {}", v.activation().name()),
        ),
        Theory::Minimal(_) => (UnitUpdate::Minimal, "minimalRNN".to_string()),
    };
    let p = cell.process();
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
        fmt_num(p.sigma_w),
        fmt_num(p.sigma_v),
        fmt_num(p.sigma_b),
        fmt_num(p.mu_b),
        fmt_num(p.r),
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
        let _ = writeln!(o, "  note: {n}");
    }
    Ok(o.trim_end().to_string())
}
