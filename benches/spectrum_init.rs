//! Benchmarks of the free-probability spectra, critical initialization and small-variance
//! series (numbers in docs/performance.md).
//!
//! Run: `cargo bench --bench spectrum_init`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfrnn::activation::{Activation, Builtin};
use mfrnn::cells::{Cell, Regime, WeightLaw};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::expansion;
use mfrnn::init::{self, Given, Target, design};
use mfrnn::spectrum::gated::{GatedLaw, GatedSpectrum};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};

/// The critical tanh law at q* = 0.5 and its σ_w².
fn critical_tanh() -> (DiagonalLaw, f64) {
    let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, 0.5).unwrap();
    let sw2 = 1.0 / law.moment(1);
    (law, sw2)
}

fn spectra(c: &mut Criterion) {
    let mut g = c.benchmark_group("spectrum");
    g.sample_size(10);
    let (law, sw2) = critical_tanh();
    for (label, wl) in [
        ("orthogonal", WeightLaw::Orthogonal),
        ("Gaussian", WeightLaw::Gaussian),
    ] {
        let sp = ProductSpectrum::new(law.clone(), sw2, 100, wl).unwrap();
        g.bench_function(format!("vanilla density T=100, 400 points, {label}"), |b| {
            b.iter(|| black_box(&sp).density(400).unwrap())
        });
    }
    let sp = ProductSpectrum::new(law.clone(), sw2, 1000, WeightLaw::Orthogonal).unwrap();
    g.bench_function("moment_series order 8, T=1000", |b| {
        b.iter(|| black_box(&sp).moment_series(8).unwrap())
    });
    // A transient: 10 distinct laws (q from 0.05 to 0.5).
    let laws: Vec<DiagonalLaw> = (0..10)
        .map(|i| {
            DiagonalLaw::of_activation(
                &Builtin::Tanh as &dyn Activation,
                0.0,
                0.05 + 0.05 * i as f64,
            )
            .unwrap()
        })
        .collect();
    let along = ProductSpectrum::along(laws, sw2, WeightLaw::Orthogonal).unwrap();
    g.bench_function("trajectory density, 10 laws, 400 points", |b| {
        b.iter(|| black_box(&along).density(400).unwrap())
    });
    // The gated one-step law of a critical minimalRNN from 8000 unit paths.
    let ci = init::critical(&Cell::Minimal, &Target::q_star(16.0).mu_b(4.0).r(0.46)).unwrap();
    let (cell, p, regime) = (&ci.cell, &ci.params, Regime::REAL);
    let cfg = ExactConfig::builder()
        .units(8000)
        .replicas(8)
        .seed(1)
        .build()
        .unwrap();
    g.bench_function("gated unit paths, 8000 units, 50 + 1 steps", |b| {
        b.iter(|| exact::jacobian_paths(cell, p, regime, 50, 1, &cfg).unwrap())
    });
    let paths = exact::jacobian_paths(cell, p, regime, 50, 1, &cfg).unwrap();
    let gl = GatedLaw::from_paths(&paths, 0, p.sigma_w()).unwrap();
    let gs = GatedSpectrum::new(gl, WeightLaw::Orthogonal, 1).unwrap();
    g.bench_function("gated density T=1, 8000 atoms, 400 points", |b| {
        b.iter(|| black_box(&gs).density(400).unwrap())
    });
    g.finish();
}

fn initialization(c: &mut Criterion) {
    let mut g = c.benchmark_group("init");
    let tanh = Cell::vanilla(Builtin::Tanh);
    g.bench_function("vanilla tanh q*=0.5", |b| {
        b.iter(|| {
            let target = Target::q_star(black_box(0.5)).given(Given::SigmaB(0.1));
            init::critical(&tanh, &target).unwrap()
        })
    });
    g.bench_function("minimal q*=16, mu_b=4", |b| {
        b.iter(|| {
            let target = Target::q_star(black_box(16.0)).mu_b(4.0).r(0.46);
            init::critical(&Cell::Minimal, &target).unwrap()
        })
    });
    g.sample_size(10);
    let bound = design::WidthBound::new(1000, 1.5, WeightLaw::Orthogonal).unwrap();
    g.bench_function("design vanilla T=1000", |b| {
        b.iter(|| {
            design::design(
                &tanh,
                1.0,
                Given::SigmaB(0.0),
                &[0.0],
                bound,
                design::Objective::LargestQStar,
            )
            .unwrap()
        })
    });
    let bound = design::WidthBound::new(100, 4.0, WeightLaw::Orthogonal).unwrap();
    let grid: Vec<f64> = (-4..=8).map(f64::from).collect();
    g.bench_function("design minimal T=100, 13 bias means", |b| {
        b.iter(|| {
            design::design(
                &Cell::Minimal,
                0.46,
                Given::SigmaB(0.0),
                &grid,
                bound,
                design::Objective::LargestQStar,
            )
            .unwrap()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("series");
    for order in [4usize, 12] {
        g.bench_function(format!("small_variance tanh order {order}"), |b| {
            b.iter(|| expansion::small_variance(Builtin::Tanh, black_box(order)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, spectra, initialization);
criterion_main!(benches);
