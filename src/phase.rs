//! Phase diagrams: any theory quantity over a grid of two parameters, computed in parallel,
//! with `χ₁` alongside so the critical line `χ₁ = 1` can be drawn.
//!
//! Grid points where the theory has no answer (e.g. no finite fixed point) are `None`, with
//! the reason counted in [`PhaseDiagram::failures`]; infinite timescales are `+∞`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::cells::{Cell, CellParams, Summary};
use crate::error::{Error, Result};

pub mod exact;

/// A parameter that can vary along a phase-diagram axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Param {
    /// σ_w.
    SigmaW,
    /// σ_v.
    SigmaV,
    /// σ_b.
    SigmaB,
    /// μ_b.
    MuB,
    /// R.
    R,
    /// ρ.
    Rho,
}

impl Param {
    /// Parses `sigma-w`, `sigma-v`, `sigma-b`, `mu-b`, `r`, `rho`.
    ///
    /// # Errors
    /// [`Error::UnknownName`].
    pub fn from_name(s: &str) -> Result<Param> {
        Ok(match s {
            "sigma-w" | "sigma_w" => Param::SigmaW,
            "sigma-v" | "sigma_v" => Param::SigmaV,
            "sigma-b" | "sigma_b" => Param::SigmaB,
            "mu-b" | "mu_b" => Param::MuB,
            "r" => Param::R,
            "rho" => Param::Rho,
            _ => {
                return Err(Error::UnknownName {
                    kind: "grid parameter",
                    name: s.to_string(),
                    expected: "sigma-w, sigma-v, sigma-b, mu-b, r, rho".into(),
                });
            }
        })
    }

    /// Name as in the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Param::SigmaW => "sigma-w",
            Param::SigmaV => "sigma-v",
            Param::SigmaB => "sigma-b",
            Param::MuB => "mu-b",
            Param::R => "r",
            Param::Rho => "rho",
        }
    }

    /// Mathematical symbol (for plot labels).
    pub fn symbol(self) -> &'static str {
        match self {
            Param::SigmaW => "σ_w",
            Param::SigmaV => "σ_v",
            Param::SigmaB => "σ_b",
            Param::MuB => "μ_b",
            Param::R => "R",
            Param::Rho => "ρ",
        }
    }
}

/// One axis: `n >= 2` equally spaced values of a parameter from `lo` to `hi`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Axis {
    /// The parameter.
    pub param: Param,
    /// First value.
    pub lo: f64,
    /// Last value.
    pub hi: f64,
    /// Number of values.
    pub n: usize,
}

impl Axis {
    /// Parses `NAME=LO:HI:N`, e.g. `sigma-w=0.5:3:200`.
    ///
    /// # Errors
    /// [`Error::Parse`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Axis> {
        let perr = |reason: &str| Error::Parse {
            what: "grid axis",
            input: text.to_string(),
            reason: reason.to_string(),
        };
        let (name, range) = text
            .split_once('=')
            .ok_or_else(|| perr("expected NAME=LO:HI:N, e.g. sigma-w=0.5:3:200"))?;
        let param = Param::from_name(name.trim())?;
        let parts: Vec<&str> = range.split(':').collect();
        if parts.len() != 3 {
            return Err(perr("expected three fields LO:HI:N"));
        }
        let lo: f64 = parts[0]
            .trim()
            .parse()
            .map_err(|_| perr("LO is not a number"))?;
        let hi: f64 = parts[1]
            .trim()
            .parse()
            .map_err(|_| perr("HI is not a number"))?;
        let n: usize = parts[2]
            .trim()
            .parse()
            .map_err(|_| perr("N is not a positive integer"))?;
        if !lo.is_finite() || !hi.is_finite() || hi <= lo {
            return Err(perr("need finite LO < HI"));
        }
        if !(2..=4000).contains(&n) {
            return Err(perr("N must be between 2 and 4000"));
        }
        Ok(Axis { param, lo, hi, n })
    }

    /// The `i`-th value.
    pub fn value(&self, i: usize) -> f64 {
        self.lo + (self.hi - self.lo) * i as f64 / (self.n - 1) as f64
    }
}

/// A quantity to map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// q*.
    QStar,
    /// Q*.
    #[serde(rename = "Q_star")]
    BigQStar,
    /// c*.
    CStar,
    /// χ_q.
    ChiQ,
    /// χ_c.
    ChiC,
    /// χ₁.
    Chi1,
    /// ξ_q.
    XiQ,
    /// ξ_c.
    XiC,
    /// ξ₁.
    Xi1,
}

impl Quantity {
    /// Parses the JSON key names (`q_star`, `Q_star`, `c_star`, `chi_q`, `chi_c`, `chi_1`,
    /// `xi_q`, `xi_c`, `xi_1`).
    ///
    /// # Errors
    /// [`Error::UnknownName`].
    pub fn from_name(s: &str) -> Result<Quantity> {
        Ok(match s {
            "q_star" => Quantity::QStar,
            "Q_star" => Quantity::BigQStar,
            "c_star" => Quantity::CStar,
            "chi_q" => Quantity::ChiQ,
            "chi_c" => Quantity::ChiC,
            "chi_1" => Quantity::Chi1,
            "xi_q" => Quantity::XiQ,
            "xi_c" => Quantity::XiC,
            "xi_1" => Quantity::Xi1,
            _ => {
                return Err(Error::UnknownName {
                    kind: "quantity",
                    name: s.to_string(),
                    expected: "q_star, Q_star, c_star, chi_q, chi_c, chi_1, xi_q, xi_c, xi_1"
                        .into(),
                });
            }
        })
    }

    /// JSON key name.
    pub fn as_str(self) -> &'static str {
        match self {
            Quantity::QStar => "q_star",
            Quantity::BigQStar => "Q_star",
            Quantity::CStar => "c_star",
            Quantity::ChiQ => "chi_q",
            Quantity::ChiC => "chi_c",
            Quantity::Chi1 => "chi_1",
            Quantity::XiQ => "xi_q",
            Quantity::XiC => "xi_c",
            Quantity::Xi1 => "xi_1",
        }
    }

    /// True for the timescales (drawn on a log scale).
    pub fn is_timescale(self) -> bool {
        matches!(self, Quantity::XiQ | Quantity::XiC | Quantity::Xi1)
    }

    /// The value in a summary (`+∞` for infinite timescales, `None` if undefined).
    pub fn of(self, s: &Summary) -> Option<f64> {
        let inf = |x: Option<f64>| Some(x.unwrap_or(f64::INFINITY));
        match self {
            Quantity::QStar => Some(s.q_star),
            Quantity::BigQStar => Some(s.big_q_star),
            Quantity::CStar => s.c_star,
            Quantity::ChiQ => Some(s.chi_q),
            Quantity::ChiC => s.chi_c,
            Quantity::Chi1 => Some(s.chi_1),
            Quantity::XiQ => inf(s.xi_q),
            Quantity::XiC => s.chi_c.and(inf(s.xi_c)),
            Quantity::Xi1 => inf(s.xi_1),
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A computed phase diagram. `values[j][i]` is at `(x.value(i), y.value(j))`.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseDiagram {
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// The mapped quantity.
    pub quantity: Quantity,
    /// Values (`None` where undefined, `+∞` for infinite timescales — `null` in JSON).
    pub values: Vec<Vec<Option<f64>>>,
    /// `χ₁` at every point (for the critical line), `None` where undefined.
    pub chi_1: Vec<Vec<Option<f64>>>,
    /// Grid points without an answer, by reason.
    pub failures: Vec<(String, usize)>,
    /// Fixed parameters (the axes override two of them).
    pub base: CellParams,
    /// Input correlation ρ when it is not an axis.
    pub rho: f64,
    /// The cell (serialised as `cell` and `activation`: the gate's, `sigmoid`, for the
    /// minimalRNN).
    #[serde(flatten)]
    pub cell: Cell,
}

/// The parameters at one grid point: `base` with `param` set to `v` (validated), and ρ.
fn with_param(p: &CellParams, rho: f64, param: Param, v: f64) -> Result<(CellParams, f64)> {
    let b = p.to_builder();
    Ok(match param {
        Param::SigmaW => (b.sigma_w(v).build()?, rho),
        Param::SigmaV => (b.sigma_v(v).build()?, rho),
        Param::SigmaB => (b.sigma_b(v).build()?, rho),
        Param::MuB => (b.mu_b(v).build()?, rho),
        Param::R => (b.r(v).build()?, rho),
        Param::Rho => (*p, v),
    })
}

/// Phase diagram of `quantity` for `cell`'s mean-field theory over axes `x` and `y`, the other
/// parameters from `base` and `rho` (parallel over rows; `progress` is called with the number
/// of finished points).
///
/// # Errors
/// [`Error::InvalidParameter`] if an axis makes a parameter invalid (negative σ, |ρ| > 1,
/// `R = 0` for the minimalRNN); [`Error::Unsupported`] if both axes are the same parameter.
pub fn diagram(
    cell: &Cell,
    base: CellParams,
    rho: f64,
    x: Axis,
    y: Axis,
    quantity: Quantity,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<PhaseDiagram> {
    if x.param == y.param {
        return Err(Error::Unsupported(format!(
            "both axes vary {}",
            x.param.as_str()
        )));
    }
    // Validate the corners (every grid point lies between them).
    for (xv, yv) in [(x.lo, y.lo), (x.hi, y.hi), (x.lo, y.hi), (x.hi, y.lo)] {
        let (p, r) = with_param(&base, rho, x.param, xv)?;
        let (p, r) = with_param(&p, r, y.param, yv)?;
        cell.validate(&p)?;
        if !(-1.0..=1.0).contains(&r) {
            return Err(Error::invalid("rho", r, "a correlation in [-1, 1]"));
        }
    }
    let summary = |p: CellParams, r: f64| -> Result<Summary> { cell.mean_field(&p)?.summary(r) };
    let done = AtomicUsize::new(0);
    type Row = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<String>);
    let rows: Vec<Row> = (0..y.n)
        .into_par_iter()
        .map(|j| {
            let mut vals = Vec::with_capacity(x.n);
            let mut chis = Vec::with_capacity(x.n);
            let mut errs = Vec::new();
            for i in 0..x.n {
                let point = with_param(&base, rho, x.param, x.value(i))
                    .and_then(|(p, r)| with_param(&p, r, y.param, y.value(j)))
                    .and_then(|(p, r)| summary(p, r));
                match point {
                    Ok(s) => {
                        vals.push(quantity.of(&s));
                        chis.push(Some(s.chi_1));
                    }
                    Err(e) => {
                        vals.push(None);
                        chis.push(None);
                        errs.push(match e {
                            Error::NoFixedPoint { map, .. } => {
                                format!("no fixed point of the {map}")
                            }
                            other => other.to_string(),
                        });
                    }
                }
            }
            progress(done.fetch_add(x.n, Ordering::Relaxed) + x.n);
            (vals, chis, errs)
        })
        .collect();
    let mut failures: Vec<(String, usize)> = Vec::new();
    let mut values = Vec::with_capacity(y.n);
    let mut chi_1 = Vec::with_capacity(y.n);
    for (v, c, errs) in rows {
        values.push(v);
        chi_1.push(c);
        for e in errs {
            if let Some(f) = failures.iter_mut().find(|f| f.0 == e) {
                f.1 += 1;
            } else {
                failures.push((e, 1));
            }
        }
    }
    Ok(PhaseDiagram {
        x,
        y,
        quantity,
        values,
        chi_1,
        failures,
        base,
        rho,
        cell: cell.clone(),
    })
}

impl PhaseDiagram {
    /// CSV with columns `x_name, y_name, quantity, chi_1` (`inf`, or empty when undefined).
    pub fn to_csv(&self) -> String {
        let mut s = format!(
            "{},{},{},chi_1\n",
            self.x.param.as_str(),
            self.y.param.as_str(),
            self.quantity.as_str()
        );
        let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:e}"));
        for j in 0..self.y.n {
            for i in 0..self.x.n {
                s.push_str(&format!(
                    "{},{},{},{}\n",
                    self.x.value(i),
                    self.y.value(j),
                    f(self.values[j][i]),
                    f(self.chi_1[j][i])
                ));
            }
        }
        s
    }
}
