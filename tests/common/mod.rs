//! What the integration tests share: the property tests' fixed seed, cell parameters from
//! five numbers, and for the tests of the command-line tool its runners and the checks of a
//! refusal. Each test crate includes it with `mod common;` and uses what it needs (hence
//! unused items are allowed here).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mfrnn::cells::CellParams;

/// The property tests' configuration: that many cases drawn from a fixed seed, so that the cases
/// are the same on every run (no flaky CI).
pub fn fixed_seed(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261203),
        ..proptest::test_runner::Config::default()
    }
}

/// `(σ_w, σ_v, σ_b, μ_b, R)` as validated cell parameters.
pub fn params(sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> mfrnn::Result<CellParams> {
    CellParams::builder()
        .sigma_w(sw)
        .sigma_v(sv)
        .sigma_b(sb)
        .mu_b(mu)
        .r(r)
        .build()
}

/// As [`params`], for parameters known to be valid.
pub fn valid_params(sw: f64, sv: f64, sb: f64, mu: f64, r: f64) -> CellParams {
    params(sw, sv, sb, mu, r).unwrap()
}

fn outcome(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `mfrnn args`: (exit code, or −1 when killed by a signal; stdout; stderr).
pub fn mfrnn(args: &[&str]) -> (i32, String, String) {
    outcome(
        &Command::new(env!("CARGO_BIN_EXE_mfrnn"))
            .args(args)
            .output()
            .expect("runs"),
    )
}

/// As [`mfrnn`] with `args` owned.
pub fn run(args: &[String]) -> (i32, String, String) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    mfrnn(&a)
}

/// As [`mfrnn`], in the working directory `dir`.
pub fn mfrnn_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(
        &Command::new(env!("CARGO_BIN_EXE_mfrnn"))
            .args(args)
            .current_dir(dir)
            .output()
            .expect("runs"),
    )
}

/// As [`mfrnn`], with the time the run took.
pub fn mfrnn_timed(args: &[&str]) -> (i32, String, String, Duration) {
    let t = Instant::now();
    let (code, out, err) = mfrnn(args);
    (code, out, err, t.elapsed())
}

/// `base` followed by `extra`, owned.
pub fn with(base: &[&str], extra: &[&str]) -> Vec<String> {
    base.iter().chain(extra).map(|s| s.to_string()).collect()
}

/// Exit 1 with one line on stderr containing every needle, nothing on stdout.
pub fn fails_with(args: &[&str], needles: &[&str]) {
    let (code, out, err) = mfrnn(args);
    assert_eq!(code, 1, "{args:?} exited {code}: {out}{err}");
    assert!(out.is_empty(), "{args:?} printed {out}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in {err}");
    }
}

/// Runs `args` and checks the refusal: exit 1 within a second, one line on stderr naming
/// `needle` (and, where given, not containing `not`).
pub fn refused(args: &[&str], needle: &str, not: Option<&str>) -> String {
    let (code, out, err, t) = mfrnn_timed(args);
    assert_eq!(code, 1, "{args:?}: exit {code}\n{out}\n{err}");
    let e = err.trim_end();
    assert_eq!(e.lines().count(), 1, "{args:?}: {err}");
    assert!(e.starts_with("error: "), "{args:?}: {err}");
    assert!(e.contains(needle), "{args:?}: `{needle}` not in {err}");
    if let Some(n) = not {
        assert!(!e.contains(n), "{args:?}: `{n}` in {err}");
    }
    assert!(t < Duration::from_secs(2), "{args:?}: refused after {t:?}");
    e.to_string()
}

/// A fresh, empty scratch directory `mfrnn-<suite>-<pid>-<name>` under the system's
/// temporary directory.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mfrnn-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
