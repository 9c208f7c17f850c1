//! The expectation engine against 30-digit mpmath references
//! (`tests/reference/expectations.json`, written by `tests/reference/generate.py`).
//!
//! Acceptance (issue 2): relative error ≤ 1e-12, or absolute error ≤ 1e-15 where the value
//! is tiny — for every case, with the automatic method choice. The independent quadrature
//! paths (`Strategy::Quadrature`, `Strategy::Adaptive`) are held to the same bound, so
//! closed forms and numerics are each checked against the oracle, not only against each
//! other. Every reported error estimate must also cover the true error.

use mfrnn::activation::Builtin;
use mfrnn::expect::{BivariateNormal, Fun, Integrator, Normal, Strategy};
use serde_json::Value;

const REL: f64 = 1e-12;
const ABS: f64 = 1e-15;

fn load() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/expectations.json"
    ))
    .expect("fixture present");
    serde_json::from_str(&text).expect("fixture parses")
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("missing number {k} in {v}"))
}

fn reference(v: &Value) -> f64 {
    v["value"]
        .as_str()
        .expect("value string")
        .parse()
        .expect("value parses")
}

struct Outcome {
    id: String,
    err: f64,
    rel: f64,
    est: f64,
    method: String,
}

fn run(strategy: Strategy) -> (usize, Vec<Outcome>) {
    let fx = load();
    let eng = Integrator::with_strategy(strategy);
    let mut fails = Vec::new();
    let mut n = 0;
    for case in fx["cases_1d"].as_array().unwrap() {
        let act = Builtin::from_name(case["phi"].as_str().unwrap())
            .unwrap()
            .arc();
        let f = Fun::parse(case["f"].as_str().unwrap(), &act).unwrap();
        let nrm = Normal::new(num(case, "mean"), num(case, "q")).unwrap();
        let e = eng
            .expect(&f, &nrm)
            .unwrap_or_else(|e| panic!("{}: {e}", case["id"]));
        n += 1;
        check(
            case,
            e.value,
            e.error_estimate,
            e.method.as_str(),
            &mut fails,
        );
    }
    for case in fx["cases_2d"].as_array().unwrap() {
        let act = Builtin::from_name(case["phi"].as_str().unwrap())
            .unwrap()
            .arc();
        let f = Fun::parse(case["f"].as_str().unwrap(), &act).unwrap();
        let g = Fun::parse(case["g"].as_str().unwrap(), &act).unwrap();
        let b = BivariateNormal::with_correlation(
            num(case, "mean_u"),
            num(case, "mean_v"),
            num(case, "q_u"),
            num(case, "q_v"),
            num(case, "c"),
        )
        .unwrap();
        let e = eng
            .expect2(&f, &g, &b)
            .unwrap_or_else(|e| panic!("{}: {e}", case["id"]));
        n += 1;
        check(
            case,
            e.value,
            e.error_estimate,
            e.method.as_str(),
            &mut fails,
        );
    }
    (n, fails)
}

fn check(case: &Value, value: f64, est: f64, method: &str, fails: &mut Vec<Outcome>) {
    let r = reference(case);
    let err = (value - r).abs();
    let rel = err / r.abs();
    let ok = (rel <= REL || err <= ABS) && err <= est.max(ABS);
    if !ok {
        fails.push(Outcome {
            id: case["id"].as_str().unwrap().to_string(),
            err,
            rel,
            est,
            method: method.to_string(),
        });
    }
}

fn report(strategy: Strategy) {
    let (n, fails) = run(strategy);
    assert!(n >= 300, "fixture has only {n} cases");
    for o in &fails {
        eprintln!(
            "{:?} {}: abs err {:.3e}, rel {:.3e}, estimate {:.3e} ({})",
            strategy, o.id, o.err, o.rel, o.est, o.method
        );
    }
    assert!(fails.is_empty(), "{} of {n} cases failed", fails.len());
}

#[test]
fn auto_method_matches_mpmath() {
    report(Strategy::Auto);
}

#[test]
fn quadrature_only_matches_mpmath() {
    report(Strategy::Quadrature);
}

#[test]
fn adaptive_only_matches_mpmath() {
    report(Strategy::Adaptive);
}
