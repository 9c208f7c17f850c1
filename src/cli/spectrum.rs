//! `mfrnn spectrum`: the singular-value spectrum of the T-step Jacobian.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::cells::{CellArgs, parse_weights};
use super::svg::{Marker, PALETTE, Series, line_chart};
use crate::cells::{Cell, CellKind, Regime, Theory, WeightLaw};
use crate::error::{Error, Result};
use crate::exact::ExactConfig;
use crate::output::{self, FileFormat};
use crate::sim::SimConfig;
use crate::sim::jacobian::{self, Accumulation, EmpiricalMoments};
use crate::spectrum::{LawSource, Request, UnitRecursionM1};
use crate::stats::{histogram, ks_distance};

/// Arguments of `mfrnn spectrum`.
#[derive(Debug, Args)]
pub(crate) struct SpectrumArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Number of steps T in the Jacobian product.
    #[arg(long, default_value_t = 10, value_parser = super::count, allow_hyphen_values = true)]
    pub steps: usize,
    /// Recurrent weight distribution: orthogonal or gaussian.
    #[arg(long, value_parser = parse_weights, default_value = "orthogonal")]
    pub weights: WeightLaw,
    /// Points of the density grid.
    #[arg(long, default_value_t = 400, value_parser = super::count, allow_hyphen_values = true)]
    pub points: usize,
    /// Also sample Jacobians of real networks and compare.
    #[arg(long)]
    pub simulate: bool,
    /// Width of the simulated networks.
    #[arg(long, default_value_t = 800, value_parser = super::count, allow_hyphen_values = true)]
    pub width: usize,
    /// Number of simulated networks.
    #[arg(long, default_value_t = 4, value_parser = super::count, allow_hyphen_values = true)]
    pub seeds: usize,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Steps run before the product starts (to reach the fixed point).
    #[arg(long = "burn-in", default_value_t = 50, value_parser = super::count, allow_hyphen_values = true)]
    pub burn_in: usize,
    /// Untied weights (fresh W every step) in the simulation and, for the minimalRNN, in the
    /// unit process that supplies the law of the Jacobian diagonals.
    #[arg(long)]
    pub untied: bool,
    /// How the simulated Jacobian product is accumulated: `direct`, or `qr` (keeps small
    /// singular values accurate over long horizons and off criticality).
    #[arg(long, value_enum, ignore_case = true, default_value = "direct")]
    pub accumulation: AccumulationArg,
    /// Vanilla: use the laws of D^t along the mean-field trajectory from h⁰ = 0 over steps
    /// burn-in+1 … burn-in+T, instead of the fixed point (spectra of the transient).
    #[arg(long)]
    pub transient: bool,
    /// minimalRNN: unit paths of the exact theory that give the law of (u, g).
    #[arg(long, default_value_t = 8000, value_parser = super::count, allow_hyphen_values = true)]
    pub units: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the result to a file: .svg (the density, and the sampled histogram with
    /// --simulate), .json (what --json prints) or .csv (λ, density). A new path (its parent
    /// must exist) or an earlier, unmodified `mfrnn spectrum` output; otherwise refused.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `--accumulation`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum AccumulationArg {
    /// Multiply the matrices.
    Direct,
    /// QR-accumulated product with a Jacobi SVD.
    Qr,
}

#[derive(Serialize)]
struct SpectrumOut {
    cell: &'static str,
    m1: f64,
    m2: f64,
    normalized_variance: f64,
    /// `[m1, m2, m3, m4]` from the S-transform series (vanilla cell).
    #[serde(skip_serializing_if = "Option::is_none")]
    moments: Option<Vec<f64>>,
    support: [f64; 2],
    lambda: Vec<f64>,
    density: Vec<f64>,
    exact: bool,
    q_star: f64,
    chi_1: f64,
    mass_on_grid: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_recursion: Option<UnitRecursionM1>,
    #[serde(skip_serializing_if = "Option::is_none")]
    law_atoms: Option<usize>,
    solver_failures: usize,
    /// Intervals the density's refinement left unresolved at its cap (only when any).
    #[serde(skip_serializing_if = "is_zero")]
    unrefined_intervals: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    empirical: Option<EmpiricalMoments>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_distance: Option<f64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub(crate) fn run_spectrum(a: &SpectrumArgs) -> Result<String> {
    if a.steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let vanilla = a.cell.cell == CellKind::Vanilla;
    match (vanilla, a.cell.theory) {
        (true, Theory::Exact) => {
            return Err(super::not_applicable(
                "--theory exact",
                "to the vanilla spectrum: free probability at the fixed point is already \
                 exact at infinite width (sample real networks with --simulate)",
            ));
        }
        (false, Theory::MeanField) if super::given("theory") => {
            return Err(super::not_applicable(
                "--theory mean-field",
                "to the minimalRNN spectrum: the law of its Jacobian diagonals comes from the \
                 unit paths of the exact theory (--units)",
            ));
        }
        _ => {}
    }
    if !a.simulate {
        super::refuse_given(
            &[
                ("width", "--width"),
                ("seeds", "--seeds"),
                ("accumulation", "--accumulation"),
            ],
            "without --simulate",
        )?;
    }
    if vanilla {
        super::refuse_given(
            &[("units", "--units")],
            "to --cell vanilla (it sets the unit paths of the minimalRNN)",
        )?;
        if !a.simulate {
            super::refuse_given(
                &[("untied", "--untied"), ("seed", "--seed")],
                "to --cell vanilla without --simulate",
            )?;
            if !a.transient {
                super::refuse_given(
                    &[("burn_in", "--burn-in")],
                    "to --cell vanilla without --simulate or --transient (the spectrum is taken at the fixed point)",
                )?;
            }
        }
    }
    let burned = a
        .burn_in
        .checked_add(a.steps)
        .ok_or_else(|| Error::invalid("burn-in", a.burn_in as f64, "burn-in + steps below 2^64"))?;
    // The printed grid (λ and density, up to 3 × points each).
    let out_bytes = 6.0 * super::cells::OUTPUT_BYTES_PER_NUMBER * a.points as f64;
    crate::budget::Estimate::new("the spectrum output")
        .memory("points", a.points as f64, out_bytes)
        .check()?;
    let wl = a.weights;
    let acc = match a.accumulation {
        AccumulationArg::Direct => Accumulation::Direct,
        AccumulationArg::Qr => Accumulation::Qr,
    };
    // The output contract (crate::output), checked before any work.
    let format = match &a.out {
        Some(path) => {
            let f = FileFormat::of(
                path,
                &[FileFormat::Svg, FileFormat::Json, FileFormat::Csv],
                "out",
            )?;
            output::check_file(path, "spectrum", "out")?;
            Some((path, f))
        }
        None => None,
    };
    let cell = a.cell.cell()?;
    let p = a.cell.params()?;
    let source = match &cell {
        Cell::Vanilla(_) if a.transient => LawSource::Transient { burn_in: a.burn_in },
        Cell::Vanilla(_) => LawSource::FixedPoint,
        Cell::Minimal => {
            if a.transient {
                return Err(Error::Unsupported(
                    "--transient applies to --cell vanilla; for the minimalRNN the law of the \
                     Jacobian diagonals after --burn-in steps already comes from the unit paths"
                        .into(),
                ));
            }
            LawSource::UnitPaths {
                burn_in: a.burn_in,
                regime: Regime {
                    tied: !a.untied,
                    fresh_bias: false,
                },
                config: ExactConfig::builder()
                    .units(a.units)
                    .replicas(8)
                    .seed(a.seed)
                    .build()?,
            }
        }
    };
    let request = Request {
        steps: a.steps,
        weights: wl,
        points: a.points,
        source,
    };
    // Progress: the unit paths (minimalRNN, ~8 T² units of work) and the density (2 × points).
    let t = burned as u64;
    let work = 2 * a.points as u64
        + match source {
            LawSource::UnitPaths { .. } => 8u64.saturating_mul(t.saturating_mul(t)),
            _ => t,
        };
    let c = super::follow("spectrum", work, || {
        crate::spectrum::for_cell(&cell, &p, &request)
    })?;
    // Moments beyond the double range (a chaotic network over many steps: m₁ = χ₁^T) are an
    // error, not an `inf`/`null` in the output.
    for (name, v) in [
        ("m1", c.m1),
        ("m2", c.m2),
        ("normalized_variance", c.normalized_variance),
    ] {
        if !v.is_finite() {
            return Err(Error::Overflow {
                quantity: format!("the spectrum's {name} at --steps {}", a.steps),
                reason: format!(
                    "{name} = {v:e} is beyond the largest double (1.8e308) (χ₁ = {}); use \
                     fewer --steps",
                    c.summary.chi_1
                ),
            });
        }
    }
    let label = match &cell {
        Cell::Vanilla(act) => act.name().to_string(),
        Cell::Minimal => format!("minimalRNN, μ_b = {}", p.mu_b()),
    };
    let d = c
        .density
        .as_ref()
        .ok_or_else(|| Error::invalid("points", 0.0, "at least 1"))?;
    let (empirical, ks, sample) = if a.simulate {
        let cfg = SimConfig::builder()
            .width(a.width)
            .batch(1)
            .seeds(a.seeds)
            .seed(a.seed)
            .weights(wl)
            .tied(!a.untied)
            .build()?;
        let total = (a.seeds as u64).saturating_mul(burned as u64);
        let js = super::follow("sampling Jacobians", total, || {
            jacobian::sample(&cell, &p, &cfg, a.steps, a.burn_in, acc)
        })?;
        let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
        (Some(js.moments), Some(ks), js.squared_singular_values)
    } else {
        (None, None, Vec::new())
    };
    let mut svg = None;
    if let Some((_, FileFormat::Svg)) = format {
        let hi = d.support[1];
        let keep: Vec<usize> = (0..d.lambda.len())
            .filter(|&i| d.lambda[i] >= 0.02 * hi)
            .collect();
        let x: Vec<f64> = keep.iter().map(|&i| d.lambda[i]).collect();
        let y: Vec<f64> = keep.iter().map(|&i| d.density[i]).collect();
        let (hx, hy) = histogram(&sample, 0.02 * hi, hi * 1.05, 60);
        let mut series = vec![Series {
            name: "free probability".into(),
            x: &x,
            y: &y,
            err: None,
            colour: PALETTE[0],
            dashed: false,
            marker: Marker::Circle,
        }];
        if !sample.is_empty() {
            series.push(Series {
                name: format!("sampled, N = {}", a.width),
                x: &hx,
                y: &hy,
                err: None,
                colour: PALETTE[1],
                dashed: true,
                marker: Marker::Circle,
            });
        }
        let title = format!(
            "squared singular values of J_T, T = {}, {} W, {}",
            a.steps,
            if wl == WeightLaw::Orthogonal {
                "orthogonal"
            } else {
                "Gaussian"
            },
            label
        );
        svg = Some(line_chart(
            &title,
            "λ",
            "density",
            &series,
            &format!(
                "q* = {:.4}, χ₁ = {:.4}{}; λ < {:.3} not drawn (mass there: {:.3})",
                c.summary.q_star,
                c.summary.chi_1,
                if c.exact {
                    ""
                } else {
                    "; free approximation (not exact)"
                },
                0.02 * hi,
                d.cdf(0.02 * hi)
            ),
        ));
    }
    let out = SpectrumOut {
        cell: cell.kind().as_str(),
        m1: c.m1,
        m2: c.m2,
        normalized_variance: c.normalized_variance,
        moments: c.moments.clone(),
        support: d.support,
        lambda: d.lambda.clone(),
        density: d.density.clone(),
        exact: c.exact,
        q_star: c.summary.q_star,
        chi_1: c.summary.chi_1,
        mass_on_grid: d.mass,
        unit_recursion: c.unit_recursion,
        law_atoms: c.law_atoms,
        solver_failures: d.failures,
        unrefined_intervals: d.unrefined,
        empirical,
        ks_distance: ks,
    };
    let json = serde_json::to_string_pretty(&out).expect("serialisable");
    if let Some((path, f)) = format {
        let body = match f {
            FileFormat::Svg => svg.take().unwrap_or_default(),
            FileFormat::Json => json.clone(),
            FileFormat::Csv => {
                let mut t = String::from("lambda,density\n");
                for (l, p) in out.lambda.iter().zip(&out.density) {
                    let _ = writeln!(t, "{l:e},{p:e}");
                }
                t
            }
        };
        output::write_file(path, &output::sign(&body, "spectrum", f), "out")?;
    }
    if a.json {
        return Ok(json);
    }
    let mut text = format!(
        "J_T J_T^T ({}), T = {}, {:?} weights, q* = {:.6}, χ₁ = {:.6}{}\n  m1 = {:.6}  m2 = {:.6}  normalized variance = {:.6}\n  support = [{:.4e}, {:.6}]  mass on grid = {:.6}",
        label,
        a.steps,
        wl,
        c.summary.q_star,
        c.summary.chi_1,
        if c.exact {
            ""
        } else {
            "\n  (free approximation across steps: exact: false)"
        },
        c.m1,
        c.m2,
        c.normalized_variance,
        d.support[0],
        d.support[1],
        d.mass
    );
    if let Some(h) = &out.moments {
        text += &format!(
            "\n  m3 = {:.6}  m4 = {:.6} (S-transform series)",
            h[2], h[3]
        );
    }
    if let Some(u) = &out.unit_recursion {
        text += &format!(
            "\n  m1 by the per-unit recursion (exact for untied W): {:.6} ± {:.6}",
            u.m1, u.m1_se
        );
    }
    if let (Some(e), Some(k)) = (empirical, ks) {
        text += &format!(
            "\n  sampled (N = {}, {} networks): m1 = {:.4} ± {:.4}, normalized variance = {:.4} ± {:.4}, KS distance = {:.4}",
            a.width, a.seeds, e.m1, e.m1_se, e.normalized_variance, e.normalized_variance_se, k
        );
    }
    Ok(text)
}
