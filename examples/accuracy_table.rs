//! Accuracy of the Gaussian-expectation engine against the 30-digit mpmath fixture, per
//! activation and per method path (the numbers in docs/accuracy.md).
//!
//! Run: `cargo run --release --example accuracy_table`. Asserts the acceptance bound
//! (relative error ≤ 1e-12 or absolute ≤ 1e-15) for every case and path.

use std::collections::BTreeMap;

use mfrnn::activation::Builtin;
use mfrnn::expect::{BivariateNormal, Fun, Integrator, Normal, Strategy};

fn main() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/expectations.json"
    ))
    .expect("fixture");
    let fx: serde_json::Value = serde_json::from_str(&text).expect("json");
    let num = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    println!(
        "| activation | cases | auto: max rel. error | auto: max abs. error | quadrature only | adaptive only | estimate ≥ error |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut table: BTreeMap<String, [(f64, f64, bool); 3]> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (k, s) in [Strategy::Auto, Strategy::Quadrature, Strategy::Adaptive]
        .into_iter()
        .enumerate()
    {
        let eng = Integrator::with_strategy(s);
        let mut run = |case: &serde_json::Value, got: (f64, f64)| {
            let name = case["phi"].as_str().unwrap().to_string();
            let r: f64 = case["value"].as_str().unwrap().parse().unwrap();
            let err = (got.0 - r).abs();
            let rel = if r != 0.0 { err / r.abs() } else { err };
            assert!(rel <= 1e-12 || err <= 1e-15, "{}: {rel:e}", case["id"]);
            let e = table.entry(name.clone()).or_insert([(0.0, 0.0, true); 3]);
            // Relative error counted where the value is not tiny (the absolute bound applies there).
            if r.abs() > 1e-3 {
                e[k].0 = e[k].0.max(rel);
            }
            e[k].1 = e[k].1.max(err);
            e[k].2 &= err <= got.1.max(1e-15);
            if k == 0 {
                *counts.entry(name).or_insert(0) += 1;
            }
        };
        for case in fx["cases_1d"].as_array().unwrap() {
            let act = Builtin::from_name(case["phi"].as_str().unwrap())
                .unwrap()
                .arc();
            let f = Fun::parse(case["f"].as_str().unwrap(), &act).unwrap();
            let e = eng
                .expect(&f, &Normal::new(num(case, "mean"), num(case, "q")).unwrap())
                .unwrap();
            run(case, (e.value, e.error_estimate));
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
            let e = eng.expect2(&f, &g, &b).unwrap();
            run(case, (e.value, e.error_estimate));
        }
    }
    for (name, v) in &table {
        println!(
            "| {name} | {} | {:.1e} | {:.1e} | {:.1e} | {:.1e} | {} |",
            counts[name],
            v[0].0,
            v[0].1,
            v[1].0,
            v[2].0,
            if v.iter().all(|x| x.2) { "yes" } else { "no" }
        );
    }
}
