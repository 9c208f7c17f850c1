//! Finite-width simulation of real networks (`mfrnn::sim`) against the theory.
//!
//! Checks `theory/07-simulation.md`:
//! - (Sim.3) reproducibility: the same seed gives bit-identical results, another seed does not;
//! - (Sim.5), (Sim.6) a chaotic tanh RNN (σ_w = 2, σ_v = 0.3, σ_b = 0.2, R = 1, inputs
//!   uncorrelated for 5 steps then identical; N = 256, 32 networks of 8 pairs, seed 3), tied and
//!   untied: every statistic at every step within `5 se + 4 max(|x|, 0.05)/N` of the mean-field
//!   trajectory (V.1)–(V.2) — the tolerance of `theory_matches_simulation`;
//! - (Sim.7) the minimalRNN case of theory/07 (σ_w = 2, σ_v = 0.707, σ_b = 1, μ_b = 2, R = 1):
//!   the factorised recursion matches untied, fresh-bias networks, the exact unit-process
//!   theory matches the real (tied, frozen-bias) network, and the factorised value is far (≈ 60%)
//!   above the real network's `Q`;
//! - (Sim.4), theory/04: sampled Jacobians of a critical tanh RNN (q* = 0.5, N = 400, T = 10)
//!   against the free-probability law: KS distance < 0.05 and m₁ = 1 within 3 se + 0.15 (the
//!   `O(T/N)` finite-width allowance of `theory_matches_sampled_jacobians`).
//!
//! Run: `cargo run --release --example simulation` (a few seconds on 2 cores).

use mfrnn::activation::{Activation, Builtin};
use mfrnn::cells::{Cell, CellParams, Regime, RhoSchedule, WeightLaw};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::init::{self, Given, Target};
use mfrnn::sim::jacobian::{self, Accumulation};
use mfrnn::sim::{self, SimConfig};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};
use mfrnn::stats::ks_distance;

fn main() -> Result<(), mfrnn::Error> {
    // --- Vanilla: Sim.3, Sim.5, Sim.6 ---------------------------------------------------------
    let tanh = Cell::vanilla(Builtin::Tanh);
    let p = CellParams::builder()
        .sigma_w(2.0)
        .sigma_v(0.3)
        .sigma_b(0.2)
        .build()?;
    let sched = RhoSchedule::parse("0x5,1x15")?;
    let th = tanh.mean_field(&p)?.trajectory(&sched)?;
    let n = 256;
    println!("chaotic tanh RNN, N = {n}, step 20: theory vs simulation");
    let base = SimConfig::builder().width(n).batch(8).seeds(32).seed(3);
    for tied in [true, false] {
        let cfg = base.tied(tied).build()?;
        let s = sim::simulate(&tanh, &p, &sched, &cfg)?;
        if tied {
            // Sim.3: same seed → identical; another seed → different. (Checked on the tied run
            // only: an untied run draws a fresh W every step and costs three times as much.)
            assert_eq!(s, sim::simulate(&tanh, &p, &sched, &cfg)?);
            let other = sim::simulate(&tanh, &p, &sched, &base.seed(4).build()?)?;
            assert_ne!(s.big_q, other.big_q);
        }
        // Sim.5: 5 standard errors (over networks) plus the O(1/N) finite-width bias, κ = 4,
        // floor 0.05 — measured in tests/vanilla_simulation.rs to cover that bias.
        let mut worst: f64 = 0.0;
        for i in 0..sched.len() {
            for (x, m, se) in [
                (th.q[i], s.q[i], s.q_se[i]),
                (th.big_q[i], s.big_q[i], s.big_q_se[i]),
                (th.q_ab[i], s.q_ab[i], s.q_ab_se[i]),
                (th.big_c[i], s.big_c[i], s.big_c_se[i]),
                (th.c[i], s.c[i], s.c_se[i]),
            ] {
                let tol = 5.0 * se + 4.0 * x.abs().max(0.05) / n as f64;
                worst = worst.max((m - x).abs() / tol);
            }
        }
        println!(
            "  {}: Q = {:.6} ± {:.6} (theory {:.6}), c = {:.6} ± {:.6} (theory {:.6}); largest deviation {:.2} of the tolerance",
            if tied { "tied  " } else { "untied" },
            s.big_q[19],
            s.big_q_se[19],
            th.big_q[19],
            s.c[19],
            s.c_se[19],
            th.c[19],
            worst
        );
        assert!(worst <= 1.0);
    }

    // --- minimalRNN: Sim.7 --------------------------------------------------------------------
    let r = 1.0;
    let p = CellParams::builder()
        .sigma_w(2.0)
        .sigma_v(0.707)
        .sigma_b(1.0)
        .mu_b(2.0)
        .r(r)
        .build()?;
    let minimal = Cell::minimal();
    let sched = RhoSchedule::parse("0x10,1x30")?;
    let fac = minimal.mean_field(&p)?.trajectory(&sched)?.big_q[39];
    let untied = sim::simulate(&minimal, &p, &sched, &base.regime(Regime::REDRAWN).build()?)?;
    let real = sim::simulate(&minimal, &p, &sched, &base.build()?)?;
    let ex = exact::trajectory(
        &minimal,
        &p,
        &sched,
        Regime::REAL,
        &ExactConfig::builder()
            .units(16_000)
            .replicas(8)
            .seed(1)
            .build()?,
    )?;
    let (ex_q, ex_se) = (ex.big_q[39], ex.big_q_se[39]);
    println!("minimalRNN (theory/07, Sim.7), Q at step 40:");
    println!("  factorised recursion            {fac:.6}");
    println!(
        "  simulation, untied, fresh bias  {:.6} ± {:.6}",
        untied.big_q[39], untied.big_q_se[39]
    );
    println!("  exact unit process (tied)       {ex_q:.6} ± {ex_se:.6}");
    println!(
        "  simulation, tied, frozen bias   {:.6} ± {:.6}",
        real.big_q[39], real.big_q_se[39]
    );
    // Tolerance of tests/minimal_theory.rs: 5 combined standard errors plus κ max(|x|, 0.01 R)/N.
    let ok = |x: f64, se_x: f64, m: f64, se: f64| {
        (m - x).abs()
            <= 5.0 * (se * se + se_x * se_x).sqrt() + 4.0 * x.abs().max(0.01 * r) / n as f64
    };
    assert!(ok(fac, 0.0, untied.big_q[39], untied.big_q_se[39]));
    assert!(ok(ex_q, ex_se, real.big_q[39], real.big_q_se[39]));
    // The factorisation fails for the real network: theory/07 measures +60%; assert > 30%, as
    // `exact_theory_matches_tied_simulation` does.
    assert!(fac > 1.3 * real.big_q[39]);

    // --- Jacobians: Sim.4 against theory/04 ---------------------------------------------------
    let c = init::critical(&tanh, &Target::q_star(0.5).given(Given::SigmaV(0.0)))?;
    let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, 0.5)?;
    let t = 10;
    println!("critical tanh (q* = 0.5), sampled J_T, N = 400, T = {t}:");
    for w in [WeightLaw::Orthogonal, WeightLaw::Gaussian] {
        let sp = ProductSpectrum::new(law.clone(), c.params.sigma_w2(), t, w)?;
        let d = sp.density(400)?;
        let cfg = SimConfig::builder()
            .width(400)
            .batch(1)
            .seeds(4)
            .seed(3)
            .weights(w)
            .build()?;
        let js = jacobian::sample(&c.cell, &c.params, &cfg, t, 50, Accumulation::Direct)?;
        let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
        let e = js.moments;
        println!(
            "  {w:?}: m₁ = {:.3} ± {:.3} (theory 1), normalised variance {:.3} ± {:.3} (theory {:.3}), KS {ks:.3}",
            e.m1,
            e.m1_se,
            e.normalized_variance,
            e.normalized_variance_se,
            sp.moments().normalized_variance
        );
        assert!(ks < 0.05);
        assert!((e.m1 - 1.0).abs() < 3.0 * e.m1_se + 0.15);
    }
    Ok(())
}
