//! Phase diagrams of the exact theory at stationarity (`exact::stationary`,
//! `theory/11-stationary-exact.md`): any of its headline quantities over a grid of two
//! parameters, each point with its standard error, and the synchronisation rate `Λ` (whose
//! level 1 is the exact order–chaos boundary) alongside `χ₁`.
//!
//! Rows run in parallel; along a row each point's solver starts from the previous point's
//! solution (continuation), which cuts the iterations to a few. Every point has its own
//! seed, derived from the base seed and its grid index, and a row is always computed in the
//! same order, so results do not depend on the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::{Axis, Param, PhaseDiagram, Quantity};
use crate::cells::{Cell, CellParams, Regime};
use crate::error::{Error, Result};
use crate::exact::stationary::analysis::{ExactAnalysis, ExactSettings, analyze_from};

/// A computed exact phase diagram; `values[j][i]` is at `(x.value(i), y.value(j))`.
#[derive(Debug, Clone, Serialize)]
pub struct ExactPhaseDiagram {
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// The mapped quantity.
    pub quantity: Quantity,
    /// Values (`None` where undefined, `+∞` for infinite timescales).
    pub values: Vec<Vec<Option<f64>>>,
    /// Their standard errors (`None` where undefined or infinite).
    pub values_se: Vec<Vec<Option<f64>>>,
    /// Exact `χ₁` at every point.
    pub chi_1: Vec<Vec<Option<f64>>>,
    /// The synchronisation rate `Λ` of identical-input copies (the exact phase boundary is
    /// `Λ = 1`).
    pub sync_rate: Vec<Vec<Option<f64>>>,
    /// Grid points without an answer, by reason.
    pub failures: Vec<(String, usize)>,
    /// Points with a caveat (the notes of [`ExactAnalysis`]), by note kind.
    pub caveats: Vec<(String, usize)>,
    /// The largest standard error relative to its value over the grid (finite values only).
    pub max_relative_se: f64,
    /// The median of the same.
    pub median_relative_se: f64,
    /// Fixed parameters (the axes override two of them).
    pub base: CellParams,
    /// Input correlation ρ.
    pub rho: f64,
    /// Weight and bias regime.
    pub regime: Regime,
    /// The cell (`vanilla`, `minimal`).
    pub cell: String,
    /// Activation name (`sigmoid` gates for the minimalRNN).
    pub activation: String,
    /// The solver settings (the seed is the base seed; each point derives its own).
    pub settings: ExactSettings,
}

/// The parameters and ρ at grid values `(xv, yv)` of the two axes.
fn at(p: &CellParams, rho: f64, x: Param, xv: f64, y: Param, yv: f64) -> Result<(CellParams, f64)> {
    let (p, rho) = super::with_param(p, rho, x, xv)?;
    super::with_param(&p, rho, y, yv)
}

/// The value and standard error of `quantity` in an analysis (`+∞`, no error, for an infinite
/// timescale).
fn pick(q: Quantity, a: &ExactAnalysis) -> (Option<f64>, Option<f64>) {
    let inf = |x: Option<f64>, se: Option<f64>| match x {
        Some(v) => (Some(v), se),
        None => (Some(f64::INFINITY), None),
    };
    match q {
        Quantity::QStar => (Some(a.q_star), Some(a.q_star_se)),
        Quantity::BigQStar => (Some(a.big_q_star), Some(a.big_q_star_se)),
        Quantity::CStar => (a.c_star, a.c_star.map(|_| 0.0)),
        Quantity::Chi1 => (Some(a.chi_1), Some(a.chi_1_se)),
        Quantity::Xi1 => inf(a.xi_1, a.xi_1_se),
        Quantity::ChiC => (a.chi_c, a.chi_c_se),
        Quantity::XiC => inf(a.xi_c, a.xi_c_se),
        Quantity::ChiQ | Quantity::XiQ => (None, None),
    }
}

/// The exact phase diagram of `quantity` over axes `x` and `y` (`upd`: the cell; `base`: the
/// fixed parameters; `progress` is called with the number of finished points).
///
/// # Errors
/// [`Error::Unsupported`] for `χ_Q`/`ξ_Q` (the approach to stationarity is not a stationary
/// quantity), an axis over `ρ`, or both axes the same parameter; [`Error::InvalidParameter`]
/// if an axis makes a parameter invalid; [`Error::TooLarge`] beyond the limits.
#[allow(clippy::too_many_arguments)]
pub fn diagram(
    upd: &Cell,
    base: CellParams,
    rho: f64,
    regime: Regime,
    x: Axis,
    y: Axis,
    quantity: Quantity,
    settings: &ExactSettings,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ExactPhaseDiagram> {
    if matches!(quantity, Quantity::ChiQ | Quantity::XiQ) {
        return Err(Error::Unsupported(
            "χ_Q and ξ_Q describe the approach to stationarity; the exact phase diagram maps \
             stationary quantities (q_star, Q_star, c_star, chi_1, xi_1, chi_c, xi_c)"
                .into(),
        ));
    }
    if x.param == y.param {
        return Err(Error::Unsupported(format!(
            "both axes (`x`, `y`; --x, --y) vary `{}`: give two different parameters",
            x.param.as_str()
        )));
    }
    if x.param == Param::Rho || y.param == Param::Rho {
        return Err(Error::Unsupported(
            "the exact theory is computed at ρ = 1 (synchronisation) or ρ = 0 (memory): ρ \
             cannot be an axis of an exact phase diagram"
                .into(),
        ));
    }
    let minimal = matches!(upd, Cell::Minimal);
    for (xv, yv) in [(x.lo, y.lo), (x.hi, y.hi), (x.lo, y.hi), (x.hi, y.lo)] {
        let (p, _) = at(&base, rho, x.param, xv, y.param, yv)?;
        upd.validate(&p)?;
    }
    if !(rho == 1.0 || (rho == 0.0 && minimal)) {
        return Err(Error::Unsupported(format!(
            "the exact theory at stationarity is computed at --rho 1{}; got --rho {}",
            if minimal { " or --rho 0" } else { "" },
            crate::error::fmt_num(rho)
        )));
    }
    // The whole grid, counted before anything runs: every point is one analysis.
    let points = (x.n * y.n) as f64;
    let one = settings.solver.estimate();
    let (axis, n) = if x.n >= y.n { ("x", x.n) } else { ("y", y.n) };
    crate::budget::Estimate::new("the exact phase diagram")
        .memory(axis, n as f64, 200.0 * points + one.bytes())
        .ops(
            axis,
            n as f64,
            points * one.seconds() * crate::budget::OPS_PER_SECOND,
            1,
        )
        .check()?;
    let done = AtomicUsize::new(0);
    type Row = Vec<std::result::Result<ExactAnalysis, String>>;
    let rows: Vec<Row> = (0..y.n)
        .into_par_iter()
        .map(|j| {
            let mut out: Row = Vec::with_capacity(x.n);
            let mut prev: Option<ExactAnalysis> = None;
            for i in 0..x.n {
                let point = at(&base, rho, x.param, x.value(i), y.param, y.value(j));
                let mut s = *settings;
                s.solver.seed = settings
                    .solver
                    .seed
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .wrapping_add((j * x.n + i) as u64);
                let res =
                    point.and_then(|(p, r)| analyze_from(upd, &p, regime, r, &s, prev.as_ref()));
                match res {
                    Ok(a) => {
                        prev = Some(a.clone());
                        out.push(Ok(a));
                    }
                    Err(e) => {
                        prev = None;
                        out.push(Err(match e {
                            Error::NoFixedPoint { map, .. } => {
                                format!("no stationary state ({map})")
                            }
                            other => other.to_string(),
                        }));
                    }
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            }
            out
        })
        .collect();
    let mut d = ExactPhaseDiagram {
        x,
        y,
        quantity,
        values: Vec::with_capacity(y.n),
        values_se: Vec::with_capacity(y.n),
        chi_1: Vec::with_capacity(y.n),
        sync_rate: Vec::with_capacity(y.n),
        failures: Vec::new(),
        caveats: Vec::new(),
        max_relative_se: 0.0,
        median_relative_se: 0.0,
        base,
        rho,
        regime,
        cell: if minimal { "minimal" } else { "vanilla" }.into(),
        activation: match upd {
            Cell::Minimal => "sigmoid".into(),
            Cell::Vanilla(a) => a.name().to_string(),
        },
        settings: *settings,
    };
    let count = |list: &mut Vec<(String, usize)>, key: String| {
        if let Some(f) = list.iter_mut().find(|f| f.0 == key) {
            f.1 += 1;
        } else {
            list.push((key, 1));
        }
    };
    let mut rel = Vec::new();
    for row in rows {
        let (mut v, mut vs, mut c, mut l) = (vec![], vec![], vec![], vec![]);
        for r in row {
            match r {
                Ok(a) => {
                    let (val, se) = pick(quantity, &a);
                    if let (Some(val), Some(se)) = (val, se)
                        && val.is_finite()
                        && val != 0.0
                    {
                        rel.push(se / val.abs());
                    }
                    v.push(val);
                    vs.push(se);
                    c.push(Some(a.chi_1));
                    l.push(Some(a.synchronisation.chi));
                    for n in &a.notes {
                        count(&mut d.caveats, n.kind.to_string());
                    }
                }
                Err(e) => {
                    v.push(None);
                    vs.push(None);
                    c.push(None);
                    l.push(None);
                    count(&mut d.failures, e);
                }
            }
        }
        d.values.push(v);
        d.values_se.push(vs);
        d.chi_1.push(c);
        d.sync_rate.push(l);
    }
    rel.sort_by(f64::total_cmp);
    d.max_relative_se = rel.last().copied().unwrap_or(0.0);
    d.median_relative_se = rel.get(rel.len() / 2).copied().unwrap_or(0.0);
    Ok(d)
}

impl ExactPhaseDiagram {
    /// CSV with columns `x_name, y_name, quantity, quantity_se, chi_1, sync_rate` (`inf`, or
    /// empty when undefined).
    pub fn to_csv(&self) -> String {
        let mut s = format!(
            "{},{},{},{}_se,chi_1,sync_rate\n",
            self.x.param.as_str(),
            self.y.param.as_str(),
            self.quantity.as_str(),
            self.quantity.as_str()
        );
        let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:e}"));
        for j in 0..self.y.n {
            for i in 0..self.x.n {
                s.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    self.x.value(i),
                    self.y.value(j),
                    f(self.values[j][i]),
                    f(self.values_se[j][i]),
                    f(self.chi_1[j][i]),
                    f(self.sync_rate[j][i])
                ));
            }
        }
        s
    }

    /// The ratio of this diagram's values to a mean-field diagram's over the same grid and
    /// quantity (`None` where either is undefined; `∞/∞` is 1).
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the grids or quantities differ.
    pub fn ratio_to(&self, mf: &PhaseDiagram) -> Result<Vec<Vec<Option<f64>>>> {
        if mf.x != self.x || mf.y != self.y || mf.quantity != self.quantity {
            return Err(Error::Unsupported(
                "the ratio needs the same grid and quantity in both diagrams".into(),
            ));
        }
        Ok(self
            .values
            .iter()
            .zip(&mf.values)
            .map(|(a, b)| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| match (x, y) {
                        (Some(x), Some(y)) if x.is_infinite() && y.is_infinite() => Some(1.0),
                        (Some(x), Some(y)) if *y != 0.0 => Some(x / y),
                        _ => None,
                    })
                    .collect()
            })
            .collect())
    }
}
