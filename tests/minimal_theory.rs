//! minimalRNN: the factorised mean-field theory and the exact tied-weight theory against
//! finite-width simulation, fixed points, slopes, and the vanilla consistency check.
//!
//! Tolerance for a comparison of a theory value `x` (standard error `se_x` for the sampled
//! exact theory, 0 for the factorised one) with a simulated mean `m ± se` at width `N`:
//! `|m − x| <= 5 √(se² + se_x²) + KAPPA · max(|x|, FLOOR) / N`, the finite-width term as in
//! `tests/vanilla_simulation.rs` (KAPPA = 4, measured there to cover the 1/N bias). The
//! floor is the statistic's natural scale (R for the second moments, 1 for correlations,
//! q for variances) times 1e-2: at large μ_b the state second moment is ~1e-4…1e-3 of R and
//! its O(1/N) deviations (measured up to ~10% at N = 256, μ_b = 6) are judged on that floor.

mod common;

use mfrnn::activation::Builtin;
use mfrnn::cells::minimal::Minimal;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{Cell, CellParams, Regime, RhoSchedule};
use mfrnn::exact::{self, ExactConfig, ExactTrajectory};
use mfrnn::sim::{SimConfig, SimTrajectory};
use proptest::prelude::*;

use common::valid_params as params;

const KAPPA: f64 = 4.0;

fn cell(sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> Minimal {
    Minimal::new(params(sw, sv, sb, mu, r)).unwrap()
}

fn exact_config(units: usize, seed: u64) -> ExactConfig {
    ExactConfig::builder()
        .units(units)
        .replicas(8)
        .seed(seed)
        .build()
        .unwrap()
}

/// The minimalRNN simulated at `cfg`.
fn simulate(m: &Minimal, sched: &RhoSchedule, cfg: &SimConfig) -> mfrnn::Result<SimTrajectory> {
    mfrnn::sim::simulate(&Cell::Minimal, m.params(), sched, cfg)
}

fn sim_config(width: usize, batch: usize, seeds: usize, seed: u64) -> mfrnn::sim::SimConfigBuilder {
    SimConfig::builder()
        .width(width)
        .batch(batch)
        .seeds(seeds)
        .seed(seed)
}

#[allow(clippy::too_many_arguments)]
fn exact_tr(
    sw: f64,
    sv: f64,
    sb: f64,
    mu: f64,
    r: f64,
    sched: &RhoSchedule,
    regime: Regime,
    seed: u64,
) -> ExactTrajectory {
    exact::trajectory(
        &Cell::Minimal,
        &params(sw, sv, sb, mu, r),
        sched,
        regime,
        &exact_config(32_000, seed),
    )
    .unwrap()
}

/// Theory arrays with their standard errors (zero for the deterministic recursion).
struct Th<'a> {
    q: (&'a [f64], Option<&'a [f64]>),
    big_q: (&'a [f64], Option<&'a [f64]>),
    big_c: (&'a [f64], Option<&'a [f64]>),
    c: (&'a [f64], Option<&'a [f64]>),
}

fn compare(th: &Th<'_>, sim: &SimTrajectory, r: f64, steps: &[usize], label: &str) {
    let n = sim.config.width() as f64;
    for &t in steps {
        let i = t - 1;
        let q_scale = th.q.0[i];
        for (name, (x, xse), m, se, floor) in [
            ("q", th.q, sim.q[i], sim.q_se[i], 1e-2 * q_scale),
            ("Q", th.big_q, sim.big_q[i], sim.big_q_se[i], 1e-2 * r),
            ("C", th.big_c, sim.big_c[i], sim.big_c_se[i], 1e-2 * r),
            ("c", th.c, sim.c[i], sim.c_se[i], 1e-2),
        ] {
            let xv = x[i];
            let xs = xse.map_or(0.0, |s| s[i]);
            let tol = 5.0 * (se * se + xs * xs).sqrt() + KAPPA * xv.abs().max(floor) / n;
            assert!(
                (m - xv).abs() <= tol,
                "{label} {name} at t={t}: theory {xv:.6} ± {xs:.6}, simulation {m:.6} ± {se:.6} (tolerance {tol:.6})"
            );
        }
    }
}

/// The factorised theory is the exact limit for untied weights with a bias redrawn every
/// step: it must agree with that simulation.
#[test]
fn factorised_theory_matches_untied_fresh_bias_simulation() {
    let sched = RhoSchedule::parse("0x8,1x16").unwrap();
    for (k, &(sw, sv, sb, mu, r)) in [
        (3.0, 1.0, 0.5, 0.0, 0.46),
        (2.0, 0.707, 1.0, 2.0, 1.0),
        (6.88, 1.39, 0.0, 3.5, 0.46),
        (3.0, 1.0, 0.0, -4.0, 0.46),
    ]
    .iter()
    .enumerate()
    {
        let m = cell(sw, sv, sb, mu, r);
        let fac = m.trajectory(&sched).unwrap();
        let cfg = sim_config(256, 8, 32, 40 + k as u64)
            .regime(Regime::REDRAWN)
            .build()
            .unwrap();
        let sim = simulate(&m, &sched, &cfg).unwrap();
        let th = Th {
            q: (&fac.q, None),
            big_q: (&fac.big_q, None),
            big_c: (&fac.big_c, None),
            c: (&fac.c, None),
        };
        compare(
            &th,
            &sim,
            r,
            &[1, 4, 8, 9, 12, 24],
            &format!("factorised σ_w={sw} μ_b={mu} σ_b={sb}"),
        );
    }
}

/// The exact theory (per-unit Gaussian process) agrees with the real network — tied weights,
/// frozen bias — across μ_b from −4 to 8, with and without bias variance, including a
/// bistable case and a slow large-μ_b case; the factorised theory does not (15–70% off).
#[test]
fn exact_theory_matches_tied_simulation() {
    let sched = RhoSchedule::parse("0x10,1x30").unwrap();
    let tied = Regime::REAL;
    let cases = [
        (3.0, 1.0, 0.0, -4.0, 0.46),
        (3.0, 1.0, 0.5, 0.0, 0.46),
        (2.0, 0.707, 1.0, 2.0, 1.0),
        (6.88, 1.39, 0.0, 3.5, 0.46),
        (3.0, 1.39, 0.0, 6.0, 0.46),  // slow: χ_Q ≈ 0.9925
        (11.2, 2.33, 0.0, 8.0, 0.46), // bistable Q-map
        (6.88, 1.39, 0.3, 8.0, 0.46),
    ];
    for (k, &(sw, sv, sb, mu, r)) in cases.iter().enumerate() {
        let m = cell(sw, sv, sb, mu, r);
        let ex = exact_tr(sw, sv, sb, mu, r, &sched, tied, 1 + k as u64);
        let sim = simulate(
            &m,
            &sched,
            &sim_config(256, 8, 32, 60 + k as u64).build().unwrap(),
        )
        .unwrap();
        let th = Th {
            q: (&ex.q, Some(&ex.q_se)),
            big_q: (&ex.big_q, Some(&ex.big_q_se)),
            big_c: (&ex.big_c, Some(&ex.big_c_se)),
            c: (&ex.c, Some(&ex.c_se)),
        };
        compare(
            &th,
            &sim,
            r,
            &[1, 5, 10, 11, 15, 20, 30, 40],
            &format!("exact σ_w={sw} μ_b={mu} σ_b={sb}"),
        );
    }
    // Where the factorisation fails: strong recurrence or bias variance.
    for &(sw, sv, sb, mu, r) in &[(2.0, 0.707, 1.0, 2.0, 1.0), (6.88, 1.39, 0.0, 3.5, 0.46)] {
        let fac = cell(sw, sv, sb, mu, r).trajectory(&sched).unwrap();
        let ex = exact_tr(sw, sv, sb, mu, r, &sched, tied, 99);
        let rel = (fac.big_q[39] - ex.big_q[39]).abs() / ex.big_q[39];
        assert!(
            rel > 0.3,
            "factorised Q {} vs exact {}: expected a large gap",
            fac.big_q[39],
            ex.big_q[39]
        );
    }
}

/// With the regime of the factorised theory (untied, fresh bias) the sampled unit process
/// reproduces the factorised recursion.
#[test]
fn exact_theory_reduces_to_factorised_when_untied() {
    let sched = RhoSchedule::parse("0x6,1x10").unwrap();
    let (sw, sv, sb, mu, r) = (2.0, 0.707, 1.0, 2.0, 1.0);
    let fac = cell(sw, sv, sb, mu, r).trajectory(&sched).unwrap();
    let ex = exact_tr(sw, sv, sb, mu, r, &sched, Regime::REDRAWN, 5);
    for i in 0..sched.len() {
        for (x, y, se) in [
            (fac.big_q[i], ex.big_q[i], ex.big_q_se[i]),
            (fac.big_c[i], ex.big_c[i], ex.big_c_se[i]),
            (fac.q[i], ex.q[i], ex.q_se[i]),
        ] {
            assert!(
                (x - y).abs() <= 5.0 * se + 1e-12,
                "t={}: factorised {x} vs exact {y} ± {se}",
                i + 1
            );
        }
    }
}

/// For the vanilla cell the exact theory's same-time statistics equal the mean-field maps.
#[test]
fn vanilla_exact_theory_equals_mean_field() {
    let sched = RhoSchedule::parse("0.2x4,1x8").unwrap();
    let (sw, sv, sb, mu, r) = (1.5, 0.5, 0.3, 0.1, 1.0);
    let p = params(sw, sv, sb, mu, r);
    let v = Vanilla::with_builtin(Builtin::Tanh, p);
    let mf = v.trajectory(&sched).unwrap();
    let ex = exact::trajectory(
        &Cell::vanilla(Builtin::Tanh),
        &p,
        &sched,
        Regime::REAL,
        &exact_config(40_000, 3),
    )
    .unwrap();
    for i in 0..sched.len() {
        for (x, y, se) in [
            (mf.q[i], ex.q[i], ex.q_se[i]),
            (mf.big_q[i], ex.big_q[i], ex.big_q_se[i]),
            (mf.big_c[i], ex.big_c[i], ex.big_c_se[i]),
            (mf.c[i], ex.c[i], ex.c_se[i]),
        ] {
            assert!(
                (x - y).abs() <= 5.0 * se + 1e-12,
                "t={}: mean field {x} vs exact {y} ± {se}",
                i + 1
            );
        }
    }
}

/// The bistable Q-map: three roots (stable, unstable, stable); the dynamics from h⁰ = 0 reach
/// the smallest, and the iterated map confirms it.
#[test]
fn bistable_state_map() {
    let m = cell(11.2, 2.33, 0.0, 8.0, 0.46);
    let fps = m.state_fixed_points().unwrap();
    assert_eq!(fps.len(), 3, "{fps:?}");
    assert_eq!(
        fps.iter().map(|f| f.stable).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    assert!(fps[0].reached_from_zero && !fps[2].reached_from_zero);
    assert!(
        (fps[0].big_q - 0.0075054).abs() < 1e-6 && (fps[2].big_q - 0.25360).abs() < 1e-4,
        "{fps:?}"
    );
    let mut q = 0.0;
    for _ in 0..200_000 {
        q = m.state_map(q).unwrap().1;
    }
    assert!((q - fps[0].big_q).abs() < 1e-9, "{q}");
}

/// Bad parameters: typed errors naming them.
#[test]
fn bad_parameters() {
    // R = 0 is a valid parameter set, but not for the minimalRNN.
    assert!(
        Minimal::new(params(1.0, 1.0, 0.0, 0.0, 0.0))
            .unwrap_err()
            .to_string()
            .contains("`r`")
    );
    assert!(
        CellParams::builder()
            .sigma_v(-1.0)
            .build()
            .unwrap_err()
            .to_string()
            .contains("`sigma-v`")
    );
    assert!(
        ExactConfig::builder()
            .units(10)
            .replicas(8)
            .seed(1)
            .build()
            .unwrap_err()
            .to_string()
            .contains("`units`")
    );
    assert!(
        cell(2.0, 1.0, 0.0, 1.0, 0.5)
            .covariance_fixed_points(0.1, 2.0)
            .is_err()
    );
}

proptest! {
    #![proptest_config(common::fixed_seed(24))]

    /// Slopes equal finite-difference derivatives of the maps; fixed points satisfy them; the
    /// C-map fixes C = Q* for identical inputs with slope χ₁; the summary agrees with analyze.
    #[test]
    fn slopes_and_fixed_points(sw in 0.5f64..8.0, sv in 0.0f64..2.0, sb in 0.0f64..1.0,
                               mu in -4.0f64..6.0, rho in prop::sample::select(vec![0.0, 0.5, 1.0])) {
        let m = cell(sw, sv, sb, mu, 0.46);
        let a = m.analyze(rho).unwrap();
        let big_q = a.summary.big_q_star;
        prop_assert!((m.state_map(big_q).unwrap().1 - big_q).abs() <= 1e-12);
        let h = 1e-6 * big_q.max(1e-6);
        let fd = (m.state_map(big_q + h).unwrap().1 - m.state_map(big_q - h).unwrap().1) / (2.0 * h);
        prop_assert!((fd - a.summary.chi_q).abs() < 1e-5 * (1.0 + a.summary.chi_q.abs()), "chi_Q {fd} vs {}", a.summary.chi_q);
        // C-map at Q*: one step with Q = Q* held fixed.
        let cmap = |c: f64, r: f64| m.pair_map(big_q, c, r).unwrap().big_c;
        prop_assert!((cmap(big_q, 1.0) - big_q).abs() < 1e-13);
        let hc = 1e-6 * big_q;
        let fd1 = (big_q - cmap(big_q - hc, 1.0)) / hc;
        prop_assert!((fd1 - a.summary.chi_1).abs() < 1e-4 * (1.0 + a.summary.chi_1), "chi_1 {fd1} vs {}", a.summary.chi_1);
        let c = a.summary.c_star.unwrap() * big_q;
        prop_assert!((cmap(c, rho) - c).abs() < 1e-12);
        if a.summary.c_star.unwrap() < 0.999 {
            let fdc = (cmap(c + hc, rho) - cmap(c - hc, rho)) / (2.0 * hc);
            prop_assert!((fdc - a.summary.chi_c.unwrap()).abs() < 1e-5 * (1.0 + fdc.abs()), "chi_C {fdc} vs {:?}", a.summary.chi_c);
        }
        let s = m.summary(rho).unwrap();
        prop_assert!((s.big_q_star - a.summary.big_q_star).abs() <= 1e-12 * a.summary.big_q_star.max(1e-12));
        prop_assert!((s.c_star.unwrap() - a.summary.c_star.unwrap()).abs() < 1e-9);
    }
}
