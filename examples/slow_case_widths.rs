//! The slow case of the exact stationary theory (σ_w = 3, σ_v = 1.39, σ_b = 0, μ_b = 6,
//! R = 0.46; `theory/11-stationary-exact.md`): tied, frozen-bias minimalRNNs at several
//! widths against the stationary `Q*`. A finite-width bias shrinks as `1/N` — constant
//! `N (Q_net − Q*)/Q*` — while a gap in the theory would not shrink. Prints one row per
//! width; about 5 minutes on two cores (`cargo run --release --example slow_case_widths`).
//! Not in CI: its numbers are recorded in theory/11.

use mfrnn::cells::{Cell, CellParams, Regime};
use mfrnn::exact::stationary::{self, StationaryConfig};
use mfrnn::sim::SimConfig;

fn main() -> Result<(), mfrnn::Error> {
    let p = CellParams::builder()
        .sigma_w(3.0)
        .sigma_v(1.39)
        .sigma_b(0.0)
        .mu_b(6.0)
        .r(0.46)
        .build()?;
    let fp = stationary::solve(
        &Cell::Minimal,
        &p,
        Regime::REAL,
        &StationaryConfig::new(4096, 8, 3)?,
    )?;
    println!(
        "stationary theory: Q* = {:.6} ± {:.6}",
        fp.big_q_star, fp.big_q_star_se
    );
    println!("     N  networks  Q_net      ± se        N (Q_net − Q*)/Q*");
    // Networks per width: N·networks is held at 8,000 so each width costs about the same.
    // The sampling error of N (Q_net − Q*) then grows as √N, which is why the scan stops at
    // N = 1000 (N = 2000 is the ignored test in tests/stationary_theory.rs).
    for (width, seeds) in [(250usize, 32usize), (500, 16), (1000, 8)] {
        let cfg = SimConfig::builder()
            .width(width)
            .batch(4)
            .seeds(seeds)
            .seed(41)
            .build()?;
        // 2,500 steps of burn-in: twelve relaxation times of the median gate at μ_b = 6.
        let net = mfrnn::sim::sync::measure(&Cell::Minimal, &p, &cfg, 2500, 200)?;
        let n = width as f64;
        let dev = n * (net.big_q - fp.big_q_star) / fp.big_q_star;
        let dev_se = n * (net.big_q_se.powi(2) + fp.big_q_star_se.powi(2)).sqrt() / fp.big_q_star;
        println!(
            "{width:>6}  {seeds:>8}  {:.6} ± {:.6}   {dev:>8.1} ± {dev_se:.1}",
            net.big_q, net.big_q_se
        );
    }
    Ok(())
}
