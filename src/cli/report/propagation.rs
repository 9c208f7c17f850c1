//! Stage 2: signal propagation, theory against simulated networks
//! ([`crate::report::propagation`]).

use indicatif::ProgressBar;

use super::{Section, SeriesData, figure};
use crate::activation::Builtin;
use crate::cells::{Cell, CellParams, RhoSchedule};
use crate::error::Result;
use crate::exact::ExactConfig;
use crate::output::OutputDir;
use crate::report::{Propagation, propagation};
use crate::sim::SimConfig;

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let steps = if quick { 30 } else { 100 };
    let (width, seeds, batch, units) = if quick {
        (96, 3, 4, 4_000)
    } else {
        (512, 8, 8, 32_000)
    };
    let sched = RhoSchedule::parse(&format!("0x10,1x{}", steps - 10))?;
    let indep = RhoSchedule::constant(0.0, steps)?;
    let t: Vec<f64> = (1..=steps).map(|t| t as f64).collect();
    let sim = |seed: u64| {
        SimConfig::builder()
            .width(width)
            .batch(batch)
            .seeds(seeds)
            .seed(seed)
            .build()
    };
    let exact = |seed: u64| {
        ExactConfig::builder()
            .units(units)
            .replicas(8)
            .seed(seed)
            .build()
    };
    let minimal = |sigma_w: f64, mu_b: f64| {
        CellParams::builder()
            .sigma_w(sigma_w)
            .sigma_v(1.39)
            .sigma_b(0.0)
            .mu_b(mu_b)
            .r(0.46)
            .build()
    };
    let line = |name: String, value: Vec<f64>| SeriesData {
        name,
        t: t.clone(),
        value,
        se: None,
    };
    let mut body = format!(
        "<p>Two input sequences, uncorrelated for 10 steps and identical afterwards (and, below, \
         independent throughout). Lines: theory; markers: real networks of width {width} (tied \
         weights, frozen bias; mean of {seeds} networks × {batch} sequence pairs, bars ±2 standard \
         errors). For the minimalRNN, dashed lines are the factorised mean field and solid lines the \
         exact tied-weight theory (sampled with {units} unit paths).</p>\n"
    );
    // Vanilla RNN.
    let tanh = Cell::vanilla(Builtin::Tanh);
    let mut data = Vec::new();
    for (label, sw) in [("ordered σ_w = 0.9", 0.9), ("chaotic σ_w = 1.5", 1.5)] {
        let vp = CellParams::builder()
            .sigma_w(sw)
            .sigma_v(0.5)
            .sigma_b(0.1)
            .mu_b(0.0)
            .r(1.0)
            .build()?;
        let Propagation {
            mean_field,
            simulated,
            ..
        } = propagation(&tanh, &vp, &sched, None, &sim(11)?)?;
        data.push(line(format!("{label} theory"), mean_field.c));
        data.push(SeriesData {
            name: format!("{label} simulation"),
            t: t.clone(),
            value: simulated.c,
            se: Some(simulated.c_se),
        });
        bar.inc(1);
    }
    body += &figure(
        out,
        "vanilla_c",
        "vanilla tanh RNN: pre-activation correlation c^t",
        "step t",
        "c^t",
        &data,
        2,
        "Vanilla tanh RNN, σ_v = 0.5, σ_b = 0.1, R = 1: correlation of the two sequences' pre-activations.",
    )?;
    // minimalRNN, several μ_b.
    let mus: &[f64] = if quick {
        &[-3.0, 2.0, 5.5]
    } else {
        &[-3.0, 0.0, 2.0, 3.5, 5.5]
    };
    for (sname, sch, what) in [
        (
            "minimal_c_switch",
            &sched,
            "uncorrelated for 10 steps, then identical",
        ),
        ("minimal_c_independent", &indep, "independent throughout"),
    ] {
        let mut data = Vec::new();
        for (k, &mu) in mus.iter().enumerate() {
            let p = minimal(6.88, mu)?;
            let cfg = exact(3 + k as u64)?;
            let run = propagation(&Cell::Minimal, &p, sch, Some(&cfg), &sim(21 + k as u64)?)?;
            let ex = run.exact.expect("the exact theory was asked for");
            data.push(line(format!("μ_b = {mu} factorised"), run.mean_field.c));
            data.push(line(format!("μ_b = {mu} exact"), ex.c));
            data.push(SeriesData {
                name: format!("μ_b = {mu} simulation"),
                t: t.clone(),
                value: run.simulated.c,
                se: Some(run.simulated.c_se),
            });
            bar.inc(1);
        }
        body += &figure(
            out,
            sname,
            &format!("minimalRNN: hidden-state correlation c^t ({what})"),
            "step t",
            "c^t",
            &data,
            3,
            &format!("minimalRNN, σ_w = 6.88, σ_v = 1.39, σ_b = 0, R = 0.46; inputs {what}."),
        )?;
    }
    // Q^t including the slow large-μ_b case, relative to the factorised Q at the last step.
    let mut data = Vec::new();
    for (k, &(sw, mu)) in [(6.88, 0.0), (6.88, 3.5), (3.0, 6.0)].iter().enumerate() {
        let p = minimal(sw, mu)?;
        let cfg = exact(31 + k as u64)?;
        let run = propagation(&Cell::Minimal, &p, &sched, Some(&cfg), &sim(41 + k as u64)?)?;
        let ex = run.exact.expect("the exact theory was asked for");
        let last = run.mean_field.big_q[steps - 1];
        let scale = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x / last).collect() };
        let lab = format!("σ_w = {sw}, μ_b = {mu}");
        data.push(line(
            format!("{lab} factorised"),
            scale(&run.mean_field.big_q),
        ));
        data.push(line(format!("{lab} exact"), scale(&ex.big_q)));
        data.push(SeriesData {
            name: format!("{lab} simulation"),
            t: t.clone(),
            value: scale(&run.simulated.big_q),
            se: Some(scale(&run.simulated.big_q_se)),
        });
        bar.inc(1);
    }
    body += &figure(
        out,
        "minimal_big_q",
        "minimalRNN: state second moment Q^t (relative to the factorised Q at the last step)",
        "step t",
        "Q^t / Q_factorised(T)",
        &data,
        3,
        "The slow case σ_w = 3, μ_b = 6 approaches its fixed point over hundreds of steps (χ_Q = 0.9925); the factorised theory misses the tied network at σ_w = 6.88, μ_b = 3.5 by a factor of ~3.",
    )?;
    Ok(Section {
        title: "2. Signal propagation: theory against simulation".into(),
        body,
    })
}
