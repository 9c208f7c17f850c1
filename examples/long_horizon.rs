//! Exact-theory trajectories of the minimalRNN over long horizons with the banded sampler
//! (`exact::stationary::transient`, `theory/11-stationary-exact.md` (X.10)–(X.12)).
//!
//! Samples `Q^t` from `h^0 = 0` over `T` steps, prints it with its standard error at a few
//! times, the band the sampler needed and the time it took, and checks the claim of
//! docs/performance.md for the case given: the relative standard error of `Q^T` is below
//! 1e-3, and `Q^T` agrees with the stationary solver's `Q*` within 5 combined standard errors
//! (when the horizon is long enough for the process to have relaxed).
//!
//! Run: `cargo run --release --example long_horizon` (weak recurrence σ_w = 1, σ_v = 1.39,
//! σ_b = 0, μ_b = 0, R = 0.46, T = 1000, 16 000 paths: a few seconds on 2 cores), or with the
//! case and sizes `σ_w σ_v σ_b μ_b R paths T`, e.g. the slow case
//! `cargo run --release --example long_horizon -- 3 1.39 0 6 0.46 16000 1000`.
//! Add `plain` as an eighth argument to switch the variance reductions off.

use std::time::Instant;

use mfrnn::cells::{Cell, CellParams, Regime};
use mfrnn::exact::stationary::transient::{self, TransientConfig};
use mfrnn::exact::stationary::{self, StationaryConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: f64| -> Result<f64, Box<dyn std::error::Error>> {
        Ok(match args.get(i) {
            Some(s) => s.parse::<f64>()?,
            None => default,
        })
    };
    let p = CellParams::builder()
        .sigma_w(num(0, 1.0)?)
        .sigma_v(num(1, 1.39)?)
        .sigma_b(num(2, 0.0)?)
        .mu_b(num(3, 0.0)?)
        .r(num(4, 0.46)?)
        .build()?;
    let paths = num(5, 16_000.0)? as usize;
    let steps = num(6, 1000.0)? as usize;
    let plain = args.get(7).is_some_and(|s| s == "plain");
    let tied = Regime {
        tied: true,
        fresh_bias: false,
    };
    let mut cfg = TransientConfig::new(paths, 8, 1)?;
    if plain {
        cfg = cfg.without_antithetic().without_control_variate();
    }
    let start = Instant::now();
    let tr = transient::trajectory(&p, tied, steps, &cfg)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "σ_w = {}, σ_v = {}, σ_b = {}, μ_b = {}, R = {}: {paths} paths, {steps} steps, widest band {}{}, {secs:.2} s{}",
        p.sigma_w(),
        p.sigma_v(),
        p.sigma_b(),
        p.mu_b(),
        p.r(),
        tr.band,
        if tr.band_capped { " (capped)" } else { "" },
        if plain {
            " (no variance reduction)"
        } else {
            ""
        }
    );
    for t in [1, 10, 100, 300, 1000, 3000, 10_000] {
        if t <= steps {
            let (q, se) = (tr.big_q[t - 1], tr.big_q_se[t - 1]);
            println!(
                "  t = {t:6}   Q = {q:.7} ± {se:.7}   (relative {:.1e})",
                se / q
            );
        }
    }
    let (q, se) = (tr.big_q[steps - 1], tr.big_q_se[steps - 1]);
    let fp = stationary::solve(
        &Cell::Minimal,
        &p,
        tied,
        &StationaryConfig::new(1024, 8, 2)?,
    )?;
    let diff = (q - fp.big_q_star).abs();
    let tol = 5.0 * (se * se + fp.big_q_star_se * fp.big_q_star_se).sqrt();
    println!(
        "  stationary solver: Q* = {:.7} ± {:.7}; |Q^T − Q*| = {diff:.2e} (5 combined se: {tol:.2e})",
        fp.big_q_star, fp.big_q_star_se
    );
    if args.is_empty() {
        // The default case: the claims of docs/performance.md and theory/11.
        assert!(se / q < 1e-3, "relative standard error {}", se / q);
        assert!(diff <= tol, "Q^T = {q} ± {se} vs Q* = {}", fp.big_q_star);
        println!("  checked: relative standard error below 1e-3, Q^T = Q* within 5 se");
    }
    Ok(())
}
