//! `mfrnn report`: runs the analysis on built-in defaults and writes a self-contained
//! report directory (HTML + the data behind every table and figure as CSV/JSON).
//!
//! One file per stage, each choosing parameters, calling the library and rendering:
//! (1) [`phase`]: timescale phase diagrams of both cells with the critical line
//! ([`crate::phase::diagram`]); (2) [`propagation`]: signal propagation, theory (factorised and
//! exact) against simulation of real networks ([`crate::report::propagation`]); (3) [`spectra`]:
//! Jacobian spectra at critical initialization, the vanilla tanh RNN (free probability, exact)
//! and the minimalRNN (the one-step law of the Jacobian diagonals from unit paths of the exact
//! theory: exact for T = 1, the free approximation for T > 1), each against sampled networks
//! ([`crate::spectrum::for_cell_each`]); (4) [`init`]: critical initialization of both cells
//! ([`crate::report::critical_row`]); (5) [`accuracy`]: the expectation engine against its
//! independent adaptive path (a figure, the table as CSV), and the error of the theories
//! against simulated networks as a function of 1/N ([`crate::report::finite_width`]); (6)
//! [`trainability`]: small trainability grids of both cells with the theory's timescale lines
//! ([`crate::report::trainability_grid`]).
//!
//! Output follows the contract of [`crate::output`]: `--out` must be new, an empty directory or
//! an unmodified earlier report (refused before any work otherwise); files are staged inside
//! it ([`OutputDir::write`]) and moved into place at the end, so an interrupted run never
//! leaves a partial report.

mod accuracy;
mod init;
mod phase;
mod propagation;
mod spectra;
mod trainability;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::svg::{Axes, MARKERS, Marker, PALETTE, Series, chart};
use crate::error::Result;
use crate::output::OutputDir;

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

/// A section of the report: a heading and HTML.
struct Section {
    title: String,
    body: String,
}

/// The data of one series of a figure (written as the figure's JSON).
#[derive(Serialize)]
struct SeriesData {
    name: String,
    t: Vec<f64>,
    value: Vec<f64>,
    se: Option<Vec<f64>>,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy)]
struct Style {
    colour: &'static str,
    dashed: bool,
    marker: Marker,
    /// Markers without error bars (a series without standard errors is otherwise a line).
    points: bool,
}

/// Writes a figure (SVG) and its data (JSON) and returns the HTML that shows it. Series come
/// in groups of `group` sharing a colour; within a group, names containing "factorised" or
/// "sampled" are dashed.
#[allow(clippy::too_many_arguments)]
fn figure(
    out: &OutputDir,
    name: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    data: &[SeriesData],
    group: usize,
    caption: &str,
) -> Result<String> {
    let styles: Vec<Style> = data
        .iter()
        .enumerate()
        .map(|(k, d)| Style {
            colour: PALETTE[(k / group) % PALETTE.len()],
            dashed: d.name.contains("factorised") || d.name.contains("sampled"),
            marker: Marker::Circle,
            points: false,
        })
        .collect();
    let labels = [name, title, x_label, y_label, caption];
    figure_styled(out, labels, data, &styles, &Axes::default())
}

/// [`figure`] with a style per series and the axes' scales; `labels` are the file name, title,
/// x label, y label and caption.
fn figure_styled(
    out: &OutputDir,
    labels: [&str; 5],
    data: &[SeriesData],
    styles: &[Style],
    axes: &Axes<'_>,
) -> Result<String> {
    let [name, title, x_label, y_label, caption] = labels;
    let zeros: Vec<f64> = vec![0.0; data.iter().map(|d| d.t.len()).max().unwrap_or(0)];
    let series: Vec<Series<'_>> = data
        .iter()
        .zip(styles)
        .map(|(d, s)| Series {
            name: d.name.clone(),
            x: &d.t,
            y: &d.value,
            err: match (&d.se, s.points) {
                (Some(se), _) => Some(se.as_slice()),
                (None, true) => Some(&zeros[..d.t.len()]),
                (None, false) => None,
            },
            colour: s.colour,
            dashed: s.dashed,
            marker: s.marker,
        })
        .collect();
    out.write(
        &format!("{name}.svg"),
        chart(title, x_label, y_label, &series, "", axes),
    )?;
    out.write(&format!("{name}.json"), to_json(data, false))?;
    Ok(format!(
        "<figure><img src=\"{name}.svg\" alt=\"{name}\" width=\"760\"><figcaption>{caption} Data: \
         <a href=\"{name}.json\">{name}.json</a></figcaption></figure>\n"
    ))
}

/// The marker of the `k`-th kind (cycling through the shapes).
fn marker(k: usize) -> Marker {
    MARKERS[k % MARKERS.len()]
}

/// JSON text of report data (plain types: serialisation cannot fail).
fn to_json<T: Serialize + ?Sized>(data: &T, pretty: bool) -> String {
    if pretty {
        serde_json::to_string_pretty(data).expect("serialisable")
    } else {
        serde_json::to_string(data).expect("serialisable")
    }
}

pub(crate) fn run(a: &ReportArgs) -> Result<String> {
    let started = Instant::now();
    // The output contract (crate::output): refused before any work unless new, empty, or our
    // own unmodified earlier report; staged inside the target, moved into place at the end.
    let out = OutputDir::prepare(&a.out, "report", "out")?;
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
    let bar = stage_bar(4, "[1/6] phase diagrams");
    sections.push(phase::stage(&out, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(
        if a.quick { 9 } else { 15 },
        "[2/6] signal propagation vs simulation",
    );
    sections.push(propagation::stage(&out, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(if a.quick { 4 } else { 8 }, "[3/6] Jacobian spectra");
    sections.push(spectra::stage(&out, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(2, "[4/6] critical initialization");
    sections.push(init::stage(&out, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(
        if a.quick { 5 } else { 11 },
        "[5/6] accuracy: engine, finite width",
    );
    sections.push(accuracy::stage(&out, a.quick, &bar)?);
    bar.finish();
    let bar = stage_bar(
        crate::report::trainability_steps(a.quick),
        "[6/6] trainability grids (training steps)",
    );
    sections.push(trainability::stage(&out, a.quick, &bar)?);
    bar.finish();
    out.write(
        "index.html",
        page(&sections, a.quick, started.elapsed().as_secs_f64()),
    )?;
    // Move into place only now: an interrupted run leaves the old report's files untouched.
    let dir = out.commit()?;
    Ok(format!(
        "report written to {}/index.html ({:.1} s)",
        dir.display(),
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
         finite-width error of the theories against simulation; (6) trainability: accuracy \
         after a fixed training budget against the theory's memory timescales.</p>\n",
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
