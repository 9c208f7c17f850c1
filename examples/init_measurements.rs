//! The measurements quoted in `theory/06-critical-initialization.md` that no test asserts
//! exactly: run `cargo run --release --example init_measurements`. It prints
//! 1. χ₁ of tied vanilla networks at the critical initialization q* = 0.05 (tanh, R = 1,
//!    σ_b = 0.005) against width, Gaussian and orthogonal W (8 networks, 200 burn-in steps);
//! 2. the memory timescale ξ_c at independent inputs (I.8) over the minimalRNN's critical
//!    family (R = 0.46, σ_b = 0);
//! 3. χ₁ of the minimalRNN closed form in the exact theory of tied, frozen-bias networks with
//!    σ_b > 0 (64 000 unit paths).
//!
//! It asserts only what the document claims qualitatively: orthogonal χ₁ within 4 standard
//! errors of 1, the tied Gaussian bias shrinking with N, and the exact-theory χ₁ within 1.5%.

use mfrnn::activation::Builtin;
use mfrnn::cells::{Cell, Regime, WeightLaw};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::init::{self, Given, Target, design};
use mfrnn::sim::SimConfig;
use mfrnn::sim::jacobian::{self, Accumulation};

fn main() -> Result<(), mfrnn::Error> {
    println!("1. tied vanilla χ₁ at q* = 0.05 against width");
    let target = Target::q_star(0.05).given(Given::SigmaB(0.005));
    let c = init::critical(&Cell::vanilla(Builtin::Tanh), &target)?;
    let mut gaussian_bias = Vec::new();
    for n in [200, 400, 800] {
        for w in [WeightLaw::Gaussian, WeightLaw::Orthogonal] {
            let cfg = SimConfig::builder()
                .width(n)
                .batch(1)
                .seeds(8)
                .seed(11)
                .weights(w)
                .build()?;
            let m =
                jacobian::sample(&c.cell, &c.params, &cfg, 1, 200, Accumulation::Direct)?.moments;
            println!("   N = {n:4} {w:?}: χ₁ = {:.4} ± {:.4}", m.m1, m.m1_se);
            match w {
                WeightLaw::Gaussian => gaussian_bias.push(1.0 - m.m1),
                WeightLaw::Orthogonal => assert!((m.m1 - 1.0).abs() < 4.0 * m.m1_se + 2e-3),
            }
        }
    }
    assert!(
        gaussian_bias.windows(2).all(|b| b[1] < b[0]),
        "{gaussian_bias:?}"
    );

    println!("2. ξ_c (ρ = 0) over the minimalRNN critical family");
    for mu_b in [0.0, 4.0, 8.0] {
        for q in [8.0, 16.0, 32.0] {
            if let Ok(c) = init::critical(&Cell::Minimal, &Target::q_star(q).mu_b(mu_b).r(0.46)) {
                println!(
                    "   μ_b = {mu_b}, q* = {q}: ξ_c = {:.4}",
                    design::memory_timescale(&c)?
                );
            }
        }
    }

    println!("3. exact tied-theory χ₁ of the minimalRNN closed form with σ_b > 0");
    for (q, mu_b, sb) in [(16.0, 2.0, 1.0), (16.0, 4.0, 1.5), (32.0, 0.0, 2.0)] {
        let target = Target::q_star(q)
            .mu_b(mu_b)
            .r(0.46)
            .given(Given::SigmaB(sb));
        let c = init::critical(&Cell::Minimal, &target)?;
        let cfg = ExactConfig::builder()
            .units(64_000)
            .replicas(8)
            .seed(3)
            .build()?;
        let paths = exact::jacobian_paths(&c.cell, &c.params, Regime::REAL, 200, 1, &cfg)?;
        let exact::M1Recursion { m1, se } = exact::m1_by_unit_recursion(&paths, c.params.sigma_w());
        println!(
            "   (q*, μ_b, σ_b) = ({q}, {mu_b}, {sb}): χ₁ = {:.4} ± {:.4}",
            m1[0], se[0]
        );
        assert!((m1[0] - 1.0).abs() < 0.015 + 4.0 * se[0]);
    }
    Ok(())
}
