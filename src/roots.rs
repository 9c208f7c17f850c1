//! Scalar root finding and fixed-point iteration: bracketed Brent iteration, "all roots on an
//! interval" by a sign scan, and the iteration `x ← g(x)`, used for every fixed point in
//! mfrnn. Results carry residuals, iteration counts and why the solver stopped
//! ([`Termination`]); the settings are parameter structs with [`Default`]s
//! ([`BrentParams`], [`IterationParams`]), so that no cap is hidden in a call.

use serde::Serialize;

use crate::error::{Error, Result};

/// Why an iterative solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Termination {
    /// The tolerance was met.
    Converged,
    /// The function vanished exactly at the returned point.
    ExactZero,
    /// The iteration cap was spent before the tolerance was met.
    MaxIterations,
    /// The bracket holds no sign change (the endpoints have the same sign, or `f` returned
    /// NaN inside it).
    BracketLost,
    /// An iterate left the range of double precision (infinite or NaN).
    NotFinite,
}

impl Termination {
    /// Whether the result meets its tolerance ([`Termination::Converged`] or
    /// [`Termination::ExactZero`]).
    pub fn is_success(self) -> bool {
        matches!(self, Termination::Converged | Termination::ExactZero)
    }

    /// Name (`converged`, `exact-zero`, `max-iterations`, `bracket-lost`, `not-finite`).
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::ExactZero => "exact-zero",
            Termination::MaxIterations => "max-iterations",
            Termination::BracketLost => "bracket-lost",
            Termination::NotFinite => "not-finite",
        }
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refined root of a scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Root {
    /// The root (the best point found when the search did not converge).
    pub x: f64,
    /// `|f(x)|` at the returned point.
    pub residual: f64,
    /// Function evaluations spent refining it.
    pub iterations: usize,
    /// Why the search stopped.
    pub termination: Termination,
}

impl Root {
    /// An exact zero of `f` at `x` found without refinement (a grid point).
    pub fn exact(x: f64) -> Root {
        Root {
            x,
            residual: 0.0,
            iterations: 0,
            termination: Termination::ExactZero,
        }
    }
}

/// Settings of [`brent_with`] and [`roots_on_grid_with`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BrentParams {
    /// Absolute tolerance on the root (the bracket's half-width is also allowed `2ε|x|`).
    /// Default 0: full double precision.
    pub xtol: f64,
    /// Largest number of function evaluations. Default 200 (Brent needs at most about
    /// `(log₂((b − a)/tol))²`, and far fewer on the smooth maps of mfrnn: below 60 in the test
    /// suite).
    pub max_iter: usize,
}

impl Default for BrentParams {
    fn default() -> Self {
        BrentParams {
            xtol: 0.0,
            max_iter: 200,
        }
    }
}

impl BrentParams {
    /// These settings with absolute tolerance `xtol`.
    #[must_use]
    pub fn xtol(mut self, xtol: f64) -> Self {
        self.xtol = xtol;
        self
    }

    /// These settings with at most `max_iter` evaluations.
    #[must_use]
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }
}

/// Brent's method on a bracket `[a, b]` with `f(a)·f(b) <= 0` (`fa`, `fb` the values there);
/// stops when the bracket is below `xtol` (absolute, plus 2ε|x|) or `f` vanishes. Returns the
/// endpoint of smaller `|f|`. As [`brent_with`] with `BrentParams { xtol, max_iter }`.
///
/// # Errors
/// As [`brent_with`].
pub fn brent<F: FnMut(f64) -> Result<f64>>(
    f: F,
    a: f64,
    b: f64,
    fa: f64,
    fb: f64,
    xtol: f64,
    max_iter: usize,
) -> Result<Root> {
    brent_with(f, a, b, fa, fb, &BrentParams { xtol, max_iter })
}

/// Brent's method as [`brent_search`], with a search that does not meet its tolerance
/// turned into an error.
///
/// # Errors
/// [`Error::NoConvergence`] with the evaluations spent, `|f|` at the best point and, in
/// `detail`, the [`Termination`] and the bracket: the cap of `params.max_iter` evaluations
/// spent before the bracket shrank to the tolerance (never silently the last iterate), or
/// a bracket without a sign change; [`Error`]s of `f`.
pub fn brent_with<F: FnMut(f64) -> Result<f64>>(
    f: F,
    a: f64,
    b: f64,
    fa: f64,
    fb: f64,
    params: &BrentParams,
) -> Result<Root> {
    let (root, detail) = brent_core(f, a, b, fa, fb, params)?;
    if root.termination.is_success() {
        Ok(root)
    } else {
        Err(Error::NoConvergence {
            solver: "Brent root finder",
            iterations: root.iterations,
            residual: root.residual,
            detail,
        })
    }
}

/// Brent's method on `[a, b]` that always returns its best point with the reason it stopped
/// ([`Root::termination`]): [`Termination::Converged`] or [`Termination::ExactZero`] on
/// success, [`Termination::MaxIterations`] when `params.max_iter` evaluations did not shrink
/// the bracket to the tolerance, [`Termination::BracketLost`] when `fa`, `fb` have the same
/// sign or `f` returns NaN inside the bracket.
///
/// # Errors
/// Only the [`Error`]s of `f`.
pub fn brent_search<F: FnMut(f64) -> Result<f64>>(
    f: F,
    a: f64,
    b: f64,
    fa: f64,
    fb: f64,
    params: &BrentParams,
) -> Result<Root> {
    Ok(brent_core(f, a, b, fa, fb, params)?.0)
}

/// The search, with a description of the bracket for an error.
fn brent_core<F: FnMut(f64) -> Result<f64>>(
    mut f: F,
    mut a: f64,
    mut b: f64,
    mut fa: f64,
    mut fb: f64,
    params: &BrentParams,
) -> Result<(Root, String)> {
    let xtol = params.xtol;
    let mut iterations = 0;
    if fa == 0.0 {
        return Ok((Root::exact(a), String::new()));
    }
    if fb == 0.0 {
        return Ok((Root::exact(b), String::new()));
    }
    let lost = |x: f64, fx: f64, iterations: usize, why: String| {
        (
            Root {
                x,
                residual: fx.abs(),
                iterations,
                termination: Termination::BracketLost,
            },
            format!("bracket lost: {why}"),
        )
    };
    if fa.is_nan() || fb.is_nan() || (fa > 0.0) == (fb > 0.0) {
        let (x, fx) = if fa.abs() <= fb.abs() {
            (a, fa)
        } else {
            (b, fb)
        };
        return Ok(lost(
            x,
            fx,
            0,
            format!("f({a:e}) = {fa:e} and f({b:e}) = {fb:e} have no sign change"),
        ));
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    while iterations < params.max_iter {
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
            let termination = if fb == 0.0 {
                Termination::ExactZero
            } else {
                Termination::Converged
            };
            return Ok((
                Root {
                    x: b,
                    residual: fb.abs(),
                    iterations,
                    termination,
                },
                String::new(),
            ));
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
        if fb.is_nan() {
            // The last point with a number: the previous iterate.
            return Ok(lost(
                a,
                fa,
                iterations,
                format!(
                    "f({b:e}) is NaN inside the bracket [{:e}, {:e}]",
                    a.min(c),
                    a.max(c)
                ),
            ));
        }
    }
    Ok((
        Root {
            x: b,
            residual: fb.abs(),
            iterations,
            termination: Termination::MaxIterations,
        },
        format!(
            "{} evaluations: bracket [{:e}, {:e}] still wider than the tolerance {:e}",
            params.max_iter,
            b.min(c),
            b.max(c),
            2.0 * f64::EPSILON * b.abs() + 0.5 * xtol
        ),
    ))
}

/// All sign changes of `f` on the sorted grid `xs`, each refined by Brent's method; exact
/// zeros at grid points are roots too. Tangential (even-multiplicity) roots between grid
/// points are not detected: callers choose grids fine enough for their maps. As
/// [`roots_on_grid_with`] with the default [`BrentParams`] and tolerance `xtol`.
///
/// # Errors
/// As [`roots_on_grid_with`].
pub fn roots_on_grid<F: FnMut(f64) -> Result<f64>>(
    f: F,
    xs: &[f64],
    xtol: f64,
) -> Result<Vec<Root>> {
    roots_on_grid_with(f, xs, &BrentParams::default().xtol(xtol))
}

/// [`roots_on_grid`] with explicit Brent settings.
///
/// # Errors
/// [`Error::NoConvergence`] from [`brent_with`] for a sign change it cannot refine;
/// [`Error`]s of `f`.
pub fn roots_on_grid_with<F: FnMut(f64) -> Result<f64>>(
    mut f: F,
    xs: &[f64],
    params: &BrentParams,
) -> Result<Vec<Root>> {
    let mut vals = Vec::with_capacity(xs.len());
    for &x in xs {
        vals.push(f(x)?);
    }
    let mut out: Vec<Root> = Vec::new();
    for i in 0..xs.len() {
        if vals[i] == 0.0 {
            out.push(Root::exact(xs[i]));
            continue;
        }
        if i + 1 < xs.len() && vals[i + 1] != 0.0 && (vals[i] > 0.0) != (vals[i + 1] > 0.0) {
            out.push(brent_with(
                &mut f,
                xs[i],
                xs[i + 1],
                vals[i],
                vals[i + 1],
                params,
            )?);
        }
    }
    Ok(out)
}

/// Settings of [`iterate`]: stop when `|g(x) − x| <= abs_tol + rel_tol·max(|g(x)|, 1e-300)`,
/// or after `max_iter` applications of `g`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IterationParams {
    /// Relative tolerance. Default 1e-13.
    pub rel_tol: f64,
    /// Absolute tolerance. Default 0.
    pub abs_tol: f64,
    /// Largest number of applications of the map. Default 20 000 (a contraction with slope
    /// `χ` needs about `30/(1 − χ)` steps: the default covers `χ` up to 0.998).
    pub max_iter: usize,
}

impl Default for IterationParams {
    fn default() -> Self {
        IterationParams {
            rel_tol: 1e-13,
            abs_tol: 0.0,
            max_iter: 20_000,
        }
    }
}

/// The last iterate of [`iterate`] and why it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Iterate {
    /// The last iterate (`g` of the one before; the last finite one for
    /// [`Termination::NotFinite`]).
    pub x: f64,
    /// `|x − x_prev|` of the last step.
    pub step: f64,
    /// Applications of the map.
    pub iterations: usize,
    /// [`Termination::Converged`], [`Termination::MaxIterations`] or
    /// [`Termination::NotFinite`].
    pub termination: Termination,
}

/// The fixed-point iteration `x ← g(x)` from `x0` (the dynamics of a mean-field map), with
/// the reason it stopped; the caller decides what an unconverged iterate is worth.
///
/// # Errors
/// Only the [`Error`]s of `g`.
pub fn iterate<G: FnMut(f64) -> Result<f64>>(
    mut g: G,
    x0: f64,
    params: &IterationParams,
) -> Result<Iterate> {
    let mut x = x0;
    let mut step = f64::INFINITY;
    for k in 1..=params.max_iter {
        let next = g(x)?;
        if !next.is_finite() {
            return Ok(Iterate {
                x,
                step,
                iterations: k,
                termination: Termination::NotFinite,
            });
        }
        step = (next - x).abs();
        x = next;
        if step <= params.abs_tol + params.rel_tol * next.abs().max(1e-300) {
            return Ok(Iterate {
                x,
                step,
                iterations: k,
                termination: Termination::Converged,
            });
        }
    }
    Ok(Iterate {
        x,
        step,
        iterations: params.max_iter,
        termination: Termination::MaxIterations,
    })
}

/// Geometric bisection of a predicate on `0 < lo < hi`, true at `lo`'s end and false at
/// `hi`'s: `halvings` steps at the geometric midpoint `√(lo·hi)`, keeping the end on each
/// side. Returns the final `(lo, hi)`: the transition lies between them, to a ratio
/// `(hi/lo)^(2^−halvings)` (a fixed resolution: no convergence test, nothing to miss).
pub(crate) fn bisect_geometric(
    mut below: impl FnMut(f64) -> bool,
    mut lo: f64,
    mut hi: f64,
    halvings: usize,
) -> (f64, f64) {
    for _ in 0..halvings {
        let mid = (lo * hi).sqrt();
        if below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo, hi)
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

    /// Geometric bisection keeps the transition bracketed and reaches the stated resolution
    /// `(hi/lo)^(2^−n)`: `x < √2` on `[1, 4]`, 50 halvings leave a ratio `4^(2^−50) − 1 ≈
    /// 1.2e-15` (asserted below 8ε ≈ 1.8e-15, for the rounding of the midpoints); and one
    /// halving is exactly the geometric midpoint.
    #[test]
    fn geometric_bisection_brackets_the_transition() {
        let s2 = 2f64.sqrt();
        let (lo, hi) = bisect_geometric(|x| x < s2, 1.0, 4.0, 50);
        assert!(lo < s2 && s2 <= hi, "{lo} {hi}");
        assert!(hi / lo - 1.0 < 8.0 * f64::EPSILON, "{}", hi / lo - 1.0);
        assert_eq!(bisect_geometric(|x| x < s2, 1.0, 4.0, 1), (1.0, 2.0));
    }

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

    #[test]
    fn brent_reports_converged_and_exact_zero() {
        let f = |x: f64| Ok(x * x * x - 2.0 * x - 5.0);
        let r = brent_search(f, 2.0, 3.0, -1.0, 16.0, &BrentParams::default()).unwrap();
        assert_eq!(r.termination, Termination::Converged);
        assert!(r.termination.is_success());
        // A zero at an endpoint, and one the secant step lands on exactly.
        let r = brent_search(Ok, 0.0, 1.0, 0.0, 1.0, &BrentParams::default()).unwrap();
        assert_eq!((r.x, r.termination), (0.0, Termination::ExactZero));
        let g = |x: f64| Ok(x - 0.5);
        let r = brent_search(g, 0.0, 1.0, -0.5, 0.5, &BrentParams::default()).unwrap();
        assert_eq!(
            (r.x, r.residual, r.termination),
            (0.5, 0.0, Termination::ExactZero)
        );
        assert_eq!(r.iterations, 1);
    }

    #[test]
    fn brent_reports_max_iterations_with_its_best_point() {
        let f = |x: f64| Ok((x - 0.123_456_789).powi(3));
        let (fa, fb) = (f(0.0).unwrap(), f(1.0).unwrap());
        let p = BrentParams::default().max_iter(3);
        let r = brent_search(f, 0.0, 1.0, fa, fb, &p).unwrap();
        assert_eq!(
            (r.termination, r.iterations),
            (Termination::MaxIterations, 3)
        );
        assert!(!r.termination.is_success());
        assert!(r.residual.is_finite() && r.x > 0.0 && r.x < 1.0, "{r:?}");
        match brent_with(f, 0.0, 1.0, fa, fb, &p) {
            Err(Error::NoConvergence { detail, .. }) => {
                assert!(detail.contains("3 evaluations"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // The grid scan passes its settings on.
        let xs = [0.0, 1.0];
        assert!(matches!(
            roots_on_grid_with(f, &xs, &p),
            Err(Error::NoConvergence { iterations: 3, .. })
        ));
        assert_eq!(roots_on_grid(f, &xs, 0.0).unwrap().len(), 1);
    }

    #[test]
    fn brent_reports_a_lost_bracket() {
        // No sign change between the endpoints.
        let r = brent_search(
            |x| Ok(x * x + 1.0),
            -1.0,
            2.0,
            2.0,
            5.0,
            &BrentParams::default(),
        )
        .unwrap();
        assert_eq!(
            (r.termination, r.x, r.iterations),
            (Termination::BracketLost, -1.0, 0)
        );
        // f turns NaN inside the bracket: the last point with a number, and the error says so.
        let f = |x: f64| Ok(if x > 0.3 { f64::NAN } else { x - 0.9 });
        let r = brent_search(f, 0.0, 1.0, -0.9, 0.1, &BrentParams::default()).unwrap();
        assert_eq!(r.termination, Termination::BracketLost);
        assert!(r.residual.is_finite(), "{r:?}");
        match brent_with(f, 0.0, 1.0, -0.9, 0.1, &BrentParams::default()) {
            Err(Error::NoConvergence { detail, .. }) => {
                assert!(detail.starts_with("bracket lost"), "{detail}");
                assert!(detail.contains("NaN"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Termination::BracketLost.as_str(), "bracket-lost");
    }

    #[test]
    fn iteration_reports_converged_max_iterations_and_not_finite() {
        // x ← cos x converges to the Dottie number 0.739085133215160...
        let p = IterationParams::default();
        let it = iterate(|x| Ok(x.cos()), 1.0, &p).unwrap();
        assert_eq!(it.termination, Termination::Converged);
        assert!((it.x - 0.739_085_133_215_160_6).abs() < 1e-12, "{it:?}");
        assert!(it.step <= 1e-13 * it.x && it.iterations < 200);
        // The same with a cap of 5 steps: the fifth iterate, unconverged.
        let it = iterate(|x| Ok(x.cos()), 1.0, &IterationParams { max_iter: 5, ..p }).unwrap();
        assert_eq!(
            (it.termination, it.iterations),
            (Termination::MaxIterations, 5)
        );
        let mut x = 1.0f64;
        for _ in 0..5 {
            x = x.cos();
        }
        assert_eq!(it.x, x);
        // x ← x² from 2 overflows at step 10 (2^1024): the last finite iterate is 2^512.
        let it = iterate(|x| Ok(x * x), 2.0, &p).unwrap();
        assert_eq!(
            (it.termination, it.iterations),
            (Termination::NotFinite, 10)
        );
        assert_eq!(it.x, 2f64.powi(512));
        // An absolute tolerance stops an iteration that only creeps.
        let abs = IterationParams {
            rel_tol: 0.0,
            abs_tol: 1e-3,
            max_iter: 10_000,
        };
        let it = iterate(|x| Ok(0.999 * x), 1.0, &abs).unwrap();
        assert_eq!(it.termination, Termination::Converged);
        assert!(it.step <= 1e-3);
    }
}
