//! The report's trainability grids: two small preset grids (digits with noise padding; the
//! vanilla tanh RNN over `σ_w × T`, the minimalRNN over `μ_b × T`), run in memory and analysed
//! against the factorised theory's timescales ([`crate::training::trainability`],
//! `theory/10-trainability.md`).

use serde::Serialize;

use crate::activation::Builtin;
use crate::cells::{Cell, WeightLaw};
use crate::error::Result;
use crate::training::Padding;
use crate::training::trainability::{
    self as tr, Axis, BaseInit, Factorised, GridAnalysis, GridFile, GridSpec, GridTask,
    TimescaleSource, Training,
};

/// One preset grid of the report's trainability stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainabilityPreset {
    /// `vanilla` or `minimal` (the stem of the stage's file names).
    pub name: &'static str,
    /// The grid.
    pub grid: GridSpec,
}

/// The report's two grids: digits with noise padding, width 16, Adam, 2 seeds, a cell
/// trainable at mean score 0.5. Full: 5 values × `T ∈ {2, 10, 30}`, 150 steps; `quick`: 3
/// values × `T ∈ {2, 8}`, 40 steps (a smoke test, not a result).
pub fn trainability_presets(quick: bool) -> Vec<TrainabilityPreset> {
    let grids = [
        (
            "vanilla",
            Cell::vanilla(Builtin::Tanh),
            Axis::SigmaW,
            vec![0.5, 1.0, 1.5, 2.0, 3.0],
            0.0,
        ),
        (
            "minimal",
            Cell::minimal(),
            Axis::MuB,
            vec![-2.0, 0.0, 2.0, 4.0, 6.0],
            4.0,
        ),
    ];
    grids
        .into_iter()
        .map(|(name, cell, axis, values, mu_b)| {
            let mut training = Training::small();
            training.width = 16;
            training.steps = if quick { 40 } else { 150 };
            training.eval_size = 200;
            TrainabilityPreset {
                name,
                grid: GridSpec {
                    cell,
                    task: GridTask::Digits {
                        pad: Padding::Noise,
                    },
                    axis,
                    values: if quick { values[..3].to_vec() } else { values },
                    horizons: if quick { vec![2, 8] } else { vec![2, 10, 30] },
                    seeds: 2,
                    first_seed: 1,
                    init: BaseInit {
                        sigma_w: 1.0,
                        sigma_v: 1.0,
                        sigma_b: 0.0,
                        mu_b,
                        weights: WeightLaw::Gaussian,
                    },
                    training,
                    threshold: 0.5,
                },
            }
        })
        .collect()
}

/// Training steps of all runs of [`trainability_presets`] (a progress bar's length).
pub fn trainability_steps(quick: bool) -> u64 {
    trainability_presets(quick)
        .iter()
        .map(|p| (p.grid.num_cells() * p.grid.seeds * p.grid.training.steps) as u64)
        .sum()
}

/// Runs `grid` in memory ([`tr::run_in_memory`]) and analyses it against the factorised
/// theory's timescales ([`tr::analyze`] with [`Factorised`]); `progress(steps)` as training
/// steps are done.
///
/// # Errors
/// As [`tr::run_in_memory`] and [`tr::analyze`].
pub fn trainability_grid(
    grid: &GridSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(GridFile, GridAnalysis)> {
    let file = tr::run_in_memory(grid, progress)?;
    let an = tr::analyze(&file, &[&Factorised as &dyn TimescaleSource])?;
    Ok((file, an))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_quick_is_smaller() {
        for quick in [false, true] {
            let p = trainability_presets(quick);
            assert_eq!(p.len(), 2);
            for g in &p {
                g.grid.validate().unwrap();
            }
        }
        let full: usize = trainability_presets(false)
            .iter()
            .map(|p| p.grid.num_cells() * p.grid.training.steps)
            .sum();
        let quick: usize = trainability_presets(true)
            .iter()
            .map(|p| p.grid.num_cells() * p.grid.training.steps)
            .sum();
        // 6 cells × 40 steps against 15 × 150 per grid (and shorter sequences, T ≤ 8).
        assert!(quick * 9 < full, "{quick} vs {full}");
    }
}
