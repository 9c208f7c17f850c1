//! Stage 3: Jacobian spectra at critical initialization, the vanilla RNN (free probability,
//! exact) and the minimalRNN (the one-step law from unit paths of the exact theory: exact for
//! T = 1, the free approximation beyond), each against sampled networks. The theory is
//! [`crate::spectrum::for_cell_each`], the samples [`crate::sim::jacobian::sample`].

use std::fmt::Write as _;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{Section, SeriesData, figure, to_json};
use crate::activation::Builtin;
use crate::cells::{Cell, Regime, WeightLaw};
use crate::cli::svg::esc;
use crate::error::Result;
use crate::exact::ExactConfig;
use crate::init::{self, Given, Target};
use crate::output::OutputDir;
use crate::sim::{SimConfig, jacobian};
use crate::spectrum::{LawSource, Request, for_cell_each};
use crate::stats::{empirical_cdf, fraction_within, histogram, ks_distance, quantile};

/// The weight laws compared, with their names in the tables.
const LAWS: [(WeightLaw, &str); 2] = [
    (WeightLaw::Orthogonal, "orthogonal"),
    (WeightLaw::Gaussian, "gaussian"),
];

/// One request per horizon and weight law (horizon-major, in the order of [`LAWS`]).
fn requests(horizons: &[usize], points: usize, source: LawSource) -> Vec<Request> {
    horizons
        .iter()
        .flat_map(|&steps| {
            LAWS.map(|(weights, _)| Request {
                steps,
                weights,
                points,
                source,
            })
        })
        .collect()
}

/// Networks of width `width` with the weight law `weights`.
fn networks(width: usize, seeds: usize, seed: u64, weights: WeightLaw) -> Result<SimConfig> {
    SimConfig::builder()
        .width(width)
        .batch(1)
        .seeds(seeds)
        .seed(seed)
        .weights(weights)
        .build()
}

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let mut body = vanilla(out, quick, bar)?;
    body += &minimal(out, quick, bar)?;
    Ok(Section {
        title: "3. Jacobian spectra at critical initialization".into(),
        body,
    })
}

/// The critical tanh RNN: free probability (exact) against sampled networks.
fn vanilla(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<String> {
    let (width, seeds) = if quick { (80, 2) } else { (400, 4) };
    let horizons: &[usize] = if quick { &[5] } else { &[5, 20] };
    let tanh = Cell::vanilla(Builtin::Tanh);
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
    // The critical initialization at q*, with the whole remaining variance in the bias; the
    // law of the diagonals at the target q* itself.
    let c = init::critical(&tanh, &Target::q_star(q).given(Given::SigmaV(0.0)))?;
    let points = if quick { 120 } else { 400 };
    let theory = for_cell_each(
        &tanh,
        &c.params,
        &requests(horizons, points, LawSource::AtVariance { q }),
    )?;
    let mut figs = String::new();
    for (&t, th) in horizons.iter().zip(theory.chunks(LAWS.len())) {
        let mut data = Vec::new();
        for ((wl, _), sp) in LAWS.iter().zip(th) {
            let label = match wl {
                WeightLaw::Orthogonal => "orthogonal",
                WeightLaw::Gaussian => "Gaussian",
            };
            let d = sp.density.as_ref().expect("points > 0: a density");
            let js = jacobian::sample(
                &tanh,
                &c.params,
                &networks(width, seeds, 5, *wl)?,
                t,
                50,
                jacobian::Accumulation::Direct,
            )?;
            let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
            let m = js.moments;
            let _ = writeln!(
                body,
                "<tr><td>{label}</td><td>{t}</td><td>{:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td><td>{ks:.4}</td></tr>",
                sp.normalized_variance,
                m.normalized_variance,
                m.normalized_variance_se,
                m.m1,
                m.m1_se
            );
            // Density on the part of the support that carries the bulk (λ < 4 for the plot).
            let (lo, hi) = (0.02, 4.0);
            let keep: Vec<usize> = (0..d.lambda.len())
                .filter(|&i| d.lambda[i] >= lo && d.lambda[i] <= hi)
                .collect();
            data.push(SeriesData {
                name: format!("{label} theory"),
                t: keep.iter().map(|&i| d.lambda[i]).collect(),
                value: keep.iter().map(|&i| d.density[i]).collect(),
                se: None,
            });
            let (centres, density) = histogram(&js.squared_singular_values, lo, hi, 50);
            data.push(SeriesData {
                name: format!("{label} sampled"),
                t: centres,
                value: density,
                se: None,
            });
            bar.inc(1);
        }
        figs += &figure(
            out,
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
    Ok(body)
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

/// Critical minimalRNNs: the one-step law of the Jacobian diagonals from unit paths of the
/// exact tied-weight theory after the same burn-in the sampled networks run; one step is
/// exact, T > 1 is the free approximation.
fn minimal(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<String> {
    let (width, seeds, units, points) = if quick {
        (80, 2, 2_000, 300)
    } else {
        (400, 8, 12_000, 300)
    };
    let horizons: &[usize] = if quick { &[1] } else { &[1, 5] };
    let (r, burn_in) = (0.46, 200);
    let cases = [(16.0, 0.0), (16.0, 4.0)];
    // Per case: the initialization and the theory for every horizon and weight law, from one
    // set of unit paths.
    let mut prepared = Vec::new();
    for (k, &(q, mu_b)) in cases.iter().enumerate() {
        let c = init::critical(&Cell::Minimal, &Target::q_star(q).mu_b(mu_b).r(r))?;
        let source = LawSource::UnitPaths {
            burn_in,
            regime: Regime::REAL,
            config: ExactConfig::builder()
                .units(units)
                .replicas(8)
                .seed(61 + k as u64)
                .build()?,
        };
        let theory = for_cell_each(
            &Cell::Minimal,
            &c.params,
            &requests(horizons, points, source),
        )?;
        prepared.push((c, theory));
    }
    let mut rows = Vec::new();
    let mut figs = String::new();
    for (ti, &t) in horizons.iter().enumerate() {
        let mut curves = Vec::new();
        for (k, (c, theory)) in prepared.iter().enumerate() {
            // Orthogonal W is drawn in the figures; Gaussian W joins the table.
            for (wi, &(wl, wname)) in LAWS.iter().enumerate() {
                let sp = &theory[ti * LAWS.len() + wi];
                let d = sp.density.as_ref().expect("points > 0: a density");
                let unit = sp.unit_recursion.expect("unit paths: the m₁ recursion");
                let js = jacobian::sample(
                    &Cell::Minimal,
                    &c.params,
                    &networks(width, seeds, 71 + k as u64, wl)?,
                    t,
                    burn_in,
                    jacobian::Accumulation::Direct,
                )?;
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
                    exact: sp.exact,
                    theory_m1: sp.m1,
                    unit_recursion_m1: unit.m1,
                    unit_recursion_m1_se: unit.m1_se,
                    theory_normalized_variance: sp.normalized_variance,
                    sampled_m1: em.m1,
                    sampled_m1_se: em.m1_se,
                    sampled_normalized_variance: em.normalized_variance,
                    sampled_normalized_variance_se: em.normalized_variance_se,
                    ks_distance: ks,
                    theory_mass_on_grid: d.mass,
                    law_atoms: sp.law_atoms.unwrap_or(0),
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
        figs += &minimal_figures(out, t, quick, &curves)?;
    }
    out.write("spectrum_minimal.json", to_json(&rows, true))?;
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
    out.write("spectrum_minimal.csv", csv)?;
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

/// The density and distribution-function figures of the minimalRNN at horizon `t`: per case
/// `(μ_b, theory density, sorted samples)`, orthogonal W.
fn minimal_figures(
    out: &OutputDir,
    t: usize,
    quick: bool,
    curves: &[(f64, &crate::spectrum::Density, Vec<f64>)],
) -> Result<String> {
    let theory_name = |mu_b: f64| {
        format!(
            "μ_b = {mu_b} theory{}",
            if t == 1 { "" } else { " (free approx.)" }
        )
    };
    // Show the bulk: up to the largest 97% quantile of the samples.
    let hi = curves
        .iter()
        .map(|(_, _, xs)| quantile(xs, 0.97))
        .fold(0.0f64, f64::max)
        .max(1.0);
    let lo = 0.01 * hi;
    let bins = if quick { 30 } else { 60 };
    let mut data = Vec::new();
    let mut mass_in_view = Vec::new();
    for (mu_b, d, xs) in curves {
        mass_in_view.push(format!(
            "{:.2}/{:.2} at μ_b = {mu_b}",
            d.cdf(hi) - d.cdf(lo),
            fraction_within(xs, lo, hi)
        ));
        let keep: Vec<usize> = (0..d.lambda.len())
            .filter(|&i| d.lambda[i] >= lo && d.lambda[i] <= hi)
            .collect();
        data.push(SeriesData {
            name: theory_name(*mu_b),
            t: keep.iter().map(|&i| d.lambda[i]).collect(),
            value: keep.iter().map(|&i| d.density[i]).collect(),
            se: None,
        });
        let (centres, density) = histogram(xs, lo, hi, bins);
        data.push(SeriesData {
            name: format!("μ_b = {mu_b} sampled"),
            t: centres,
            value: density,
            se: None,
        });
    }
    let what = if t == 1 {
        "exact (one step)"
    } else {
        "free approximation, not exact"
    };
    let mut figs = figure(
        out,
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
    for (mu_b, d, xs) in curves {
        cdfs.push(SeriesData {
            name: theory_name(*mu_b),
            t: grid.clone(),
            value: grid.iter().map(|&g| d.cdf(10f64.powf(g))).collect(),
            se: None,
        });
        cdfs.push(SeriesData {
            name: format!("μ_b = {mu_b} sampled"),
            t: grid.clone(),
            value: grid
                .iter()
                .map(|&g| empirical_cdf(xs, 10f64.powf(g)))
                .collect(),
            se: None,
        });
    }
    figs += &figure(
        out,
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
    Ok(figs)
}
