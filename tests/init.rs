//! Critical initialization (`mfrnn::init`, `theory/06-critical-initialization.md`): closed
//! forms against independent quadrature and the cells' own fixed-point solvers, known values,
//! typed errors, the inverse design, sampled weights, and simulation of the returned networks.

use mfrnn::Error;
use mfrnn::activation::Builtin;
use mfrnn::cells::minimal::Minimal;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{Cell, CellKind, WeightLaw};
use mfrnn::init::{self, Given, Target, design, npy, weights};
use mfrnn::sim::SimConfig;
use mfrnn::sim::jacobian::{self, Accumulation, JacobianSample};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};

fn vanilla_cell(c: &init::CriticalInit, b: Builtin) -> Vanilla {
    Vanilla::with_builtin(b, c.params)
}

fn minimal_cell(c: &init::CriticalInit) -> Minimal {
    Minimal::new(c.params).unwrap()
}

/// Sampled Jacobians (N = 400, one sequence per network, direct accumulation) of the network
/// of a critical initialization.
fn sample_jacobians(
    c: &init::CriticalInit,
    cfg: mfrnn::sim::SimConfigBuilder,
    steps: usize,
    burn_in: usize,
) -> JacobianSample {
    let cfg = cfg.width(400).batch(1).build().unwrap();
    jacobian::sample(
        &c.cell,
        &c.params,
        &cfg,
        steps,
        burn_in,
        Accumulation::Direct,
    )
    .unwrap()
}

/// (I.1)–(I.2): `χ₁ = 1` to 1e-12 by an independent (adaptive) quadrature, `q*` is the
/// fixed point of the variance map, stable and reached from `h⁰ = 0`; both ways of splitting
/// the remaining variance give the same `σ_v² R + σ_b²`.
#[test]
fn vanilla_is_critical_at_the_target() {
    for b in [Builtin::Tanh, Builtin::Erf] {
        for (q, mu_b) in [(0.05, 0.0), (0.5, 0.0), (2.0, 0.3)] {
            let c = init::critical(&Cell::vanilla(b), &Target::q_star(q).mu_b(mu_b)).unwrap();
            assert!(
                (c.chi_1 - 1.0).abs() < 1e-12,
                "{b:?} q={q}: χ₁ = {}",
                c.chi_1
            );
            let fp = c.fixed_point.as_ref().unwrap();
            assert!(fp.relative_error < 1e-10, "{b:?} q={q}: {fp:?}");
            assert!(fp.stable && fp.reached_from_zero, "{b:?} q={q}: {fp:?}");
            // The cell's own summary agrees.
            let s = vanilla_cell(&c, b).summary(1.0).unwrap();
            assert!((s.q_star - q).abs() < 1e-10 * q && (s.chi_1 - 1.0).abs() < 1e-10);
            let rest =
                c.params.sigma_v() * c.params.sigma_v() + c.params.sigma_b() * c.params.sigma_b();
            let c2 = init::critical(
                &Cell::vanilla(b),
                &Target::q_star(q)
                    .mu_b(mu_b)
                    .given(Given::SigmaV(0.5 * c.params.sigma_v())),
            )
            .unwrap();
            assert!((c2.params.sigma_w() - c.params.sigma_w()).abs() < 1e-15);
            let rest2 = c2.params.sigma_v() * c2.params.sigma_v()
                + c2.params.sigma_b() * c2.params.sigma_b();
            assert!((rest - rest2).abs() < 1e-13 * rest.max(1e-300));
            assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        }
    }
}

/// Reference values from the research notes (a third party's "from the paper's experiments"
/// vanilla setting σ_v = 0.025): on the χ₁ = 1 line with σ_b = 0 this is q* = 0.0897,
/// σ_w = 1.077 at R = 1, and q* = 0.0671, σ_w = 1.060 at R = 0.46 (three digits quoted).
#[test]
fn vanilla_reference_values() {
    for (q, r, sw) in [(0.0897, 1.0, 1.077), (0.0671, 0.46, 1.060)] {
        let c = init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(q).r(r)).unwrap();
        assert!(
            (c.params.sigma_w() - sw).abs() < 6e-4,
            "σ_w {}",
            c.params.sigma_w()
        );
        assert!(
            (c.params.sigma_v() - 0.025).abs() < 6e-4,
            "σ_v {}",
            c.params.sigma_v()
        );
    }
}

/// ReLU is critical at σ_w² = 2 for every q*, with nothing left for input or bias, and its
/// variance map is the identity: no isolated fixed point, said in a warning.
#[test]
fn relu_is_marginal() {
    let c = init::critical(&Cell::vanilla(Builtin::Relu), &Target::q_star(0.7)).unwrap();
    assert!((c.params.sigma_w() * c.params.sigma_w() - 2.0).abs() < 1e-13);
    assert!(c.params.sigma_v() < 1e-6);
    assert!(c.fixed_point.is_none() && !c.warnings.is_empty());
    // Per-step spread: d = 2·Bernoulli(½)... μ₂/μ₁² − 1 = 1 for orthogonal W.
    assert!((c.normalized_variance_per_step.orthogonal - 1.0).abs() < 1e-12);
}

/// (I.3): the per-step growth of the normalised variance and the upper edge at a horizon
/// agree with `ProductSpectrum` built independently from the activation law.
#[test]
fn vanilla_spectral_width_matches_free_probability() {
    let c = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(0.3).given(Given::SigmaB(0.1)),
    )
    .unwrap();
    let w = c.spectral_width(50).unwrap();
    let law = DiagonalLaw::of_activation(&Builtin::Tanh, 0.0, 0.3).unwrap();
    for (wl, nv, edge) in [
        (
            WeightLaw::Orthogonal,
            w.normalized_variance.orthogonal,
            w.lambda_max.unwrap().orthogonal,
        ),
        (
            WeightLaw::Gaussian,
            w.normalized_variance.gaussian,
            w.lambda_max.unwrap().gaussian,
        ),
    ] {
        let sp = ProductSpectrum::new(law.clone(), c.params.sigma_w() * c.params.sigma_w(), 50, wl)
            .unwrap();
        let m = sp.moments();
        // The law is a discretisation (trapezoid nodes) and μ_k come from the engine.
        assert!((m.m1 - 1.0).abs() < 1e-9, "{wl:?}: m1 {}", m.m1);
        assert!((m.normalized_variance - nv).abs() < 1e-9 * nv, "{wl:?}");
        assert!((sp.edges()[1] - edge).abs() < 1e-12 * edge);
    }
    assert!(w.rms_ratio.orthogonal < w.rms_ratio.gaussian);
}

/// (I.4)–(I.5): the minimalRNN closed form. The research notes' "paper default"
/// σ_w = 6.88, σ_v = 1.39 (R = 0.46, q* = 16, μ_b = 0) is reproduced; `χ₁ = 1` by independent
/// quadrature; `Q*` is the state map's fixed point and the gate variance is `q*`.
#[test]
fn minimal_is_critical_at_the_target() {
    let c = init::critical(&Cell::Minimal, &Target::q_star(16.0).r(0.46)).unwrap();
    assert!(
        (c.params.sigma_w() - 6.88).abs() < 0.015,
        "σ_w {}",
        c.params.sigma_w()
    );
    assert!(
        (c.params.sigma_v() - 1.39).abs() < 0.005,
        "σ_v {}",
        c.params.sigma_v()
    );
    for (q, mu_b, sb) in [
        (16.0, 0.0, 0.0),
        (16.0, 4.0, 0.5),
        (30.0, -2.0, 1.0),
        (10.0, 2.0, 0.0),
    ] {
        let c = init::critical(
            &Cell::Minimal,
            &Target::q_star(q)
                .mu_b(mu_b)
                .r(0.46)
                .given(Given::SigmaB(sb)),
        )
        .unwrap();
        assert_eq!(c.cell.kind(), CellKind::Minimal);
        assert!(
            (c.chi_1 - 1.0).abs() < 1e-12,
            "q={q} μ_b={mu_b}: χ₁ {}",
            c.chi_1
        );
        let m = minimal_cell(&c);
        let (q_gate, q_next) = m.state_map(c.big_q_star).unwrap();
        assert!((q_gate - q).abs() < 1e-12 * q, "gate variance {q_gate}");
        assert!((q_next - c.big_q_star).abs() < 1e-12, "Q-map residual");
        let fp = c.fixed_point.as_ref().unwrap();
        assert!(fp.relative_error < 1e-8 && fp.stable && fp.reached_from_zero);
        assert!(c.warnings.is_empty());
    }
}

/// The notes' cautionary case: q* = 4, μ_b = 8 asks for the middle, unstable root
/// Q* = 0.0119; the dynamics from h⁰ = 0 settle at Q ≈ 0.0077. The result says so.
#[test]
fn minimal_unstable_target_is_flagged() {
    let c = init::critical(&Cell::Minimal, &Target::q_star(4.0).mu_b(8.0).r(0.46)).unwrap();
    assert!((c.big_q_star - 0.0119).abs() < 5e-5, "{}", c.big_q_star);
    let fp = c.fixed_point.as_ref().unwrap();
    assert!(!fp.stable && !fp.reached_from_zero);
    let reached = fp.reached.unwrap();
    assert!((reached - 0.0077).abs() < 5e-5, "{reached}");
    assert_eq!(fp.all.len(), 3);
    assert!(c.warnings.iter().any(|w| w.contains("unstable")));
    assert!(c.warnings.iter().any(|w| w.contains("settle at")));
}

/// Infeasible targets and bad input are typed errors naming the parameter, with the
/// feasible range.
#[test]
fn errors_are_typed() {
    match init::critical(&Cell::Minimal, &Target::q_star(4.0).mu_b(1.0).r(0.46)) {
        Err(Error::Infeasible {
            parameter,
            feasible,
            ..
        }) => {
            assert_eq!(parameter, "q-star");
            // The feasible range starts near q* = 8.98 at μ_b = 1.
            assert!(feasible.contains("8.98"), "{feasible}");
            let lo: f64 = feasible
                .split('[')
                .nth(2)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let at = init::critical(
                &Cell::Minimal,
                &Target::q_star(lo * 1.001).mu_b(1.0).r(0.46),
            );
            assert!(at.is_ok(), "just inside the stated range: {at:?}");
        }
        other => panic!("expected Infeasible, got {other:?}"),
    }
    assert!(matches!(
        init::critical(
            &Cell::vanilla(Builtin::Tanh),
            &Target::q_star(0.05).given(Given::SigmaB(1.0))
        ),
        Err(Error::Infeasible { .. })
    ));
    let inv = |r: Result<init::CriticalInit, Error>, name: &str| match r {
        Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected InvalidParameter({name}), got {other:?}"),
    };
    inv(
        init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(0.0)),
        "q-star",
    );
    inv(
        init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(f64::NAN)),
        "q-star",
    );
    inv(
        init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(0.1).r(-1.0)),
        "r",
    );
    inv(
        init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(0.1).r(0.0)),
        "r",
    );
    inv(
        init::critical(
            &Cell::vanilla(Builtin::Tanh),
            &Target::q_star(0.1).given(Given::SigmaB(-1.0)),
        ),
        "sigma-b",
    );
    inv(
        init::critical(
            &Cell::vanilla(Builtin::Tanh),
            &Target::q_star(0.1).given(Given::SigmaV(f64::INFINITY)),
        ),
        "sigma-v",
    );
    inv(
        init::critical(&Cell::Minimal, &Target::q_star(16.0).r(0.0)),
        "r",
    );
    inv(
        init::critical(&Cell::Minimal, &Target::q_star(16.0).mu_b(f64::NAN).r(0.46)),
        "mu-b",
    );
    // With R = 0 the whole remaining variance goes to the bias.
    let c = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(0.1).r(0.0).given(Given::SigmaV(0.0)),
    )
    .unwrap();
    assert!(c.params.sigma_b() > 0.0 && c.params.sigma_v() == 0.0);
}

/// Simulation of the returned networks (N = 400, 8 networks, orthogonal and Gaussian W, tied
/// and untied): the one-step Jacobian's mean squared singular value — the empirical χ₁ — is 1
/// within 4 standard errors after 100 burn-in steps.
///
/// One exception, measured and left out: a *tied Gaussian* vanilla network near the linear
/// regime (tanh, q* = 0.05) has χ₁ = 0.913 ± 0.012, 0.946 ± 0.009, 0.968 ± 0.005 at N = 200,
/// 400, 800 (orthogonal: 0.999 ± 0.001 at every N): a finite-width bias that decays roughly
/// like N^{-0.7}, from the state aligning with the outlying eigenvectors of a non-normal W
/// whose spectral radius is σ_w ≈ 1.05 (`theory/06-critical-initialization.md`). The tied
/// Gaussian case is therefore checked at q* = 0.5 only (`examples/init_measurements.rs` prints
/// and checks the width dependence).
#[test]
fn simulated_chi_1_is_one() {
    let check = |c: &init::CriticalInit, label: &str, tied_gaussian: bool| {
        for (w, tied) in [
            (WeightLaw::Orthogonal, true),
            (WeightLaw::Orthogonal, false),
            (WeightLaw::Gaussian, false),
            (WeightLaw::Gaussian, true),
        ] {
            // Untied runs redraw W every step (an orthogonal draw is a QR factorisation), so
            // they are checked once per cell, with Gaussian W.
            if (w == WeightLaw::Gaussian && tied && !tied_gaussian)
                || (w == WeightLaw::Orthogonal && !tied)
            {
                continue;
            }
            let cfg = SimConfig::builder().seeds(8).seed(11).weights(w).tied(tied);
            let m = sample_jacobians(c, cfg, 1, 100).moments;
            assert!(
                (m.m1 - 1.0).abs() < 4.0 * m.m1_se,
                "{label} {w:?} tied={tied}: χ₁ {} ± {}",
                m.m1,
                m.m1_se
            );
        }
    };
    for q in [0.05, 0.5] {
        let c = init::critical(
            &Cell::vanilla(Builtin::Tanh),
            &Target::q_star(q).given(Given::SigmaB(0.1 * q)),
        )
        .unwrap();
        check(&c, &format!("vanilla q*={q}"), q > 0.1);
    }
    for mu_b in [0.0, 4.0] {
        let c = init::critical(&Cell::Minimal, &Target::q_star(16.0).mu_b(mu_b).r(0.46)).unwrap();
        check(&c, &format!("minimal μ_b={mu_b}"), true);
    }
}

/// The predicted spectral spread over T = 10 steps (vanilla, exact at infinite width) against
/// sampled Jacobians of the returned network: normalised variance within 4 standard errors
/// plus a finite-width allowance of 10% (the sampled normalised variance at N = 400, T = 10 is
/// biased by O(T/N); measured deviations 1–6%), and orthogonal narrower than Gaussian.
#[test]
fn simulated_width_matches_prediction() {
    let c = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(0.5).given(Given::SigmaB(0.1)),
    )
    .unwrap();
    let pred = c.spectral_width(10).unwrap().normalized_variance;
    let mut got = Vec::new();
    for (w, p) in [
        (WeightLaw::Orthogonal, pred.orthogonal),
        (WeightLaw::Gaussian, pred.gaussian),
    ] {
        let cfg = SimConfig::builder().seeds(8).seed(5).weights(w);
        let m = sample_jacobians(&c, cfg, 10, 100).moments;
        eprintln!(
            "{w:?}: predicted {p}, sampled {} ± {}",
            m.normalized_variance, m.normalized_variance_se
        );
        assert!(
            (m.normalized_variance - p).abs() < 4.0 * m.normalized_variance_se + 0.1 * p,
            "{w:?}: predicted {p}, sampled {} ± {}",
            m.normalized_variance,
            m.normalized_variance_se
        );
        got.push(m.normalized_variance);
    }
    assert!(got[0] < got[1]);
}

/// (I.7): the design meets its bound and sits on the boundary (a slightly larger q* breaks
/// it), orthogonal weights allow a larger q* than Gaussian, and an unattainable bound is a
/// typed error.
#[test]
fn inverse_design() {
    let mk = |t, r, w| design::WidthBound::new(t, r, w).unwrap();
    let b = mk(1000, 1.5, WeightLaw::Orthogonal);
    let d = design::design(
        &Cell::vanilla(Builtin::Tanh),
        1.0,
        Given::SigmaB(0.0),
        &[0.0],
        b,
        design::Objective::LargestQStar,
    )
    .unwrap();
    assert!(d.rms_ratio <= 1.5 + 1e-9, "{}", d.rms_ratio);
    assert!(d.rms_ratio > 1.49, "not on the boundary: {}", d.rms_ratio);
    let above = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(d.init.q_star * 1.01),
    )
    .unwrap();
    let w = above.spectral_width(1000).unwrap();
    assert!(w.rms_ratio.orthogonal > 1.5);
    let g = design::design(
        &Cell::vanilla(Builtin::Tanh),
        1.0,
        Given::SigmaB(0.0),
        &[0.0],
        mk(2, 2.0, WeightLaw::Gaussian),
        design::Objective::LargestQStar,
    )
    .unwrap();
    let o = design::design(
        &Cell::vanilla(Builtin::Tanh),
        1.0,
        Given::SigmaB(0.0),
        &[0.0],
        mk(2, 2.0, WeightLaw::Orthogonal),
        design::Objective::LargestQStar,
    )
    .unwrap();
    assert!(o.init.q_star > g.init.q_star);
    // Gaussian W adds 1 per step to the normalised variance: √(1 + 1000) > 1.5 always.
    assert!(matches!(
        design::design(
            &Cell::vanilla(Builtin::Tanh),
            1.0,
            Given::SigmaB(0.0),
            &[0.0],
            mk(1000, 1.5, WeightLaw::Gaussian),
            design::Objective::LargestQStar
        ),
        Err(Error::Infeasible { .. })
    ));
    assert!(design::WidthBound::new(10, 1.0, WeightLaw::Orthogonal).is_err());
    // The minimalRNN: every frontier point meets the bound and is reached from zero.
    let b = mk(100, 2.0, WeightLaw::Orthogonal);
    let d = design::design(
        &Cell::Minimal,
        0.46,
        Given::SigmaB(0.0),
        &[0.0, 2.0, 4.0, 6.0, 8.0],
        b,
        design::Objective::LargestQStar,
    )
    .unwrap();
    assert!(d.rms_ratio <= 2.0 + 1e-9);
    for f in &d.frontier {
        if let Some(q) = f.q_star {
            let c =
                init::critical(&Cell::Minimal, &Target::q_star(q).mu_b(f.mu_b).r(0.46)).unwrap();
            assert!(c.warnings.is_empty());
            assert!(f.rms_ratio.unwrap() <= 2.0 + 1e-9);
        }
    }
    assert!(!d.init.spectrum_exact);
    // (I.8): the longest-memory objective picks the frontier point with the largest ξ_c, and
    // ξ_c is the cell's own timescale at ρ = 0.
    let b4 = mk(100, 4.0, WeightLaw::Orthogonal);
    let grid = [0.0, 2.0, 4.0, 6.0, 7.0, 8.0];
    let long = design::design(
        &Cell::Minimal,
        0.46,
        Given::SigmaB(0.0),
        &grid,
        b4,
        design::Objective::LongestMemory,
    )
    .unwrap();
    let best = long
        .frontier
        .iter()
        .filter_map(|f| f.xi_c)
        .fold(0.0, f64::max);
    assert_eq!(long.xi_c, best);
    let s = minimal_cell(&long.init).summary(0.0).unwrap();
    assert_eq!(s.xi_c.unwrap(), long.xi_c);
    let wide = design::design(
        &Cell::Minimal,
        0.46,
        Given::SigmaB(0.0),
        &grid,
        b4,
        design::Objective::LargestQStar,
    )
    .unwrap();
    assert!(wide.init.q_star >= long.init.q_star && long.xi_c >= wide.xi_c);
    // Only a large gate bias keeps 100 steps this narrow (measured: μ_b = 8, q* ≈ 5.3).
    assert_eq!(d.init.params.mu_b(), 8.0);
    assert!(d.frontier[..4].iter().all(|f| f.q_star.is_none()));
}

/// Sampled weights: the `.npy` files parse back to the simulator's draw for the same seed
/// (network 0), with the predicted scales: `W Wᵀ = σ_w² I` for orthogonal weights and the
/// entry variances of V and b within sampling error.
#[test]
fn sampled_weights_round_trip() {
    let c = init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &Target::q_star(0.3).given(Given::SigmaB(0.1)),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("mfrnn-init-test-{}", std::process::id()));
    let n = 64;
    let man = weights::write(&c, n, 32, WeightLaw::Orthogonal, 7, &dir).unwrap();
    assert_eq!(man.files.len(), 3);
    let net = weights::sample(&c, n, 32, WeightLaw::Orthogonal, 7).unwrap();
    let (wdata, wshape) = npy::from_bytes(&std::fs::read(dir.join("W.npy")).unwrap()).unwrap();
    assert_eq!(wshape, vec![n, n]);
    // Row-major: element (i, j) at i·n + j.
    assert_eq!(wdata[n + 2], net.w[(1, 2)]);
    let wwt = &net.w * net.w.transpose();
    let eye_err = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| {
            let target = if i == j {
                c.params.sigma_w() * c.params.sigma_w()
            } else {
                0.0
            };
            (wwt[(i, j)] - target).abs()
        })
        .fold(0.0, f64::max);
    assert!(eye_err < 1e-12, "W Wᵀ − σ_w² I: {eye_err}");
    let (vdata, vshape) = npy::from_bytes(&std::fs::read(dir.join("V.npy")).unwrap()).unwrap();
    assert_eq!(vshape, vec![n, 32]);
    // Entry variance σ_v²/N_in: 2048 entries, relative standard error √(2/2048) ≈ 3%.
    let var_v = vdata.iter().map(|x| x * x).sum::<f64>() / vdata.len() as f64;
    let target = c.params.sigma_v() * c.params.sigma_v() / 32.0;
    assert!((var_v / target - 1.0).abs() < 0.15, "{var_v} vs {target}");
    let (bdata, bshape) = npy::from_bytes(&std::fs::read(dir.join("b.npy")).unwrap()).unwrap();
    assert_eq!(bshape, vec![n]);
    assert_eq!(bdata, net.b);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 7);
    assert_eq!(
        manifest["init"]["sigma_w"].as_f64().unwrap(),
        c.params.sigma_w()
    );
    // Different seeds give different weights; the minimalRNN needs N_in = N.
    assert_ne!(
        weights::sample(&c, n, 32, WeightLaw::Orthogonal, 8)
            .unwrap()
            .w,
        net.w
    );
    let m = init::critical(&Cell::Minimal, &Target::q_star(16.0).r(0.46)).unwrap();
    assert!(weights::sample(&m, n, 32, WeightLaw::Gaussian, 1).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The minimalRNN's per-step spectral growth from the exact unit process of the tied network
/// against sampled tied networks (N = 400, 8 networks, one step after 100 burn-in steps,
/// orthogonal W), and the factorised (I.6) value.
///
/// Measured: μ_b = 0: factorised 3.037, unit process 2.998, sampled 3.02 ± 0.27; μ_b = 4:
/// 0.974, 1.020, 0.93 ± 0.10. Both predictions are within 4 standard errors of the sample
/// (the network-to-network spread of the normalised variance limits this check). The unit
/// process's own estimate (32 000 paths) scatters by about 3% from seed to seed (μ_b = 4,
/// seeds 1–6: 0.928–1.020, mean 0.972), and the factorised value lies within 4 of its standard
/// errors: the Gaussian approximation of `h − z` in (I.6) is not resolved at this precision.
#[test]
fn minimal_width_from_unit_process() {
    for mu_b in [0.0, 4.0] {
        let c = init::critical(&Cell::Minimal, &Target::q_star(16.0).mu_b(mu_b).r(0.46)).unwrap();
        let unit = c.unit_process_step_variance(32_000, 100, 3).unwrap();
        let cfg = SimConfig::builder()
            .seeds(8)
            .seed(17)
            .weights(WeightLaw::Orthogonal);
        let s = sample_jacobians(&c, cfg, 1, 100).moments;
        let fact = c.normalized_variance_per_step.orthogonal;
        let (e, se) = (s.normalized_variance, s.normalized_variance_se);
        for (label, p) in [
            ("factorised", fact),
            ("unit process", unit.value.orthogonal),
        ] {
            assert!(
                (e - p).abs() < 4.0 * se,
                "μ_b={mu_b}: {label} {p} vs sampled {e} ± {se}"
            );
        }
        assert!(
            (unit.value.orthogonal - fact).abs() < 4.0 * unit.se.orthogonal,
            "{unit:?} vs {fact}"
        );
        assert!(unit.value.gaussian > unit.value.orthogonal);
    }
}

/// The closed form (I.4) is the factorised theory; the real network has tied weights and a
/// frozen bias, whose exact theory is the unit process (`exact`). With σ_b > 0 — where
/// the factorised *state* statistics miss tied networks by 15–70% (theory/03) — the exact
/// theory's χ₁ at the returned scales is still within 1.5% of 1. Measured (64 000 paths):
/// 1.0028 ± 0.0018, 1.0077 ± 0.0025, 0.9901 ± 0.0061 for (q*, μ_b, σ_b) = (16, 2, 1),
/// (16, 4, 1.5), (32, 0, 2); asserted as |χ₁ − 1| < 4 se + 0.015 with 32 000 paths.
#[test]
fn minimal_init_is_critical_in_the_exact_tied_theory() {
    use mfrnn::cells::Regime;
    use mfrnn::exact::{self, ExactConfig};
    for (q, mu_b, sb) in [(16.0, 2.0, 1.0), (16.0, 4.0, 1.5), (32.0, 0.0, 2.0)] {
        let c = init::critical(
            &Cell::Minimal,
            &Target::q_star(q)
                .mu_b(mu_b)
                .r(0.46)
                .given(Given::SigmaB(sb)),
        )
        .unwrap();
        assert_eq!((c.params.mu_b(), c.params.r()), (mu_b, 0.46));
        let cfg = ExactConfig::builder()
            .units(32_000)
            .replicas(8)
            .seed(3)
            .build()
            .unwrap();
        let paths =
            exact::jacobian_paths(&Cell::Minimal, &c.params, Regime::REAL, 200, 1, &cfg).unwrap();
        let exact::M1Recursion { m1, se } = exact::m1_by_unit_recursion(&paths, c.params.sigma_w());
        assert!(
            (m1[0] - 1.0).abs() < 4.0 * se[0] + 0.015,
            "(q*, μ_b, σ_b) = ({q}, {mu_b}, {sb}): exact χ₁ {} ± {}",
            m1[0],
            se[0]
        );
    }
}
