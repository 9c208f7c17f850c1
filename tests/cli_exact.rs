//! `--theory exact` at stationarity on the command line: `fixed-point`, `phase` and `init`
//! print the mean-field keys plus standard errors, and refuse what they do not compute.

mod common;

use common::mfrnn;

const MINIMAL: [&str; 12] = [
    "--cell",
    "minimal",
    "--sigma-w",
    "3",
    "--sigma-v",
    "1.39",
    "--sigma-b",
    "0.5",
    "--mu-b",
    "2",
    "--r",
    "0.46",
];

/// Small sizes: the point is the schema, not the precision.
const SMALL: [&str; 10] = [
    "--theory",
    "exact",
    "--paths",
    "64",
    "--replicas",
    "2",
    "--curve-paths",
    "16",
    "--horizon",
    "20",
];

#[test]
fn exact_fixed_point_prints_the_mean_field_keys_with_errors() {
    for rho in ["1", "0"] {
        let mut args = vec!["fixed-point"];
        args.extend(MINIMAL);
        args.extend(SMALL);
        args.extend(["--rho", rho, "--json"]);
        let (code, out, err) = mfrnn(&args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        for k in [
            "q_star",
            "q_star_se",
            "Q_star",
            "Q_star_se",
            "c_star",
            "chi_q",
            "xi_q",
            "chi_c",
            "chi_c_se",
            "xi_c",
            "xi_c_se",
            "chi_1",
            "chi_1_se",
            "xi_1",
            "xi_1_se",
            "phase",
            "stationary",
            "synchronisation",
            "notes",
        ] {
            assert!(v.get(k).is_some(), "missing {k}: {out}");
        }
        assert!(v["Q_star"].as_f64().unwrap() > 0.0 && v["Q_star_se"].as_f64().unwrap() > 0.0);
        assert_eq!(
            v["c_star"].as_f64(),
            Some(if rho == "1" { 1.0 } else { 0.0 })
        );
    }
    // Human-readable output shows the errors.
    let mut args = vec!["fixed-point"];
    args.extend(MINIMAL);
    args.extend(SMALL);
    args.extend(["--rho", "1"]);
    let (code, out, err) = mfrnn(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Q*    = ") && out.contains(" ± "), "{out}");
}

#[test]
fn exact_flags_are_refused_where_they_do_not_apply() {
    for (extra, needle) in [
        (vec!["--paths", "64"], "--paths"),
        (vec!["--horizon", "20"], "--horizon"),
        (vec!["--theory", "exact", "--rho", "0.5"], "--rho 0.5"),
        (vec!["--theory", "exact", "--paths", "3"], "`paths`"),
        (vec!["--theory", "exact", "--horizon", "3"], "`horizon`"),
    ] {
        let mut args = vec!["fixed-point"];
        args.extend(MINIMAL);
        args.extend(&extra);
        let (code, out, err) = mfrnn(&args);
        assert_ne!(code, 0, "{extra:?} succeeded: {out}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // The vanilla cell: identical inputs only.
    let (code, _, err) = mfrnn(&[
        "fixed-point",
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
        "--theory",
        "exact",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--rho"), "{err}");
    // Exact init is for the minimalRNN and a given q*.
    let (code, _, err) = mfrnn(&[
        "init", "--phi", "tanh", "--q-star", "0.5", "--r", "1", "--theory", "exact",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--cell minimal"), "{err}");
    let (code, _, err) = mfrnn(&[
        "init", "--cell", "minimal", "--q-star", "16", "--r", "0.46", "--paths", "64",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--paths"), "{err}");
}

#[test]
fn exact_phase_writes_values_with_standard_errors() {
    let dir = std::env::temp_dir().join(format!("mfrnn-exact-phase-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("xi.csv");
    let o = out.to_str().unwrap();
    let (code, msg, err) = mfrnn(&[
        "phase",
        "--cell",
        "minimal",
        "--theory",
        "exact",
        "--x",
        "sigma-w=1:3:2",
        "--y",
        "mu-b=0:2:2",
        "--sigma-v",
        "1.39",
        "--r",
        "0.46",
        "--paths",
        "64",
        "--replicas",
        "2",
        "--curve-paths",
        "16",
        "--horizon",
        "20",
        "--out",
        o,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(msg.contains("relative standard error"), "{msg}");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("sigma-w,mu-b,xi_c,xi_c_se,chi_1,sync_rate")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert!(r[2] > 0.0 && r[3] > 0.0 && r[3] < r[2], "{r:?}");
        // Ordered region: copies synchronise.
        assert!(r[5] < 1.0, "{r:?}");
    }
    // ξ_Q is not a stationary quantity.
    let (code, _, err) = mfrnn(&[
        "phase",
        "--cell",
        "minimal",
        "--theory",
        "exact",
        "--x",
        "sigma-w=1:3:2",
        "--y",
        "mu-b=0:2:2",
        "--quantity",
        "xi_q",
        "--out",
        &dir.join("q.csv").to_string_lossy(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("stationary"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `trajectory --theory exact` picks the banded sampler for long minimalRNN horizons at ρ = 0
/// (and says so), the full sampler otherwise; `--sampler banded` is refused where it does not
/// apply, `--sampler` without `--theory exact`. The banded run's `Q^T` matches the full
/// sampler's at a short horizon (statistically: 5 combined standard errors).
#[test]
fn trajectory_names_its_sampler_and_refuses_banded_where_it_does_not_apply() {
    let run = |extra: &[&str]| {
        let mut args = vec!["trajectory"];
        args.extend(MINIMAL);
        args.extend(["--theory", "exact", "--replicas", "4"]);
        args.extend(extra);
        mfrnn(&args)
    };
    // Auto: banded beyond 100 steps at ρ = 0.
    let (code, out, err) = run(&["--steps", "120", "--units", "800"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# exact theory, banded sampler"), "{out}");
    assert_eq!(out.lines().count(), 2 + 120, "{out}");
    // Auto at a short horizon and explicit full: the two-sequence sampler, JSON names it.
    let json = |out: &str| serde_json::from_str::<serde_json::Value>(out).unwrap();
    let (code, out, err) = run(&["--steps", "30", "--units", "8000", "--json"]);
    assert_eq!(code, 0, "{err}");
    let full = json(&out);
    assert_eq!(full["sampler"], "full");
    let (code, out, err) = run(&[
        "--steps",
        "30",
        "--units",
        "8000",
        "--json",
        "--sampler",
        "banded",
    ]);
    assert_eq!(code, 0, "{err}");
    let banded = json(&out);
    assert_eq!(banded["sampler"], "banded");
    let at = |v: &serde_json::Value, k: &str| v[k][29].as_f64().unwrap();
    let (a, ase) = (at(&full, "Q"), at(&full, "Q_se"));
    let (b, bse) = (at(&banded, "Q"), at(&banded, "Q_se"));
    assert!(
        (a - b).abs() <= 5.0 * (ase * ase + bse * bse).sqrt(),
        "Q^30 full {a} ± {ase} vs banded {b} ± {bse}"
    );
    // Refusals.
    let (code, _, err) = run(&["--steps", "30", "--rho", "0.5", "--sampler", "banded"]);
    assert_ne!(code, 0);
    assert!(err.contains("--sampler banded"), "{err}");
    let (code, _, err) = mfrnn(&[
        "trajectory",
        "--cell",
        "vanilla",
        "--phi",
        "tanh",
        "--sigma-w",
        "1",
        "--sigma-v",
        "1",
        "--sigma-b",
        "0",
        "--r",
        "1",
        "--theory",
        "exact",
        "--sampler",
        "banded",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--cell minimal"), "{err}");
    let mut args = vec!["trajectory"];
    args.extend(MINIMAL);
    args.extend(["--sampler", "full"]);
    let (code, _, err) = mfrnn(&args);
    assert_ne!(code, 0);
    assert!(err.contains("--sampler"), "{err}");
}
