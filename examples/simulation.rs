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
use mfrnn::cells::RhoSchedule;
use mfrnn::cells::exact::{self, ExactConfig, ProcessParams, Regime, UnitUpdate};
use mfrnn::cells::minimal::{Minimal, MinimalParams};
use mfrnn::cells::vanilla::{Vanilla, VanillaParams};
use mfrnn::init::{self, Given};
use mfrnn::sim::{self, SimConfig, Weights, jacobian};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum, WeightLaw};

fn main() -> Result<(), mfrnn::Error> {
    // --- Vanilla: Sim.3, Sim.5, Sim.6 ---------------------------------------------------------
    let v = Vanilla::with_builtin(Builtin::Tanh, VanillaParams::new(2.0, 0.3, 0.2, 0.0, 1.0)?);
    let sched = RhoSchedule::parse("0x5,1x15")?;
    let th = v.trajectory(&sched)?;
    let n = 256;
    println!("chaotic tanh RNN, N = {n}, step 20: theory vs simulation");
    for tied in [true, false] {
        let cfg = SimConfig::new(n, 8, 32, 3)?.tied(tied);
        let s = sim::vanilla::simulate(&v, &sched, &cfg)?;
        if tied {
            // Sim.3: same seed → identical; another seed → different. (Checked on the tied run
            // only: an untied run draws a fresh W every step and costs three times as much.)
            assert_eq!(s, sim::vanilla::simulate(&v, &sched, &cfg)?);
            let other = sim::vanilla::simulate(&v, &sched, &SimConfig::new(n, 8, 32, 4)?)?;
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
    let (sw, sv, sb, mu, r) = (2.0, 0.707, 1.0, 2.0, 1.0);
    let m = Minimal::new(MinimalParams::new(sw, sv, sb, mu, r)?);
    let sched = RhoSchedule::parse("0x10,1x30")?;
    let fac = m.trajectory(&sched)?.big_q[39];
    let cfg = SimConfig::new(n, 8, 32, 3)?;
    let untied = sim::minimal::simulate(&m, &sched, &cfg.tied(false).fresh_bias(true))?;
    let real = sim::minimal::simulate(&m, &sched, &cfg)?;
    let pp = ProcessParams {
        sigma_w: sw,
        sigma_v: sv,
        sigma_b: sb,
        mu_b: mu,
        r,
    };
    let frozen = Regime {
        tied: true,
        fresh_bias: false,
    };
    let ex = exact::trajectory(
        &UnitUpdate::Minimal,
        &pp,
        &sched,
        frozen,
        &ExactConfig::new(16_000, 8, 1)?,
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
    let c = init::vanilla(Builtin::Tanh.arc(), 0.5, 1.0, 0.0, Given::SigmaV(0.0))?;
    let v = Vanilla::with_builtin(
        Builtin::Tanh,
        VanillaParams::new(c.sigma_w, c.sigma_v, c.sigma_b, c.mu_b, c.r)?,
    );
    let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, 0.5)?;
    let t = 10;
    println!("critical tanh (q* = 0.5), sampled J_T, N = 400, T = {t}:");
    for (w, wl) in [
        (Weights::Orthogonal, WeightLaw::Orthogonal),
        (Weights::Gaussian, WeightLaw::Gaussian),
    ] {
        let sp = ProductSpectrum::new(law.clone(), c.sigma_w * c.sigma_w, t, wl)?;
        let d = sp.density(400)?;
        let js = jacobian::vanilla(&v, &SimConfig::new(400, 1, 4, 3)?.weights(w), t, 50)?;
        let ks = jacobian::ks_distance(&js.squared_singular_values, |x| d.cdf(x));
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
