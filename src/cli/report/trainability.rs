//! Stage 6: trainability — accuracy after a fixed training budget over `σ_w × T` (vanilla tanh
//! RNN) and `μ_b × T` (minimalRNN) on padded digits, with the fitted lines `T = k ξ` of the
//! factorised theory's timescales against the trivial rule `T ≤ T₀`
//! ([`crate::report::trainability_grid`] on [`crate::report::trainability_presets`]).

use std::fmt::Write as _;

use indicatif::ProgressBar;

use super::Section;
use crate::cli::svg::esc;
use crate::cli::trainability::{analysis_text, phase_svg};
use crate::error::Result;
use crate::output::OutputDir;
use crate::report::{trainability_grid, trainability_presets};

pub(super) fn stage(out: &OutputDir, quick: bool, bar: &ProgressBar) -> Result<Section> {
    let presets = trainability_presets(quick);
    let g = &presets[0].grid;
    let mut body = format!(
        "<p>Does a memory timescale of the mean-field theory predict which networks learn? \
         Each cell of the grids below trains {} seeds of a width-{} network for {} steps \
         (Adam, learning rate {}, batch {}) on the padded digits task: the 8×8 image, then T \
         steps of noise, the class read out at the last step. Shown: the mean test accuracy per \
         grid cell; black frames mark trainable cells (mean score (accuracy − chance)/(1 − \
         chance) ≥ {}). Lines: the trivial rule T ≤ T₀, which ignores the hyper-parameter, and \
         the best fitted T ≤ k·ξ of the factorised theory's candidate timescales; the legend \
         and the table give the fraction of cells each rule puts on the right side. {}The full \
         grids, their cost and their reading: <code>docs/trainability.md</code>; the grid files \
         here are read by <code>mfrnn trainability analyze</code>.</p>\n",
        g.seeds,
        g.training.width,
        g.training.steps,
        g.training.lr,
        g.training.batch,
        g.threshold,
        if quick {
            "This is the quick run's tiny grid, a smoke test: its numbers mean nothing. "
        } else {
            "These small grids show the experiment, not its conclusion. "
        }
    );
    for p in &presets {
        let (file, an) = trainability_grid(&p.grid, &|s| bar.inc(s))?;
        let name = p.name;
        out.write(&format!("trainability-{name}.jsonl"), file.to_bytes())?;
        out.write(&format!("trainability-{name}.svg"), phase_svg(&file, &an))?;
        let _ = write!(
            body,
            "<figure><img src=\"trainability-{name}.svg\" alt=\"trainability {name}\" \
             width=\"860\"><figcaption>{}: mean test accuracy over (σ_w or μ_b, T). Grid file: \
             <a href=\"trainability-{name}.jsonl\">trainability-{name}.jsonl</a></figcaption>\
             </figure>\n<pre>{}</pre>\n",
            p.grid.cell.label(),
            esc(&analysis_text(&file, &an))
        );
    }
    Ok(Section {
        title: "6. Trainability: which timescale predicts learning".into(),
        body,
    })
}
