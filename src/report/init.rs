//! Critical initialization as a table row.

use serde::Serialize;

use crate::cells::{Cell, CellKind};
use crate::error::{Error, Result};
use crate::init::{self, Target};
use crate::sim::{SimConfig, jacobian};

/// The horizon of [`CriticalRow::rms_ratio_t100_orthogonal`].
pub const SPREAD_HORIZON: usize = 100;

/// A critical initialization at one target, or why the target is infeasible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalRow {
    /// The cell.
    pub cell: CellKind,
    /// The target `q*`.
    pub q_star: f64,
    /// The target `μ_b`.
    pub mu_b: f64,
    /// The target `R`.
    pub r: f64,
    /// Whether the target can be met.
    pub feasible: bool,
    /// `σ_w`.
    pub sigma_w: Option<f64>,
    /// `σ_v` (solved for).
    pub sigma_v: Option<f64>,
    /// `Q*` at the fixed point.
    pub big_q_star: Option<f64>,
    /// Growth per step of the normalised variance of the squared singular values, orthogonal
    /// `W` ([`init::CriticalInit::normalized_variance_per_step`]).
    pub normalized_variance_per_step_orthogonal: Option<f64>,
    /// `√(m₂)/m₁` after [`SPREAD_HORIZON`] steps, orthogonal `W`
    /// ([`init::CriticalInit::spectral_width`]).
    pub rms_ratio_t100_orthogonal: Option<f64>,
    /// `χ₁` of simulated networks: the mean squared singular value of the one-step Jacobian.
    pub simulated_chi_1: Option<f64>,
    /// Its standard error over networks.
    pub simulated_chi_1_se: Option<f64>,
    /// The initialization's warnings, or (infeasible) what is feasible.
    pub note: String,
}

/// The critical initialization of `cell` at `target` ([`init::critical`]) as a row; with
/// `check = Some((cfg, burn_in))`, also the one-step Jacobian's `m₁ = χ₁` of networks sampled
/// with `cfg` after `burn_in` steps ([`jacobian::sample`]). An [`Error::Infeasible`] target is a
/// row with `feasible: false`, not an error.
///
/// # Errors
/// Other errors of the initialization, its spectral width and the sampler.
pub fn critical_row(
    cell: &Cell,
    target: &Target,
    check: Option<(&SimConfig, usize)>,
) -> Result<CriticalRow> {
    let mut row = CriticalRow {
        cell: cell.kind(),
        q_star: target.q_star,
        mu_b: target.mu_b,
        r: target.r,
        feasible: false,
        sigma_w: None,
        sigma_v: None,
        big_q_star: None,
        normalized_variance_per_step_orthogonal: None,
        rms_ratio_t100_orthogonal: None,
        simulated_chi_1: None,
        simulated_chi_1_se: None,
        note: String::new(),
    };
    let c = match init::critical(cell, target) {
        Ok(c) => c,
        Err(Error::Infeasible { feasible, .. }) => {
            row.note = feasible;
            return Ok(row);
        }
        Err(e) => return Err(e),
    };
    let w = c.spectral_width(SPREAD_HORIZON)?;
    if let Some((cfg, burn_in)) = check {
        let m = jacobian::sample(
            &c.cell,
            &c.params,
            cfg,
            1,
            burn_in,
            jacobian::Accumulation::Direct,
        )?
        .moments;
        row.simulated_chi_1 = Some(m.m1);
        row.simulated_chi_1_se = Some(m.m1_se);
    }
    row.feasible = true;
    row.sigma_w = Some(c.params.sigma_w());
    row.sigma_v = Some(c.params.sigma_v());
    row.big_q_star = Some(c.big_q_star);
    row.normalized_variance_per_step_orthogonal = Some(c.normalized_variance_per_step.orthogonal);
    row.rms_ratio_t100_orthogonal = Some(w.rms_ratio.orthogonal);
    row.note = c.warnings.join("; ");
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Builtin;

    #[test]
    fn rows_carry_the_initialization_or_what_is_feasible() {
        let tanh = Cell::vanilla(Builtin::Tanh);
        let target = Target::q_star(0.5);
        let row = critical_row(&tanh, &target, None).unwrap();
        let c = init::critical(&tanh, &target).unwrap();
        assert!(row.feasible && row.simulated_chi_1.is_none());
        assert_eq!(row.sigma_w, Some(c.params.sigma_w()));
        assert_eq!(
            row.rms_ratio_t100_orthogonal,
            Some(
                c.spectral_width(SPREAD_HORIZON)
                    .unwrap()
                    .rms_ratio
                    .orthogonal
            )
        );
        // q* = 4 at μ_b = 0, R = 0.46 is below the minimalRNN's feasible range.
        let low = Target::q_star(4.0).r(0.46);
        assert!(matches!(
            init::critical(&Cell::Minimal, &low),
            Err(Error::Infeasible { .. })
        ));
        let row = critical_row(&Cell::Minimal, &low, None).unwrap();
        assert!(!row.feasible && row.sigma_w.is_none() && !row.note.is_empty());
        // Other errors stay errors.
        assert!(critical_row(&tanh, &Target::q_star(-1.0), None).is_err());
    }
}
