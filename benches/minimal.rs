//! Benchmarks of the minimalRNN theory, exact theory and simulator (docs/performance.md).
//!
//! Run: `cargo bench --bench minimal`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfrnn::cells::RhoSchedule;
use mfrnn::cells::exact::{self, ExactConfig, ProcessParams, Regime, UnitUpdate};
use mfrnn::cells::minimal::{Minimal, MinimalParams};
use mfrnn::cells::vanilla::VanillaParams;
use mfrnn::phase::{self, Axis, Param, Quantity};
use mfrnn::sim::{SimConfig, minimal::simulate};

fn theory(c: &mut Criterion) {
    let mut g = c.benchmark_group("minimal_theory");
    for (label, sw, mu) in [
        ("ordered", 3.0, 2.0),
        ("chaotic", 6.88, 3.5),
        ("bistable", 11.2, 8.0),
    ] {
        let m = Minimal::new(MinimalParams::new(sw, 1.39, 0.0, mu, 0.46).unwrap());
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
    let base = VanillaParams::new(1.0, 1.39, 0.0, 0.0, 0.46).unwrap();
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
        b.iter(|| phase::minimal(base, 1.0, x, y, Quantity::XiC, &|_| {}).unwrap())
    });
    g.finish();
}

fn exact_theory(c: &mut Criterion) {
    let mut g = c.benchmark_group("minimal_exact_theory");
    g.sample_size(10);
    let pp = ProcessParams {
        sigma_w: 3.0,
        sigma_v: 1.39,
        sigma_b: 0.5,
        mu_b: 2.0,
        r: 0.46,
    };
    let tied = Regime {
        tied: true,
        fresh_bias: false,
    };
    for (steps, units) in [(100usize, 32_000usize), (1000, 2_000)] {
        let sched = RhoSchedule::constant(1.0, steps).unwrap();
        let cfg = ExactConfig::new(units, 8, 1).unwrap();
        // Elements = unit paths × steps² (the sampler's cost unit).
        g.throughput(Throughput::Elements((units * steps * steps) as u64));
        g.bench_function(format!("T={steps}, M={units} (elements = M T^2)"), |b| {
            b.iter(|| exact::trajectory(&UnitUpdate::Minimal, &pp, &sched, tied, &cfg).unwrap())
        });
    }
    g.finish();
}

/// The banded long-horizon sampler (`cells::stationary::transient`) on the case of
/// `exact_theory` (σ_w = 3, μ_b = 2, σ_b = 0.5) at the same T = 1000, M = 2 000 as the full
/// sampler (docs/performance.md).
fn banded_sampler(c: &mut Criterion) {
    use mfrnn::cells::stationary::transient::{self, TransientConfig};
    let mut g = c.benchmark_group("minimal_banded_sampler");
    g.sample_size(10);
    let pp = ProcessParams {
        sigma_w: 3.0,
        sigma_v: 1.39,
        sigma_b: 0.5,
        mu_b: 2.0,
        r: 0.46,
    };
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
    let m = Minimal::new(MinimalParams::new(3.0, 1.39, 0.0, 2.0, 0.46).unwrap());
    let sched = RhoSchedule::constant(1.0, steps).unwrap();
    let cfg = SimConfig::new(n, batch, 2, 1).unwrap();
    g.throughput(Throughput::Elements(
        (2 * steps * 2 * (2 * n * n * 2 * batch)) as u64,
    ));
    g.bench_function(
        "width 1024, batch 64 (pairs), 10 steps, 2 seeds; elements = FLOPs",
        |b| b.iter(|| simulate(&m, &sched, &cfg).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, theory, exact_theory, banded_sampler, simulator);
criterion_main!(benches);
