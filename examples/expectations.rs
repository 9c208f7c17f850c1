//! The Gaussian-expectation engine (`mfrnn::expect`) against closed forms, and its error
//! estimates against the true errors.
//!
//! Checks `theory/01-gaussian-expectations.md`: the erf closed forms (G.4)–(G.6), the ReLU
//! arc-cosine kernels (G.8), the exact piecewise-polynomial sums (G.10), the trapezoid rule with
//! its error bound (G.11) on a user closure, and — where no closed form exists (tanh) — the
//! automatic method against the independent adaptive Gauss–Kronrod path.
//!
//! Asserts, for every case, the accuracy policy of the README: relative error ≤ 1e-12 (or
//! absolute ≤ 1e-15 for tiny values), and that the reported `error_estimate` covers the true
//! error (up to the rounding of the reference formula itself, see `covered`).
//!
//! Run: `cargo run --release --example expectations` (well under a second).

use std::f64::consts::PI;

use mfrnn::activation::Builtin;
use mfrnn::expect::{
    BivariateNormal, Expectation, Fun, Integrator, Normal, Strategy, expect, expect2,
};

/// Checks one result against a reference value and prints a table row.
///
/// Tolerance: the engine's own `error_estimate`, plus 4 ulps of the reference — the closed
/// forms below are themselves evaluated in `f64` (an `asin`, an `exp`, a few products), so
/// they carry a few units of rounding that the engine cannot be blamed for. The accuracy
/// policy (relative 1e-12, or absolute 1e-15 near zero) is asserted separately.
fn covered(label: &str, got: Expectation, reference: f64) {
    let err = (got.value - reference).abs();
    let rel = err / reference.abs().max(f64::MIN_POSITIVE);
    println!(
        "| {label} | {:.16e} | {:.1e} | {:.1e} | {} |",
        got.value,
        err,
        got.error_estimate,
        got.method.as_str()
    );
    assert!(
        rel <= 1e-12 || err <= 1e-15,
        "{label}: relative error {rel:e} breaks the 1e-12 policy"
    );
    assert!(
        err <= got.error_estimate + 4.0 * f64::EPSILON * reference.abs(),
        "{label}: error {err:e} not covered by the estimate {:e}",
        got.error_estimate
    );
}

fn main() -> Result<(), mfrnn::Error> {
    let erf = Builtin::Erf.arc();
    let relu = Builtin::Relu.arc();
    let tanh = Builtin::Tanh.arc();
    println!("| case | value | true error | error estimate | method |");
    println!("|---|---|---|---|---|");

    // (G.4)–(G.5): E[erf(u)²], u ~ N(0, q) = (2/π) asin(2q/(1 + 2q)) — the erf variance map.
    for q in [1e-6, 0.5, 4.0, 1e3] {
        let got = expect(&Fun::phi(&erf).powi(2), &Normal::new(0.0, q)?)?;
        let exact = 2.0 / PI * (2.0 * q / (1.0 + 2.0 * q)).asin();
        covered(&format!("E[erf(u)²], q = {q}"), got, exact);
    }

    // (G.6): E[erf(u) erf(v)] at equal variance q and correlation c.
    for (q, c) in [(1.0, 0.5), (4.0, 0.99), (16.0, -0.3)] {
        let b = BivariateNormal::equal(0.0, q, c)?;
        let got = expect2(&Fun::phi(&erf), &Fun::phi(&erf), &b)?;
        let exact = 2.0 / PI * (2.0 * c * q / (1.0 + 2.0 * q)).asin();
        covered(&format!("E[erf(u) erf(v)], q = {q}, c = {c}"), got, exact);
    }

    // (G.8): the arc-cosine kernels of ReLU, θ = acos c.
    for (q, c) in [(1.0, 0.0), (2.0, 0.7), (9.0, -0.9)] {
        let b = BivariateNormal::equal(0.0, q, c)?;
        let th = c.acos();
        let k0 = expect2(&Fun::phi(&relu), &Fun::phi(&relu), &b)?;
        covered(
            &format!("E[relu(u) relu(v)], q = {q}, c = {c}"),
            k0,
            q / (2.0 * PI) * (th.sin() + (PI - th) * c),
        );
        let k1 = expect2(&Fun::dphi(&relu), &Fun::dphi(&relu), &b)?;
        covered(
            &format!("E[relu'(u) relu'(v)], q = {q}, c = {c}"),
            k1,
            (PI - th) / (2.0 * PI),
        );
    }

    // (G.10): piecewise polynomials are summed exactly — E[relu(u)²] = q/2 at zero mean.
    let got = expect(&Fun::phi(&relu).powi(2), &Normal::new(0.0, 3.0)?)?;
    covered("E[relu(u)²], q = 3", got, 1.5);

    // (G.11): a user closure with no declared smoothness, E[sin²(u)], u ~ N(μ, q)
    // = (1 − cos(2μ) e^{−2q})/2.
    for (mu, q) in [(0.0, 0.25), (0.7, 2.0)] {
        let f = Fun::closure(|x: f64| x.sin().powi(2));
        let got = expect(&f, &Normal::new(mu, q)?)?;
        let exact = 0.5 * (1.0 - (2.0 * mu).cos() * (-2.0 * q).exp());
        covered(
            &format!("E[sin²(u)] (closure), μ = {mu}, q = {q}"),
            got,
            exact,
        );
    }

    // No closed form: tanh at a saturated fixed point (the χ₁ integral) and the c-map near
    // c = 1. The automatic method and the slow, independent adaptive path must agree within
    // the sum of their error estimates.
    let adaptive = Integrator::with_strategy(Strategy::Adaptive);
    let f = Fun::dphi(&tanh).powi(2);
    let n = Normal::new(0.0, 16.0)?;
    let (a, b) = (expect(&f, &n)?, adaptive.expect(&f, &n)?);
    println!(
        "E[tanh'(u)²], q = 16: auto {:.16e} ({}) vs adaptive {:.16e}",
        a.value,
        a.method.as_str(),
        b.value
    );
    assert!((a.value - b.value).abs() <= a.error_estimate + b.error_estimate);
    assert!((a.value - b.value).abs() <= 1e-12 * a.value.abs());
    let bv = BivariateNormal::equal(0.0, 4.0, 0.99)?;
    let (a, b) = (
        expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &bv)?,
        adaptive.expect2(&Fun::phi(&tanh), &Fun::phi(&tanh), &bv)?,
    );
    println!(
        "E[tanh(u) tanh(v)], q = 4, c = 0.99: auto {:.16e} ({}) vs adaptive {:.16e}",
        a.value,
        a.method.as_str(),
        b.value
    );
    assert!((a.value - b.value).abs() <= a.error_estimate + b.error_estimate);
    assert!((a.value - b.value).abs() <= 1e-12 * a.value.abs());
    println!("all error estimates cover the true errors");
    Ok(())
}
