//! The command-line tool: output schema, exit codes, and error messages on bad input.

mod common;

use common::{mfrnn, run, with};

#[test]
fn expect_json_has_the_documented_keys() {
    let (code, out, err) = mfrnn(&[
        "expect", "--phi", "tanh", "--f", "phi", "--q", "16", "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["value", "error_estimate", "method", "evaluations"] {
        assert!(v.get(k).is_some(), "missing {k}: {out}");
    }
    // E[tanh(u)] = 0 at zero mean (odd integrand).
    assert!(v["value"].as_f64().unwrap().abs() < 1e-15);
}

#[test]
fn expect_two_dimensional_matches_the_arcsine_kernel() {
    let (code, out, err) = mfrnn(&[
        "expect", "--phi", "erf", "--f", "phi", "--g", "phi", "--q", "1", "--c", "0.5", "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let exact = 2.0 / std::f64::consts::PI * (1.0f64 / 3.0).asin();
    assert!((v["value"].as_f64().unwrap() - exact).abs() < 1e-15);
    assert_eq!(v["method"], "closed-form");
}

#[test]
fn expect_human_output_names_the_method() {
    let (code, out, _) = mfrnn(&[
        "expect", "--phi", "relu", "--f", "dphi^2", "--q", "2", "--mean", "-0.5",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("piecewise-exact"), "{out}");
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    for (args, needle) in [
        (
            vec!["expect", "--phi", "tanh", "--f", "phi", "--q", "-1"],
            "`q`",
        ),
        (
            vec![
                "expect", "--phi", "tanh", "--f", "phi", "--q", "1", "--c", "1.5",
            ],
            "`c`",
        ),
        (
            vec!["expect", "--phi", "gelu", "--f", "phi", "--q", "1"],
            "gelu",
        ),
        (
            vec!["expect", "--phi", "tanh", "--f", "phi^", "--q", "1"],
            "phi^",
        ),
        (
            vec!["expect", "--phi", "tanh", "--f", "phi", "--q", "nan"],
            "`q`",
        ),
    ] {
        let (code, out, err) = mfrnn(&args);
        assert_ne!(code, 0, "{args:?} succeeded: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(out.is_empty());
    }
}

const VANILLA: [&str; 12] = [
    "--cell",
    "vanilla",
    "--phi",
    "tanh",
    "--sigma-w",
    "1.2",
    "--sigma-v",
    "0.5",
    "--sigma-b",
    "0.1",
    "--r",
    "1.0",
];

#[test]
fn fixed_point_json_keys() {
    let (code, out, err) = run(&with(
        &["fixed-point"],
        &[&VANILLA[..], &["--rho", "0.0", "--json"]].concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "q_star",
        "Q_star",
        "c_star",
        "chi_q",
        "chi_c",
        "chi_1",
        "xi_q",
        "xi_c",
        "xi_1",
        "phase",
        "residual",
        "iterations",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["phase"], "ordered");
    // Identical inputs in the ordered phase: c* = 1 and ξ_c = ξ₁.
    let (_, out, _) = run(&with(
        &["fixed-point"],
        &[&VANILLA[..], &["--rho", "1", "--json"]].concat(),
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["c_star"], 1.0);
    assert_eq!(v["xi_c"], v["xi_1"]);
    // Chaotic and critical: ξ₁ infinite is null.
    let (_, out, _) = run(&[
        "fixed-point",
        "--phi",
        "tanh",
        "--sigma-w",
        "2",
        "--sigma-v",
        "0",
        "--sigma-b",
        "0.3",
        "--r",
        "1",
        "--rho",
        "1",
        "--json",
    ]
    .map(String::from));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["phase"], "chaotic");
    assert!(v["xi_1"].is_null());
}

#[test]
fn trajectory_json_arrays() {
    let (code, out, err) = run(&with(
        &["trajectory"],
        &[
            &VANILLA[..],
            &["--steps", "50", "--rho-schedule", "0.3x1,1x49", "--json"],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["t", "q", "Q", "q_ab", "C", "c"] {
        assert_eq!(v[k].as_array().map(Vec::len), Some(50), "{k}");
    }
    assert_eq!(v["t"][0], 1);
}

#[test]
fn simulate_json_has_standard_errors() {
    let (code, out, err) = run(&with(
        &["simulate"],
        &[
            &VANILLA[..],
            &[
                "--width",
                "64",
                "--steps",
                "4",
                "--rho-schedule",
                "0x2,1x2",
                "--seeds",
                "3",
                "--weights",
                "orthogonal",
                "--untied",
                "--seed",
                "5",
                "--json",
            ],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "t", "q", "q_se", "Q", "Q_se", "q_ab", "q_ab_se", "C", "C_se", "c", "c_se",
    ] {
        assert_eq!(v[k].as_array().map(Vec::len), Some(4), "{k}");
    }
}

#[test]
fn phase_writes_svg_csv_json() {
    let dir = std::env::temp_dir().join(format!("mfrnn-phase-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["svg", "csv", "json"] {
        let out = dir.join(format!("p.{ext}"));
        let (code, _, err) = run(&[
            "phase",
            "--cell",
            "vanilla",
            "--phi",
            "tanh",
            "--x",
            "sigma-w=0.5:3:12",
            "--y",
            "sigma-b=0:1:9",
            "--quantity",
            "xi_c",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from));
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&out).unwrap();
        match ext {
            // Each output is signed (src/output.rs): an XML comment, a `#` line, a JSON key.
            "svg" => assert!(
                text.starts_with("<!-- mfrnn-output:phase:")
                    && text.contains("\n<svg")
                    && text.trim_end().ends_with("</svg>")
            ),
            "csv" => assert_eq!(text.lines().count(), 12 * 9 + 2),
            _ => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["values"].as_array().unwrap().len(), 9);
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn theory_commands_reject_bad_input() {
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            with(
                &["fixed-point"],
                &[&VANILLA[..], &["--rho", "1.5"]].concat(),
            ),
            "`rho`",
        ),
        (
            [
                "fixed-point",
                "--phi",
                "tanh",
                "--sigma-w",
                "-1",
                "--sigma-v",
                "0",
                "--sigma-b",
                "0",
                "--r",
                "1",
            ]
            .map(String::from)
            .to_vec(),
            "`sigma-w`",
        ),
        (
            [
                "fixed-point",
                "--phi",
                "relu",
                "--sigma-w",
                "1.5",
                "--sigma-v",
                "0.5",
                "--sigma-b",
                "0.1",
                "--r",
                "1",
            ]
            .map(String::from)
            .to_vec(),
            "no fixed point",
        ),
        (
            with(
                &["trajectory"],
                &[&VANILLA[..], &["--rho-schedule", "0.3x1,1y4"]].concat(),
            ),
            "rho schedule",
        ),
        (
            with(
                &["trajectory"],
                &[
                    &VANILLA[..],
                    &["--rho-schedule", "0.3x1,1x4", "--steps", "9"],
                ]
                .concat(),
            ),
            "`steps`",
        ),
        (
            with(
                &["simulate"],
                &[&VANILLA[..], &["--width", "0", "--steps", "3"]].concat(),
            ),
            "`width`",
        ),
        (
            with(&["simulate"], &[&VANILLA[..], &["--steps", "0"]].concat()),
            "`steps`",
        ),
        (
            [
                "phase",
                "--phi",
                "tanh",
                "--x",
                "sigma-w=3:0.5:10",
                "--y",
                "sigma-b=0:1:10",
                "--out",
                "/tmp/x.svg",
            ]
            .map(String::from)
            .to_vec(),
            "grid axis",
        ),
        (
            [
                "phase",
                "--phi",
                "tanh",
                "--x",
                "sigma-q=0:1:10",
                "--y",
                "sigma-b=0:1:10",
                "--out",
                "/tmp/x.svg",
            ]
            .map(String::from)
            .to_vec(),
            "sigma-q",
        ),
        (
            [
                "phase",
                "--phi",
                "tanh",
                "--x",
                "sigma-w=0:1:10",
                "--y",
                "sigma-b=0:1:10",
                "--out",
                "/tmp/x.png",
            ]
            .map(String::from)
            .to_vec(),
            ".svg",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(&args);
        assert_ne!(code, 0, "{args:?} succeeded: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn minimal_cell_commands() {
    let base = [
        "--cell",
        "minimal",
        "--sigma-w",
        "3",
        "--sigma-v",
        "1",
        "--sigma-b",
        "0",
        "--mu-b",
        "2",
        "--r",
        "0.46",
    ];
    let (code, out, err) = run(&with(
        &["fixed-point"],
        &[&base[..], &["--rho", "1", "--json"]].concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "q_star",
        "Q_star",
        "c_star",
        "chi_q",
        "chi_c",
        "chi_1",
        "xi_q",
        "xi_c",
        "xi_1",
        "phase",
        "residual",
        "iterations",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    let fps = v["fixed_points"].as_array().unwrap();
    assert!(!fps.is_empty());
    for f in fps {
        for k in ["Q", "stable", "reached_from_zero"] {
            assert!(f.get(k).is_some(), "fixed point missing {k}");
        }
    }
    // The bistable case lists three roots.
    let (_, out, _) = run(&[
        "fixed-point",
        "--cell",
        "minimal",
        "--sigma-w",
        "11.2",
        "--sigma-v",
        "2.33",
        "--sigma-b",
        "0",
        "--mu-b",
        "8",
        "--r",
        "0.46",
        "--json",
    ]
    .map(String::from));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fixed_points"].as_array().unwrap().len(), 3);
    // Trajectories: mean field, and the exact theory with standard errors.
    let (code, out, err) = run(&with(
        &["trajectory"],
        &[&base[..], &["--rho-schedule", "0x3,1x3", "--json"]].concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Q"].as_array().unwrap().len(), 6);
    let (code, out, err) = run(&with(
        &["trajectory"],
        &[
            &base[..],
            &[
                "--rho-schedule",
                "0x3,1x3",
                "--theory",
                "exact",
                "--units",
                "2000",
                "--seed",
                "4",
                "--json",
            ],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["q", "q_se", "Q", "Q_se", "C", "C_se", "c", "c_se"] {
        assert_eq!(v[k].as_array().map(Vec::len), Some(6), "{k}");
    }
    // Simulation with fresh bias, and the phase diagram.
    let (code, _, err) = run(&with(
        &["simulate"],
        &[
            &base[..],
            &[
                "--width",
                "32",
                "--steps",
                "3",
                "--seeds",
                "2",
                "--untied",
                "--fresh-bias",
                "--json",
            ],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{err}");
    let out = std::env::temp_dir().join(format!("mfrnn-min-{}.csv", std::process::id()));
    let (code, _, err) = run(&[
        "phase",
        "--cell",
        "minimal",
        "--x",
        "sigma-w=1:8:5",
        "--y",
        "mu-b=-2:6:4",
        "--sigma-v",
        "1.39",
        "--r",
        "0.46",
        "--quantity",
        "chi_1",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 22); // the signature line, the header, 5 × 4 points
    std::fs::remove_file(&out).unwrap();
    // --phi does not apply to the minimal cell.
    let (code, _, err) = run(&with(
        &["fixed-point"],
        &[&base[..], &["--phi", "tanh"]].concat(),
    ));
    assert_ne!(code, 0);
    assert!(err.contains("--phi"), "{err}");
    // r = 0 is invalid for the minimal cell.
    let (code, _, err) = run(&[
        "fixed-point",
        "--cell",
        "minimal",
        "--sigma-w",
        "1",
        "--sigma-v",
        "1",
        "--sigma-b",
        "0",
        "--r",
        "0",
    ]
    .map(String::from));
    assert_ne!(code, 0);
    assert!(err.contains("`r`"), "{err}");
}

#[test]
fn spectrum_json_keys_and_simulation() {
    let (code, out, err) = run(&[
        "spectrum",
        "--cell",
        "vanilla",
        "--phi",
        "tanh",
        "--sigma-w",
        "1.05",
        "--sigma-v",
        "0.1",
        "--sigma-b",
        "0.05",
        "--r",
        "1",
        "--steps",
        "5",
        "--weights",
        "gaussian",
        "--points",
        "100",
        "--simulate",
        "--width",
        "100",
        "--seeds",
        "2",
        "--json",
    ]
    .map(String::from));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "m1",
        "m2",
        "normalized_variance",
        "support",
        "lambda",
        "density",
        "exact",
        "empirical",
        "ks_distance",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["lambda"].as_array().unwrap().len(), 100);
    assert_eq!(v["exact"], true);
    // The series moments start with m1, m2.
    let mom = v["moments"].as_array().unwrap();
    assert_eq!(mom.len(), 4);
    for (k, key) in [(0, "m1"), (1, "m2")] {
        let (a, b) = (mom[k].as_f64().unwrap(), v[key].as_f64().unwrap());
        assert!((a - b).abs() < 1e-10 * b, "{key}: {a} vs {b}");
    }
    assert!(v["empirical"]["m4_se"].as_f64().unwrap() > 0.0);
    assert!(v["ks_distance"].as_f64().unwrap() < 0.2);
    // The minimalRNN: one step is exact, several steps are the free approximation.
    for (steps, exact) in [("1", true), ("4", false)] {
        let (code, out, err) = run(&[
            "spectrum",
            "--cell",
            "minimal",
            "--sigma-w",
            "3",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0",
            "--mu-b",
            "3",
            "--r",
            "0.46",
            "--steps",
            steps,
            "--units",
            "2000",
            "--points",
            "100",
            "--simulate",
            "--width",
            "100",
            "--seeds",
            "2",
            "--accumulation",
            "qr",
            "--json",
        ]
        .map(String::from));
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["cell"], "minimal");
        assert_eq!(v["exact"], exact, "steps {steps}");
        assert_eq!(v["law_atoms"], 2000);
        assert_eq!(v["unit_recursion"]["exact_for"], "untied");
        assert!(v["unit_recursion"]["m1"].as_f64().unwrap() > 0.0);
        assert!(v["ks_distance"].as_f64().unwrap() < 0.2);
        let mass = v["mass_on_grid"].as_f64().unwrap();
        assert!((mass - 1.0).abs() < 0.02, "{mass}");
    }
}

/// `spectrum --transient`: the laws along the trajectory from h⁰ = 0; with no burn-in the early
/// steps have small q, so m₁ (the product of the per-step χ's) differs from the fixed point's.
#[test]
fn spectrum_transient() {
    let base = [
        "spectrum",
        "--phi",
        "tanh",
        "--sigma-w",
        "1.5",
        "--sigma-v",
        "0.3",
        "--sigma-b",
        "0.05",
        "--r",
        "1",
        "--steps",
        "4",
        "--points",
        "60",
        "--json",
    ];
    let run_json = |extra: &[&str]| -> serde_json::Value {
        let args: Vec<String> = base.iter().chain(extra).map(|s| s.to_string()).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let fixed = run_json(&[]);
    // --burn-in applies to the transient only (the fixed-point spectrum has none).
    let transient = run_json(&["--transient", "--burn-in", "0"]);
    let (mf, mt) = (
        fixed["m1"].as_f64().unwrap(),
        transient["m1"].as_f64().unwrap(),
    );
    assert_eq!(transient["exact"], true);
    assert!(mt > 1.2 * mf, "transient m1 {mt} vs fixed point {mf}");
}

#[test]
fn series_json_keys_and_exact_coefficients() {
    let (code, out, err) = mfrnn(&["series", "--phi", "tanh", "--order", "4", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["phi"], "tanh");
    assert_eq!(v["order"], 4);
    for k in [
        "E_phi2",
        "E_dphi2",
        "E_dphi4",
        "sigma_w2",
        "sigma_b2_plus_sigma_v2_R",
        "spectral_growth",
    ] {
        let q = &v[k];
        for key in ["coefficients", "exact", "pi_power", "formula"] {
            assert!(q.get(key).is_some(), "{k} lacks {key}: {out}");
        }
        assert_eq!(q["coefficients"].as_array().unwrap().len(), 5, "{k}");
    }
    // σ_w² = 1 + 2q − 3q² + 34/3 q³ − 61 q⁴ on the tanh critical line.
    let exact: Vec<&str> = v["sigma_w2"]["exact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(exact, ["1", "2", "-3", "34/3", "-61"]);
    assert!((v["sigma_w2"]["coefficients"][3].as_f64().unwrap() - 34.0 / 3.0).abs() < 1e-14);
    assert_eq!(
        v["E_phi2"]["formula"],
        "q - 2 q^2 + 17/3 q^3 - 62/3 q^4 + O(q^5)"
    );
    // softplus: E[φ²] has no exact form (ln 2), σ_w² does.
    let (code, out, _) = mfrnn(&["series", "--phi", "softplus", "--order", "2", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["E_phi2"]["exact"].is_null());
    assert_eq!(v["sigma_w2"]["formula"], "4 - q + 3/4 q^2 + O(q^3)");
    // erf: rationals times a power of π.
    let (code, out, _) = mfrnn(&["series", "--phi", "erf", "--order", "2", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sigma_w2"]["pi_power"], 1);
}

#[test]
fn series_human_output_and_errors() {
    let (code, out, err) = mfrnn(&["series", "--phi", "tanh", "--order", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 + 2 q - 3 q^2 + 34/3 q^3 + O(q^4)"), "{out}");
    assert!(out.contains("4/3 q^3 + O(q^4)"), "{out}");
    for (args, needle) in [
        (vec!["series", "--phi", "relu"], "kink"),
        (vec!["series", "--phi", "hard_tanh"], "kinks"),
        (vec!["series", "--phi", "tanh", "--order", "41"], "`order`"),
        (vec!["series", "--phi", "tanh", "--order", "-1"], "`order`"),
        (vec!["series", "--phi", "gelu"], "gelu"),
    ] {
        let (code, out, err) = mfrnn(&args);
        assert_eq!(code, 1, "{args:?} succeeded: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `mfrnn init`: the issue's exact commands and keys, the design, sampled weights, and a
/// typed error with a non-zero exit for an infeasible target.
#[test]
fn init_commands() {
    let keys = [
        "sigma_w",
        "sigma_v",
        "sigma_b",
        "mu_b",
        "q_star",
        "Q_star",
        "chi_1",
        "normalized_variance_per_step",
    ];
    for args in [
        &[
            "init",
            "--cell",
            "vanilla",
            "--phi",
            "tanh",
            "--q-star",
            "0.05",
            "--r",
            "1",
            "--sigma-b",
            "0",
            "--json",
        ][..],
        &[
            "init",
            "--cell",
            "minimal",
            "--q-star",
            "16",
            "--mu-b",
            "0",
            "--r",
            "0.46",
            "--sigma-b",
            "0",
            "--json",
        ][..],
    ] {
        let (code, out, err) = mfrnn(args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        for k in keys {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert!((v["chi_1"].as_f64().unwrap() - 1.0).abs() < 1e-12);
        for w in ["orthogonal", "gaussian"] {
            assert!(v["normalized_variance_per_step"][w].as_f64().unwrap() > 0.0);
        }
    }
    let (code, out, err) = mfrnn(&[
        "init",
        "--cell",
        "vanilla",
        "--phi",
        "tanh",
        "--r",
        "1",
        "--horizon",
        "1000",
        "--max-width-ratio",
        "1.5",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rms = v["design"]["rms_ratio"].as_f64().unwrap();
    assert!(rms <= 1.5 + 1e-9 && rms > 1.49, "{rms}");
    let dir = std::env::temp_dir().join(format!("mfrnn-cli-init-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, out, err) = mfrnn(&[
        "init", "--cell", "minimal", "--q-star", "16", "--mu-b", "4", "--r", "0.46", "--sample",
        "--width", "32", "--seed", "7", "--out", d, "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 4);
    let (w, shape) =
        mfrnn::init::npy::from_bytes(&std::fs::read(dir.join("W.npy")).unwrap()).unwrap();
    assert_eq!(shape, vec![32, 32]);
    assert!(w.iter().all(|x| x.is_finite()));
    std::fs::remove_dir_all(&dir).unwrap();
    let (code, _, err) = mfrnn(&[
        "init", "--cell", "minimal", "--q-star", "4", "--mu-b", "1", "--r", "0.46",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("infeasible `q-star`") && err.contains("feasible q*"),
        "{err}"
    );
}
