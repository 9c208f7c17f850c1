//! Numerical honesty (issue 11, parts 3 and 4), at library level: diverging maps and
//! simulations are typed errors naming the step, value and reason; overflowing results are
//! errors; saturated gates give their true (single) fixed points and slopes; solvers at
//! extreme but legal values finish quickly with correct numbers. CLI counterparts are in
//! `tests/cli_numerics.rs`; `docs/approximations.md` ("Saturation and divergence") cites
//! these tests.

mod common;

use std::time::{Duration, Instant};

use mfrnn::Error;
use mfrnn::activation::Builtin;
use mfrnn::cells::minimal::{Minimal, StateFixedPoint};
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{Analysis, Cell, CellParams, FixedPoints, MeanField, Regime, RhoSchedule};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::expect::logistic::logistic_moment;
use mfrnn::expect::{Fun, Normal, expect};
use mfrnn::init::{self, Given, Target};
use mfrnn::phase::{self, Axis, Quantity};
use mfrnn::sim::{SimConfig, SimTrajectory};

use common::params;

/// The parameters as the minimalRNN accepts them (`R > 0` on top of [`params`]).
fn minimal_params(sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> Result<CellParams, Error> {
    let p = params(sw, sv, sb, mu, r)?;
    Cell::Minimal.validate(&p)?;
    Ok(p)
}

fn vanilla(phi: Builtin, sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> Vanilla {
    Vanilla::with_builtin(phi, params(sw, sv, sb, mu, r).unwrap())
}

fn minimal(sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> Minimal {
    Minimal::new(minimal_params(sw, sv, sb, mu, r).unwrap()).unwrap()
}

fn sim_config(width: usize, batch: usize, seeds: usize, seed: u64) -> SimConfig {
    SimConfig::builder()
        .width(width)
        .batch(batch)
        .seeds(seeds)
        .seed(seed)
        .build()
        .unwrap()
}

/// The generic simulator on the network of a mean-field theory.
fn simulate(
    mf: &dyn MeanField,
    rho: &RhoSchedule,
    cfg: &SimConfig,
) -> Result<SimTrajectory, Error> {
    mfrnn::sim::simulate(&mf.cell(), mf.params(), rho, cfg)
}

/// The minimalRNN's state fixed points of an analysis.
fn state_fixed_points(a: &Analysis) -> &[StateFixedPoint] {
    match &a.fixed_points {
        FixedPoints::Minimal { fixed_points, .. } => fixed_points,
        other => panic!("not a minimalRNN analysis: {other:?}"),
    }
}

/// The notes of a minimalRNN analysis.
fn notes(a: &Analysis) -> &[String] {
    match &a.fixed_points {
        FixedPoints::Minimal { notes, .. } => notes,
        other => panic!("not a minimalRNN analysis: {other:?}"),
    }
}

/// The work of a call, with a generous guard against the old hangs (minutes) that no
/// loaded CI machine comes near (they take well under a second on one core).
fn timed<T>(limit_s: u64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(
        t.elapsed() < Duration::from_secs(limit_s),
        "took {:?} (limit {limit_s} s)",
        t.elapsed()
    );
    out
}

fn expect_diverged(r: Result<impl std::fmt::Debug, Error>) -> (&'static str, usize, f64, String) {
    match r {
        Err(Error::Diverged {
            quantity,
            step,
            value,
            reason,
        }) => (quantity, step, value, reason),
        other => panic!("expected Diverged, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Part 3: divergence and overflow are errors, never inf/NaN/null presented as results.
// ---------------------------------------------------------------------------------------

#[test]
fn relu_mean_field_trajectory_diverges_with_the_theory_reason() {
    // q grows by σ_w²/2 = 4.5 per step and overflows after ~470 steps.
    let v = vanilla(Builtin::Relu, 3.0, 1.0, 0.1, 0.0, 1.0);
    let sched = RhoSchedule::constant(0.0, 700).unwrap();
    let (quantity, step, value, reason) = expect_diverged(v.trajectory(&sched));
    assert!(["q", "Q"].contains(&quantity), "{quantity}");
    assert!((400..=480).contains(&step), "step {step}");
    assert!(!value.is_finite(), "{value}");
    assert!(
        reason.contains("relu") && reason.contains("1.414214"),
        "{reason}"
    );
    // The steps before are all finite (the trajectory up to there is a result).
    let ok = v
        .trajectory(&RhoSchedule::constant(0.0, step - 1).unwrap())
        .unwrap();
    assert!(ok.q.iter().chain(&ok.c).all(|x| x.is_finite()));
    assert!(*ok.q.last().unwrap() > 1e300);
}

#[test]
fn relu_simulation_diverges_instead_of_printing_a_fabricated_correlation() {
    let v = vanilla(Builtin::Relu, 3.0, 1.0, 0.1, 0.0, 1.0);
    let cfg = sim_config(64, 2, 2, 1);
    let sched = RhoSchedule::constant(0.0, 700).unwrap();
    let (quantity, step, _, reason) = expect_diverged(simulate(&v, &sched, &cfg));
    assert!(["q", "Q", "q_ab", "C", "c"].contains(&quantity));
    assert!(step > 250 && step < 700, "step {step}");
    assert!(reason.contains("σ_w > 1.414214"), "{reason}");
    // Before the overflow the correlation is a measured number — it used to read exactly
    // 0 ± 0 from q ≈ 1e154 on, where the product q_a·q_b overflowed. (This tied network of
    // width 64 gives c ≈ 0.63 ± 0.12 at step 250; mean field, for untied weights, 0.9993.)
    let sched = RhoSchedule::constant(0.0, 250).unwrap();
    let tr = simulate(&v, &sched, &cfg).unwrap();
    let last = tr.c.len() - 1;
    assert!(tr.q[last] > 1e154, "{}", tr.q[last]);
    assert!(tr.c[last] > 0.2 && tr.c[last] <= 1.0, "{}", tr.c[last]);
    assert!(
        tr.c_se[last] > 0.0 && tr.c_se[last].is_finite(),
        "{}",
        tr.c_se[last]
    );
    assert!(tr.q_se[last].is_finite());
}

#[test]
fn linear_simulation_with_large_sigma_w_diverges() {
    let v = vanilla(Builtin::Linear, 100.0, 1.0, 0.1, 0.0, 1.0);
    let cfg = sim_config(32, 2, 2, 1);
    let sched = RhoSchedule::constant(0.0, 200).unwrap();
    let (_, step, _, reason) = expect_diverged(simulate(&v, &sched, &cfg));
    assert!((60..=90).contains(&step), "step {step}");
    assert!(reason.contains("linear with σ_w > 1.000000"), "{reason}");
}

#[test]
fn scales_whose_square_overflows_are_rejected_at_construction() {
    for (i, name) in ["sigma-w", "sigma-v", "sigma-b"].iter().enumerate() {
        let mut s = [1.0, 1.0, 0.1];
        s[i] = 1e308;
        for r in [
            params(s[0], s[1], s[2], 0.0, 1.0).map(|_| ()),
            minimal_params(s[0], s[1], s[2], 0.0, 1.0).map(|_| ()),
        ] {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, *name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    // The largest accepted scale: its square stays within the variance budget of
    // `check_variances` (σ_w² + σ_v² R + σ_b² <= 1e300, tests/limits.rs).
    assert!(params(1e150, 1.0, 0.1, 0.0, 1.0).is_ok());
    assert!(params(1.3e154, 1.0, 0.1, 0.0, 1.0).is_err());
}

#[test]
fn inputs_at_the_edge_of_double_range_are_refused_or_finite() {
    // R = 1e308 (σ_v² R overflows the variance budget) is refused at construction, naming R;
    // at the largest accepted R every estimate is finite.
    for r in [
        params(1.0, 1.0, 0.1, 0.0, 1e308).map(|_| ()),
        minimal_params(1.0, 1.0, 0.1, 0.0, 1e308).map(|_| ()),
    ] {
        match r {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "r"),
            other => panic!("{other:?}"),
        }
    }
    let sched = RhoSchedule::constant(0.0, 3).unwrap();
    let cfg = sim_config(16, 2, 2, 1);
    let v = vanilla(Builtin::Tanh, 1.0, 1.0, 0.1, 0.0, 1e300);
    let e = simulate(&v, &sched, &cfg).unwrap();
    assert!(e.q.iter().chain(&e.c).all(|x| x.is_finite()), "{e:?}");
    let m = minimal(1.0, 1.0, 0.1, 0.0, 1e300);
    let e = simulate(&m, &sched, &cfg).unwrap();
    assert!(e.q.iter().chain(&e.c).all(|x| x.is_finite()), "{e:?}");
}

#[test]
fn exact_theory_of_a_diverging_network_is_an_error_not_nulls() {
    let pp = params(3.0, 1.0, 0.1, 0.0, 1.0).unwrap();
    let cell = Cell::vanilla(Builtin::Linear);
    let sched = RhoSchedule::constant(0.0, 700).unwrap();
    let regime = Regime {
        tied: true,
        fresh_bias: false,
    };
    let cfg = ExactConfig::builder()
        .units(200)
        .replicas(2)
        .seed(1)
        .build()
        .unwrap();
    let r = exact::trajectory(&cell, &pp, &sched, regime, &cfg);
    let (_, step, _, reason) = expect_diverged(r);
    assert!(step < 700, "{step}");
    assert!(reason.contains("linear with σ_w > 1.000000"), "{reason}");
}

#[test]
fn an_overflowing_expectation_is_an_error() {
    let lin = Builtin::Linear.arc();
    let n = Normal::new(0.0, 1e200).unwrap();
    match expect(&Fun::phi(&lin).powi(4), &n) {
        Err(Error::Overflow { quantity, reason }) => {
            assert!(quantity.contains("phi^4"), "{quantity}");
            assert!(reason.contains("largest double"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Just below the overflow it is a number: E[u⁴] = 3q² at q = 1e150.
    let n = Normal::new(0.0, 1e150).unwrap();
    let e = expect(&Fun::phi(&lin).powi(4), &n).unwrap();
    assert!((e.value / 3e300 - 1.0).abs() < 1e-14, "{}", e.value);
}

#[test]
fn large_variance_kernels_do_not_overflow_into_wrong_numbers() {
    // E[erf(u) erf(v)] at q = 1e160 is (2/π) arcsin(c) to double precision; the determinant
    // of the closed form used to overflow and give 0. E[relu(u) relu(v)] is finite there.
    let erf = Builtin::Erf.arc();
    let relu = Builtin::Relu.arc();
    let b = mfrnn::expect::BivariateNormal::equal(0.0, 1e160, 0.5).unwrap();
    let e = mfrnn::expect::expect2(&Fun::phi(&erf), &Fun::phi(&erf), &b).unwrap();
    assert!((e.value - std::f64::consts::FRAC_2_PI * 0.5f64.asin()).abs() < 1e-15);
    let r = mfrnn::expect::expect2(&Fun::phi(&relu), &Fun::phi(&relu), &b).unwrap();
    // q/(2π) (sin θ + (π − θ) cos θ) at c = 0.5, θ = π/3.
    let th = std::f64::consts::FRAC_PI_3;
    let exact =
        1e160 / (2.0 * std::f64::consts::PI) * (th.sin() + (std::f64::consts::PI - th) * 0.5);
    assert!((r.value / exact - 1.0).abs() < 1e-14, "{}", r.value);
}

#[test]
fn spectral_edge_at_a_billion_steps_is_finite_and_linear_in_the_horizon() {
    let c = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(1.0)
            .r(1.0)
            .mu_b(0.0)
            .given(Given::SigmaB(0.0)),
    )
    .unwrap();
    let at = |t: usize| c.spectral_width(t).unwrap().lambda_max.unwrap();
    let (a, b) = (at(1_000_000), at(1_000_000_000));
    for (x, y) in [(a.orthogonal, b.orthogonal), (a.gaussian, b.gaussian)] {
        assert!(y.is_finite(), "{y}");
        // At criticality λ_max grows linearly in T at long horizons (1.586 T orthogonal,
        // 4.304 T Gaussian here).
        assert!((y / 1e9 - x / 1e6).abs() < 1e-3 * (x / 1e6), "{x} {y}");
    }
}

// ---------------------------------------------------------------------------------------
// Saturated gates of the minimalRNN: the exact limits, never roots of rounding noise.
// ---------------------------------------------------------------------------------------

/// `E[σ(−x)²]`, `E[σ'(x)]`, `E[σ'(x)²]` for `x ~ N(μ, q)` with `μ ≫ q`: `e^{−2μ+2q}`,
/// `e^{−μ+q/2}`, `e^{−2μ+2q}`, each up to a relative `O(e^{−μ+3q})` (expand `σ(−x)` in
/// powers of `e^{−x}`; the Gaussian mass below 0 is `~e^{−μ²/2q}`).
fn open_gate_asymptotics(mu: f64, q: f64) -> (f64, f64, f64) {
    (
        (-2.0 * mu + 2.0 * q).exp(),
        (-mu + 0.5 * q).exp(),
        (-2.0 * mu + 2.0 * q).exp(),
    )
}

#[test]
fn open_gate_has_one_fixed_point_at_its_closed_form() {
    // Issue 11: σ_w = 6.89, σ_v = 1, σ_b = 0, R = 0.46, μ_b = 50 reported Q* = 0.0336 and 9
    // more roots of rounding noise. The state barely moves from h⁰ = 0: Q* = R θ with
    // θ = E[(1−u)²]/E[1−u²] ≈ e^{−μ+1.5q}/2 at q = q(Q*) ≈ R.
    let (mu, r) = (50.0, 0.46);
    let m = minimal(6.89, 1.0, 0.0, mu, r);
    let an = m.analyze(0.0).unwrap();
    assert_eq!(state_fixed_points(&an).len(), 1, "{:?}", an.fixed_points);
    let f = state_fixed_points(&an)[0];
    assert!(f.reached_from_zero && f.stable);
    let (a, b, d) = open_gate_asymptotics(mu, r);
    let q_star = r * a / (a + 2.0 * b);
    assert!(
        (an.summary.big_q_star / q_star - 1.0).abs() < 1e-12,
        "{} vs {q_star}",
        an.summary.big_q_star
    );
    // The trajectory from h⁰ = 0 indeed stays below it.
    let tr = m
        .trajectory(&RhoSchedule::constant(0.0, 5).unwrap())
        .unwrap();
    assert!(
        tr.big_q
            .iter()
            .all(|&x| x > 0.0 && x < an.summary.big_q_star)
    );
    // ξ₁ = −1/ln χ₁ with 1 − χ₁ = E[1 − u²] − σ_w² E[σ'²](Q* + R) ≈ 2e^{−μ+q/2}: about 2e21
    // steps, not ∞ nor the 2^53 of rounding noise.
    let gap = a + 2.0 * b - 6.89f64.powi(2) * d * (an.summary.big_q_star + r);
    let xi = an.summary.xi_1.expect("finite");
    assert!(
        (xi * gap - 1.0).abs() < 1e-9,
        "ξ₁ = {xi}, 1/gap = {}",
        1.0 / gap
    );
    assert!(an.summary.xi_q.expect("finite") > 1e21);
    // c* and χ_c are not resolved in double precision; the analysis says so.
    assert_eq!(an.summary.c_star, None);
    assert!(
        notes(&an).iter().any(|n| n.contains("not resolved")),
        "{:?}",
        notes(&an)
    );
    // The summary used by phase diagrams agrees.
    let s = m.summary(0.0).unwrap();
    assert_eq!(s.big_q_star, an.summary.big_q_star);
    assert_eq!(s.xi_1, an.summary.xi_1);
}

#[test]
fn gate_open_beyond_double_range_is_the_exact_limit() {
    // μ_b = 1e308 used to list ~110 roots; |μ_b| > 1e150 is now refused at construction
    // (tests/limits.rs), so the limit is checked at the largest accepted μ_b, where the gate
    // is open beyond double range too. The state stays at 0 exactly.
    let m = minimal(6.89, 1.0, 0.0, 1e150, 0.46);
    let an = m.analyze(0.0).unwrap();
    assert_eq!(state_fixed_points(&an).len(), 1, "{:?}", an.fixed_points);
    assert_eq!(an.summary.big_q_star, 0.0);
    assert!(state_fixed_points(&an)[0].stable && state_fixed_points(&an)[0].reached_from_zero);
    assert_eq!((an.summary.chi_1, an.summary.xi_1), (1.0, None));
    assert!(
        notes(&an).iter().any(|n| n.contains("underflows")),
        "{:?}",
        notes(&an)
    );
}

#[test]
fn shut_gate_copies_its_input() {
    // μ_b = −50 used to fail with "no fixed point on [0, 0.46]"; Q = R is the fixed point
    // (u → 0: h = z), to within R·2e^{μ+q/2}.
    for mu in [-50.0, -1e150] {
        let m = minimal(6.89, 1.0, 0.0, mu, 0.46);
        let an = m.analyze(0.5).unwrap();
        assert_eq!(state_fixed_points(&an).len(), 1, "{:?}", an.fixed_points);
        assert!(
            (an.summary.big_q_star - 0.46).abs() < 1e-15,
            "{}",
            an.summary.big_q_star
        );
        assert!(state_fixed_points(&an)[0].stable);
        // h = z: the hidden correlation is the input correlation.
        assert!(
            (an.summary.c_star.unwrap() - 0.5).abs() < 1e-12,
            "{:?}",
            an.summary.c_star
        );
    }
}

#[test]
fn nearly_open_gate_matches_the_exponential_series_references() {
    // Q* and c* at μ_b = 12…16 (1 − E[u²] ~ 1e-5…1e-7) against closed-form exponential
    // series summed in mpmath (tests/reference/minimal_open_gate.py). Before the C-map was
    // written without cancellation, c* at μ_b = 12 was off by 2e-7.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/minimal_open_gate.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for c in v["cases"].as_array().unwrap() {
        let num = |k: &str| c[k].as_f64().unwrap();
        let refv = |k: &str| -> f64 { c[k].as_str().unwrap().parse().unwrap() };
        let m = minimal(
            num("sigma_w"),
            num("sigma_v"),
            num("sigma_b"),
            num("mu_b"),
            num("r"),
        );
        let an = m.analyze(num("rho")).unwrap();
        let (q_ref, c_ref) = (refv("Q_star"), refv("c_star"));
        assert!(
            (an.summary.big_q_star / q_ref - 1.0).abs() < 1e-12,
            "{c}: Q* = {}",
            an.summary.big_q_star
        );
        let c_star = an.summary.c_star.expect("resolved");
        assert!((c_star - c_ref).abs() < 1e-9, "{c}: c* = {c_star}");
    }
}

#[test]
fn logistic_moments_match_the_mpmath_references() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/logistic_moments.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 300);
    for c in cases {
        let num = |k: &str| c[k].as_f64().unwrap();
        let int = |k: &str| c[k].as_u64().unwrap() as u32;
        let (mu, q) = (num("mean"), num("q"));
        let got = logistic_moment(mu, q, int("a"), int("b"), int("k")).unwrap();
        let ln_l1: f64 = c["ln_l1"].as_str().unwrap().parse().unwrap();
        // Compare on the scale of ∫|integrand| (the routine's stated accuracy, 1e-13), plus
        // the conditioning of the problem itself: ln E moves by ~1 per unit of μ, so the
        // rounding of μ (and of ln σ at |x| ~ |μ|) costs a relative ~ε|μ| (1e-12 at μ = 3e4).
        let tol = 1e-12 + 1e-15 * (mu.abs() + ln_l1.abs());
        let got_scaled = got.value * (got.ln_scale - ln_l1).exp();
        let want_scaled = match c["ln_abs"].as_str() {
            Some(s) => {
                let ln_abs: f64 = s.parse().unwrap();
                c["sign"].as_f64().unwrap() * (ln_abs - ln_l1).exp()
            }
            None => 0.0,
        };
        assert!(
            (got_scaled - want_scaled).abs() < tol,
            "{c}: got {got:?} ({got_scaled} vs {want_scaled})"
        );
        // Positive moments to full relative accuracy in the logarithm, even far below the
        // double range (e^{−60000}).
        if int("k") == 0 {
            let ln_abs: f64 = c["ln_abs"].as_str().unwrap().parse().unwrap();
            assert!(
                (got.ln() - ln_abs).abs() < 1e-12 * ln_abs.abs().max(1.0),
                "{c}: ln {} vs {ln_abs}",
                got.ln()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Part 4: extreme but legal values finish quickly, with correct numbers.
// ---------------------------------------------------------------------------------------

#[test]
fn tanh_fixed_point_at_huge_sigma_w_is_fast_and_matches_the_sign_limit() {
    for sw in [1e4, 1e6, 1e10, 1e150] {
        let v = vanilla(Builtin::Tanh, sw, 1.0, 0.1, 0.0, 1.0);
        for rho in [0.0, 1.0] {
            let an = timed(20, || v.analyze(rho).unwrap());
            // E[tanh²] = 1 − E[sech²] and E[sech²(√q z)] = 2/√(2πq) + O(q^{-3/2}).
            let q = an.summary.q_star;
            assert!(
                (an.summary.big_q_star - (1.0 - 2.0 / (2.0 * std::f64::consts::PI * q).sqrt()))
                    .abs()
                    < 1e-9
            );
            // Correlation map → (2/π) arcsin c: χ_c at c* ≈ 0 is 2/π.
            // (Measured deviation 5.1e-5 at σ_w = 1e4, 5.1e-7 at 1e6: O(1/σ_w).)
            let chi_c = an.summary.chi_c.unwrap();
            assert!(
                (chi_c - std::f64::consts::FRAC_2_PI).abs() < 1.0 / sw,
                "{chi_c}"
            );
            // χ_q = σ_w² d/dq E[tanh²] ≈ σ_w² q^{-3/2}/√(2π) → √(2/π)/(2σ_w)… with Q* ≈ 1.
            let expect_chi_q = (sw * sw / q) / (2.0 * std::f64::consts::PI * q).sqrt();
            assert!(
                (an.summary.chi_q / expect_chi_q - 1.0).abs() < 1e-3,
                "{} vs {expect_chi_q}",
                an.summary.chi_q
            );
            assert!(an.summary.xi_q.unwrap() > 0.0 && an.summary.xi_q.unwrap() < 0.2);
        }
    }
}

#[test]
fn minimal_fixed_point_at_huge_sigma_w_is_fast() {
    for sw in [1e6, 1e10, 1e150] {
        let m = minimal(sw, 1.0, 0.1, 0.0, 1.0);
        let an = timed(20, || m.analyze(0.0).unwrap());
        // Step-function gate: E[u²] → ½, E[(1−u)²] → ½, so Q* → R and χ_Q → ½, χ_C → ¼.
        assert!(
            (an.summary.big_q_star - 1.0).abs() < 1e-3,
            "{}",
            an.summary.big_q_star
        );
        assert!(
            (an.summary.chi_q - 0.5).abs() < 1e-3,
            "{}",
            an.summary.chi_q
        );
        assert!(
            (an.summary.chi_c.unwrap() - 0.25).abs() < 1e-3,
            "{:?}",
            an.summary.chi_c
        );
    }
}

#[test]
fn phase_diagram_at_huge_sigma_w_finishes() {
    let base = params(1e10, 0.0, 0.0, 0.0, 1.0).unwrap();
    // (σ_v = σ_b = 0 would make q* = 0 from h⁰ = 0, where c* is undefined.)
    let x = Axis::parse("sigma-v=0.5:1:3").unwrap();
    let y = Axis::parse("sigma-b=0.5:1:3").unwrap();
    let tanh = Cell::vanilla(Builtin::Tanh);
    let d = timed(60, || {
        phase::diagram(&tanh, base, 1.0, x, y, Quantity::XiC, &|_| {}).unwrap()
    });
    assert!(d.failures.is_empty(), "{:?}", d.failures);
    assert!(
        d.values
            .iter()
            .flatten()
            .all(|v| v.is_some_and(f64::is_finite))
    );
    let d = timed(60, || {
        phase::diagram(&Cell::Minimal, base, 1.0, x, y, Quantity::XiC, &|_| {}).unwrap()
    });
    assert!(d.failures.is_empty(), "{:?}", d.failures);
}

// ---------------------------------------------------------------------------------------
// Solver settings (issue 12): every cap is a setting with a default, and a solver that runs
// out of it says so.
// ---------------------------------------------------------------------------------------

#[test]
fn fixed_point_solver_settings_reach_the_solvers() {
    use mfrnn::cells::SolverParams;
    let v = vanilla(Builtin::Tanh, 1.5, 0.0, 0.1, 0.0, 1.0);
    let m = minimal(11.2, 2.33, 0.0, 8.0, 0.46);
    assert_eq!(*v.solver(), SolverParams::default());
    assert_eq!(*m.solver(), SolverParams::minimal());
    // The defaults spelled out give the same numbers as the implicit ones.
    let a = v.analyze(1.0).unwrap();
    assert_eq!(
        v.clone()
            .with_solver(SolverParams::default())
            .analyze(1.0)
            .unwrap(),
        a
    );
    // Two Brent evaluations cannot refine a fixed point to double precision: a typed
    // NoConvergence with the evaluations spent, never a rough root.
    let tight = SolverParams {
        brent_max_iter: 2,
        ..SolverParams::default()
    };
    for r in [
        v.clone().with_solver(tight).analyze(1.0),
        m.clone().with_solver(tight).analyze(1.0),
    ] {
        match r {
            Err(Error::NoConvergence {
                solver,
                iterations,
                detail,
                ..
            }) => {
                assert_eq!((solver, iterations), ("Brent root finder", 2));
                assert!(detail.contains("2 evaluations"), "{detail}");
            }
            other => panic!("expected NoConvergence, got {other:?}"),
        }
    }
}

#[test]
fn spectrum_solver_settings_reach_the_edge_search() {
    use mfrnn::cells::WeightLaw;
    use mfrnn::spectrum::{DiagonalLaw, ProductSolver, ProductSpectrum};
    let law = DiagonalLaw::of_activation(&Builtin::Tanh, 0.0, 0.5).unwrap();
    let sp = ProductSpectrum::new(law, 1.2, 10, WeightLaw::Gaussian).unwrap();
    let edges = sp.edges();
    assert_eq!(
        sp.clone().with_solver(ProductSolver::default()).edges(),
        edges
    );
    // Three golden-section steps leave λ_max far from the minimum of z(m) (it is an upper
    // bound of it: z at a point that is not the minimiser).
    let rough = sp
        .with_solver(ProductSolver {
            golden_max_iter: 3,
            ..ProductSolver::default()
        })
        .edges();
    assert!(rough[1] > edges[1] * (1.0 + 1e-6), "{rough:?} vs {edges:?}");
}
