//! Benchmarks of the Gaussian-expectation engine (numbers in docs/performance.md).
//!
//! Run: `cargo bench --bench expectations`. Each benchmark is one full-accuracy call.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfrnn::activation::Builtin;
use mfrnn::expect::{BivariateNormal, Fun, Normal, expect, expect2};

fn one_d(c: &mut Criterion) {
    let mut g = c.benchmark_group("expect_1d");
    let tanh = Builtin::Tanh.arc();
    let sig = Builtin::Sigmoid.arc();
    let erf = Builtin::Erf.arc();
    let relu = Builtin::Relu.arc();
    let cases: Vec<(&str, Fun, f64, f64)> = vec![
        ("tanh phi^2 q=0.1", Fun::phi(&tanh).powi(2), 0.0, 0.1),
        ("tanh phi^2 q=1", Fun::phi(&tanh).powi(2), 0.0, 1.0),
        ("tanh phi^2 q=4", Fun::phi(&tanh).powi(2), 0.0, 4.0),
        ("tanh phi^2 q=10", Fun::phi(&tanh).powi(2), 0.0, 10.0),
        ("tanh dphi^2 q=10", Fun::dphi(&tanh).powi(2), 0.0, 10.0),
        (
            "tanh phi*ddphi q=4",
            Fun::phi(&tanh) * Fun::ddphi(&tanh),
            0.0,
            4.0,
        ),
        ("sigmoid phi^2 mu=2 q=4", Fun::phi(&sig).powi(2), 2.0, 4.0),
        ("tanh phi^2 q=100", Fun::phi(&tanh).powi(2), 0.0, 100.0),
        ("tanh phi^2 q=1e4", Fun::phi(&tanh).powi(2), 0.0, 1e4),
        ("erf dphi^2 q=4 (closed)", Fun::dphi(&erf).powi(2), 0.5, 4.0),
        (
            "relu phi^2 q=4 (piecewise)",
            Fun::phi(&relu).powi(2),
            0.5,
            4.0,
        ),
    ];
    for (name, f, m, q) in cases {
        let n = Normal::new(m, q).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| expect(black_box(&f), black_box(&n)).unwrap())
        });
    }
    g.finish();
}

fn two_d(c: &mut Criterion) {
    let mut g = c.benchmark_group("expect_2d");
    let tanh = Builtin::Tanh.arc();
    let relu = Builtin::Relu.arc();
    let erf = Builtin::Erf.arc();
    let f = Fun::phi(&tanh);
    let df = Fun::dphi(&tanh);
    for q in [0.1, 1.0, 4.0, 10.0] {
        for c in [0.3, 0.6, 0.9, 0.99, 0.999_999] {
            let b = BivariateNormal::equal(0.0, q, c).unwrap();
            g.bench_function(format!("tanh phi.phi q={q} c={c}"), |bch| {
                bch.iter(|| expect2(black_box(&f), black_box(&f), black_box(&b)).unwrap())
            });
        }
    }
    let b = BivariateNormal::equal(0.0, 4.0, 0.9).unwrap();
    g.bench_function("tanh dphi.dphi q=4 c=0.9", |bch| {
        bch.iter(|| expect2(black_box(&df), black_box(&df), black_box(&b)).unwrap())
    });
    let b = BivariateNormal::equal(0.3, 4.0, 0.7).unwrap();
    let r = Fun::phi(&relu);
    g.bench_function("relu phi.phi mu=0.3 q=4 c=0.7 (conditional exact)", |bch| {
        bch.iter(|| expect2(black_box(&r), black_box(&r), black_box(&b)).unwrap())
    });
    let e = Fun::phi(&erf);
    let b = BivariateNormal::equal(0.0, 4.0, 0.7).unwrap();
    g.bench_function("erf phi.phi q=4 c=0.7 (closed)", |bch| {
        bch.iter(|| expect2(black_box(&e), black_box(&e), black_box(&b)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, one_d, two_d);
criterion_main!(benches);
