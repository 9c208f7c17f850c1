//! `mfrnn spectrum`: the singular-value spectrum of the T-step Jacobian.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::cells::{CellArgs, Theory};
use super::sim_phase::{WeightsArg, write_atomic};
use super::svg::{PALETTE, Series, line_chart};
use crate::error::{Error, Result};
use crate::sim::jacobian::{self, EmpiricalMoments};
use crate::sim::{SimConfig, Weights};
use crate::spectrum::{DiagonalLaw, ProductSpectrum, WeightLaw};

/// Arguments of `mfrnn spectrum`.
#[derive(Debug, Args)]
pub(crate) struct SpectrumArgs {
    #[command(flatten)]
    pub cell: CellArgs,
    /// Number of steps T in the Jacobian product.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Recurrent weight distribution.
    #[arg(long, value_enum, default_value = "orthogonal")]
    pub weights: WeightsArg,
    /// Points of the density grid.
    #[arg(long, default_value_t = 400)]
    pub points: usize,
    /// Also sample Jacobians of real networks and compare.
    #[arg(long)]
    pub simulate: bool,
    /// Width of the simulated networks.
    #[arg(long, default_value_t = 800)]
    pub width: usize,
    /// Number of simulated networks.
    #[arg(long, default_value_t = 4)]
    pub seeds: usize,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Steps run before the product starts (to reach the fixed point).
    #[arg(long = "burn-in", default_value_t = 50)]
    pub burn_in: usize,
    /// Untied weights in the simulation (fresh W every step).
    #[arg(long)]
    pub untied: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG of the density (and the sampled histogram with --simulate).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Serialize)]
struct SpectrumOut {
    m1: f64,
    m2: f64,
    normalized_variance: f64,
    support: [f64; 2],
    lambda: Vec<f64>,
    density: Vec<f64>,
    exact: bool,
    q_star: f64,
    mass_on_grid: f64,
    solver_failures: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    empirical: Option<EmpiricalMoments>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_distance: Option<f64>,
}

pub(crate) fn run_spectrum(a: &SpectrumArgs) -> Result<String> {
    let v = match a.cell.theory()? {
        Theory::Vanilla(v) => v,
        Theory::Minimal(_) => {
            return Err(Error::Unsupported(
                "spectrum --cell minimal is not implemented yet (issue 5 in progress: the \
                 minimalRNN's Jacobian needs the per-unit theory)"
                    .into(),
            ));
        }
    };
    if a.steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    let s = v.summary(1.0)?;
    let law = DiagonalLaw::of_activation(v.activation().as_ref(), v.params().mu_b, s.q_star)?;
    let (wl, w) = match a.weights {
        WeightsArg::Gaussian => (WeightLaw::Gaussian, Weights::Gaussian),
        WeightsArg::Orthogonal => (WeightLaw::Orthogonal, Weights::Orthogonal),
    };
    let sigma_w2 = v.params().sigma_w * v.params().sigma_w;
    let sp = ProductSpectrum::new(law, sigma_w2, a.steps, wl)?;
    let mom = sp.moments();
    let d = sp.density(a.points)?;
    let (empirical, ks, sample) = if a.simulate {
        let cfg = SimConfig::new(a.width, 1, a.seeds, a.seed)?
            .weights(w)
            .tied(!a.untied);
        let js = jacobian::vanilla(&v, &cfg, a.steps, a.burn_in)?;
        let ks = jacobian::ks_distance(&js.squared_singular_values, |x| d.cdf(x));
        (Some(js.moments), Some(ks), js.squared_singular_values)
    } else {
        (None, None, Vec::new())
    };
    if let Some(path) = &a.out {
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
            v.activation().name()
        );
        let svg = line_chart(
            &title,
            "λ",
            "density",
            &series,
            &format!(
                "q* = {:.4}, χ₁ = {:.4}; λ < {:.3} not drawn (mass there: {:.3})",
                s.q_star,
                s.chi_1,
                0.02 * hi,
                d.cdf(0.02 * hi)
            ),
        );
        write_atomic(path, svg.as_bytes())?;
    }
    let out = SpectrumOut {
        m1: mom.m1,
        m2: mom.m2,
        normalized_variance: mom.normalized_variance,
        support: d.support,
        lambda: d.lambda.clone(),
        density: d.density.clone(),
        exact: true,
        q_star: s.q_star,
        mass_on_grid: d.mass,
        solver_failures: d.failures,
        empirical,
        ks_distance: ks,
    };
    if a.json {
        return Ok(serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    let mut text = format!(
        "J_T J_T^T, T = {}, {:?} weights, q* = {:.6}, χ₁ = {:.6}\n  m1 = {:.6}  m2 = {:.6}  normalized variance = {:.6}\n  support = [{:.4e}, {:.6}]  mass on grid = {:.6}",
        a.steps,
        wl,
        s.q_star,
        s.chi_1,
        mom.m1,
        mom.m2,
        mom.normalized_variance,
        d.support[0],
        d.support[1],
        d.mass
    );
    if let (Some(e), Some(k)) = (empirical, ks) {
        text += &format!(
            "\n  sampled (N = {}, {} networks): m1 = {:.4} ± {:.4}, normalized variance = {:.4} ± {:.4}, KS distance = {:.4}",
            a.width, a.seeds, e.m1, e.m1_se, e.normalized_variance, e.normalized_variance_se, k
        );
    }
    Ok(text)
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
