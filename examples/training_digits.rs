//! Padded digits: test accuracy of a width-64 vanilla tanh RNN and a minimalRNN after 2,000
//! Adam steps from the critical initialization, at noise padding T = 0, 2, 5, 10, 20, 50
//! (theory/09-training.md quotes this table). All twelve runs train in parallel, one per
//! thread. Asserts the claim of the docs: above 90% test accuracy for T ≤ 5 for both cells.
//!
//! Run: `cargo run --release --example training_digits` (about a minute on 2 cores).

use mfrnn::activation::Builtin;
use mfrnn::sim::Weights;
use mfrnn::training::{CellSpec, InitScheme, Padding, RunConfig, Task, train_many};

fn main() -> Result<(), mfrnn::Error> {
    let paddings = [0usize, 2, 5, 10, 20, 50];
    let cells = [
        (CellSpec::Vanilla(Builtin::Tanh), 0.0, 0.05),
        (CellSpec::Minimal, 4.0, 16.0),
    ];
    let mut configs = Vec::new();
    for &(cell, mu_b, q_star) in &cells {
        for &padding in &paddings {
            let mut c = RunConfig::new(
                cell,
                Task::Digits {
                    padding,
                    pad: Padding::Noise,
                },
            );
            c.init = InitScheme::Critical {
                q_star,
                mu_b,
                sigma_b: None,
                sigma_v: None,
                weights: Weights::Orthogonal,
            };
            c.lr = 2e-3;
            c.steps = 2000;
            c.eval_every = 2000;
            c.seed = 1;
            configs.push(c);
        }
    }
    let results = train_many(&configs, &|_, _| {});
    println!(
        "| cell | T = {} |",
        paddings.map(|t| t.to_string()).join(" | T = ")
    );
    println!("|---{}|", "|---".repeat(paddings.len()));
    for (k, &(cell, ..)) in cells.iter().enumerate() {
        let mut row = Vec::new();
        for (j, &t) in paddings.iter().enumerate() {
            let r = results[k * paddings.len() + j]
                .as_ref()
                .map_err(Clone::clone)?;
            let acc = r.test_accuracy.unwrap_or(0.0);
            row.push(format!("{:.1}%", 100.0 * acc));
            if t <= 5 {
                assert!(acc > 0.9, "{cell:?} T = {t}: {acc}");
            }
        }
        println!("| {} | {} |", cell.name(), row.join(" | "));
    }
    Ok(())
}
