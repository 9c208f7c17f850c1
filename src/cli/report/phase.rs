//! Stage 1: timescale phase diagrams with the critical line ([`crate::phase::diagram`]).

use std::fmt::Write as _;

use indicatif::ProgressBar;

use super::Section;
use crate::activation::Builtin;
use crate::cells::{Cell, CellParams};
use crate::cli::sim_phase::phase_svg;
use crate::error::Result;
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
    Ok(Section {
        title: "1. Phase diagrams of the memory timescale".into(),
        body,
    })
}
