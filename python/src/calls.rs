//! The wrapped entry points. Each mirrors one CLI command: the same flags (as keyword
//! arguments), the same library calls, the same checks, and the CLI's `--json` object.

use std::sync::{Arc, Mutex};

use mfrnn::Error as E;
use mfrnn::activation::Builtin;
use mfrnn::budget::Estimate;
use mfrnn::cells::{Cell, CellKind, CellParams, Regime, RhoSchedule, Theory, WeightLaw};
use mfrnn::exact::stationary::analysis::{self, ExactSettings};
use mfrnn::exact::stationary::transient::{self, TransientConfig};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::expect::{BivariateNormal, Fun, Normal, expect as expect1, expect2};
use mfrnn::init::{
    FixedPointCheck, Given, PerWeights, SpectralWidth, Target, UnitProcessVariance, design, weights,
};
use mfrnn::phase::{Axis, Param, Quantity};
use mfrnn::sim::SimConfig;
use mfrnn::sim::jacobian::{self, Accumulation, EmpiricalMoments};
use mfrnn::spectrum::{LawSource, Request, UnitRecursionM1};
use mfrnn::stats::ks_distance;
use mfrnn::training::trainability::{self, Axis as TAxis, BaseInit, GridSpec, GridTask, Training};
use mfrnn::training::{self, InitScheme, Optimizer, Padding, Precision, RunConfig, Task};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use serde_json::{Value, json as j};

use crate::{json, long, quick, to_py};

/// `mfrnn::Error::InvalidParameter`.
pub(crate) fn invalid(name: &'static str, value: f64, expected: &'static str) -> E {
    E::InvalidParameter {
        name,
        value,
        expected,
    }
}

/// A count argument (width, steps, ...): a whole number >= 0, as an int or an integral float
/// (`1e6`), else `mfrnn.Error` naming it.
pub(crate) fn count(name: &'static str, v: &Bound<'_, PyAny>) -> PyResult<usize> {
    if let Ok(i) = v.extract::<i64>() {
        return usize::try_from(i)
            .map_err(|_| crate::err(invalid(name, i as f64, "a whole number >= 0")));
    }
    if let Ok(x) = v.extract::<f64>() {
        if x >= 0.0 && x.fract() == 0.0 && x < 9.0e15 {
            return Ok(x as usize);
        }
        return Err(crate::err(invalid(
            name,
            x,
            "a whole number >= 0 (below 9e15)",
        )));
    }
    if v.extract::<u64>().is_ok() {
        return Err(crate::err(invalid(name, f64::MAX, "a count below 2^63")));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "argument '{name}': expected a whole number, got {}",
        v.get_type().name()?
    )))
}

fn opt_count(name: &'static str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    v.map(|v| count(name, v)).transpose()
}

/// A seed: a whole number in `0..2^64`.
pub(crate) fn seed(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(s) = v.extract::<u64>() {
        return Ok(s);
    }
    if let Ok(i) = v.extract::<i64>() {
        return Err(crate::err(invalid(
            "seed",
            i as f64,
            "a whole number in 0..2^64",
        )));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "argument 'seed': expected a whole number in 0..2^64",
    ))
}

fn opt_seed(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    v.map(seed).transpose()
}

/// The error for a flag that does not apply (the CLI's wording).
pub(crate) fn not_applicable(flag: &str, why: &str) -> PyErr {
    crate::err(E::Unsupported(format!("{flag} does not apply {why}")))
}

/// Refuses each `(given, flag)` that was given.
pub(crate) fn refuse(flags: &[(bool, &str)], why: &str) -> PyResult<()> {
    for (given, flag) in flags {
        if *given {
            return Err(not_applicable(flag, why));
        }
    }
    Ok(())
}

pub(crate) fn parse_cell(s: &str) -> PyResult<CellKind> {
    s.parse().map_err(crate::err)
}

pub(crate) fn parse_theory(s: &str) -> PyResult<Theory> {
    s.parse().map_err(crate::err)
}

/// The cell and its validated parameters (the CLI's `CellArgs`).
pub(crate) fn cell_params(
    cell: &str,
    phi: Option<&str>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
) -> PyResult<(Cell, CellParams)> {
    let c = Cell::of_kind(parse_cell(cell)?, phi).map_err(crate::err)?;
    let p = CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_v(sigma_v)
        .sigma_b(sigma_b)
        .mu_b(mu_b)
        .r(r)
        .build()
        .map_err(crate::err)?;
    c.validate(&p).map_err(crate::err)?;
    Ok((c, p))
}

fn check_rho(rho: f64) -> PyResult<()> {
    if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
        return Err(crate::err(invalid("rho", rho, "a correlation in [-1, 1]")));
    }
    Ok(())
}

fn out(py: Python<'_>, v: Value) -> PyResult<Py<PyAny>> {
    Ok(to_py(py, &v)?.unbind())
}

/// A Python callable as an integrand: called with the GIL for each node. Its first exception
/// is kept and re-raised after the integration (which sees NaN there and stops).
struct PyIntegrand {
    f: Py<PyAny>,
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl PyIntegrand {
    fn fun(&self) -> Fun {
        let f = Python::attach(|py| self.f.clone_ref(py));
        let raised = Arc::clone(&self.raised);
        Fun::closure(move |x| {
            Python::attach(
                |py| match f.call1(py, (x,)).and_then(|v| v.extract::<f64>(py)) {
                    Ok(v) => v,
                    Err(e) => {
                        let mut r = raised.lock().unwrap_or_else(|p| p.into_inner());
                        if r.is_none() {
                            *r = Some(e);
                        }
                        f64::NAN
                    }
                },
            )
        })
    }
}

/// Gaussian expectation `E[f(u) g(u)]`, `u ~ N(mean, q)` (1-D), or `E[f(u) g(v)]` with
/// `(u, v)` of equal means and variances `q` and correlation `c` (2-D) — `mfrnn expect`.
///
/// `f`, `g`: `one`, `phi`, `dphi`, `ddphi` or products like `phi^2*dphi` of the activation
/// `phi`; or a Python callable of one float (then `phi` may be omitted; integrated adaptively).
/// Returns `{value, error_estimate, method, evaluations}` (`error_estimate` absolute).
#[pyfunction]
#[pyo3(signature = (*, f, q, phi=None, g=None, mean=0.0, c=None))]
#[allow(clippy::too_many_arguments)]
fn expect(
    py: Python<'_>,
    f: &Bound<'_, PyAny>,
    q: f64,
    phi: Option<&str>,
    g: Option<&Bound<'_, PyAny>>,
    mean: f64,
    c: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let raised = Arc::new(Mutex::new(None));
    let act = phi
        .map(|p| Builtin::from_name(p).map(|b| b.arc()))
        .transpose()
        .map_err(crate::err)?;
    let parse = |x: &Bound<'_, PyAny>, which: &'static str| -> PyResult<Fun> {
        if let Ok(s) = x.extract::<String>() {
            let act = act.as_ref().ok_or_else(|| {
                crate::err(E::Parse {
                    what: "arguments",
                    input: format!("{which} = {s}"),
                    reason: "phi is required for a named integrand factor".into(),
                })
            })?;
            Fun::parse(&s, act).map_err(crate::err)
        } else if x.is_callable() {
            Ok(PyIntegrand {
                f: x.clone().unbind(),
                raised: Arc::clone(&raised),
            }
            .fun())
        } else {
            Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "argument '{which}': expected a string such as 'phi^2' or a callable"
            )))
        }
    };
    let ff = parse(f, "f")?;
    let gg = match g {
        Some(g) => parse(g, "g")?,
        None => Fun::one(),
    };
    let r = quick(py, move || match c {
        None => expect1(&(&ff * &gg), &Normal::new(mean, q)?),
        Some(c) => expect2(&ff, &gg, &BivariateNormal::equal(mean, q, c)?),
    });
    if let Some(e) = raised.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let e = r?;
    out(
        py,
        j!({
            "value": e.value,
            "error_estimate": e.error_estimate,
            "method": e.method.as_str(),
            "evaluations": e.evaluations,
        }),
    )
}

/// Fixed points, slopes χ, timescales ξ and phase of a cell at a constant input correlation
/// `rho` — `mfrnn fixed-point --json`.
///
/// Scales: `sigma_w` (recurrent weights `N(0, σ_w²/N)`), `sigma_v` (input weights), `sigma_b`,
/// `mu_b` (bias `N(μ_b, σ_b²)`), `r` (input second moment per coordinate). Keys: `q_star`,
/// `Q_star` (pre-activation and hidden second moments per unit), `c_star`, slopes `chi_q`,
/// `chi_c`, `chi_1` (per step), timescales `xi_q`, `xi_c`, `xi_1` (steps; `None`: infinite),
/// `phase`, `residual`, `iterations`, and every fixed point found. `theory="exact"`: the
/// tied-weight, frozen-bias network at stationarity (sampled with `paths`, `replicas`,
/// `curve_paths`, `horizon`, `seed`; standard errors in `*_se`).
#[pyfunction]
#[pyo3(signature = (*, sigma_w, sigma_v, sigma_b, r, cell="vanilla", phi=None, mu_b=0.0,
    theory="mean-field", rho=0.0, paths=None, replicas=None, curve_paths=None, horizon=None,
    seed=None, untied=false, fresh_bias=false))]
#[allow(clippy::too_many_arguments)]
fn fixed_point(
    py: Python<'_>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    r: f64,
    cell: &str,
    phi: Option<&str>,
    mu_b: f64,
    theory: &str,
    rho: f64,
    paths: Option<&Bound<'_, PyAny>>,
    replicas: Option<&Bound<'_, PyAny>>,
    curve_paths: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    untied: bool,
    fresh_bias: bool,
) -> PyResult<Py<PyAny>> {
    check_rho(rho)?;
    let theory = parse_theory(theory)?;
    let (paths, replicas) = (opt_count("paths", paths)?, opt_count("replicas", replicas)?);
    let curve_paths = opt_count("curve-paths", curve_paths)?;
    let (horizon, seed) = (opt_count("horizon", horizon)?, opt_seed(seed)?);
    if theory == Theory::Exact {
        let (c, p) = cell_params(cell, phi, sigma_w, sigma_v, sigma_b, mu_b, r)?;
        let settings = ExactSettings::new(
            paths.unwrap_or(1024),
            replicas.unwrap_or(8),
            curve_paths.unwrap_or(256),
            horizon.unwrap_or(200),
            seed.unwrap_or(1),
        )
        .map_err(crate::err)?;
        let regime = Regime {
            tied: !untied,
            fresh_bias,
        };
        let v = long(py, move || {
            json(&analysis::analyze(&c, &p, regime, rho, &settings)?)
        })?;
        return out(py, v);
    }
    refuse(
        &[
            (paths.is_some(), "--paths"),
            (replicas.is_some(), "--replicas"),
            (curve_paths.is_some(), "--curve-paths"),
            (horizon.is_some(), "--horizon"),
            (seed.is_some(), "--seed"),
            (untied, "--untied"),
            (fresh_bias, "--fresh-bias"),
        ],
        "to the mean-field fixed point (it samples nothing); use --theory exact",
    )?;
    let (c, p) = cell_params(cell, phi, sigma_w, sigma_v, sigma_b, mu_b, r)?;
    let v = quick(py, move || json(&c.mean_field(&p)?.analyze(rho)?))?;
    out(py, v)
}

/// The exact-theory regime.
fn regime(untied: bool, fresh_bias: bool) -> Regime {
    Regime {
        tied: !untied,
        fresh_bias,
    }
}

/// Bytes of printed output per number of a per-step array (the CLI's estimate).
const OUTPUT_BYTES_PER_NUMBER: f64 = 32.0;

/// The input-correlation schedule (the CLI's `ScheduleArgs`): `steps` with a constant `rho`,
/// or `rho_schedule` — the CLI's `VALUExCOUNT` text or a sequence of per-step values — with
/// `steps` checked against its length.
fn schedule(
    steps: Option<usize>,
    rho_schedule: Option<&Bound<'_, PyAny>>,
    rho: Option<f64>,
) -> PyResult<RhoSchedule> {
    if steps == Some(0) {
        return Err(crate::err(invalid("steps", 0.0, "at least 1")));
    }
    let s = match rho_schedule {
        Some(sched) => {
            if rho.is_some() {
                return Err(crate::err(E::Unsupported(
                    "--rho-schedule and --rho cannot be used together; give one".into(),
                )));
            }
            if let Ok(text) = sched.extract::<String>() {
                RhoSchedule::parse(&text)
            } else {
                let values: Vec<f64> = sched.extract().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(
                        "argument 'rho_schedule': expected a string such as '0.3x1,1x49' or a \
                         sequence of floats",
                    )
                })?;
                RhoSchedule::from_values(values)
            }
        }
        None => RhoSchedule::constant(rho.unwrap_or(0.0), steps.unwrap_or(50)),
    }
    .map_err(crate::err)?;
    if let Some(n) = steps
        && n != s.len()
    {
        return Err(crate::err(invalid(
            "steps",
            n as f64,
            "equal to the length of --rho-schedule",
        )));
    }
    Ok(s)
}

/// The exact-theory sampler of `trajectory`.
#[derive(Clone, Copy, PartialEq)]
enum Sampler {
    Auto,
    Full,
    Banded,
}

fn parse_sampler(s: &str) -> PyResult<Sampler> {
    match s.to_ascii_lowercase().as_str() {
        "auto" => Ok(Sampler::Auto),
        "full" => Ok(Sampler::Full),
        "banded" => Ok(Sampler::Banded),
        _ => Err(crate::err(E::UnknownName {
            kind: "sampler",
            name: s.into(),
            expected: "auto, full, banded".into(),
        })),
    }
}

/// Mean-field trajectory of two input sequences under an input-correlation schedule, or
/// (`theory="exact"`) the exact theory's sampled trajectory with standard errors —
/// `mfrnn trajectory --json`.
///
/// The schedule: `steps` (default 50) at a constant `rho` (default 0), or `rho_schedule` as
/// the CLI's `VALUExCOUNT` runs (`"0.3x1,1x49"`) or a sequence of per-step correlations.
/// Arrays have shape `(T,)`: `t` (int64, steps 1..T), second moments `q`, `Q`, cross moments
/// `q_ab`, `C`, correlation `c` (float64); exact theory: `*_se` standard errors.
#[pyfunction]
#[pyo3(signature = (*, sigma_w, sigma_v, sigma_b, r, cell="vanilla", phi=None, mu_b=0.0,
    theory="mean-field", steps=None, rho_schedule=None, rho=None, units=None, replicas=None,
    seed=None, untied=false, fresh_bias=false, sampler=None))]
#[allow(clippy::too_many_arguments)]
fn trajectory(
    py: Python<'_>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    r: f64,
    cell: &str,
    phi: Option<&str>,
    mu_b: f64,
    theory: &str,
    steps: Option<&Bound<'_, PyAny>>,
    rho_schedule: Option<&Bound<'_, PyAny>>,
    rho: Option<f64>,
    units: Option<&Bound<'_, PyAny>>,
    replicas: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    untied: bool,
    fresh_bias: bool,
    sampler: Option<&str>,
) -> PyResult<Py<PyAny>> {
    let theory = parse_theory(theory)?;
    let (units, replicas) = (opt_count("units", units)?, opt_count("replicas", replicas)?);
    let seed = opt_seed(seed)?;
    let sampler_given = sampler.is_some();
    let sampler = parse_sampler(sampler.unwrap_or("auto"))?;
    if theory == Theory::MeanField {
        refuse(
            &[
                (units.is_some(), "--units"),
                (replicas.is_some(), "--replicas"),
                (seed.is_some(), "--seed"),
            ],
            "to the mean-field recursion (it samples nothing); use --theory exact",
        )?;
    }
    let sched = schedule(opt_count("steps", steps)?, rho_schedule, rho)?;
    let kind = parse_cell(cell)?;
    let (c, p) = cell_params(cell, phi, sigma_w, sigma_v, sigma_b, mu_b, r)?;
    let mf = c.mean_field(&p).map_err(crate::err)?;
    drop(mf);
    let t = sched.len();
    if theory == Theory::MeanField && sampler_given {
        return Err(not_applicable(
            "--sampler",
            "to the mean-field recursion (it samples nothing); use --theory exact",
        ));
    }
    let (units, replicas, seed) = (
        units.unwrap_or(40_000),
        replicas.unwrap_or(8),
        seed.unwrap_or(1),
    );
    let v = if theory == Theory::Exact {
        let regime = regime(untied, fresh_bias);
        let banded_applies = kind == CellKind::Minimal && sched.values().iter().all(|&r| r == 0.0);
        let banded = match sampler {
            Sampler::Full => false,
            Sampler::Auto => banded_applies && t > 100,
            Sampler::Banded if banded_applies => true,
            Sampler::Banded => {
                return Err(crate::err(E::Unsupported(
                    "--sampler banded follows one input sequence of the minimalRNN: it needs \
                     --cell minimal and ρ = 0 at every step; use --sampler full"
                        .into(),
                )));
            }
        };
        if banded {
            let cfg = TransientConfig::new(units, replicas, seed).map_err(crate::err)?;
            cfg.estimate(t)
                .memory("steps", t as f64, 4.0 * OUTPUT_BYTES_PER_NUMBER * t as f64)
                .check()
                .map_err(crate::err)?;
            long(py, move || {
                let tr = transient::trajectory(&p, regime, t, &cfg)?;
                let mut v = json(&tr)?;
                prepend(&mut v, "sampler", j!("banded"));
                Ok(v)
            })?
        } else {
            let cfg = ExactConfig::builder()
                .units(units)
                .replicas(replicas)
                .seed(seed)
                .build()
                .map_err(crate::err)?;
            cfg.estimate(("steps", t), 0)
                .memory("steps", t as f64, 12.0 * OUTPUT_BYTES_PER_NUMBER * t as f64)
                .check()
                .map_err(crate::err)?;
            long(py, move || {
                let tr = exact::trajectory(&c, &p, &sched, regime, &cfg)?;
                let mut v = json(&tr)?;
                prepend(&mut v, "sampler", j!("full"));
                Ok(v)
            })?
        }
    } else {
        if untied || fresh_bias {
            return Err(crate::err(E::Unsupported(
                "--untied and --fresh-bias select the regime of --theory exact; the mean-field \
                 recursion already assumes fresh weights"
                    .into(),
            )));
        }
        Estimate::new("the trajectory and its output")
            .memory(
                "steps",
                t as f64,
                (mfrnn::cells::BYTES_PER_STEP + 6.0 * OUTPUT_BYTES_PER_NUMBER) * t as f64,
            )
            .check()
            .map_err(crate::err)?;
        long(py, move || json(&c.mean_field(&p)?.trajectory(&sched)?))?
    };
    out(py, v)
}

/// Puts `key: value` first in a JSON object (the CLI's `#[serde(flatten)]` wrappers).
fn prepend(v: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = v {
        m.shift_insert(0, key.to_string(), value);
    }
}

/// Finite-width simulation of real networks (two input sequences per pair): per-step `q`, `Q`,
/// `c` with standard errors over networks — `mfrnn simulate --json`.
#[pyfunction]
#[pyo3(signature = (*, sigma_w, sigma_v, sigma_b, r, cell="vanilla", phi=None, mu_b=0.0,
    width=None, steps=None, rho_schedule=None, rho=None, seeds=None, batch=None,
    weights="gaussian", untied=false, fresh_bias=false, seed=None))]
#[allow(clippy::too_many_arguments)]
fn simulate(
    py: Python<'_>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    r: f64,
    cell: &str,
    phi: Option<&str>,
    mu_b: f64,
    width: Option<&Bound<'_, PyAny>>,
    steps: Option<&Bound<'_, PyAny>>,
    rho_schedule: Option<&Bound<'_, PyAny>>,
    rho: Option<f64>,
    seeds: Option<&Bound<'_, PyAny>>,
    batch: Option<&Bound<'_, PyAny>>,
    weights: &str,
    untied: bool,
    fresh_bias: bool,
    seed: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let width = opt_count("width", width)?.unwrap_or(1000);
    let seeds = opt_count("seeds", seeds)?.unwrap_or(8);
    let batch = opt_count("batch", batch)?.unwrap_or(16);
    let seed = opt_seed(seed)?.unwrap_or(1);
    let weights: WeightLaw = weights.parse().map_err(crate::err)?;
    let (c, p) = cell_params(cell, phi, sigma_w, sigma_v, sigma_b, mu_b, r)?;
    let sched = schedule(opt_count("steps", steps)?, rho_schedule, rho)?;
    let cfg = SimConfig::builder()
        .width(width)
        .batch(batch)
        .seeds(seeds)
        .seed(seed)
        .tied(!untied)
        .fresh_bias(fresh_bias)
        .weights(weights)
        .build()
        .map_err(crate::err)?;
    let t = sched.len();
    cfg.estimate(t)
        .memory("steps", t as f64, 11.0 * OUTPUT_BYTES_PER_NUMBER * t as f64)
        .check()
        .map_err(crate::err)?;
    let v = long(py, move || {
        json(&mfrnn::sim::simulate(&c, &p, &sched, &cfg)?)
    })?;
    out(py, v)
}

/// An axis: the CLI's `NAME=LO:HI:N` text or a tuple `(name, lo, hi, n)`.
fn axis(name: &'static str, a: &Bound<'_, PyAny>) -> PyResult<Axis> {
    let text = if let Ok(t) = a.extract::<String>() {
        t
    } else if let Ok((p, lo, hi, n)) = a.extract::<(String, f64, f64, i64)>() {
        format!("{p}={}:{}:{n}", repr(lo), repr(hi))
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "argument '{name}': expected 'NAME=LO:HI:N' or a tuple (name, lo, hi, n)"
        )));
    };
    Axis::parse(&text).map_err(crate::err)
}

/// A float as shortest round-trip text (Rust's `{}` of f64 round-trips).
fn repr(x: f64) -> String {
    format!("{x:?}")
}

/// Phase diagram of a theory quantity over two parameters — `mfrnn phase --out FILE.json`
/// (without the file's `mfrnn_output` signature). `values` and `chi_1` are 2-D float64 arrays
/// of shape `(y.n, x.n)` (row `i` at the `i`-th `y` value), NaN where undefined.
#[pyfunction]
#[pyo3(signature = (*, x, y, cell="vanilla", phi=None, quantity="xi_c", sigma_w=None,
    sigma_v=None, sigma_b=None, mu_b=None, r=None, rho=None, theory="mean-field", paths=None,
    replicas=None, curve_paths=None, horizon=None, seed=None, untied=false, fresh_bias=false))]
#[allow(clippy::too_many_arguments)]
fn phase(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    cell: &str,
    phi: Option<&str>,
    quantity: &str,
    sigma_w: Option<f64>,
    sigma_v: Option<f64>,
    sigma_b: Option<f64>,
    mu_b: Option<f64>,
    r: Option<f64>,
    rho: Option<f64>,
    theory: &str,
    paths: Option<&Bound<'_, PyAny>>,
    replicas: Option<&Bound<'_, PyAny>>,
    curve_paths: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    untied: bool,
    fresh_bias: bool,
) -> PyResult<Py<PyAny>> {
    let kind = parse_cell(cell)?;
    let theory = parse_theory(theory)?;
    let c = Cell::of_kind(kind, phi).map_err(crate::err)?;
    let (x, y) = (axis("x", x)?, axis("y", y)?);
    for a in [&x, &y] {
        let (given, flag) = match a.param {
            Param::SigmaW => (sigma_w.is_some(), "--sigma-w"),
            Param::SigmaV => (sigma_v.is_some(), "--sigma-v"),
            Param::SigmaB => (sigma_b.is_some(), "--sigma-b"),
            Param::MuB => (mu_b.is_some(), "--mu-b"),
            Param::R => (r.is_some(), "--r"),
            Param::Rho => (rho.is_some(), "--rho"),
        };
        if given {
            return Err(crate::err(E::Unsupported(format!(
                "{flag} fixes a parameter that is also an axis ({}); drop one of them",
                a.param.as_str()
            ))));
        }
    }
    let (paths, replicas) = (opt_count("paths", paths)?, opt_count("replicas", replicas)?);
    let curve_paths = opt_count("curve-paths", curve_paths)?;
    let (horizon, seed) = (opt_count("horizon", horizon)?, opt_seed(seed)?);
    let rho = rho.unwrap_or(1.0);
    let base = |q: Quantity| -> PyResult<(Quantity, CellParams)> {
        let b = CellParams::builder()
            .sigma_w(sigma_w.unwrap_or(1.0))
            .sigma_v(sigma_v.unwrap_or(0.0))
            .sigma_b(sigma_b.unwrap_or(0.0))
            .mu_b(mu_b.unwrap_or(0.0))
            .r(r.unwrap_or(1.0))
            .build()
            .map_err(crate::err)?;
        Ok((q, b))
    };
    if theory == Theory::Exact {
        let quantity = Quantity::from_name(quantity).map_err(crate::err)?;
        let (quantity, base) = base(quantity)?;
        let settings = ExactSettings::new(
            paths.unwrap_or(128),
            replicas.unwrap_or(4),
            curve_paths.unwrap_or(128),
            horizon.unwrap_or(100),
            seed.unwrap_or(1),
        )
        .and_then(|s| s.with_solver(|s| s.with_length(1024, 8192)))
        .map_err(crate::err)?;
        let regime = regime(untied, fresh_bias);
        let v = long(py, move || {
            json(&mfrnn::phase::exact::diagram(
                &c,
                base,
                rho,
                regime,
                x,
                y,
                quantity,
                &settings,
                &|_| {},
            )?)
        })?;
        return out(py, v);
    }
    refuse(
        &[
            (paths.is_some(), "--paths"),
            (replicas.is_some(), "--replicas"),
            (curve_paths.is_some(), "--curve-paths"),
            (horizon.is_some(), "--horizon"),
            (seed.is_some(), "--seed"),
            (untied, "--untied"),
            (fresh_bias, "--fresh-bias"),
        ],
        "to the mean-field phase diagram (it samples nothing); use --theory exact",
    )?;
    let quantity = Quantity::from_name(quantity).map_err(crate::err)?;
    let (quantity, base) = base(quantity)?;
    let total = (x.n * y.n) as u64;
    let (name, n) = if x.n >= y.n { ("x", x.n) } else { ("y", y.n) };
    Estimate::new("the phase diagram")
        .memory(name, n as f64, 150.0 * total as f64)
        .ops(
            name,
            n as f64,
            1e5 * total as f64,
            mfrnn::budget::concurrency(y.n),
        )
        .check()
        .map_err(crate::err)?;
    let v = long(py, move || {
        json(&mfrnn::phase::diagram(
            &c,
            base,
            rho,
            x,
            y,
            quantity,
            &|_| {},
        )?)
    })?;
    out(py, v)
}

/// `mfrnn spectrum --json`'s object.
#[derive(Serialize)]
struct SpectrumOut {
    cell: &'static str,
    m1: f64,
    m2: f64,
    normalized_variance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    moments: Option<Vec<f64>>,
    support: [f64; 2],
    lambda: Vec<f64>,
    density: Vec<f64>,
    exact: bool,
    q_star: f64,
    chi_1: f64,
    mass_on_grid: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_recursion: Option<UnitRecursionM1>,
    #[serde(skip_serializing_if = "Option::is_none")]
    law_atoms: Option<usize>,
    solver_failures: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    empirical: Option<EmpiricalMoments>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_distance: Option<f64>,
}

/// Singular-value spectrum of the `T`-step input-output Jacobian `J_T J_Tᵀ` by free
/// probability (`lambda`, `density`: the density of squared singular values on a grid of
/// `points`+ points; moments `m1`, `m2`), and with `simulate=True` the sampled Jacobians of
/// real networks (`empirical` moments with standard errors, `ks_distance`) — `mfrnn spectrum
/// --json`.
#[pyfunction]
#[pyo3(signature = (*, sigma_w, sigma_v, sigma_b, r, cell="vanilla", phi=None, mu_b=0.0,
    theory=None, steps=None, weights="orthogonal", points=None, simulate=false, width=None,
    seeds=None, seed=None, burn_in=None, untied=false, accumulation=None, transient=false,
    units=None))]
#[allow(clippy::too_many_arguments)]
fn spectrum(
    py: Python<'_>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    r: f64,
    cell: &str,
    phi: Option<&str>,
    mu_b: f64,
    theory: Option<&str>,
    steps: Option<&Bound<'_, PyAny>>,
    weights: &str,
    points: Option<&Bound<'_, PyAny>>,
    simulate: bool,
    width: Option<&Bound<'_, PyAny>>,
    seeds: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    burn_in: Option<&Bound<'_, PyAny>>,
    untied: bool,
    accumulation: Option<&str>,
    transient: bool,
    units: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let steps = opt_count("steps", steps)?.unwrap_or(10);
    let points = opt_count("points", points)?.unwrap_or(400);
    let (width, seeds) = (opt_count("width", width)?, opt_count("seeds", seeds)?);
    let (seed, burn_in) = (opt_seed(seed)?, opt_count("burn-in", burn_in)?);
    let units = opt_count("units", units)?;
    if steps == 0 {
        return Err(crate::err(invalid("steps", 0.0, "at least 1")));
    }
    let kind = parse_cell(cell)?;
    let vanilla = kind == CellKind::Vanilla;
    let theory_given = theory.is_some();
    let theory = parse_theory(theory.unwrap_or("mean-field"))?;
    match (vanilla, theory) {
        (true, Theory::Exact) => {
            return Err(not_applicable(
                "--theory exact",
                "to the vanilla spectrum: free probability at the fixed point is already \
                 exact at infinite width (sample real networks with --simulate)",
            ));
        }
        (false, Theory::MeanField) if theory_given => {
            return Err(not_applicable(
                "--theory mean-field",
                "to the minimalRNN spectrum: the law of its Jacobian diagonals comes from the \
                 unit paths of the exact theory (--units)",
            ));
        }
        _ => {}
    }
    if !simulate {
        refuse(
            &[
                (width.is_some(), "--width"),
                (seeds.is_some(), "--seeds"),
                (accumulation.is_some(), "--accumulation"),
            ],
            "without --simulate",
        )?;
    }
    if vanilla {
        refuse(
            &[(units.is_some(), "--units")],
            "to --cell vanilla (it sets the unit paths of the minimalRNN)",
        )?;
        if !simulate {
            refuse(
                &[(untied, "--untied"), (seed.is_some(), "--seed")],
                "to --cell vanilla without --simulate",
            )?;
            if !transient {
                refuse(
                    &[(burn_in.is_some(), "--burn-in")],
                    "to --cell vanilla without --simulate or --transient (the spectrum is taken at the fixed point)",
                )?;
            }
        }
    }
    let (width, seeds, seed) = (width.unwrap_or(800), seeds.unwrap_or(4), seed.unwrap_or(1));
    let (burn_in, units) = (burn_in.unwrap_or(50), units.unwrap_or(8000));
    burn_in.checked_add(steps).ok_or_else(|| {
        crate::err(invalid(
            "burn-in",
            burn_in as f64,
            "burn-in + steps below 2^64",
        ))
    })?;
    Estimate::new("the spectrum output")
        .memory(
            "points",
            points as f64,
            6.0 * OUTPUT_BYTES_PER_NUMBER * points as f64,
        )
        .check()
        .map_err(crate::err)?;
    let wl: WeightLaw = weights.parse().map_err(crate::err)?;
    let acc = match accumulation.map(str::to_ascii_lowercase).as_deref() {
        None | Some("direct") => Accumulation::Direct,
        Some("qr") => Accumulation::Qr,
        Some(other) => {
            return Err(crate::err(E::UnknownName {
                kind: "accumulation",
                name: other.into(),
                expected: "direct, qr".into(),
            }));
        }
    };
    let (c, p) = cell_params(cell, phi, sigma_w, sigma_v, sigma_b, mu_b, r)?;
    let source = match &c {
        Cell::Vanilla(_) if transient => LawSource::Transient { burn_in },
        Cell::Vanilla(_) => LawSource::FixedPoint,
        Cell::Minimal => {
            if transient {
                return Err(crate::err(E::Unsupported(
                    "--transient applies to --cell vanilla; for the minimalRNN the law of the \
                     Jacobian diagonals after --burn-in steps already comes from the unit paths"
                        .into(),
                )));
            }
            LawSource::UnitPaths {
                burn_in,
                regime: Regime {
                    tied: !untied,
                    fresh_bias: false,
                },
                config: ExactConfig::builder()
                    .units(units)
                    .replicas(8)
                    .seed(seed)
                    .build()
                    .map_err(crate::err)?,
            }
        }
    };
    let request = Request {
        steps,
        weights: wl,
        points,
        source,
    };
    let v = long(py, move || {
        let s = mfrnn::spectrum::for_cell(&c, &p, &request)?;
        for (name, v) in [
            ("m1", s.m1),
            ("m2", s.m2),
            ("normalized_variance", s.normalized_variance),
        ] {
            if !v.is_finite() {
                return Err(E::Overflow {
                    quantity: format!("the spectrum's {name} at --steps {steps}"),
                    reason: format!(
                        "{name} = {v:e} is beyond the largest double (1.8e308) (χ₁ = {}); use \
                         fewer --steps",
                        s.summary.chi_1
                    ),
                });
            }
        }
        let d = s
            .density
            .as_ref()
            .ok_or_else(|| invalid("points", 0.0, "at least 1"))?;
        let (empirical, ks) = if simulate {
            let cfg = SimConfig::builder()
                .width(width)
                .batch(1)
                .seeds(seeds)
                .seed(seed)
                .weights(wl)
                .tied(!untied)
                .build()?;
            let js = jacobian::sample(&c, &p, &cfg, steps, burn_in, acc)?;
            let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
            (Some(js.moments), Some(ks))
        } else {
            (None, None)
        };
        json(&SpectrumOut {
            cell: c.kind().as_str(),
            m1: s.m1,
            m2: s.m2,
            normalized_variance: s.normalized_variance,
            moments: s.moments.clone(),
            support: d.support,
            lambda: d.lambda.clone(),
            density: d.density.clone(),
            exact: s.exact,
            q_star: s.summary.q_star,
            chi_1: s.summary.chi_1,
            mass_on_grid: d.mass,
            unit_recursion: s.unit_recursion,
            law_atoms: s.law_atoms,
            solver_failures: d.failures,
            empirical,
            ks_distance: ks,
        })
    })?;
    out(py, v)
}

/// `mfrnn init --json`'s object (closed form).
#[derive(Serialize)]
struct InitOut<'a> {
    cell: CellKind,
    activation: &'a str,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
    q_star: f64,
    #[serde(rename = "Q_star")]
    big_q_star: f64,
    chi_1: f64,
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    mu: &'a [f64],
    normalized_variance_per_step: PerWeights,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized_variance_per_step_unit_process: Option<UnitProcessVariance>,
    spectrum_exact: bool,
    spectral_width: SpectralWidth,
    fixed_point: &'a Option<FixedPointCheck>,
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    design: Option<DesignOut<'a>>,
}

#[derive(Serialize)]
struct DesignOut<'a> {
    horizon: usize,
    max_width_ratio: f64,
    weights: WeightLaw,
    rms_ratio: f64,
    xi_c: f64,
    objective: design::Objective,
    frontier: &'a [design::FrontierPoint],
    attainable: &'a str,
}

/// The sampled network as arrays: `W` `(width, width)`, `V` `(width, input_dim)`, `b`
/// `(width,)`, float64, C order — the arrays `mfrnn init --sample` writes as `.npy` files.
fn weight_arrays(
    py: Python<'_>,
    d: &Bound<'_, PyAny>,
    w: mfrnn::init::weights::NetworkWeights,
) -> PyResult<()> {
    let d = d.cast::<PyDict>()?;
    let rows = |m: &nalgebra::DMatrix<f64>| -> PyResult<Py<PyAny>> {
        let mut flat: Vec<f64> = Vec::with_capacity(m.len());
        for i in 0..m.nrows() {
            flat.extend(m.row(i).iter());
        }
        Ok(PyArray1::from_vec(py, flat)
            .reshape([m.nrows(), m.ncols()])?
            .into_any()
            .unbind())
    };
    d.set_item("W", rows(&w.w)?)?;
    d.set_item("V", rows(&w.v)?)?;
    d.set_item("b", PyArray1::from_vec(py, w.b))?;
    Ok(())
}

/// Critical initialization: the scales with `χ₁ = 1` at a target `q_star` (closed form
/// (I.4)–(I.5), or for the minimalRNN `theory="exact"`), its predicted spectral width at
/// `horizon`, an inverse design (`max_width_ratio`), and with `sample=True` sampled weights
/// `W`, `V`, `b` as NumPy arrays (instead of the CLI's `.npy` files and `files` key; the
/// same draw for the same `seed`) — `mfrnn init --json`.
#[pyfunction]
#[pyo3(signature = (*, r, cell="vanilla", phi=None, q_star=None, mu_b=None, sigma_b=None,
    sigma_v=None, horizon=None, max_width_ratio=None, objective=None, weights=None,
    sample=false, width=None, input_dim=None, seed=None, theory="mean-field", paths=None,
    replicas=None))]
#[allow(clippy::too_many_arguments)]
fn init(
    py: Python<'_>,
    r: f64,
    cell: &str,
    phi: Option<&str>,
    q_star: Option<f64>,
    mu_b: Option<f64>,
    sigma_b: Option<f64>,
    sigma_v: Option<f64>,
    horizon: Option<&Bound<'_, PyAny>>,
    max_width_ratio: Option<f64>,
    objective: Option<&str>,
    weights: Option<&str>,
    sample: bool,
    width: Option<&Bound<'_, PyAny>>,
    input_dim: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    theory: &str,
    paths: Option<&Bound<'_, PyAny>>,
    replicas: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let kind = parse_cell(cell)?;
    let theory = parse_theory(theory)?;
    let (horizon_given, horizon) = (
        horizon.is_some(),
        opt_count("horizon", horizon)?.unwrap_or(10),
    );
    let (width_given, width) = (width.is_some(), opt_count("width", width)?.unwrap_or(512));
    let input_dim = opt_count("input-dim", input_dim)?;
    let (seed_given, seed) = (seed.is_some(), opt_seed(seed)?.unwrap_or(1));
    let (paths, replicas) = (opt_count("paths", paths)?, opt_count("replicas", replicas)?);
    let weights_given = weights.is_some();
    let wl: WeightLaw = weights
        .unwrap_or("orthogonal")
        .parse()
        .map_err(crate::err)?;
    if q_star.is_some() && max_width_ratio.is_some() {
        return Err(crate::err(E::Unsupported(
            "--q-star and --max-width-ratio cannot be used together (the design searches for q*)"
                .into(),
        )));
    }
    if sigma_b.is_some() && sigma_v.is_some() {
        return Err(crate::err(E::Unsupported(
            "--sigma-b and --sigma-v cannot be used together (one is solved for)".into(),
        )));
    }
    let objective_value = match objective.map(str::to_ascii_lowercase).as_deref() {
        None | Some("largest-q-star") => design::Objective::LargestQStar,
        Some("longest-memory") => design::Objective::LongestMemory,
        Some(other) => {
            return Err(crate::err(E::UnknownName {
                kind: "objective",
                name: other.into(),
                expected: "largest-q-star, longest-memory".into(),
            }));
        }
    };
    let given = match (sigma_b, sigma_v) {
        (_, Some(sv)) => Given::SigmaV(sv),
        (Some(sb), None) => Given::SigmaB(sb),
        (None, None) => Given::SigmaB(0.0),
    };
    if theory == Theory::Exact {
        if kind != CellKind::Minimal {
            return Err(crate::err(E::Unsupported(
                "init --theory exact is for --cell minimal: the vanilla cell's same-time \
                 statistics are the mean-field maps', so its closed form is already exact"
                    .into(),
            )));
        }
        if phi.is_some() {
            return Err(crate::err(E::Unsupported(
                "--phi does not apply to --cell minimal (its gate is the logistic sigmoid)".into(),
            )));
        }
        refuse(
            &[
                (max_width_ratio.is_some(), "--max-width-ratio"),
                (objective.is_some(), "--objective"),
                (horizon_given, "--horizon"),
            ],
            "to init --theory exact (it solves χ₁ = 1 at a given --q-star)",
        )?;
        if !sample {
            refuse(
                &[
                    (width_given, "--width"),
                    (input_dim.is_some(), "--input-dim"),
                    (weights_given, "--weights"),
                ],
                "without --sample",
            )?;
        }
        let q = q_star.ok_or_else(|| {
            crate::err(E::Parse {
                what: "arguments",
                input: "init --theory exact".into(),
                reason: "give --q-star (the target gate variance)".into(),
            })
        })?;
        let settings =
            ExactSettings::new(paths.unwrap_or(1024), replicas.unwrap_or(8), 256, 200, seed)
                .map_err(crate::err)?;
        let (v, net) = long(py, move || {
            let target = Target::q_star(q)
                .mu_b(mu_b.unwrap_or(0.0))
                .r(r)
                .given(given);
            let c = mfrnn::init::exact::minimal_exact(&target, &settings)?;
            let net = if sample {
                let mut init = c.closed_form.clone();
                init.params = init
                    .params
                    .to_builder()
                    .sigma_w(c.sigma_w)
                    .sigma_v(c.sigma_v)
                    .sigma_b(c.sigma_b)
                    .build()?;
                init.big_q_star = c.big_q_star;
                init.chi_1 = c.chi_1;
                Some(weights::sample(
                    &init,
                    width,
                    input_dim.unwrap_or(width),
                    wl,
                    seed,
                )?)
            } else {
                None
            };
            Ok((json(&c)?, net))
        })?;
        let o = to_py(py, &v)?;
        if let Some(net) = net {
            weight_arrays(py, &o, net)?;
        }
        return Ok(o.unbind());
    }
    refuse(
        &[
            (paths.is_some(), "--paths"),
            (replicas.is_some(), "--replicas"),
        ],
        "to the closed-form initialization (it samples nothing); use --theory exact",
    )?;
    if !sample {
        refuse(
            &[
                (width_given, "--width"),
                (input_dim.is_some(), "--input-dim"),
            ],
            "without --sample",
        )?;
        if max_width_ratio.is_none() {
            refuse(
                &[(weights_given, "--weights")],
                "without --max-width-ratio or --sample (the output lists both weight laws)",
            )?;
        }
        if kind == CellKind::Vanilla {
            refuse(
                &[(seed_given, "--seed")],
                "to --cell vanilla without --sample (nothing is sampled)",
            )?;
        }
    }
    if max_width_ratio.is_none() || kind == CellKind::Vanilla {
        refuse(
            &[(objective.is_some(), "--objective")],
            "except to the minimalRNN design (--cell minimal --max-width-ratio)",
        )?;
    }
    let c = Cell::of_kind(kind, phi).map_err(crate::err)?;
    let (v, net) = long(py, move || {
        let mut dsg: Option<design::Design> = None;
        let ci = if let Some(ratio) = max_width_ratio {
            let bound = design::WidthBound::new(horizon, ratio, wl)?;
            let grid: Vec<f64> = match (&c, mu_b) {
                (Cell::Minimal, None) => (-4..=8).map(f64::from).collect(),
                _ => vec![mu_b.unwrap_or(0.0)],
            };
            let d = design::design(&c, r, given, &grid, bound, objective_value)?;
            let ci = d.init.clone();
            dsg = Some(d);
            ci
        } else {
            let q = q_star.ok_or_else(|| E::Parse {
                what: "arguments",
                input: "init".into(),
                reason: "give --q-star, or --max-width-ratio (with --horizon) to search for it"
                    .into(),
            })?;
            mfrnn::init::critical(
                &c,
                &Target {
                    q_star: q,
                    mu_b: mu_b.unwrap_or(0.0),
                    r,
                    given,
                },
            )?
        };
        let sw = ci.spectral_width(horizon)?;
        let unit = match ci.cell {
            Cell::Minimal => Some(ci.unit_process_step_variance(32_000, 100, seed)?),
            Cell::Vanilla(_) => None,
        };
        let net = if sample {
            Some(weights::sample(
                &ci,
                width,
                input_dim.unwrap_or(width),
                wl,
                seed,
            )?)
        } else {
            None
        };
        let v = json(&InitOut {
            cell: ci.cell.kind(),
            activation: ci.cell.activation_name(),
            sigma_w: ci.params.sigma_w(),
            sigma_v: ci.params.sigma_v(),
            sigma_b: ci.params.sigma_b(),
            mu_b: ci.params.mu_b(),
            r: ci.params.r(),
            q_star: ci.q_star,
            big_q_star: ci.big_q_star,
            chi_1: ci.chi_1,
            mu: &ci.mu,
            normalized_variance_per_step: ci.normalized_variance_per_step,
            normalized_variance_per_step_unit_process: unit,
            spectrum_exact: ci.spectrum_exact,
            spectral_width: sw,
            fixed_point: &ci.fixed_point,
            warnings: &ci.warnings,
            design: dsg.as_ref().map(|d| DesignOut {
                horizon: d.bound.horizon,
                max_width_ratio: d.bound.max_rms_ratio,
                weights: d.bound.weights,
                rms_ratio: d.rms_ratio,
                xi_c: d.xi_c,
                objective: d.objective,
                frontier: &d.frontier,
                attainable: &d.attainable,
            }),
        })?;
        Ok((v, net))
    })?;
    let o = to_py(py, &v)?;
    if let Some(net) = net {
        weight_arrays(py, &o, net)?;
    }
    Ok(o.unbind())
}

/// A choice among names (any case), else `mfrnn.Error` naming the kind.
fn choose<T: Copy>(kind: &'static str, s: &str, options: &[(&str, T)]) -> PyResult<T> {
    let l = s.to_ascii_lowercase();
    options
        .iter()
        .find(|(n, _)| *n == l)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            crate::err(E::UnknownName {
                kind,
                name: s.into(),
                expected: options
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        })
}

fn padding(pad: &str) -> PyResult<Padding> {
    choose(
        "pad",
        pad,
        &[("noise", Padding::Noise), ("zero", Padding::Zero)],
    )
}

fn optimizer(name: &str, momentum: f64) -> PyResult<Optimizer> {
    let o = choose(
        "optimizer",
        name,
        &[("sgd", 0u8), ("rmsprop", 1), ("adam", 2)],
    )?;
    Ok(match o {
        0 => Optimizer::sgd(momentum),
        1 => Optimizer::rmsprop(),
        _ => Optimizer::adam(),
    })
}

fn precision(name: &str) -> PyResult<Precision> {
    choose(
        "precision",
        name,
        &[("f32", Precision::F32), ("f64", Precision::F64)],
    )
}

fn check_clip(clip: f64, no_clip: bool) -> PyResult<Option<f64>> {
    if !(no_clip || clip.is_finite() && clip > 0.0) {
        return Err(crate::err(invalid(
            "clip",
            clip,
            "a finite number > 0 (or --no-clip)",
        )));
    }
    Ok((!no_clip).then_some(clip))
}

/// The vanilla cell's `phi` (default tanh; ignored for the minimalRNN, as in the CLI).
fn train_cell(cell: &str, phi: &str) -> PyResult<Cell> {
    let kind = parse_cell(cell)?;
    let vanilla = kind == CellKind::Vanilla;
    Cell::of_kind(kind, vanilla.then_some(phi)).map_err(crate::err)
}

/// One training run by backpropagation through time on a task (`digits`, `recall`, `copy`,
/// `adding`): learning curve, held-out loss and accuracy, diagnostics (gradient norms, clipped
/// steps, wall time in `seconds`) — `mfrnn train --json` (without `--save`).
#[pyfunction]
#[pyo3(signature = (*, cell="vanilla", phi="tanh", task="digits", padding=10, pad="noise",
    classes=10, dim=16, width=64, init="critical", sigma_w=1.0, sigma_v=None, sigma_b=None,
    mu_b=None, q_star=None, weights="orthogonal", embedding_r=1.0, optimizer="adam", lr=2e-3,
    momentum=0.9, clip=1.0, no_clip=false, explode=1e6, batch=32, steps=2000, eval_every=200,
    eval_size=1000, seed=1, data_seed=0, precision="f32", batch_split=1))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    cell: &str,
    phi: &str,
    task: &str,
    padding: usize,
    pad: &str,
    classes: usize,
    dim: usize,
    width: usize,
    init: &str,
    sigma_w: f64,
    sigma_v: Option<f64>,
    sigma_b: Option<f64>,
    mu_b: Option<f64>,
    q_star: Option<f64>,
    weights: &str,
    embedding_r: f64,
    optimizer: &str,
    lr: f64,
    momentum: f64,
    clip: f64,
    no_clip: bool,
    explode: f64,
    batch: usize,
    steps: usize,
    eval_every: usize,
    eval_size: usize,
    seed: u64,
    data_seed: u64,
    precision: &str,
    batch_split: usize,
) -> PyResult<Py<PyAny>> {
    let c = train_cell(cell, phi)?;
    let minimal = c.kind() == CellKind::Minimal;
    let pad = self::padding(pad)?;
    let task = match choose(
        "task",
        task,
        &[("digits", 0u8), ("recall", 1), ("copy", 2), ("adding", 3)],
    )? {
        0 => Task::Digits { padding, pad },
        1 => Task::Recall {
            padding,
            classes,
            dim,
            pad,
        },
        2 => Task::Copy { delay: padding },
        _ => Task::Adding { length: padding },
    };
    let weights: WeightLaw = weights.parse().map_err(crate::err)?;
    let mu_b = mu_b.unwrap_or(if minimal { 4.0 } else { 0.0 });
    let scheme = match choose(
        "init",
        init,
        &[
            ("theory", 0u8),
            ("critical", 1),
            ("pytorch", 2),
            ("glorot", 3),
            ("orthogonal", 4),
            ("identity", 5),
        ],
    )? {
        0 => InitScheme::Theory {
            sigma_w,
            sigma_v: sigma_v.unwrap_or(1.0),
            sigma_b: sigma_b.unwrap_or(0.0),
            mu_b,
            weights,
        },
        1 => InitScheme::Critical {
            q_star: q_star.unwrap_or(if minimal { 16.0 } else { 0.05 }),
            mu_b,
            sigma_b,
            sigma_v,
            weights,
        },
        2 => InitScheme::PyTorch,
        3 => InitScheme::Glorot,
        4 => InitScheme::Orthogonal,
        _ => InitScheme::Identity,
    };
    let optimizer = self::optimizer(optimizer, momentum)?;
    let clip = check_clip(clip, no_clip)?;
    let mut cfg = RunConfig::new(c, task);
    cfg.width = width;
    cfg.init = scheme;
    cfg.embedding_r = embedding_r;
    cfg.optimizer = optimizer;
    cfg.lr = lr;
    cfg.clip = clip;
    cfg.explode = explode;
    cfg.batch = batch;
    cfg.steps = steps;
    cfg.eval_every = eval_every;
    cfg.eval_size = eval_size;
    cfg.seed = seed;
    cfg.data_seed = data_seed;
    cfg.batch_split = batch_split;
    cfg.precision = self::precision(precision)?;
    let v = long(py, move || {
        cfg.prepare()?;
        json(&training::train_with_progress(&cfg, &|_| {})?)
    })?;
    out(py, v)
}

/// Grid values: the CLI's `lo:hi:n` / `a,b,c` text or a sequence of floats.
fn grid_values(v: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(text) = v.extract::<String>() {
        let bad = |reason: &str| {
            crate::err(E::Parse {
                what: "values (lo:hi:n or a list a,b,c)",
                input: text.clone(),
                reason: reason.to_string(),
            })
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("empty (the grid needs at least one value)"));
        }
        if t.contains(':') {
            let parts: Vec<&str> = t.split(':').collect();
            if parts.len() != 3 {
                return Err(bad("expected three parts lo:hi:n"));
            }
            let lo: f64 = parts[0]
                .trim()
                .parse()
                .map_err(|_| bad("lo is not a number"))?;
            let hi: f64 = parts[1]
                .trim()
                .parse()
                .map_err(|_| bad("hi is not a number"))?;
            let n: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| bad("n is not a whole number"))?;
            if n == 0 || n > trainability::MAX_CELLS {
                return Err(bad("n must be 1 to 100 000"));
            }
            if !(lo.is_finite() && hi.is_finite()) {
                return Err(bad("lo and hi must be finite"));
            }
            if n == 1 {
                return Ok(vec![lo]);
            }
            return Ok((0..n)
                .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
                .collect());
        }
        return t
            .split(',')
            .map(|p| p.trim().parse::<f64>().map_err(|_| bad("not a number")))
            .collect();
    }
    v.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "argument 'values': expected 'lo:hi:n', 'a,b,c' or a sequence of floats",
        )
    })
}

fn grid_horizons(v: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    if let Ok(text) = v.extract::<String>() {
        if text.trim().is_empty() {
            return Err(crate::err(E::Parse {
                what: "horizons (a list of whole numbers, e.g. 1,5,10)",
                input: text,
                reason: "empty (the grid needs at least one horizon)".into(),
            }));
        }
        return text
            .split(',')
            .map(|p| {
                p.trim().parse::<usize>().map_err(|_| {
                    crate::err(E::Parse {
                        what: "horizons (a list of whole numbers, e.g. 1,5,10)",
                        input: text.clone(),
                        reason: format!("{p} is not a whole number >= 0"),
                    })
                })
            })
            .collect();
    }
    let items: Vec<Bound<'_, PyAny>> = v.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "argument 'horizons': expected '1,5,10' or a sequence of whole numbers",
        )
    })?;
    items.iter().map(|x| count("horizons", x)).collect()
}

/// A trainability grid: every (value of `axis`, horizon `T`) cell trained for `seeds` seeds
/// with the same budget — `mfrnn trainability run` held in memory. Returns `grid` (the grid
/// file's header), `cells` (its lines, in index order), and `mean_score`, `se_score`,
/// `mean_accuracy` (NaN where undefined) and `trainable` as 2-D arrays of shape
/// `(len(horizons), len(values))` (row `i`: horizon `horizons[i]`).
#[pyfunction]
#[pyo3(signature = (*, values, horizons, cell="vanilla", phi="tanh", task="digits", pad="noise",
    classes=10, dim=16, width=32, steps=300, batch=32, lr=2e-3, optimizer="adam",
    momentum=0.9, clip=1.0, no_clip=false, explode=1e6, eval_size=1000, data_seed=0,
    embedding_r=1.0, precision="f32", seeds=3, seed=1, threads=None, axis=None, sigma_w=1.0,
    sigma_v=1.0, sigma_b=0.0, mu_b=None, weights="gaussian", threshold=0.5))]
#[allow(clippy::too_many_arguments)]
fn trainability_grid(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    horizons: &Bound<'_, PyAny>,
    cell: &str,
    phi: &str,
    task: &str,
    pad: &str,
    classes: usize,
    dim: usize,
    width: usize,
    steps: usize,
    batch: usize,
    lr: f64,
    optimizer: &str,
    momentum: f64,
    clip: f64,
    no_clip: bool,
    explode: f64,
    eval_size: usize,
    data_seed: u64,
    embedding_r: f64,
    precision: &str,
    seeds: usize,
    seed: u64,
    threads: Option<usize>,
    axis: Option<&str>,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: Option<f64>,
    weights: &str,
    threshold: f64,
) -> PyResult<Py<PyAny>> {
    let c = train_cell(cell, phi)?;
    let minimal = c.kind() == CellKind::Minimal;
    let pad = self::padding(pad)?;
    let task = match choose(
        "task",
        task,
        &[("digits", 0u8), ("recall", 1), ("copy", 2), ("adding", 3)],
    )? {
        0 => GridTask::Digits { pad },
        1 => GridTask::Recall { classes, dim, pad },
        2 => GridTask::Copy,
        _ => GridTask::Adding,
    };
    let axis = match axis {
        Some(a) => choose(
            "axis",
            a,
            &[("sigma-w", TAxis::SigmaW), ("mu-b", TAxis::MuB)],
        )?,
        None if minimal => TAxis::MuB,
        None => TAxis::SigmaW,
    };
    let training = Training {
        width,
        steps,
        batch,
        lr,
        optimizer: self::optimizer(optimizer, momentum)?,
        clip: check_clip(clip, no_clip)?,
        explode,
        eval_size,
        data_seed,
        embedding_r,
        precision: self::precision(precision)?,
    };
    let grid = GridSpec {
        cell: c,
        task,
        axis,
        values: grid_values(values)?,
        horizons: grid_horizons(horizons)?,
        seeds,
        first_seed: seed,
        init: BaseInit {
            sigma_w,
            sigma_v,
            sigma_b,
            mu_b: mu_b.unwrap_or(if minimal { 4.0 } else { 0.0 }),
            weights: weights.parse().map_err(crate::err)?,
        },
        training,
        threshold,
    };
    if threads == Some(0) {
        return Err(crate::err(invalid("threads", 0.0, "at least 1 thread")));
    }
    let (nv, nt) = (grid.values.len(), grid.horizons.len());
    let v = long(py, move || {
        let run = || trainability::run_in_memory(&grid, &|_| {});
        let file = match threads {
            None => run()?,
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| E::Unsupported(format!("cannot start {n} threads: {e}")))?
                .install(run)?,
        };
        let mut cells: Vec<&trainability::CellResult> = file.cells.iter().collect();
        cells.sort_by_key(|c| c.index);
        let nan = f64::NAN;
        let (mut ms, mut se, mut acc) = (
            vec![vec![nan; nv]; nt],
            vec![vec![nan; nv]; nt],
            vec![vec![nan; nv]; nt],
        );
        let mut ok = vec![vec![false; nv]; nt];
        for c in &cells {
            let (iv, it) = file.grid.position(c.index);
            ms[it][iv] = c.mean_score;
            se[it][iv] = c.se_score.unwrap_or(nan);
            acc[it][iv] = c.mean_accuracy.unwrap_or(nan);
            ok[it][iv] = c.trainable;
        }
        Ok((json(&file.grid)?, json(&cells)?, ms, se, acc, ok))
    })?;
    let (g, cells, ms, se, acc, ok) = v;
    let d = PyDict::new(py);
    d.set_item("grid", to_py(py, &g)?)?;
    d.set_item("cells", to_py(py, &cells)?)?;
    let arr = |m: Vec<Vec<f64>>| -> PyResult<Bound<'_, PyAny>> {
        let flat: Vec<f64> = m.into_iter().flatten().collect();
        Ok(PyArray1::from_vec(py, flat).reshape([nt, nv])?.into_any())
    };
    d.set_item("mean_score", arr(ms)?)?;
    d.set_item("se_score", arr(se)?)?;
    d.set_item("mean_accuracy", arr(acc)?)?;
    let flat: Vec<bool> = ok.into_iter().flatten().collect();
    d.set_item("trainable", PyArray1::from_vec(py, flat).reshape([nt, nv])?)?;
    Ok(d.into_any().unbind())
}

/// Process-wide limits on the estimated memory and time of any call (the CLI's global
/// `--max-memory` and `--max-time`): sizes like `"32G"`, `"512M"`, durations like `"90s"`,
/// `"30m"`, `"inf"`. `None` leaves a limit as it is. Returns the limits in force as
/// `{max_memory_bytes, max_time_seconds}`.
#[pyfunction]
#[pyo3(signature = (*, max_memory=None, max_time=None))]
fn set_limits(
    py: Python<'_>,
    max_memory: Option<&str>,
    max_time: Option<&str>,
) -> PyResult<Py<PyAny>> {
    use mfrnn::budget;
    if let Some(m) = max_memory {
        budget::set_memory_limit(Some(budget::parse_memory(m).map_err(crate::err)?))
            .map_err(crate::err)?;
    }
    if let Some(t) = max_time {
        budget::set_time_limit(Some(budget::parse_duration(t).map_err(crate::err)?))
            .map_err(crate::err)?;
    }
    out(
        py,
        j!({"max_memory_bytes": budget::memory_limit(), "max_time_seconds": budget::time_limit()}),
    )
}

/// Wall time in seconds of `n` mean-field `fixed_point` computations done in Rust, with the
/// work of one `fixed_point` call (cell, parameters, theory, `analyze`; no conversion to
/// Python objects): the reference for the per-call overhead measured by
/// `benches/peers/python_overhead.py`.
#[pyfunction]
#[pyo3(signature = (n, *, phi, sigma_w, sigma_v, sigma_b, r, rho=0.0))]
#[allow(clippy::too_many_arguments)]
fn _rust_fixed_point_loop(
    py: Python<'_>,
    n: usize,
    phi: &str,
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    r: f64,
    rho: f64,
) -> PyResult<f64> {
    let phi = phi.to_string();
    quick(py, move || {
        let t = std::time::Instant::now();
        for _ in 0..n {
            let c = Cell::of_kind(CellKind::Vanilla, Some(&phi))?;
            let p = CellParams::builder()
                .sigma_w(std::hint::black_box(sigma_w))
                .sigma_v(sigma_v)
                .sigma_b(sigma_b)
                .r(r)
                .build()?;
            c.validate(&p)?;
            std::hint::black_box(c.mean_field(&p)?.analyze(rho)?);
        }
        Ok(t.elapsed().as_secs_f64())
    })
}

/// A deliberate panic on the short (`"quick"`) or worker-thread (`"long"`) path: no panic may
/// reach Python as anything but `RuntimeError` (checked in the Python suite).
#[pyfunction]
fn _panic_for_test(py: Python<'_>, path: &str) -> PyResult<()> {
    let boom = || -> mfrnn::Result<()> { panic!("deliberate test panic") };
    match path {
        "quick" => quick(py, boom),
        _ => long(py, boom),
    }
}

/// The names of the wrapped functions, registered on the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(expect, m)?)?;
    m.add_function(wrap_pyfunction!(fixed_point, m)?)?;
    m.add_function(wrap_pyfunction!(trajectory, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(phase, m)?)?;
    m.add_function(wrap_pyfunction!(spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(set_limits, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(_rust_fixed_point_loop, m)?)?;
    m.add_function(wrap_pyfunction!(trainability_grid, m)?)?;
    Ok(())
}
