//! Gaussian expectations at large variance through the saturation limit (G.14).
//!
//! Every built-in activation tends, away from a transition region of width O(1) around
//! `x = 0`, to a piecewise polynomial: tanh and erf to `sign x`, the logistic sigmoid to
//! the step `H(x)`, softplus to `max(0, x)`, their derivatives to the derivatives of those
//! limits (zero for the bumps φ', φ''). For an integrand `f` built from such factors write
//! `f = p + r` with `p` the piecewise-polynomial limit and `r` the remainder, which is
//! negligible (below 1e-25 of the scale) outside windows `W` of half-width `L` around the
//! transitions. Then, exactly,
//!
//! - `E[f(u)] = E[p(u)] + ∫_W r(x) N(x; μ, q) dx`,
//! - `E[f(u) g(v)] = E[f(u) p_g(v)] + E[f(u) r_g(v)]`,
//!
//! where `E[p(u)]` is a sum of truncated normal moments, `E[f(u) p_g(v)]` is the
//! conditional method with an exact inner expectation, and the last term is an integral over
//! `v` in the narrow windows of `r_g` only, with `E[f(u) | v]` by this module's 1-D rule.
//! At variance `q` the windows occupy `2L/√q` of the `z`-range, which is what makes the
//! decomposition cheap exactly where the direct methods (whose node count grows like `√q`)
//! are expensive. It is an identity, not an asymptotic expansion: its accuracy does not
//! depend on `q`. `tests/expect_properties.rs` checks it against the direct methods at
//! moderate variance and against the limits at huge variance.

use std::cell::Cell;

use super::fun::{Factor, Source};
use super::{BivariateNormal, Expectation, Fun, Integrator, Method, Normal};
use crate::activation::{Builtin, Deriv};
use crate::error::{Error, Result};
use crate::gauss::piecewise::Piecewise;
use crate::gauss::quadrature::{QuadResult, adaptive_with_floor};
use crate::gauss::special::norm_pdf;

/// Checks one window's adaptive integral of the saturation remainder: it must have converged
/// or have an error below 1e-8 of its value (1e-15 absolute near zero).
///
/// # Errors
/// [`Error::Integration`] with the estimate, its error and the evaluations spent.
fn accept_window(r: &QuadResult) -> Result<()> {
    if !r.converged && r.error > 1e-8 * r.value.abs().max(1e-7) {
        return Err(Error::Integration {
            method: "saturation remainder (adaptive Gauss-Kronrod)",
            estimate: r.value,
            error_estimate: r.error,
            evaluations: r.evals,
        });
    }
    Ok(())
}

/// Standard deviation (in the variable of the activation, whose transitions are O(1) wide)
/// from which [`expect_1d`] is preferred to the engine's trapezoid rule.
pub(crate) const SAT_MIN_SD: f64 = 50.0;

/// The saturation form `f = limit + r` of an integrand: `r` is negligible outside `windows`.
#[derive(Debug, Clone)]
pub(crate) struct SatForm {
    /// The piecewise-polynomial limit (including the coefficient of `f`).
    pub limit: Piecewise,
    /// Sorted, disjoint intervals outside which `|f − limit|` is negligible.
    pub windows: Vec<(f64, f64)>,
    /// Transition points (where `r` may jump or peak), inside the windows.
    pub centers: Vec<f64>,
}

impl SatForm {
    /// True when `f` equals its limit (no windows): the piecewise methods apply directly.
    pub fn is_exact(&self) -> bool {
        self.windows.is_empty()
    }

    /// Total width of the windows (in the variable of `f`).
    pub fn width(&self) -> f64 {
        self.windows.iter().map(|w| w.1 - w.0).sum()
    }
}

/// `(limit, L)` of one built-in derivative: `|φ^{(d)}(x) − limit(x)|` is below 1e-25 times
/// `(1 + |x|)^k` for `|x| > L` (tanh − sign = −sign·2e^{−2|x|}/(1+e^{−2|x|}), σ − H =
/// ±e^{−|x|}/(1+e^{−|x|}), softplus − relu = ln(1 + e^{−|x|}), erfc(|x|) < e^{−x²}); `L` is
/// generous so that products and powers of factors stay below rounding.
fn builtin_limit(b: Builtin, d: Deriv) -> Option<(Piecewise, f64)> {
    let sign = || Piecewise {
        breaks: vec![0.0],
        pieces: vec![vec![-1.0], vec![1.0]],
    };
    let step = || Piecewise {
        breaks: vec![0.0],
        pieces: vec![vec![], vec![1.0]],
    };
    let zero = || Piecewise::constant(0.0);
    let relu = || Piecewise {
        breaks: vec![0.0],
        pieces: vec![vec![], vec![0.0, 1.0]],
    };
    use Deriv::*;
    Some(match (b, d) {
        (Builtin::Tanh, Phi) => (sign(), 36.0),
        (Builtin::Tanh, DPhi | DDPhi) => (zero(), 36.0),
        (Builtin::Erf, Phi) => (sign(), 10.0),
        (Builtin::Erf, DPhi | DDPhi) => (zero(), 10.0),
        (Builtin::Sigmoid, Phi) => (step(), 72.0),
        (Builtin::Sigmoid, DPhi | DDPhi) => (zero(), 72.0),
        (Builtin::Softplus, Phi) => (relu(), 72.0),
        (Builtin::Softplus, DPhi) => (step(), 72.0),
        (Builtin::Softplus, DDPhi) => (zero(), 72.0),
        (Builtin::Relu | Builtin::Linear | Builtin::HardTanh, _) => return None,
    })
}

/// The saturation form of `f`, when every factor is a built-in activation derivative (or
/// exactly piecewise polynomial); `None` for closures and custom activations.
pub(crate) fn sat_form(f: &Fun) -> Option<SatForm> {
    let mut limit = Piecewise::constant(f.coef);
    let mut windows = Vec::new();
    let mut centers = Vec::new();
    for fa in &f.factors {
        let Factor {
            src,
            power,
            shift,
            slope,
        } = fa;
        let Source::Act(a, d) = src else {
            return None;
        };
        let (p, half) = match a.builtin().and_then(|b| builtin_limit(b, *d)) {
            Some(x) => x,
            None => (a.piecewise(*d)?, 0.0),
        };
        let p = p.powi(*power).compose_affine(*shift, *slope);
        limit = limit.mul(&p);
        if half > 0.0 {
            let c = -shift / slope;
            let w = half / slope.abs();
            if !(c.is_finite() && w.is_finite()) {
                return None;
            }
            windows.push((c - w, c + w));
            centers.push(c);
        }
    }
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for w in windows {
        match merged.last_mut() {
            Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
            _ => merged.push(w),
        }
    }
    centers.sort_by(f64::total_cmp);
    centers.dedup();
    Some(SatForm {
        limit,
        windows: merged,
        centers,
    })
}

/// The remainder `r = f − limit` at `x`.
#[inline]
fn remainder(f: &Fun, s: &SatForm, x: f64) -> f64 {
    f.eval(x) - s.limit.eval(x)
}

/// `E[f(u)]`, `u ~ N(mean, var)`, `var > 0`, from the saturation form (G.14): the exact
/// expectation of the limit plus the remainder integrated over the windows in `x`.
pub(crate) fn expect_1d(
    eng: &Integrator,
    f: &Fun,
    s: &SatForm,
    mean: f64,
    var: f64,
) -> Result<Expectation> {
    let (pv, pe) = s.limit.gaussian_expectation(mean, var);
    let sd = var.sqrt();
    let density = |x: f64| norm_pdf((x - mean) / sd) / sd;
    // Tolerance relative to the whole expectation, not to the (small) remainder, and the
    // engine's absolute floor (the limit part is itself a difference of O(1) terms). When
    // the limit is identically zero (bumps such as φ'² or (u − μ)φφ', whose expectations
    // are O(q^{-1/2}) and get multiplied by σ_w² ~ q in the maps' slopes): relative to the
    // remainder itself; the quadrature's rounding floor stops it at a zero.
    let abs_tol = if s.limit.pieces.iter().all(Vec::is_empty) {
        0.0
    } else {
        eng.abs_tol.max(eng.rel_tol * pv.abs())
    };
    let mut value = pv;
    let mut error = pe;
    let mut evals = 0;
    for &(lo, hi) in &s.windows {
        // Skip windows where the Gaussian is below underflow over the whole window.
        let zlo = (lo - mean) / sd;
        let zhi = (hi - mean) / sd;
        if zlo > 40.0 || zhi < -40.0 {
            continue;
        }
        let mut pts = vec![lo, hi];
        for &c in &s.centers {
            if c > lo && c < hi {
                pts.push(c);
                // Geometric layers around the transition (width O(1) in x).
                let mut d = 0.5;
                while d < hi - lo {
                    pts.push(c - d);
                    pts.push(c + d);
                    d *= 4.0;
                }
            }
        }
        // A Gaussian narrower than the window: layers around its mean.
        if sd < hi - lo && mean > lo - 40.0 * sd && mean < hi + 40.0 * sd {
            pts.push(mean);
            let mut d = sd;
            while d < hi - lo {
                pts.push(mean - d);
                pts.push(mean + d);
                d *= 4.0;
            }
        }
        pts.retain(|x| *x >= lo && *x <= hi);
        pts.sort_by(f64::total_cmp);
        pts.dedup();
        let r = adaptive_with_floor(
            |x| {
                let w = density(x);
                if w == 0.0 {
                    0.0
                } else {
                    remainder(f, s, x) * w
                }
            },
            &pts,
            abs_tol,
            eng.rel_tol,
            2000,
            &|| 0.0,
        )?;
        accept_window(&r)?;
        value += r.value;
        error += r.error;
        evals += r.evals;
    }
    Ok(Expectation {
        value,
        error_estimate: error + 4.0 * f64::EPSILON * value.abs(),
        method: Method::Saturated,
        evaluations: evals,
    })
}

/// `E[f(u) g(v)]` from the saturation form of `g` (or of `f`, swapping the roles) (G.14):
/// `E[f(u) p_g(v)]` by the conditional method with an exact inner expectation, plus
/// `E[f(u) r_g(v)]` over the windows of `r_g` with `E[f(u) | v]` inside. `None` when
/// neither factor has a saturation form with a remainder (nothing to gain).
pub(crate) fn expect_2d(
    eng: &Integrator,
    f: &Fun,
    g: &Fun,
    b: &BivariateNormal,
) -> Result<Option<Expectation>> {
    let sf = sat_form(f).filter(|s| !s.is_exact());
    let sg = sat_form(g).filter(|s| !s.is_exact());
    // Decompose the factor whose windows are the narrower part of its own z-range.
    let share = |s: &SatForm, var: f64| s.width() / var.sqrt();
    let swap = match (&sf, &sg) {
        (None, None) => return Ok(None),
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => share(x, b.var_u) < share(y, b.var_v),
    };
    let (f, g, b, sg) = if swap {
        (g, f, super::swap(b), sf.expect("checked above"))
    } else {
        (f, g, *b, sg.expect("checked above"))
    };
    let b = &b;
    let (su, sv, c) = (b.var_u.sqrt(), b.var_v.sqrt(), b.corr);
    // Term A: E[f(u) p_g(v)], exact inner.
    let a = eng.conditional_with(f, super::Inner::Exact(&sg.limit), b)?;
    // Term B: ∫ r_g(μ_v + σ_v z) E[f(u) | v] φ(z) dz over the windows of r_g.
    let s_cond = su * ((1.0 - c) * (1.0 + c)).sqrt();
    let slope = su * c; // d(conditional mean of u)/dz₂
    let sfu = sat_form(f).filter(|s| !s.is_exact());
    let inner_evals = Cell::new(0usize);
    let worst_inner = Cell::new(0.0f64);
    let failure: Cell<Option<Error>> = Cell::new(None);
    let integrand = |z: f64| -> f64 {
        let w = norm_pdf(z);
        if w == 0.0 {
            return 0.0;
        }
        let r = remainder(g, &sg, b.mean_v + sv * z);
        if r == 0.0 {
            return 0.0;
        }
        let m = b.mean_u + slope * z;
        let var = s_cond * s_cond;
        let inner = match &sfu {
            // Wide conditional law: the saturation form again (a few hundred evaluations,
            // where the engine's trapezoid grid would grow like s_cond); else the engine.
            Some(s) if s_cond >= SAT_MIN_SD => expect_1d(eng, f, s, m, var),
            _ => eng.expect(f, &Normal { mean: m, var }),
        };
        match inner {
            Ok(e) => {
                inner_evals.set(inner_evals.get() + e.evaluations);
                worst_inner.set(worst_inner.get().max((r * e.error_estimate).abs() * w));
                r * e.value * w
            }
            Err(e) => {
                failure.set(Some(e));
                f64::NAN
            }
        }
    };
    let mut value = a.value;
    let mut error = a.error_estimate;
    let mut evals = a.evaluations;
    let mut noise_total = 0.0;
    for &(lo, hi) in &sg.windows {
        let (zlo, zhi) = ((lo - b.mean_v) / sv, (hi - b.mean_v) / sv);
        if zlo > 40.0 || zhi < -40.0 {
            continue;
        }
        let (zlo, zhi) = (zlo.max(-40.0), zhi.min(40.0));
        let mut pts = vec![zlo, zhi];
        for &x in &sg.centers {
            let z = (x - b.mean_v) / sv;
            pts.push(z);
            let mut d = 0.5 / sv;
            while d < zhi - zlo {
                pts.push(z - d);
                pts.push(z + d);
                d *= 4.0;
            }
        }
        // Where E[f(u) | v] changes: the conditional mean crosses f's transitions, over a
        // z₂-width of about s_cond/|slope|.
        if slope != 0.0 {
            let width = (s_cond / slope.abs()).max(1e-300);
            let fcenters = sfu
                .as_ref()
                .map_or_else(|| f.centers(), |s| s.centers.clone());
            for x in fcenters.into_iter().chain(f.breakpoints()) {
                let z = (x - b.mean_u) / slope;
                if z > zlo - width && z < zhi + width {
                    pts.push(z);
                    let mut d = width;
                    while d < zhi - zlo {
                        pts.push(z - d);
                        pts.push(z + d);
                        d *= 4.0;
                    }
                }
            }
        }
        pts.retain(|x| x.is_finite() && *x >= zlo && *x <= zhi);
        pts.sort_by(f64::total_cmp);
        pts.dedup();
        // Each inner error enters weighted by |r| φ over a window of width zhi − zlo.
        let span = zhi - zlo;
        let noise = || worst_inner.get() * span;
        let abs_tol = eng.abs_tol.max(eng.rel_tol * a.value.abs());
        let r = adaptive_with_floor(integrand, &pts, abs_tol, eng.rel_tol, 2000, &noise);
        if let Some(e) = failure.take() {
            return Err(e);
        }
        let r = r?;
        accept_window(&r)?;
        value += r.value;
        error += r.error;
        evals += r.evals;
        noise_total += noise();
    }
    Ok(Some(Expectation {
        value,
        error_estimate: error + noise_total + 4.0 * f64::EPSILON * value.abs(),
        method: Method::Saturated,
        evaluations: evals + inner_evals.get(),
    }))
}
