//! Signal propagation: the theories against simulated networks.

use serde::Serialize;

use crate::cells::{Cell, CellParams, RhoSchedule, Trajectory};
use crate::error::Result;
use crate::exact::{self, ExactConfig, ExactTrajectory};
use crate::sim::{self, SimConfig, SimTrajectory};

/// The trajectories of two sequences through one cell: mean field, (optionally) the sampled
/// exact theory, and simulated networks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Propagation {
    /// The mean-field (factorised, for the minimalRNN) recursion.
    pub mean_field: Trajectory,
    /// The exact theory sampled in the simulated networks' regime, when asked for.
    pub exact: Option<ExactTrajectory>,
    /// The simulated networks.
    pub simulated: SimTrajectory,
}

/// The mean-field trajectory of `cell` at `p` under `sched`, the exact theory sampled with
/// `exact` (if given) in the regime of `sim`, and networks simulated with `sim`.
///
/// # Errors
/// Errors of the theory, the exact sampler and the simulator.
pub fn propagation(
    cell: &Cell,
    p: &CellParams,
    sched: &RhoSchedule,
    exact: Option<&ExactConfig>,
    sim: &SimConfig,
) -> Result<Propagation> {
    let mean_field = cell.mean_field(p)?.trajectory(sched)?;
    let exact = exact
        .map(|cfg| exact::trajectory(cell, p, sched, sim.regime(), cfg))
        .transpose()?;
    let simulated = sim::simulate(cell, p, sched, sim)?;
    Ok(Propagation {
        mean_field,
        exact,
        simulated,
    })
}
