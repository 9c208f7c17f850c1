//! Benchmarks of the minimalRNN theory, exact theory and simulator (docs/performance.md).
//!
//! Run: `cargo bench --bench minimal`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfrnn::cells::minimal::Minimal;
use mfrnn::cells::{Cell, CellParams, Regime, RhoSchedule};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::phase::{self, Axis, Param, Quantity};
use mfrnn::sim::{SimConfig, simulate};

/// σ_v = 1.39, σ_b = 0, R = 0.46 with the given σ_w and μ_b.
fn params(sigma_w: f64, mu_b: f64) -> CellParams {
    CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_v(1.39)
        .mu_b(mu_b)
        .r(0.46)
        .build()
        .unwrap()
}

fn theory(c: &mut Criterion) {
    let mut g = c.benchmark_group("minimal_theory");
    for (label, sw, mu) in [
        ("ordered", 3.0, 2.0),
        ("chaotic", 6.88, 3.5),
        ("bistable", 11.2, 8.0),
    ] {
        let m = Minimal::new(params(sw, mu)).unwrap();
        g.bench_function(format!("summary {label}"), |b| {
            b.iter(|| black_box(&m).summary(1.0).unwrap())
        });
        g.bench_function(format!("analyze {label}"), |b| {
            b.iter(|| black_box(&m).analyze(1.0).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("minimal_phase_diagram");
    g.sample_size(10);
    let base = params(1.0, 0.0);
    let x = Axis {
        param: Param::SigmaW,
        lo: 0.5,
        hi: 10.0,
        n: 200,
    };
    let y = Axis {
        param: Param::MuB,
        lo: -4.0,
        hi: 8.0,
        n: 200,
    };
    g.bench_function("xi_c 200x200 (sigma_w x mu_b)", |b| {
        b.iter(|| phase::diagram(&Cell::Minimal, base, 1.0, x, y, Quantity::XiC, &|_| {}).unwrap())
    });
    g.finish();
}

fn exact_theory(c: &mut Criterion) {
    let mut g = c.benchmark_group("minimal_exact_theory");
    g.sample_size(10);
    let p = params(3.0, 2.0).to_builder().sigma_b(0.5).build().unwrap();
    for (steps, units) in [(100usize, 32_000usize), (1000, 2_000)] {
        let sched = RhoSchedule::constant(1.0, steps).unwrap();
        let cfg = ExactConfig::builder()
            .units(units)
            .replicas(8)
            .seed(1)
            .build()
            .unwrap();
        // Elements = unit paths × steps² (the sampler's cost unit).
        g.throughput(Throughput::Elements((units * steps * steps) as u64));
        g.bench_function(format!("T={steps}, M={units} (elements = M T^2)"), |b| {
            b.iter(|| exact::trajectory(&Cell::Minimal, &p, &sched, Regime::REAL, &cfg).unwrap())
        });
    }
    g.finish();
}

/// The banded long-horizon sampler (`exact::stationary::transient`) on the case of
/// `exact_theory` (σ_w = 3, μ_b = 2, σ_b = 0.5) at the same T = 1000, M = 2 000 as the full
/// sampler (docs/performance.md).
fn banded_sampler(c: &mut Criterion) {
    use mfrnn::exact::stationary::transient::{self, TransientConfig};
    let mut g = c.benchmark_group("minimal_banded_sampler");
    g.sample_size(10);
    let pp = CellParams::builder()
        .sigma_w(3.0)
        .sigma_v(1.39)
        .sigma_b(0.5)
        .mu_b(2.0)
        .r(0.46)
        .build()
        .unwrap();
    let tied = Regime {
        tied: true,
        fresh_bias: false,
    };
    let cfg = TransientConfig::new(2_000, 8, 1).unwrap();
    g.bench_function("T=1000, M=2000", |b| {
        b.iter(|| transient::trajectory(&pp, tied, 1000, &cfg).unwrap())
    });
    g.finish();
}

fn simulator(c: &mut Criterion) {
    let mut g = c.benchmark_group("minimal_simulator");
    g.sample_size(10);
    let (n, batch, steps) = (1024usize, 64usize, 10usize);
    let p = params(3.0, 2.0);
    let sched = RhoSchedule::constant(1.0, steps).unwrap();
    let cfg = SimConfig::builder()
        .width(n)
        .batch(batch)
        .seeds(2)
        .seed(1)
        .build()
        .unwrap();
    g.throughput(Throughput::Elements(
        (2 * steps * 2 * (2 * n * n * 2 * batch)) as u64,
    ));
    g.bench_function(
        "width 1024, batch 64 (pairs), 10 steps, 2 seeds; elements = FLOPs",
        |b| b.iter(|| simulate(&Cell::Minimal, &p, &sched, &cfg).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, theory, exact_theory, banded_sampler, simulator);
criterion_main!(benches);
