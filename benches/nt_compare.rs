//! The quantity neural-tangents computes, timed in mfrnn: the T-step mean-field trajectory
//! (q, Q, q_ab, C, c for t = 1..T) of the vanilla erf/tanh RNN over a 50 × 50 grid of
//! (σ_w, σ_b), at σ_v = 0.5, R = 1, ρ = 0.5 — the feed-forward-equivalent kernel of
//! `benches/peers/neural_tangents_kernel.py` (numbers in docs/performance.md, section
//! "Peer: neural-tangents").
//!
//! Run: `cargo bench --bench nt_compare`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfrnn::activation::Builtin;
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{CellParams, RhoSchedule};
use rayon::prelude::*;

/// Same grid as the Python peer: σ_w in [0.5, 3], σ_b in [0, 1], 50 values each (inclusive).
const N: usize = 50;

fn axis(lo: f64, hi: f64, i: usize) -> f64 {
    lo + (hi - lo) * i as f64 / (N - 1) as f64
}

/// Final-step (Q^T, C^T) summed over the grid (so nothing is optimised away).
fn grid(phi: Builtin, sched: &RhoSchedule, parallel: bool) -> f64 {
    let point = |k: usize| {
        let (i, j) = (k / N, k % N);
        let p = CellParams::builder()
            .sigma_w(axis(0.5, 3.0, i))
            .sigma_v(0.5)
            .sigma_b(axis(0.0, 1.0, j))
            .build()
            .unwrap();
        let tr = Vanilla::with_builtin(phi, p).trajectory(sched).unwrap();
        tr.big_q[tr.big_q.len() - 1] + tr.big_c[tr.big_c.len() - 1]
    };
    if parallel {
        (0..N * N).into_par_iter().map(point).sum()
    } else {
        (0..N * N).map(point).sum()
    }
}

fn trajectories(c: &mut Criterion) {
    let mut g = c.benchmark_group("nt_compare");
    g.sample_size(10);
    for phi in [Builtin::Erf, Builtin::Tanh] {
        for t in [10usize, 50, 100] {
            let sched = RhoSchedule::constant(0.5, t).unwrap();
            let name = if phi == Builtin::Erf { "erf" } else { "tanh" };
            g.bench_function(
                format!("{name} trajectory 50x50 grid, T={t}, 2 cores"),
                |b| b.iter(|| grid(phi, black_box(&sched), true)),
            );
            g.bench_function(
                format!("{name} trajectory 50x50 grid, T={t}, 1 thread"),
                |b| b.iter(|| grid(phi, black_box(&sched), false)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, trajectories);
criterion_main!(benches);
