//! Accuracy recipes: the expectation engine against its independent adaptive path, and the
//! finite-width error of the theories against simulated networks.

use std::time::Instant;

use serde::Serialize;

use crate::activation::Builtin;
use crate::cells::{Cell, CellKind, CellParams, Regime, RhoSchedule};
use crate::error::{Error, Result};
use crate::exact::{self, ExactConfig};
use crate::expect::{BivariateNormal, Expectation, Fun, Integrator, Normal, Strategy};
use crate::sim::{self, SimConfig};
use crate::stats::fit_inverse_width;

/// The one-dimensional integrands of [`engine_accuracy`] (in [`Fun::parse`] syntax); the
/// two-dimensional one is `E[φ(u) φ(v)]`.
pub const ENGINE_INTEGRANDS: [&str; 3] = ["phi^2", "dphi^2", "phi*ddphi"];

/// Where [`engine_accuracy`] evaluates the engine, for every built-in activation: each of
/// [`ENGINE_INTEGRANDS`] at every `(q, mean)`, and `E[φ(u) φ(v)]` at every `(q, c)` with the
/// common mean `bivariate_mean`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineGrid {
    /// Variances `q`.
    pub qs: Vec<f64>,
    /// Means of the one-dimensional Gaussians.
    pub means: Vec<f64>,
    /// Correlations `c` of the bivariate Gaussians.
    pub correlations: Vec<f64>,
    /// The mean of both coordinates of the bivariate Gaussians.
    pub bivariate_mean: f64,
}

/// One evaluation of the engine against the reference (the JSON keys of the report's
/// `accuracy.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineRow {
    /// The activation's name.
    pub activation: &'static str,
    /// The integrand.
    pub integrand: String,
    /// 1 or 2 (a bivariate expectation).
    pub dims: u8,
    /// The mean of the Gaussian.
    pub mean: f64,
    /// Its variance.
    pub q: f64,
    /// The correlation (bivariate rows).
    pub c: Option<f64>,
    /// The value of the automatic method choice ([`Integrator::default`]).
    pub value: f64,
    /// The method it chose.
    pub method: &'static str,
    /// Its own error estimate.
    pub error_estimate: f64,
    /// The value of the independent adaptive Gauss–Kronrod path ([`Strategy::Adaptive`]).
    pub reference_value: f64,
    /// The reference's method.
    pub reference_method: &'static str,
    /// `value − reference_value`.
    pub difference: f64,
    /// Wall-clock time of the automatic evaluation (machine-dependent, not a result).
    pub microseconds: f64,
}

impl EngineRow {
    /// `|value − reference|`.
    pub fn absolute_difference(&self) -> f64 {
        self.difference.abs()
    }

    /// `|value − reference| / |reference|` (the reference floored at `1e-300`; meaningless
    /// where the reference is 0 or near it — see [`EngineRow::mixed_error`]).
    pub fn relative_difference(&self) -> f64 {
        self.difference.abs() / self.reference_value.abs().max(1e-300)
    }

    /// The error relative to `|reference| + a` with `a = ENGINE_ABSOLUTE_SCALE = 1e-3`: the
    /// relative error where `|reference| ≫ a`, the absolute error (× 10³) where the reference
    /// is small or 0. `≤ 1e-12` is exactly the engine's promise checked by `tests/report.rs`,
    /// `|Δ| ≤ 1e-12 |reference| + 1e-15`.
    pub fn mixed_error(&self) -> f64 {
        self.difference.abs() / (self.reference_value.abs() + ENGINE_ABSOLUTE_SCALE)
    }
}

/// The absolute scale of [`EngineRow::mixed_error`].
pub const ENGINE_ABSOLUTE_SCALE: f64 = 1e-3;

/// The engine's accuracy on one activation ([`engine_summary`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineSummary {
    /// The activation's name.
    pub activation: &'static str,
    /// Rows evaluated.
    pub rows: usize,
    /// The methods the automatic choice used, in order of first use.
    pub methods: Vec<&'static str>,
    /// Rows where value and reference agree exactly.
    pub exact_agreements: usize,
    /// The largest [`EngineRow::mixed_error`].
    pub worst_mixed_error: f64,
    /// The row (index into the rows) where it occurs.
    pub worst_row: usize,
}

/// Per activation, in order of first appearance: how many rows, which methods, and the worst
/// [`EngineRow::mixed_error`].
pub fn engine_summary(rows: &[EngineRow]) -> Vec<EngineSummary> {
    let mut out: Vec<EngineSummary> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let k = match out.iter().position(|s| s.activation == r.activation) {
            Some(k) => k,
            None => {
                out.push(EngineSummary {
                    activation: r.activation,
                    rows: 0,
                    methods: Vec::new(),
                    exact_agreements: 0,
                    worst_mixed_error: f64::NEG_INFINITY,
                    worst_row: i,
                });
                out.len() - 1
            }
        };
        let s = &mut out[k];
        s.rows += 1;
        if !s.methods.contains(&r.method) {
            s.methods.push(r.method);
        }
        if r.difference == 0.0 {
            s.exact_agreements += 1;
        }
        if r.mixed_error() > s.worst_mixed_error {
            s.worst_mixed_error = r.mixed_error();
            s.worst_row = i;
        }
    }
    out
}

/// `f()` and the microseconds it took.
fn timed(f: impl FnOnce() -> Result<Expectation>) -> Result<(Expectation, f64)> {
    let t = Instant::now();
    let e = f()?;
    Ok((e, t.elapsed().as_secs_f64() * 1e6))
}

/// The row of an integrand at a Gaussian of `mean`, variance `q` and, for the 2-D rows,
/// correlation `c`: the automatic result `e` (taking `us` µs) against the reference `r`.
fn engine_row(
    activation: &'static str,
    integrand: String,
    (mean, q, c): (f64, f64, Option<f64>),
    (e, us): (Expectation, f64),
    r: &Expectation,
) -> EngineRow {
    EngineRow {
        activation,
        integrand,
        dims: if c.is_some() { 2 } else { 1 },
        mean,
        q,
        c,
        value: e.value,
        method: e.method.as_str(),
        error_estimate: e.error_estimate,
        reference_value: r.value,
        reference_method: r.method.as_str(),
        difference: e.value - r.value,
        microseconds: us,
    }
}

/// The automatic method choice against the adaptive path on `grid`, for every built-in
/// activation (rows in the order activation, integrand, `q`, mean or `c`).
///
/// # Errors
/// Errors of the engine (invalid Gaussians in `grid`, failed integrations).
pub fn engine_accuracy(grid: &EngineGrid) -> Result<Vec<EngineRow>> {
    let auto = Integrator::default();
    let reference = Integrator::with_strategy(Strategy::Adaptive);
    let mut rows = Vec::new();
    for b in Builtin::ALL {
        let act = b.arc();
        for spec in ENGINE_INTEGRANDS {
            let f = Fun::parse(spec, &act)?;
            for &q in &grid.qs {
                for &m in &grid.means {
                    let n = Normal::new(m, q)?;
                    let got = timed(|| auto.expect(&f, &n))?;
                    let r = reference.expect(&f, &n)?;
                    rows.push(engine_row(
                        b.as_str(),
                        spec.to_string(),
                        (m, q, None),
                        got,
                        &r,
                    ));
                }
            }
        }
        let f = Fun::phi(&act);
        for &q in &grid.qs {
            for &c in &grid.correlations {
                let bn = BivariateNormal::equal(grid.bivariate_mean, q, c)?;
                let got = timed(|| auto.expect2(&f, &f, &bn))?;
                let r = reference.expect2(&f, &f, &bn)?;
                rows.push(engine_row(
                    b.as_str(),
                    "phi(u)*phi(v)".into(),
                    (grid.bivariate_mean, q, Some(c)),
                    got,
                    &r,
                ));
            }
        }
    }
    Ok(rows)
}

/// The infinite-width theory a finite-width study compares against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference {
    /// The mean-field recursion (deterministic: no standard error).
    MeanField,
    /// The exact theory sampled with these settings, tied weights and frozen bias as in the
    /// simulated networks (its standard error joins the comparison's).
    Exact(ExactConfig),
}

/// The simulated networks of a finite-width study: at width `widths[k]`, `networks` networks
/// of `batch` sequence pairs with seed `first_seed + k` (Gaussian `W`, tied, frozen bias).
#[derive(Debug, Clone, PartialEq)]
pub struct WidthSweep {
    /// The widths `N`.
    pub widths: Vec<usize>,
    /// Sequence pairs per network.
    pub batch: usize,
    /// Independent networks per width.
    pub networks: usize,
    /// The seed at the first width.
    pub first_seed: u64,
}

/// One statistic at one width: simulated networks against the theory, at the last step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiniteWidthRow {
    /// The cell.
    pub cell: CellKind,
    /// `Q` (the state second moment) or `c` (the correlation).
    pub statistic: &'static str,
    /// The width `N`.
    pub width: usize,
    /// The step `t` compared (the last of the schedule).
    pub step: usize,
    /// The theory's value.
    pub theory: f64,
    /// Standard error of the theory (the sampled exact theory; 0 for the deterministic
    /// mean-field recursion).
    pub theory_se: f64,
    /// The simulated networks' mean.
    pub simulated: f64,
    /// Its standard error over networks.
    pub simulated_se: f64,
    /// `simulated − theory`.
    pub difference: f64,
    /// Combined standard error of the difference.
    pub se: f64,
    /// `N · (simulated − theory)`: constant in `N` for an O(1/N) bias.
    pub n_times_difference: f64,
}

/// The weighted least-squares fit `difference = κ/N` of one cell's statistic
/// ([`fit_inverse_width`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasFit {
    /// The cell.
    pub cell: CellKind,
    /// `Q` or `c`.
    pub statistic: &'static str,
    /// `κ`.
    pub kappa: f64,
    /// Its standard error.
    pub kappa_se: f64,
    /// `χ²` of the fit.
    pub chi2: f64,
    /// Its degrees of freedom (widths − 1).
    pub dof: usize,
}

/// A finite-width study of one cell: rows by statistic (`Q`, then `c`) within width, and one
/// fit per statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiniteWidthStudy {
    /// Every statistic at every width.
    pub rows: Vec<FiniteWidthRow>,
    /// The `κ/N` fits, `Q` then `c`.
    pub fits: Vec<BiasFit>,
}

/// The error of the infinite-width theory against simulated networks of the widths of
/// `sweep`, for two sequences driven by `sched`, at its last step: the `O(1/N)` finite-width
/// bias and its fit `κ/N` (`theory/07-simulation.md`, (Sim.7)). `progress` is called after
/// each width.
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty `sweep.widths` and invalid settings; errors of the
/// theory and the simulator.
pub fn finite_width(
    cell: &Cell,
    p: &CellParams,
    sched: &RhoSchedule,
    reference: Reference,
    sweep: &WidthSweep,
    progress: &dyn Fn(),
) -> Result<FiniteWidthStudy> {
    if sweep.widths.is_empty() {
        return Err(Error::invalid("widths", 0.0, "at least one width"));
    }
    let steps = sched.len();
    let i = steps - 1;
    // The theory: (Q, its se), (c, its se) at the last step.
    let (tq, tq_se, tc, tc_se) = match reference {
        Reference::MeanField => {
            let th = cell.mean_field(p)?.trajectory(sched)?;
            (th.big_q[i], 0.0, th.c[i], 0.0)
        }
        Reference::Exact(cfg) => {
            let ex = exact::trajectory(cell, p, sched, Regime::REAL, &cfg)?;
            (ex.big_q[i], ex.big_q_se[i], ex.c[i], ex.c_se[i])
        }
    };
    let mut rows = Vec::new();
    for (k, &n) in sweep.widths.iter().enumerate() {
        let cfg = SimConfig::builder()
            .width(n)
            .batch(sweep.batch)
            .seeds(sweep.networks)
            .seed(sweep.first_seed + k as u64)
            .build()?;
        let sim = sim::simulate(cell, p, sched, &cfg)?;
        for (statistic, x, x_se, m, m_se) in [
            ("Q", tq, tq_se, sim.big_q[i], sim.big_q_se[i]),
            ("c", tc, tc_se, sim.c[i], sim.c_se[i]),
        ] {
            let se = (m_se * m_se + x_se * x_se).sqrt();
            rows.push(FiniteWidthRow {
                cell: cell.kind(),
                statistic,
                width: n,
                step: steps,
                theory: x,
                theory_se: x_se,
                simulated: m,
                simulated_se: m_se,
                difference: m - x,
                se,
                n_times_difference: n as f64 * (m - x),
            });
        }
        progress();
    }
    let fits = ["Q", "c"]
        .into_iter()
        .map(|statistic| {
            let pts: Vec<(usize, f64, f64)> = rows
                .iter()
                .filter(|r| r.statistic == statistic)
                .map(|r| (r.width, r.difference, r.se))
                .collect();
            let fit = fit_inverse_width(&pts);
            BiasFit {
                cell: cell.kind(),
                statistic,
                kappa: fit.kappa,
                kappa_se: fit.kappa_se,
                chi2: fit.chi2,
                dof: fit.dof,
            }
        })
        .collect();
    Ok(FiniteWidthStudy { rows, fits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_rows_cover_the_grid_and_agree_with_the_reference() {
        let grid = EngineGrid {
            qs: vec![0.5, 2.0],
            means: vec![0.0],
            correlations: vec![0.5],
            bivariate_mean: 0.3,
        };
        let rows = engine_accuracy(&grid).unwrap();
        // Per activation: 3 integrands × 2 q × 1 mean, and 2 q × 1 c.
        assert_eq!(rows.len(), Builtin::ALL.len() * (3 * 2 + 2));
        for r in &rows {
            assert_eq!(r.difference, r.value - r.reference_value);
            // The promise, and `mixed_error` as its rescaling.
            let promise = r.difference.abs() <= 1e-12 * r.reference_value.abs() + 1e-15;
            assert!(promise, "{r:?}");
            assert!(r.mixed_error() <= 1e-12 * (1.0 + 1e-12), "{r:?}");
        }
        let s = engine_summary(&rows);
        assert_eq!(s.len(), Builtin::ALL.len());
        assert_eq!(s.iter().map(|s| s.rows).sum::<usize>(), rows.len());
        for a in &s {
            let worst = rows
                .iter()
                .filter(|r| r.activation == a.activation)
                .map(EngineRow::mixed_error)
                .fold(0.0, f64::max);
            assert_eq!(a.worst_mixed_error, worst);
            assert_eq!(rows[a.worst_row].mixed_error(), worst);
        }
    }

    #[test]
    fn finite_width_fits_the_rows_it_returns() {
        let cell = Cell::vanilla(Builtin::Tanh);
        let p = CellParams::builder()
            .sigma_w(1.5)
            .sigma_v(0.3)
            .sigma_b(0.1)
            .build()
            .unwrap();
        let sched = RhoSchedule::constant(0.5, 4).unwrap();
        let sweep = WidthSweep {
            widths: vec![8, 16],
            batch: 2,
            networks: 4,
            first_seed: 3,
        };
        let count = std::cell::Cell::new(0);
        let s = finite_width(&cell, &p, &sched, Reference::MeanField, &sweep, &|| {
            count.set(count.get() + 1)
        })
        .unwrap();
        assert_eq!(count.get(), 2);
        assert_eq!(s.rows.len(), 4);
        assert_eq!(s.fits.len(), 2);
        for f in &s.fits {
            let pts: Vec<(usize, f64, f64)> = s
                .rows
                .iter()
                .filter(|r| r.statistic == f.statistic)
                .map(|r| (r.width, r.difference, r.se))
                .collect();
            assert_eq!(f.kappa, fit_inverse_width(&pts).kappa);
        }
        for r in &s.rows {
            assert_eq!(r.theory_se, 0.0);
            assert_eq!(r.se, r.simulated_se);
            assert_eq!(r.n_times_difference, r.width as f64 * r.difference);
        }
    }
}
