//! Benchmarks of the vanilla-RNN theory and simulator (numbers in docs/performance.md).
//!
//! Run: `cargo bench --bench vanilla`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfrnn::activation::Builtin;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{Cell, CellParams, RhoSchedule};
use mfrnn::phase::{self, Axis, Param, Quantity};
use mfrnn::sim::{SimConfig, simulate};

fn params(sigma_w: f64, sigma_v: f64, sigma_b: f64) -> CellParams {
    CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_v(sigma_v)
        .sigma_b(sigma_b)
        .build()
        .unwrap()
}
use nalgebra::DMatrix;

fn theory(c: &mut Criterion) {
    let mut g = c.benchmark_group("vanilla_theory");
    for (label, sw, sb) in [
        ("ordered", 0.9, 0.3),
        ("near-critical", 1.2, 0.1),
        ("chaotic", 2.5, 0.3),
    ] {
        let v = Vanilla::with_builtin(Builtin::Tanh, params(sw, 0.0, sb));
        g.bench_function(format!("summary {label}"), |b| {
            b.iter(|| black_box(&v).summary(1.0).unwrap())
        });
        g.bench_function(format!("analyze (all fixed points) {label}"), |b| {
            b.iter(|| black_box(&v).analyze(1.0).unwrap())
        });
    }
    let v = Vanilla::with_builtin(Builtin::Tanh, params(1.2, 0.5, 0.1));
    let sched = RhoSchedule::parse("0.3x1,1x49").unwrap();
    g.bench_function("trajectory T=50", |b| {
        b.iter(|| black_box(&v).trajectory(&sched).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("phase_diagram");
    g.sample_size(10);
    let tanh = Cell::vanilla(Builtin::Tanh);
    let base = params(1.0, 0.0, 0.0);
    let x = Axis {
        param: Param::SigmaW,
        lo: 0.5,
        hi: 3.0,
        n: 200,
    };
    let y = Axis {
        param: Param::SigmaB,
        lo: 0.0,
        hi: 1.0,
        n: 200,
    };
    g.bench_function("tanh xi_c 200x200 (sigma_w x sigma_b)", |b| {
        b.iter(|| phase::diagram(&tanh, base, 1.0, x, y, Quantity::XiC, &|_| {}).unwrap())
    });
    g.finish();
}

fn simulator(c: &mut Criterion) {
    let mut g = c.benchmark_group("vanilla_simulator");
    g.sample_size(10);
    let (n, batch, steps) = (1024usize, 64usize, 10usize);
    // FLOPs of the two products per step: W·H (N×N by N×2B) and V·X (N×N_in by N_in×2B).
    let flops = (steps * 2 * (2 * n * n * 2 * batch)) as u64;
    g.throughput(Throughput::Elements(flops));
    let tanh = Cell::vanilla(Builtin::Tanh);
    let p = params(1.2, 0.5, 0.1);
    let sched = RhoSchedule::constant(1.0, steps).unwrap();
    // Two seeds (the minimum for standard errors), one per core.
    let cfg = SimConfig::builder()
        .width(n)
        .batch(batch)
        .seeds(2)
        .seed(1)
        .build()
        .unwrap();
    g.throughput(Throughput::Elements(2 * flops));
    g.bench_function(
        "width 1024, batch 64 (pairs), 10 steps, 2 seeds; elements = FLOPs",
        |b| b.iter(|| simulate(&tanh, &p, &sched, &cfg).unwrap()),
    );
    // The machine's GEMM peak with the same library and shapes, single thread.
    let w = DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let h = DMatrix::<f64>::from_fn(n, 2 * batch, |i, j| ((i + j) % 5) as f64 - 2.0);
    g.throughput(Throughput::Elements((2 * n * n * 2 * batch) as u64));
    g.bench_function(
        "nalgebra GEMM 1024x1024 by 1024x128 (single thread); elements = FLOPs",
        |b| b.iter(|| black_box(&w) * black_box(&h)),
    );
    g.finish();
}

criterion_group!(benches, theory, simulator);
criterion_main!(benches);
