//! Fixed points, slopes and timescales of the minimalRNN's factorised mean field
//! (`mfrnn::cells::minimal`).
//!
//! Checks `theory/03-minimal-rnn.md`:
//! - the fixed point `Q* = R E[(1−u)²]/(1 − E[u²])` at `q* = σ_w² Q* + σ_v² R + σ_b²` (M.2),
//!   with `0 ≤ Q* ≤ R`, recomputed from the gate moments;
//! - `χ₁ = E[u²] + σ_w² E[σ'²](Q* + R)` (M.5), recomputed with the expectation engine;
//! - the bistable state map (`bistable_state_map`: σ_w = 11.2, σ_v = 2.33, μ_b = 8, R = 0.46
//!   has Q* = 0.0075 stable, 0.0123 unstable, 0.2536 stable) and that the dynamics from
//!   `h⁰ = 0` climb to the smallest root;
//! - the slow case at large μ_b (σ_w = 3, σ_v = 1.39, μ_b = 6: χ_Q = 0.9925, ξ_Q = 133).
//!
//! This is the *factorised* theory; for the real (tied-weight, frozen-bias) network see
//! `examples/minimal_theories.rs` and `docs/approximations.md`.
//!
//! Run: `cargo run --release --example minimal_fixed_points` (well under a second).

use mfrnn::activation::Builtin;
use mfrnn::cells::CellParams;
use mfrnn::cells::minimal::Minimal;
use mfrnn::expect::{Fun, Normal, expect};

fn main() -> Result<(), mfrnn::Error> {
    let sig = Builtin::Sigmoid.arc();

    // The "paper default" critical point (theory/06): σ_w = 6.88, σ_v = 1.39, R = 0.46.
    let p = CellParams::builder()
        .sigma_w(6.88)
        .sigma_v(1.39)
        .r(0.46)
        .build()?;
    let m = Minimal::new(p)?;
    let a = m.analyze(1.0)?.summary;
    println!(
        "σ_w = 6.88, σ_v = 1.39, μ_b = 0, R = 0.46: q* = {:.6}, Q* = {:.6}, χ_Q = {:.6}, χ₁ = {:.6}, ξ_Q = {:.3}, phase {}",
        a.q_star,
        a.big_q_star,
        a.chi_q,
        a.chi_1,
        a.xi_q.unwrap(),
        a.phase
    );
    // Q* from its closed form at the gate variance it implies (M.2). The two sides use the same
    // quadrature, so they agree to the root finder's tolerance (1e-12 relative).
    let n = Normal::new(0.0, a.q_star)?;
    let eu2 = expect(&Fun::phi(&sig).powi(2), &n)?.value;
    let e1mu2 = expect(
        &Fun::closure(|x| (1.0 - mfrnn::activation::sigmoid(x)).powi(2)),
        &n,
    )?
    .value;
    let big_q = 0.46 * e1mu2 / (1.0 - eu2);
    assert!(
        (big_q - a.big_q_star).abs() < 1e-10,
        "{big_q} vs {}",
        a.big_q_star
    );
    assert!((0.0..=0.46).contains(&a.big_q_star));
    assert!((a.q_star - m.gate_variance(a.big_q_star)).abs() < 1e-12);
    // χ₁ (M.5), from the engine: agreement to quadrature accuracy (1e-12).
    let edsig2 = expect(&Fun::dphi(&sig).powi(2), &n)?.value;
    let chi1 = eu2 + 6.88f64.powi(2) * edsig2 * (a.big_q_star + 0.46);
    assert!((chi1 - a.chi_1).abs() < 1e-12);
    // These are (within the 4-digit rounding of σ_w, σ_v) the critical scales: χ₁ ≈ 1.
    assert!((a.chi_1 - 1.0).abs() < 1e-2);

    // Three fixed points: stable, unstable, stable; the dynamics from h⁰ = 0 reach the first.
    let bi = Minimal::new(
        p.to_builder()
            .sigma_w(11.2)
            .sigma_v(2.33)
            .mu_b(8.0)
            .build()?,
    )?;
    let fps = bi.state_fixed_points()?;
    for f in &fps {
        println!(
            "  bistable map: Q* = {:.7}  χ_Q = {:.4}  stable {}  reached from 0 {}",
            f.big_q, f.chi_q, f.stable, f.reached_from_zero
        );
    }
    assert_eq!(fps.len(), 3);
    assert_eq!(
        fps.iter().map(|f| f.stable).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert!(fps[0].reached_from_zero && !fps[2].reached_from_zero);
    // Values quoted in theory/03 to 2–4 significant digits.
    assert!((fps[0].big_q - 0.0075).abs() < 5e-5);
    assert!((fps[1].big_q - 0.0123).abs() < 5e-5);
    assert!((fps[2].big_q - 0.2536).abs() < 5e-5);
    // Iterating the state map (M.2) from Q = 0 settles at the smallest root. Its slope there
    // is χ_Q = 0.9995 (ξ_Q ≈ 2000 steps), so 50 000 steps leave an error of ~e^{−25} of the
    // initial gap: 1e-9 is the root finder's accuracy with a margin.
    let mut big_q = 0.0;
    for t in 1..=50_000 {
        big_q = bi.state_map(big_q)?.1;
        if t == 2_000 || t == 50_000 {
            println!("  after {t} steps from h⁰ = 0: Q = {big_q:.7}");
        }
    }
    assert!((big_q - fps[0].big_q).abs() < 1e-9);

    // Large μ_b: the gate is nearly open and the approach to Q* is slow.
    let slow = Minimal::new(p.to_builder().sigma_w(3.0).mu_b(6.0).build()?)?
        .analyze(1.0)?
        .summary;
    println!(
        "σ_w = 3, μ_b = 6: χ_Q = {:.4}, ξ_Q = {:.1} steps",
        slow.chi_q,
        slow.xi_q.unwrap()
    );
    // theory/03 quotes χ_Q = 0.9925 and ξ_Q = 133 (rounded).
    assert!((slow.chi_q - 0.9925).abs() < 5e-5);
    assert!((slow.xi_q.unwrap() - 133.0).abs() < 1.0);
    Ok(())
}
