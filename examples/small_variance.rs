//! Small-variance series (`mfrnn::expansion`) against quadrature, and what "asymptotic" means.
//!
//! Checks `theory/05-small-variance.md`:
//! - (SV.2), (SV.4): the order-4 tanh series of `Q = E[φ(√q z)²]`, `μ₁ = E[φ'(√q z)²]` and the
//!   critical line `σ_w² = 1/μ₁` against the expectation engine at q = 0.01 and 0.05, with the
//!   accuracy quoted there (about 1e-6 / 4e-8 relative at q = 0.01, 5e-4 / 1e-4 at q = 0.05);
//! - the truncation order: halving q divides the order-4 residual by about 2⁵;
//! - the series are asymptotic, not convergent: at q = 0.2 the order-20 truncation of Q is
//!   worse than the order-5 one (best order ≈ π²/(8q));
//! - round trip through theory/02: σ_w, σ_b from the order-6 series at q* = 0.01 give a network
//!   that `Vanilla::analyze` finds critical with that q*;
//! - exact coefficients: erf's `σ_w² = (π/4)√(1 + 4q)` (convergent for q < 1/4), and a generic
//!   `Float` function (sin) through Taylor-mode jets (SV.7): `E[sin²(√q z)] = (1 − e^{−2q})/2`.
//!
//! Run: `cargo run --release --example small_variance` (well under a second).

use mfrnn::activation::Builtin;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{CellParams, Phase};
use mfrnn::expansion::{Jet, small_variance, small_variance_of};
use mfrnn::expect::{Fun, Normal, expect};
use num_traits::Float;

fn main() -> Result<(), mfrnn::Error> {
    let tanh = Builtin::Tanh.arc();
    let quad = |f: &Fun, q: f64| -> Result<f64, mfrnn::Error> {
        Ok(expect(f, &Normal::new(0.0, q)?)?.value)
    };
    let phi2 = Fun::phi(&tanh).powi(2);
    let dphi2 = Fun::dphi(&tanh).powi(2);

    let s4 = small_variance(Builtin::Tanh, 4)?;
    println!("tanh, order 4:");
    println!("  Q    = {}", s4.phi2.formula());
    println!("  σ_w² = {}", s4.sigma_w2.formula());
    println!("| q | Q rel. error | σ_w² rel. error |");
    println!("|---|---|---|");
    // Bounds: twice the accuracy quoted in theory/05 ("Asymptotic, not convergent").
    for (q, bound_q, bound_sw) in [(0.01, 2e-6, 8e-8), (0.05, 1e-3, 2e-4)] {
        let e_q = (s4.phi2.eval(q) / quad(&phi2, q)? - 1.0).abs();
        let e_sw = (s4.sigma_w2.eval(q) * quad(&dphi2, q)? - 1.0).abs();
        println!("| {q} | {e_q:.1e} | {e_sw:.1e} |");
        assert!(e_q < bound_q && e_sw < bound_sw);
    }

    // Truncation order: the residual of the order-4 series of Q behaves like c₅ q⁵, so halving
    // q divides it by 2⁵. The next terms shift the measured exponent; the test
    // `series_match_quadrature_with_the_right_truncation_order` allows |p − 5| < 0.5.
    let resid = |q: f64| -> Result<f64, mfrnn::Error> { Ok(s4.phi2.eval(q) - quad(&phi2, q)?) };
    let p = (resid(0.02)? / resid(0.01)?).log2();
    println!("residual exponent of the order-4 Q series near q = 0.01: {p:.3} (expected 5)");
    assert!((p - 5.0).abs() < 0.5);

    // Asymptotic: at q = 0.2 the best order is about π²/(8 · 0.2) ≈ 6; going much further
    // makes it worse. The engine is accurate to 1e-12 here, so the errors are the series'.
    let s20 = small_variance(Builtin::Tanh, 20)?;
    let exact = quad(&phi2, 0.2)?;
    let err_at = |k: usize| -> f64 {
        let c = &s20.phi2.coefficients[..=k];
        (c.iter().rev().fold(0.0, |s, &x| s * 0.2 + x) - exact).abs()
    };
    println!(
        "q = 0.2: |error| of Q at order 5: {:.1e}, order 20: {:.1e}",
        err_at(5),
        err_at(20)
    );
    assert!(err_at(20) > err_at(5));

    // Round trip: the order-6 critical line at q* = 0.01, σ_v = 0.
    let s6 = small_variance(Builtin::Tanh, 6)?;
    let q = 0.01;
    let (sw2, sb2) = (s6.sigma_w2.eval(q), s6.input_variance.eval(q));
    let p = CellParams::builder()
        .sigma_w(sw2.sqrt())
        .sigma_b(sb2.sqrt())
        .build()?;
    let v = Vanilla::with_builtin(Builtin::Tanh, p);
    let a = v.analyze(1.0)?.summary;
    println!(
        "order-6 critical line at q* = 0.01: σ_w² = {sw2:.10}, σ_b² = {sb2:.3e} → q* = {:.10}, χ₁ − 1 = {:.1e}",
        a.q_star,
        a.chi_1 - 1.0
    );
    // theory/05 measures q* within 1.5e-9 and χ₁ − 1 = 2.5e-9 (inside the 1e-8 critical band).
    assert!((a.q_star - q).abs() < 1e-8);
    assert_eq!(a.phase, Phase::Critical);

    // erf: exact rationals times π, convergent for q < 1/4.
    let e = small_variance(Builtin::Erf, 10)?;
    println!("erf: σ_w² = {}", e.sigma_w2.formula());
    let closed = std::f64::consts::FRAC_PI_4 * (1.0 + 4.0 * 0.01f64).sqrt();
    // The first omitted term is of order 1e4 · q¹¹ = 1e-18: the difference is rounding.
    assert!((e.sigma_w2.eval(0.01) / closed - 1.0).abs() < 1e-14);

    // Any φ written over num_traits::Float, differentiated by jets.
    fn sin<F: Float>(x: F) -> F {
        x.sin()
    }
    let s = small_variance_of("sin", |x: Jet<10>| sin(x), 4)?;
    println!("sin: Q = {}", s.phi2.formula());
    // (1 − e^{−2q})/2 = q − q² + (2/3) q³ − (1/3) q⁴ + …, to rounding of the jet arithmetic.
    for (c, want) in s
        .phi2
        .coefficients
        .iter()
        .zip([0.0, 1.0, -1.0, 2.0 / 3.0, -1.0 / 3.0])
    {
        assert!((c - want).abs() < 1e-14, "{c} vs {want}");
    }
    Ok(())
}
