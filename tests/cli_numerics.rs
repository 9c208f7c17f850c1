//! Numerical honesty at the command line (issue 11, parts 3 and 4): every case of the issue
//! exits 1 with a one-line error naming the step or flag, or 0 with finite numbers (and
//! documented nulls such as ξ = ∞). Library-level counterparts: `tests/numerics.rs`.

mod common;

use std::time::{Duration, Instant};

use common::{fails_with, mfrnn};

/// Every number in a JSON document (nulls allowed only under the given keys).
fn assert_finite_json(v: &serde_json::Value, nullable: &[&str], path: &str) {
    match v {
        serde_json::Value::Number(n) => {
            assert!(n.as_f64().unwrap().is_finite(), "{path}: {n}");
        }
        serde_json::Value::Null => {
            assert!(nullable.iter().any(|k| path.ends_with(k)), "null at {path}");
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_finite_json(x, nullable, &format!("{path}[{i}]"));
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                assert_finite_json(x, nullable, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}

#[test]
fn diverging_simulations_exit_1_naming_the_step_and_the_reason() {
    fails_with(
        &[
            "simulate",
            "--phi",
            "relu",
            "--sigma-w",
            "3",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--steps",
            "700",
            "--width",
            "64",
            "--seeds",
            "2",
            "--batch",
            "2",
        ],
        &["diverged at step", "relu with σ_w > 1.414214"],
    );
    fails_with(
        &[
            "simulate",
            "--phi",
            "linear",
            "--sigma-w",
            "100",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--steps",
            "200",
            "--width",
            "32",
            "--seeds",
            "2",
            "--batch",
            "2",
            "--json",
        ],
        &["diverged at step", "linear with σ_w > 1.000000"],
    );
    fails_with(
        &[
            "simulate",
            "--phi",
            "tanh",
            "--sigma-w",
            "1",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1e308",
            "--steps",
            "3",
            "--width",
            "16",
            "--seeds",
            "2",
            "--batch",
            "2",
        ],
        // R = 1e308 makes σ_v² R overflow the variance budget: refused at construction,
        // naming the flag, before any step runs.
        &["invalid parameter `r` = 1e308"],
    );
}

#[test]
fn scales_at_1e308_are_rejected_naming_the_flag() {
    for cmd in ["simulate", "trajectory", "fixed-point"] {
        for (flag, i) in [("--sigma-w", 0), ("--sigma-v", 1), ("--sigma-b", 2)] {
            let mut s = ["1", "1", "0.1"];
            s[i] = "1e308";
            let mut args = vec![
                cmd,
                "--phi",
                "tanh",
                "--sigma-w",
                s[0],
                "--sigma-v",
                s[1],
                "--sigma-b",
                s[2],
                "--r",
                "1",
            ];
            if cmd != "fixed-point" {
                args.extend(["--steps", "3"]);
            }
            fails_with(&args, &[&format!("`{}`", &flag[2..])]);
        }
    }
}

#[test]
fn diverging_trajectories_exit_1() {
    fails_with(
        &[
            "trajectory",
            "--phi",
            "relu",
            "--sigma-w",
            "3",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--steps",
            "700",
        ],
        &["diverged at step", "relu with σ_w > 1.414214"],
    );
    fails_with(
        &[
            "trajectory",
            "--phi",
            "linear",
            "--sigma-w",
            "3",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--steps",
            "700",
            "--theory",
            "exact",
            "--units",
            "200",
            "--replicas",
            "2",
        ],
        &["diverged at step", "linear with σ_w > 1.000000"],
    );
}

#[test]
fn overflowing_expectation_exits_1() {
    fails_with(
        &[
            "expect", "--phi", "linear", "--f", "phi^4", "--q", "1e200", "--json",
        ],
        &["overflows", "largest double"],
    );
}

#[test]
fn saturated_gates_report_their_single_fixed_point() {
    let base = [
        "fixed-point",
        "--cell",
        "minimal",
        "--sigma-w",
        "6.89",
        "--sigma-v",
        "1",
        "--sigma-b",
        "0",
        "--r",
        "0.46",
        "--json",
        "--mu-b",
    ];
    // |μ_b| above 1e150 is refused at construction (its square must be finite; tests/limits.rs),
    // so the open-gate case is checked at the largest accepted μ_b.
    for (mu, q_star) in [("50", None), ("1e150", Some(0.0)), ("-50", Some(0.46))] {
        let mut args = base.to_vec();
        args.push(mu);
        let (code, out, err) = mfrnn(&args);
        assert_eq!(code, 0, "μ_b = {mu}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["fixed_points"].as_array().unwrap().len(),
            1,
            "μ_b = {mu}: {out}"
        );
        let big_q = v["Q_star"].as_f64().unwrap();
        match q_star {
            Some(x) => assert!((big_q - x).abs() < 1e-15, "μ_b = {mu}: {big_q}"),
            // e^{−μ+1.5q}/2 · R ≈ 8.8e-23.
            None => assert!(big_q > 8.8e-23 && big_q < 8.9e-23, "μ_b = {mu}: {big_q}"),
        }
        // ξ = ∞ (null) only where the gate is open beyond double range; c*, χ_c, ξ_c are
        // null where the notes say they are not resolved.
        assert_finite_json(&v, &["xi_1", "xi_q", "xi_c", "c_star", "chi_c"], "");
        if mu == "50" {
            assert!(v["xi_1"].as_f64().unwrap() > 2e21, "{out}");
            assert!(!v["notes"].as_array().unwrap().is_empty());
        }
    }
    // Human output: one fixed point, and the note.
    let mut args = base[..base.len() - 2].to_vec();
    args.extend(["--mu-b", "50"]);
    let (code, out, _) = mfrnn(&args);
    assert_eq!(code, 0);
    assert_eq!(out.matches("    Q = ").count(), 1, "{out}");
    assert!(out.contains("note: the gate is open"), "{out}");
}

#[test]
fn long_horizon_spectral_edge_is_finite() {
    let (code, out, err) = mfrnn(&[
        "init",
        "--phi",
        "tanh",
        "--q-star",
        "1",
        "--r",
        "1",
        "--horizon",
        "1000000000",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lm = &v["spectral_width"]["lambda_max"];
    for w in ["orthogonal", "gaussian"] {
        let x = lm[w].as_f64().unwrap_or_else(|| panic!("{w}: {lm}"));
        assert!(x.is_finite() && x > 1e9, "{w}: {x}");
    }
}

#[test]
fn extreme_sigma_w_finishes_quickly_with_finite_numbers() {
    for args in [
        vec![
            "fixed-point",
            "--phi",
            "tanh",
            "--sigma-w",
            "1e6",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--json",
        ],
        vec![
            "fixed-point",
            "--cell",
            "minimal",
            "--sigma-w",
            "1e10",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0.1",
            "--r",
            "1",
            "--rho",
            "1",
            "--json",
        ],
    ] {
        let t = Instant::now();
        let (code, out, err) = mfrnn(&args);
        // Generous guard (well under a second on one core; it used to run for minutes).
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args:?}: {:?}",
            t.elapsed()
        );
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        // ξ₁ = ∞ in the chaotic phase is the documented null, as is ξ_C = ∞ of the unstable
        // fixed point c = 1 listed among the covariance fixed points.
        assert_finite_json(&v, &["xi_1", "xi_c"], "");
    }
    let dir = std::env::temp_dir().join(format!("mfrnn-cli-numerics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("phase.csv");
    let t = Instant::now();
    let (code, _, err) = mfrnn(&[
        "phase",
        "--phi",
        "tanh",
        "--x",
        "sigma-v=0.5:1:3",
        "--y",
        "sigma-b=0.5:1:3",
        "--sigma-w",
        "1e10",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(&out_path).unwrap();
    // Line 1 is mfrnn's signature comment, line 2 the header.
    for line in csv.lines().filter(|l| !l.starts_with('#')).skip(1) {
        for field in line.split(',') {
            assert!(field.parse::<f64>().unwrap().is_finite(), "{line}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
