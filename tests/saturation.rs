//! Large variances: the saturation-limit decomposition of Gaussian expectations (G.14)
//! against the independent nested adaptive quadrature, and against the exact limits.

mod common;

use std::sync::Arc;

use mfrnn::activation::{Activation, Builtin};
use mfrnn::expect::{BivariateNormal, Fun, Integrator, Method, Normal, Strategy};
use proptest::prelude::*;

fn smooth(i: usize) -> Arc<dyn Activation> {
    [
        Builtin::Tanh,
        Builtin::Erf,
        Builtin::Sigmoid,
        Builtin::Softplus,
    ][i % 4]
        .arc()
}

/// Integrands of the mean-field maps: φ, φ², φ', φ'², φ φ''.
fn integrand(a: &Arc<dyn Activation>, k: usize) -> Fun {
    match k % 5 {
        0 => Fun::phi(a),
        1 => Fun::phi(a).powi(2),
        2 => Fun::dphi(a),
        3 => Fun::dphi(a).powi(2),
        _ => Fun::phi(a) * Fun::ddphi(a),
    }
}

proptest! {
    #![proptest_config(common::fixed_seed(40))]

    /// 1-D: the decomposition against adaptive Gauss–Kronrod on the whole line, both with
    /// their error estimates; the two share nothing but the integrand.
    #[test]
    fn one_d_matches_adaptive(i in 0usize..4, k in 0usize..5, m in -30.0f64..30.0,
                              lsd in 1.8f64..3.5) {
        let a = smooth(i);
        let f = integrand(&a, k);
        let sd = 10f64.powf(lsd);
        let n = Normal::new(m, sd * sd).unwrap();
        let s = Integrator::default().expect(&f, &n).unwrap();
        // erf has closed forms; the other three use the decomposition at these variances.
        prop_assert!(i % 4 == 1 || s.method == Method::Saturated, "{:?}", s.method);
        let r = Integrator::with_strategy(Strategy::Adaptive).expect(&f, &n).unwrap();
        // Scale: E[f²]^{1/2} bounds the size of both (softplus grows like sd).
        let scale = Integrator::default().expect(&f.powi(2), &n).unwrap().value.sqrt();
        let tol = 2e-14 * scale + s.error_estimate + r.error_estimate;
        prop_assert!((s.value - r.value).abs() <= tol,
            "{f} m={m} sd={sd}: saturated {} ± {} vs adaptive {} ± {}",
            s.value, s.error_estimate, r.value, r.error_estimate);
    }

    /// 2-D: the decomposition against nested adaptive quadrature, over correlations up to
    /// ±1 − 1e-9 and unequal variances.
    #[test]
    fn two_d_matches_nested_adaptive(i in 0usize..4, k in 0usize..5, l in 0usize..5,
                                     mu in -10.0f64..10.0, mv in -10.0f64..10.0,
                                     lsu in 1.8f64..3.0, lsv in 1.8f64..3.0,
                                     c in -1.0f64..1.0, edge in 0usize..4) {
        let a = smooth(i);
        let (f, g) = (integrand(&a, k), integrand(&a, l));
        let c = match edge {
            0 => c,
            1 => (1.0 - 1e-9) * c.signum(),
            _ => c * 0.999,
        };
        let (qu, qv) = (10f64.powf(2.0 * lsu), 10f64.powf(2.0 * lsv));
        let b = BivariateNormal::with_correlation(mu, mv, qu, qv, c).unwrap();
        let s = Integrator::default().expect2(&f, &g, &b).unwrap();
        let r = Integrator::with_strategy(Strategy::Adaptive).expect2(&f, &g, &b).unwrap();
        let nf = Integrator::default().expect(&f.powi(2), &Normal::new(mu, qu).unwrap()).unwrap();
        let ng = Integrator::default().expect(&g.powi(2), &Normal::new(mv, qv).unwrap()).unwrap();
        let scale = (nf.value * ng.value).sqrt();
        let tol = 5e-14 * scale + s.error_estimate + r.error_estimate;
        prop_assert!((s.value - r.value).abs() <= tol,
            "E[{f}(u) {g}(v)] μ=({mu},{mv}) q=({qu:e},{qv:e}) c={c}: {:?} {} ± {} vs adaptive {} ± {}",
            s.method, s.value, s.error_estimate, r.value, r.error_estimate);
    }
}

/// At variances where the transition is far below rounding, the decomposition gives the
/// limits exactly: E[tanh(u) tanh(v)] → (2/π) arcsin c, E[σ(u)²] → P(u > 0).
#[test]
fn huge_variance_reaches_the_limits() {
    let tanh = Builtin::Tanh.arc();
    let sig = Builtin::Sigmoid.arc();
    for q in [1e40, 1e100, 1e300] {
        for c in [-0.999_999, -0.3, 1e-9, 0.5, 0.999_999_999] {
            let b = BivariateNormal::equal(0.0, q, c).unwrap();
            let e = Integrator::default()
                .expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &b)
                .unwrap();
            let exact = std::f64::consts::FRAC_2_PI * f64::asin(c);
            assert!(
                (e.value - exact).abs() <= 4e-15 + e.error_estimate,
                "q={q:e} c={c}: {} vs {exact} ({:?})",
                e.value,
                e.method
            );
        }
        let e = Integrator::default()
            .expect(&Fun::phi(&sig).powi(2), &Normal::new(0.0, q).unwrap())
            .unwrap();
        assert!(
            (e.value - 0.5).abs() <= 4e-16 + e.error_estimate,
            "{}",
            e.value
        );
    }
}
