//! The output contract of `src/output.rs`, end to end through the command-line tool: mfrnn
//! writes only into a new path, an empty directory or its own unmodified earlier output;
//! everything else is refused before any work, with one line naming `--out`, and nothing the
//! user owns is changed. Regression tests for issue 11 §1 (`report --out` deleted a user's
//! directory, renamed files and device nodes, and left debris).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::mfrnn_in;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("output-safety", name)
}

/// Every entry of `dir` (hidden ones included), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A refusal: exit 1, nothing on stdout, one line on stderr naming `--out`.
fn assert_refused((code, out, err): (i32, String, String), why: &str) {
    assert_eq!(code, 1, "{why}: exit {code}, stderr {err}");
    assert!(out.is_empty(), "{why}: {out}");
    assert_eq!(err.trim_end().lines().count(), 1, "{why}: {err}");
    assert!(err.contains("`--out`"), "{why}: {err}");
}

const SPECTRUM: [&str; 15] = [
    "spectrum",
    "--cell",
    "vanilla",
    "--phi",
    "tanh",
    "--sigma-w",
    "1",
    "--sigma-v",
    "0.5",
    "--sigma-b",
    "0.1",
    "--r",
    "1",
    "--steps",
    "2",
];

const PHASE: [&str; 11] = [
    "phase",
    "--cell",
    "vanilla",
    "--phi",
    "tanh",
    "--x",
    "sigma-w=0.5:2:4",
    "--y",
    "sigma-b=0:1:3",
    "--quantity",
    "xi_c",
];

const INIT: [&str; 10] = [
    "init", "--cell", "vanilla", "--phi", "tanh", "--q-star", "0.1", "--r", "1", "--sample",
];

fn args<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

#[test]
fn report_never_touches_what_it_did_not_write() {
    let d = scratch("report");
    // A directory holding a user's file: refused, the file survives, nothing is added.
    fs::create_dir(d.join("mine")).unwrap();
    fs::write(d.join("mine/notes.txt"), "my notes").unwrap();
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "mine"]),
        "user directory",
    );
    assert_eq!(entries(&d.join("mine")), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(d.join("mine/notes.txt")).unwrap(),
        "my notes"
    );
    // An existing file: refused, untouched, no sibling left behind.
    fs::write(d.join("file"), "data").unwrap();
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "file"]),
        "existing file",
    );
    assert_eq!(fs::read_to_string(d.join("file")).unwrap(), "data");
    // A device node: refused, still a device.
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "/dev/null"]),
        "device",
    );
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
    // `.` and `..` here are non-empty directories of the user's: refused.
    assert_refused(mfrnn_in(&d, &["report", "--quick", "--out", "."]), ".");
    assert_refused(
        mfrnn_in(&d.join("mine"), &["report", "--quick", "--out", ".."]),
        "..",
    );
    // A missing parent: refused, nothing created.
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "no/such/dir"]),
        "missing parent",
    );
    assert_eq!(entries(&d), ["file", "mine"]);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn report_writes_new_and_empty_directories_and_replaces_its_own() {
    let d = scratch("report-ok");
    // `--out .` in an empty directory writes there.
    fs::create_dir(d.join("empty")).unwrap();
    let (code, _, err) = mfrnn_in(&d.join("empty"), &["report", "--quick", "--out", "."]);
    assert_eq!(code, 0, "{err}");
    let first = entries(&d.join("empty"));
    assert!(first.contains(&"index.html".to_string()) && first.contains(&".mfrnn-output".into()));
    // A second run replaces its own earlier report; nothing else is left behind.
    let (code, _, err) = mfrnn_in(&d, &["report", "--quick", "--out", "empty"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(entries(&d.join("empty")), first);
    assert_eq!(entries(&d), ["empty"]);
    // An edited report is not replaced.
    fs::write(d.join("empty/index.html"), "my edits").unwrap();
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "empty"]),
        "edited report",
    );
    assert_eq!(
        fs::read_to_string(d.join("empty/index.html")).unwrap(),
        "my edits"
    );
    // A user's file added to a report: refused, kept.
    fs::create_dir(d.join("r")).unwrap();
    let (code, _, err) = mfrnn_in(&d, &["report", "--quick", "--out", "r"]);
    assert_eq!(code, 0, "{err}");
    fs::write(d.join("r/analysis.ipynb"), "{}").unwrap();
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "r"]),
        "added file",
    );
    assert!(d.join("r/analysis.ipynb").is_file());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_killed_report_leaves_nothing_that_the_next_run_does_not_clean_up() {
    let d = scratch("killed");
    // The full report runs for tens of seconds: kill it as soon as it has started writing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfrnn"))
        .args(["report", "--out", "k"])
        .current_dir(&d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let staging = loop {
        let found = fs::read_dir(d.join("k")).ok().and_then(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(".mfrnn-partial-"))
        });
        if let Some(s) = found {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no staging area"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // What is left is the staging area only: no report files appeared in place.
    assert_eq!(entries(&d.join("k")), [staging.as_str()]);
    // The next run into the same place succeeds and removes it.
    let (code, _, err) = mfrnn_in(&d, &["report", "--quick", "--out", "k"]);
    assert_eq!(code, 0, "{err}");
    let after = entries(&d.join("k"));
    assert!(
        after.iter().all(|n| !n.starts_with(".mfrnn-partial")),
        "{after:?}"
    );
    assert!(after.contains(&"index.html".to_string()));
    assert_eq!(entries(&d), ["k"]);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn single_file_outputs_follow_the_same_contract() {
    let d = scratch("files");
    // A directory given to a file output: refused, no debris.
    fs::create_dir(d.join("dir")).unwrap();
    assert_refused(
        mfrnn_in(&d, &args(&SPECTRUM, &["--out", "dir"])),
        "spectrum into a directory",
    );
    assert_refused(
        mfrnn_in(&d, &args(&PHASE, &["--out", "dir"])),
        "phase into a directory",
    );
    // The extension chooses the format: JSON under .json, never SVG bytes; others refused.
    let (code, _, err) = mfrnn_in(&d, &args(&SPECTRUM, &["--out", "s.json"]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert!(v["m1"].as_f64().unwrap() > 0.0);
    let (code, _, err) = mfrnn_in(&d, &args(&SPECTRUM, &["--out", "s.csv"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        fs::read_to_string(d.join("s.csv"))
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("lambda,density")
    );
    let (code, _, err) = mfrnn_in(&d, &args(&SPECTRUM, &["--out", "s.svg"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        fs::read_to_string(d.join("s.svg"))
            .unwrap()
            .contains("<svg")
    );
    assert_refused(
        mfrnn_in(&d, &args(&SPECTRUM, &["--out", "s.txt"])),
        "unknown extension",
    );
    // Re-running over our own output replaces it; over a user's file, refused.
    let (code, _, err) = mfrnn_in(&d, &args(&PHASE, &["--out", "p.csv"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = mfrnn_in(&d, &args(&PHASE, &["--out", "p.csv"]));
    assert_eq!(code, 0, "{err}");
    fs::write(d.join("mine.csv"), "a,b\n1,2\n").unwrap();
    assert_refused(
        mfrnn_in(&d, &args(&PHASE, &["--out", "mine.csv"])),
        "user csv",
    );
    assert_eq!(
        fs::read_to_string(d.join("mine.csv")).unwrap(),
        "a,b\n1,2\n"
    );
    // A phase output is not replaced by a spectrum (another kind).
    assert_refused(
        mfrnn_in(&d, &args(&SPECTRUM, &["--out", "p.csv"])),
        "other kind",
    );
    // Missing parents are refused by every command.
    assert_refused(
        mfrnn_in(&d, &args(&PHASE, &["--out", "no/p.svg"])),
        "phase parent",
    );
    assert_refused(
        mfrnn_in(&d, &args(&SPECTRUM, &["--out", "no/s.svg"])),
        "spectrum parent",
    );
    assert_refused(
        mfrnn_in(&d, &args(&INIT, &["--out", "no/w"])),
        "init parent",
    );
    // Nothing but the outputs: no temporaries.
    assert_eq!(
        entries(&d),
        ["dir", "mine.csv", "p.csv", "s.csv", "s.json", "s.svg"]
    );
    assert!(entries(&d.join("dir")).is_empty());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sampled_weights_follow_the_directory_contract() {
    let d = scratch("weights");
    fs::create_dir(d.join("mine")).unwrap();
    fs::write(d.join("mine/W.npy"), "not ours").unwrap();
    assert_refused(
        mfrnn_in(&d, &args(&INIT, &["--width", "8", "--out", "mine"])),
        "user directory",
    );
    assert_eq!(
        fs::read_to_string(d.join("mine/W.npy")).unwrap(),
        "not ours"
    );
    for _ in 0..2 {
        let (code, _, err) = mfrnn_in(&d, &args(&INIT, &["--width", "8", "--out", "w"]));
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(
        entries(&d.join("w")),
        [".mfrnn-output", "V.npy", "W.npy", "b.npy", "manifest.json"]
    );
    // A report may not replace weights (another kind of output).
    assert_refused(
        mfrnn_in(&d, &["report", "--quick", "--out", "w"]),
        "report over weights",
    );
    // A failure after the check (the minimalRNN needs input-dim = width) leaves nothing.
    let (code, _, _) = mfrnn_in(
        &d,
        &[
            "init",
            "--cell",
            "minimal",
            "--q-star",
            "1",
            "--r",
            "0.5",
            "--sample",
            "--width",
            "8",
            "--input-dim",
            "3",
            "--out",
            "bad",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(entries(&d), ["mine", "w"]);
    fs::remove_dir_all(&d).unwrap();
}
