//! Where the factorised minimalRNN theory and the exact tied-weight theory differ.
//!
//! Prints the stationary state second moment `Q` after 100 steps (identical inputs) from the
//! factorised recursion and from the exact unit process (tied weights, frozen bias; 32 000
//! unit paths, standard error in brackets) over σ_w, μ_b and σ_b, with σ_v = 1.39 and
//! R = 0.46. Run: `cargo run --release --example minimal_theories`.
//!
//! Asserts its headline claim: the two agree when the recurrence is weak and the bias has no
//! variance, and differ by more than 20% somewhere in the table.

use mfrnn::cells::{Cell, CellParams, Regime, RhoSchedule};
use mfrnn::exact::{self, ExactConfig};

fn main() -> Result<(), mfrnn::Error> {
    let sched = RhoSchedule::constant(1.0, 100)?;
    let (sv, r) = (1.39, 0.46);
    println!("| σ_w | μ_b | σ_b | Q factorised | Q exact (tied) | relative gap |");
    println!("|---|---|---|---|---|---|");
    let mut worst: f64 = 0.0;
    let mut weak_ok = true;
    let cfg = ExactConfig::builder()
        .units(32_000)
        .replicas(8)
        .seed(7)
        .build()?;
    for &sw in &[1.0, 3.0, 6.88] {
        for &mu in &[-2.0, 0.0, 2.0, 4.0] {
            for &sb in &[0.0, 0.5] {
                let p = CellParams::builder()
                    .sigma_w(sw)
                    .sigma_v(sv)
                    .sigma_b(sb)
                    .mu_b(mu)
                    .r(r)
                    .build()?;
                let fac = Cell::Minimal.mean_field(&p)?.trajectory(&sched)?.big_q[99];
                let ex = exact::trajectory(&Cell::Minimal, &p, &sched, Regime::REAL, &cfg)?;
                let (e, se) = (ex.big_q[99], ex.big_q_se[99]);
                let gap = (fac - e) / e;
                worst = worst.max(gap.abs());
                if sw == 1.0 && sb == 0.0 && gap.abs() > 5.0 * se / e + 0.02 {
                    weak_ok = false;
                }
                println!(
                    "| {sw} | {mu} | {sb} | {fac:.5} | {e:.5} ({se:.5}) | {:+.1}% |",
                    100.0 * gap
                );
            }
        }
    }
    assert!(
        weak_ok,
        "weak recurrence, no bias variance: the theories should agree"
    );
    assert!(worst > 0.2, "expected a large gap somewhere");
    Ok(())
}
