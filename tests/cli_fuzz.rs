//! Fuzzing the command line: random argument vectors for every subcommand, run through the
//! built binary with a deadline. Invariants (issue 11): no panic, no abort, no run past the
//! deadline; exit 0 only with finite numbers (or the documented nulls and infinities, such as
//! ξ = ∞); exit 1 with exactly one line on stderr, naming a flag for bad input.
//!
//! The value pools mix small legal sizes (so accepted runs are fast) with huge, zero,
//! negative, fractional and non-numeric ones (which must be refused at once), and extreme
//! floats (1e308, 1e-320, nan, inf). Deterministic: a fixed proptest seed and case count, no
//! persistence; every file goes to a fresh path inside a temporary directory.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A run that is not refused within this time fails the test (accepted runs are chosen to
/// take well under a second; refusals take milliseconds).
const DEADLINE: Duration = Duration::from_secs(20);

/// Refusals must be this fast.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(3);

const CASES: u32 = 240;

/// One flag with its value (`None` for a switch).
type Flag = (&'static str, Option<String>);

/// Draws from the case's random numbers.
struct Pick<'a> {
    r: &'a [u32],
    i: usize,
}

impl Pick<'_> {
    fn next(&mut self) -> u32 {
        let v = self.r[self.i % self.r.len()].rotate_left((self.i / self.r.len()) as u32);
        self.i += 1;
        v
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() as f64) < p * u32::MAX as f64
    }
    fn one<'b>(&mut self, pool: &[&'b str]) -> &'b str {
        pool[self.next() as usize % pool.len()]
    }
}

const PHIS: &[&str] = &[
    "tanh",
    "erf",
    "relu",
    "linear",
    "hard_tanh",
    "sigmoid",
    "softplus",
    "TANH",
];
const SCALES: &[&str] = &["0", "0.3", "0.5", "0.8", "1", "1.2", "1.5", "2"];
const COUNT_BAD: &[&str] = &["0", "-1", "2.5", "1e9", "1e12", "1e30", "x", ""];
const FLOAT_BAD: &[&str] = &["-1", "nan", "inf", "1e308", "1e-320", "1e200", "1e150", "x"];
const WORD_BAD: &[&str] = &["gru", "", "Orthogonal", "EXACT", "--json"];
const SCHEDULE_BAD: &[&str] = &[
    "1x1000000000",
    "1x1e3",
    "0.5",
    "2x3",
    "0x0",
    "1x99999999999999999999",
    "0.3x1,,1x2",
];
const AXIS_BAD: &[&str] = &["sigma-w=0.5:2:5000", "sigma-w=2:1:3", "nope=0:1:3", "r=0:1"];
const COUNTS: &[&str] = &[
    "--width",
    "--steps",
    "--seeds",
    "--batch",
    "--points",
    "--units",
    "--replicas",
    "--burn-in",
    "--horizon",
    "--input-dim",
    "--order",
];
const WORDS: &[&str] = &[
    "--cell",
    "--phi",
    "--weights",
    "--theory",
    "--accumulation",
    "--objective",
    "--quantity",
    "--f",
    "--g",
];

fn push(v: &mut Vec<Flag>, flag: &'static str, value: &str) {
    v.push((flag, Some(value.to_string())));
}

/// The cell flags of a legal vanilla or minimal cell.
fn cell(p: &mut Pick, v: &mut Vec<Flag>) -> bool {
    let minimal = p.chance(0.35);
    if minimal {
        push(v, "--cell", "minimal");
    } else {
        if p.chance(0.3) {
            push(v, "--cell", "vanilla");
        }
        push(v, "--phi", p.one(PHIS));
    }
    for f in ["--sigma-w", "--sigma-v", "--sigma-b"] {
        push(v, f, p.one(SCALES));
    }
    push(v, "--r", p.one(&["1", "0.46", "2"]));
    if p.chance(0.3) {
        push(v, "--mu-b", p.one(&["0", "1", "-2", "4"]));
    }
    minimal
}

/// A legal command line of `cmd` with small sizes (fast to run).
fn legal(cmd: &str, p: &mut Pick, dir: &std::path::Path) -> Vec<Flag> {
    let mut v: Vec<Flag> = Vec::new();
    match cmd {
        "expect" => {
            push(&mut v, "--phi", p.one(PHIS));
            push(
                &mut v,
                "--f",
                p.one(&["phi", "dphi^2", "ddphi", "one", "phi*dphi"]),
            );
            if p.chance(0.3) {
                push(&mut v, "--g", p.one(&["phi", "dphi"]));
            }
            push(&mut v, "--q", p.one(&["0.5", "1", "16", "1e-3", "0"]));
            if p.chance(0.3) {
                push(&mut v, "--mean", p.one(&["0", "1", "-2"]));
            }
            if p.chance(0.3) {
                push(&mut v, "--c", p.one(&["0.5", "-0.3", "1", "-1"]));
            }
        }
        "fixed-point" => {
            cell(p, &mut v);
            if p.chance(0.5) {
                push(&mut v, "--rho", p.one(&["0", "1", "0.5", "-0.2"]));
            }
        }
        "trajectory" | "simulate" => {
            cell(p, &mut v);
            if p.chance(0.3) {
                push(
                    &mut v,
                    "--rho-schedule",
                    p.one(&["0.3x1,1x2", "-0.2x1,1x4", "1x3"]),
                );
            } else {
                push(&mut v, "--steps", p.one(&["1", "3", "10", "1e1"]));
                if p.chance(0.3) {
                    push(&mut v, "--rho", p.one(&["0", "1", "-0.5"]));
                }
            }
            if cmd == "trajectory" {
                if p.chance(0.4) {
                    push(&mut v, "--theory", "exact");
                    push(&mut v, "--units", p.one(&["16", "64"]));
                    push(&mut v, "--replicas", "2");
                    for f in ["--untied", "--fresh-bias"] {
                        if p.chance(0.2) {
                            v.push((f, None));
                        }
                    }
                }
            } else {
                push(&mut v, "--width", p.one(&["2", "8", "16"]));
                push(&mut v, "--seeds", p.one(&["2", "3"]));
                push(&mut v, "--batch", p.one(&["1", "4"]));
                if p.chance(0.4) {
                    push(&mut v, "--weights", p.one(&["gaussian", "orthogonal"]));
                }
                for f in ["--untied", "--fresh-bias"] {
                    if p.chance(0.2) {
                        v.push((f, None));
                    }
                }
            }
        }
        "phase" => {
            if p.chance(0.3) {
                push(&mut v, "--cell", "minimal");
            } else {
                push(&mut v, "--phi", p.one(PHIS));
            }
            let axes = [
                "sigma-w=0.5:2:3",
                "sigma-b=0:1:3",
                "mu-b=-1:1:2",
                "rho=0:1:2",
            ];
            let i = p.next() as usize % 4;
            let j = (i + 1 + p.next() as usize % 3) % 4;
            push(&mut v, "--x", axes[i]);
            push(&mut v, "--y", axes[j]);
            if p.chance(0.5) {
                push(
                    &mut v,
                    "--quantity",
                    p.one(&["xi_c", "chi_1", "q_star", "c_star"]),
                );
            }
            if i != 1 && j != 1 && p.chance(0.3) {
                push(&mut v, "--sigma-b", p.one(SCALES));
            }
            let ext = p.one(&["csv", "svg", "json"]);
            push(&mut v, "--out", &fresh(dir, ext));
        }
        "spectrum" => {
            let minimal = cell(p, &mut v);
            push(&mut v, "--steps", p.one(&["1", "2", "5"]));
            push(&mut v, "--points", p.one(&["10", "20"]));
            if p.chance(0.3) {
                push(&mut v, "--weights", p.one(&["gaussian", "orthogonal"]));
            }
            if minimal {
                push(&mut v, "--units", p.one(&["32", "64"]));
                push(&mut v, "--burn-in", p.one(&["0", "5"]));
            }
            if p.chance(0.3) {
                v.push(("--simulate", None));
                push(&mut v, "--width", p.one(&["4", "8"]));
                push(&mut v, "--seeds", p.one(&["2", "3"]));
                if !minimal {
                    push(&mut v, "--burn-in", p.one(&["0", "5"]));
                }
                if p.chance(0.3) {
                    push(&mut v, "--accumulation", p.one(&["direct", "qr"]));
                }
            } else if !minimal && p.chance(0.3) {
                v.push(("--transient", None));
                push(&mut v, "--burn-in", p.one(&["0", "5"]));
            }
            if p.chance(0.1) {
                push(&mut v, "--out", &fresh(dir, "svg"));
            }
        }
        "series" => {
            push(
                &mut v,
                "--phi",
                p.one(&["tanh", "erf", "linear", "sigmoid", "softplus"]),
            );
            push(&mut v, "--order", p.one(&["0", "4", "10"]));
        }
        "init" => {
            // The minimalRNN's unit-process check takes about a second: less often.
            let minimal = p.chance(0.2);
            if minimal {
                push(&mut v, "--cell", "minimal");
                push(&mut v, "--r", "0.46");
                push(&mut v, "--mu-b", p.one(&["0", "4"]));
            } else {
                push(&mut v, "--phi", p.one(&["tanh", "erf", "relu", "linear"]));
                push(&mut v, "--r", p.one(&["1", "0.5"]));
            }
            if p.chance(0.25) {
                push(&mut v, "--max-width-ratio", p.one(&["1.5", "3"]));
                push(&mut v, "--horizon", p.one(&["1", "10"]));
            } else {
                let q = if minimal {
                    &["16", "4"][..]
                } else {
                    &["0.05", "0.5"][..]
                };
                push(&mut v, "--q-star", p.one(q));
                if p.chance(0.3) {
                    push(&mut v, "--horizon", p.one(&["1", "10", "100"]));
                }
            }
            if p.chance(0.3) {
                v.push(("--sample", None));
                push(&mut v, "--width", p.one(&["4", "8"]));
                push(&mut v, "--out", &fresh(dir, "d"));
            }
        }
        _ => {
            v.push(("--quick", None));
            push(&mut v, "--out", &fresh(dir, "r"));
        }
    }
    if p.chance(0.4) {
        v.push(("--json", None));
    }
    v
}

/// Replaces the value of a random flag by a bad one of its kind, or adds a flag that may not
/// apply.
fn mutate(v: &mut Vec<Flag>, p: &mut Pick, dir: &std::path::Path) {
    if v.is_empty() || p.chance(0.25) {
        let extra = p.one(&[
            "--width",
            "--units",
            "--burn-in",
            "--seed",
            "--out",
            "--theory",
            "--rho",
            "--sigma-w",
            "--objective",
            "--weights",
            "--q-star",
            "--max-width-ratio",
        ]);
        let value = match extra {
            "--theory" => "exact".to_string(),
            "--objective" => "longest-memory".to_string(),
            "--weights" => "gaussian".to_string(),
            "--out" => fresh(dir, "svg"),
            _ => "2".to_string(),
        };
        v.push((extra, Some(value)));
        return;
    }
    let i = p.next() as usize % v.len();
    let flag = v[i].0;
    let bad = if COUNTS.contains(&flag) {
        p.one(COUNT_BAD)
    } else if WORDS.contains(&flag) {
        p.one(WORD_BAD)
    } else if flag == "--rho-schedule" {
        p.one(SCHEDULE_BAD)
    } else if flag == "--x" || flag == "--y" {
        p.one(AXIS_BAD)
    } else if flag == "--out" {
        // Another fresh path in the temporary directory, of a kind that may not be accepted
        // (never dropped: the default output paths are in the working directory).
        v[i].1 = Some(fresh(dir, p.one(&["txt", "d", "svg"])));
        return;
    } else if v[i].1.is_none() {
        // Drop a switch (`--sample` keeps its `--out`, which is then refused).
        v.remove(i);
        return;
    } else {
        p.one(FLOAT_BAD)
    };
    v[i].1 = Some(bad.to_string());
}

/// A command line from the case's random numbers: a legal one (40%), or one with one or
/// two mutations.
fn command_line(r: &[u32], dir: &std::path::Path) -> Vec<String> {
    let mut p = Pick { r, i: 0 };
    let cmd = p.one(&[
        "expect",
        "fixed-point",
        "trajectory",
        "trajectory",
        "simulate",
        "simulate",
        "phase",
        "spectrum",
        "spectrum",
        "spectrum",
        "series",
        "init",
        "init",
        "init",
        "report",
    ]);
    let mut v = legal(cmd, &mut p, dir);
    if cmd == "report" {
        // The quick report takes seconds (tests/report.rs runs it): here only refusals.
        push(&mut v, "--width", "8");
    } else if !p.chance(0.4) {
        mutate(&mut v, &mut p, dir);
        if p.chance(0.3) {
            mutate(&mut v, &mut p, dir);
        }
    }
    let mut args = vec![cmd.to_string()];
    for (f, val) in v {
        args.push(f.to_string());
        if let Some(x) = val {
            args.push(x);
        }
    }
    args.extend(["--max-memory".to_string(), "4G".to_string()]);
    args
}

/// A path in `dir` that does not exist yet.
fn fresh(dir: &std::path::Path, ext: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("out{n}.{ext}")).display().to_string()
}

/// Runs the binary with a deadline: (exit code or None if killed/signalled, stdout, stderr,
/// elapsed).
fn run(args: &[String]) -> (Option<i32>, String, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfrnn"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // Drain the pipes on threads so a large output cannot block the child.
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let to = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("waits") {
            break Some(st);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let out = to.join().unwrap_or_default();
    let err = te.join().unwrap_or_default();
    (status.and_then(|s| s.code()), out, err, elapsed)
}

/// JSON keys whose `null` is documented (an infinite timescale, an undefined correlation, a
/// grid point without an answer, ...).
fn null_allowed(key: &str) -> bool {
    key.starts_with("xi")
        || matches!(
            key,
            "c_star" | "chi_c" | "reached" | "fixed_point" | "values" | "chi_1" | "lambda_max"
        )
}

/// Every number in `v` is finite (serde_json writes NaN and ±∞ as `null`), except nulls
/// under documented keys.
fn check_json(v: &serde_json::Value, key: &str, path: &str) -> Result<(), String> {
    match v {
        serde_json::Value::Null if !null_allowed(key) => Err(format!("null at {path}")),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_json(x, key, &format!("{path}[{i}]"))),
        serde_json::Value::Object(o) => o
            .iter()
            .try_for_each(|(k, x)| check_json(x, k, &format!("{path}.{k}"))),
        _ => Ok(()),
    }
}

/// Human output: no `NaN` and no infinity except a timescale (`ξ... = inf`).
fn check_text(out: &str) -> Result<(), String> {
    for line in out.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.contains("nan") && !lower.contains("nanos") {
            return Err(format!("NaN in `{line}`"));
        }
        let infs = lower.matches("inf").count();
        let documented = line.matches("= inf").count();
        let words = lower.matches("infeasible").count() + lower.matches("infinite").count();
        if infs > documented + words {
            return Err(format!("infinity in `{line}`"));
        }
    }
    Ok(())
}

fn check(
    args: &[String],
    code: Option<i32>,
    out: &str,
    err: &str,
    t: Duration,
) -> Result<(), String> {
    check_invariants(args, code, out, err, t)
}

fn check_invariants(
    args: &[String],
    code: Option<i32>,
    out: &str,
    err: &str,
    t: Duration,
) -> Result<(), String> {
    match code {
        None => Err(format!(
            "killed after {t:?} (deadline) or ended by a signal: {err}"
        )),
        Some(0) => {
            if args.iter().any(|a| a == "--json") && !out.trim().is_empty() {
                let v: serde_json::Value =
                    serde_json::from_str(out).map_err(|e| format!("bad JSON: {e}"))?;
                check_json(&v, "", "")
            } else {
                check_text(out)
            }
        }
        Some(1) => {
            let e = err.trim_end();
            if e.lines().count() != 1 || !e.starts_with("error: ") {
                return Err(format!("exit 1 without a one-line error: {err:?}"));
            }
            if t > REFUSAL_DEADLINE && (e.contains("too large") || e.contains("invalid")) {
                return Err(format!("refused only after {t:?}: {e}"));
            }
            // Bad input names its flag (`name` or --name) or the file it gave; outcomes of
            // valid input that the theory has no answer for (no fixed point, infeasible
            // target) say why instead.
            let names_flag = e.contains('`')
                || e.contains("--")
                || e.contains("'")
                || args
                    .iter()
                    .any(|a| a.starts_with('/') && e.contains(a.as_str()));
            let outcome = ["no fixed point", "did not converge", "solver"]
                .iter()
                .any(|s| e.contains(s));
            if !(names_flag || outcome) {
                return Err(format!("error names no flag: {e}"));
            }
            Ok(())
        }
        Some(c) => Err(format!("exit status {c}: {err}")),
    }
}

#[test]
fn random_command_lines_are_answered_or_refused_cleanly() {
    let dir = std::env::temp_dir().join(format!("mfrnn-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let strategy = proptest::collection::vec(any::<u32>(), 48);
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]));
    // Every output path is inside `dir`: the default ones (`weights/`, `report/`) must not
    // appear in the working directory.
    let defaults = ["weights", "report"].map(|d| std::path::Path::new(d).exists());
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut refused = 0;
    let mut accepted = 0;
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    for _ in 0..CASES {
        let r = strategy.new_tree(&mut runner).expect("generates").current();
        let args = command_line(&r, &dir);
        let (code, out, err, t) = run(&args);
        match code {
            Some(0) => accepted += 1,
            Some(1) => refused += 1,
            _ => {}
        }
        slowest.push((t, args.join(" ")));
        if let Err(why) = check(&args, code, &out, &err, t) {
            failures.push(format!("mfrnn {}\n    {why}", args.join(" ")));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        ["weights", "report"].map(|d| std::path::Path::new(d).exists()),
        defaults,
        "a command line wrote to a default path in the working directory"
    );
    assert!(
        failures.is_empty(),
        "{} of {CASES} command lines broke an invariant:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Both sides were exercised.
    assert!(
        refused > CASES / 4 && accepted > CASES / 5,
        "{accepted} accepted, {refused} refused"
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    eprintln!(
        "{CASES} command lines ({accepted} accepted, {refused} refused) in {:?}; slowest:",
        started.elapsed()
    );
    for (t, a) in slowest.iter().take(5) {
        eprintln!("  {t:?}  mfrnn {a}");
    }
}
