//! Vanilla RNN mean-field theory: fixed points, slopes, timescales and trajectories against
//! closed forms, independent reference values and their own defining identities.

mod common;

use mfrnn::activation::Builtin;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{FixedPoints, Phase, RhoSchedule};
use mfrnn::expect::{Integrator, Strategy};
use proptest::prelude::*;

use common::params;

fn net(b: Builtin, sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> Vanilla {
    Vanilla::with_builtin(b, params(sw, sv, sb, mu, r).unwrap())
}

/// tanh, no inputs: the feed-forward depth-scale table of the project's research notes
/// (Schoenholz et al. 2017 setting; 300-node Gauss–Hermite there). The σ_w = 4 row of that
/// table is off by 6e-5 in q* (its quadrature degrades at q ≈ 12); the value here was checked
/// with mpmath: V(12.6041495) − 12.6041495 = −1.9e-9 (rounding of the printed digits).
#[test]
fn tanh_depth_scale_table() {
    let rows = [
        (0.9, 0.3, 0.21652463, 0.600371, 1.0, 1.9600, 1.1986),
        (1.2, 0.1, 0.28241422, 1.002897, 0.953023, 352.99, 2.5301),
        (1.5, 0.1, 0.81332233, 1.129053, 0.180084, 14.845, 1.4172),
        (2.5, 0.3, 4.07912388, 1.585225, 0.122104, 5.1089, 0.6883),
        (4.0, 0.3, 12.6041495, 2.367261, 0.029696, 3.6394, 0.4903),
    ];
    for (sw, sb, q, chi1, c, xi_c, xi_q) in rows {
        let a = net(Builtin::Tanh, sw, 0.0, sb, 0.0, 1.0)
            .analyze(1.0)
            .unwrap();
        assert!(
            (a.summary.q_star - q).abs() < 6e-9 * q.max(1.0),
            "{sw}: q* {}",
            a.summary.q_star
        );
        assert!(
            (a.summary.chi_1 - chi1).abs() < 1e-6,
            "{sw}: chi1 {}",
            a.summary.chi_1
        );
        assert!(
            (a.summary.c_star.unwrap() - c).abs() < 1e-6,
            "{sw}: c* {:?}",
            a.summary.c_star
        );
        assert!(
            (a.summary.xi_c.unwrap() - xi_c).abs() < 1e-4 * xi_c,
            "{sw}: xi_c {:?}",
            a.summary.xi_c
        );
        assert!(
            (a.summary.xi_q.unwrap() - xi_q).abs() < 1e-4 * xi_q,
            "{sw}: xi_q {:?}",
            a.summary.xi_q
        );
        assert!(a.residual < 1e-12 * a.summary.q_star.max(1.0));
        let expected = if chi1 < 1.0 {
            Phase::Ordered
        } else {
            Phase::Chaotic
        };
        assert_eq!(a.summary.phase, expected);
    }
}

/// ReLU: V(q) = σ_w² q/2 + drive, so q* = drive/(1 − σ_w²/2) and χ_q = χ₁ = σ_w²/2.
#[test]
fn relu_closed_form_fixed_point_and_divergence() {
    let v = net(Builtin::Relu, 1.2, 0.5, 0.1, 0.0, 0.8);
    let a = v.analyze(1.0).unwrap();
    let drive = 0.25 * 0.8 + 0.01;
    let q = drive / (1.0 - 0.72);
    assert!(
        (a.summary.q_star - q).abs() < 1e-13 * q,
        "{} vs {q}",
        a.summary.q_star
    );
    assert!((a.summary.chi_q - 0.72).abs() < 1e-13);
    assert!((a.summary.chi_1 - 0.72).abs() < 1e-13);
    let FixedPoints::Vanilla {
        variance_fixed_points,
        ..
    } = &a.fixed_points
    else {
        panic!("vanilla fixed points expected: {:?}", a.fixed_points)
    };
    assert_eq!(variance_fixed_points.len(), 1);
    // σ_w² >= 2: no finite fixed point, a typed error that says so.
    let e = net(Builtin::Relu, 1.5, 0.5, 0.1, 0.0, 1.0)
        .analyze(1.0)
        .unwrap_err();
    assert!(matches!(e, mfrnn::Error::NoFixedPoint { .. }), "{e}");
    assert!(e.to_string().contains("without bound"), "{e}");
    // Linear: q* = (σ_w² μ_b² + drive)/(1 − σ_w²) for σ_w < 1.
    let a = net(Builtin::Linear, 0.8, 1.0, 0.5, 0.3, 0.5)
        .analyze(0.2)
        .unwrap();
    let q = (0.64 * 0.09 + 0.5 + 0.25) / (1.0 - 0.64);
    assert!(
        (a.summary.q_star - q).abs() < 1e-12 * q,
        "{} vs {q}",
        a.summary.q_star
    );
}

/// erf: V(q) = σ_w² (2/π) asin(2q/(1+2q)) + drive, χ₁ = σ_w² (4/π)/√(1+4q).
#[test]
fn erf_closed_forms() {
    let (sw, sv, sb, r) = (1.3, 0.7, 0.2, 1.1);
    let a = net(Builtin::Erf, sw, sv, sb, 0.0, r).analyze(0.4).unwrap();
    let q = a.summary.q_star;
    let pi = std::f64::consts::PI;
    let v = sw * sw * 2.0 / pi * (2.0 * q / (1.0 + 2.0 * q)).asin() + sv * sv * r + sb * sb;
    assert!((v - q).abs() < 1e-13 * q);
    let chi1 = sw * sw * 4.0 / pi / (1.0 + 4.0 * q).sqrt();
    assert!((a.summary.chi_1 - chi1).abs() < 1e-13);
    // c*: (σ_w² (2/π) asin(2 q c/(1 + 2q)) + σ_v² ρ R + σ_b²)/q = c.
    let c = a.summary.c_star.unwrap();
    let m =
        (sw * sw * 2.0 / pi * (2.0 * q * c / (1.0 + 2.0 * q)).asin() + sv * sv * 0.4 * r + sb * sb)
            / q;
    assert!((m - c).abs() < 1e-12, "{m} vs {c}");
}

/// Independent paths agree: closed-form (erf) and exact piecewise (ReLU) trajectories against
/// pure quadrature.
#[test]
fn trajectories_closed_form_vs_quadrature() {
    let sched = RhoSchedule::parse("0.3x3,1x12,0x5").unwrap();
    for (b, sw) in [(Builtin::Erf, 1.4), (Builtin::Relu, 1.1)] {
        let p = params(sw, 0.6, 0.2, 0.1, 1.0).unwrap();
        let fast = Vanilla::with_builtin(b, p).trajectory(&sched).unwrap();
        let quad = Vanilla::with_builtin(b, p)
            .with_integrator(Integrator::with_strategy(Strategy::Adaptive))
            .trajectory(&sched)
            .unwrap();
        for t in 0..sched.len() {
            for (x, y) in [
                (fast.q[t], quad.q[t]),
                (fast.big_q[t], quad.big_q[t]),
                (fast.q_ab[t], quad.q_ab[t]),
                (fast.big_c[t], quad.big_c[t]),
                (fast.c[t], quad.c[t]),
            ] {
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                    "{b} t={t}: {x} vs {y}"
                );
            }
        }
    }
}

/// The trajectory converges to the fixed point, and with identical inputs in the ordered
/// phase the correlation goes to 1.
#[test]
fn trajectory_reaches_the_fixed_point() {
    let v = net(Builtin::Tanh, 0.9, 0.5, 0.1, 0.0, 1.0);
    let tr = v
        .trajectory(&RhoSchedule::constant(1.0, 200).unwrap())
        .unwrap();
    let a = v.analyze(1.0).unwrap();
    assert!((tr.q[199] - a.summary.q_star).abs() < 1e-12);
    assert_eq!(a.summary.c_star, Some(1.0));
    assert!((tr.c[199] - 1.0).abs() < 1e-12);
    // Independent inputs: c^t → c* < 1.
    let tr = v
        .trajectory(&RhoSchedule::constant(0.0, 200).unwrap())
        .unwrap();
    let a = v.analyze(0.0).unwrap();
    assert!((tr.c[199] - a.summary.c_star.unwrap()).abs() < 1e-10);
    assert!(a.summary.c_star.unwrap() < 1.0);
}

/// Bad parameters are typed errors naming the parameter.
#[test]
fn bad_parameters() {
    for (args, name) in [
        ((-1.0, 0.0, 0.0, 0.0, 1.0), "sigma-w"),
        ((1.0, f64::NAN, 0.0, 0.0, 1.0), "sigma-v"),
        ((1.0, 0.0, -0.1, 0.0, 1.0), "sigma-b"),
        ((1.0, 0.0, 0.0, f64::INFINITY, 1.0), "mu-b"),
        ((1.0, 0.0, 0.0, 0.0, -2.0), "r"),
    ] {
        let e = params(args.0, args.1, args.2, args.3, args.4).unwrap_err();
        assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
    }
    let v = net(Builtin::Tanh, 1.0, 0.5, 0.1, 0.0, 1.0);
    assert!(v.correlation_fixed_points(0.5, 1.5).is_err());
    assert!(v.correlation_fixed_points(-0.5, 0.5).is_err());
}

proptest! {
    #![proptest_config(common::fixed_seed(24))]

    /// χ_q, χ_c and χ₁ equal finite-difference slopes of their maps; fixed points satisfy
    /// their maps to 1e-12; the c-map fixes c = 1 when the inputs agree.
    #[test]
    fn slopes_and_fixed_points(i in 0usize..4, sw in 0.3f64..3.0, sv in 0.0f64..1.5,
                               sb in 0.0f64..1.0, mu in -0.5f64..0.5, rho in -1.0f64..1.0) {
        let b = [Builtin::Tanh, Builtin::Erf, Builtin::HardTanh, Builtin::Sigmoid][i];
        let v = net(b, sw, sv, sb, mu, 1.0);
        let a = v.analyze(rho).unwrap();
        let q = a.summary.q_star;
        prop_assume!(q > 1e-6);
        prop_assert!((v.variance_map(q).unwrap() - q).abs() <= 1e-12 * q.max(1.0));
        let h = 1e-5 * q;
        let fd = (v.variance_map(q + h).unwrap() - v.variance_map(q - h).unwrap()) / (2.0 * h);
        prop_assert!((fd - a.summary.chi_q).abs() < 1e-6 * (1.0 + a.summary.chi_q.abs()), "chi_q {fd} vs {}", a.summary.chi_q);
        // The correlation map M(c) = q_ab'(c)/q*.
        let m = |c: f64| v.covariance_map(q, c, rho).unwrap() / q;
        let c = a.summary.c_star.unwrap();
        prop_assert!((m(c) - c).abs() <= 1e-12, "M(c*) − c* = {}", m(c) - c);
        if c < 1.0 - 1e-3 && c > -1.0 + 1e-3 {
            let hc = 1e-5;
            let fdc = (m(c + hc) - m(c - hc)) / (2.0 * hc);
            prop_assert!((fdc - a.summary.chi_c.unwrap()).abs() < 1e-6 * (1.0 + fdc.abs()), "chi_c {fdc} vs {:?}", a.summary.chi_c);
        }
        // c = 1 is a fixed point exactly when ρ = 1, and its slope there is χ₁.
        prop_assert!((v.covariance_map(q, 1.0, 1.0).unwrap() / q - 1.0).abs() < 1e-13);
        // Kinked φ (hard-tanh) adds an O((1 − c)^{3/2}) term to the map near c = 1, so the
        // one-sided difference needs a much smaller step there.
        let hc = if b == Builtin::HardTanh { 1e-10 } else { 1e-6 };
        let fd1 = (1.0 - v.covariance_map(q, 1.0 - hc, 1.0).unwrap() / q) / hc;
        prop_assert!((fd1 - a.summary.chi_1).abs() < 1e-4 * (1.0 + a.summary.chi_1), "chi_1 {fd1} vs {}", a.summary.chi_1);
    }
}

proptest! {
    #![proptest_config(common::fixed_seed(40))]

    /// The fast summary used by phase diagrams agrees with the full analysis.
    #[test]
    fn summary_agrees_with_analysis(i in 0usize..4, sw in 0.3f64..4.0, sv in 0.0f64..1.5,
                                    sb in 0.0f64..1.0, mu in -0.3f64..0.3, rho in prop::sample::select(vec![0.0, 0.5, 1.0, -0.3])) {
        let b = [Builtin::Tanh, Builtin::Erf, Builtin::Sigmoid, Builtin::Relu][i];
        let v = net(b, if b == Builtin::Relu { sw.min(1.35) } else { sw }, sv, sb, mu, 1.0);
        let a = v.analyze(rho).unwrap();
        let s = v.summary(rho).unwrap();
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-10 * x.abs().max(1.0);
        prop_assert!(close(a.summary.q_star, s.q_star), "q* {} vs {}", a.summary.q_star, s.q_star);
        prop_assert!(close(a.summary.chi_1, s.chi_1));
        prop_assert!(close(a.summary.chi_q, s.chi_q));
        match (a.summary.c_star, s.c_star) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-9, "c* {x} vs {y}"),
            (x, y) => prop_assert_eq!(x, y),
        }
        match (a.summary.chi_c, s.chi_c) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-8 * (1.0 + x.abs()), "chi_c {x} vs {y}"),
            (x, y) => prop_assert_eq!(x, y),
        }
        prop_assert_eq!(a.summary.phase, s.phase);
    }
}
