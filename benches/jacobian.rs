//! Benchmarks of sampled Jacobian spectra: the SVDs behind them and one full sample
//! (numbers in docs/performance.md; peer: `benches/peers/numpy_svd.py`).
//!
//! Run: `cargo bench --bench jacobian` and `cargo bench --bench jacobian --features faer`
//! (the `jacobian::singular_values` row and the Direct sample use faer in the second).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mfrnn::activation::Builtin;
use mfrnn::cells::{Cell, CellParams, WeightLaw};
use mfrnn::sim::jacobian::{self, Accumulation};
use mfrnn::sim::{SimConfig, gaussian_matrix};

const SIZES: [usize; 3] = [200, 400, 800];

/// Short measurement windows for the large sizes, so the whole file runs in a few minutes.
fn window(n: usize) -> (Duration, Duration) {
    match n {
        0..=200 => (Duration::from_secs(1), Duration::from_secs(3)),
        201..=400 => (Duration::from_millis(500), Duration::from_secs(3)),
        _ => (Duration::from_millis(1), Duration::from_secs(1)),
    }
}

fn svd(c: &mut Criterion) {
    let mut g = c.benchmark_group("jacobian_svd");
    g.sample_size(10);
    for n in SIZES {
        let (warm, meas) = window(n);
        g.warm_up_time(warm).measurement_time(meas);
        let mut rng = SimConfig::builder()
            .width(n)
            .batch(1)
            .seeds(2)
            .seed(7)
            .build()
            .unwrap()
            .rng(0);
        let a = gaussian_matrix(&mut rng, n, n, 1.0 / (n as f64).sqrt());
        g.bench_with_input(
            BenchmarkId::new("nalgebra singular_values, Gaussian", n),
            &a,
            |b, a| b.iter(|| black_box(a).clone().singular_values()),
        );
        // The public, backend-dispatching function: nalgebra by default, faer with
        // `--features faer`. The label names the build so the two runs can be told apart.
        let backend = if cfg!(feature = "faer") {
            "faer"
        } else {
            "nalgebra"
        };
        g.bench_with_input(
            BenchmarkId::new(
                format!("jacobian::singular_values [{backend}], Gaussian"),
                n,
            ),
            &a,
            |b, a| b.iter(|| jacobian::singular_values(black_box(a))),
        );
        g.bench_with_input(
            BenchmarkId::new("one-sided Jacobi, Gaussian", n),
            &a,
            |b, a| b.iter(|| jacobian::jacobi_singular_values(black_box(a).clone())),
        );
    }
    g.finish();
}

fn spectrum(c: &mut Criterion) {
    let mut g = c.benchmark_group("jacobian_spectrum");
    g.sample_size(10);
    let tanh = Cell::vanilla(Builtin::Tanh);
    let p = CellParams::builder()
        .sigma_v(0.5)
        .sigma_b(0.1)
        .build()
        .unwrap();
    for n in SIZES {
        let (warm, meas) = window(n);
        g.warm_up_time(warm).measurement_time(meas);
        // Two networks (the minimum `SimConfig` accepts), run in parallel, one per core.
        let cfg = SimConfig::builder()
            .width(n)
            .batch(1)
            .seeds(2)
            .seed(1)
            .weights(WeightLaw::Orthogonal)
            .build()
            .unwrap();
        for (label, acc) in [
            ("T=10 direct, 2 networks", Accumulation::Direct),
            ("T=10 QR, 2 networks", Accumulation::Qr),
        ] {
            g.bench_with_input(BenchmarkId::new(label, n), &cfg, |b, cfg| {
                b.iter(|| jacobian::sample(&tanh, &p, cfg, 10, 0, acc).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, svd, spectrum);
criterion_main!(benches);
