//! Stage 5: accuracy — the expectation engine against its independent adaptive path
//! ([`crate::report::engine_accuracy`]: a figure, the full table as CSV/JSON), and the error of
//! the theories against simulated networks as a function of 1/N
//! ([`crate::report::finite_width`]).

use std::fmt::Write as _;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{Section, SeriesData, Style, figure, figure_styled, marker, to_json};
use crate::activation::Builtin;
use crate::cells::{Cell, CellKind, CellParams, RhoSchedule};
use crate::cli::svg::{Axes, PALETTE};
use crate::error::Result;
use crate::exact::ExactConfig;
use crate::output::OutputDir;
use crate::report::{
    BiasFit, ENGINE_ABSOLUTE_SCALE, EngineGrid, EngineRow, FiniteWidthRow, Reference, WidthSweep,
    engine_accuracy, engine_summary, finite_width,
};

/// The engine's promise, drawn as a line: `|Δ| ≤ 10⁻¹² (|reference| + 10⁻³)`.
const TOLERANCE: f64 = 1e-12;

/// Errors below this are drawn at it on the log axis (exact agreement included).
const FLOOR: f64 = 1e-20;

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let mut body = String::from("<h3>The Gaussian-expectation engine</h3>\n");
    body += &engine(out, quick)?;
    bar.inc(1);
    body += &finite_width_study(out, quick, bar)?;
    Ok(Section {
        title: "5. Accuracy: the expectation engine and the finite-width error".into(),
        body,
    })
}

fn engine_csv(rows: &[EngineRow]) -> String {
    let mut s = String::from(
        "activation,integrand,dims,mean,q,c,value,method,error_estimate,reference_value,reference_method,difference,microseconds\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.17e},{},{:.3e},{:.17e},{},{:.3e},{:.2}",
            r.activation,
            r.integrand,
            r.dims,
            r.mean,
            r.q,
            r.c.map(|c| c.to_string()).unwrap_or_default(),
            r.value,
            r.method,
            r.error_estimate,
            r.reference_value,
            r.reference_method,
            r.difference,
            r.microseconds
        );
    }
    s
}

/// The engine against the adaptive path: the table as CSV/JSON, the error against q as a
/// figure (series per activation and method), a per-activation summary table.
fn engine(out: &OutputDir, quick: bool) -> Result<String> {
    let grid = if quick {
        EngineGrid {
            qs: vec![1e-4, 1.0, 100.0],
            means: vec![0.0, 2.0],
            correlations: vec![0.5],
            bivariate_mean: 0.3,
        }
    } else {
        EngineGrid {
            qs: vec![1e-8, 1e-4, 0.01, 0.1, 1.0, 4.0, 16.0, 100.0, 1e3, 1e4],
            means: vec![0.0, 0.3, 2.0, -8.0],
            correlations: vec![-0.9, 0.5, 0.99, 1.0 - 1e-9],
            bivariate_mean: 0.3,
        }
    };
    let rows = engine_accuracy(&grid)?;
    out.write("accuracy.csv", engine_csv(&rows))?;
    out.write("accuracy.json", to_json(&rows, true))?;
    // One series per (activation, method): colour by activation, marker by method.
    let mut methods: Vec<&str> = Vec::new();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in &rows {
        if !methods.contains(&r.method) {
            methods.push(r.method);
        }
        if !keys.contains(&(r.activation, r.method)) {
            keys.push((r.activation, r.method));
        }
    }
    let colour = |a: &str| {
        let k = Builtin::ALL
            .iter()
            .position(|b| b.as_str() == a)
            .unwrap_or(0);
        PALETTE[k % PALETTE.len()]
    };
    let mut data = Vec::new();
    let mut styles = Vec::new();
    for &(a, m) in &keys {
        let sel: Vec<&EngineRow> = rows
            .iter()
            .filter(|r| r.activation == a && r.method == m)
            .collect();
        data.push(SeriesData {
            name: format!("{a} · {m}"),
            t: sel.iter().map(|r| r.q).collect(),
            value: sel.iter().map(|r| r.mixed_error()).collect(),
            se: None,
        });
        styles.push(Style {
            colour: colour(a),
            dashed: false,
            marker: marker(methods.iter().position(|x| *x == m).unwrap_or(0)),
            points: true,
        });
    }
    let line = [(TOLERANCE, "1e-12: the engine's promise")];
    let fig = figure_styled(
        out,
        [
            "accuracy_engine",
            "Gaussian expectations: automatic method against the adaptive path",
            "variance q",
            "|value − reference| / (|reference| + 1e-3)",
            "Every row of <a href=\"accuracy.csv\">accuracy.csv</a>: the error of the \
             automatic method choice against the independent adaptive Gauss–Kronrod path, \
             relative to |reference| + 10⁻³ — the relative error where the value is large, \
             10³ × the absolute error where it is small or 0 — against the variance q \
             (log axes). Colour: activation; marker: the method chosen. Dashed: 10⁻¹², the \
             promise <code>tests/report.rs</code> checks (|Δ| ≤ 10⁻¹² |reference| + 10⁻¹⁵). \
             Errors below 10⁻²⁰, including exact agreement, are drawn at 10⁻²⁰.",
        ],
        &data,
        &styles,
        &Axes {
            log_x: true,
            log_y: true,
            y_floor: Some(FLOOR),
            hlines: &line,
        },
    )?;
    let summary = engine_summary(&rows);
    let worst = summary
        .iter()
        .map(|s| s.worst_mixed_error)
        .fold(0.0f64, f64::max);
    let mut s = format!(
        "<p>Automatic method choice against the independent adaptive Gauss–Kronrod path \
         (<code>Strategy::Adaptive</code>), for every built-in activation: {} evaluations, \
         largest error relative to |reference| + {ENGINE_ABSOLUTE_SCALE:e}: {worst:.2e}. \
         The full table (value, method, error estimate, difference and time of every \
         evaluation): <a href=\"accuracy.csv\">accuracy.csv</a>, \
         <a href=\"accuracy.json\">accuracy.json</a>. The 30-digit mpmath comparison is the \
         test <code>tests/reference_values.rs</code> (see <code>docs/accuracy.md</code>).</p>\n\
         <table><tr><th>φ</th><th>evaluations</th><th>methods chosen</th>\
         <th>exact agreement</th><th>largest error</th><th>at</th></tr>\n",
        rows.len()
    );
    for a in &summary {
        let w = &rows[a.worst_row];
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1e}</td>\
             <td>{}, mean {}, q = {}{}</td></tr>",
            a.activation,
            a.rows,
            a.methods.join(", "),
            a.exact_agreements,
            a.worst_mixed_error,
            w.integrand,
            w.mean,
            w.q,
            w.c.map(|c| format!(", c = {c}")).unwrap_or_default()
        );
    }
    s.push_str("</table>\n");
    s += &fig;
    Ok(s)
}

/// The error of the theory against simulated networks as a function of the width, showing
/// the O(1/N) finite-width bias.
fn finite_width_study(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<String> {
    let widths: Vec<usize> = if quick {
        vec![16, 32]
    } else {
        vec![16, 32, 64, 128, 256]
    };
    let (seeds, batch, units) = if quick {
        (32, 8, 100_000)
    } else {
        (256, 64, 1_000_000)
    };
    let steps = 10;
    let sched = RhoSchedule::constant(0.5, steps)?;
    let sweep = |first_seed: u64| WidthSweep {
        widths: widths.clone(),
        batch,
        networks: seeds,
        first_seed,
    };
    let progress = || bar.inc(1);
    // Vanilla tanh RNN (chaotic side), against the mean-field recursion.
    let vp = CellParams::builder()
        .sigma_w(1.5)
        .sigma_v(0.3)
        .sigma_b(0.1)
        .mu_b(0.0)
        .r(1.0)
        .build()?;
    let vanilla = finite_width(
        &Cell::vanilla(Builtin::Tanh),
        &vp,
        &sched,
        Reference::MeanField,
        &sweep(81),
        &progress,
    )?;
    // minimalRNN, against the exact tied-weight theory (sampled, with its standard error).
    let mp = CellParams::builder()
        .sigma_w(6.88)
        .sigma_v(1.39)
        .sigma_b(0.0)
        .mu_b(0.0)
        .r(0.46)
        .build()?;
    let exact = ExactConfig::builder()
        .units(units)
        .replicas(8)
        .seed(91)
        .build()?;
    let minimal = finite_width(
        &Cell::Minimal,
        &mp,
        &sched,
        Reference::Exact(exact),
        &sweep(101),
        &progress,
    )?;
    let rows: Vec<FiniteWidthRow> = vanilla.rows.into_iter().chain(minimal.rows).collect();
    let fits: Vec<BiasFit> = vanilla.fits.into_iter().chain(minimal.fits).collect();
    #[derive(Serialize)]
    struct Out<'a> {
        rows: &'a [FiniteWidthRow],
        fits: &'a [BiasFit],
    }
    out.write(
        "finite_width.json",
        to_json(
            &Out {
                rows: &rows,
                fits: &fits,
            },
            true,
        ),
    )?;
    let mut csv = String::from(
        "cell,statistic,width,step,theory,theory_se,simulated,simulated_se,difference,se,n_times_difference\n",
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.10},{:.3e},{:.10},{:.3e},{:.4e},{:.3e},{:.6}",
            r.cell,
            r.statistic,
            r.width,
            r.step,
            r.theory,
            r.theory_se,
            r.simulated,
            r.simulated_se,
            r.difference,
            r.se,
            r.n_times_difference
        );
    }
    out.write("finite_width.csv", csv)?;
    let of = |cell: CellKind, statistic: &str| -> Vec<&FiniteWidthRow> {
        rows.iter()
            .filter(|r| r.cell == cell && r.statistic == statistic)
            .collect()
    };
    let x_max = 1.0 / widths[0] as f64;
    let mut figs = String::new();
    for (cell, title, theory) in [
        (
            CellKind::Vanilla,
            "vanilla tanh RNN (σ_w = 1.5, σ_v = 0.3, σ_b = 0.1, R = 1)",
            "the mean-field recursion",
        ),
        (
            CellKind::Minimal,
            "minimalRNN (σ_w = 6.88, σ_v = 1.39, σ_b = 0, μ_b = 0, R = 0.46)",
            "the exact tied-weight theory",
        ),
    ] {
        let mut data = Vec::new();
        for f in fits.iter().filter(|f| f.cell == cell) {
            let sel = of(cell, f.statistic);
            data.push(SeriesData {
                name: format!("{}: |simulated − theory|", f.statistic),
                t: sel.iter().map(|r| 1.0 / r.width as f64).collect(),
                value: sel.iter().map(|r| r.difference.abs()).collect(),
                se: Some(sel.iter().map(|r| r.se).collect()),
            });
            data.push(SeriesData {
                name: format!(
                    "{}: fit |κ|/N, κ = {:.3} ± {:.3}",
                    f.statistic, f.kappa, f.kappa_se
                ),
                t: vec![0.0, x_max],
                value: vec![0.0, f.kappa.abs() * x_max],
                se: None,
            });
        }
        figs += &figure(
            out,
            &format!("finite_width_{cell}"),
            &format!("{title}: error of the theory against 1/N"),
            "1/N",
            "|simulated − theory| at t = 10",
            &data,
            2,
            &format!(
                "{title}, ρ = 0.5, step t = {steps}: the state second moment Q and the \
                 correlation c of simulated networks (tied weights, frozen bias) against \
                 {theory}, bars ±2 standard errors; lines: the weighted fit \
                 simulated − theory = κ/N through the origin."
            ),
        )?;
    }
    let mut body = format!(
        "<h3>Finite-width error of the theory</h3>\n<p>The theories are infinite-width limits; \
         real networks of width N deviate from them by a bias of order 1/N. Two sequences with \
         input correlation ρ = 0.5, statistics at step {steps}, simulated with {seeds} networks × \
         {batch} sequence pairs at each width N ∈ {{{}}} (Gaussian W, tied, frozen bias), against \
         the mean-field recursion (vanilla tanh RNN) and against the exact tied-weight theory \
         sampled with {units} unit paths (minimalRNN; its standard error is included). A constant \
         N·(simulated − theory) across N is the O(1/N) law; the fit κ is its weighted mean \
         (χ² with N − 1 degrees of freedom measures the agreement). This bias is what the \
         tolerance of <code>tests/vanilla_simulation.rs</code> allows for (κ ≤ 4 × the \
         statistic's scale). Data: <a href=\"finite_width.csv\">finite_width.csv</a>, \
         <a href=\"finite_width.json\">finite_width.json</a>.</p>\n<table><tr><th>cell</th>\
         <th>statistic</th><th>theory</th><th>κ = N·(simulated − theory)</th><th>χ²/dof</th>",
        widths
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for n in &widths {
        let _ = write!(body, "<th>N·Δ at N = {n}</th>");
    }
    body.push_str("</tr>\n");
    for f in &fits {
        let sel = of(f.cell, f.statistic);
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{:.5}</td><td>{:.3} ± {:.3}</td><td>{:.1}/{}</td>",
            f.cell, f.statistic, sel[0].theory, f.kappa, f.kappa_se, f.chi2, f.dof
        );
        for r in &sel {
            let _ = write!(
                body,
                "<td>{:.3} ± {:.3}</td>",
                r.n_times_difference,
                r.width as f64 * r.se
            );
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</table>\n");
    body.push_str(&figs);
    Ok(body)
}
