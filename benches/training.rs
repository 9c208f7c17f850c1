//! Training-step throughput (forward + backward + SGD update) of the BPTT engine, vanilla tanh
//! and minimalRNN, at the two shapes of issue 13, f32 and f64, one thread and the batch split
//! over two. Peer: `benches/peers/jax_train.py bench` (same task and FLOP count). Numbers in
//! docs/performance.md §Training.

use criterion::{Criterion, criterion_group, criterion_main};
use mfrnn::activation::Builtin;
use mfrnn::training::{Batch, CellSpec, Optimizer, Padding, Real, RunConfig, Task, Trainer};
use rand::SeedableRng;

fn config(cell: CellSpec, n: usize, b: usize, t: usize, split: usize) -> RunConfig {
    let mut c = RunConfig::new(
        cell,
        Task::Recall {
            padding: t - 1,
            classes: 10,
            dim: 32,
            pad: Padding::Noise,
        },
    );
    c.width = n;
    c.batch = b;
    c.batch_split = split;
    c.optimizer = Optimizer::sgd(0.0);
    c.clip = None;
    c
}

fn step<T: Real>(cr: &mut Criterion, name: &str, cfg: &RunConfig) {
    let (mut tr, task) = Trainer::<T>::new(cfg).unwrap();
    let batch: Batch<T> = task.sample(&mut rand_chacha::ChaCha8Rng::seed_from_u64(1), cfg.batch);
    cr.bench_function(name, |bch| bch.iter(|| tr.step(&batch)));
}

/// The machine's GEMM peak as the engine's product reaches it: square 1024 products.
fn gemm_peak(c: &mut Criterion) {
    let n = 1024;
    let a32: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut c32 = vec![0f32; n * n];
    c.bench_function("gemm f32 1024^3 (2.15 GFLOP)", |bch| {
        bch.iter(|| mfrnn::training::matmul(&mut c32, &a32, &a32, n, n, n))
    });
    let a64: Vec<f64> = (0..n * n).map(|i| (i % 7) as f64 * 0.1).collect();
    let mut c64 = vec![0f64; n * n];
    c.bench_function("gemm f64 1024^3 (2.15 GFLOP)", |bch| {
        bch.iter(|| mfrnn::training::matmul(&mut c64, &a64, &a64, n, n, n))
    });
}

/// The choices behind the engine: its GEMM against nalgebra's (matrixmultiply) on the
/// engine's shapes, and its vectorised f32 tanh against the standard library's.
fn choices(c: &mut Criterion) {
    use nalgebra::DMatrix;
    for (m, k, n, what) in [(128, 128, 64, "step W·h"), (128, 6400, 128, "dW = Δ·Hᵀ")] {
        let a = DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f32 * 0.1);
        let b = DMatrix::<f32>::from_fn(k, n, |i, j| ((i * 5 + j * 2) % 13) as f32 * 0.1);
        let mut out = DMatrix::<f32>::zeros(m, n);
        c.bench_function(&format!("nalgebra gemm f32 {what} {m}x{k}x{n}"), |bch| {
            bch.iter(|| out.gemm(1.0, &a, &b, 0.0))
        });
        let mut o = vec![0f32; m * n];
        c.bench_function(&format!("engine gemm f32 {what} {m}x{k}x{n}"), |bch| {
            bch.iter(|| mfrnn::training::matmul(&mut o, a.as_slice(), b.as_slice(), m, k, n))
        });
    }
    let x: Vec<f32> = (0..819_200)
        .map(|i| ((i as f32) * 1.23e-4).sin() * 6.0)
        .collect();
    let mut y = vec![0f32; x.len()];
    c.bench_function("tanh f32 x 819200: std", |bch| {
        bch.iter(|| {
            for (y, &x) in y.iter_mut().zip(&x) {
                *y = x.tanh();
            }
        })
    });
    c.bench_function("tanh f32 x 819200: engine", |bch| {
        bch.iter(|| <f32 as Real>::phi(Builtin::Tanh, &x, &mut y))
    });
}

fn bench(c: &mut Criterion) {
    for (n, b, t) in [(128, 64, 100), (64, 32, 500)] {
        for cell in [CellSpec::Vanilla(Builtin::Tanh), CellSpec::Minimal] {
            for split in [1, 2] {
                let cfg = config(cell, n, b, t, split);
                let tag = format!("{} N={n} B={b} T={t} threads={split}", cell.name());
                step::<f32>(c, &format!("f32 {tag}"), &cfg);
                step::<f64>(c, &format!("f64 {tag}"), &cfg);
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = gemm_peak, choices, bench
}
criterion_main!(benches);
