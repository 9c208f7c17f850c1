//! `mfrnn report`: runs the analysis on built-in defaults and writes a self-contained
//! report directory (HTML + the data behind every table as CSV/JSON).
//!
//! The report grows with the theory modules. At present it contains the accuracy stage of
//! the expectation engine: the automatic method against the independent adaptive
//! Gauss–Kronrod path for every built-in activation over a grid of variances and means.
//! The directory is written under a temporary name and renamed into place at the end, so an
//! interrupted run never replaces a good report with a partial one.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::activation::Builtin;
use crate::expect::{BivariateNormal, Fun, Integrator, Normal, Strategy};

/// Arguments of `mfrnn report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// Output directory (replaced atomically when the run completes).
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

fn html(rows: &[AccuracyRow], quick: bool) -> String {
    let worst = rows
        .iter()
        .map(|r| r.difference.abs() / r.reference_value.abs().max(1e-300))
        .fold(0.0f64, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mfrnn report</title>\
         <style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse;font-size:85%}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}</style></head><body>\n\
         <h1>mfrnn report</h1>\n<p>mfrnn {} — {} run.</p>\n\
         <h2>Accuracy of the Gaussian-expectation engine</h2>\n\
         <p>Automatic method choice against the independent adaptive Gauss–Kronrod path \
         (<code>Strategy::Adaptive</code>), for every built-in activation. \
         Largest relative difference: {:.2e}. Data: <a href=\"accuracy.csv\">accuracy.csv</a>, \
         <a href=\"accuracy.json\">accuracy.json</a>. The 30-digit mpmath comparison is the test \
         <code>tests/reference_values.rs</code>.</p>\n<table><tr><th>φ</th><th>f</th><th>mean</th><th>q</th><th>c</th>\
         <th>value</th><th>method</th><th>error est.</th><th>difference</th><th>µs</th></tr>\n",
        env!("CARGO_PKG_VERSION"),
        if quick { "quick" } else { "full" },
        worst
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
    s.push_str("</table>\n</body></html>\n");
    s
}

pub(crate) fn run(a: &ReportArgs) -> Result<String, String> {
    let started = Instant::now();
    let out = &a.out;
    let tmp = out.with_file_name(format!(
        ".{}.partial-{}",
        out.file_name().and_then(|s| s.to_str()).unwrap_or("report"),
        std::process::id()
    ));
    let io = |e: std::io::Error| format!("writing report: {e}");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io)?;
    }
    fs::create_dir_all(&tmp).map_err(io)?;
    eprintln!("[1/1] accuracy of the expectation engine ...");
    let rows = accuracy_rows(a.quick).map_err(|e| e.to_string())?;
    write_csv(&tmp.join("accuracy.csv"), &rows).map_err(io)?;
    fs::write(
        tmp.join("accuracy.json"),
        serde_json::to_string_pretty(&rows).expect("serialisable"),
    )
    .map_err(io)?;
    fs::write(tmp.join("index.html"), html(&rows, a.quick)).map_err(io)?;
    // Swap into place only now: an interrupted run leaves the old report untouched.
    if out.exists() {
        let old = out.with_file_name(format!(
            ".{}.old-{}",
            out.file_name().and_then(|s| s.to_str()).unwrap_or("report"),
            std::process::id()
        ));
        fs::rename(out, &old).map_err(io)?;
        fs::rename(&tmp, out).map_err(io)?;
        fs::remove_dir_all(&old).map_err(io)?;
    } else {
        fs::rename(&tmp, out).map_err(io)?;
    }
    Ok(format!(
        "report written to {}/index.html ({} accuracy rows, {:.1} s)",
        out.display(),
        rows.len(),
        started.elapsed().as_secs_f64()
    ))
}
