//! Jacobian singular-value spectra by free probability (`mfrnn::spectrum`).
//!
//! Checks `theory/04-spectra.md`:
//! - (S.2) the density of the squared singular values of the 10-step Jacobian of a critical
//!   tanh RNN (q* = 0.05) integrates to 1 (orthogonal weights) and has mean m₁ = χ₁^T = 1, and off the critical line
//!   (χ₁ = 1.02) mean χ₁^T (`density_moments_match_series`);
//! - (S.1) orthogonal weights give a narrower spectrum than Gaussian ones: the normalised
//!   variances differ by exactly T, and the upper edge λ_max is lower;
//! - (S.8) the moment series: m₁, m₂ equal the closed forms, the moments are log-convex, and
//!   with D = I and Gaussian factors they are the Fuss–Catalan numbers;
//! - (S.3) the one-step gated (minimalRNN) spectrum of `cI + U`, U Haar orthogonal: the arcsine
//!   law on [(1−c)², (1+c)²] (`orthogonal_shift_is_arcsine`).
//!
//! Sampled Jacobians of real networks against these laws: `examples/simulation.rs`.
//!
//! Run: `cargo run --release --example spectrum` (about a second).

use std::f64::consts::PI;

use mfrnn::activation::{Activation, Builtin};
use mfrnn::cells::WeightLaw;
use mfrnn::spectrum::gated::{GatedLaw, GatedSpectrum};
use mfrnn::spectrum::series::product_moments;
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};

fn main() -> Result<(), mfrnn::Error> {
    let t = 10;
    // The law of d = φ'(e)², e ~ N(0, q*), and the critical σ_w² = 1/μ₁ (I.1).
    let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, 0.05)?;
    let critical = 1.0 / law.moment(1);

    println!("| σ_w² μ₁ | weights | m₁ (series) | ∫ρ | ∫λρ | normalised variance | λ_max |");
    println!("|---|---|---|---|---|---|---|");
    for chi1 in [1.0, 1.02] {
        for w in [WeightLaw::Orthogonal, WeightLaw::Gaussian] {
            let sp = ProductSpectrum::new(law.clone(), chi1 * critical, t, w)?;
            let m = sp.moments();
            let d = sp.density(400)?;
            let edge = sp.edges()[1];
            println!(
                "| {chi1} | {w:?} | {:.6} | {:.6} | {:.6} | {:.4} | {:.4} |",
                m.m1, d.mass, d.mean, m.normalized_variance, edge
            );
            // m₁ = χ₁^T exactly (a product of T factors σ_w² μ₁).
            assert!((m.m1 / chi1.powi(t as i32) - 1.0).abs() < 1e-12);
            // The density on a 400-point grid: mean to 1e-3 (relative), the grid and
            // continuation error quoted in theory/04 ("Validation").
            assert_eq!(d.failures, 0);
            assert!(d.density.iter().all(|&r| r >= 0.0));
            // Total mass 1 to 1e-3 for orthogonal weights. Products of Gaussian matrices pile
            // mass up near λ = 0 (a singular density there), and a sizeable part lies below
            // the grid's first point 1e-10 λ_max; `Density::cdf` assigns it there, so only
            // the mean, which that mass barely affects, is checked for them.
            if w == WeightLaw::Orthogonal {
                assert!((d.mass - 1.0).abs() < 1e-3, "mass {}", d.mass);
            }
            assert!(
                (d.mean / m.m1 - 1.0).abs() < 1e-3,
                "mean {} vs {}",
                d.mean,
                m.m1
            );
        }
        // Gaussian weights add exactly T to the normalised variance and push the edge out.
        let o = ProductSpectrum::new(law.clone(), chi1 * critical, t, WeightLaw::Orthogonal)?;
        let g = ProductSpectrum::new(law.clone(), chi1 * critical, t, WeightLaw::Gaussian)?;
        let dv = g.moments().normalized_variance - o.moments().normalized_variance;
        assert!((dv - t as f64).abs() < 1e-12);
        assert!(o.edges()[1] < g.edges()[1]);
    }

    // (S.8): moments of any order without the density.
    let sp = ProductSpectrum::new(law.clone(), critical, t, WeightLaw::Orthogonal)?;
    let mk = sp.moment_series(6)?;
    let m = sp.moments();
    println!("critical, orthogonal, T = {t}: m₁…m₆ = {mk:.6?}");
    // Two independent formulas for m₁, m₂: agreement to rounding.
    assert!((mk[0] - m.m1).abs() < 1e-12 && (mk[1] / m.m2 - 1.0).abs() < 1e-12);
    // Log-convexity m_{k−1} m_{k+1} ≥ m_k² (a property of any law on [0, ∞)), with m₀ = 1.
    let with0: Vec<f64> = std::iter::once(1.0).chain(mk.iter().copied()).collect();
    for k in 1..with0.len() - 1 {
        assert!(with0[k - 1] * with0[k + 1] >= with0[k] * with0[k] * (1.0 - 1e-12));
    }
    // D = I, three Gaussian factors: the Fuss–Catalan numbers C(4k, k)/(3k + 1).
    let fc = product_moments(&[(vec![1.0; 4], 3)], 1.0, WeightLaw::Gaussian, 4)?;
    println!("Fuss–Catalan (T = 3): {fc:?}");
    for (a, b) in fc.iter().zip([1.0, 4.0, 22.0, 140.0]) {
        assert!((a - b).abs() < 1e-12 * b);
    }

    // (S.3) one gated step, J = cI + U: squared singular values 1 + c² + 2c cos θ, the arcsine
    // law on [(1−c)², (1+c)²] with mean 1 + c².
    let c = 0.6;
    let gs = GatedSpectrum::new(
        GatedLaw::atoms(&[c], &[1.0], &[1.0], 1.0)?,
        WeightLaw::Orthogonal,
        1,
    )?;
    assert!(gs.exact());
    let gm = gs.moments();
    assert!((gm.m1 - (1.0 + c * c)).abs() < 1e-14);
    let d = gs.density(400)?;
    let (lo, hi) = ((1.0 - c) * (1.0 - c), (1.0 + c) * (1.0 + c));
    // Compare the density with the arcsine density 1/(π √((λ − lo)(hi − λ))) away from the two
    // edges, where it is infinite (and where a density on a grid cannot be compared; for the
    // same reason the grid's ∫λρ falls short of m₁ there).
    let mut worst: f64 = 0.0;
    for (l, r) in d.lambda.iter().zip(&d.density) {
        if *l > lo + 0.02 && *l < hi - 0.02 {
            let exact = 1.0 / (PI * ((l - lo) * (hi - l)).sqrt());
            worst = worst.max((r - exact).abs() / exact);
        }
    }
    println!(
        "gated cI + U, c = {c}: m₁ = {:.6} (exact {:.6}), max relative density error inside the support {worst:.1e}",
        gm.m1,
        1.0 + c * c
    );
    // `orthogonal_shift_is_arcsine` (tests/gated_spectrum.rs) asserts 1e-5.
    assert!(worst < 1e-5);
    Ok(())
}
