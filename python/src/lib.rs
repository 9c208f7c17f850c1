//! `mfrnn._native`: the Python extension over the mfrnn library (a thin layer).
//!
//! Each function takes the keyword arguments of the CLI command it mirrors (flags with `-`
//! spelled `_`), runs the same library calls as the CLI, and returns the CLI's JSON object as
//! Python values: objects as dicts, arrays of numbers as NumPy arrays (float64; int64 for
//! integer arrays; 2-D for arrays of equal-length numeric arrays; `null` inside a float array
//! as NaN). The package `mfrnn` wraps the dicts into read-only `Result` objects.
//!
//! Errors of the library raise `mfrnn.Error` (a `ValueError`) with the library's message,
//! which names the parameter. Long calls run on a worker thread with the GIL released; the
//! calling thread wakes every 50 ms to check for signals, so Ctrl-C raises
//! `KeyboardInterrupt` at once (the worker finishes in the background and its result is
//! dropped: the library has no cancellation points). A panic inside the library is caught and
//! raised as `RuntimeError`, never as pyo3's `PanicException`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use numpy::{PyArray1, PyArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

mod calls;

create_exception!(
    mfrnn,
    Error,
    PyValueError,
    "An error of the mfrnn library: bad input (the message names the parameter), a refused \
     size, or a numerical failure with its diagnostics."
);

/// The library's error as `mfrnn.Error` (a `ValueError`).
pub(crate) fn err(e: mfrnn::Error) -> PyErr {
    Error::new_err(e.to_string())
}

/// A panic's payload as text.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

fn panic_err(p: &(dyn std::any::Any + Send)) -> PyErr {
    PyRuntimeError::new_err(format!(
        "internal error in mfrnn (a bug: please report it with the call): {}",
        panic_text(p)
    ))
}

/// Runs a short computation with the GIL released, catching panics.
pub(crate) fn quick<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> mfrnn::Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(e)),
        Err(p) => Err(panic_err(p.as_ref())),
    }
}

/// Runs a long computation on a worker thread with the GIL released; checks for signals
/// (Ctrl-C) every 50 ms, returning the `KeyboardInterrupt` at once.
pub(crate) fn long<T: Send + 'static>(
    py: Python<'_>,
    f: impl FnOnce() -> mfrnn::Result<T> + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("mfrnn-call".into())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut rx = rx;
    loop {
        // The receiver moves in and out: it may not be shared with the detached closure.
        let (got, back) = py.detach(move || (rx.recv_timeout(Duration::from_millis(50)), rx));
        rx = back;
        match got {
            Ok(Ok(Ok(v))) => return Ok(v),
            Ok(Ok(Err(e))) => return Err(err(e)),
            Ok(Err(p)) => return Err(panic_err(p.as_ref())),
            Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "internal error in mfrnn: the worker thread ended without a result",
                ));
            }
        }
    }
}

/// A serialisable library result as a JSON value (what the CLI prints).
pub(crate) fn json<T: serde::Serialize>(x: &T) -> mfrnn::Result<Value> {
    serde_json::to_value(x).map_err(|e| mfrnn::Error::Unsupported(format!("serialising: {e}")))
}

/// The numeric content of a JSON array: `Some((values, all_integers))` when it is not empty
/// and every element is a number or null (null as NaN: an all-null array is a float array
/// of NaN, e.g. a row of a phase diagram where the quantity is undefined everywhere).
fn numeric(a: &[Value]) -> Option<(Vec<f64>, bool)> {
    let mut out = Vec::with_capacity(a.len());
    let mut ints = true;
    for v in a {
        match v {
            Value::Number(n) => {
                if n.is_i64() {
                    out.push(n.as_i64()? as f64);
                } else {
                    ints = false;
                    out.push(n.as_f64()?);
                }
            }
            Value::Null => {
                ints = false;
                out.push(f64::NAN);
            }
            _ => return None,
        }
    }
    (!a.is_empty()).then_some((out, ints))
}

fn int_array<'py>(py: Python<'py>, a: &[Value]) -> Bound<'py, PyAny> {
    let v: Vec<i64> = a.iter().map(|x| x.as_i64().unwrap_or(0)).collect();
    PyArray1::from_vec(py, v).into_any()
}

/// A JSON value as Python objects (see the module doc for the array rules).
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            if let Some((vals, ints)) = numeric(a) {
                return Ok(if ints {
                    int_array(py, a)
                } else {
                    PyArray1::from_vec(py, vals).into_any()
                });
            }
            // Equal-length numeric rows: a 2-D array.
            if !a.is_empty() {
                let rows: Option<Vec<(Vec<f64>, bool)>> = a
                    .iter()
                    .map(|r| r.as_array().and_then(|r| numeric(r)))
                    .collect();
                if let Some(rows) = rows {
                    let n = rows[0].0.len();
                    if rows.iter().all(|r| r.0.len() == n) {
                        let ints = rows.iter().all(|r| r.1);
                        let flat: Vec<f64> = rows.into_iter().flat_map(|r| r.0).collect();
                        let arr = PyArray1::from_vec(py, flat).reshape([a.len(), n])?;
                        return Ok(if ints {
                            arr.cast_array::<i64>(false)?.into_any()
                        } else {
                            arr.into_any()
                        });
                    }
                }
            }
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    calls::register(m)
}
