//! Fixed points, slopes, timescales and phase of the vanilla RNN (`mfrnn::cells::vanilla`).
//!
//! Checks `theory/02-vanilla-rnn.md`:
//! - the reference row of `tanh_depth_scale_table` (σ_w = 1.5, σ_b = 0.1: q* = 0.81332233,
//!   c* = 0.180084, ξ_c = 14.845, ξ_q = 1.4172) and that q* solves the variance map (V.1);
//! - χ₁ = σ_w² E[φ'(μ_b + √q* z)²] (V.5), recomputed here with the expectation engine, and
//!   ξ = −1/ln χ;
//! - the phase: with identical inputs (ρ = 1) the ordered phase has c* = 1 and χ_c = χ₁, the
//!   chaotic phase a second fixed point c* < 1 (V.6);
//! - the critical line: σ_w found by bisection on χ₁ = 1 at fixed σ_b is reported as
//!   `critical`, with infinite ξ₁, and ξ_c grows without bound as χ₁ → 1 from below;
//! - a map with no finite fixed point (ReLU, σ_w² ≥ 2) is a typed error.
//!
//! Run: `cargo run --release --example vanilla_fixed_points` (well under a second).

use mfrnn::Error;
use mfrnn::activation::Builtin;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{CellParams, Phase};
use mfrnn::expect::{Fun, Normal, expect};

fn tanh_cell(sigma_w: f64, sigma_b: f64) -> Result<Vanilla, Error> {
    let p = CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_b(sigma_b)
        .build()?;
    Ok(Vanilla::with_builtin(Builtin::Tanh, p))
}

fn main() -> Result<(), Error> {
    // The reference row (theory/02, "Reference check"): a chaotic tanh network.
    let v = tanh_cell(1.5, 0.1)?;
    let a = v.analyze(1.0)?.summary;
    println!(
        "σ_w = 1.5, σ_b = 0.1: q* = {:.10}, Q* = {:.10}, c* = {:.6}, χ_q = {:.6}, χ_c = {:.6}, χ₁ = {:.6}, ξ_q = {:.4}, ξ_c = {:.4}, phase {}",
        a.q_star,
        a.big_q_star,
        a.c_star.unwrap(),
        a.chi_q,
        a.chi_c.unwrap(),
        a.chi_1,
        a.xi_q.unwrap(),
        a.xi_c.unwrap(),
        a.phase
    );
    // Tolerances: the reference values are quoted to 8, 6, 5 and 5 significant digits.
    assert!((a.q_star - 0.81332233).abs() < 1e-8);
    assert!((a.c_star.unwrap() - 0.180084).abs() < 1e-6);
    assert!((a.xi_c.unwrap() - 14.845).abs() < 1e-3);
    assert!((a.xi_q.unwrap() - 1.4172).abs() < 1e-4);
    assert_eq!(a.phase, Phase::Chaotic);
    // q* is a fixed point of (V.1): the residual is at the level of the quadrature (1e-12).
    assert!((v.variance_map(a.q_star)? - a.q_star).abs() < 1e-12);
    // c* is a fixed point of the correlation map (V.2): q_ab(c*)/q* = c*.
    let c = a.c_star.unwrap();
    assert!((v.covariance_map(a.q_star, c, 1.0)? / a.q_star - c).abs() < 1e-10);
    // χ₁ (V.5) from the engine directly: same integral, same rule, so agreement to 1e-13.
    let tanh = Builtin::Tanh.arc();
    let e = expect(&Fun::dphi(&tanh).powi(2), &Normal::new(0.0, a.q_star)?)?;
    assert!((1.5f64.powi(2) * e.value - a.chi_1).abs() < 1e-13);
    // ξ = −1/ln χ (to rounding).
    assert!((a.xi_q.unwrap() + 1.0 / a.chi_q.ln()).abs() < 1e-12 * a.xi_q.unwrap());
    // Chaotic with identical inputs: c* = 1 is unstable (χ₁ > 1), the reported c* < 1.
    assert!(a.chi_1 > 1.0 && c < 1.0);

    // An ordered network: c* = 1 with identical inputs, and its slope is χ₁.
    let o = tanh_cell(0.8, 0.3)?.analyze(1.0)?.summary;
    println!(
        "σ_w = 0.8, σ_b = 0.3: q* = {:.6}, c* = {:?}, χ₁ = {:.6}, ξ_c = {:.4}, phase {}",
        o.q_star,
        o.c_star,
        o.chi_1,
        o.xi_c.unwrap(),
        o.phase
    );
    assert_eq!(o.phase, Phase::Ordered);
    assert_eq!(o.c_star, Some(1.0));
    assert!((o.chi_c.unwrap() - o.chi_1).abs() < 1e-12);
    // With ρ < 1 the inputs act like noise and keep c* < 1 (V.6).
    let p = CellParams::builder()
        .sigma_w(0.8)
        .sigma_v(0.5)
        .sigma_b(0.3)
        .build()?;
    let noisy = Vanilla::with_builtin(Builtin::Tanh, p)
        .analyze(0.5)?
        .summary;
    assert!(noisy.c_star.unwrap() < 1.0);

    // The critical line at σ_b = 0.1: bisection on σ_w for χ₁ = 1.
    let chi1 = |sw: f64| -> Result<f64, Error> { Ok(tanh_cell(sw, 0.1)?.summary(1.0)?.chi_1) };
    let (mut lo, mut hi) = (1.0, 1.5);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if chi1(mid)? < 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let sw_c = 0.5 * (lo + hi);
    let k = tanh_cell(sw_c, 0.1)?.analyze(1.0)?.summary;
    println!(
        "critical line at σ_b = 0.1: σ_w = {sw_c:.12}, q* = {:.8}, χ₁ − 1 = {:.1e}, ξ₁ = {:?}, phase {}",
        k.q_star,
        k.chi_1 - 1.0,
        k.xi_1,
        k.phase
    );
    // Bisection to machine precision in σ_w: χ₁ − 1 is then a few ulps of the quadrature,
    // far inside the 1e-8 band that defines `critical`.
    assert_eq!(k.phase, Phase::Critical);
    assert!((k.chi_1 - 1.0).abs() < 1e-10);
    assert_eq!(k.xi_1, None);
    // Approaching the line from the ordered side, ξ_c = ξ₁ = −1/ln χ₁ diverges.
    let mut last = 0.0;
    for d in [1e-1, 1e-2, 1e-3, 1e-4] {
        let s = tanh_cell(sw_c * (1.0 - d), 0.1)?.analyze(1.0)?.summary;
        let xi = s.xi_c.unwrap();
        println!(
            "  σ_w = σ_w,c (1 − {d:e}): χ₁ = {:.8}, ξ_c = {xi:.1}",
            s.chi_1
        );
        assert!(xi > 5.0 * last, "ξ_c should grow roughly like 1/(1 − χ₁)");
        last = xi;
    }

    // ReLU with σ_w² ≥ 2: V(q) = σ_w² q/2 + σ_b² has no finite fixed point.
    let p = CellParams::builder().sigma_w(1.5).sigma_b(0.1).build()?;
    let relu = Vanilla::with_builtin(Builtin::Relu, p);
    match relu.analyze(1.0) {
        Err(e @ Error::NoFixedPoint { .. }) => println!("ReLU, σ_w = 1.5: {e}"),
        other => panic!("expected NoFixedPoint, got {other:?}"),
    }
    Ok(())
}
