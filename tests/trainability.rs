//! Trainability grids (`mfrnn::training::trainability`, `mfrnn trainability`): shards run as
//! separate processes merge to exactly the single-process result; an interrupted run resumes
//! to the same result; bad input and divergence; a tiny grid's sanity; the timescale
//! candidates against an independent computation; the separation fit; learning curves.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use mfrnn::activation::Builtin;
use mfrnn::cells::{Cell, WeightLaw};
use mfrnn::training::curves::{self, CriticalTarget, CurveSpec};
use mfrnn::training::trainability::{
    self as tr, Axis, BaseInit, CellResult, Factorised, GridFile, GridPlan, GridSpec, GridTask,
    TimescaleSource, Training, Xi,
};
use mfrnn::training::{InitScheme, Padding, Task};

use common::mfrnn;

fn scratch(name: &str) -> PathBuf {
    common::scratch("trainability", name)
}

/// A grid of 2 × 3 cells × 2 seeds on the recall task that trains in well under a second.
const GRID: &[&str] = &[
    "trainability",
    "run",
    "--task",
    "recall",
    "--classes",
    "4",
    "--dim",
    "8",
    "--values",
    "0.5,1.5",
    "--horizons",
    "1,3,6",
    "--seeds",
    "2",
    "--steps",
    "40",
    "--width",
    "8",
    "--batch",
    "16",
    "--eval-size",
    "100",
    "--lr",
    "1e-2",
];

/// `GRID` with the flags of `extra` replacing its own, then `extra`.
fn grid_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < GRID.len() {
        if GRID[i].starts_with("--") && extra.contains(&GRID[i]) {
            i += 2;
            continue;
        }
        args.push(GRID[i]);
        i += 1;
    }
    args.extend_from_slice(extra);
    args
}

fn run_grid(out: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = grid_args(extra);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    mfrnn(&args)
}

fn merge(inputs: &[&Path], out: &Path) {
    let mut args = vec!["trainability", "merge", "--out", out.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let (code, _, err) = mfrnn(&args);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn shards_in_separate_processes_merge_to_the_single_process_result() {
    let d = scratch("shards");
    let whole = d.join("whole.jsonl");
    let (code, out, err) = run_grid(&whole, &["--threads", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("6 of 6 cells"), "{out}");
    // Three shards, each its own process, with another thread count.
    let shards: Vec<PathBuf> = (0..3).map(|i| d.join(format!("s{i}.jsonl"))).collect();
    let procs: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut args: Vec<String> = GRID.iter().map(|s| s.to_string()).collect();
            args.extend([
                "--out".into(),
                p.to_str().unwrap().into(),
                "--shard".into(),
                format!("{i}/3"),
                "--threads".into(),
                "1".into(),
            ]);
            Command::new(env!("CARGO_BIN_EXE_mfrnn"))
                .args(&args)
                .output()
                .expect("spawns")
        })
        .collect();
    for p in &procs {
        assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    }
    // Each shard holds 2 of the 6 cells.
    for s in &shards {
        let f = tr::read(s).unwrap();
        assert_eq!(f.cells.len(), 2);
        assert!(f.missing().is_empty());
    }
    let m_shards = d.join("merged-shards.jsonl");
    let m_whole = d.join("merged-whole.jsonl");
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    merge(&refs, &m_shards);
    merge(&[&whole], &m_whole);
    let a = std::fs::read(&m_shards).unwrap();
    let b = std::fs::read(&m_whole).unwrap();
    assert_eq!(a, b, "merged shards differ from the single-process run");
    // A missing shard is refused, naming the gap; --partial accepts it.
    let (code, _, err) = mfrnn(&[
        "trainability",
        "merge",
        "--out",
        d.join("m.jsonl").to_str().unwrap(),
        shards[0].to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("4 of 6 grid cells are missing"), "{err}");
    // Merging into a user's file is refused and leaves it untouched.
    let user = d.join("user.jsonl");
    std::fs::write(&user, "mine\n").unwrap();
    let (code, _, err) = mfrnn(&[
        "trainability",
        "merge",
        "--out",
        user.to_str().unwrap(),
        whole.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&user).unwrap(), "mine\n");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_interrupted_run_resumes_to_the_same_result() {
    let d = scratch("resume");
    let whole = d.join("whole.jsonl");
    assert_eq!(run_grid(&whole, &[]).0, 0);
    let part = d.join("part.jsonl");
    let bytes = std::fs::read(&whole).unwrap();
    // Keep the header and two cells, then half of the third line: a run killed mid-append.
    let ends: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let cut = ends[2] + 1 + (ends[3] - ends[2]) / 2;
    std::fs::write(&part, &bytes[..cut]).unwrap();
    let (code, out, err) = run_grid(&part, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 done, 4 cells"), "{err}");
    assert!(out.contains("6 of 6 cells"), "{out}");
    let (a, b) = (d.join("a.jsonl"), d.join("b.jsonl"));
    merge(&[&part], &a);
    merge(&[&whole], &b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // A finished grid resumes to nothing.
    let (code, out, _) = run_grid(&part, &["--dry-run"]);
    assert_eq!(code, 0);
    assert!(out.contains("6 done, 0 cells"), "{out}");
    // Another grid into the same file is refused; the file is unchanged.
    let before = std::fs::read(&part).unwrap();
    let (code, _, err) = run_grid(&part, &["--seeds", "3"]);
    assert_eq!(code, 1);
    assert!(err.contains("another trainability grid"), "{err}");
    // A changed line is refused.
    let text = String::from_utf8(before.clone()).unwrap();
    let edited = text.replacen("\"horizon\":", "\"horizon\": ", 1);
    std::fs::write(&part, &edited).unwrap();
    let (code, _, err) = run_grid(&part, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("was changed since mfrnn wrote it"), "{err}");
    assert_eq!(std::fs::read_to_string(&part).unwrap(), edited);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let d = scratch("bad");
    let out = d.join("g.jsonl");
    let cases: &[(&[&str], &str)] = &[
        (&["--horizons", "0,2"], "horizons"),
        (&["--values", ""], "values"),
        (&["--values", "1,1"], "distinct values"),
        (&["--values", "1,nan"], "values"),
        (&["--task", "sorting"], "--task"),
        (&["--lr", "nan"], "`lr`"),
        (&["--seeds", "0"], "seeds"),
        (&["--threshold", "0"], "threshold"),
        (&["--explode", "inf"], "explode"),
        (&["--shard", "3/3"], "shard"),
        (&["--cell", "vanilla", "--phi", "cosh"], "activation"),
    ];
    for (extra, needle) in cases {
        let (code, _, err) = run_grid(&out, extra);
        assert_eq!(code, 1, "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{extra:?} left a file");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

fn small_grid(values: Vec<f64>, horizons: Vec<usize>) -> GridSpec {
    let mut training = Training::small();
    training.width = 16;
    training.steps = 150;
    training.batch = 32;
    training.lr = 1e-2;
    training.eval_size = 200;
    GridSpec {
        cell: Cell::vanilla(Builtin::Tanh),
        task: GridTask::Recall {
            classes: 4,
            dim: 8,
            pad: Padding::Noise,
        },
        axis: Axis::SigmaW,
        values,
        horizons,
        seeds: 2,
        first_seed: 1,
        init: BaseInit {
            sigma_w: 1.0,
            sigma_v: 1.0,
            sigma_b: 0.0,
            mu_b: 0.0,
            weights: WeightLaw::Gaussian,
        },
        training,
        threshold: 0.5,
    }
}

#[test]
fn a_diverging_run_is_reported_not_a_nan() {
    let d = scratch("diverge");
    // Plain SGD at learning rate 1000 without clipping: the readout weights jump to ~1000
    // after the first step and the next gradient is far above the threshold.
    let mut g = small_grid(vec![1.0], vec![2]);
    g.training.optimizer = mfrnn::training::Optimizer::sgd(0.0);
    g.training.clip = None;
    g.training.lr = 1e3;
    g.training.explode = 10.0;
    let f = GridPlan::new(&g, None, &d.join("g.jsonl"))
        .unwrap()
        .run(&|_| {})
        .unwrap();
    let c = &f.cells[0];
    assert_eq!(c.diverged, 2, "{c:?}");
    assert_eq!(c.mean_score, 0.0);
    assert!(!c.trainable);
    // Chance accuracy stands in for the diverged runs; nothing is NaN.
    assert_eq!(c.mean_accuracy, Some(0.25));
    let text = std::fs::read_to_string(d.join("g.jsonl")).unwrap();
    assert!(text.contains("exploding_gradient") && !text.contains("NaN"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn tiny_grid_is_sane() {
    // At T = 1 the 4 patterns are learnt from σ_w = 1 and also from σ_w = 0 (training grows
    // W from zero); at T = 30 neither leaves chance within 150 steps (measured with `mfrnn
    // train`: accuracies 0.205 to 0.24 at seed 1).
    let d = scratch("sane");
    let g = small_grid(vec![0.0, 1.0], vec![1, 30]);
    let f = GridPlan::new(&g, None, &d.join("g.jsonl"))
        .unwrap()
        .run(&|_| {})
        .unwrap();
    assert!(f.missing().is_empty());
    let at = |iv: usize, it: usize| f.cell(iv, it).unwrap();
    for iv in 0..2 {
        let c = at(iv, 1);
        // Chance is 1/4; 200 evaluation sequences: SE of the accuracy ≈ 0.03 per seed, so
        // |score| < 0.2 (accuracy within 0.15 of chance) is over 4 SE.
        assert!(c.mean_score.abs() < 0.2, "T = 30: {c:?}");
        assert!(!c.trainable);
        let c = at(iv, 0);
        assert!(c.trainable && c.mean_accuracy.unwrap() > 0.9, "{c:?}");
        // The cell's mean is the mean of its runs.
        let acc: f64 = c.runs.iter().map(|r| r.test_accuracy.unwrap()).sum::<f64>() / 2.0;
        assert_eq!(c.mean_accuracy, Some(acc));
    }
    // Every seed of every cell completed with finite numbers, seeds first_seed + k.
    for c in &f.cells {
        assert_eq!(c.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [1, 2]);
        assert!(c.se_score.is_some_and(f64::is_finite));
    }
    // The in-memory run (the report's) has the same canonical bytes as the file's.
    let m = tr::run_in_memory(&g, &|_| {}).unwrap();
    assert_eq!(m.to_bytes(), f.to_bytes());
    std::fs::remove_dir_all(&d).unwrap();
}

/// `E[f(√q z)]` by the trapezoid rule on `[−12, 12]` (exponentially accurate for smooth `f`):
/// independent of the crate's expectation engine.
fn gauss(f: impl Fn(f64) -> f64, q: f64) -> f64 {
    let n = 24_000;
    let h = 24.0 / n as f64;
    let mut s = 0.0;
    for i in 0..=n {
        let z = -12.0 + i as f64 * h;
        let w = if i == 0 || i == n { 0.5 } else { 1.0 };
        s += w * f(q.sqrt() * z) * (-0.5 * z * z).exp();
    }
    s * h / (2.0 * std::f64::consts::PI).sqrt()
}

#[test]
fn factorised_timescales_match_an_independent_computation() {
    // Vanilla tanh, noise padding (R = 1), σ_v = 1, σ_b = μ_b = 0: q* from iterating
    // q ← σ_w² E[tanh²] + 1; at ρ = 0 the correlation fixed point is c* = 0 (tanh is odd) with
    // slope χ_c = σ_w² E[tanh′]²; χ₁ = σ_w² E[tanh′²].
    let g = small_grid(vec![0.5, 1.0, 2.0], vec![1]);
    let cands = Factorised.candidates(&g).unwrap();
    let get = |name: &str| cands.iter().find(|c| c.name == name).unwrap().clone();
    let (rho0, one) = (get("xi_c_rho0"), get("xi_1"));
    assert!(rho0.matches_task && !get("xi_c_rho1").matches_task);
    let dtanh = |x: f64| 1.0 - x.tanh().powi(2);
    for (i, &sw) in g.values.iter().enumerate() {
        let mut q = 1.0;
        for _ in 0..2000 {
            let next = sw * sw * gauss(|x| x.tanh().powi(2), q) + 1.0;
            let done = (next - q).abs() < 1e-15 * q;
            q = next;
            if done {
                break;
            }
        }
        let chi_c = sw * sw * gauss(dtanh, q).powi(2);
        let chi_1 = sw * sw * gauss(|x| dtanh(x).powi(2), q);
        // χ ≥ 1 (the chaotic side for χ₁): no decay.
        let close = |got: Xi, chi: f64| match got {
            Xi::Finite(a) => {
                let want = -1.0 / chi.ln();
                chi < 1.0 && (a - want).abs() < 1e-9 * want
            }
            Xi::Infinite => chi >= 1.0,
            Xi::Undefined => false,
        };
        assert!(
            close(rho0.xi[i], chi_c),
            "σ_w {sw}: {:?} vs χ_c {chi_c}",
            rho0.xi[i]
        );
        assert!(
            close(one.xi[i], chi_1),
            "σ_w {sw}: {:?} vs χ₁ {chi_1}",
            one.xi[i]
        );
    }
    // The minimalRNN's median-unit gate timescale is −1/ln σ(μ_b).
    let mut m = small_grid(vec![0.0, 3.0], vec![1]);
    m.cell = Cell::minimal();
    m.axis = Axis::MuB;
    let gate = Factorised
        .candidates(&m)
        .unwrap()
        .into_iter()
        .find(|c| c.name == "xi_gate_median")
        .unwrap();
    for (i, &mu) in m.values.iter().enumerate() {
        let want = -1.0 / (1.0 / (1.0 + (-mu).exp())).ln();
        assert_eq!(gate.xi[i], Xi::Finite(want));
    }
}

#[test]
fn the_fit_recovers_a_planted_timescale_rule() {
    // Label the cells of a grid trainable iff T ≤ 2 ξ_c(ρ = 0) of the factorised theory
    // itself: that candidate must separate them all, and the trivial rule cannot (ξ grows
    // with σ_w, so the boundary moves across the columns).
    let g = small_grid(vec![0.5, 1.0, 1.5, 2.0, 3.0], vec![1, 2, 3, 4, 6, 8]);
    let xi = Factorised
        .candidates(&g)
        .unwrap()
        .into_iter()
        .find(|c| c.name == "xi_c_rho0")
        .unwrap()
        .xi;
    let mut cells = Vec::new();
    for index in 0..g.num_cells() {
        let (iv, it) = g.position(index);
        let Xi::Finite(x) = xi[iv] else { panic!() };
        let t = g.horizons[it];
        let ok = (t as f64) <= 2.0 * x;
        cells.push(CellResult {
            index,
            value: g.values[iv],
            horizon: t,
            runs: Vec::new(),
            mean_score: if ok { 1.0 } else { 0.0 },
            se_score: None,
            mean_accuracy: None,
            se_accuracy: None,
            diverged: 0,
            trainable: ok,
        });
    }
    let f = GridFile {
        grid: g.clone(),
        shard: None,
        cells,
    };
    let an = tr::analyze(&f, &[&Factorised as &dyn TimescaleSource]).unwrap();
    let (_, sep) = an
        .candidates
        .iter()
        .find(|(c, _)| c.name == "xi_c_rho0")
        .unwrap();
    assert_eq!(sep.correct, g.num_cells(), "{sep:?}");
    assert!(an.trivial.correct < g.num_cells(), "{:?}", an.trivial);
    assert_eq!(an.ceiling.correct, g.num_cells());
    // The canonical bytes round-trip through the file reader.
    let d = scratch("planted");
    let p = d.join("f.jsonl");
    tr::write_merged(&f, &p).unwrap();
    assert_eq!(tr::read(&p).unwrap(), f);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn learning_curves_compare_the_standard_initializations() {
    let mut training = Training::small();
    training.width = 8;
    training.steps = 40;
    training.eval_size = 100;
    training.lr = 1e-2;
    let cell = Cell::vanilla(Builtin::Tanh);
    let task = Task::Recall {
        padding: 3,
        classes: 4,
        dim: 8,
        pad: Padding::Noise,
    };
    let inits =
        curves::standard_inits(&cell, task, &training, CriticalTarget::default_for(&cell)).unwrap();
    assert_eq!(inits.len(), 8);
    let spec = CurveSpec {
        cell,
        task,
        training,
        eval_every: 20,
        seeds: 2,
        first_seed: 1,
        inits,
    };
    let r = curves::learning_curves(&spec, &|_| {}).unwrap();
    assert_eq!(r.series.len(), 8);
    let crit = r.series[0].scales.unwrap();
    // Off-critical: σ_w × 0.9 and × 1.1 of the critical scales, the rest kept.
    for (s, f) in [(&r.series[2], 0.9), (&r.series[3], 1.1)] {
        let sc = s.scales.unwrap();
        assert!((sc[0] - f * crit[0]).abs() < 1e-12 && sc[1..] == crit[1..]);
        assert!(matches!(s.scheme, InitScheme::Theory { .. }));
    }
    for s in &r.series {
        assert_eq!(s.steps, [0, 20, 40]);
        assert_eq!(s.runs, [2, 2, 2]);
        assert!(
            s.accuracy
                .iter()
                .all(|a| a.is_some_and(|a| (0.0..=1.0).contains(&a)))
        );
        assert!(s.loss_se.iter().all(|x| x.is_some_and(f64::is_finite)));
    }
    // The CLI writes the figure.
    let d = scratch("curves");
    let svg = d.join("c.svg");
    let (code, out, err) = mfrnn(&[
        "trainability",
        "curves",
        "--task",
        "recall",
        "--classes",
        "4",
        "--dim",
        "8",
        "--padding",
        "3",
        "--steps",
        "40",
        "--eval-every",
        "20",
        "--seeds",
        "2",
        "--width",
        "8",
        "--eval-size",
        "100",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("critical (orthogonal)") && out.contains("identity (IRNN)"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    std::fs::remove_dir_all(&d).unwrap();
}

/// The grid files committed under docs/trainability (written before the cell vocabulary of
/// issue 12) still verify and parse: the header keeps its keys and values
/// (`"cell": {"cell": "vanilla", "activation": "tanh"}`, `"weights": "gaussian"`), and the
/// library re-serialises each file to exactly its bytes.
#[test]
fn committed_grid_files_read_back_byte_for_byte() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/trainability");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let f = tr::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(f.to_bytes(), bytes, "{}", p.display());
        let head: serde_json::Value =
            serde_json::from_slice(&bytes[..bytes.iter().position(|&b| b == b'\n').unwrap()])
                .unwrap();
        let cell = &head["grid"]["cell"];
        assert!(
            (cell["cell"] == "vanilla" && cell["activation"] == "tanh")
                || (cell["cell"] == "minimal" && cell["activation"] == "sigmoid"),
            "{cell}"
        );
        assert_eq!(head["grid"]["init"]["weights"], "gaussian");
        n += 1;
    }
    assert!(n >= 7, "{n} grid files");
}

#[test]
fn exact_timescales_are_the_exact_analysis_and_meet_the_factorised_theory_where_they_agree() {
    use mfrnn::cells::{CellParams, Regime};
    use mfrnn::exact::stationary::analysis::{self, ExactSettings};
    // Weak recurrence (σ_w = 0.25) with σ_b = 0: the gate field is dominated by the fresh
    // input, so the tied-weight corrections to the factorised theory are small there (measured
    // with `mfrnn trainability analyze docs/trainability/minimal-sw-s300.jsonl --theory both`:
    // ξ₁ 3.174 in both theories, ξ_c(ρ = 0) 2.972 exact vs 2.953 factorised at μ_b = 2).
    let settings = ExactSettings::new(512, 4, 64, 64, 7).unwrap();
    let mut g = small_grid(vec![0.0, 2.0], vec![1]);
    g.cell = Cell::minimal();
    g.axis = Axis::MuB;
    g.init.sigma_w = 0.25;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = |n: usize| done.store(n, std::sync::atomic::Ordering::SeqCst);
    let exact = tr::Exact {
        settings,
        progress: &tick,
    };
    let cands = exact.candidates(&g).unwrap();
    assert_eq!(done.into_inner(), 2, "progress reports every grid value");
    let get = |name: &str| cands.iter().find(|c| c.name == name).unwrap().clone();
    let fact = Factorised.candidates(&g).unwrap();
    let fget = |name: &str| fact.iter().find(|c| c.name == name).unwrap().clone();
    assert!(get("xi_c_rho0").matches_task && cands.iter().all(|c| c.theory == "exact"));
    // The candidates are the exact analysis of each grid value (the second warm-started from
    // the first, as the source does), bit for bit.
    let mut previous = None;
    for (i, &mu) in g.values.iter().enumerate() {
        let p = CellParams::builder()
            .sigma_w(0.25)
            .sigma_v(1.0)
            .sigma_b(0.0)
            .mu_b(mu)
            .r(g.training.embedding_r)
            .build()
            .unwrap();
        let a =
            analysis::analyze_from(&g.cell, &p, Regime::REAL, 0.0, &settings, previous.as_ref())
                .unwrap();
        let m = a.memory.clone().unwrap();
        let xi = |chi: f64| -1.0 / chi.ln();
        assert_eq!(get("xi_1").xi[i], Xi::Finite(xi(a.chi_1)));
        assert_eq!(get("xi_c_rho0").xi[i], Xi::Finite(xi(m.chi)));
        assert_eq!(
            get("xi_c_rho1").xi[i],
            Xi::Finite(xi(a.synchronisation.chi))
        );
        let gate = a.stationary.gate.unwrap();
        assert_eq!(get("xi_gate_mean").xi[i], Xi::Finite(xi(gate.mean_u)));
        // Against the factorised theory: within 4 standard errors plus 2% for the small
        // tied-weight correction (measured 0–0.6% at this σ_w).
        let near = |got: Xi, want: Xi, se: f64| match (got, want) {
            (Xi::Finite(a), Xi::Finite(b)) => (a - b).abs() <= 4.0 * se + 0.02 * b,
            _ => false,
        };
        let f1 = fget("xi_1").xi[i];
        assert!(
            near(get("xi_1").xi[i], f1, a.xi_1_se.unwrap()),
            "μ_b {mu}: ξ₁ {:?} vs {f1:?}",
            get("xi_1").xi[i]
        );
        let f0 = fget("xi_c_rho0").xi[i];
        assert!(
            near(get("xi_c_rho0").xi[i], f0, m.xi_se.unwrap()),
            "μ_b {mu}: ξ_c(ρ=0) {:?} vs {f0:?}",
            get("xi_c_rho0").xi[i]
        );
        previous = Some(a);
    }
}

#[test]
fn analyze_tests_the_exact_theory_on_request_and_refuses_what_does_not_apply() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/trainability/minimal-mub-s300.jsonl"
    );
    // Sampling flags without the exact theory, and regimes the trained networks are not in.
    for (extra, flag) in [
        (&["--paths", "256"][..], "--paths"),
        (&["--theory", "factorised", "--seed", "3"][..], "--seed"),
        (&["--theory", "exact", "--untied"][..], "--untied"),
        (&["--theory", "both", "--fresh-bias"][..], "--fresh-bias"),
    ] {
        let mut args = vec!["trainability", "analyze", file];
        args.extend_from_slice(extra);
        let (code, out, err) = mfrnn(&args);
        assert_eq!(code, 1, "{extra:?}: {out}");
        assert!(err.contains(flag), "{extra:?}: {err}");
    }
    // Both theories, small sampling settings: every exact candidate of the minimalRNN is
    // scored on all 42 cells next to the factorised ones.
    let (code, out, err) = mfrnn(&[
        "trainability",
        "analyze",
        file,
        "--theory",
        "both",
        "--paths",
        "256",
        "--replicas",
        "2",
        "--curve-paths",
        "16",
        "--horizon",
        "16",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cands = v["candidates"].as_array().unwrap();
    let names = |theory: &str| -> Vec<String> {
        cands
            .iter()
            .filter(|c| c[0]["theory"] == theory)
            .map(|c| c[0]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("exact"),
        ["xi_1", "xi_c_rho1", "xi_c_rho0", "xi_gate_mean"]
    );
    assert_eq!(names("factorised").len(), 6);
    for c in cands {
        assert_eq!(c[1]["total"], 42, "{c}");
    }
}

#[test]
fn zero_padding_gives_the_minimal_cell_its_gate_timescale_and_nothing_else() {
    // Zero padding: z = 0, h_t = u_t h_{t−1} decays and the gate's pre-activation tends to the
    // frozen bias b ~ N(μ_b, σ_b²): the first input's timescale is the gate's, −1/ln σ(μ_b)
    // for the median unit and −1/ln σ(μ_b + 1.2816 σ_b) for the 90th percentile; the fixed-point
    // timescales need R > 0 and are undefined.
    let mut g = small_grid(vec![-1.0, 2.0], vec![1]);
    g.cell = Cell::minimal();
    g.axis = Axis::MuB;
    g.init.sigma_b = 0.5;
    g.task = GridTask::Recall {
        classes: 4,
        dim: 8,
        pad: Padding::Zero,
    };
    let cands = Factorised.candidates(&g).unwrap();
    let sig = |e: f64| 1.0 / (1.0 + (-e).exp());
    for c in &cands {
        for (i, &mu) in g.values.iter().enumerate() {
            // The crate's sigmoid and timescale are evaluated differently: a few ulps.
            let want = match c.name.as_str() {
                "xi_gate_median" => Some(-1.0 / sig(mu).ln()),
                "xi_gate_p90" => Some(-1.0 / sig(mu + 1.2816 * 0.5).ln()),
                _ => None,
            };
            let ok = match (c.xi[i], want) {
                (Xi::Finite(a), Some(b)) => (a - b).abs() <= 1e-14 * b,
                (Xi::Undefined, None) => true,
                _ => false,
            };
            assert!(ok, "{} at μ_b {mu}: {:?} vs {want:?}", c.name, c.xi[i]);
        }
        assert_eq!(c.matches_task, c.name == "xi_gate_median", "{}", c.name);
    }
}
