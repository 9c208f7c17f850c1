//! Regression tests of issue 11, parts 2 and 5: sizes are bounded before anything is
//! allocated (library and CLI), messages blame the parameter the user gave, conflicting and
//! inapplicable flags are refused.

mod common;

use std::time::{Duration, Instant};

use mfrnn::Error;
use mfrnn::activation::Builtin;
use mfrnn::cells::{Cell, CellParams, Regime, RhoSchedule, WeightLaw};
use mfrnn::exact::{self, ExactConfig};
use mfrnn::init::{self, Target, weights};
use mfrnn::sim::SimConfig;
use mfrnn::sim::jacobian::{self, Accumulation};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};

use common::{mfrnn_timed, params, refused, with};

const VANILLA: &[&str] = &[
    "--phi",
    "tanh",
    "--sigma-w",
    "1.2",
    "--sigma-v",
    "0.5",
    "--sigma-b",
    "0.1",
    "--r",
    "1",
];

const MINIMAL: &[&str] = &[
    "--cell",
    "minimal",
    "--sigma-w",
    "2",
    "--sigma-v",
    "1",
    "--sigma-b",
    "0",
    "--r",
    "1",
];

fn refused_with(cmd: &str, base: &[&str], extra: &[&str], needle: &str) -> String {
    let mut v = vec![cmd.to_string()];
    v.extend(with(base, extra));
    let args: Vec<&str> = v.iter().map(String::as_str).collect();
    refused(&args, needle, None)
}

// ---- part 2: sizes -------------------------------------------------------------------

#[test]
fn huge_sizes_are_refused_naming_the_flag_and_the_memory() {
    for (cmd, base, extra, needle) in [
        (
            "simulate",
            VANILLA,
            &["--width", "1000000"][..],
            "`width` = 1e6",
        ),
        (
            "simulate",
            VANILLA,
            &["--width", "1e12"][..],
            "`width` = 1e12",
        ),
        (
            "simulate",
            VANILLA,
            &["--steps", "1000000000"][..],
            "`steps` = 1e9",
        ),
        (
            "simulate",
            VANILLA,
            &["--seeds", "1e12"][..],
            "`seeds` = 1e12",
        ),
        (
            "simulate",
            VANILLA,
            &["--batch", "1e12"][..],
            "`batch` = 1e12",
        ),
        (
            "trajectory",
            VANILLA,
            &["--steps", "1e9"][..],
            "`steps` = 1e9",
        ),
        (
            "spectrum",
            VANILLA,
            &["--points", "1e12"][..],
            "`points` = 1e12",
        ),
        (
            "spectrum",
            VANILLA,
            &["--simulate", "--width", "100000"][..],
            "`width` = 100000",
        ),
        (
            "spectrum",
            MINIMAL,
            &["--units", "1e12"][..],
            "`units` = 1e12",
        ),
        (
            "spectrum",
            VANILLA,
            &["--transient", "--burn-in", "1e12"][..],
            "`burn-in` = 1e12",
        ),
        (
            "trajectory",
            VANILLA,
            &["--rho-schedule", "1x1000000000"][..],
            "`steps` = 1e9",
        ),
        (
            "trajectory",
            VANILLA,
            &[
                "--theory",
                "exact",
                "--steps",
                "20000",
                "--units",
                "100",
                "--max-memory",
                "8G",
            ][..],
            "`steps` = 20000",
        ),
    ] {
        let e = refused_with(cmd, base, extra, needle);
        assert!(
            e.contains("of memory") && e.contains("--max-memory"),
            "{extra:?}: {e}"
        );
    }
}

#[test]
fn endless_runs_are_refused_naming_the_flag_and_the_time() {
    for (cmd, base, extra, needle) in [
        (
            "spectrum",
            VANILLA,
            &["--simulate", "--burn-in", "1e12"][..],
            "`burn-in` = 1e12",
        ),
        (
            "simulate",
            VANILLA,
            &["--width", "2000", "--steps", "1e6", "--max-time", "1h"][..],
            "`steps` = 1e6",
        ),
    ] {
        let e = refused_with(cmd, base, extra, needle);
        assert!(e.contains("--max-time"), "{e}");
    }
}

#[test]
fn init_sample_refuses_a_huge_width_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("mfrnn-limits-{}", std::process::id()));
    let out = dir.display().to_string();
    refused(
        &[
            "init", "--phi", "tanh", "--q-star", "0.5", "--r", "1", "--sample", "--width",
            "1000000", "--out", &out,
        ],
        "`width` = 1e6",
        None,
    );
    assert!(!dir.exists());
}

#[test]
fn max_memory_sets_the_limit() {
    // The exact theory over 50 steps holds a 100 × 100 Cholesky factor per replica: 160 kB
    // with two replicas running, over a 100 kB limit, under a 10 MB one.
    let args = |limit: &'static str| {
        with(
            VANILLA,
            &[
                "--theory",
                "exact",
                "--steps",
                "50",
                "--units",
                "16",
                "--replicas",
                "2",
                "--max-memory",
                limit,
            ],
        )
    };
    let mut small = vec!["trajectory".to_string()];
    small.extend(args("100K"));
    let s: Vec<&str> = small.iter().map(String::as_str).collect();
    refused(&s, "`steps` = 50", None);
    let mut big = vec!["trajectory".to_string()];
    big.extend(args("10M"));
    let b: Vec<&str> = big.iter().map(String::as_str).collect();
    let (code, _, err, _) = mfrnn_timed(&b);
    assert_eq!(code, 0, "{err}");
    refused(
        &["series", "--phi", "tanh", "--max-memory", "12Q"],
        "--max-memory",
        None,
    );
    refused(
        &["series", "--phi", "tanh", "--max-time", "-1h"],
        "--max-time",
        None,
    );
}

#[test]
fn counts_take_scientific_notation_and_refuse_what_is_not_a_count() {
    let (code, out, err, _) = mfrnn_timed(
        &with(&["trajectory"], &[VANILLA, &["--steps", "1e1"]].concat())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 11, "{out}");
    for bad in ["-5", "2.5", "1e30", "x"] {
        refused_with("simulate", VANILLA, &["--width", bad], "--width");
    }
}

// ---- part 2: the library ---------------------------------------------------------------

fn too_large(r: Result<impl std::fmt::Debug, Error>, name: &str) {
    match r {
        Err(Error::TooLarge { parameter, .. }) => assert_eq!(parameter, name),
        other => panic!("expected TooLarge({name}), got {other:?}"),
    }
}

#[test]
fn library_constructors_check_sizes_before_allocating() {
    let t = Instant::now();
    let sim = |width: usize, batch: usize| {
        SimConfig::builder()
            .width(width)
            .batch(batch)
            .seeds(2)
            .seed(1)
    };
    too_large(sim(1_000_000_000, 1).build(), "width");
    too_large(sim(8, 1 << 40).build(), "batch");
    too_large(sim(8, 1).input_dim(1 << 40).build(), "input-dim");
    too_large(RhoSchedule::constant(1.0, 1 << 40), "steps");
    too_large(RhoSchedule::parse("0x1,1x1099511627776"), "steps");
    let exact_cfg = |units: usize, replicas: usize| {
        ExactConfig::builder()
            .units(units)
            .replicas(replicas)
            .seed(1)
            .build()
    };
    too_large(exact_cfg(1 << 42, 8), "units");
    let p = params(1.0, 1.0, 0.0, 0.0, 1.0).unwrap();
    let real = Regime::REAL;
    let cfg = exact_cfg(16, 2).unwrap();
    // 2·10⁵ steps: a (4·10⁵)² Cholesky factor, 1.3 TB per replica.
    let long = RhoSchedule::constant(1.0, 200_000).unwrap();
    too_large(
        exact::trajectory(&Cell::Minimal, &p, &long, real, &cfg),
        "steps",
    );
    too_large(
        exact::jacobian_paths(&Cell::Minimal, &p, real, 1 << 20, 10, &cfg),
        "burn-in",
    );
    let law = DiagonalLaw::atoms(vec![1.0], vec![1.0]).unwrap();
    let sp = ProductSpectrum::new(law, 1.0, 2, WeightLaw::Orthogonal).unwrap();
    too_large(sp.density(1 << 40), "points");
    let c = init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(0.5)).unwrap();
    too_large(
        weights::sample(&c, 1_000_000, 4, WeightLaw::Gaussian, 1),
        "width",
    );
    too_large(
        weights::sample(&c, 4, 1 << 50, WeightLaw::Gaussian, 1),
        "input-dim",
    );
    let p = params(1.0, 0.5, 0.0, 0.0, 1.0).unwrap();
    let cfg = sim(8, 1).build().unwrap();
    too_large(
        jacobian::sample(
            &Cell::vanilla(Builtin::Tanh),
            &p,
            &cfg,
            2,
            1 << 50,
            Accumulation::Direct,
        ),
        "burn-in",
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn library_scales_are_checked_where_they_are_given() {
    let name = |r: mfrnn::Result<CellParams>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(name(params(1e308, 0.0, 0.0, 0.0, 1.0)), "sigma-w");
    assert_eq!(name(params(1.0, 1e200, 0.0, 0.0, 1.0)), "sigma-v");
    assert_eq!(name(params(1.0, 0.0, 1e155, 0.0, 1.0)), "sigma-b");
    assert_eq!(name(params(1.0, 1.0, 0.0, 0.0, 1e308)), "r");
    assert_eq!(name(params(1.0, 1.0, 0.0, 1e200, 1.0)), "mu-b");
    // Large but representable scales stay legal.
    assert!(params(1e100, 1e100, 1e100, 1e100, 1.0).is_ok());
}

// ---- part 5: messages and flags --------------------------------------------------------

#[test]
fn rho_schedule_accepts_negative_values_and_needs_counts() {
    let args = with(
        &["trajectory"],
        &[VANILLA, &["--rho-schedule", "-0.2x1,1x9"]].concat(),
    );
    let (code, out, err, _) = mfrnn_timed(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 11, "{out}");
    refused_with(
        "trajectory",
        VANILLA,
        &["--rho-schedule", "0.5"],
        "has no count",
    );
}

#[test]
fn messages_blame_the_parameter_given() {
    refused(
        &["init", "--phi", "tanh", "--q-star", "1e308", "--r", "1"],
        "`q-star` = 1e308",
        Some("`phi`"),
    );
    refused(
        &["init", "--phi", "tanh", "--q-star", "0.5", "--r", "1e-320"],
        "`r` = 1e-320",
        Some("sigma-v"),
    );
    refused(
        &[
            "init", "--phi", "tanh", "--q-star", "0.5", "--r", "1", "--sample", "--width", "0",
        ],
        "`width` = 0",
        Some("input-dim"),
    );
    for (flag, value, needle) in [
        ("--sigma-w", "1e308", "`sigma-w` = 1e308"),
        ("--sigma-v", "1e200", "`sigma-v` = 1e200"),
        ("--sigma-b", "1e308", "`sigma-b` = 1e308"),
        ("--r", "1e308", "`r` = 1e308"),
        ("--mu-b", "1e308", "`mu-b` = 1e308"),
    ] {
        let mut base = VANILLA.to_vec();
        let i = base.iter().position(|a| *a == flag).unwrap_or(base.len());
        if i < base.len() {
            base[i + 1] = value;
        } else {
            base.extend([flag, value]);
        }
        for cmd in ["fixed-point", "spectrum"] {
            let e = refused_with(cmd, &base, &[], needle);
            assert!(!e.contains("`q`") && !e.contains("mu_1"), "{e}");
        }
    }
    // Saturated pre-activations: the Jacobian vanishes because of μ_b, not "mu_1".
    let e = refused_with("spectrum", VANILLA, &["--mu-b", "1e3"], "`mu-b` = 1000");
    assert!(!e.contains("mu_1"), "{e}");
}

#[test]
fn solver_limits_are_explained_in_terms_of_flags() {
    let e = refused_with("spectrum", VANILLA, &["--steps", "1e12"], "`steps` = 1e12");
    assert!(!e.contains("Im z") && !e.contains("upper edge"), "{e}");
    // (σ_v = σ_b = 0: with inputs or a bias, σ_w = 1e10 reaches slow solvers — the
    // correlation fixed point, the spectral density — issue 11 part 4, another branch.)
    let mut base = VANILLA.to_vec();
    base[3] = "1e10";
    base[5] = "0";
    base[7] = "0";
    let e = refused_with("spectrum", &base, &[], "`sigma-w` = 1e10");
    assert!(!e.contains("Im z"), "{e}");
}

#[test]
fn huge_numbers_print_in_scientific_notation() {
    let e = refused_with("fixed-point", VANILLA, &["--rho", "1e308"], "`rho` = 1e308");
    assert!(e.len() < 200, "{e}");
    let (code, out, err, _) =
        mfrnn_timed(&["expect", "--phi", "tanh", "--f", "phi", "--q", "1e300"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("N(0, 1e300)") && out.len() < 300, "{out}");
}

#[test]
fn conflicting_and_inapplicable_flags_are_refused() {
    refused(
        &[
            "init",
            "--phi",
            "tanh",
            "--q-star",
            "0.05",
            "--max-width-ratio",
            "1.5",
            "--r",
            "1",
        ],
        "--q-star",
        None,
    );
    for cmd in ["trajectory", "simulate"] {
        refused_with(
            cmd,
            VANILLA,
            &["--rho", "0.5", "--rho-schedule", "0x3"],
            "--rho",
        );
    }
    refused(
        &[
            "phase",
            "--phi",
            "tanh",
            "--x",
            "sigma-w=0.5:2:3",
            "--y",
            "sigma-b=0:1:3",
            "--sigma-w",
            "7",
            "--out",
            "/tmp/never-written.csv",
        ],
        "--sigma-w",
        None,
    );
    refused_with(
        "spectrum",
        VANILLA,
        &["--theory", "exact"],
        "--theory exact",
    );
    refused_with("spectrum", MINIMAL, &["--theory", "mean-field"], "--theory");
    refused_with("trajectory", VANILLA, &["--units", "5"], "--units");
    refused_with("spectrum", VANILLA, &["--width", "5"], "--width");
    refused_with("spectrum", VANILLA, &["--burn-in", "5"], "--burn-in");
    refused_with("spectrum", VANILLA, &["--units", "64"], "--units");
    refused_with("simulate", VANILLA, &["--theory", "mean-field"], "--theory");
    let init = ["--phi", "tanh", "--q-star", "0.5", "--r", "1"];
    refused_with("init", &init, &["--width", "8"], "--width");
    refused_with("init", &init, &["--out", "/tmp/never-written"], "--out");
    refused_with(
        "init",
        &init,
        &["--objective", "longest-memory"],
        "--objective",
    );
}

#[test]
fn choices_are_case_insensitive() {
    for args in [
        &[
            "fixed-point",
            "--cell",
            "Minimal",
            "--sigma-w",
            "1",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0",
            "--r",
            "1",
        ][..],
        &[
            "simulate",
            "--cell",
            "MINIMAL",
            "--sigma-w",
            "1",
            "--sigma-v",
            "1",
            "--sigma-b",
            "0",
            "--r",
            "1",
            "--weights",
            "Orthogonal",
            "--width",
            "4",
            "--steps",
            "2",
            "--seeds",
            "2",
            "--batch",
            "1",
        ][..],
    ] {
        let (code, _, err, _) = mfrnn_timed(args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
}

#[test]
fn usage_errors_are_one_line_with_exit_1() {
    refused(&["fixed-point", "--phi", "tanh", "--nope"], "--nope", None);
    refused(&["fixed-point", "--phi", "tanh"], "--sigma-w", None);
    refused(&["fixed-point", "--cell", "gru"], "--cell", None);
    refused(&[], "missing a command", None);
    let (code, out, _, _) = mfrnn_timed(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--max-memory"), "{out}");
}
