//! Size limits: every workload estimates the memory and time it needs from its sizes and is
//! refused — with an [`Error::TooLarge`] naming the parameter that drives the estimate — before
//! it allocates anything, instead of aborting on a failed allocation or running for days.
//!
//! Two process-wide limits apply:
//!
//! - **memory**: by default half of the memory available when first asked (`MemAvailable` in
//!   `/proc/meminfo`; 4 GiB where that cannot be read), set with [`set_memory_limit`] (the
//!   CLI's `--max-memory 32G`);
//! - **time**: by default 24 hours of estimated computation, set with [`set_time_limit`]
//!   (the CLI's `--max-time 3d`).
//!
//! Estimates are deliberately coarse upper bounds (the largest arrays a workload holds at
//! once, counting every thread's working set; time at a conservative rate of
//! [`OPS_PER_SECOND`] floating-point operations per second per thread): they exist to refuse
//! what cannot work, not to predict run times. Each library constructor or entry point that
//! allocates by a user-given size calls [`Estimate::check`] first (`SimConfig::new`,
//! `RhoSchedule`, `ExactConfig` and the exact-theory sampler, the spectral density grid, the
//! simulators, weight sampling).
//!
//! Long computations also advance a process-wide work counter ([`tick`], read by
//! [`progress`]) that the CLI turns into a progress bar; it is only a display aid.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, fmt_num};

/// Memory limit when none was set and `/proc/meminfo` cannot be read: 4 GiB.
pub const FALLBACK_MEMORY: u64 = 4 << 30;

/// Default time limit: 24 hours of estimated computation.
pub const DEFAULT_TIME_LIMIT: f64 = 24.0 * 3600.0;

/// The rate at which time estimates count floating-point operations (per thread): a
/// conservative figure for this crate's dense kernels (nalgebra reaches several times more on
/// one core), so the estimate errs towards refusing only what is clearly out of reach.
pub const OPS_PER_SECOND: f64 = 1e9;

/// 0 = not set (use the default).
static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(0);
/// Seconds as `f64` bits; 0 = not set.
static TIME_LIMIT: AtomicU64 = AtomicU64::new(0);
static DEFAULT_MEMORY: OnceLock<u64> = OnceLock::new();
static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// Half of `MemAvailable` from `/proc/meminfo`, or [`FALLBACK_MEMORY`].
fn default_memory_limit() -> u64 {
    *DEFAULT_MEMORY.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    let rest = l.strip_prefix("MemAvailable:")?;
                    let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
                    Some(kb.saturating_mul(1024) / 2)
                })
            })
            .filter(|&b| b > 0)
            .unwrap_or(FALLBACK_MEMORY)
    })
}

/// The memory limit in bytes now in force.
pub fn memory_limit() -> u64 {
    match MEMORY_LIMIT.load(Ordering::Relaxed) {
        0 => default_memory_limit(),
        b => b,
    }
}

/// Whether the memory limit is the default (half the available memory).
pub fn memory_limit_is_default() -> bool {
    MEMORY_LIMIT.load(Ordering::Relaxed) == 0
}

/// Sets the memory limit in bytes for the whole process (`None`: back to the default).
///
/// # Errors
/// [`Error::InvalidParameter`] (`max-memory`) for 0.
pub fn set_memory_limit(bytes: Option<u64>) -> Result<()> {
    if bytes == Some(0) {
        return Err(Error::invalid("max-memory", 0.0, "at least 1 byte"));
    }
    MEMORY_LIMIT.store(bytes.unwrap_or(0), Ordering::Relaxed);
    Ok(())
}

/// The time limit in seconds now in force.
pub fn time_limit() -> f64 {
    match TIME_LIMIT.load(Ordering::Relaxed) {
        0 => DEFAULT_TIME_LIMIT,
        b => f64::from_bits(b),
    }
}

/// Sets the limit on estimated computation time, in seconds (`None`: back to 24 hours).
///
/// # Errors
/// [`Error::InvalidParameter`] (`max-time`) unless positive (infinity lifts the limit).
pub fn set_time_limit(seconds: Option<f64>) -> Result<()> {
    match seconds {
        None => TIME_LIMIT.store(0, Ordering::Relaxed),
        Some(s) if s > 0.0 => TIME_LIMIT.store(s.to_bits(), Ordering::Relaxed),
        Some(s) => return Err(Error::invalid("max-time", s, "a duration > 0")),
    }
    Ok(())
}

/// Parses a memory size: a number of bytes, or a number with a unit `K`, `M`, `G`, `T`
/// (powers of 1024; `KB`, `KiB`, … alike, case-insensitive), e.g. `32G`, `1.5GiB`, `512m`.
///
/// # Errors
/// [`Error::Parse`] (`max-memory`) naming what is wrong.
pub fn parse_memory(text: &str) -> Result<u64> {
    let perr = |reason: &str| Error::Parse {
        what: "--max-memory",
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| perr("expected a size such as 32G, 512M or 1.5GiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        _ => return Err(perr("unknown unit (use K, M, G or T)")),
    };
    let bytes = x * mult;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(perr("expected a positive size"));
    }
    Ok(if bytes >= u64::MAX as f64 {
        u64::MAX
    } else {
        bytes as u64
    })
}

/// Parses a duration: seconds, or a number with a unit `s`, `m`, `h`, `d`, e.g. `90s`,
/// `30m`, `48h`, `7d`; `inf` (or `none`) lifts the limit.
///
/// # Errors
/// [`Error::Parse`] (`max-time`) naming what is wrong.
pub fn parse_duration(text: &str) -> Result<f64> {
    let perr = |reason: &str| Error::Parse {
        what: "--max-time",
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim().to_ascii_lowercase();
    if t == "inf" || t == "none" {
        return Ok(f64::INFINITY);
    }
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        Some('d') => (&t[..t.len() - 1], 86400.0),
        _ => (t.as_str(), 1.0),
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| perr("expected a duration such as 90s, 30m, 48h, 7d or inf"))?;
    let s = x * mult;
    if s.is_nan() || s <= 0.0 {
        return Err(perr("expected a positive duration"));
    }
    Ok(s)
}

/// A byte count for messages: `8.0 TB`, `512 MB` (decimal units, 2–3 significant digits).
pub fn fmt_bytes(b: f64) -> String {
    const UNITS: [&str; 7] = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    if !b.is_finite() {
        return "an unbounded amount".into();
    }
    let mut x = b;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < UNITS.len() {
        x /= 1000.0;
        u += 1;
    }
    if x >= 1000.0 {
        return format!("{} bytes", fmt_num(float_sig(b)));
    }
    if u == 0 {
        format!("{x:.0} bytes")
    } else if x < 10.0 {
        format!("{x:.1} {}", UNITS[u])
    } else {
        format!("{x:.0} {}", UNITS[u])
    }
}

/// A duration for messages: `45 s`, `3.2 hours`, `12 days`, `3e9 years`.
pub fn fmt_seconds(s: f64) -> String {
    if !s.is_finite() {
        return "unbounded".into();
    }
    let year = 365.25 * 86400.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} minutes", s / 60.0)
    } else if s < 2.0 * 86400.0 {
        let h = s / 3600.0;
        if h.fract() == 0.0 {
            format!("{h:.0} hours")
        } else {
            format!("{h:.1} hours")
        }
    } else if s < year {
        format!("{:.0} days", s / 86400.0)
    } else {
        format!("{} years", fmt_num(float_sig(s / year)))
    }
}

/// `x` rounded to two significant digits (for messages).
fn float_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(x.abs().log10().floor() as i32 - 1);
    (x / p).round() * p
}

/// One contribution to an estimate, attributed to the parameter that drives it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Term {
    parameter: &'static str,
    value: f64,
    amount: f64,
}

/// The estimated memory (bytes) and time (seconds) of a workload, as a sum of terms each
/// attributed to the parameter that drives it. [`Estimate::check`] refuses the workload,
/// naming the parameter of the largest term, if either total exceeds its limit.
///
/// ```
/// use mfrnn::budget::Estimate;
/// // A 10⁶ × 10⁶ matrix of doubles: 8 TB.
/// let n = 1e6;
/// let e = Estimate::new("sampling W").memory("width", n, 8.0 * n * n);
/// assert!(e.check().unwrap_err().to_string().contains("`width` = 1e6"));
/// assert!(Estimate::new("small").memory("width", 10.0, 800.0).check().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    task: String,
    memory: Vec<Term>,
    time: Vec<Term>,
}

impl Estimate {
    /// An empty estimate for `task` (named in the error message, e.g. `simulate`).
    pub fn new(task: impl Into<String>) -> Estimate {
        Estimate {
            task: task.into(),
            memory: Vec::new(),
            time: Vec::new(),
        }
    }

    /// Adds `bytes` of memory driven by `parameter` (whose value is `value`).
    #[must_use]
    pub fn memory(mut self, parameter: &'static str, value: f64, bytes: f64) -> Estimate {
        self.memory.push(Term {
            parameter,
            value,
            amount: bytes,
        });
        self
    }

    /// Adds `ops` floating-point operations (spread over `threads` threads) driven by
    /// `parameter`; counted at [`OPS_PER_SECOND`] per thread.
    #[must_use]
    pub fn ops(
        mut self,
        parameter: &'static str,
        value: f64,
        ops: f64,
        threads: usize,
    ) -> Estimate {
        self.time.push(Term {
            parameter,
            value,
            amount: ops / (OPS_PER_SECOND * threads.max(1) as f64),
        });
        self
    }

    /// The estimated peak memory in bytes.
    pub fn bytes(&self) -> f64 {
        self.memory.iter().map(|t| t.amount).sum()
    }

    /// The estimated time in seconds.
    pub fn seconds(&self) -> f64 {
        self.time.iter().map(|t| t.amount).sum()
    }

    /// Checks the estimate against the limits in force ([`memory_limit`], [`time_limit`]).
    ///
    /// # Errors
    /// [`Error::TooLarge`] naming the parameter of the largest term of the exceeded resource,
    /// its value, the estimate and the limit.
    pub fn check(&self) -> Result<()> {
        let limit = memory_limit() as f64;
        let bytes = self.bytes();
        if bytes > limit || bytes.is_nan() {
            let t = largest(&self.memory);
            return Err(Error::TooLarge {
                parameter: t.parameter,
                value: t.value,
                task: self.task.clone(),
                needed: format!("{} of memory", fmt_bytes(bytes)),
                limit: format!(
                    "{}{}",
                    fmt_bytes(limit),
                    if memory_limit_is_default() {
                        ", half the available memory"
                    } else {
                        ""
                    }
                ),
                raise: "--max-memory",
            });
        }
        let limit = time_limit();
        let secs = self.seconds();
        if secs > limit || secs.is_nan() {
            let t = largest(&self.time);
            return Err(Error::TooLarge {
                parameter: t.parameter,
                value: t.value,
                task: self.task.clone(),
                needed: format!("{} of computation", fmt_seconds(secs)),
                limit: fmt_seconds(limit),
                raise: "--max-time",
            });
        }
        Ok(())
    }
}

fn largest(terms: &[Term]) -> Term {
    terms
        .iter()
        .copied()
        .max_by(|a, b| a.amount.total_cmp(&b.amount))
        .unwrap_or(Term {
            parameter: "size",
            value: f64::NAN,
            amount: 0.0,
        })
}

/// Of parameters `(name, value, usual value)` whose product drives a term, the one furthest
/// above its usual value (the first on ties): the one to name when the product is too large.
pub fn blame(params: &[(&'static str, f64, f64)]) -> (&'static str, f64) {
    let mut best = ("size", f64::NAN, f64::NEG_INFINITY);
    for &(name, value, usual) in params {
        let ratio = value / usual.max(f64::MIN_POSITIVE);
        if ratio > best.2 {
            best = (name, value, ratio);
        }
    }
    (best.0, best.1)
}

/// The number of threads a parallel loop over `items` independent items keeps busy at once
/// (each holding its own working set).
pub fn concurrency(items: usize) -> usize {
    items.clamp(1, rayon::current_num_threads().max(1))
}

/// Advances the process-wide work counter by `units` (a display aid for progress bars).
pub fn tick(units: u64) {
    PROGRESS.fetch_add(units, Ordering::Relaxed);
}

/// The process-wide work counter (units are those of the computation running: steps, grid
/// points, ...).
pub fn progress() -> u64 {
    PROGRESS.load(Ordering::Relaxed)
}

/// Resets the work counter to 0 (before starting a computation to follow).
pub fn reset_progress() {
    PROGRESS.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_memory("32G").unwrap(), 32 << 30);
        assert_eq!(parse_memory("512m").unwrap(), 512 << 20);
        assert_eq!(parse_memory("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_memory("1e6").unwrap(), 1_000_000);
        assert_eq!(parse_memory("2 TB").unwrap(), 2 << 40);
        for bad in ["", "G", "-1G", "0", "12Q", "nan", "inf"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("90").unwrap(), 90.0);
        assert_eq!(parse_duration("30m").unwrap(), 1800.0);
        assert_eq!(parse_duration("2d").unwrap(), 172_800.0);
        assert_eq!(parse_duration("inf").unwrap(), f64::INFINITY);
        for bad in ["", "h", "-1h", "0", "nan"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_are_readable() {
        assert_eq!(fmt_bytes(8e12), "8.0 TB");
        assert_eq!(fmt_bytes(512.0), "512 bytes");
        assert_eq!(fmt_bytes(12.8e9), "13 GB");
        assert_eq!(fmt_seconds(30.0), "30 s");
        assert_eq!(fmt_seconds(3.0 * 86400.0), "3 days");
        assert_eq!(fmt_seconds(3.2e18), "1e11 years");
        assert_eq!(fmt_seconds(86400.0), "24 hours");
        assert_eq!(fmt_bytes(3.2000000002575996e25), "3.2e25 bytes");
    }

    #[test]
    fn the_largest_term_is_blamed() {
        let e = Estimate::new("test")
            .memory("width", 1e6, 8e12)
            .memory("steps", 50.0, 1e3);
        match e.check() {
            Err(Error::TooLarge {
                parameter, value, ..
            }) => {
                assert_eq!((parameter, value), ("width", 1e6));
            }
            other => panic!("{other:?}"),
        }
        let e = Estimate::new("test").ops("burn-in", 1e12, 1e25, 2);
        let msg = e.check().unwrap_err().to_string();
        assert!(
            msg.contains("`burn-in` = 1e12") && msg.contains("--max-time"),
            "{msg}"
        );
        assert_eq!(
            blame(&[("steps", 1e9, 50.0), ("seeds", 8.0, 8.0)]).0,
            "steps"
        );
        assert_eq!(
            blame(&[("steps", 50.0, 50.0), ("seeds", 1e9, 8.0)]).0,
            "seeds"
        );
    }
}
