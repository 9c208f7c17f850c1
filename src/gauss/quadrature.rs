//! Globally adaptive 21-point Gauss–Kronrod quadrature on a list of panels: the robust
//! method for kinks, unknown integrands and very large variances. (The trapezoid rule for
//! analytic integrands is in [`super::trapezoid`].)

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::special::{WG, WGK, XGK};
use crate::error::{Error, Result};

/// Result of one quadrature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuadResult {
    pub value: f64,
    pub error: f64,
    pub evals: usize,
    pub converged: bool,
}

#[inline]
fn check(x: f64, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::NonFiniteIntegrand { at: x, value: v })
    }
}

/// A Gauss–Kronrod panel with its QUADPACK-style error estimate.
#[derive(Debug, Clone, Copy)]
struct Panel {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
    /// `∫|f|` on the panel (for the rounding floor).
    resabs: f64,
}

impl PartialEq for Panel {
    fn eq(&self, other: &Self) -> bool {
        self.error.total_cmp(&other.error) == Ordering::Equal
    }
}
impl Eq for Panel {}
impl PartialOrd for Panel {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Panel {
    fn cmp(&self, other: &Self) -> Ordering {
        self.error.total_cmp(&other.error)
    }
}

/// 21-point Kronrod panel on `[a, b]`, error from the embedded 10-point Gauss rule
/// (QUADPACK `qk21` estimate: pessimistic by design).
fn gk21<F: FnMut(f64) -> f64>(f: &mut F, a: f64, b: f64) -> Result<Panel> {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = check(c, f(c))?;
    let mut resk = WGK[10] * fc;
    let mut resg = 0.0;
    let mut resabs = resk.abs();
    let mut fv1 = [0.0; 10];
    let mut fv2 = [0.0; 10];
    for i in 0..10 {
        let dx = h * XGK[i];
        let x1 = c - dx;
        let x2 = c + dx;
        let f1 = check(x1, f(x1))?;
        let f2 = check(x2, f(x2))?;
        fv1[i] = f1;
        fv2[i] = f2;
        resk += WGK[i] * (f1 + f2);
        resabs += WGK[i] * (f1.abs() + f2.abs());
        if i % 2 == 1 {
            resg += WG[i / 2] * (f1 + f2);
        }
    }
    let mean = 0.5 * resk;
    let mut resasc = WGK[10] * (fc - mean).abs();
    for i in 0..10 {
        resasc += WGK[i] * ((fv1[i] - mean).abs() + (fv2[i] - mean).abs());
    }
    let hl = h.abs();
    let resk = resk * h;
    let resabs = resabs * hl;
    let resasc = resasc * hl;
    let mut err = ((resk - resg * h) * 1.0).abs();
    if resasc != 0.0 && err != 0.0 {
        err = resasc * (200.0 * err / resasc).powf(1.5).min(1.0);
    }
    Ok(Panel {
        a,
        b,
        value: resk,
        error: err,
        resabs,
    })
}

/// Globally adaptive Gauss–Kronrod over consecutive panels `points[0]..points[1]..`.
///
/// Bisects the panel with the largest error until the summed error estimate is below
/// `max(abs_tol, rel_tol·|I|)` — or below the rounding floor `10 ε ∫|f|`, which no
/// quadrature can beat — or `max_panels` is reached (then `converged = false`). The
/// reported error includes a rounding term `2 ε ∫|f|`.
#[cfg(test)]
pub(crate) fn adaptive<F: FnMut(f64) -> f64>(
    f: F,
    points: &[f64],
    abs_tol: f64,
    rel_tol: f64,
    max_panels: usize,
) -> Result<QuadResult> {
    adaptive_with_floor(f, points, abs_tol, rel_tol, max_panels, &|| 0.0)
}

/// [`adaptive`] for an integrand that is itself computed with an error: `noise()` (read at
/// every check) bounds the error of the integral that comes from the integrand's own
/// errors, and no subdivision can get below it — so it is accepted as a floor instead of
/// bisecting until `max_panels` (a nested quadrature of a tiny integral spent 10⁸
/// evaluations that way).
pub(crate) fn adaptive_with_floor<F: FnMut(f64) -> f64>(
    mut f: F,
    points: &[f64],
    abs_tol: f64,
    rel_tol: f64,
    max_panels: usize,
    noise: &dyn Fn() -> f64,
) -> Result<QuadResult> {
    let mut heap = BinaryHeap::new();
    let mut done: Vec<Panel> = Vec::new();
    let mut evals = 0;
    for w in points.windows(2) {
        if w[1] > w[0] {
            heap.push(gk21(&mut f, w[0], w[1])?);
            evals += 21;
        }
    }
    let total = |heap: &BinaryHeap<Panel>, done: &[Panel]| {
        let mut v = 0.0;
        let mut e = 0.0;
        let mut l1 = 0.0;
        for p in heap.iter().chain(done.iter()) {
            v += p.value;
            e += p.error;
            l1 += p.resabs;
        }
        (v, e, l1)
    };
    let (mut value, mut error, mut l1) = total(&heap, &done);
    let mut converged = false;
    loop {
        let floor = (10.0 * f64::EPSILON * l1).max(noise());
        if error <= abs_tol.max(rel_tol * value.abs()).max(floor) {
            converged = true;
            break;
        }
        if heap.len() + done.len() >= max_panels {
            break;
        }
        let Some(worst) = heap.pop() else {
            break;
        };
        let mid = 0.5 * (worst.a + worst.b);
        // A panel that can no longer be split in floating point is final.
        if mid <= worst.a || mid >= worst.b {
            done.push(worst);
            continue;
        }
        let l = gk21(&mut f, worst.a, mid)?;
        let r = gk21(&mut f, mid, worst.b)?;
        evals += 42;
        value += l.value + r.value - worst.value;
        error += l.error + r.error - worst.error;
        l1 += l.resabs + r.resabs - worst.resabs;
        heap.push(l);
        heap.push(r);
        // Running sums drift; refresh them now and then.
        if (heap.len() + done.len()).is_multiple_of(64) {
            (value, error, l1) = total(&heap, &done);
        }
    }
    let (v, e, l1) = total(&heap, &done);
    Ok(QuadResult {
        value: v,
        error: e + 2.0 * f64::EPSILON * l1,
        evals,
        converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gk21_is_exact_for_degree_31() {
        let p = gk21(&mut |x: f64| x.powi(30) + x.powi(31), 0.0, 1.0).unwrap();
        let exact = 1.0 / 31.0 + 1.0 / 32.0;
        assert!((p.value - exact).abs() < 1e-15, "{}", p.value - exact);
    }

    #[test]
    fn adaptive_handles_a_kink() {
        // ∫_{-1}^{2} |x - 0.3| dx split only at the ends: must still converge.
        let r = adaptive(|x: f64| (x - 0.3).abs(), &[-1.0, 2.0], 1e-14, 1e-14, 500).unwrap();
        let exact = 0.5 * 1.3f64.powi(2) + 0.5 * 1.7f64.powi(2);
        assert!(r.converged);
        assert!((r.value - exact).abs() < 1e-13, "{}", r.value - exact);
    }
}
