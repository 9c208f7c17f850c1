//! A small phase diagram of the tanh RNN (`mfrnn::phase`) and its critical line χ₁ = 1.
//!
//! Computes the correlation timescale ξ_c over σ_w × σ_b (σ_v = 0, identical inputs ρ = 1),
//! draws it as text, and checks `theory/02-vanilla-rnn.md` ("Timescales and phase"):
//! - along every row χ₁ crosses 1 exactly once, from ordered (χ₁ < 1) to chaotic;
//! - ξ_c peaks at the grid point next to that crossing (it diverges on the critical line);
//! - the crossing, interpolated on the grid, agrees with a bisection on `Vanilla::summary`
//!   (the same χ₁ of (V.5)) to within the interpolation error;
//! - the critical σ_w grows with σ_b and heads for 1 as σ_b → 0 (q* → 0, χ₁ → σ_w²).
//!
//! The same diagram from the command line:
//! `mfrnn phase --cell vanilla --phi tanh --x sigma-w=0.5:2.5:41 --y sigma-b=0.05:0.5:10 --quantity xi_c --out phase.svg`.
//!
//! Run: `cargo run --release --example phase_diagram` (about a second).

use mfrnn::activation::Builtin;
use mfrnn::cells::{Cell, CellParams};
use mfrnn::phase::{self, Axis, Quantity};

fn main() -> Result<(), mfrnn::Error> {
    let tanh = Cell::vanilla(Builtin::Tanh);
    let base = CellParams::builder().build()?;
    let x = Axis::parse("sigma-w=0.5:2.5:41")?;
    let y = Axis::parse("sigma-b=0.05:0.5:10")?;
    let d = phase::diagram(&tanh, base, 1.0, x, y, Quantity::XiC, &|_| {})?;
    assert!(d.failures.is_empty(), "{:?}", d.failures);

    // Text rendering: digit = ⌊log₁₀ ξ_c⌋ (0 for ξ_c < 10, ...), '|' where χ₁ crosses 1.
    println!("ξ_c of tanh, rows σ_b (top = 0.5), columns σ_w = 0.5 … 2.5");
    let mut crossings = Vec::new();
    for j in (0..y.n).rev() {
        let row = &d.values[j];
        let chi: Vec<f64> = d.chi_1[j].iter().map(|c| c.unwrap()).collect();
        let mut line = String::new();
        for i in 0..x.n {
            let xi = row[i].unwrap();
            line.push(if xi.is_infinite() {
                '∞'
            } else {
                char::from_digit(xi.log10().floor().clamp(0.0, 9.0) as u32, 10).unwrap()
            });
            if i + 1 < x.n && chi[i] < 1.0 && chi[i + 1] >= 1.0 {
                line.push('|');
            }
        }
        println!("σ_b = {:.2}  {line}", y.value(j));

        // One crossing per row, ordered to the left, chaotic to the right.
        let ups: Vec<usize> = (0..x.n - 1)
            .filter(|&i| chi[i] < 1.0 && chi[i + 1] >= 1.0)
            .collect();
        assert_eq!(ups.len(), 1, "σ_b = {}: χ₁ = {chi:?}", y.value(j));
        assert!((0..x.n - 1).all(|i| (chi[i] < 1.0) == (i <= ups[0])));
        let i = ups[0];
        // ξ_c is largest next to the crossing.
        let imax = (0..x.n)
            .max_by(|&a, &b| row[a].unwrap().total_cmp(&row[b].unwrap()))
            .unwrap();
        assert!(
            imax == i || imax == i + 1,
            "σ_b = {}: peak at {imax}, crossing at {i}",
            y.value(j)
        );
        // Linear interpolation of χ₁ between the two grid points.
        let (x0, x1) = (x.value(i), x.value(i + 1));
        crossings.push((
            y.value(j),
            x0 + (1.0 - chi[i]) / (chi[i + 1] - chi[i]) * (x1 - x0),
        ));
    }

    println!("critical line: σ_b → σ_w (interpolated | bisection)");
    crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in crossings.windows(2) {
        assert!(w[1].1 > w[0].1, "the critical σ_w grows with σ_b");
    }
    for &(sb, sw_grid) in &crossings {
        let chi1 = |sw: f64| -> Result<f64, mfrnn::Error> {
            let p = CellParams::builder().sigma_w(sw).sigma_b(sb).build()?;
            Ok(tanh.mean_field(&p)?.summary(1.0)?.chi_1)
        };
        let (mut lo, mut hi) = (0.5, 2.5);
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if chi1(mid)? < 1.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let sw = 0.5 * (lo + hi);
        println!("  {sb:.2} → {sw_grid:.4} | {sw:.6}");
        // Linear interpolation on a grid of spacing h = 0.05 errs by about h² χ₁''/8 — a few
        // 1e-4 here; 5e-3 leaves a wide margin.
        assert!((sw - sw_grid).abs() < 5e-3);
    }
    // σ_b → 0: q* → 0 and χ₁ → σ_w², so the line ends at σ_w = 1 — slowly, because on the
    // critical line σ_b² ≈ (4/3) q*³ and σ_w² ≈ 1 + 2q* (theory/05, SV.11): σ_w² − 1 shrinks
    // only like σ_b^{2/3}. At σ_b = 0.05 the line is at σ_w ≈ 1.12.
    let first = crossings[0].1;
    assert!(
        first > 1.0 && first < 1.15,
        "σ_b = 0.05: critical σ_w {first}"
    );
    Ok(())
}
