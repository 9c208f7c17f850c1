//! The command-line tool: output schema, exit codes, and error messages on bad input.

use std::process::Command;

fn mfrnn(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mfrnn"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
