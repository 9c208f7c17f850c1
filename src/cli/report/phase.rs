//! Stage 1: timescale phase diagrams with the critical line ([`crate::phase::diagram`]).

use std::fmt::Write as _;

use indicatif::ProgressBar;

use super::Section;
use crate::activation::Builtin;
use crate::cells::{Cell, CellParams, Regime};
use crate::cli::sim_phase::phase_svg;
use crate::cli::svg::{Heatmap, heatmap};
use crate::error::Result;
use crate::exact::stationary::analysis::ExactSettings;
use crate::output::OutputDir;
use crate::phase::{self, Axis, Param, Quantity};

/// One diagram: file name, cell, fixed parameters and the two axes.
struct Diagram {
    name: &'static str,
    cell: Cell,
    base: CellParams,
    x: Axis,
    y: Axis,
}

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let n = if quick { 24 } else { 120 };
    let axis = |param, lo, hi| Axis { param, lo, hi, n };
    let params = |sigma_v: f64, sigma_b: f64, r: f64| {
        CellParams::builder()
            .sigma_w(1.0)
            .sigma_v(sigma_v)
            .sigma_b(sigma_b)
            .mu_b(0.0)
            .r(r)
            .build()
    };
    let diagrams = [
        Diagram {
            name: "vanilla_sigma_w_sigma_b",
            cell: Cell::vanilla(Builtin::Tanh),
            base: params(0.0, 0.0, 1.0)?,
            x: axis(Param::SigmaW, 0.5, 3.0),
            y: axis(Param::SigmaB, 0.0, 1.0),
        },
        Diagram {
            name: "vanilla_sigma_w_sigma_v",
            cell: Cell::vanilla(Builtin::Tanh),
            base: params(0.0, 0.05, 1.0)?,
            x: axis(Param::SigmaW, 0.5, 3.0),
            y: axis(Param::SigmaV, 0.0, 1.0),
        },
        Diagram {
            name: "minimal_sigma_w_mu_b",
            cell: Cell::Minimal,
            base: params(1.39, 0.0, 0.46)?,
            x: axis(Param::SigmaW, 0.5, 10.0),
            y: axis(Param::MuB, -4.0, 8.0),
        },
    ];
    let mut body = String::from(
        "<p>The memory timescale ξ_c of the correlation map (identical inputs, ρ = 1; in the ordered \
         phase ξ_c = ξ₁) over two parameters, log colour scale; dashed: the critical line χ₁ = 1. \
         The vanilla RNN has a long memory only in a narrow band around the line; the minimalRNN's \
         gate bias μ_b opens a broad region of long memory.</p>\n",
    );
    for d in diagrams {
        let name = d.name;
        let pd = phase::diagram(&d.cell, d.base, 1.0, d.x, d.y, Quantity::XiC, &|_| {})?;
        out.write(&format!("{name}.svg"), phase_svg(&pd))?;
        out.write(&format!("{name}.csv"), pd.to_csv())?;
        let _ = writeln!(
            body,
            "<figure><img src=\"{name}.svg\" alt=\"{name}\" width=\"760\"><figcaption>{name}: data \
             <a href=\"{name}.csv\">{name}.csv</a></figcaption></figure>"
        );
        bar.inc(1);
    }
    exact_against_factorised(out, quick, &mut body)?;
    bar.inc(1);
    Ok(Section {
        title: "1. Phase diagrams of the memory timescale".into(),
        body,
    })
}

/// The minimalRNN's diagram in the exact tied-weight theory at stationarity
/// ([`crate::phase::exact::diagram`]) on a coarse grid, and its ratio to the factorised
/// diagram on the same grid ([`crate::phase::exact::ExactPhaseDiagram::ratio_to`]): where the
/// approximation that the other diagrams use misses real networks.
fn exact_against_factorised(out: &OutputDir, quick: bool, body: &mut String) -> Result<()> {
    let n = if quick { 5 } else { 10 };
    let x = Axis {
        param: Param::SigmaW,
        lo: 0.5,
        hi: 10.0,
        n,
    };
    let y = Axis {
        param: Param::MuB,
        lo: -4.0,
        hi: 8.0,
        n,
    };
    let base = CellParams::builder()
        .sigma_w(1.0)
        .sigma_v(1.39)
        .sigma_b(0.0)
        .mu_b(0.0)
        .r(0.46)
        .build()?;
    // The defaults of `mfrnn phase --theory exact`.
    let settings =
        ExactSettings::new(128, 4, 128, 100, 1)?.with_solver(|s| s.with_length(1024, 8192))?;
    let cell = Cell::Minimal;
    let ex = phase::exact::diagram(
        &cell,
        base,
        1.0,
        Regime::REAL,
        x,
        y,
        Quantity::XiC,
        &settings,
        &|_| {},
    )?;
    let mf = phase::diagram(&cell, base, 1.0, x, y, Quantity::XiC, &|_| {})?;
    let ratio = ex.ratio_to(&mf)?;
    let crit: Vec<Vec<Option<f64>>> = ex
        .sync_rate
        .iter()
        .map(|r| r.iter().map(|c| c.map(|c| c - 1.0)).collect())
        .collect();
    let note = format!(
        "σ_v = 1.39, σ_b = 0, R = 0.46, ρ = 1; exact theory sampled ({} paths, {} replicas per \
         point), relative standard error of ξ_c median {:.1e}, max {:.1e}",
        settings.solver.paths, settings.solver.replicas, ex.median_relative_se, ex.max_relative_se
    );
    let range = (x.lo, x.hi);
    let yrange = (y.lo, y.hi);
    let exact_svg = heatmap(&Heatmap {
        title: "ξ_c of the minimalRNN, exact tied-weight theory at stationarity",
        x_label: x.param.symbol(),
        y_label: y.param.symbol(),
        x_range: range,
        y_range: yrange,
        values: &ex.values,
        log: true,
        colour_label: "xi_c",
        contour: Some((&crit, "Λ = 1 (synchronisation)")),
        note: &note,
    });
    let ratio_svg = heatmap(&Heatmap {
        title: "ξ_c exact / ξ_c factorised (minimalRNN)",
        x_label: x.param.symbol(),
        y_label: y.param.symbol(),
        x_range: range,
        y_range: yrange,
        values: &ratio,
        log: true,
        colour_label: "ratio",
        contour: Some((&crit, "Λ = 1 (exact)")),
        note: &note,
    });
    out.write("minimal_exact_xi_c.svg", exact_svg)?;
    out.write("minimal_exact_xi_c.csv", ex.to_csv())?;
    out.write("minimal_exact_over_factorised.svg", ratio_svg)?;
    let mut csv = String::from("sigma_w,mu_b,xi_c_exact,xi_c_exact_se,xi_c_factorised,ratio\n");
    let cell_text = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:e}"));
    // Four grids and two axes indexed alike: plain indices read best.
    #[allow(clippy::needless_range_loop)]
    for j in 0..y.n {
        for i in 0..x.n {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                x.value(i),
                y.value(j),
                cell_text(ex.values[j][i]),
                cell_text(ex.values_se[j][i]),
                cell_text(mf.values[j][i]),
                cell_text(ratio[j][i])
            );
        }
    }
    out.write("minimal_exact_over_factorised.csv", csv)?;
    let finite: Vec<f64> = ratio
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(a, b), &r| (a.min(r), b.max(r)));
    let _ = writeln!(
        body,
        "<p>The diagrams above use the factorised recursion, which treats W and the bias as \
         redrawn every step. Real minimalRNNs have one W and a frozen bias; their exact \
         infinite-width theory at stationarity (theory/11) gives the ξ_c below, on a {n} × {n} \
         grid over the same axes, and its ratio to the factorised ξ_c: between {lo:.2} and \
         {hi:.2} over the grid's {} finite ratios.</p>",
        finite.len()
    );
    for name in ["minimal_exact_xi_c", "minimal_exact_over_factorised"] {
        let _ = writeln!(
            body,
            "<figure><img src=\"{name}.svg\" alt=\"{name}\" width=\"760\"><figcaption>{name}: \
             data <a href=\"{name}.csv\">{name}.csv</a></figcaption></figure>"
        );
    }
    Ok(())
}
