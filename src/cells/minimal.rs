//! The minimalRNN `e^t = W h^{t−1} + V z^t + b`, `u^t = σ(e^t)`,
//! `h^t = u^t ⊙ h^{t−1} + (1 − u^t) ⊙ z^t`, `h^0 = 0`: the factorised mean-field theory
//! (Chen, Pennington & Schoenholz 2018, reconstructed in `theory/03-minimal-rnn.md`).
//!
//! - `q^t = σ_w² Q^{t−1} + σ_v² R + σ_b²` (variance of `e^t − μ_b`)  (M.1)
//! - `Q^t = E[u²] Q^{t−1} + E[(1−u)²] R`, `u = σ(μ_b + √q^t z)`  (M.2)
//! - `q_ab^t = σ_w² C^{t−1} + σ_v² ρ^t R + σ_b²`,
//!   `C^t = E[u_a u_b] C^{t−1} + E[(1−u_a)(1−u_b)] ρ^t R`, `c^t = C^t / Q^t`  (M.3)
//!
//! The factorisation treats a unit's gate as independent of its own state. That is exact for
//! weights redrawn every step with no frozen per-unit bias; for the real network (tied
//! weights, frozen biases) see the exact theory in `theory/03-minimal-rnn.md`.

use std::sync::Arc;

use serde::Serialize;

use super::SolverParams;
use super::{
    Analysis, Cell, CellParams, FixedPoints, MeanField, Phase, RhoSchedule, Summary, Trajectory,
    log_linear_grid,
};
use crate::activation::{Activation, Builtin};
use crate::error::{Error, Result};
use crate::expect::logistic::{log_add_exp, logistic_moment};
use crate::expect::{BivariateNormal, Fun, HermiteExpansion, Integrator, Normal};
use crate::gauss::trapezoid::{StepModel, gauss_trapezoid_pair};
use crate::roots::{Root, brent_with, iterate, roots_on_grid_with, timescale, timescale_from_gap};

/// `E[1 − u²]` below which the gate counts as open: the slopes are then formed from their
/// gaps to 1 ([`Minimal::open_gate_gaps`]).
pub const OPEN_GATE: f64 = 1e-3;

/// `E[1 − u²]` below which the covariance map is not resolved: it differs from the identity
/// by about that much, below the absolute accuracy of its two-dimensional expectations
/// divided by the 1e-8 relative accuracy wanted of `c*` and `χ_c`.
pub const SHUT_MEMORY: f64 = 1e-8;

/// The gaps `1 − χ` of an open gate's slopes ([`Minimal::open_gate_gaps`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OpenGateGaps {
    /// `E[1 − u²]` at the gate variance.
    pub one_minus_u2: f64,
    /// `1 − χ_Q`.
    pub chi_q: f64,
    /// `1 − χ₁`.
    pub chi_1: f64,
}

/// A fixed point `Q*` of the factorised `Q`-map (M.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StateFixedPoint {
    /// `Q*`.
    #[serde(rename = "Q")]
    pub big_q: f64,
    /// `q* = σ_w² Q* + σ_v² R + σ_b²`.
    pub q: f64,
    /// Slope `χ_Q` of the `Q`-map at `Q*`.
    pub chi_q: f64,
    /// `|χ_Q| < 1`.
    pub stable: bool,
    /// The fixed point the dynamics from `h^0 = 0` converge to.
    pub reached_from_zero: bool,
    /// `|G(Q*) − Q*|`.
    pub residual: f64,
    /// Map evaluations spent refining it.
    pub iterations: usize,
}

/// A fixed point `C*` of the factorised `C`-map (M.3) at `Q*`, constant `ρ`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CovarianceFixedPoint {
    /// `C*`.
    #[serde(rename = "C")]
    pub big_c: f64,
    /// `c* = C*/Q*`.
    pub c: f64,
    /// Slope `χ_C = E[u_a u_b] + σ_w² E[σ'(e_a) σ'(e_b)] (C* + ρR)`.
    pub chi_c: f64,
    /// `ξ_C = −1/ln χ_C`, from the gap `1 − χ_C` computed without cancellation (so finite and
    /// accurate when `χ_C` rounds to 1 for a nearly open gate); `None` = infinite.
    pub xi_c: Option<f64>,
    /// `|χ_C| < 1`.
    pub stable: bool,
    /// `|G_C(C*) − C*|`.
    pub residual: f64,
    /// Map evaluations spent refining it.
    pub iterations: usize,
}

/// One step of the minimalRNN's maps for two sequences ([`Minimal::pair_map`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairStep {
    /// Gate pre-activation variance `q^t = σ_w² Q^{t−1} + σ_v² R + σ_b²`.
    pub q: f64,
    /// State second moment `Q^t`.
    #[serde(rename = "Q")]
    pub big_q: f64,
    /// Gate pre-activation covariance `q_ab^t`.
    pub q_ab: f64,
    /// State second moment between the sequences `C^t`.
    #[serde(rename = "C")]
    pub big_c: f64,
}

/// Why `c*` and `χ_c` are not reported for a gate open to within `E[1 − u²] = gap`.
fn shut_note(gap: f64) -> String {
    if gap == 0.0 {
        return "the gate is open to within E[1 − u²] < 1e-308 at q* (it underflows): each \
                step keeps the state (h ← u h + (1 − u) z with u = 1 to double precision), so \
                the maps are the identity, χ_Q = χ₁ = 1 and ξ = ∞ to double precision, and \
                c*, χ_c are not resolved"
            .to_string();
    }
    format!(
        "the gate is open to within E[1 − u²] = {gap:.3e} at q*: each step keeps the state \
         (h ← u h + (1 − u) z with u ≈ 1), so the covariance map is the identity to within \
         that much and c*, χ_c are not resolved in double precision (ξ_c is of order \
         1/E[1 − u] ≈ {:.3e} steps)",
        2.0 / gap
    )
}

/// The minimalRNN's factorised mean-field theory for one parameter set.
#[derive(Debug, Clone)]
pub struct Minimal {
    p: CellParams,
    eng: Integrator,
    u: Fun,
    one_minus_u: Fun,
    u2: Fun,
    omu2: Fun,
    du2: Fun,
    u_ddu: Fun,
    omu_ddu: Fun,
    /// `(u − μ_b) σ σ'` and `(u − μ_b)(1 − σ) σ'`: the Stein forms of the slope.
    stein_u: Fun,
    stein_omu: Fun,
    solver: SolverParams,
}

impl Minimal {
    /// The theory for parameters `p`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `r` for `R = 0` (the cell's state is driven by its
    /// input; [`Cell::validate`]).
    pub fn new(p: CellParams) -> Result<Minimal> {
        Cell::Minimal.validate(&p)?;
        let sig: Arc<dyn Activation> = Builtin::Sigmoid.arc();
        let u = Fun::phi(&sig);
        // 1 − σ(x) = σ(−x): exact in both tails.
        let one_minus_u = u.compose_affine(0.0, -1.0);
        let du = Fun::dphi(&sig);
        let ddu = Fun::ddphi(&sig);
        let centred = Fun::phi(&Builtin::Linear.arc()).compose_affine(-p.mu_b(), 1.0);
        let du_x = &du * &centred;
        Ok(Minimal {
            stein_u: &u * &du_x,
            stein_omu: &one_minus_u * &du_x,
            u2: u.powi(2),
            omu2: one_minus_u.powi(2),
            du2: du.powi(2),
            u_ddu: &u * &ddu,
            omu_ddu: &one_minus_u * &ddu,
            u,
            one_minus_u,
            p,
            eng: Integrator::default(),
            solver: SolverParams::minimal(),
        })
    }

    /// Uses `eng` for the Gaussian expectations.
    #[must_use]
    pub fn with_integrator(mut self, eng: Integrator) -> Minimal {
        self.eng = eng;
        self
    }

    /// Uses `solver` for the fixed-point solvers (Brent caps, the iterations that decide which
    /// fixed point is reached); [`SolverParams::minimal`] otherwise.
    #[must_use]
    pub fn with_solver(mut self, solver: SolverParams) -> Minimal {
        self.solver = solver;
        self
    }

    /// The solver settings.
    pub fn solver(&self) -> &SolverParams {
        &self.solver
    }

    /// The parameters.
    pub fn params(&self) -> &CellParams {
        &self.p
    }

    /// `σ_v² R + σ_b²`.
    pub fn drive(&self) -> f64 {
        self.p.drive()
    }

    /// `q(Q) = σ_w² Q + σ_v² R + σ_b²`.
    pub fn gate_variance(&self, big_q: f64) -> f64 {
        self.p.sigma_w() * self.p.sigma_w() * big_q + self.drive()
    }

    fn normal(&self, q: f64) -> Result<Normal> {
        Normal::new(self.p.mu_b(), q)
    }

    /// `(E[u²], E[(1−u)²])` at gate variance `q`.
    ///
    /// # Errors
    /// Engine errors; [`Error::InvalidParameter`] for `q < 0`.
    pub fn gate_moments(&self, q: f64) -> Result<(f64, f64)> {
        let n = self.normal(q)?;
        // Fast path: both moments from one exponential per node (σ and 1 − σ from the same
        // e^{−|x|}), on one trapezoid grid with the logistic's strip (poles at ±iπ).
        if self.eng.strategy == crate::expect::Strategy::Auto && q > 0.0 {
            let sd = q.sqrt();
            let model = StepModel {
                a_max: std::f64::consts::PI / sd,
                gamma: 0.5,
                beta: 0.0,
                degree: 0.0,
            };
            if 2.0 * 9.5 / model.step() <= 1600.0 {
                let mu = self.p.mu_b();
                let r = gauss_trapezoid_pair(
                    |z| {
                        let x = mu + sd * z;
                        let e = (-x.abs()).exp();
                        let (hi, lo) = (1.0 / (1.0 + e), e / (1.0 + e));
                        let (s, t) = if x >= 0.0 { (hi, lo) } else { (lo, hi) };
                        (s * s, t * t)
                    },
                    &model,
                    9.5,
                    3,
                );
                if let Some((a, _, b, _)) = r {
                    return Ok((a, b));
                }
            }
        }
        Ok((
            self.eng.expect(&self.u2, &n)?.value,
            self.eng.expect(&self.omu2, &n)?.value,
        ))
    }

    /// One step of the `Q`-map (M.2) from `Q^{t−1}`: returns `(q^t, Q^t)`.
    ///
    /// # Errors
    /// As [`Minimal::gate_moments`].
    pub fn state_map(&self, big_q: f64) -> Result<(f64, f64)> {
        let q = self.gate_variance(big_q);
        let (a, b) = self.gate_moments(q)?;
        Ok((q, a * big_q + b * self.p.r()))
    }

    /// Slope of the `Q`-map: `E[u²] + σ_w² (Q ∂_q E[u²] + R ∂_q E[(1−u)²])`, with
    /// `∂_q E[σ²] = E[σ'² + σσ'']` and `∂_q E[(1−σ)²] = E[σ'² − (1−σ)σ'']` for `q < 1`, and
    /// in the Stein form `∂_q E[σ²] = E[(u − μ_b) σσ']/q`,
    /// `∂_q E[(1−σ)²] = −E[(u − μ_b)(1−σ)σ']/q` for `q >= 1` (no cancellation at large `q`).
    ///
    /// # Errors
    /// As [`Minimal::gate_moments`].
    pub fn state_map_slope(&self, big_q: f64) -> Result<f64> {
        let q = self.gate_variance(big_q);
        if q >= 1.0 {
            return self.state_map_slope_stein(big_q, q);
        }
        let n = self.normal(q)?;
        let e = |f: &Fun| -> Result<f64> { Ok(self.eng.expect(f, &n)?.value) };
        let (u2, du2, uddu, omuddu) = (
            e(&self.u2)?,
            e(&self.du2)?,
            e(&self.u_ddu)?,
            e(&self.omu_ddu)?,
        );
        let sw2 = self.p.sigma_w() * self.p.sigma_w();
        Ok(u2 + sw2 * (big_q * (du2 + uddu) + self.p.r() * (du2 - omuddu)))
    }

    /// [`Minimal::state_map_slope`] from `q >= 1` on in the Stein form
    /// `∂_q E[g(u)] = E[(u − μ_b) g'(u)]/(2q)`: the two terms of each derivative above are
    /// `O(q^{-1/2})` and cancel to `O(q^{-3/2})`, and their absolute errors times `σ_w²`
    /// (`~ q`) would dominate `χ_Q` at large `σ_w`.
    fn state_map_slope_stein(&self, big_q: f64, q: f64) -> Result<f64> {
        let n = self.normal(q)?;
        let e = |f: &Fun| -> Result<f64> { Ok(self.eng.expect(f, &n)?.value) };
        let sw2 = self.p.sigma_w2();
        let (u2, a, b) = (e(&self.u2)?, e(&self.stein_u)?, e(&self.stein_omu)?);
        Ok(u2 + sw2 * (big_q * a - self.p.r() * b) / q)
    }

    /// `χ₁(Q) = E[u²] + σ_w² E[σ'²] (Q + R)`: the slope of the `C`-map at `C = Q`, `ρ = 1`,
    /// and the mean squared singular value of one step's Jacobian.
    ///
    /// # Errors
    /// As [`Minimal::gate_moments`].
    pub fn chi_1(&self, big_q: f64) -> Result<f64> {
        let n = self.normal(self.gate_variance(big_q))?;
        let u2 = self.eng.expect(&self.u2, &n)?.value;
        let du2 = self.eng.expect(&self.du2, &n)?.value;
        Ok(u2 + self.p.sigma_w() * self.p.sigma_w() * du2 * (big_q + self.p.r()))
    }

    /// One step of the `Q`- and `C`-maps (M.1)–(M.3): from `(Q^{t−1}, C^{t−1})` at input
    /// correlation `ρ` to step `t`.
    ///
    /// # Errors
    /// As [`Minimal::gate_moments`].
    pub fn pair_map(&self, big_q: f64, big_c: f64, rho: f64) -> Result<PairStep> {
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let (q, q_next) = self.state_map(big_q)?;
        let q_ab =
            sw2 * big_c + p.sigma_v() * p.sigma_v() * rho * p.r() + p.sigma_b() * p.sigma_b();
        let c = if q > 0.0 {
            (q_ab / q).clamp(-1.0, 1.0)
        } else {
            1.0
        };
        Ok(PairStep {
            q,
            big_q: q_next,
            q_ab,
            big_c: self.covariance_step(q, c, big_c, rho)?,
        })
    }

    /// `E[u_a u_b] C + E[(1−u_a)(1−u_b)] ρ R` at gate variance `q` and gate correlation `c`
    /// (the `C`-map (M.3) with the expectation engine).
    fn covariance_step(&self, q: f64, c: f64, big_c: f64, rho: f64) -> Result<f64> {
        let b = BivariateNormal::equal(self.p.mu_b(), q, c)?;
        let uu = self.eng.expect2(&self.u, &self.u, &b)?.value;
        let vv = self
            .eng
            .expect2(&self.one_minus_u, &self.one_minus_u, &b)?
            .value;
        Ok(uu * big_c + vv * rho * self.p.r())
    }

    /// Why a trajectory or simulation of this cell can leave the range of double precision:
    /// never through the recursion (the state is a convex combination of the inputs, so
    /// `Q <= R`), only through input scales near the largest double.
    pub fn divergence_reason(&self) -> String {
        let p = &self.p;
        format!(
            "the minimalRNN state is a convex combination of its inputs (Q <= R), so the \
             recursion is bounded; the overflow comes from the scales σ_w² = {:e}, \
             σ_v² R + σ_b² = {:e}, R = {:e}, too large for sums of squares in double \
             precision (largest 1.8e308)",
            p.sigma_w2(),
            self.drive(),
            p.r()
        )
    }

    /// Mean-field trajectory of two sequences (M.1)–(M.3) from `h^0 = 0`; here `c^t` is the
    /// hidden-state correlation `C^t / Q^t`.
    ///
    /// # Errors
    /// [`Error::Diverged`] if the gate variance `q` is not finite (input scales beyond the
    /// range of double precision; see [`Minimal::divergence_reason`]); engine errors.
    pub fn trajectory(&self, rho: &RhoSchedule) -> Result<Trajectory> {
        let n = rho.len();
        let mut tr = Trajectory::with_capacity(n);
        let (mut big_q, mut big_c) = (0.0, 0.0);
        for (t, &r) in rho.values().iter().enumerate() {
            let q = self.gate_variance(big_q);
            if !q.is_finite() {
                return Err(Error::Diverged {
                    quantity: "q",
                    step: t + 1,
                    value: q,
                    reason: self.divergence_reason(),
                });
            }
            let PairStep {
                q,
                big_q: q_next,
                q_ab,
                big_c: c_next,
            } = self.pair_map(big_q, big_c, r)?;
            big_q = q_next;
            big_c = c_next;
            tr.q.push(q);
            tr.big_q.push(big_q);
            tr.q_ab.push(q_ab);
            tr.big_c.push(big_c);
            tr.c.push(if big_q > 0.0 { big_c / big_q } else { 1.0 });
            crate::budget::tick(1);
        }
        Ok(tr)
    }

    /// `1 − χ_Q` and `1 − χ₁` at `Q` without cancellation when the gate is open
    /// (`E[1 − u²] < 1e-3`, e.g. large `μ_b`), where both slopes round to 1 (M.9):
    /// `1 − χ₁ = E[1 − u²] − σ_w² E[σ'²](Q + R)` and
    /// `1 − χ_Q = E[1 − u²] + σ_w² (R E[(e − μ_b)(1−u)σ'] − Q E[(e − μ_b) u σ'])/q`, every
    /// moment from [`logistic_moment`] to relative accuracy. `None` when the gate is not open
    /// (the direct forms are accurate there).
    ///
    /// # Errors
    /// Quadrature errors of [`logistic_moment`].
    pub fn open_gate_gaps(&self, big_q: f64) -> Result<Option<OpenGateGaps>> {
        let q = self.gate_variance(big_q);
        let mu = self.p.mu_b();
        let m = |a, b, k| logistic_moment(mu, q, a, b, k).map(|s| s.to_f64());
        let one_minus_u2 = m(0, 2, 0)? + 2.0 * m(1, 1, 0)?;
        if one_minus_u2.is_nan() || one_minus_u2 >= OPEN_GATE {
            return Ok(None);
        }
        let sw2 = self.p.sigma_w2();
        let r = self.p.r();
        let chi_1 = one_minus_u2 - sw2 * m(2, 2, 0)? * (big_q + r);
        let chi_q = if q > 0.0 {
            one_minus_u2 + sw2 * (r * m(1, 2, 1)? - big_q * m(2, 1, 1)?) / q
        } else {
            one_minus_u2
        };
        Ok(Some(OpenGateGaps {
            one_minus_u2,
            chi_q,
            chi_1,
        }))
    }

    /// The state map's fixed-point condition in the form `R θ(q) − Q` (or, where `θ > ½`,
    /// `(R − Q) − R (1 − θ)`), with `θ = E[(1−u)²]/E[1−u²]` at `q = q(Q)` (M.8). It has the
    /// sign of `G(Q) − Q = E[(1−u)²](R − Q) − 2E[σ']Q` and no cancellation:
    /// `E[(1−u)²] = E[σ(−e)²]` and `E[σ'(e)]` come with relative accuracy from
    /// [`logistic_moment`] however small they are, and `θ`, `1 − θ` are formed from their
    /// logarithms. `tests/numerics.rs` checks the saturated limits.
    ///
    /// # Errors
    /// Quadrature errors of [`logistic_moment`].
    pub fn state_condition(&self, big_q: f64) -> Result<f64> {
        use std::f64::consts::LN_2;
        let q = self.gate_variance(big_q);
        let mu = self.p.mu_b();
        let ln_a = logistic_moment(mu, q, 0, 2, 0)?.ln(); // ln E[(1−u)²]
        let ln_b = logistic_moment(mu, q, 1, 1, 0)?.ln(); // ln E[u(1−u)]
        let ln_s = log_add_exp(ln_a, LN_2 + ln_b); // ln E[1 − u²]
        let r = self.p.r();
        if ln_a == f64::NEG_INFINITY || ln_s == f64::NEG_INFINITY {
            // E[(1−u)²] underflows even as a logarithm (μ_b near the largest double): θ = 0.
            return Ok(-big_q);
        }
        let ln_theta = ln_a - ln_s;
        if ln_theta < -LN_2 {
            Ok(r * ln_theta.exp() - big_q)
        } else {
            Ok((r - big_q) - r * (LN_2 + ln_b - ln_s).exp())
        }
    }

    /// Every fixed point of the `Q`-map in `[0, R]` (there can be several: bistability at
    /// large μ_b and σ_w), with slope, stability and which one the dynamics from `h^0 = 0`
    /// reach.
    ///
    /// Solved as `Q = R θ(q(Q))`, `θ = E[(1−u)²]/E[1−u²]` ([`Minimal::state_condition`],
    /// (M.8)): the fixed-point condition without the cancellation of `G(Q) − Q` or of
    /// `1 − E[u²]`, with every gate moment to relative accuracy, so that saturated gates
    /// (large `|μ_b|`, where `1 − u` or `u` is `~e^{−|μ_b|}`) give their true, single root —
    /// `Q* ≈ R e^{−μ_b}·…` (the state stays at `h⁰ = 0`) or `Q* = R` (the state copies its
    /// input) — instead of roots of rounding noise. `Q* <= R` because
    /// `(1−u)² <= 1 − u²` on `[0, 1]`.
    ///
    /// # Errors
    /// Engine errors; [`Error::NoFixedPoint`] if no sign change is found (not expected).
    pub fn state_fixed_points(&self) -> Result<Vec<StateFixedPoint>> {
        let r = self.p.r();
        let f = |big_q: f64| self.state_condition(big_q);
        let grid = log_linear_grid(r, 10.0, 100, 100);
        let roots: Vec<Root> = roots_on_grid_with(f, &grid, &self.solver.brent(0.0))?;
        if roots.is_empty() {
            return Err(Error::NoFixedPoint {
                map: "state map",
                reason: format!("no sign change of the fixed-point condition on [0, {r}]"),
            });
        }
        // From h⁰ = 0 the state grows (G(0) = E[(1−u)²] R > 0); with G increasing the
        // iteration climbs monotonically to the smallest root. Check that G is increasing on
        // the grid; otherwise iterate.
        let mut monotone = true;
        let mut prev = f64::NEG_INFINITY;
        for &x in grid.iter().step_by(4) {
            let g = self.state_map(x)?.1;
            if g < prev - 1e-14 {
                monotone = false;
                break;
            }
            prev = g;
        }
        let reached = if monotone {
            0
        } else {
            // An unconverged iteration (the cap of `solver.reach`) still points into the basin
            // it is in; its last iterate is used either way.
            let big_q = iterate(|q| Ok(self.state_map(q)?.1), 0.0, &self.solver.reach)?.x;
            roots
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1.x - big_q).abs().total_cmp(&(b.1.x - big_q).abs()))
                .map_or(0, |(i, _)| i)
        };
        let mut out = Vec::new();
        for (i, root) in roots.iter().enumerate() {
            // An open gate has χ_Q = 1 − δ with δ below rounding: stability from δ.
            // δ = 0 means it underflowed (μ_b near the largest double): its limit as the gate
            // opens is 2E[σ'] > 0, i.e. stable.
            let (chi, stable) = match self.open_gate_gaps(root.x)? {
                Some(g) if g.one_minus_u2 == 0.0 => (1.0, true),
                Some(g) => (1.0 - g.chi_q, g.chi_q > 0.0 && g.chi_q < 2.0),
                None => {
                    let chi = self.state_map_slope(root.x)?;
                    (chi, chi.abs() < 1.0)
                }
            };
            out.push(StateFixedPoint {
                big_q: root.x,
                q: self.gate_variance(root.x),
                chi_q: chi,
                stable,
                reached_from_zero: i == reached,
                residual: (self.state_map(root.x)?.1 - root.x).abs(),
                iterations: root.iterations,
            });
        }
        Ok(out)
    }

    /// Every fixed point of the `C`-map in `[−Q*, Q*]` at constant `ρ`.
    ///
    /// With `ρ = 1`, `C = Q*` is a fixed point; dividing it out with the Hermite expansion
    /// of σ at `(μ_b, q*)` gives `H(C) = E[u_a u_b] − 1 + σ_w² (Q* + R) D(c)/((1−c) q*)`, where
    /// `D` is the gap of σ (the gaps of `u` and `1 − u` coincide), and `H(Q*) = χ₁ − 1`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `Q* <= 0` or `ρ ∉ [−1, 1]`; engine errors.
    pub fn covariance_fixed_points(
        &self,
        big_q: f64,
        rho: f64,
    ) -> Result<Vec<CovarianceFixedPoint>> {
        if big_q.is_nan() || big_q <= 0.0 || !big_q.is_finite() {
            return Err(Error::invalid(
                "Q_star",
                big_q,
                "a finite second moment > 0",
            ));
        }
        if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
            return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
        }
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let q = self.gate_variance(big_q);
        let kernel = GateKernel::new(self, q)?;
        let c_of = |big_c: f64| -> f64 {
            ((sw2 * big_c + p.sigma_v() * p.sigma_v() * rho * p.r() + p.sigma_b() * p.sigma_b())
                / q)
                .clamp(-1.0, 1.0)
        };
        // Residuals are reported with the expectation engine (independent of the expansion).
        let g_engine = |big_c: f64| self.covariance_step(q, c_of(big_c), big_c, rho);
        let identical = rho == 1.0;
        // G_C(C) − C = E[(1−u_a)(1−u_b)] ρR − (1 − E[u_a u_b]) C, both factors without
        // cancellation (GateKernel); with ρ = 1 the root C = Q* divided out.
        let h = |big_c: f64| -> Result<f64> {
            let c = c_of(big_c);
            let one_minus_uu = kernel.one_minus_uu(self, c)?;
            if identical {
                let d = kernel.gap_over_one_minus_c(self, c)?;
                Ok(sw2 * (big_q + p.r()) * d / q - one_minus_uu)
            } else {
                Ok(kernel.vv(self, c)? * rho * p.r() - one_minus_uu * big_c)
            }
        };
        let mut grid: Vec<f64> = (0..=40)
            .map(|i| big_q * (-1.0 + f64::from(i) / 20.0))
            .collect();
        for k in 1..=12 {
            let x = big_q * (1.0 - 10f64.powi(-k));
            // Without the expansion, the gap D(c) comes from a difference of expectations:
            // keep only points where it is resolved (no sign changes from rounding noise).
            if identical && !kernel.gap_resolved(self, c_of(x))? {
                break;
            }
            grid.push(x);
        }
        if identical {
            grid.retain(|&x| x < big_q);
        }
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        let mut roots = roots_on_grid_with(h, &grid, &self.solver.brent(1e-15 * big_q))?;
        if identical {
            roots.push(Root::exact(big_q));
        }
        let mut out = Vec::new();
        for root in roots {
            let c = c_of(root.x);
            // 1 − χ_C = (1 − E[u_a u_b]) − σ_w² E[σ'σ'](C* + ρR): the gap, for ξ_C of a
            // nearly open gate.
            let gap = if identical && root.x == big_q {
                match self.open_gate_gaps(big_q)? {
                    Some(g) => g.chi_1,
                    None => 1.0 - self.chi_1(big_q)?,
                }
            } else {
                let dd = kernel.slope_over_q(self, c)?; // E[σ'σ']
                kernel.one_minus_uu(self, c)? - sw2 * dd * (root.x + rho * p.r())
            };
            let chi = 1.0 - gap;
            out.push(CovarianceFixedPoint {
                big_c: root.x,
                c: root.x / big_q,
                chi_c: chi,
                xi_c: if chi.abs() < 0.5 {
                    timescale(chi)
                } else {
                    timescale_from_gap(gap)
                },
                stable: gap > 0.0 && gap < 2.0,
                residual: (g_engine(root.x)? - root.x).abs(),
                iterations: root.iterations,
            });
        }
        Ok(out)
    }

    /// Fixed points, slopes, timescales and phase at constant input correlation `ρ`.
    ///
    /// # Errors
    /// As [`Minimal::state_fixed_points`] and [`Minimal::covariance_fixed_points`].
    pub fn analyze(&self, rho: f64) -> Result<Analysis> {
        let fps = self.state_fixed_points()?;
        let s = *fps.iter().find(|f| f.reached_from_zero).unwrap_or(&fps[0]);
        let gaps = self.open_gate_gaps(s.big_q)?;
        let (chi_q, xi_q, chi_1, xi_1) = match gaps {
            Some(g) => (
                1.0 - g.chi_q,
                timescale_from_gap(g.chi_q),
                1.0 - g.chi_1,
                timescale_from_gap(g.chi_1),
            ),
            None => {
                let chi_1 = self.chi_1(s.big_q)?;
                (s.chi_q, timescale(s.chi_q), chi_1, timescale(chi_1))
            }
        };
        let mut notes = Vec::new();
        let shut = gaps.filter(|g| g.one_minus_u2 < SHUT_MEMORY);
        if let Some(g) = shut {
            notes.push(shut_note(g.one_minus_u2));
        }
        let cfps = if s.big_q > 0.0 && shut.is_none() {
            self.covariance_fixed_points(s.big_q, rho)?
        } else {
            Vec::new()
        };
        let stable: Vec<&CovarianceFixedPoint> = cfps.iter().filter(|f| f.stable).collect();
        let pick = match stable.len() {
            0 => None,
            1 => Some(*stable[0]),
            _ => {
                // Iterate the C-map from C = 0 at Q* and take the nearest stable root.
                let p = &self.p;
                let sw2 = p.sigma_w() * p.sigma_w();
                let q = self.gate_variance(s.big_q);
                let step = |big_c: f64| {
                    let c = ((sw2 * big_c
                        + p.sigma_v() * p.sigma_v() * rho * p.r()
                        + p.sigma_b() * p.sigma_b())
                        / q)
                        .clamp(-1.0, 1.0);
                    self.covariance_step(q, c, big_c, rho)
                };
                let big_c = iterate(step, 0.0, &self.solver.correlation)?.x;
                stable
                    .iter()
                    .min_by(|a, b| (a.big_c - big_c).abs().total_cmp(&(b.big_c - big_c).abs()))
                    .map(|f| **f)
            }
        };
        let residual = cfps.iter().map(|f| f.residual).fold(s.residual, f64::max);
        let iterations = s.iterations + cfps.iter().map(|f| f.iterations).sum::<usize>();
        Ok(Analysis {
            summary: Summary {
                q_star: s.q,
                big_q_star: s.big_q,
                c_star: pick.map(|f| f.c),
                chi_q,
                chi_c: pick.map(|f| f.chi_c),
                chi_1,
                xi_q,
                xi_c: pick.and_then(|f| f.xi_c),
                xi_1,
                phase: Phase::from_chi1(chi_1),
            },
            residual,
            iterations,
            fixed_points: FixedPoints::Minimal {
                fixed_points: fps,
                covariance_fixed_points: cfps,
                notes,
            },
        })
    }

    /// [`Minimal::analyze`]'s headline numbers, computed for speed (phase diagrams): the
    /// state fixed point is the first sign change of the fixed-point condition on a geometric
    /// grid from `Q = 0` (the root the dynamics from `h^0 = 0` reach when the state map is
    /// increasing, which [`Minimal::analyze`] verifies), refined by Brent's method; `c*` is
    /// the unique stable covariance fixed point. Falls back to [`Minimal::analyze`] when
    /// several are stable or no sign change is found.
    ///
    /// # Errors
    /// As [`Minimal::analyze`].
    pub fn summary(&self, rho: f64) -> Result<Summary> {
        if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
            return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
        }
        let r = self.p.r();
        let f = |big_q: f64| self.state_condition(big_q);
        // Below the first root the iteration from Q = 0 climbs monotonically, so a few
        // iterates are lower bounds; scan upward from there on a grid fine enough (ratio
        // 10^{1/8}) to separate close roots (the bistable pair of the tests is 1.6 apart).
        let mut start = 0.0;
        for _ in 0..3 {
            start = self.state_map(start)?.1;
        }
        let (mut lo, mut flo) = (start, f(start)?);
        let mut root = None;
        if flo <= 0.0 {
            // Numerically at the root already (fast gates): refine on [0, start].
            let f0 = f(0.0)?;
            root = Some(brent_with(f, 0.0, start, f0, flo, &self.solver.brent(0.0))?);
        } else {
            let mut x = (start * 10f64.powf(0.125)).max(r * 1e-10);
            while x <= r {
                let fx = f(x)?;
                if fx <= 0.0 {
                    root = Some(brent_with(f, lo, x, flo, fx, &self.solver.brent(0.0))?);
                    break;
                }
                lo = x;
                flo = fx;
                x *= 10f64.powf(0.125);
            }
            if root.is_none() {
                let fx = f(r)?;
                if fx <= 0.0 {
                    root = Some(brent_with(f, lo, r, flo, fx, &self.solver.brent(0.0))?);
                }
            }
        }
        let Some(root) = root else {
            return Ok(self.analyze(rho)?.summary);
        };
        let big_q = root.x;
        // An open gate needs the slopes' gaps and may leave c* unresolved: the full analysis.
        if self.open_gate_gaps(big_q)?.is_some() {
            return Ok(self.analyze(rho)?.summary);
        }
        let chi_q = self.state_map_slope(big_q)?;
        let chi_1 = self.chi_1(big_q)?;
        let (c_star, chi_c) = if rho == 1.0 && chi_1 < 1.0 {
            (Some(1.0), Some(chi_1))
        } else {
            match self.fast_c_star(big_q, rho, chi_1)? {
                Some((c, chi)) => (Some(c), Some(chi)),
                None => return Ok(self.analyze(rho)?.summary),
            }
        };
        Ok(Summary::from_slopes(
            (self.gate_variance(big_q), big_q),
            c_star,
            chi_q,
            chi_c,
            chi_1,
        ))
    }
}

impl Minimal {
    /// `(c*, χ_C)` of the single sign change of the `C`-map condition (see
    /// [`Minimal::covariance_fixed_points`]) on a coarse grid, with a Hermite expansion
    /// grown until its truncation bound at the root is below 1e-13; `None` to fall back.
    fn fast_c_star(&self, big_q: f64, rho: f64, chi_1: f64) -> Result<Option<(f64, f64)>> {
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let q = self.gate_variance(big_q);
        let n = self.normal(q)?;
        let identical = rho == 1.0;
        let c_of = |big_c: f64| -> f64 {
            ((sw2 * big_c + p.sigma_v() * p.sigma_v() * rho * p.r() + p.sigma_b() * p.sigma_b())
                / q)
                .clamp(-1.0, 1.0)
        };
        let mut terms = 24;
        loop {
            let Ok(e) = HermiteExpansion::new(&self.u, &n, terms) else {
                return Ok(None);
            };
            let a0 = e.coefficients[0];
            // (value, truncation bound) of the condition at C.
            let h = |big_c: f64| -> (f64, f64) {
                let c = c_of(big_c);
                let (uu, uu_err) = e.kernel(&e, c);
                if identical {
                    if big_c >= big_q {
                        return (chi_1 - 1.0, 0.0);
                    }
                    let (d, d_err) = e.gap_over_one_minus_c(c);
                    let k = sw2 * (big_q + p.r()) / q;
                    (uu - 1.0 + k * d, uu_err + k * d_err)
                } else {
                    let g = uu * big_c + (1.0 - 2.0 * a0 + uu) * rho * p.r();
                    (g - big_c, uu_err * (big_c.abs() + rho.abs() * p.r()))
                }
            };
            let grid: Vec<f64> = [-1.0, -0.5, 0.0, 0.5, 0.9, 0.99, 0.999, 1.0]
                .iter()
                .map(|t| t * big_q)
                .collect();
            let vals: Vec<f64> = grid.iter().map(|&x| h(x).0).collect();
            let changes: Vec<usize> = (0..grid.len() - 1)
                .filter(|&i| (vals[i] > 0.0) != (vals[i + 1] > 0.0))
                .collect();
            if changes.len() != 1 {
                return Ok(None);
            }
            let i = changes[0];
            let r = brent_with(
                |x| Ok(h(x).0),
                grid[i],
                grid[i + 1],
                vals[i],
                vals[i + 1],
                &self.solver.brent(1e-15 * big_q),
            )?;
            let bound = h(r.x).1;
            if bound <= 1e-13 {
                let c = c_of(r.x);
                let uu = e.kernel(&e, c).0;
                let chi = uu + sw2 * e.kernel_slope(&e, c) / q * (r.x + rho * p.r());
                if chi.abs() >= 1.0 {
                    return Ok(None);
                }
                return Ok(Some((r.x / big_q, chi)));
            }
            if terms >= 4096 {
                return Ok(None);
            }
            terms *= 4;
        }
    }
}

/// The gate kernel `E[u_a u_b]` at gate variance `q` as a function of the gate correlation:
/// from the Hermite expansion of σ when it converges (`O(K)` per correlation, the gap
/// without cancellation), otherwise from the expectation engine (large variances, where the
/// expansion would need millions of terms; the saturation method makes each call cheap).
///
/// With the expansion `E[u_a u_b] = a_0² + T(c)`, `T(c) = Σ_{k≥1} a_k² c^k`, and
/// `a_0 = 1 − E[1 − u]` with `E[1 − u]` to relative accuracy ((G.15)), the two quantities the
/// `C`-map needs are formed without cancellation even when the gate is nearly open:
/// `1 − E[u_a u_b] = E[1−u](2 − E[1−u]) − T(c)` and `E[(1−u_a)(1−u_b)] = E[1−u]² + T(c)` (M.10).
enum GateKernel {
    /// The expansion at gate variance `q`, and `E[1 − u]` there.
    Hermite(HermiteExpansion, f64, f64),
    Engine {
        n: Normal,
        /// `E[u²]`, `E[σ'²]` at `n`.
        u2: f64,
        du2: f64,
    },
}

impl GateKernel {
    fn new(m: &Minimal, q: f64) -> Result<GateKernel> {
        let n = m.normal(q)?;
        if let Ok(e) = HermiteExpansion::with_tail_below(&m.u, &n, 1e-16, 8192)
            && e.tail <= 1e-12 * e.norm2
        {
            let t = logistic_moment(n.mean, q, 0, 1, 0)?.to_f64();
            return Ok(GateKernel::Hermite(e, q, t));
        }
        Ok(GateKernel::Engine {
            n,
            u2: m.eng.expect(&m.u2, &n)?.value,
            du2: m.eng.expect(&m.du2, &n)?.value,
        })
    }

    fn bivariate(n: &Normal, c: f64) -> Result<BivariateNormal> {
        BivariateNormal::equal(n.mean, n.var, c)
    }

    /// `T(c) = Σ_{k≥1} a_k² c^k` of an expansion.
    fn tail(e: &HermiteExpansion, c: f64) -> f64 {
        let mut v = 0.0;
        let mut ck = 1.0;
        for a in &e.coefficients[1..] {
            ck *= c;
            v += a * a * ck;
        }
        v
    }

    /// `E[u_a u_b]` at correlation `c`.
    fn uu(&self, m: &Minimal, c: f64) -> Result<f64> {
        match self {
            GateKernel::Hermite(e, ..) => Ok(e.kernel(e, c).0),
            GateKernel::Engine { n, .. } => {
                Ok(m.eng.expect2(&m.u, &m.u, &Self::bivariate(n, c)?)?.value)
            }
        }
    }

    /// `1 − E[u_a u_b]` at correlation `c` (see the type's docs).
    fn one_minus_uu(&self, m: &Minimal, c: f64) -> Result<f64> {
        match self {
            GateKernel::Hermite(e, _, t) => Ok(t * (2.0 - t) - Self::tail(e, c)),
            GateKernel::Engine { .. } => Ok(1.0 - self.uu(m, c)?),
        }
    }

    /// `E[(1 − u_a)(1 − u_b)]` at correlation `c` (see the type's docs).
    fn vv(&self, m: &Minimal, c: f64) -> Result<f64> {
        match self {
            GateKernel::Hermite(e, _, t) => Ok(t * t + Self::tail(e, c)),
            GateKernel::Engine { n, .. } => Ok(m
                .eng
                .expect2(&m.one_minus_u, &m.one_minus_u, &Self::bivariate(n, c)?)?
                .value),
        }
    }

    /// `D(c)/(1 − c)` with the gap `D(c) = E[u²] − E[u_a u_b]` (`q E[σ'²]` at `c = 1`).
    fn gap_over_one_minus_c(&self, m: &Minimal, c: f64) -> Result<f64> {
        match self {
            GateKernel::Hermite(e, ..) => Ok(e.gap_over_one_minus_c(c).0),
            GateKernel::Engine { n, u2, du2 } => {
                if c >= 1.0 {
                    Ok(n.var * du2)
                } else {
                    Ok((u2 - self.uu(m, c)?) / (1.0 - c))
                }
            }
        }
    }

    /// Whether `D(c)` is resolved: always with the expansion; with the engine when the
    /// difference `E[u²] − E[u_a u_b]` is at least 1e4 times its rounding error.
    fn gap_resolved(&self, m: &Minimal, c: f64) -> Result<bool> {
        match self {
            GateKernel::Hermite(..) => Ok(true),
            GateKernel::Engine { n, u2, .. } => {
                let e = m.eng.expect2(&m.u, &m.u, &Self::bivariate(n, c)?)?;
                let noise = e.error_estimate + 4.0 * f64::EPSILON * u2;
                Ok(u2 - e.value > 1e4 * noise)
            }
        }
    }

    /// `E[σ'(e_a) σ'(e_b)]` at correlation `c` (the kernel's slope over `q`, by Price's
    /// theorem).
    fn slope_over_q(&self, m: &Minimal, c: f64) -> Result<f64> {
        match self {
            GateKernel::Hermite(e, q, _) => Ok(e.kernel_slope(e, c) / q),
            GateKernel::Engine { n, .. } => {
                let du = Fun::dphi(&Builtin::Sigmoid.arc());
                Ok(m.eng.expect2(&du, &du, &Self::bivariate(n, c)?)?.value)
            }
        }
    }
}

impl MeanField for Minimal {
    fn cell(&self) -> Cell {
        Cell::Minimal
    }
    fn params(&self) -> &CellParams {
        &self.p
    }
    fn trajectory(&self, rho: &RhoSchedule) -> Result<Trajectory> {
        Minimal::trajectory(self, rho)
    }
    fn analyze(&self, rho: f64) -> Result<Analysis> {
        Minimal::analyze(self, rho)
    }
    fn summary(&self, rho: f64) -> Result<Summary> {
        Minimal::summary(self, rho)
    }
    fn divergence_reason(&self) -> String {
        Minimal::divergence_reason(self)
    }
}
