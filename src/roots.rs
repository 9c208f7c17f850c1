//! Scalar root finding: bracketed Brent iteration and "all roots on an interval" by a sign
//! scan, used for every fixed point in mfrnn. Results carry residuals and iteration counts.

use serde::Serialize;

use crate::error::{Error, Result};

/// A refined root of a scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Root {
    /// The root.
    pub x: f64,
    /// `|f(x)|` at the returned point.
    pub residual: f64,
    /// Function evaluations spent refining it.
    pub iterations: usize,
}

/// Brent's method on a bracket `[a, b]` with `f(a)·f(b) <= 0`; stops when the bracket is
/// below `xtol` (absolute, plus 2ε|x|) or `f` vanishes. Returns the endpoint of smaller `|f|`.
///
/// # Errors
/// [`Error::NoConvergence`] with the bracket and `|f|` reached if `max_iter` evaluations do
/// not shrink the bracket to the tolerance (never silently the last iterate); [`Error`]s of
/// `f`.
pub fn brent<F: FnMut(f64) -> Result<f64>>(
    mut f: F,
    mut a: f64,
    mut b: f64,
    mut fa: f64,
    mut fb: f64,
    xtol: f64,
    max_iter: usize,
) -> Result<Root> {
    let mut iterations = 0;
    if fa == 0.0 {
        return Ok(Root {
            x: a,
            residual: 0.0,
            iterations,
        });
    }
    if fb == 0.0 {
        return Ok(Root {
            x: b,
            residual: 0.0,
            iterations,
        });
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    while iterations < max_iter {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(Root {
                x: b,
                residual: fb.abs(),
                iterations,
            });
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            // Inverse quadratic interpolation (secant when only two points).
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b)?;
        iterations += 1;
    }
    Err(Error::NoConvergence {
        solver: "Brent root finder",
        iterations,
        residual: fb.abs(),
        detail: format!(
            "bracket [{:e}, {:e}] still wider than the tolerance {:e}",
            b.min(c),
            b.max(c),
            2.0 * f64::EPSILON * b.abs() + 0.5 * xtol
        ),
    })
}

/// All sign changes of `f` on the sorted grid `xs`, each refined by Brent's method; exact
/// zeros at grid points are roots too. Tangential (even-multiplicity) roots between grid
/// points are not detected: callers choose grids fine enough for their maps.
pub fn roots_on_grid<F: FnMut(f64) -> Result<f64>>(
    mut f: F,
    xs: &[f64],
    xtol: f64,
) -> Result<Vec<Root>> {
    let mut vals = Vec::with_capacity(xs.len());
    for &x in xs {
        vals.push(f(x)?);
    }
    let mut out: Vec<Root> = Vec::new();
    for i in 0..xs.len() {
        if vals[i] == 0.0 {
            out.push(Root {
                x: xs[i],
                residual: 0.0,
                iterations: 0,
            });
            continue;
        }
        if i + 1 < xs.len() && vals[i + 1] != 0.0 && (vals[i] > 0.0) != (vals[i + 1] > 0.0) {
            out.push(brent(
                &mut f,
                xs[i],
                xs[i + 1],
                vals[i],
                vals[i + 1],
                xtol,
                200,
            )?);
        }
    }
    Ok(out)
}

/// Memory timescale `ξ = −1/ln χ` of a linearised map with slope `χ`: `None` (infinite) when
/// `|χ| >= 1`. Written as `−1/ln_1p(χ − 1)` so that it stays accurate as `χ → 1`.
pub fn timescale(chi: f64) -> Option<f64> {
    let a = chi.abs();
    if a.is_nan() || a >= 1.0 {
        return None;
    }
    if a == 0.0 {
        return Some(0.0);
    }
    // ln_1p(χ − 1) near 1; ln χ itself far from it (χ − 1 rounds to −1 below 1e-16, which
    // gave ξ = 0 instead of −1/ln χ ≈ 0.003 at χ = 4e-151).
    Some(-1.0 / if a < 0.5 { a.ln() } else { (a - 1.0).ln_1p() })
}

/// Memory timescale from the gap `δ = 1 − χ` of a slope, for slopes so close to 1 that `χ`
/// itself rounds to 1 (saturated gates: `δ ~ e^{−μ_b}`): `ξ = −1/ln(1 − δ)`, computed as
/// `−1/ln_1p(−δ)` (≈ `1/δ`). `None` (infinite) for `δ <= 0`, i.e. `χ >= 1`; for `δ >= 1`,
/// as [`timescale`] of `1 − δ`.
pub fn timescale_from_gap(gap: f64) -> Option<f64> {
    if gap.is_nan() || gap <= 0.0 {
        return None;
    }
    if gap < 1.0 {
        return Some(-1.0 / (-gap).ln_1p());
    }
    timescale(1.0 - gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brent_finds_cubic_root() {
        let f = |x: f64| Ok(x * x * x - 2.0 * x - 5.0);
        let r = brent(f, 2.0, 3.0, -1.0, 16.0, 1e-15, 100).unwrap();
        assert!((r.x - 2.094_551_481_542_326_5).abs() < 1e-14, "{}", r.x);
        assert!(r.iterations < 20);
    }

    #[test]
    fn brent_out_of_iterations_is_an_error_with_diagnostics() {
        // A function Brent cannot finish in 3 evaluations on [0, 1] at full precision.
        let f = |x: f64| Ok((x - 0.123_456_789).powi(3));
        let (fa, fb) = (
            (-0.123_456_789f64).powi(3),
            (1.0f64 - 0.123_456_789).powi(3),
        );
        match brent(f, 0.0, 1.0, fa, fb, 0.0, 3) {
            Err(Error::NoConvergence {
                solver,
                iterations,
                residual,
                ..
            }) => {
                assert_eq!(solver, "Brent root finder");
                assert_eq!(iterations, 3);
                assert!(residual.is_finite() && residual > 0.0);
            }
            other => panic!("expected NoConvergence, got {other:?}"),
        }
        // The same problem with a normal budget converges.
        let r = brent(f, 0.0, 1.0, fa, fb, 0.0, 200).unwrap();
        assert!((r.x - 0.123_456_789).abs() < 1e-5, "{}", r.x);
    }

    #[test]
    fn grid_scan_finds_all_roots() {
        let f = |x: f64| Ok((x - 0.1) * (x - 0.5) * (x - 0.9));
        let xs: Vec<f64> = (0..=20).map(|i| f64::from(i) / 20.0).collect();
        let r = roots_on_grid(f, &xs, 1e-14).unwrap();
        let got: Vec<f64> = r.iter().map(|r| r.x).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        for (g, e) in got.iter().zip([0.1, 0.5, 0.9]) {
            assert!((g - e).abs() < 1e-13);
        }
    }

    #[test]
    fn timescale_from_a_tiny_gap() {
        // χ = 1 − 4e-22 rounds to 1; the gap keeps ξ ≈ 1/δ = 2.5e21.
        let xi = timescale_from_gap(4e-22).unwrap();
        assert!((xi - 2.5e21).abs() < 1e-12 * 2.5e21, "{xi}");
        assert_eq!(timescale_from_gap(0.0), None);
        assert_eq!(timescale_from_gap(-1e-3), None);
        assert!((timescale_from_gap(0.5).unwrap() - timescale(0.5).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn timescale_near_one() {
        assert_eq!(timescale(1.0), None);
        assert_eq!(timescale(1.5), None);
        let chi = 1.0 - 1e-12;
        let xi = timescale(chi).unwrap();
        assert!((xi - 1e12).abs() < 1e-3 * 1e12, "{xi}");
        assert!((timescale(0.5).unwrap() - 1.0 / std::f64::consts::LN_2).abs() < 1e-15);
        // Far below 1: −1/ln χ, not −1/ln_1p(χ − 1) (which rounds to 0).
        let tiny = 4e-151;
        assert!((timescale(tiny).unwrap() + 1.0 / f64::ln(tiny)).abs() < 1e-17);
        assert!(timescale(tiny).unwrap() > 0.0028);
    }
}
