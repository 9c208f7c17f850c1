//! Stage 4: critical initialization of both cells across q* and μ_b, with feasibility and
//! (full run) the χ₁ of simulated networks ([`crate::report::critical_row`]).

use std::fmt::Write as _;

use indicatif::ProgressBar;

use super::{Section, to_json};
use crate::activation::Builtin;
use crate::cells::{Cell, WeightLaw};
use crate::cli::svg::esc;
use crate::error::Result;
use crate::init::Target;
use crate::output::OutputDir;
use crate::report::critical_row;
use crate::sim::SimConfig;

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let tanh = Cell::vanilla(Builtin::Tanh);
    let (width, seeds, burn_in) = (400, 4, 500);
    let vq: &[f64] = if quick {
        &[0.05, 0.5]
    } else {
        &[0.01, 0.05, 0.1, 0.5, 1.0, 2.0]
    };
    let mq: &[f64] = if quick {
        &[16.0]
    } else {
        &[4.0, 8.0, 16.0, 32.0]
    };
    let mmu: &[f64] = if quick {
        &[0.0, 4.0]
    } else {
        &[-2.0, 0.0, 2.0, 4.0, 8.0]
    };
    // The full run checks χ₁ on simulated networks (orthogonal W) after the burn-in.
    let cfg = SimConfig::builder()
        .width(width)
        .batch(1)
        .seeds(seeds)
        .seed(9)
        .weights(WeightLaw::Orthogonal)
        .build()?;
    let check = (!quick).then_some((&cfg, burn_in));
    let mut rows = Vec::new();
    for &q in vq {
        rows.push(critical_row(&tanh, &Target::q_star(q), check)?);
    }
    bar.inc(1);
    for &mu_b in mmu {
        for &q in mq {
            let target = Target::q_star(q).mu_b(mu_b).r(0.46);
            rows.push(critical_row(&Cell::Minimal, &target, check)?);
        }
    }
    bar.inc(1);
    out.write("init.json", to_json(&rows, true))?;
    let opt = |x: Option<f64>, p: usize| x.map_or("—".to_string(), |v| format!("{v:.p$}"));
    let mut csv = String::from(
        "cell,q_star,mu_b,r,feasible,sigma_w,sigma_v,Q_star,normalized_variance_per_step_orthogonal,rms_ratio_t100_orthogonal,simulated_chi_1,simulated_chi_1_se,note\n",
    );
    let mut body = format!(
        "<p>Closed-form critical initializations (χ₁ = 1 at the target q*, σ_b = 0, σ_v solved \
         for; <code>mfrnn init</code>, theory/06): vanilla tanh at R = 1 and the minimalRNN at \
         R = 0.46 across q* and μ_b. The spread column is √(m₂)/m₁ of the squared singular \
         values after T = 100 steps with orthogonal W (exact for the vanilla cell, the free \
         approximation on the factorised law for the minimalRNN). {}</p>\n<table><tr><th>cell</th>\
         <th>q*</th><th>μ_b</th><th>σ_w</th><th>σ_v</th><th>Q*</th><th>v₁ (orth.)</th>\
         <th>√(m₂)/m₁ at T = 100</th><th>simulated χ₁</th><th>note</th></tr>\n",
        if quick {
            "Quick run: no simulation.".to_string()
        } else {
            format!(
                "Simulated χ₁: the one-step Jacobian's mean squared singular value in {seeds} \
                 tied networks of width {width} (orthogonal W) after {burn_in} steps from h⁰ = 0, ± \
                 standard error (near the linear regime and at large μ_b the approach to the \
                 fixed point is slow: ξ_q is long)."
            )
        }
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            r.cell,
            r.q_star,
            r.mu_b,
            r.r,
            r.feasible,
            opt(r.sigma_w, 10),
            opt(r.sigma_v, 10),
            opt(r.big_q_star, 10),
            opt(r.normalized_variance_per_step_orthogonal, 10),
            opt(r.rms_ratio_t100_orthogonal, 10),
            opt(r.simulated_chi_1, 6),
            opt(r.simulated_chi_1_se, 6),
            r.note.replace('"', "'")
        );
        let sim = match (r.simulated_chi_1, r.simulated_chi_1_se) {
            (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
            _ => "—".into(),
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{sim}</td><td style=\"text-align:left\">{}</td></tr>",
            r.cell,
            r.q_star,
            r.mu_b,
            opt(r.sigma_w, 4),
            opt(r.sigma_v, 4),
            opt(r.big_q_star, 4),
            opt(r.normalized_variance_per_step_orthogonal, 4),
            opt(r.rms_ratio_t100_orthogonal, 3),
            if r.feasible {
                esc(&r.note)
            } else {
                format!("infeasible: {}", esc(&r.note))
            }
        );
    }
    out.write("init.csv", csv)?;
    body.push_str("</table>\n<p>Data: <a href=\"init.csv\">init.csv</a>, <a href=\"init.json\">init.json</a>.</p>\n");
    Ok(Section {
        title: "4. Critical initialization".into(),
        body,
    })
}
