//! `mfrnn spectrum`: the singular-value spectrum of the T-step Jacobian.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::cells::{CellArgs, Theory, TheoryKind};
use super::sim_phase::WeightsArg;
use super::svg::{PALETTE, Series, line_chart};
use crate::cells::RhoSchedule;
use crate::cells::exact::{self, ExactConfig, Regime, UnitUpdate};
use crate::error::{Error, Result};
use crate::output::{self, FileFormat};
use crate::sim::jacobian::{self, Accumulation, EmpiricalMoments, JacobianCell};
use crate::sim::{SimConfig, Weights};
use crate::spectrum::gated::{GatedLaw, GatedSpectrum};
use crate::spectrum::{DiagonalLaw, ProductSpectrum, WeightLaw};

/// Arguments of `mfrnn spectrum`.
#[derive(Debug, Args)]
pub(crate) struct SpectrumArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Number of steps T in the Jacobian product.
    #[arg(long, default_value_t = 10, value_parser = super::count, allow_hyphen_values = true)]
    pub steps: usize,
    /// Recurrent weight distribution.
    #[arg(long, value_enum, ignore_case = true, default_value = "orthogonal")]
    pub weights: WeightsArg,
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

/// The exact per-unit `m₁` recursion (minimalRNN).
#[derive(Serialize)]
struct UnitRecursion {
    m1: f64,
    m1_se: f64,
    /// Weights for which the recursion is exact ("untied"); for tied weights it is the
    /// untied answer on the tied network's unit paths.
    exact_for: &'static str,
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
    unit_recursion: Option<UnitRecursion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    law_atoms: Option<usize>,
    solver_failures: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    empirical: Option<EmpiricalMoments>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_distance: Option<f64>,
}

/// What the two cells share for output: moments, density and labels.
struct Computed {
    cell: &'static str,
    m1: f64,
    m2: f64,
    nv: f64,
    higher: Option<Vec<f64>>,
    exact: bool,
    q_star: f64,
    chi_1: f64,
    density: crate::spectrum::Density,
    unit_recursion: Option<UnitRecursion>,
    law_atoms: Option<usize>,
    label: String,
}

pub(crate) fn run_spectrum(a: &SpectrumArgs) -> Result<String> {
    if a.steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let vanilla = a.cell.cell == super::cells::Cell::Vanilla;
    match (vanilla, a.cell.theory) {
        (true, TheoryKind::Exact) => {
            return Err(super::not_applicable(
                "--theory exact",
                "to the vanilla spectrum: free probability at the fixed point is already \
                 exact at infinite width (sample real networks with --simulate)",
            ));
        }
        (false, TheoryKind::MeanField) if super::given("theory") => {
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
    let (wl, w) = match a.weights {
        WeightsArg::Gaussian => (WeightLaw::Gaussian, Weights::Gaussian),
        WeightsArg::Orthogonal => (WeightLaw::Orthogonal, Weights::Orthogonal),
    };
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
    let theory = a.cell.theory()?;
    let c = match &theory {
        Theory::Vanilla(v) => {
            let s = v.summary(1.0)?;
            let act = v.activation().as_ref();
            let mu_b = v.params().mu_b;
            let sigma_w2 = v.params().sigma_w * v.params().sigma_w;
            let sp = if a.transient {
                // One discretised law per step (up to ~1800 nodes of 16 bytes each).
                let (name, value) = crate::budget::blame(&[
                    ("steps", a.steps as f64, 10.0),
                    ("burn-in", a.burn_in as f64, 50.0),
                ]);
                crate::budget::Estimate::new("the laws along the trajectory")
                    .memory(name, value, 30_000.0 * a.steps as f64)
                    .memory(name, value, crate::cells::BYTES_PER_STEP * burned as f64)
                    .check()?;
                let tr = v.trajectory(&RhoSchedule::constant(1.0, burned)?)?;
                let laws = tr.q[a.burn_in..]
                    .iter()
                    .map(|&q| DiagonalLaw::of_activation(act, mu_b, q))
                    .collect::<Result<Vec<_>>>()?;
                if laws
                    .iter()
                    .any(|l| l.moment(1).is_nan() || l.moment(1) <= 0.0)
                {
                    return Err(vanishing_jacobian(v.params(), &s));
                }
                ProductSpectrum::along(laws, sigma_w2, wl)?
            } else {
                let law = DiagonalLaw::of_activation(act, mu_b, s.q_star)?;
                if law.moment(1).is_nan() || law.moment(1) <= 0.0 {
                    return Err(vanishing_jacobian(v.params(), &s));
                }
                ProductSpectrum::new(law, sigma_w2, a.steps, wl)?
            };
            let mom = sp.moments();
            Computed {
                cell: "vanilla",
                m1: mom.m1,
                m2: mom.m2,
                nv: mom.normalized_variance,
                higher: Some(sp.moment_series(4)?),
                exact: true,
                q_star: s.q_star,
                chi_1: s.chi_1,
                density: super::follow("spectral density", 2 * a.points as u64, || {
                    sp.density(a.points)
                })?,
                unit_recursion: None,
                law_atoms: None,
                label: v.activation().name().to_string(),
            }
        }
        Theory::Minimal(m) => {
            if a.transient {
                return Err(Error::Unsupported(
                    "--transient applies to --cell vanilla; for the minimalRNN the law of the \
                     Jacobian diagonals after --burn-in steps already comes from the unit paths"
                        .into(),
                ));
            }
            let s = m.summary(1.0)?;
            let p = m.params();
            let regime = Regime {
                tied: !a.untied,
                fresh_bias: false,
            };
            let cfg = ExactConfig::new(a.units, 8, a.seed)?;
            let t = burned as u64;
            let paths = super::follow(
                "unit paths",
                8u64.saturating_mul(t.saturating_mul(t)),
                || {
                    exact::jacobian_paths(
                        &UnitUpdate::Minimal,
                        &a.cell.process(),
                        regime,
                        a.burn_in,
                        a.steps,
                        &cfg,
                    )
                },
            )?;
            let (m1s, m1_se) = exact::m1_by_unit_recursion(&paths, p.sigma_w);
            // The stationary one-step law: the first step after the burn-in.
            let law = GatedLaw::from_paths(&paths, 0, p.sigma_w)?;
            let atoms = law.len();
            let sp = GatedSpectrum::new(law, wl, a.steps)?;
            let mom = sp.moments();
            Computed {
                cell: "minimal",
                m1: mom.m1,
                m2: mom.m2,
                nv: mom.normalized_variance,
                higher: None,
                exact: mom.exact,
                q_star: s.q_star,
                chi_1: s.chi_1,
                density: super::follow("spectral density", 2 * a.points as u64, || {
                    sp.density(a.points)
                })?,
                unit_recursion: Some(UnitRecursion {
                    m1: m1s[a.steps - 1],
                    m1_se: m1_se[a.steps - 1],
                    exact_for: "untied",
                }),
                law_atoms: Some(atoms),
                label: format!("minimalRNN, μ_b = {}", p.mu_b),
            }
        }
    };
    // Moments beyond the double range (a chaotic network over many steps: m₁ = χ₁^T) are an
    // error, not an `inf`/`null` in the output.
    for (name, v) in [("m1", c.m1), ("m2", c.m2), ("normalized_variance", c.nv)] {
        if !v.is_finite() {
            return Err(Error::Overflow {
                quantity: format!("the spectrum's {name} at --steps {}", a.steps),
                reason: format!(
                    "{name} = {v:e} is beyond the largest double (1.8e308) (χ₁ = {}); use \
                     fewer --steps",
                    c.chi_1
                ),
            });
        }
    }
    let d = &c.density;
    let (empirical, ks, sample) = if a.simulate {
        let cfg = SimConfig::new(a.width, 1, a.seeds, a.seed)?
            .weights(w)
            .tied(!a.untied);
        let cell = match &theory {
            Theory::Vanilla(v) => JacobianCell::Vanilla(v),
            Theory::Minimal(m) => JacobianCell::Minimal(m),
        };
        let total = (a.seeds as u64).saturating_mul(burned as u64);
        let js = super::follow("sampling Jacobians", total, || {
            jacobian::sample(cell, &cfg, a.steps, a.burn_in, acc)
        })?;
        let ks = jacobian::ks_distance(&js.squared_singular_values, |x| d.cdf(x));
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
        }];
        if !sample.is_empty() {
            series.push(Series {
                name: format!("sampled, N = {}", a.width),
                x: &hx,
                y: &hy,
                err: None,
                colour: PALETTE[1],
                dashed: true,
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
            c.label
        );
        svg = Some(line_chart(
            &title,
            "λ",
            "density",
            &series,
            &format!(
                "q* = {:.4}, χ₁ = {:.4}{}; λ < {:.3} not drawn (mass there: {:.3})",
                c.q_star,
                c.chi_1,
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
        cell: c.cell,
        m1: c.m1,
        m2: c.m2,
        normalized_variance: c.nv,
        moments: c.higher.clone(),
        support: d.support,
        lambda: d.lambda.clone(),
        density: d.density.clone(),
        exact: c.exact,
        q_star: c.q_star,
        chi_1: c.chi_1,
        mass_on_grid: d.mass,
        unit_recursion: c.unit_recursion,
        law_atoms: c.law_atoms,
        solver_failures: d.failures,
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
        c.label,
        a.steps,
        wl,
        c.q_star,
        c.chi_1,
        if c.exact {
            ""
        } else {
            "\n  (free approximation across steps: exact: false)"
        },
        c.m1,
        c.m2,
        c.nv,
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

/// The error for a Jacobian that vanishes at the fixed point (`φ' = 0` to double precision
/// for every pre-activation): names the flag that pushed the pre-activations there — `μ_b`
/// when it dominates their spread, else the largest part of `q* = σ_w² Q* + σ_v² R + σ_b²`.
fn vanishing_jacobian(
    p: &crate::cells::vanilla::VanillaParams,
    s: &crate::cells::Summary,
) -> Error {
    let parts = [
        ("sigma-w", p.sigma_w, p.sigma_w * p.sigma_w * s.big_q_star),
        ("sigma-v", p.sigma_v, p.sigma_v * p.sigma_v * p.r),
        ("sigma-b", p.sigma_b, p.sigma_b * p.sigma_b),
    ];
    let (parameter, value) = if p.mu_b.abs() >= s.q_star.sqrt() {
        ("mu-b", p.mu_b)
    } else {
        let big = parts
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .expect("three parts");
        (big.0, big.1)
    };
    Error::Infeasible {
        parameter,
        value,
        constraint: format!(
            "φ' is 0 to double precision for the pre-activations at the fixed point \
             (μ_b = {}, q* = {}), so the Jacobian vanishes",
            crate::error::fmt_num(p.mu_b),
            crate::error::fmt_num(s.q_star)
        ),
        feasible: "its spectrum is a point mass at 0; choose μ_b and scales where φ' is not \
                   saturated"
            .into(),
    }
}

/// Histogram density of `xs` on `bins` equal bins of `[lo, hi]` (bin centres, density).
fn histogram(xs: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<f64>) {
    if xs.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in xs {
        if x >= lo && x < hi {
            counts[((x - lo) / w) as usize] += 1;
        }
    }
    let n = xs.len() as f64;
    let centres = (0..bins).map(|i| lo + (i as f64 + 0.5) * w).collect();
    let dens = counts.iter().map(|&c| c as f64 / (n * w)).collect();
    (centres, dens)
}
