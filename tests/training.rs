//! The training engine (`mfrnn::training`): gradients against finite differences for both
//! cells, every activation and every loss; f32 against f64; the saved files re-evaluated by an
//! independent implementation; determinism across thread counts; divergence and bad input;
//! the digits accuracy a small RNN reaches.

mod common;

use std::path::Path;

use mfrnn::activation::{Activation, Builtin, Deriv};
use mfrnn::cells::{Cell, WeightLaw};
use mfrnn::init::npy;
use mfrnn::training::{
    self, Batch, InitScheme, Model, Optimizer, Outcome, Padding, Precision, RunConfig, Task,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cells() -> Vec<Cell> {
    let mut c: Vec<Cell> = Builtin::ALL.iter().map(|&b| Cell::vanilla(b)).collect();
    c.push(Cell::Minimal);
    c
}

/// A small task of each loss: recall (cross-entropy at the last step), copy (cross-entropy at
/// every step), adding (squared error).
fn task(kind: usize, t: usize) -> Task {
    match kind {
        0 => Task::Recall {
            padding: t,
            classes: 3,
            dim: 3,
            pad: Padding::Noise,
        },
        1 => Task::Copy { delay: t.max(1) },
        _ => Task::Adding { length: t.max(2) },
    }
}

/// Central differences with steps `h` and `h/2`: `None` when they disagree (the loss is not
/// smooth on the interval: a kink of ReLU or hard-tanh lies inside), else the `h/2` value.
fn central(f: &mut dyn FnMut(f64) -> f64, h: f64) -> Option<f64> {
    let d1 = (f(h) - f(-h)) / (2.0 * h);
    let d2 = (f(h / 2.0) - f(-h / 2.0)) / h;
    ((d1 - d2).abs() <= 1e-7 * (1.0 + d2.abs())).then_some(d2)
}

fn check_gradient(
    cell: Cell,
    kind: usize,
    width: usize,
    t: usize,
    b: usize,
    scale: f64,
    seed: u64,
) {
    let data = task(kind, t).build(seed).unwrap();
    let model = Model::for_task(cell.clone(), width, &data).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Entries U(−s, s)/√fan-in: large enough to saturate gates and activations, not so large
    // that unbounded activations explode over the copy task's 21+ steps (where the loss, not
    // the gradient, loses its accuracy).
    let params: Vec<f64> = model
        .tensors()
        .iter()
        .flat_map(|t| vec![scale / (t.cols as f64).sqrt(); t.len()])
        .map(|s| s * (2.0 * rng.random::<f64>() - 1.0))
        .collect();
    let batch: Batch<f64> = data.sample(&mut rng, b);
    let (_, grad) = model.loss_and_grad(&params, &batch).unwrap();
    let (mut checked, mut skipped) = (0, 0);
    for i in 0..params.len() {
        let mut p = params.clone();
        let mut f = |d: f64| {
            p[i] = params[i] + d;
            model.evaluate(&p, &batch).unwrap().loss
        };
        match central(&mut f, 1e-5) {
            Some(fd) => {
                // Central differences at h = 5e-6: truncation ~h² L''' and rounding ~1e-16/h,
                // both below 1e-9 for these O(1) losses; 1e-7 + 1e-6 relative leaves margin
                // without hiding an error in a term (those are O(|g|)).
                let tol = 1e-7 + 1e-6 * grad[i].abs();
                assert!(
                    (fd - grad[i]).abs() <= tol,
                    "{cell:?} task {kind} N={width} T={t} B={b}: param {i}: BPTT {} vs FD {fd}",
                    grad[i]
                );
                checked += 1;
            }
            None => skipped += 1,
        }
    }
    // Kinks are rare at random parameters: most coordinates are checked. At widths 1–5 one
    // hard-tanh unit sitting near its kink makes its whole row of W, V and b non-smooth at
    // once, so up to a fifth may be skipped (5 of 47 were, for one random seed in a CI run on
    // 2026-12-03, under the former bound of a tenth).
    assert!(
        skipped * 5 <= checked,
        "{cell:?}: {skipped} skipped, {checked} checked"
    );
}

proptest! {
    #![proptest_config(common::fixed_seed(24))]

    /// BPTT against finite differences in f64, both cells, every activation, every loss
    /// (cross-entropy at the last step and at every step, squared error).
    #[test]
    fn bptt_gradients_match_finite_differences(
        kind in 0usize..3,
        width in 1usize..6,
        t in 0usize..5,
        b in 1usize..4,
        scale in 0.2f64..1.2,
        seed in 0u64..1_000_000,
    ) {
        for cell in cells() {
            check_gradient(cell, kind, width, t, b, scale, seed);
        }
    }
}

/// The f32 engine (fast vectorised activations, f32 products) agrees with f64 to f32
/// accuracy, on a network big enough to use every kernel (N = 48, B = 16, L = 31).
#[test]
fn f32_gradients_agree_with_f64() {
    for cell in cells() {
        let data = task(0, 30).build(3).unwrap();
        let model = Model::for_task(cell.clone(), 48, &data).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let p64: Vec<f64> = (0..model.num_params())
            .map(|_| 0.2 * (2.0 * rng.random::<f64>() - 1.0))
            .collect();
        let p32: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
        let b32: Batch<f32> = data.sample(&mut rng, 16);
        let b64: Batch<f64> = b32.cast();
        let p64: Vec<f64> = p32.iter().map(|&v| f64::from(v)).collect();
        let (e64, g64) = model.loss_and_grad(&p64, &b64).unwrap();
        let (e32, g32) = model.loss_and_grad(&p32, &b32).unwrap();
        let norm = g64.iter().map(|g| g * g).sum::<f64>().sqrt();
        let diff = g64
            .iter()
            .zip(&g32)
            .map(|(a, &b)| (a - f64::from(b)).powi(2))
            .sum::<f64>()
            .sqrt();
        // f32 rounding (6e-8) accumulated over 31 steps and sums of ~50 terms: 1e-4 of the norm.
        assert!(
            diff <= 1e-4 * norm,
            "{cell:?}: |g32 − g64| = {diff:e}, |g| = {norm:e}"
        );
        assert!((e32.loss - e64.loss).abs() < 1e-5 * e64.loss.abs().max(1.0));
    }
}

fn quick(cell: Cell, task: Task) -> RunConfig {
    let mut c = RunConfig::new(cell, task);
    c.width = 24;
    c.batch = 16;
    c.steps = 60;
    c.eval_every = 20;
    c.eval_size = 64;
    c
}

/// Runs are bit-identical whatever the number of threads: `train_many` in pools of 1 and 2
/// threads, and each run alone, give the same JSON.
#[test]
fn results_do_not_depend_on_thread_count() {
    let mut configs = Vec::new();
    for (i, cell) in [Cell::vanilla(Builtin::Tanh), Cell::Minimal]
        .into_iter()
        .enumerate()
    {
        for seed in 0..3 {
            let mut c = quick(cell.clone(), task(i, 6));
            c.seed = seed;
            // One run of each cell computes its batches in 2 parts on parallel threads.
            c.batch_split = if seed == 2 { 2 } else { 1 };
            configs.push(c);
        }
    }
    let json = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let r = pool.install(|| training::train_many(&configs, &|_, _| {}));
        r.into_iter()
            .map(|r| {
                let mut r = r.unwrap();
                r.diagnostics.seconds = 0.0;
                serde_json::to_string(&r).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let one = json(1);
    assert_eq!(one, json(2));
    let mut alone = training::train(&configs[4]).unwrap();
    alone.diagnostics.seconds = 0.0;
    assert_eq!(one[4], serde_json::to_string(&alone).unwrap());
    assert_ne!(one[3], one[4], "different seeds give different runs");
}

/// A chaotic ReLU network without clipping diverges: a typed outcome at a step, no NaN
/// anywhere in the result; an exploding gradient is reported with its norm.
#[test]
fn divergence_is_a_reported_outcome() {
    let mut c = quick(
        Cell::vanilla(Builtin::Relu),
        Task::Recall {
            padding: 30,
            classes: 4,
            dim: 8,
            pad: Padding::Noise,
        },
    );
    c.init = InitScheme::Theory {
        sigma_w: 4.0,
        sigma_v: 1.0,
        sigma_b: 0.0,
        mu_b: 0.0,
        weights: WeightLaw::Gaussian,
    };
    c.clip = None;
    c.explode = f64::INFINITY;
    c.optimizer = Optimizer::sgd(0.0);
    c.lr = 1.0;
    let r = training::train(&c).unwrap();
    let Outcome::Diverged { step, .. } = r.outcome else {
        panic!("expected divergence, got {:?}", r.outcome)
    };
    assert!(step >= 1);
    assert!(r.test_loss.is_none() && r.test_accuracy.is_none() && r.final_train_loss.is_none());
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"));
    c.explode = 1e3;
    let r = training::train(&c).unwrap();
    match r.outcome {
        Outcome::Diverged {
            step: 1,
            reason: training::Divergence::ExplodingGradient { norm, threshold },
        } => assert!(norm > threshold && threshold == 1e3),
        o => panic!("expected an exploding gradient at step 1, got {o:?}"),
    }
}

/// Bad input is a typed error naming the parameter.
#[test]
fn bad_input_names_the_parameter() {
    let base = quick(Cell::vanilla(Builtin::Tanh), task(0, 3));
    let cases: Vec<(RunConfig, &str)> = vec![
        (
            RunConfig {
                lr: f64::NAN,
                ..base.clone()
            },
            "lr",
        ),
        (
            RunConfig {
                lr: -1.0,
                ..base.clone()
            },
            "lr",
        ),
        (
            RunConfig {
                clip: Some(0.0),
                ..base.clone()
            },
            "clip",
        ),
        (
            RunConfig {
                batch: 0,
                ..base.clone()
            },
            "batch",
        ),
        (
            RunConfig {
                steps: 0,
                ..base.clone()
            },
            "steps",
        ),
        (
            RunConfig {
                width: 0,
                ..base.clone()
            },
            "width",
        ),
        (
            RunConfig {
                task: Task::Copy { delay: 0 },
                ..base.clone()
            },
            "padding",
        ),
        (
            RunConfig {
                task: Task::Adding { length: 0 },
                ..base.clone()
            },
            "padding",
        ),
        (
            RunConfig {
                optimizer: Optimizer::sgd(f64::NAN),
                ..base.clone()
            },
            "momentum",
        ),
        (
            RunConfig {
                embedding_r: 0.0,
                ..base.clone()
            },
            "embedding-r",
        ),
        (
            RunConfig {
                init: InitScheme::Theory {
                    sigma_w: f64::NAN,
                    sigma_v: 1.0,
                    sigma_b: 0.0,
                    mu_b: 0.0,
                    weights: WeightLaw::Gaussian,
                },
                ..base.clone()
            },
            "sigma-w",
        ),
        (
            RunConfig {
                width: 4096,
                batch: 4096,
                task: Task::Digits {
                    padding: 5000,
                    pad: Padding::Noise,
                },
                ..base.clone()
            },
            "batch",
        ),
    ];
    for (c, name) in cases {
        let e = training::train(&c).unwrap_err().to_string();
        assert!(e.contains(name), "expected `{name}` in: {e}");
    }
}

/// The theory initialization draws the network `mfrnn init --sample` writes for the same seed.
#[test]
fn theory_init_is_the_sampled_network() {
    let c = mfrnn::init::critical(
        &Cell::vanilla(Builtin::Tanh),
        &mfrnn::init::Target::q_star(0.8)
            .r(1.0)
            .mu_b(0.1)
            .given(mfrnn::init::Given::SigmaB(0.2)),
    )
    .unwrap();
    let net = mfrnn::init::weights::sample(&c, 24, 64, WeightLaw::Orthogonal, 9).unwrap();
    let mut cfg = quick(
        Cell::vanilla(Builtin::Tanh),
        Task::Digits {
            padding: 1,
            pad: Padding::Noise,
        },
    );
    cfg.init = InitScheme::Theory {
        sigma_w: c.params.sigma_w(),
        sigma_v: c.params.sigma_v(),
        sigma_b: c.params.sigma_b(),
        mu_b: c.params.mu_b(),
        weights: WeightLaw::Orthogonal,
    };
    cfg.seed = 9;
    cfg.steps = 1;
    let dir = tempdir("theory-init");
    let (_, m) = training::train_and_save(&cfg, &dir, &|_| {}).unwrap();
    let w = read(&dir, "initial_W.npy");
    let v = read(&dir, "initial_V.npy");
    let b = read(&dir, "initial_b.npy");
    for i in 0..24 {
        for j in 0..24 {
            assert_eq!(w.0[i * 24 + j] as f32, net.w[(i, j)] as f32);
        }
        for j in 0..64 {
            assert_eq!(v.0[i * 64 + j] as f32, net.v[(i, j)] as f32);
        }
        assert_eq!(b.0[i] as f32, net.b[i] as f32);
    }
    assert_eq!(m.sizes.width, 24);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mfrnn-training-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read(dir: &Path, name: &str) -> (Vec<f64>, Vec<usize>) {
    npy::from_bytes(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

/// An independent forward pass, written from the manifest's equations: plain loops over
/// sequences, one vector at a time, matrices in C order as saved. Returns (mean loss,
/// correct, scored).
fn reference_forward(
    cell: &str,
    phi: Builtin,
    p: &std::collections::HashMap<String, (Vec<f64>, Vec<usize>)>,
    x: &(Vec<f64>, Vec<usize>),
    targets: &(Vec<f64>, Vec<usize>),
    readout: &[usize],
    scored_from: usize,
) -> (f64, usize, usize) {
    let (len, b, d) = (x.1[0], x.1[1], x.1[2]);
    let n = p["W"].1[0];
    let k = p["W_out"].1[0];
    let mv = |m: &[f64], cols: usize, v: &[f64]| -> Vec<f64> {
        (0..m.len() / cols)
            .map(|i| (0..cols).map(|j| m[i * cols + j] * v[j]).sum())
            .collect()
    };
    let (mut loss, mut correct, mut scored) = (0.0, 0, 0);
    for i in 0..b {
        let mut h = vec![0.0; n];
        for t in 1..=len {
            let xt = &x.0[((t - 1) * b + i) * d..((t - 1) * b + i + 1) * d];
            if cell == "vanilla" {
                let wh = mv(&p["W"].0, n, &h);
                let vx = mv(&p["V"].0, d, xt);
                h = (0..n)
                    .map(|r| phi.eval(Deriv::Phi, wh[r] + vx[r] + p["b"].0[r]))
                    .collect();
            } else {
                let ux = mv(&p["U"].0, d, xt);
                let z: Vec<f64> = (0..n).map(|r| ux[r] + p["b_z"].0[r]).collect();
                let wh = mv(&p["W"].0, n, &h);
                let vz = mv(&p["V"].0, n, &z);
                h = (0..n)
                    .map(|r| {
                        let u = 1.0 / (1.0 + (-(wh[r] + vz[r] + p["b"].0[r])).exp());
                        u * h[r] + (1.0 - u) * z[r]
                    })
                    .collect();
            }
            if let Some(j) = readout.iter().position(|&s| s == t) {
                let wo = mv(&p["W_out"].0, n, &h);
                let y: Vec<f64> = (0..k).map(|c| wo[c] + p["b_out"].0[c]).collect();
                if targets.1.len() == 2 {
                    let cls = targets.0[j * b + i] as usize;
                    let m = y.iter().copied().fold(f64::MIN, f64::max);
                    let lse = m + y.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                    loss += lse - y[cls];
                    if j >= scored_from {
                        scored += 1;
                        let arg = (0..k).fold(0, |a, c| if y[c] > y[a] { c } else { a });
                        correct += usize::from(arg == cls);
                    }
                } else {
                    loss += (0..k)
                        .map(|c| (y[c] - targets.0[(j * b + i) * k + c]).powi(2))
                        .sum::<f64>();
                }
            }
        }
    }
    (loss / (b * readout.len()) as f64, correct, scored)
}

/// `--save` writes files from which an independent implementation reproduces the reported
/// test loss and accuracy and the gradient (checked by its own finite differences), for both
/// cells, a classification and a regression task, f32 and f64 runs.
#[test]
fn saved_runs_are_reproduced_independently() {
    let cases = [
        (
            Cell::vanilla(Builtin::Tanh),
            Task::Digits {
                padding: 2,
                pad: Padding::Noise,
            },
            Precision::F32,
        ),
        (Cell::Minimal, Task::Copy { delay: 2 }, Precision::F64),
        (
            Cell::vanilla(Builtin::Softplus),
            Task::Adding { length: 5 },
            Precision::F32,
        ),
    ];
    for (ci, (cell, task, precision)) in cases.into_iter().enumerate() {
        let mut cfg = quick(cell.clone(), task);
        cfg.width = 12;
        cfg.eval_size = 40;
        cfg.precision = precision;
        let dir = tempdir(&format!("save{ci}"));
        let (result, m) = training::train_and_save(&cfg, &dir, &|_| {}).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["cell"], cell.kind().as_str());
        let phi = Builtin::from_name(manifest["activation"].as_str().unwrap()).unwrap();
        let readout: Vec<usize> = manifest["readout_steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let scored_from = manifest["scored_from"].as_u64().unwrap() as usize;
        let names: Vec<String> = m
            .files
            .iter()
            .filter_map(|f| {
                f.name
                    .strip_prefix("final_")
                    .map(|s| s.trim_end_matches(".npy").to_string())
            })
            .collect();
        let load = |prefix: &str| {
            names
                .iter()
                .map(|n| (n.clone(), read(&dir, &format!("{prefix}_{n}.npy"))))
                .collect::<std::collections::HashMap<_, _>>()
        };
        let x = read(&dir, "eval_inputs.npy");
        let targets = read(&dir, "eval_targets.npy");
        let (loss, correct, scored) = reference_forward(
            cell.kind().as_str(),
            phi,
            &load("final"),
            &x,
            &targets,
            &readout,
            scored_from,
        );
        let reported = manifest["test_loss"].as_f64().unwrap();
        assert!(
            (loss - reported).abs() <= 1e-12 * reported.abs().max(1.0),
            "{loss} vs {reported}"
        );
        if scored > 0 {
            assert_eq!(
                manifest["test_accuracy"].as_f64().unwrap(),
                correct as f64 / scored as f64
            );
        } else {
            assert!(manifest["test_accuracy"].is_null());
        }
        // The training-precision result agrees with the float64 re-evaluation to its accuracy.
        assert!((result.test_loss.unwrap() - reported).abs() < 1e-4 * reported.max(1.0));
        // The gradient files against central differences of the independent forward pass, on
        // every coordinate of the small tensors and a spread of the large ones.
        let init = load("initial");
        let (l0, ..) = reference_forward(
            cell.kind().as_str(),
            phi,
            &init,
            &x,
            &targets,
            &readout,
            scored_from,
        );
        assert!((l0 - manifest["initial_loss"].as_f64().unwrap()).abs() < 1e-12 * l0.max(1.0));
        for name in &names {
            let g = read(&dir, &format!("grad_{name}.npy"));
            assert_eq!(g.1, init[name].1);
            let stride = (g.0.len() / 25).max(1);
            for idx in (0..g.0.len()).step_by(stride) {
                let mut f = |h: f64| {
                    let mut p = init.clone();
                    p.get_mut(name).unwrap().0[idx] += h;
                    reference_forward(
                        cell.kind().as_str(),
                        phi,
                        &p,
                        &x,
                        &targets,
                        &readout,
                        scored_from,
                    )
                    .0
                };
                let fd = central(&mut f, 1e-5).unwrap();
                assert!(
                    (fd - g.0[idx]).abs() <= 1e-7 + 1e-6 * fd.abs(),
                    "{name}[{idx}]: saved {} vs FD {fd}",
                    g.0[idx]
                );
            }
        }
        // A second save into the same (unmodified, our own) directory is allowed; a foreign
        // file makes it refused before training.
        training::train_and_save(&cfg, &dir, &|_| {}).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let e = training::train_and_save(&cfg, &dir, &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("--save"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Digits at short horizons: a width-64 tanh RNN and a minimalRNN reach over 90% test accuracy
/// (355 held-out images) within 600 Adam steps from the critical initialization, with noise
/// padding T = 2. (The full numbers, T = 0..50 at 2,000 steps, are in theory/09-training.md.)
#[test]
fn digits_reach_the_accuracy_of_a_small_rnn() {
    for (cell, mu_b, q) in [
        (Cell::vanilla(Builtin::Tanh), 0.0, 0.05),
        (Cell::Minimal, 4.0, 16.0),
    ] {
        let mut c = RunConfig::new(
            cell.clone(),
            Task::Digits {
                padding: 2,
                pad: Padding::Noise,
            },
        );
        c.init = InitScheme::Critical {
            q_star: q,
            mu_b,
            sigma_b: None,
            sigma_v: None,
            weights: WeightLaw::Orthogonal,
        };
        c.lr = 2e-3;
        c.steps = 600;
        c.eval_every = 600;
        c.seed = 1;
        let r = training::train(&c).unwrap();
        let acc = r.test_accuracy.unwrap();
        assert!(acc > 0.9, "{cell:?}: test accuracy {acc}");
        assert!(r.test_loss.unwrap() < r.baseline.loss / 5.0);
    }
}

/// The command line: a run with --json, refused inputs named by their flag.
#[test]
fn cli_train() {
    let exe = env!("CARGO_BIN_EXE_mfrnn");
    let out = std::process::Command::new(exe)
        .args([
            "train",
            "--task",
            "recall",
            "--padding",
            "3",
            "--steps",
            "50",
            "--width",
            "16",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"]["status"], "completed");
    assert!(v["test_accuracy"].as_f64().unwrap() >= 0.0);
    for (args, needle) in [
        (vec!["--lr", "NaN"], "lr"),
        (vec!["--task", "copy", "--padding", "0"], "padding"),
        (vec!["--phi", "gelu"], "gelu"),
        (vec!["--width", "0"], "width"),
    ] {
        let out = std::process::Command::new(exe)
            .arg("train")
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// The adding problem's trivial baseline: predicting 1 (zero weights, output bias 1) has mean
/// squared error 1/6 on the evaluation batch, to within four standard errors of the mean of
/// (s − 1)² over its 4,000 sequences (Var[(s − 1)²] = E[(s−1)⁴] − 1/36 = 1/15 − 1/36 for the
/// triangular s − 1 on [−1, 1]).
#[test]
fn adding_baseline_is_one_sixth() {
    let data = Task::Adding { length: 20 }.build(0).unwrap();
    let model = Model::for_task(Cell::vanilla(Builtin::Tanh), 8, &data).unwrap();
    let mut p = vec![0.0f64; model.num_params()];
    *p.last_mut().unwrap() = 1.0;
    let batch: Batch<f64> = data.eval_batch(4000, 3);
    let mse = model.evaluate(&p, &batch).unwrap().loss;
    let se = ((1.0 / 15.0 - 1.0 / 36.0) / 4000.0f64).sqrt();
    assert!((mse - 1.0 / 6.0).abs() < 4.0 * se, "{mse} vs 1/6 (SE {se})");
    assert!((data.baseline.loss - 1.0 / 6.0).abs() < 1e-15);
}

/// Splitting the batch into parts (uneven: 7 sequences into 3) computes the same step as the
/// whole batch, to rounding: the parts' losses and gradients are weighted by their sizes.
#[test]
fn batch_split_computes_the_same_step() {
    for (i, cell) in [Cell::vanilla(Builtin::Tanh), Cell::Minimal]
        .into_iter()
        .enumerate()
    {
        let mut c = quick(cell.clone(), task(i, 4));
        c.batch = 7;
        c.optimizer = Optimizer::sgd(0.0);
        c.lr = 0.5;
        let run = |split: usize| {
            let mut c = c.clone();
            c.batch_split = split;
            let (mut t, data) = training::Trainer::<f64>::new(&c).unwrap();
            let batch: Batch<f64> = data.sample(&mut ChaCha8Rng::seed_from_u64(4), 7);
            let (e, norm) = t.step(&batch);
            (e, norm, t.params().to_vec())
        };
        let (e1, n1, p1) = run(1);
        let (e3, n3, p3) = run(3);
        assert!((e1.loss - e3.loss).abs() < 1e-14 * e1.loss.abs());
        assert_eq!(e1.correct, e3.correct);
        assert!((n1 - n3).abs() < 1e-13 * n1);
        for (a, b) in p1.iter().zip(&p3) {
            assert!(
                (a - b).abs() < 1e-14 * (1.0 + a.abs()),
                "{cell:?}: {a} vs {b}"
            );
        }
    }
}
