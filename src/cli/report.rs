//! `mfrnn report`: runs the analysis on built-in defaults and writes a self-contained
//! report directory (HTML + the data behind every table as CSV/JSON).
//!
//! Stages: (1) timescale phase diagrams of both cells with the critical line; (2) signal
//! propagation, theory (factorised and exact) against simulation of real networks; (3) Jacobian
//! spectra at critical initialization: the vanilla tanh RNN (free probability, exact) and the
//! minimalRNN (the one-step law of the Jacobian diagonals from unit paths of the exact theory,
//! `GatedSpectrum`: exact for T = 1, the free approximation for T > 1), each against sampled
//! networks; (4) critical initialization of both cells; (5) accuracy: the expectation engine
//! against its independent adaptive path, and the error of the theories against simulated
//! networks as a function of 1/N (the O(1/N) finite-width bias, fitted as κ/N).
//! Output follows the contract of [`crate::output`]: `--out` must be new, an empty directory or
//! an unmodified earlier report (refused before any work otherwise); files are staged inside
//! it and moved into place at the end, so an interrupted run never leaves a partial report.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use indicatif::{ProgressBar, ProgressStyle};

use super::sim_phase::phase_svg;
use super::svg::{PALETTE, Series, esc, line_chart};
use crate::activation::Builtin;
use crate::cells::{Cell, CellParams, Regime, RhoSchedule, WeightLaw};
use crate::exact::{self, ExactConfig};
use crate::expect::{BivariateNormal, Fun, Integrator, Normal, Strategy};
use crate::init::{self, Target};
use crate::output::OutputDir;
use crate::phase::{self, Axis, Param, PhaseDiagram, Quantity};
use crate::sim::{self, SimConfig, jacobian};
use crate::spectrum::gated::{GatedLaw, GatedSpectrum};
use crate::spectrum::{DiagonalLaw, ProductSpectrum};
use crate::stats::{fit_inverse_width, ks_distance, quantile};

/// Arguments of `mfrnn report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// Output directory: a new path (its parent must exist), an empty directory, or an
    /// earlier mfrnn report (replaced when the run completes). Anything else is refused.
    #[arg(long, default_value = "report")]
    out: PathBuf,
    /// A smaller grid, for smoke tests.
    #[arg(long)]
    quick: bool,
}

#[derive(Debug, Serialize)]
struct AccuracyRow {
    activation: &'static str,
    integrand: String,
    dims: u8,
    mean: f64,
    q: f64,
    c: Option<f64>,
    value: f64,
    method: &'static str,
    error_estimate: f64,
    reference_value: f64,
    reference_method: &'static str,
    difference: f64,
    microseconds: f64,
}

fn accuracy_rows(quick: bool) -> crate::Result<Vec<AccuracyRow>> {
    let qs: &[f64] = if quick {
        &[1e-4, 1.0, 100.0]
    } else {
        &[1e-8, 1e-4, 0.01, 0.1, 1.0, 4.0, 16.0, 100.0, 1e3, 1e4]
    };
    let means: &[f64] = if quick {
        &[0.0, 2.0]
    } else {
        &[0.0, 0.3, 2.0, -8.0]
    };
    let corrs: &[f64] = if quick {
        &[0.5]
    } else {
        &[-0.9, 0.5, 0.99, 1.0 - 1e-9]
    };
    let auto = Integrator::default();
    let reference = Integrator::with_strategy(Strategy::Adaptive);
    let mut rows = Vec::new();
    for b in Builtin::ALL {
        let act = b.arc();
        for spec in ["phi^2", "dphi^2", "phi*ddphi"] {
            let f = Fun::parse(spec, &act)?;
            for &q in qs {
                for &m in means {
                    let n = Normal::new(m, q)?;
                    let t = Instant::now();
                    let e = auto.expect(&f, &n)?;
                    let us = t.elapsed().as_secs_f64() * 1e6;
                    let r = reference.expect(&f, &n)?;
                    rows.push(AccuracyRow {
                        activation: b.as_str(),
                        integrand: spec.to_string(),
                        dims: 1,
                        mean: m,
                        q,
                        c: None,
                        value: e.value,
                        method: e.method.as_str(),
                        error_estimate: e.error_estimate,
                        reference_value: r.value,
                        reference_method: r.method.as_str(),
                        difference: e.value - r.value,
                        microseconds: us,
                    });
                }
            }
        }
        let f = Fun::phi(&act);
        for &q in qs {
            for &c in corrs {
                let bn = BivariateNormal::equal(0.3, q, c)?;
                let t = Instant::now();
                let e = auto.expect2(&f, &f, &bn)?;
                let us = t.elapsed().as_secs_f64() * 1e6;
                let r = reference.expect2(&f, &f, &bn)?;
                rows.push(AccuracyRow {
                    activation: b.as_str(),
                    integrand: "phi(u)*phi(v)".into(),
                    dims: 2,
                    mean: 0.3,
                    q,
                    c: Some(c),
                    value: e.value,
                    method: e.method.as_str(),
                    error_estimate: e.error_estimate,
                    reference_value: r.value,
                    reference_method: r.method.as_str(),
                    difference: e.value - r.value,
                    microseconds: us,
                });
            }
        }
    }
    Ok(rows)
}

fn write_csv(path: &Path, rows: &[AccuracyRow]) -> std::io::Result<()> {
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
    fs::write(path, s)
}

fn accuracy_html(rows: &[AccuracyRow]) -> String {
    let worst = rows
        .iter()
        .map(|r| r.difference.abs() / r.reference_value.abs().max(1e-300))
        .fold(0.0f64, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<p>Automatic method choice against the independent adaptive Gauss–Kronrod path \
         (<code>Strategy::Adaptive</code>), for every built-in activation. \
         Largest relative difference: {worst:.2e}. Data: <a href=\"accuracy.csv\">accuracy.csv</a>, \
         <a href=\"accuracy.json\">accuracy.json</a>. The 30-digit mpmath comparison is the test \
         <code>tests/reference_values.rs</code> (see <code>docs/accuracy.md</code>).</p>\n<table><tr><th>φ</th><th>f</th><th>mean</th><th>q</th><th>c</th>\
         <th>value</th><th>method</th><th>error est.</th><th>difference</th><th>µs</th></tr>\n"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.15e}</td><td>{}</td>\
             <td>{:.1e}</td><td>{:.1e}</td><td>{:.1}</td></tr>",
            r.activation,
            r.integrand,
            r.mean,
            r.q,
            r.c.map(|c| c.to_string()).unwrap_or_default(),
            r.value,
            r.method,
            r.error_estimate,
            r.difference,
            r.microseconds
        );
    }
    s.push_str("</table>\n");
    s
}

/// One point of the finite-width comparison: a statistic at one width.
#[derive(Debug, Serialize)]
struct FiniteWidthRow {
    cell: &'static str,
    statistic: &'static str,
    width: usize,
    step: usize,
    theory: f64,
    /// Standard error of the theory (the sampled exact theory of the minimalRNN; 0 for the
    /// deterministic vanilla mean-field recursion).
    theory_se: f64,
    simulated: f64,
    simulated_se: f64,
    /// `simulated − theory`.
    difference: f64,
    /// Combined standard error of the difference.
    se: f64,
    /// `N · (simulated − theory)`: constant in `N` for an O(1/N) bias.
    n_times_difference: f64,
}

/// Weighted least-squares fit `difference = κ/N` of one cell's statistic.
#[derive(Debug, Serialize)]
struct BiasFit {
    cell: &'static str,
    statistic: &'static str,
    kappa: f64,
    kappa_se: f64,
    chi2: f64,
    dof: usize,
}

/// A theory series with its standard errors, if it has any.
type WithSe<'a> = (&'a [f64], Option<&'a [f64]>);

/// Stage 5, second part: the error of the theory against simulated networks as a function of
/// the width, showing the O(1/N) finite-width bias.
fn finite_width(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<String, String> {
    let e = |x: crate::Error| x.to_string();
    let widths: &[usize] = if quick {
        &[16, 32]
    } else {
        &[16, 32, 64, 128, 256]
    };
    let (seeds, batch, units) = if quick {
        (32, 8, 100_000)
    } else {
        (256, 64, 1_000_000)
    };
    let steps = 10;
    let sched = RhoSchedule::constant(0.5, steps).map_err(e)?;
    let i = steps - 1;
    let mut rows: Vec<FiniteWidthRow> = Vec::new();
    let mut push = |cell: &'static str, n: usize, th: [WithSe<'_>; 2], sim: &sim::SimTrajectory| {
        let [(tq, tq_se), (tc, tc_se)] = th;
        for (statistic, x, x_se, m, m_se) in [
            (
                "Q",
                tq[i],
                tq_se.map_or(0.0, |v| v[i]),
                sim.big_q[i],
                sim.big_q_se[i],
            ),
            (
                "c",
                tc[i],
                tc_se.map_or(0.0, |v| v[i]),
                sim.c[i],
                sim.c_se[i],
            ),
        ] {
            let se = (m_se * m_se + x_se * x_se).sqrt();
            rows.push(FiniteWidthRow {
                cell,
                statistic,
                width: n,
                step: steps,
                theory: x,
                theory_se: x_se,
                simulated: m,
                simulated_se: m_se,
                difference: m - x,
                se,
                n_times_difference: n as f64 * (m - x),
            });
        }
    };
    // Vanilla tanh RNN (chaotic side), against the mean-field recursion.
    let tanh = Cell::vanilla(Builtin::Tanh);
    let vp = CellParams::builder()
        .sigma_w(1.5)
        .sigma_v(0.3)
        .sigma_b(0.1)
        .mu_b(0.0)
        .r(1.0)
        .build()
        .map_err(e)?;
    let th = tanh
        .mean_field(&vp)
        .and_then(|v| v.trajectory(&sched))
        .map_err(e)?;
    for (k, &n) in widths.iter().enumerate() {
        let sim = sim::simulate(
            &tanh,
            &vp,
            &sched,
            &SimConfig::builder()
                .width(n)
                .batch(batch)
                .seeds(seeds)
                .seed(81 + k as u64)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        push("vanilla", n, [(&th.big_q, None), (&th.c, None)], &sim);
        bar.inc(1);
    }
    // minimalRNN, against the exact tied-weight theory (sampled, with its standard error).
    let (sw, sv, mu, r) = (6.88, 1.39, 0.0, 0.46);
    let mp = CellParams::builder()
        .sigma_w(sw)
        .sigma_v(sv)
        .sigma_b(0.0)
        .mu_b(mu)
        .r(r)
        .build()
        .map_err(e)?;
    let ex = exact::trajectory(
        &Cell::Minimal,
        &mp,
        &sched,
        Regime::REAL,
        &ExactConfig::builder()
            .units(units)
            .replicas(8)
            .seed(91)
            .build()
            .map_err(e)?,
    )
    .map_err(e)?;
    for (k, &n) in widths.iter().enumerate() {
        let sim = sim::simulate(
            &Cell::Minimal,
            &mp,
            &sched,
            &SimConfig::builder()
                .width(n)
                .batch(batch)
                .seeds(seeds)
                .seed(101 + k as u64)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        push(
            "minimal",
            n,
            [(&ex.big_q, Some(&ex.big_q_se)), (&ex.c, Some(&ex.c_se))],
            &sim,
        );
        bar.inc(1);
    }
    let mut fits = Vec::new();
    for cell in ["vanilla", "minimal"] {
        for statistic in ["Q", "c"] {
            let sel: Vec<&FiniteWidthRow> = rows
                .iter()
                .filter(|r| r.cell == cell && r.statistic == statistic)
                .collect();
            let pts: Vec<(usize, f64, f64)> =
                sel.iter().map(|r| (r.width, r.difference, r.se)).collect();
            let fit = fit_inverse_width(&pts);
            fits.push(BiasFit {
                cell,
                statistic,
                kappa: fit.kappa,
                kappa_se: fit.kappa_se,
                chi2: fit.chi2,
                dof: fit.dof,
            });
        }
    }
    #[derive(Serialize)]
    struct Out<'a> {
        rows: &'a [FiniteWidthRow],
        fits: &'a [BiasFit],
    }
    fs::write(
        dir.join("finite_width.json"),
        serde_json::to_string_pretty(&Out {
            rows: &rows,
            fits: &fits,
        })
        .expect("serialisable"),
    )
    .map_err(io_err)?;
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
    fs::write(dir.join("finite_width.csv"), csv).map_err(io_err)?;
    let x_max = 1.0 / widths[0] as f64;
    let mut figs = String::new();
    for (cell, title, theory) in [
        (
            "vanilla",
            "vanilla tanh RNN (σ_w = 1.5, σ_v = 0.3, σ_b = 0.1, R = 1)",
            "the mean-field recursion",
        ),
        (
            "minimal",
            "minimalRNN (σ_w = 6.88, σ_v = 1.39, σ_b = 0, μ_b = 0, R = 0.46)",
            "the exact tied-weight theory",
        ),
    ] {
        let mut data = Vec::new();
        for f in fits.iter().filter(|f| f.cell == cell) {
            let sel: Vec<&FiniteWidthRow> = rows
                .iter()
                .filter(|r| r.cell == cell && r.statistic == f.statistic)
                .collect();
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
            dir,
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
    for n in widths {
        let _ = write!(body, "<th>N·Δ at N = {n}</th>");
    }
    body.push_str("</tr>\n");
    for f in &fits {
        let sel: Vec<&FiniteWidthRow> = rows
            .iter()
            .filter(|r| r.cell == f.cell && r.statistic == f.statistic)
            .collect();
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

/// A section of the report: a heading and HTML.
struct Section {
    title: String,
    body: String,
}

fn io_err(e: std::io::Error) -> String {
    format!("writing report: {e}")
}

/// Stage 1: timescale phase diagrams with the critical line.
fn stage_phase(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<Section, String> {
    let n = if quick { 24 } else { 120 };
    let act = Cell::vanilla(Builtin::Tanh);
    let e = |x: crate::Error| x.to_string();
    let mut body = String::from(
        "<p>The memory timescale ξ_c of the correlation map (identical inputs, ρ = 1; in the ordered \
         phase ξ_c = ξ₁) over two parameters, log colour scale; dashed: the critical line χ₁ = 1. \
         The vanilla RNN has a long memory only in a narrow band around the line; the minimalRNN's \
         gate bias μ_b opens a broad region of long memory.</p>\n",
    );
    let diagrams: Vec<(&str, PhaseDiagram)> = vec![
        (
            "vanilla_sigma_w_sigma_b",
            phase::diagram(
                &act,
                CellParams::builder()
                    .sigma_w(1.0)
                    .sigma_v(0.0)
                    .sigma_b(0.0)
                    .mu_b(0.0)
                    .r(1.0)
                    .build()
                    .map_err(e)?,
                1.0,
                Axis {
                    param: Param::SigmaW,
                    lo: 0.5,
                    hi: 3.0,
                    n,
                },
                Axis {
                    param: Param::SigmaB,
                    lo: 0.0,
                    hi: 1.0,
                    n,
                },
                Quantity::XiC,
                &|_| {},
            )
            .map_err(e)?,
        ),
        (
            "vanilla_sigma_w_sigma_v",
            phase::diagram(
                &act,
                CellParams::builder()
                    .sigma_w(1.0)
                    .sigma_v(0.0)
                    .sigma_b(0.05)
                    .mu_b(0.0)
                    .r(1.0)
                    .build()
                    .map_err(e)?,
                1.0,
                Axis {
                    param: Param::SigmaW,
                    lo: 0.5,
                    hi: 3.0,
                    n,
                },
                Axis {
                    param: Param::SigmaV,
                    lo: 0.0,
                    hi: 1.0,
                    n,
                },
                Quantity::XiC,
                &|_| {},
            )
            .map_err(e)?,
        ),
        (
            "minimal_sigma_w_mu_b",
            phase::diagram(
                &Cell::Minimal,
                CellParams::builder()
                    .sigma_w(1.0)
                    .sigma_v(1.39)
                    .sigma_b(0.0)
                    .mu_b(0.0)
                    .r(0.46)
                    .build()
                    .map_err(e)?,
                1.0,
                Axis {
                    param: Param::SigmaW,
                    lo: 0.5,
                    hi: 10.0,
                    n,
                },
                Axis {
                    param: Param::MuB,
                    lo: -4.0,
                    hi: 8.0,
                    n,
                },
                Quantity::XiC,
                &|_| {},
            )
            .map_err(e)?,
        ),
    ];
    for (name, d) in &diagrams {
        fs::write(dir.join(format!("{name}.svg")), phase_svg(d)).map_err(io_err)?;
        fs::write(dir.join(format!("{name}.csv")), d.to_csv()).map_err(io_err)?;
        let _ = writeln!(
            body,
            "<figure><img src=\"{name}.svg\" alt=\"{name}\" width=\"760\"><figcaption>{name}: data \
             <a href=\"{name}.csv\">{name}.csv</a></figcaption></figure>"
        );
        bar.inc(1);
    }
    Ok(Section {
        title: "1. Phase diagrams of the memory timescale".into(),
        body,
    })
}

#[derive(Serialize)]
struct SeriesData {
    name: String,
    t: Vec<f64>,
    value: Vec<f64>,
    se: Option<Vec<f64>>,
}

/// Writes a figure (SVG) and its data (JSON) and returns the HTML that shows it. Series come
/// in groups of `group` sharing a colour; within a group, names containing "factorised" or
/// "sampled" are dashed.
#[allow(clippy::too_many_arguments)]
fn figure(
    dir: &Path,
    name: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    data: &[SeriesData],
    group: usize,
    caption: &str,
) -> Result<String, String> {
    let series: Vec<Series<'_>> = data
        .iter()
        .enumerate()
        .map(|(k, d)| Series {
            name: d.name.clone(),
            x: &d.t,
            y: &d.value,
            err: d.se.as_deref(),
            colour: PALETTE[(k / group) % PALETTE.len()],
            dashed: d.name.contains("factorised") || d.name.contains("sampled"),
        })
        .collect();
    fs::write(
        dir.join(format!("{name}.svg")),
        line_chart(title, x_label, y_label, &series, ""),
    )
    .map_err(io_err)?;
    fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string(data).expect("serialisable"),
    )
    .map_err(io_err)?;
    Ok(format!(
        "<figure><img src=\"{name}.svg\" alt=\"{name}\" width=\"760\"><figcaption>{caption} Data: \
         <a href=\"{name}.json\">{name}.json</a></figcaption></figure>\n"
    ))
}

/// Stage 2: signal propagation, theory against simulation.
fn stage_propagation(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<Section, String> {
    let e = |x: crate::Error| x.to_string();
    let steps = if quick { 30 } else { 100 };
    let (width, seeds, batch, units) = if quick {
        (96, 3, 4, 4_000)
    } else {
        (512, 8, 8, 32_000)
    };
    let switch = format!("0x10,1x{}", steps - 10);
    let sched = RhoSchedule::parse(&switch).map_err(e)?;
    let indep = RhoSchedule::constant(0.0, steps).map_err(e)?;
    let tf = |n: usize| -> Vec<f64> { (1..=n).map(|t| t as f64).collect() };
    let mut body = format!(
        "<p>Two input sequences, uncorrelated for 10 steps and identical afterwards (and, below, \
         independent throughout). Lines: theory; markers: real networks of width {width} (tied \
         weights, frozen bias; mean of {seeds} networks × {batch} sequence pairs, bars ±2 standard \
         errors). For the minimalRNN, dashed lines are the factorised mean field and solid lines the \
         exact tied-weight theory (sampled with {units} unit paths).</p>\n"
    );
    // Vanilla RNN.
    let mut data = Vec::new();
    for (label, sw) in [("ordered σ_w = 0.9", 0.9), ("chaotic σ_w = 1.5", 1.5)] {
        let tanh = Cell::vanilla(Builtin::Tanh);
        let vp = CellParams::builder()
            .sigma_w(sw)
            .sigma_v(0.5)
            .sigma_b(0.1)
            .mu_b(0.0)
            .r(1.0)
            .build()
            .map_err(e)?;
        let th = tanh
            .mean_field(&vp)
            .and_then(|v| v.trajectory(&sched))
            .map_err(e)?;
        let sim = sim::simulate(
            &tanh,
            &vp,
            &sched,
            &SimConfig::builder()
                .width(width)
                .batch(batch)
                .seeds(seeds)
                .seed(11)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        data.push(SeriesData {
            name: format!("{label} theory"),
            t: tf(steps),
            value: th.c,
            se: None,
        });
        data.push(SeriesData {
            name: format!("{label} simulation"),
            t: tf(steps),
            value: sim.c,
            se: Some(sim.c_se),
        });
        bar.inc(1);
    }
    body += &figure(
        dir,
        "vanilla_c",
        "vanilla tanh RNN: pre-activation correlation c^t",
        "step t",
        "c^t",
        &data,
        2,
        "Vanilla tanh RNN, σ_v = 0.5, σ_b = 0.1, R = 1: correlation of the two sequences' pre-activations.",
    )?;
    // minimalRNN, several μ_b.
    let mus: &[f64] = if quick {
        &[-3.0, 2.0, 5.5]
    } else {
        &[-3.0, 0.0, 2.0, 3.5, 5.5]
    };
    for (sname, sch, what) in [
        (
            "minimal_c_switch",
            &sched,
            "uncorrelated for 10 steps, then identical",
        ),
        ("minimal_c_independent", &indep, "independent throughout"),
    ] {
        let mut data = Vec::new();
        for (k, &mu) in mus.iter().enumerate() {
            let pp = CellParams::builder()
                .sigma_w(6.88)
                .sigma_v(1.39)
                .sigma_b(0.0)
                .mu_b(mu)
                .r(0.46)
                .build()
                .map_err(e)?;
            let fac = Cell::Minimal
                .mean_field(&pp)
                .and_then(|m| m.trajectory(sch))
                .map_err(e)?;
            let ex = exact::trajectory(
                &Cell::Minimal,
                &pp,
                sch,
                Regime::REAL,
                &ExactConfig::builder()
                    .units(units)
                    .replicas(8)
                    .seed(3 + k as u64)
                    .build()
                    .map_err(e)?,
            )
            .map_err(e)?;
            let sim = sim::simulate(
                &Cell::Minimal,
                &pp,
                sch,
                &SimConfig::builder()
                    .width(width)
                    .batch(batch)
                    .seeds(seeds)
                    .seed(21 + k as u64)
                    .build()
                    .map_err(e)?,
            )
            .map_err(e)?;
            data.push(SeriesData {
                name: format!("μ_b = {mu} factorised"),
                t: tf(steps),
                value: fac.c,
                se: None,
            });
            data.push(SeriesData {
                name: format!("μ_b = {mu} exact"),
                t: tf(steps),
                value: ex.c,
                se: None,
            });
            data.push(SeriesData {
                name: format!("μ_b = {mu} simulation"),
                t: tf(steps),
                value: sim.c,
                se: Some(sim.c_se),
            });
            bar.inc(1);
        }
        body += &figure(
            dir,
            sname,
            &format!("minimalRNN: hidden-state correlation c^t ({what})"),
            "step t",
            "c^t",
            &data,
            3,
            &format!("minimalRNN, σ_w = 6.88, σ_v = 1.39, σ_b = 0, R = 0.46; inputs {what}."),
        )?;
    }
    // Q^t including the slow large-μ_b case.
    let mut data = Vec::new();
    for (k, &(sw, mu)) in [(6.88, 0.0), (6.88, 3.5), (3.0, 6.0)].iter().enumerate() {
        let pp = CellParams::builder()
            .sigma_w(sw)
            .sigma_v(1.39)
            .sigma_b(0.0)
            .mu_b(mu)
            .r(0.46)
            .build()
            .map_err(e)?;
        let fac = Cell::Minimal
            .mean_field(&pp)
            .and_then(|m| m.trajectory(&sched))
            .map_err(e)?;
        let ex = exact::trajectory(
            &Cell::Minimal,
            &pp,
            &sched,
            Regime::REAL,
            &ExactConfig::builder()
                .units(units)
                .replicas(8)
                .seed(31 + k as u64)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        let sim = sim::simulate(
            &Cell::Minimal,
            &pp,
            &sched,
            &SimConfig::builder()
                .width(width)
                .batch(batch)
                .seeds(seeds)
                .seed(41 + k as u64)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        let scale =
            |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|x| x / fac.big_q[steps - 1]).collect() };
        let lab = format!("σ_w = {sw}, μ_b = {mu}");
        data.push(SeriesData {
            name: format!("{lab} factorised"),
            t: tf(steps),
            value: scale(fac.big_q.clone()),
            se: None,
        });
        data.push(SeriesData {
            name: format!("{lab} exact"),
            t: tf(steps),
            value: scale(ex.big_q),
            se: None,
        });
        data.push(SeriesData {
            name: format!("{lab} simulation"),
            t: tf(steps),
            value: scale(sim.big_q),
            se: Some(scale(sim.big_q_se)),
        });
        bar.inc(1);
    }
    body += &figure(
        dir,
        "minimal_big_q",
        "minimalRNN: state second moment Q^t (relative to the factorised Q at the last step)",
        "step t",
        "Q^t / Q_factorised(T)",
        &data,
        3,
        "The slow case σ_w = 3, μ_b = 6 approaches its fixed point over hundreds of steps (χ_Q = 0.9925); the factorised theory misses the tied network at σ_w = 6.88, μ_b = 3.5 by a factor of ~3.",
    )?;
    Ok(Section {
        title: "2. Signal propagation: theory against simulation".into(),
        body,
    })
}

/// Stage 3: Jacobian spectra at critical initialization, vanilla RNN (free probability,
/// exact) and minimalRNN ([`minimal_spectra`]).
fn stage_spectra(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<Section, String> {
    let e = |x: crate::Error| x.to_string();
    let (width, seeds) = if quick { (80, 2) } else { (400, 4) };
    let horizons: &[usize] = if quick { &[5] } else { &[5, 20] };
    let tanh = Cell::vanilla(Builtin::Tanh);
    let act = Builtin::Tanh.arc();
    let mut body = format!(
        "<h3>Vanilla tanh RNN</h3>\n<p>The squared singular values of the T-step Jacobian of a \
         critical tanh RNN (χ₁ = 1; \
         σ_w² = 1/E[φ'²] and σ_b² = q* − σ_w² E[φ²] at q* = 0.1, no inputs): free-probability \
         density (lines) against {seeds} sampled networks of width {width} (dashed histograms). \
         Orthogonal weights keep the spectrum near 1; Gaussian weights add T to its normalised \
         variance.</p>\n<table><tr><th>W</th><th>T</th><th>normalised variance (theory)</th>\
         <th>sampled</th><th>m₁ sampled</th><th>KS distance</th></tr>\n"
    );
    let q = 0.1;
    // The critical initialization at q*, with the whole remaining variance in the bias.
    let c = init::critical(&tanh, &Target::q_star(q).given(init::Given::SigmaV(0.0))).map_err(e)?;
    let law = DiagonalLaw::of_activation(act.as_ref(), 0.0, q).map_err(e)?;
    let sw2 = c.params.sigma_w2();
    let mut figs = String::new();
    for &t in horizons {
        let mut data = Vec::new();
        for (wl, label) in [
            (WeightLaw::Orthogonal, "orthogonal"),
            (WeightLaw::Gaussian, "Gaussian"),
        ] {
            let sp = ProductSpectrum::new(law.clone(), sw2, t, wl).map_err(e)?;
            let d = sp.density(if quick { 120 } else { 400 }).map_err(e)?;
            let js = jacobian::sample(
                &tanh,
                &c.params,
                &SimConfig::builder()
                    .width(width)
                    .batch(1)
                    .seeds(seeds)
                    .seed(5)
                    .weights(wl)
                    .build()
                    .map_err(e)?,
                t,
                50,
                jacobian::Accumulation::Direct,
            )
            .map_err(e)?;
            let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
            let m = js.moments;
            let _ = writeln!(
                body,
                "<tr><td>{label}</td><td>{t}</td><td>{:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td><td>{ks:.4}</td></tr>",
                sp.moments().normalized_variance,
                m.normalized_variance,
                m.normalized_variance_se,
                m.m1,
                m.m1_se
            );
            // Density on the part of the support that carries the bulk (λ < 4 for the plot).
            let keep: Vec<usize> = (0..d.lambda.len())
                .filter(|&i| d.lambda[i] >= 0.02 && d.lambda[i] <= 4.0)
                .collect();
            data.push(SeriesData {
                name: format!("{label} theory"),
                t: keep.iter().map(|&i| d.lambda[i]).collect(),
                value: keep.iter().map(|&i| d.density[i]).collect(),
                se: None,
            });
            let bins = 50;
            let (lo, hi) = (0.02, 4.0);
            let wbin = (hi - lo) / bins as f64;
            let mut counts = vec![0usize; bins];
            for &x in &js.squared_singular_values {
                if x >= lo && x < hi {
                    counts[((x - lo) / wbin) as usize] += 1;
                }
            }
            let n = js.squared_singular_values.len() as f64;
            data.push(SeriesData {
                name: format!("{label} sampled"),
                t: (0..bins).map(|i| lo + (i as f64 + 0.5) * wbin).collect(),
                value: counts.iter().map(|&c| c as f64 / (n * wbin)).collect(),
                se: None,
            });
            bar.inc(1);
        }
        figs += &figure(
            dir,
            &format!("spectrum_T{t}"),
            &format!("critical tanh RNN: squared singular values of J_T, T = {t}"),
            "λ",
            "density",
            &data,
            2,
            &format!("T = {t}; the x axis is the eigenvalue λ of J_T J_T^T (0.02 ≤ λ ≤ 4 shown)."),
        )?;
    }
    body.push_str("</table>\n");
    body.push_str(&figs);
    body += &minimal_spectra(dir, quick, bar)?;
    Ok(Section {
        title: "3. Jacobian spectra at critical initialization".into(),
        body,
    })
}

/// One row of the minimalRNN spectrum table.
#[derive(Debug, Serialize)]
struct MinimalSpectrumRow {
    /// Weight law of `W` (theory and sampled networks).
    weights: &'static str,
    q_star: f64,
    mu_b: f64,
    r: f64,
    sigma_w: f64,
    sigma_v: f64,
    steps: usize,
    /// `true` only for one step; the free approximation otherwise.
    exact: bool,
    theory_m1: f64,
    unit_recursion_m1: f64,
    unit_recursion_m1_se: f64,
    theory_normalized_variance: f64,
    sampled_m1: f64,
    sampled_m1_se: f64,
    sampled_normalized_variance: f64,
    sampled_normalized_variance_se: f64,
    ks_distance: f64,
    /// `∫ρ` over the theory's density grid; the rest sits below the first grid point, where
    /// the distribution function is a power-law continuation.
    theory_mass_on_grid: f64,
    law_atoms: usize,
    width: usize,
    networks: usize,
    burn_in: usize,
    warnings: String,
}

/// Stage 3, second part: Jacobian spectra of critical minimalRNNs. The one-step law of the
/// Jacobian diagonals comes from unit paths of the exact tied-weight theory after the same
/// burn-in the sampled networks run; one step is exact, T > 1 is the free approximation.
fn minimal_spectra(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<String, String> {
    let e = |x: crate::Error| x.to_string();
    let (width, seeds, units, points) = if quick {
        (80, 2, 2_000, 300)
    } else {
        (400, 8, 12_000, 300)
    };
    let horizons: &[usize] = if quick { &[1] } else { &[1, 5] };
    let t_max = *horizons.last().expect("non-empty");
    let (r, burn_in) = (0.46, 200);
    let cases = [(16.0, 0.0), (16.0, 4.0)];
    // Per case: the initialization, its cell and the unit paths (all horizons).
    let mut prepared = Vec::new();
    for (k, &(q, mu_b)) in cases.iter().enumerate() {
        let c = init::critical(&Cell::Minimal, &Target::q_star(q).mu_b(mu_b).r(r)).map_err(e)?;
        let paths = exact::jacobian_paths(
            &Cell::Minimal,
            &c.params,
            Regime::REAL,
            burn_in,
            t_max,
            &ExactConfig::builder()
                .units(units)
                .replicas(8)
                .seed(61 + k as u64)
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        let m1 = exact::m1_by_unit_recursion(&paths, c.params.sigma_w());
        prepared.push((c, paths, m1.m1, m1.se));
    }
    let mut rows = Vec::new();
    let mut figs = String::new();
    for &t in horizons {
        let mut curves = Vec::new();
        for (k, (c, paths, m1s, m1_se)) in prepared.iter().enumerate() {
            // The stationary one-step law: the first step after the burn-in.
            let law = GatedLaw::from_paths(paths, 0, c.params.sigma_w()).map_err(e)?;
            let atoms = law.len();
            // Orthogonal W is drawn in the figures; Gaussian W joins the table.
            for (wl, wname) in [
                (WeightLaw::Orthogonal, "orthogonal"),
                (WeightLaw::Gaussian, "gaussian"),
            ] {
                let sp = GatedSpectrum::new(law.clone(), wl, t).map_err(e)?;
                let mom = sp.moments();
                let d = sp.density(points).map_err(e)?;
                let cfg = SimConfig::builder()
                    .width(width)
                    .batch(1)
                    .seeds(seeds)
                    .seed(71 + k as u64)
                    .weights(wl)
                    .build()
                    .map_err(e)?;
                let js = jacobian::sample(
                    &Cell::Minimal,
                    &c.params,
                    &cfg,
                    t,
                    burn_in,
                    jacobian::Accumulation::Direct,
                )
                .map_err(e)?;
                let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
                let em = js.moments;
                rows.push(MinimalSpectrumRow {
                    weights: wname,
                    q_star: c.q_star,
                    mu_b: c.params.mu_b(),
                    r: c.params.r(),
                    sigma_w: c.params.sigma_w(),
                    sigma_v: c.params.sigma_v(),
                    steps: t,
                    exact: mom.exact,
                    theory_m1: mom.m1,
                    unit_recursion_m1: m1s[t - 1],
                    unit_recursion_m1_se: m1_se[t - 1],
                    theory_normalized_variance: mom.normalized_variance,
                    sampled_m1: em.m1,
                    sampled_m1_se: em.m1_se,
                    sampled_normalized_variance: em.normalized_variance,
                    sampled_normalized_variance_se: em.normalized_variance_se,
                    ks_distance: ks,
                    theory_mass_on_grid: d.mass,
                    law_atoms: atoms,
                    width,
                    networks: seeds,
                    burn_in,
                    warnings: c.warnings.join("; "),
                });
                if wl == WeightLaw::Orthogonal {
                    curves.push((c.params.mu_b(), d, js.squared_singular_values));
                }
            }
            bar.inc(1);
        }
        // Show the bulk: up to the largest 97% quantile of the samples.
        let hi = curves
            .iter()
            .map(|(_, _, xs)| quantile(xs, 0.97))
            .fold(0.0f64, f64::max)
            .max(1.0);
        let lo = 0.01 * hi;
        let bins = if quick { 30 } else { 60 };
        let wbin = (hi - lo) / bins as f64;
        let mut data = Vec::new();
        let mut mass_in_view = Vec::new();
        for (mu_b, d, xs) in &curves {
            let inside = xs.iter().filter(|&&x| x >= lo && x <= hi).count();
            mass_in_view.push(format!(
                "{:.2}/{:.2} at μ_b = {mu_b}",
                d.cdf(hi) - d.cdf(lo),
                inside as f64 / xs.len() as f64
            ));
            let keep: Vec<usize> = (0..d.lambda.len())
                .filter(|&i| d.lambda[i] >= lo && d.lambda[i] <= hi)
                .collect();
            data.push(SeriesData {
                name: format!(
                    "μ_b = {mu_b} theory{}",
                    if t == 1 { "" } else { " (free approx.)" }
                ),
                t: keep.iter().map(|&i| d.lambda[i]).collect(),
                value: keep.iter().map(|&i| d.density[i]).collect(),
                se: None,
            });
            let mut counts = vec![0usize; bins];
            for &x in xs {
                if x >= lo && x < hi {
                    counts[(((x - lo) / wbin) as usize).min(bins - 1)] += 1;
                }
            }
            let n = xs.len() as f64;
            data.push(SeriesData {
                name: format!("μ_b = {mu_b} sampled"),
                t: (0..bins).map(|i| lo + (i as f64 + 0.5) * wbin).collect(),
                value: counts.iter().map(|&c| c as f64 / (n * wbin)).collect(),
                se: None,
            });
        }
        let what = if t == 1 {
            "exact (one step)".to_string()
        } else {
            "free approximation, not exact".to_string()
        };
        figs += &figure(
            dir,
            &format!("spectrum_minimal_T{t}"),
            &format!("critical minimalRNN: squared singular values of J_T, T = {t} — {what}"),
            "λ",
            "density",
            &data,
            2,
            &format!(
                "minimalRNN, T = {t}, orthogonal W; theory: {what}. The x axis is the \
                 eigenvalue λ of J_T J_T^T ({lo:.3} ≤ λ ≤ {hi:.2} shown, up to the 97% quantile \
                 of the samples; mass in view, theory/sampled: {}). The saturated gates put \
                 much of the mass near λ = 0: the distribution functions below show all of it.",
                mass_in_view.join(", ")
            ),
        )?;
        // Distribution functions on a log scale: the whole spectrum, as the KS distance sees it.
        let (llo, lhi) = curves
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), (_, _, xs)| {
                (
                    a.min(quantile(xs, 0.005).max(1e-12)),
                    b.max(quantile(xs, 0.995)),
                )
            });
        let (llo, lhi) = (llo.log10(), lhi.log10());
        let grid: Vec<f64> = (0..=150)
            .map(|i| llo + (lhi - llo) * i as f64 / 150.0)
            .collect();
        let mut cdfs = Vec::new();
        for (mu_b, d, xs) in &curves {
            cdfs.push(SeriesData {
                name: format!(
                    "μ_b = {mu_b} theory{}",
                    if t == 1 { "" } else { " (free approx.)" }
                ),
                t: grid.clone(),
                value: grid.iter().map(|&g| d.cdf(10f64.powf(g))).collect(),
                se: None,
            });
            let n = xs.len() as f64;
            cdfs.push(SeriesData {
                name: format!("μ_b = {mu_b} sampled"),
                t: grid.clone(),
                value: grid
                    .iter()
                    .map(|&g| xs.partition_point(|&x| x <= 10f64.powf(g)) as f64 / n)
                    .collect(),
                se: None,
            });
        }
        figs += &figure(
            dir,
            &format!("spectrum_minimal_cdf_T{t}"),
            &format!("critical minimalRNN: distribution of λ, T = {t} — {what}"),
            "log₁₀ λ",
            "P(λ' ≤ λ)",
            &cdfs,
            2,
            &format!(
                "minimalRNN, T = {t}: distribution function of the squared singular values, \
                 theory ({what}) against the sampled networks, from the 0.5% to the 99.5% \
                 quantile of the samples."
            ),
        )?;
    }
    fs::write(
        dir.join("spectrum_minimal.json"),
        serde_json::to_string_pretty(&rows).expect("serialisable"),
    )
    .map_err(io_err)?;
    let mut csv = String::from(
        "weights,q_star,mu_b,r,sigma_w,sigma_v,steps,exact,theory_m1,unit_recursion_m1,unit_recursion_m1_se,theory_normalized_variance,sampled_m1,sampled_m1_se,sampled_normalized_variance,sampled_normalized_variance_se,ks_distance,theory_mass_on_grid,law_atoms,width,networks,burn_in\n",
    );
    let mut body = format!(
        "<h3>minimalRNN</h3>\n<p>Critical minimalRNNs (<code>init::critical</code>: χ₁ = 1 in \
         the factorised theory at q* = 16, R = 0.46, σ_b = 0, σ_v solved for) at μ_b = 0 and 4. \
         The theory is the spectrum of J = diag(u) + diag(σ'(e)(h − z)) W with the per-unit law \
         of the diagonals taken from {units} unit paths of the exact tied-weight process after \
         {burn_in} steps from h⁰ = 0 (<code>GatedLaw::from_paths</code>, \
         <code>GatedSpectrum</code>); it is exact for one step (T = 1). <strong>For T > 1 it is \
         the free approximation, not exact</strong>: the one-step factors share each unit's \
         diagonal entries across time and are not free (<code>exact: false</code>). m₁ by the \
         per-unit recursion is exact for untied W given the diagonals, here evaluated on the tied \
         paths (± its standard error over 8 replicas). Sampled: {seeds} tied networks of width \
         {width} with orthogonal (figures and table) and Gaussian W (table) after the same burn-in (± standard error over networks; the \
         normalised variance (m₂ − m₁²)/m₁² is heavy-tailed, so its error bar is wide). The \
         theory's density is computed on a grid from λ = 0; the mass it misses (1 − mass on grid) \
         is placed below the first grid point by a power-law continuation, which dominates the \
         KS distance when the grid misses a few per cent.</p>\n\
         <table><tr><th>W</th><th>q*</th><th>μ_b</th><th>σ_w</th><th>σ_v</th><th>T</th><th>exact</th>\
         <th>m₁ theory</th><th>m₁ unit recursion</th><th>m₁ sampled</th>\
         <th>normalised variance (theory)</th><th>sampled</th><th>KS distance</th>\
         <th>theory mass on grid</th></tr>\n"
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.10},{:.10},{},{},{:.10},{:.10},{:.10},{:.10},{:.10},{:.10},{:.10},{:.10},{:.6},{:.6},{},{},{},{}",
            r.weights,
            r.q_star,
            r.mu_b,
            r.r,
            r.sigma_w,
            r.sigma_v,
            r.steps,
            r.exact,
            r.theory_m1,
            r.unit_recursion_m1,
            r.unit_recursion_m1_se,
            r.theory_normalized_variance,
            r.sampled_m1,
            r.sampled_m1_se,
            r.sampled_normalized_variance,
            r.sampled_normalized_variance_se,
            r.ks_distance,
            r.theory_mass_on_grid,
            r.law_atoms,
            r.width,
            r.networks,
            r.burn_in
        );
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td><td>{}</td>\
             <td>{:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4}</td>\
             <td>{:.4} ± {:.4}</td><td>{:.4}</td><td>{:.3}</td></tr>",
            r.weights,
            r.q_star,
            r.mu_b,
            r.sigma_w,
            r.sigma_v,
            r.steps,
            if r.exact {
                "exact".to_string()
            } else {
                "<strong>free approximation, not exact</strong>".to_string()
            },
            r.theory_m1,
            r.unit_recursion_m1,
            r.unit_recursion_m1_se,
            r.sampled_m1,
            r.sampled_m1_se,
            r.theory_normalized_variance,
            r.sampled_normalized_variance,
            r.sampled_normalized_variance_se,
            r.ks_distance,
            r.theory_mass_on_grid
        );
    }
    fs::write(dir.join("spectrum_minimal.csv"), csv).map_err(io_err)?;
    body.push_str("</table>\n");
    let warned: Vec<String> = rows
        .iter()
        .filter(|r| r.steps == 1 && !r.warnings.is_empty())
        .map(|r| format!("μ_b = {}: {}", r.mu_b, esc(&r.warnings)))
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(
            body,
            "<p>Initialization warnings: {}.</p>",
            warned.join("; ")
        );
    }
    body.push_str(
        "<p>Data: <a href=\"spectrum_minimal.csv\">spectrum_minimal.csv</a>, \
         <a href=\"spectrum_minimal.json\">spectrum_minimal.json</a>.</p>\n",
    );
    body.push_str(&figs);
    Ok(body)
}

/// One row of the critical-initialization table.
#[derive(Debug, Serialize)]
struct InitRow {
    cell: &'static str,
    q_star: f64,
    mu_b: f64,
    r: f64,
    feasible: bool,
    sigma_w: Option<f64>,
    sigma_v: Option<f64>,
    big_q_star: Option<f64>,
    normalized_variance_per_step_orthogonal: Option<f64>,
    rms_ratio_t100_orthogonal: Option<f64>,
    simulated_chi_1: Option<f64>,
    simulated_chi_1_se: Option<f64>,
    note: String,
}

/// Stage 4: critical initialization of both cells across q* and μ_b, with feasibility and
/// (full run) the χ₁ of simulated networks.
fn stage_init(dir: &Path, quick: bool, bar: &ProgressBar) -> Result<Section, String> {
    let e = |x: crate::Error| x.to_string();
    let tanh = Cell::vanilla(Builtin::Tanh);
    let (width, seeds, burn_in) = (400, 4, 500);
    let vq: &[f64] = if quick {
        &[0.05, 0.5]
    } else {
        &[0.01, 0.05, 0.1, 0.5, 1.0, 2.0]
    };
    let mq: &[f64] = if quick {
        &[16.0]
    } else {
        &[4.0, 8.0, 16.0, 32.0]
    };
    let mmu: &[f64] = if quick {
        &[0.0, 4.0]
    } else {
        &[-2.0, 0.0, 2.0, 4.0, 8.0]
    };
    let mut rows = Vec::new();
    let simulate = |c: &init::CriticalInit| -> Result<(f64, f64), String> {
        let cfg = SimConfig::builder()
            .width(width)
            .batch(1)
            .seeds(seeds)
            .seed(9)
            .weights(WeightLaw::Orthogonal)
            .build()
            .map_err(e)?;
        let m = jacobian::sample(
            &c.cell,
            &c.params,
            &cfg,
            1,
            burn_in,
            jacobian::Accumulation::Direct,
        )
        .map_err(e)?
        .moments;
        Ok((m.m1, m.m1_se))
    };
    let mut push = |cell: &'static str,
                    q: f64,
                    mu_b: f64,
                    r: f64,
                    res: crate::Result<init::CriticalInit>|
     -> Result<(), String> {
        let row = match res {
            Ok(c) => {
                let w = c.spectral_width(100).map_err(e)?;
                let sim = if quick { None } else { Some(simulate(&c)?) };
                InitRow {
                    cell,
                    q_star: q,
                    mu_b,
                    r,
                    feasible: true,
                    sigma_w: Some(c.params.sigma_w()),
                    sigma_v: Some(c.params.sigma_v()),
                    big_q_star: Some(c.big_q_star),
                    normalized_variance_per_step_orthogonal: Some(
                        c.normalized_variance_per_step.orthogonal,
                    ),
                    rms_ratio_t100_orthogonal: Some(w.rms_ratio.orthogonal),
                    simulated_chi_1: sim.map(|s| s.0),
                    simulated_chi_1_se: sim.map(|s| s.1),
                    note: c.warnings.join("; "),
                }
            }
            Err(crate::Error::Infeasible { feasible, .. }) => InitRow {
                cell,
                q_star: q,
                mu_b,
                r,
                feasible: false,
                sigma_w: None,
                sigma_v: None,
                big_q_star: None,
                normalized_variance_per_step_orthogonal: None,
                rms_ratio_t100_orthogonal: None,
                simulated_chi_1: None,
                simulated_chi_1_se: None,
                note: feasible,
            },
            Err(x) => return Err(x.to_string()),
        };
        rows.push(row);
        Ok(())
    };
    for &q in vq {
        push(
            "vanilla",
            q,
            0.0,
            1.0,
            init::critical(&tanh, &Target::q_star(q)),
        )?;
    }
    bar.inc(1);
    for &mu_b in mmu {
        for &q in mq {
            push(
                "minimal",
                q,
                mu_b,
                0.46,
                init::critical(&Cell::Minimal, &Target::q_star(q).mu_b(mu_b).r(0.46)),
            )?;
        }
    }
    bar.inc(1);
    fs::write(
        dir.join("init.json"),
        serde_json::to_string_pretty(&rows).expect("serialisable"),
    )
    .map_err(io_err)?;
    let opt = |x: Option<f64>, p: usize| x.map_or("—".to_string(), |v| format!("{v:.p$}"));
    let mut csv = String::from(
        "cell,q_star,mu_b,r,feasible,sigma_w,sigma_v,Q_star,normalized_variance_per_step_orthogonal,rms_ratio_t100_orthogonal,simulated_chi_1,simulated_chi_1_se,note\n",
    );
    let mut body = format!(
        "<p>Closed-form critical initializations (χ₁ = 1 at the target q*, σ_b = 0, σ_v solved \
         for; <code>mfrnn init</code>, theory/06): vanilla tanh at R = 1 and the minimalRNN at \
         R = 0.46 across q* and μ_b. The spread column is √(m₂)/m₁ of the squared singular \
         values after T = 100 steps with orthogonal W (exact for the vanilla cell, the free \
         approximation on the factorised law for the minimalRNN). {}</p>\n<table><tr><th>cell</th>\
         <th>q*</th><th>μ_b</th><th>σ_w</th><th>σ_v</th><th>Q*</th><th>v₁ (orth.)</th>\
         <th>√(m₂)/m₁ at T = 100</th><th>simulated χ₁</th><th>note</th></tr>\n",
        if quick {
            "Quick run: no simulation.".to_string()
        } else {
            format!(
                "Simulated χ₁: the one-step Jacobian's mean squared singular value in {seeds} \
                 tied networks of width {width} (orthogonal W) after {burn_in} steps from h⁰ = 0, ± \
                 standard error (near the linear regime and at large μ_b the approach to the \
                 fixed point is slow: ξ_q is long)."
            )
        }
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            r.cell,
            r.q_star,
            r.mu_b,
            r.r,
            r.feasible,
            opt(r.sigma_w, 10),
            opt(r.sigma_v, 10),
            opt(r.big_q_star, 10),
            opt(r.normalized_variance_per_step_orthogonal, 10),
            opt(r.rms_ratio_t100_orthogonal, 10),
            opt(r.simulated_chi_1, 6),
            opt(r.simulated_chi_1_se, 6),
            r.note.replace('"', "'")
        );
        let sim = match (r.simulated_chi_1, r.simulated_chi_1_se) {
            (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
            _ => "—".into(),
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{sim}</td><td style=\"text-align:left\">{}</td></tr>",
            r.cell,
            r.q_star,
            r.mu_b,
            opt(r.sigma_w, 4),
            opt(r.sigma_v, 4),
            opt(r.big_q_star, 4),
            opt(r.normalized_variance_per_step_orthogonal, 4),
            opt(r.rms_ratio_t100_orthogonal, 3),
            if r.feasible {
                esc(&r.note)
            } else {
                format!("infeasible: {}", esc(&r.note))
            }
        );
    }
    fs::write(dir.join("init.csv"), csv).map_err(io_err)?;
    body.push_str("</table>\n<p>Data: <a href=\"init.csv\">init.csv</a>, <a href=\"init.json\">init.json</a>.</p>\n");
    Ok(Section {
        title: "4. Critical initialization".into(),
        body,
    })
}

pub(crate) fn run(a: &ReportArgs) -> Result<String, String> {
    let started = Instant::now();
    // The output contract (crate::output): refused before any work unless new, empty, or our
    // own unmodified earlier report; staged inside the target, moved into place at the end.
    let target = OutputDir::prepare(&a.out, "report", "out").map_err(|e| e.to_string())?;
    let tmp = target.staging().to_path_buf();
    let io = io_err;
    let stage_bar = |n: u64, msg: &'static str| {
        let b = ProgressBar::new(n);
        b.set_style(
            ProgressStyle::with_template("{msg:40} {bar:30} {pos}/{len} [{elapsed}]")
                .expect("template"),
        );
        b.set_message(msg);
        b
    };
    let mut sections = Vec::new();
    let bar = stage_bar(3, "[1/5] phase diagrams");
    sections.push(stage_phase(&tmp, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(
        if a.quick { 9 } else { 15 },
        "[2/5] signal propagation vs simulation",
    );
    sections.push(stage_propagation(&tmp, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(if a.quick { 4 } else { 8 }, "[3/5] Jacobian spectra");
    sections.push(stage_spectra(&tmp, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(2, "[4/5] critical initialization");
    sections.push(stage_init(&tmp, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(
        if a.quick { 5 } else { 11 },
        "[5/5] accuracy: engine, finite width",
    );
    let rows = accuracy_rows(a.quick).map_err(|e| e.to_string())?;
    write_csv(&tmp.join("accuracy.csv"), &rows).map_err(io)?;
    fs::write(
        tmp.join("accuracy.json"),
        serde_json::to_string_pretty(&rows).expect("serialisable"),
    )
    .map_err(io)?;
    bar.inc(1);
    let mut body = String::from("<h3>The Gaussian-expectation engine</h3>\n");
    body += &accuracy_html(&rows);
    body += &finite_width(&tmp, a.quick, &bar)?;
    sections.push(Section {
        title: "5. Accuracy: the expectation engine and the finite-width error".into(),
        body,
    });
    bar.finish();
    fs::write(
        tmp.join("index.html"),
        page(&sections, a.quick, started.elapsed().as_secs_f64()),
    )
    .map_err(io)?;
    // Move into place only now: an interrupted run leaves the old report's files untouched.
    let out = target.commit().map_err(|e| e.to_string())?;
    Ok(format!(
        "report written to {}/index.html ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    ))
}

fn page(sections: &[Section], quick: bool, seconds: f64) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mfrnn report</title>\
         <style>body{{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse;font-size:85%}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}\
         figure{{margin:1em 0}}figcaption{{font-size:90%;color:#333}}</style></head><body>\n\
         <h1>mfrnn report</h1>\n<p>Mean-field theory of signal propagation in RNNs (Chen, Pennington &amp; \
         Schoenholz, ICML 2018), computed and checked by mfrnn {} — {} run, {:.0} s. Re-run with \
         <code>cargo run --release -- report{}</code>. Stages: (1) phase diagrams of the memory \
         timescale; (2) signal propagation, theory against simulated networks; (3) Jacobian \
         spectra at critical initialization, vanilla RNN (exact free probability) and \
         minimalRNN (exact for one step, the free approximation beyond); (4) critical \
         initialization tables; (5) accuracy: the expectation engine, and the O(1/N) \
         finite-width error of the theories against simulation.</p>\n",
        env!("CARGO_PKG_VERSION"),
        if quick { "quick" } else { "full" },
        seconds,
        if quick { " --quick" } else { "" }
    );
    for sec in sections {
        let _ = write!(s, "<h2>{}</h2>\n{}", sec.title, sec.body);
    }
    s.push_str("</body></html>\n");
    s
}
