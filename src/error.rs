//! The crate-wide error type.
//!
//! Every fallible entry point of mfrnn returns [`Result<T, Error>`](Result). Bad input is
//! reported at construction time with the name of the offending parameter and the range it
//! must lie in; numerical failures carry the diagnostics the solver had when it gave up.

use thiserror::Error as ThisError;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in mfrnn.
#[derive(Debug, Clone, PartialEq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is outside its admissible range (or not finite).
    #[error("invalid parameter `{name}` = {}: expected {expected}", fmt_num(*.value))]
    InvalidParameter {
        /// The parameter's name as the user wrote it (library argument or CLI flag).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The admissible range, in words.
        expected: &'static str,
    },
    /// A name (activation, integrand factor, ...) is not known.
    #[error("unknown {kind} `{name}`: expected one of {expected}")]
    UnknownName {
        /// What kind of name this was (`activation`, `integrand factor`, ...).
        kind: &'static str,
        /// The name given.
        name: String,
        /// The accepted names.
        expected: String,
    },
    /// A textual specification (integrand, schedule, grid) does not parse.
    #[error("cannot parse {what} `{input}`: {reason}")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// The input text.
        input: String,
        /// Why it failed.
        reason: String,
    },
    /// An integrand returned NaN or an infinity at a quadrature node.
    #[error(
        "integrand is not finite at x = {} (value {})",
        fmt_num(*.at),
        fmt_num(*.value)
    )]
    NonFiniteIntegrand {
        /// The argument (in the integrand's own variable) where it happened.
        at: f64,
        /// The value returned.
        value: f64,
    },
    /// Numerical integration did not reach the accuracy it promises.
    #[error(
        "{method} integration did not converge: estimate {estimate} with error estimate \
         {error_estimate} after {evaluations} evaluations"
    )]
    Integration {
        /// The method that failed.
        method: &'static str,
        /// The best estimate reached.
        estimate: f64,
        /// Its error estimate.
        error_estimate: f64,
        /// Integrand evaluations spent.
        evaluations: usize,
    },
    /// A map has no (finite, admissible) fixed point.
    #[error("no fixed point of the {map}: {reason}")]
    NoFixedPoint {
        /// Which map (`variance map`, `correlation map`, ...).
        map: &'static str,
        /// Why, with the diagnostics the solver had.
        reason: String,
    },
    /// A design target cannot be met: which constraint failed and what is attainable.
    #[error("infeasible `{parameter}` = {}: {constraint}; {feasible}", fmt_num(*.value))]
    Infeasible {
        /// The target parameter as the user wrote it.
        parameter: &'static str,
        /// The requested value.
        value: f64,
        /// The constraint that failed, with the numbers.
        constraint: String,
        /// The feasible range (or what is attainable instead).
        feasible: String,
    },
    /// An output path is refused (before any work is done): it holds something mfrnn did not
    /// write, or cannot be written safely. See [`crate::output`] for the contract.
    #[error("refusing `--{flag}` {path}: {reason}")]
    OutputPath {
        /// The option the path came from, as the CLI spells it (`out`).
        flag: &'static str,
        /// The path.
        path: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// What was being done and the operating system's message.
        reason: String,
    },
    /// An iterative solver stopped before meeting its tolerance: which solver, the
    /// iterations it spent and the residual it had reached.
    #[error(
        "{solver} did not converge after {iterations} iterations (residual {residual:e}): {detail}"
    )]
    NoConvergence {
        /// The solver (`Brent root finder`, `spectral continuation`, ...).
        solver: &'static str,
        /// Iterations (or function evaluations) spent.
        iterations: usize,
        /// The residual when it gave up (its meaning is the solver's: `|f(x)|`, a norm, ...).
        residual: f64,
        /// Where and why, in words.
        detail: String,
    },
    /// An iterated map or a simulation left the range of double precision: the quantity, the
    /// step at which it did, its value there, and the reason when the theory knows it
    /// (e.g. a variance map that is unbounded for these parameters).
    #[error("{quantity} diverged at step {step}: {quantity} = {value:e}; {reason}")]
    Diverged {
        /// The statistic (`q`, `Q`, `C`, ...).
        quantity: &'static str,
        /// The first step (1-based) at which it was not finite or overflowed.
        step: usize,
        /// Its value there (an infinity or NaN, or the overflowing value).
        value: f64,
        /// Why, with the numbers (the theory's growth rate, or which input overflowed).
        reason: String,
    },
    /// A single computed result (not an iteration) is beyond the range of double precision.
    #[error("{quantity} overflows: {reason}")]
    Overflow {
        /// What was computed.
        quantity: String,
        /// Why, with the numbers.
        reason: String,
    },
    /// A requested combination of options is not supported.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A size would need more memory or time than the limits allow ([`crate::budget`]);
    /// refused before anything is allocated.
    #[error(
        "`{parameter}` = {} is too large: {task} would need about {needed}, more than the \
         limit of {limit}; raise it with {raise}",
        fmt_num(*.value)
    )]
    TooLarge {
        /// The parameter (CLI flag name) that drives the estimate.
        parameter: &'static str,
        /// Its value.
        value: f64,
        /// The workload.
        task: String,
        /// The estimate, with its unit (`8.0 TB of memory`, `3 days of computation`).
        needed: String,
        /// The limit in force, with its unit.
        limit: String,
        /// The CLI flag that raises the limit (`--max-memory`, `--max-time`; in the library
        /// `budget::set_memory_limit`, `budget::set_time_limit`).
        raise: &'static str,
    },
}

/// A number for messages: plain when moderate (`0.5`, `1000`), otherwise in scientific
/// notation (`1e308`, `2.5e-7`), so a huge or tiny input never prints as hundreds of digits.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub(crate) fn invalid(name: &'static str, value: f64, expected: &'static str) -> Self {
        Error::InvalidParameter {
            name,
            value,
            expected,
        }
    }
}

/// Checks that `value` is finite; otherwise an [`Error::InvalidParameter`] naming it.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(name, value, "a finite number"))
    }
}

/// Checks that `value` is finite, `>= 0` and has a finite square: a weight or bias scale
/// `σ` enters the theory as `σ²`, which overflows for `σ > 1.34e154`.
pub(crate) fn scale(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 && (value * value).is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(
            name,
            value,
            "a number >= 0 whose square is finite (at most 1.34e154)",
        ))
    }
}

/// Checks that `value` is finite and `>= 0`.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::invalid(name, value, "a finite number >= 0"))
    }
}
