//! Invariants of Gaussian expectations, as property tests, plus known closed-form values.
//!
//! Each property is a theorem about the exact expectation, so a failure is a bug in the
//! engine (the tolerances are the engine's accuracy, 1e-12 relative unless stated).

mod common;

use std::sync::Arc;

use mfrnn::activation::{Activation, Builtin, Deriv};
use mfrnn::expect::{BivariateNormal, Fun, Integrator, Method, Normal, Strategy, expect, expect2};
use proptest::prelude::*;

fn act(i: usize) -> Arc<dyn Activation> {
    Builtin::ALL[i % 7].arc()
}

/// Smooth built-ins (tanh, erf, sigmoid, softplus): φ' and φ'' are genuine derivatives.
fn smooth(i: usize) -> Arc<dyn Activation> {
    [
        Builtin::Tanh,
        Builtin::Erf,
        Builtin::Sigmoid,
        Builtin::Softplus,
    ][i % 4]
        .arc()
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

fn raw_moment(k: u32, m: f64, v: f64) -> f64 {
    // E[x^k], x ~ N(m, v): M_k = m M_{k-1} + (k-1) v M_{k-2}.
    let (mut a, mut b) = (1.0, m);
    if k == 0 {
        return 1.0;
    }
    for j in 1..k {
        let c = m * b + f64::from(j) * v * a;
        a = b;
        b = c;
    }
    b
}

proptest! {
    #![proptest_config(common::fixed_seed(48))]

    /// Gaussian moments of polynomials are exact, by the exact path and by quadrature.
    #[test]
    fn polynomial_moments_exact(k in 0u32..9, m in -3.0f64..3.0, q in 1e-6f64..10.0) {
        let lin = Builtin::Linear.arc();
        let f = Fun::phi(&lin).powi(k);
        let n = Normal::new(m, q).unwrap();
        let exact = raw_moment(k, m, q);
        // Scale: the moment of |x|^k bounds the cancellation in the alternating sums.
        let scale = raw_moment(2 * k, m, q).sqrt();
        for s in [Strategy::Auto, Strategy::Quadrature, Strategy::Adaptive] {
            let e = Integrator::with_strategy(s).expect(&f, &n).unwrap();
            prop_assert!(close(e.value, exact, 1e-13, 1e-14 * scale), "{s:?}: {} vs {exact}", e.value);
        }
    }

    /// E[f(u) g(v)] is symmetric under swapping (f, u) with (g, v).
    #[test]
    fn swap_symmetry(i in 0usize..7, mu in -2.0f64..2.0, mv in -2.0f64..2.0,
                     qu in 0.01f64..20.0, qv in 0.01f64..20.0, c in -1.0f64..1.0) {
        let a = act(i);
        let f = Fun::phi(&a);
        let g = Fun::dphi(&a);
        let b1 = BivariateNormal::with_correlation(mu, mv, qu, qv, c).unwrap();
        let b2 = BivariateNormal::with_correlation(mv, mu, qv, qu, c).unwrap();
        let x = expect2(&f, &g, &b1).unwrap();
        let y = expect2(&g, &f, &b2).unwrap();
        prop_assert!(close(x.value, y.value, 1e-12, 1e-15), "{} vs {}", x.value, y.value);
    }

    /// Cauchy–Schwarz: |E[f(u) g(v)]| <= sqrt(E[f(u)²] E[g(v)²]).
    #[test]
    fn cauchy_schwarz(i in 0usize..7, m in -3.0f64..3.0, q in 0.01f64..50.0, c in -1.0f64..1.0) {
        let a = act(i);
        let (f, g) = (Fun::phi(&a), Fun::dphi(&a));
        let b = BivariateNormal::equal(m, q, c).unwrap();
        let n = Normal::new(m, q).unwrap();
        let fg = expect2(&f, &g, &b).unwrap().value;
        let ff = expect(&f.powi(2), &n).unwrap().value;
        let gg = expect(&g.powi(2), &n).unwrap().value;
        prop_assert!(fg.abs() <= (ff * gg).sqrt() * (1.0 + 1e-12) + 1e-15);
    }

    /// Near-zero correlation factorises: |E[fg] − E[f]E[g]| <= |c| ‖f‖‖g‖.
    #[test]
    fn small_correlation_factorises(i in 0usize..7, m in -2.0f64..2.0, q in 0.01f64..20.0,
                                    c in -1e-6f64..1e-6) {
        let a = act(i);
        let (f, g) = (Fun::phi(&a), Fun::phi(&a));
        let n = Normal::new(m, q).unwrap();
        let b = BivariateNormal::equal(m, q, c).unwrap();
        let fg = expect2(&f, &g, &b).unwrap().value;
        let ef = expect(&f, &n).unwrap().value;
        let f2 = expect(&f.powi(2), &n).unwrap().value;
        prop_assert!((fg - ef * ef).abs() <= c.abs() * f2 * (1.0 + 1e-9) + 1e-14, "{fg} {ef}");
    }

    /// Correlation → 1 reduces to the 1-D expectation E[f(u) g(u)] (smooth f, g: the
    /// difference is O(q(1 − c))).
    #[test]
    fn unit_correlation_is_one_dimensional(i in 0usize..4, m in -2.0f64..2.0, q in 0.01f64..20.0) {
        let a = smooth(i);
        let (f, g) = (Fun::phi(&a), Fun::dphi(&a));
        let c = 1.0 - 1e-13;
        let two = expect2(&f, &g, &BivariateNormal::equal(m, q, c).unwrap()).unwrap().value;
        let exact_one = expect2(&f, &g, &BivariateNormal::equal(m, q, 1.0).unwrap()).unwrap().value;
        let one = expect(&(&f * &g), &Normal::new(m, q).unwrap()).unwrap().value;
        prop_assert!(close(exact_one, one, 1e-12, 1e-15));
        prop_assert!(close(two, one, 1e-10, 1e-12 * (1.0 + q)), "{two} vs {one}");
    }

    /// Price's theorem: ∂E[f(u)g(v)]/∂q_uv = E[f'(u) g'(v)], by central differences.
    #[test]
    fn price_theorem(i in 0usize..4, mu in -1.5f64..1.5, mv in -1.5f64..1.5,
                     qu in 0.05f64..8.0, qv in 0.05f64..8.0, c in -0.95f64..0.95) {
        let a = smooth(i);
        let (f, g) = (Fun::phi(&a), Fun::phi(&a));
        let (df, dg) = (Fun::dphi(&a), Fun::dphi(&a));
        let s = (qu * qv).sqrt();
        let h = 1e-4;
        let at = |cc: f64| expect2(&f, &g, &BivariateNormal::with_correlation(mu, mv, qu, qv, cc).unwrap()).unwrap().value;
        let fd = (at(c + h) - at(c - h)) / (2.0 * h * s);
        let price = expect2(&df, &dg, &BivariateNormal::with_correlation(mu, mv, qu, qv, c).unwrap()).unwrap().value;
        // Central-difference truncation error: h² s² E[f'''g''']/6 <= 1e-8 s² · O(1).
        prop_assert!(close(fd, price, 1e-6, 1e-7 * (1.0 + s * s)), "fd {fd} vs {price}");
    }

    /// Price's theorem in 1-D: d/dq E[f(μ + √q z)] = ½ E[f''(μ + √q z)].
    #[test]
    fn heat_equation(i in 0usize..4, m in -2.0f64..2.0, q in 0.05f64..20.0) {
        let a = smooth(i);
        let h = 1e-4 * q;
        let at = |qq: f64| expect(&Fun::phi(&a), &Normal::new(m, qq).unwrap()).unwrap().value;
        let fd = (at(q + h) - at(q - h)) / (2.0 * h);
        let half = 0.5 * expect(&Fun::ddphi(&a), &Normal::new(m, q).unwrap()).unwrap().value;
        prop_assert!(close(fd, half, 1e-6, 1e-8), "{fd} vs {half}");
    }

    /// Closed forms and exact sums agree with pure quadrature.
    #[test]
    fn closed_form_equals_numerics(i in 0usize..3, k in 0usize..4, m in -3.0f64..3.0,
                                   q in 1e-3f64..50.0, c in -0.999f64..0.999) {
        let a = [Builtin::Erf, Builtin::Relu, Builtin::HardTanh][i].arc();
        let spec = ["phi", "dphi", "phi^2", "dphi^2"][k];
        let f = Fun::parse(spec, &a).unwrap();
        let n = Normal::new(m, q).unwrap();
        let auto = expect(&f, &n).unwrap();
        let quad = Integrator::with_strategy(Strategy::Adaptive).expect(&f, &n).unwrap();
        // erf φ² has a closed form only at zero mean; every other case here has one.
        if !(i == 0 && k == 2 && m != 0.0) {
            prop_assert!(matches!(auto.method, Method::ClosedForm | Method::PiecewiseExact), "{:?}", auto.method);
        }
        prop_assert!(close(auto.value, quad.value, 1e-12, 1e-15), "{spec}: {} vs {}", auto.value, quad.value);
        // Two dimensions, zero means (the arcsine and arc-cosine kernels).
        let g = Fun::parse(["phi", "dphi"][k % 2], &a).unwrap();
        let b = BivariateNormal::equal(0.0, q, c).unwrap();
        let auto2 = expect2(&g, &g, &b).unwrap();
        let quad2 = Integrator::with_strategy(Strategy::Adaptive).expect2(&g, &g, &b).unwrap();
        prop_assert!(close(auto2.value, quad2.value, 1e-12, 1e-15), "2-D: {} vs {}", auto2.value, quad2.value);
    }

    /// At equal means and variances, c ↦ E[f(u) f(v)] has non-negative Taylor coefficients
    /// (Mehler), so it is non-decreasing and convex on [0, 1].
    #[test]
    fn mehler_monotone_convex(i in 0usize..7, m in -2.0f64..2.0, q in 0.01f64..20.0, c in 0.05f64..0.9) {
        let a = act(i);
        let f = Fun::phi(&a);
        let at = |cc: f64| expect2(&f, &f, &BivariateNormal::equal(m, q, cc).unwrap()).unwrap().value;
        let (x0, x1, x2) = (at(c - 0.05), at(c), at(c + 0.05));
        let tol = 1e-12 * x1.abs() + 1e-15;
        prop_assert!(x1 >= x0 - tol && x2 >= x1 - tol, "not monotone {x0} {x1} {x2}");
        prop_assert!(x0 + x2 - 2.0 * x1 >= -4.0 * tol, "not convex");
    }
}

/// Reference values quoted in the project's research notes (mpmath / closed forms).
#[test]
fn known_values() {
    let erf = Builtin::Erf.arc();
    // E[erf(0.8u) erf(0.8v)], Σ = [[0.7, 0.35], [0.35, 1.3]]: scale the covariance by 0.64.
    let b =
        BivariateNormal::with_covariance(0.0, 0.0, 0.7 * 0.64, 1.3 * 0.64, 0.35 * 0.64).unwrap();
    let e = expect2(&Fun::phi(&erf), &Fun::phi(&erf), &b).unwrap();
    assert!((e.value - 0.12775881981616).abs() < 1e-13, "{}", e.value);
    let b = BivariateNormal::with_covariance(0.0, 0.0, 0.7, 1.3, 0.35).unwrap();
    let e = expect2(&Fun::dphi(&erf), &Fun::dphi(&erf), &b).unwrap();
    assert!((e.value - 0.44599636003321).abs() < 1e-13, "{}", e.value);
    // Hard-tanh E[ht²] and its closed form q erf(A) − sqrt(2q/π) e^{−1/(2q)} + erfc(A).
    let ht = Builtin::HardTanh.arc();
    for (q, v) in [
        (0.1, 0.09970878871170),
        (0.5, 0.37109585481485),
        (2.0, 0.64171729887760),
    ] {
        let e = expect(&Fun::phi(&ht).powi(2), &Normal::new(0.0, q).unwrap()).unwrap();
        let a = 1.0 / (2.0f64 * q).sqrt();
        let closed = q * libm::erf(a) - (2.0 * q / std::f64::consts::PI).sqrt() * (-0.5 / q).exp()
            + libm::erfc(a);
        assert!(
            (e.value - closed).abs() < 1e-15,
            "{q}: {} vs {closed}",
            e.value
        );
        assert!((e.value - v).abs() < 1e-13, "{q}: {} vs {v}", e.value);
    }
    // tanh: E[tanh²(10 z)] (mpmath).
    let tanh = Builtin::Tanh.arc();
    let e = expect(&Fun::phi(&tanh).powi(2), &Normal::new(0.0, 100.0).unwrap()).unwrap();
    assert!((e.value - 0.9205368634305167).abs() < 1e-14, "{}", e.value);
}

/// Degenerate laws are exact: q = 0 evaluates at the mean, including the kink conventions.
#[test]
fn degenerate_laws() {
    let relu = Builtin::Relu.arc();
    let e = expect(&Fun::dphi(&relu), &Normal::new(0.0, 0.0).unwrap()).unwrap();
    assert_eq!(e.value, 0.5);
    assert_eq!(e.method, Method::PointMass);
    let tanh = Builtin::Tanh.arc();
    let b = BivariateNormal::with_correlation(0.3, -0.2, 0.0, 2.0, 0.4).unwrap();
    let e = expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &b).unwrap();
    let one = expect(&Fun::phi(&tanh), &Normal::new(-0.2, 2.0).unwrap()).unwrap();
    assert!((e.value - 0.3f64.tanh() * one.value).abs() < 1e-16);
    // c = −1: v = −u for equal laws, so E[φ(u)φ(v)] = −E[φ(u)²] for odd φ.
    let b = BivariateNormal::equal(0.0, 3.0, -1.0).unwrap();
    let e = expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &b).unwrap();
    let sq = expect(&Fun::phi(&tanh).powi(2), &Normal::new(0.0, 3.0).unwrap()).unwrap();
    assert!((e.value + sq.value).abs() < 1e-15);
}

/// Bad input is a typed error naming the parameter, never a panic or NaN.
#[test]
fn bad_input_is_rejected() {
    let msg = |r: Result<_, mfrnn::Error>| r.map(|_: ()| ()).unwrap_err().to_string();
    assert!(msg(Normal::new(0.0, -1.0).map(|_| ())).contains("`q`"));
    assert!(msg(Normal::new(f64::NAN, 1.0).map(|_| ())).contains("`mean`"));
    assert!(msg(Normal::new(0.0, f64::INFINITY).map(|_| ())).contains("`q`"));
    assert!(msg(BivariateNormal::equal(0.0, 1.0, 1.5).map(|_| ())).contains("`c`"));
    assert!(
        msg(BivariateNormal::with_covariance(0.0, 0.0, 1.0, 1.0, 2.0).map(|_| ()))
            .contains("`q_uv`")
    );
    let tanh = Builtin::Tanh.arc();
    assert!(msg(Fun::parse("phi^x", &tanh).map(|_| ())).contains("phi^x"));
    assert!(msg(Fun::parse("psi", &tanh).map(|_| ())).contains("psi"));
    // A closure that returns NaN is reported, not propagated.
    let f = Fun::closure(|x| if x > 1.0 { f64::NAN } else { x });
    let e = expect(&f, &Normal::new(0.0, 1.0).unwrap()).unwrap_err();
    assert!(matches!(e, mfrnn::Error::NonFiniteIntegrand { .. }), "{e}");
}

/// A user closure is integrated adaptively and agrees with the built-in it imitates.
#[test]
fn closures_and_custom_activations() {
    let f = Fun::closure(|x: f64| x.tanh().powi(2));
    let n = Normal::new(0.4, 16.0).unwrap();
    let e = expect(&f, &n).unwrap();
    assert_eq!(e.method, Method::Adaptive);
    let tanh = Builtin::Tanh.arc();
    let r = expect(&Fun::phi(&tanh).powi(2), &n).unwrap();
    assert!((e.value - r.value).abs() < 1e-14, "{} {}", e.value, r.value);
    // A kinked closure with a declared break point.
    let k = Fun::closure_with_breakpoints(|x: f64| (x - 0.7).abs(), vec![0.7]);
    let relu = Builtin::Relu.arc();
    // |x − 0.7| = relu(x − 0.7) + relu(0.7 − x)
    let exact = expect(&Fun::phi(&relu), &Normal::new(0.4 - 0.7, 2.0).unwrap())
        .unwrap()
        .value
        + expect(&Fun::phi(&relu), &Normal::new(0.7 - 0.4, 2.0).unwrap())
            .unwrap()
            .value;
    let got = expect(&k, &Normal::new(0.4, 2.0).unwrap()).unwrap().value;
    assert!((got - exact).abs() < 1e-14, "{got} vs {exact}");
    let _ = Deriv::Phi;
}
