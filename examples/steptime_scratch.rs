use mfrnn::activation::Builtin;
use mfrnn::training::{Batch, CellSpec, Optimizer, Padding, RunConfig, Task, Trainer};
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let f64_mode = args.iter().any(|a| a == "f64");
    for (n, b, t) in [(128usize, 64usize, 100usize), (64, 32, 500)] {
        for cell in [CellSpec::Vanilla(Builtin::Tanh), CellSpec::Minimal] {
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
            c.batch_split = std::env::var("SPLIT")
                .map(|s| s.parse().unwrap())
                .unwrap_or(1);
            c.optimizer = Optimizer::sgd(0.0);
            c.lr = 1e-3;
            c.clip = None;
            macro_rules! go {
                ($T:ty) => {{
                    let (mut tr, task) = Trainer::<$T>::new(&c).unwrap();
                    let batch: Batch<$T> = task.sample(
                        &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1),
                        b,
                    );
                    for _ in 0..3 {
                        tr.step(&batch);
                    }
                    let reps = 20;
                    let mut best = f64::MAX;
                    for _ in 0..reps {
                        let s = Instant::now();
                        tr.step(&batch);
                        best = best.min(s.elapsed().as_secs_f64());
                    }
                    let (nf, bf, lf, df) = (n as f64, b as f64, t as f64, 32.0);
                    let flops = match cell {
                        CellSpec::Minimal => 10.0 * nf * nf * bf * lf + 4.0 * nf * df * bf * lf,
                        _ => 6.0 * nf * nf * bf * lf + 4.0 * nf * df * bf * lf,
                    };
                    println!(
                        "{:8} N={n} B={b} T={t} {}: best {:.2} ms, {:.1} GFLOP/s",
                        cell.name(),
                        stringify!($T),
                        best * 1e3,
                        flops / best / 1e9
                    );
                }};
            }
            if f64_mode { go!(f64) } else { go!(f32) }
        }
    }
}
