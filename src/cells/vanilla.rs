//! The vanilla RNN `e^t = W h^{t−1} + V x^t + b`, `h^t = φ(e^t)`, `h^0 = 0`: mean-field
//! maps, trajectories, fixed points, slopes and timescales.
//!
//! Conventions (see `theory/02-vanilla-rnn.md`): `W_ij ~ N(0, σ_w²/N)` (or `σ_w` times a
//! Haar orthogonal matrix), `V_ij ~ N(0, σ_v²/N_in)`, `b_i ~ N(μ_b, σ_b²)`, inputs with
//! per-coordinate second moment `R = ‖x‖²/N_in` and, for two sequences, per-step correlation
//! `ρ^t`. In the wide limit the pre-activations of a unit are Gaussian with mean `μ_b` and
//!
//! - `q^t = σ_w² Q^{t−1} + σ_v² R + σ_b²`, `Q^t = E[φ(μ_b + √q^t z)²]`, `Q^0 = 0`  (V.1)
//! - `q_ab^t = σ_w² C^{t−1} + σ_v² ρ^t R + σ_b²`, `C^t = E[φ(e_a) φ(e_b)]`,
//!   `c^t = q_ab^t / q^t`  (V.2)
//!
//! These same-time maps are exact at infinite width for tied weights as well (a unit's
//! state depends only on its current pre-activation); `tests/vanilla_simulation.rs` checks
//! them against finite-width simulation.

use std::sync::Arc;

use serde::Serialize;

use super::SolverParams;
use super::{
    Analysis, Cell, CellParams, FixedPoints, MeanField, RhoSchedule, Summary, Trajectory,
    log_linear_grid,
};
use crate::activation::{Activation, Builtin, Smoothness};
use crate::error::{Error, Result};
use crate::expect::{BivariateNormal, Fun, HermiteExpansion, Integrator, Normal};
use crate::roots::{Root, brent_with, iterate, roots_on_grid_with};

/// A fixed point `q*` of the variance map (V.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VarianceFixedPoint {
    /// `q*`.
    pub q: f64,
    /// `Q* = E[φ²]` at `q*`.
    #[serde(rename = "Q")]
    pub big_q: f64,
    /// Slope `χ_q = V'(q*)`.
    pub chi_q: f64,
    /// `|χ_q| < 1`.
    pub stable: bool,
    /// The fixed point the dynamics from `h^0 = 0` converge to.
    pub reached_from_zero: bool,
    /// `|V(q*) − q*|`.
    pub residual: f64,
    /// Map evaluations spent refining it.
    pub iterations: usize,
}

/// A fixed point `c*` of the correlation map (V.2) at `q*`, constant `ρ`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CorrelationFixedPoint {
    /// `c*`.
    pub c: f64,
    /// Slope `χ_c = σ_w² E[φ'(e_a) φ'(e_b)]` at `c*`.
    pub chi_c: f64,
    /// `|χ_c| < 1`.
    pub stable: bool,
    /// `|M(c*) − c*|`.
    pub residual: f64,
    /// Map evaluations spent refining it.
    pub iterations: usize,
}

/// The vanilla RNN's mean-field theory for one activation and parameter set.
#[derive(Debug, Clone)]
pub struct Vanilla {
    act: Arc<dyn Activation>,
    p: CellParams,
    eng: Integrator,
    phi: Fun,
    phi2: Fun,
    dphi: Fun,
    dphi2: Fun,
    phi_ddphi: Fun,
    /// `(u − μ_b) φ(u) φ'(u)` for the Stein form of `V'` (kinked activations).
    stein: Fun,
    piecewise: bool,
    solver: SolverParams,
}

impl Vanilla {
    /// The theory for activation `act` and parameters `p`.
    pub fn new(act: Arc<dyn Activation>, p: CellParams) -> Vanilla {
        let phi = Fun::phi(&act);
        let dphi = Fun::dphi(&act);
        let lin = Builtin::Linear.arc();
        let stein = &(&phi * &dphi) * &Fun::phi(&lin).compose_affine(-p.mu_b(), 1.0);
        Vanilla {
            phi2: phi.powi(2),
            dphi2: dphi.powi(2),
            phi_ddphi: &phi * &Fun::ddphi(&act),
            piecewise: phi.to_piecewise().is_some(),
            stein,
            phi,
            dphi,
            act,
            p,
            eng: Integrator::default(),
            solver: SolverParams::default(),
        }
    }

    /// With a built-in activation.
    pub fn with_builtin(b: Builtin, p: CellParams) -> Vanilla {
        Vanilla::new(b.arc(), p)
    }

    /// Uses `eng` for every Gaussian expectation (e.g. [`Strategy::Quadrature`] to bypass
    /// closed forms, for cross-checks).
    ///
    /// [`Strategy::Quadrature`]: crate::expect::Strategy::Quadrature
    #[must_use]
    pub fn with_integrator(mut self, eng: Integrator) -> Vanilla {
        self.eng = eng;
        self
    }

    /// Uses `solver` for the fixed-point solvers (Brent caps, the iterations that decide which
    /// fixed point is reached); [`SolverParams::default`] otherwise.
    #[must_use]
    pub fn with_solver(mut self, solver: SolverParams) -> Vanilla {
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

    /// The activation.
    pub fn activation(&self) -> &Arc<dyn Activation> {
        &self.act
    }

    /// `σ_v² R + σ_b²`: the part of `q` that does not come through `W`.
    pub fn drive(&self) -> f64 {
        self.p.drive()
    }

    fn normal(&self, q: f64) -> Result<Normal> {
        Normal::new(self.p.mu_b(), q)
    }

    /// `Q(q) = E[φ(μ_b + √q z)²]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `q < 0`; engine errors.
    pub fn hidden_second_moment(&self, q: f64) -> Result<f64> {
        Ok(self.eng.expect(&self.phi2, &self.normal(q)?)?.value)
    }

    /// The variance map (V.1): `V(q) = σ_w² Q(q) + σ_v² R + σ_b²`.
    ///
    /// # Errors
    /// As [`Vanilla::hidden_second_moment`].
    pub fn variance_map(&self, q: f64) -> Result<f64> {
        Ok(self.p.sigma_w() * self.p.sigma_w() * self.hidden_second_moment(q)? + self.drive())
    }

    /// Slope of the variance map, `V'(q) = σ_w² E[φ'² + φ φ'']` (V.3); for kinked
    /// activations, and for every activation at `q >= 1`, in the Stein form
    /// `σ_w² E[(u − μ_b) φ φ'] / q`, which needs no Dirac terms and does not cancel at large
    /// `q`.
    ///
    /// # Errors
    /// As [`Vanilla::hidden_second_moment`].
    pub fn variance_map_slope(&self, q: f64) -> Result<f64> {
        let sw2 = self.p.sigma_w2();
        // The Stein form also from q = 1 on: E[φ'²] and E[φφ''] are each O(q^{-1/2}) at large
        // q and cancel to O(q^{-3/2}); their absolute errors times σ_w² ~ q made χ_q wrong
        // (negative at σ_w = 1e10, ~1e134 at 1e150). The Stein integrand is one bump.
        if self.piecewise || q >= 1.0 {
            let q = q.max(1e-300);
            Ok(sw2 * self.eng.expect(&self.stein, &self.normal(q)?)?.value / q)
        } else {
            let n = self.normal(q)?;
            let a = self.eng.expect(&self.dphi2, &n)?.value;
            let b = self.eng.expect(&self.phi_ddphi, &n)?.value;
            Ok(sw2 * (a + b))
        }
    }

    /// `χ₁(q) = σ_w² E[φ'(μ_b + √q z)²]` (V.5): the slope of the correlation map at `c = 1`
    /// and the mean squared singular value of one step's Jacobian.
    ///
    /// # Errors
    /// As [`Vanilla::hidden_second_moment`].
    pub fn chi_1(&self, q: f64) -> Result<f64> {
        Ok(self.p.sigma_w()
            * self.p.sigma_w()
            * self.eng.expect(&self.dphi2, &self.normal(q)?)?.value)
    }

    /// `C(q, c) = E[φ(e_a) φ(e_b)]` for `e_a, e_b ~ N(μ_b, q)` with correlation `c`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `q < 0` or `|c| > 1`; engine errors.
    pub fn two_point(&self, q: f64, c: f64) -> Result<f64> {
        let b = BivariateNormal::equal(self.p.mu_b(), q, c)?;
        Ok(self.eng.expect2(&self.phi, &self.phi, &b)?.value)
    }

    /// The covariance map (V.2): `q_ab' = σ_w² C(q, c) + σ_v² ρ R + σ_b²`.
    ///
    /// # Errors
    /// As [`Vanilla::two_point`].
    pub fn covariance_map(&self, q: f64, c: f64, rho: f64) -> Result<f64> {
        let p = &self.p;
        Ok(p.sigma_w() * p.sigma_w() * self.two_point(q, c)?
            + p.sigma_v() * p.sigma_v() * rho * p.r()
            + p.sigma_b() * p.sigma_b())
    }

    /// `χ_c(q, c) = σ_w² E[φ'(e_a) φ'(e_b)]` (V.4): the slope of the correlation map.
    ///
    /// # Errors
    /// As [`Vanilla::two_point`].
    pub fn chi_c(&self, q: f64, c: f64) -> Result<f64> {
        let b = BivariateNormal::equal(self.p.mu_b(), q, c)?;
        Ok(self.p.sigma_w()
            * self.p.sigma_w()
            * self.eng.expect2(&self.dphi, &self.dphi, &b)?.value)
    }

    /// Mean-field trajectory of two sequences with input correlations `ρ^t` (V.1)–(V.2),
    /// from `h^0 = 0`.
    ///
    /// # Errors
    /// [`Error::Diverged`] at the first step whose `q` (or `Q`) leaves the range of double
    /// precision, with [`Vanilla::divergence_reason`] (ReLU with `σ_w > √2`, linear with
    /// `σ_w > 1`, or inputs too large); engine errors.
    pub fn trajectory(&self, rho: &RhoSchedule) -> Result<Trajectory> {
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let sv2r = p.sigma_v() * p.sigma_v() * p.r();
        let sb2 = p.sigma_b() * p.sigma_b();
        let n = rho.len();
        let mut tr = Trajectory::with_capacity(n);
        let (mut big_q, mut big_c) = (0.0, 0.0); // Q^0 = C^0 = 0: h^0 = 0
        for (t, &r) in rho.values().iter().enumerate() {
            let q = sw2 * big_q + sv2r + sb2;
            let q_ab = sw2 * big_c + sv2r * r + sb2;
            let last_q = tr.q.last().copied();
            let diverged = |quantity: &'static str, value: f64| Error::Diverged {
                quantity,
                step: t + 1,
                value,
                reason: match last_q {
                    Some(prev) => {
                        format!("{} (q = {prev:e} at step {t})", self.divergence_reason())
                    }
                    None => self.divergence_reason(),
                },
            };
            if !q.is_finite() {
                return Err(diverged("q", q));
            }
            let c = if q > 0.0 {
                (q_ab / q).clamp(-1.0, 1.0)
            } else {
                1.0
            };
            let overflow = |e: Error| match e {
                Error::Overflow { .. } => diverged("Q", f64::INFINITY),
                e => e,
            };
            big_q = self.hidden_second_moment(q).map_err(overflow)?;
            big_c = if q > 0.0 {
                self.two_point(q, c).map_err(overflow)?
            } else {
                big_q
            };
            if !big_q.is_finite() {
                return Err(diverged("Q", big_q));
            }
            tr.q.push(q);
            tr.big_q.push(big_q);
            tr.q_ab.push(q_ab);
            tr.big_c.push(big_c);
            tr.c.push(c);
            crate::budget::tick(1);
        }
        Ok(tr)
    }

    /// `κ = lim_{q→∞} E[φ(μ_b + √q z)²] / q`: the variance map grows like `σ_w² κ q` at large
    /// `q` (ReLU ½, linear 1, bounded activations 0), so it is unbounded for `σ_w² κ > 1`.
    /// Evaluated at `q = 1e200` and mean 0, where the finite-`q` corrections are far below
    /// rounding for the built-in activations.
    ///
    /// # Errors
    /// Engine errors.
    pub fn variance_growth(&self) -> Result<f64> {
        if self.act.sup_abs().is_some() {
            return Ok(0.0);
        }
        // At mean 0: the limit does not depend on μ_b for φ of at most linear growth, and a
        // large μ_b² would otherwise dominate E[φ²]/q at any representable q.
        const Q: f64 = 1e200;
        Ok(self.eng.expect(&self.phi2, &Normal::new(0.0, Q)?)?.value / Q)
    }

    /// Why a trajectory or simulation of this network can leave the range of double
    /// precision, in words and numbers: the map's growth factor `σ_w² κ` at large `q` and the
    /// threshold `σ_w = 1/√κ` ([`Vanilla::variance_growth`]), or, when the map is bounded,
    /// the input scales.
    pub fn divergence_reason(&self) -> String {
        let p = &self.p;
        let sw2 = p.sigma_w2();
        let drive = self.drive();
        let name = self.act.name();
        let kappa = self.variance_growth().unwrap_or(f64::NAN);
        let g = sw2 * kappa;
        if g > 1.0 + 1e-12 {
            format!(
                "the mean-field variance map is unbounded for {name} with σ_w > {:.6} \
                 (here σ_w = {}): at large q each step multiplies q by σ_w² E[φ²]/q → {g:.6} \
                 > 1, so q grows without bound",
                1.0 / kappa.sqrt(),
                p.sigma_w()
            )
        } else if g >= 1.0 - 1e-12 && drive == 0.0 && p.mu_b() == 0.0 {
            format!(
                "the mean-field variance map of {name} is marginal at σ_w = {}: with no input \
                 or bias drive V(q) = q, so every q is a fixed point and none is isolated",
                p.sigma_w()
            )
        } else if g >= 1.0 - 1e-12 {
            format!(
                "the mean-field variance map of {name} is marginal at σ_w = {}: V(q) − q stays \
                 positive (σ_v² R + σ_b² = {drive:e}, μ_b = {}), so q grows without bound",
                p.sigma_w(),
                p.mu_b()
            )
        } else {
            format!(
                "the mean-field variance map of {name} is bounded here (growth factor \
                 σ_w² E[φ²]/q → {g:.6} < 1 at large q); the overflow comes from the scales \
                 σ_w² = {sw2:e}, σ_v² R + σ_b² = {drive:e}, too large for sums of squares in \
                 double precision (largest 1.8e308)"
            )
        }
    }

    /// Every fixed point of the variance map in `[0, ∞)`, with slopes, stability and which
    /// one the dynamics from `h^0 = 0` reach.
    ///
    /// # Errors
    /// [`Error::NoFixedPoint`] when the map has no finite fixed point: unbounded φ with
    /// `σ_w² κ >= 1` ([`Vanilla::variance_growth`]; ReLU with `σ_w² >= 2`, linear with
    /// `σ_w >= 1`), with [`Vanilla::divergence_reason`]; engine errors.
    pub fn variance_fixed_points(&self) -> Result<Vec<VarianceFixedPoint>> {
        let f = |q: f64| -> Result<f64> { Ok(self.variance_map(q)? - q) };
        // Upper end of the search: V is bounded by σ_w² sup φ² + drive for bounded φ; for
        // unbounded φ, grow q until V(q) < q with slope below 1 (no root beyond).
        let q_hi = match self.act.sup_abs() {
            // A relative margin: V can equal its bound to rounding (a saturated φ, e.g.
            // sigmoid at μ_b = 1e6), which must still count as a sign change.
            Some(s) => ((self.p.sigma_w() * s).powi(2) + self.drive()) * (1.0 + 1e-9) + 1e-300,
            None => {
                // V(q) ~ σ_w² κ q at large q: no finite fixed point for σ_w² κ >= 1; below
                // that V(q) < q eventually, however far out (q* ≈ 2μ_b² for ReLU at
                // μ_b = 1e6), so the search runs to the end of the double range.
                let growth = self.p.sigma_w2() * self.variance_growth()?;
                if growth >= 1.0 - 1e-12 {
                    return Err(Error::NoFixedPoint {
                        map: "variance map",
                        reason: self.divergence_reason(),
                    });
                }
                let mut q = (4.0 * self.variance_map(0.0)?).max(1.0);
                loop {
                    if f(q)? < 0.0 && self.variance_map_slope(q)? < 1.0 {
                        break q;
                    }
                    q *= 4.0;
                    if q > 1e300 {
                        return Err(Error::NoFixedPoint {
                            map: "variance map",
                            reason: format!(
                                "V(q) > q or V'(q) >= 1 for every q up to {q:e} although the \
                                 growth factor σ_w² E[φ²]/q → {growth:.6} < 1"
                            ),
                        });
                    }
                }
            }
        };
        let grid = log_linear_grid(q_hi, 12.0, 80, 64);
        let roots: Vec<Root> = roots_on_grid_with(f, &grid, &self.solver.brent(0.0))?;
        if roots.is_empty() {
            return Err(Error::NoFixedPoint {
                map: "variance map",
                reason: format!("no sign change of V(q) − q on [0, {q_hi:e}]"),
            });
        }
        // Where do the dynamics go? q¹ = σ_v² R + σ_b² (Q⁰ = 0), then q^{t+1} = V(q^t).
        let q1 = self.drive();
        let reached = self.reached(&roots, q1)?;
        let mut out = Vec::new();
        for (i, r) in roots.iter().enumerate() {
            let chi_q = self.variance_map_slope(r.x)?;
            out.push(VarianceFixedPoint {
                q: r.x,
                big_q: self.hidden_second_moment(r.x)?,
                chi_q,
                stable: chi_q.abs() < 1.0,
                reached_from_zero: Some(i) == reached,
                residual: (self.variance_map(r.x)? - r.x).abs(),
                iterations: r.iterations,
            });
        }
        Ok(out)
    }

    /// Index of the root the iteration `q ← V(q)` from `q1` converges to.
    fn reached(&self, roots: &[Root], q1: f64) -> Result<Option<usize>> {
        if roots.len() == 1 {
            return Ok(Some(0));
        }
        // V is increasing for the activations of interest (E[φ²] grows with q); then the
        // iteration moves monotonically to the first root in the direction of V(q1) − q1.
        let v1 = self.variance_map(q1)? - q1;
        let idx = if v1 > 0.0 {
            roots.iter().position(|r| r.x >= q1)
        } else if v1 < 0.0 {
            roots.iter().rposition(|r| r.x <= q1)
        } else {
            roots.iter().position(|r| r.x == q1)
        };
        // Confirm by iterating (monotonicity is not guaranteed for μ_b ≠ 0).
        // An unconverged iteration (the cap of `solver.reach`) still points into the basin it
        // is in; its last iterate is used either way.
        let q = iterate(|q| self.variance_map(q), q1, &self.solver.reach)?.x;
        let nearest = roots
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1.x - q).abs().total_cmp(&(b.1.x - q).abs()))
            .map(|(i, _)| i);
        Ok(if idx == nearest { idx } else { nearest })
    }

    /// Every fixed point of the correlation map `M(c) = [σ_w² C(q*, c) + σ_v² ρ R + σ_b²]/q*`
    /// in `[−1, 1]` for constant `ρ`, with slopes and stability.
    ///
    /// Solved in the form `(1 − c) − [σ_w² D(c) + σ_v² R (1 − ρ)]/q* = 0` with the gap
    /// `D(c) = Q* − C(c) >= 0` (V.6), which does not cancel as `c → 1`; for `ρ = 1` the
    /// root `c = 1` is divided out. For smooth φ, `D` comes from the Hermite expansion.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `q* <= 0` or `ρ ∉ [−1, 1]`; engine errors.
    pub fn correlation_fixed_points(
        &self,
        q_star: f64,
        rho: f64,
    ) -> Result<Vec<CorrelationFixedPoint>> {
        if q_star.is_nan() || q_star <= 0.0 || !q_star.is_finite() {
            return Err(Error::invalid("q_star", q_star, "a finite variance > 0"));
        }
        if !(-1.0..=1.0).contains(&rho) {
            return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
        }
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let noise = p.sigma_v() * p.sigma_v() * p.r() * (1.0 - rho);
        let gap = GapSource::new(self, q_star)?;
        // ρ = 1: H(c) = 1 − σ_w² D(c) / ((1 − c) q*); otherwise G(c) = (1−c) − (σ_w² D + noise)/q*.
        let identical = rho == 1.0;
        let g = |c: f64| -> Result<f64> {
            if identical {
                Ok(1.0 - sw2 * gap.over_one_minus_c(c)? / q_star)
            } else {
                Ok((1.0 - c) - (sw2 * gap.gap(c)? + noise) / q_star)
            }
        };
        let mut grid: Vec<f64> = (0..=40).map(|i| -1.0 + f64::from(i) / 20.0).collect();
        for k in 1..=12 {
            let c = 1.0 - 10f64.powi(-k);
            // From the engine the gap is a difference Q* − C(c): keep only points where it
            // is resolved, so that rounding noise cannot make sign changes near c = 1.
            if !gap.resolved(c)? {
                break;
            }
            grid.push(c);
        }
        if identical {
            grid.retain(|&c| c < 1.0);
        }
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        let mut roots = roots_on_grid_with(g, &grid, &self.solver.brent(1e-15))?;
        if identical {
            roots.push(Root::exact(1.0));
        }
        let mut out = Vec::new();
        for r in roots {
            let chi = if r.x == 1.0 {
                self.chi_1(q_star)?
            } else {
                sw2 * gap.slope(r.x)? / q_star
            };
            let m = 1.0 - (sw2 * gap.gap(r.x)? + noise) / q_star; // M(c*)
            out.push(CorrelationFixedPoint {
                c: r.x,
                chi_c: chi,
                stable: chi.abs() < 1.0,
                residual: (m - r.x).abs(),
                iterations: r.iterations,
            });
        }
        Ok(out)
    }

    /// Fixed points, slopes, timescales and phase at constant input correlation `ρ`.
    ///
    /// The reported `q*` is the variance fixed point reached from `h^0 = 0`; the reported
    /// `c*` the stable correlation fixed point (if several are stable, the one the map
    /// iterated from `c = (σ_v² ρ R + σ_b²)/q*` reaches).
    ///
    /// # Errors
    /// As [`Vanilla::variance_fixed_points`] and [`Vanilla::correlation_fixed_points`].
    pub fn analyze(&self, rho: f64) -> Result<Analysis> {
        let vfps = self.variance_fixed_points()?;
        let v = *vfps
            .iter()
            .find(|f| f.reached_from_zero)
            .unwrap_or(&vfps[0]);
        let chi_1 = self.chi_1(v.q)?;
        let (cfps, c_star, chi_c) = if v.q > 0.0 {
            let cfps = self.correlation_fixed_points(v.q, rho)?;
            let stable: Vec<&CorrelationFixedPoint> = cfps.iter().filter(|f| f.stable).collect();
            let pick = match stable.len() {
                0 => None,
                1 => Some(*stable[0]),
                _ => {
                    let p = &self.p;
                    let mut c = ((p.sigma_v() * p.sigma_v() * rho * p.r()
                        + p.sigma_b() * p.sigma_b())
                        / v.q)
                        .clamp(-1.0, 1.0);
                    c = iterate(
                        |c| Ok((self.covariance_map(v.q, c, rho)? / v.q).clamp(-1.0, 1.0)),
                        c,
                        &self.solver.correlation,
                    )?
                    .x;
                    stable
                        .iter()
                        .min_by(|a, b| (a.c - c).abs().total_cmp(&(b.c - c).abs()))
                        .map(|f| **f)
                }
            };
            (cfps.clone(), pick.map(|f| f.c), pick.map(|f| f.chi_c))
        } else {
            (Vec::new(), None, None)
        };
        let residual = cfps.iter().map(|f| f.residual).fold(v.residual, f64::max);
        let iterations = v.iterations + cfps.iter().map(|f| f.iterations).sum::<usize>();
        Ok(Analysis {
            summary: Summary::from_slopes((v.q, v.big_q), c_star, v.chi_q, chi_c, chi_1),
            residual,
            iterations,
            fixed_points: FixedPoints::Vanilla {
                variance_fixed_points: vfps,
                correlation_fixed_points: cfps,
            },
        })
    }
}

impl MeanField for Vanilla {
    fn cell(&self) -> Cell {
        Cell::Vanilla(self.act.clone())
    }
    fn params(&self) -> &CellParams {
        &self.p
    }
    fn trajectory(&self, rho: &RhoSchedule) -> Result<Trajectory> {
        Vanilla::trajectory(self, rho)
    }
    fn analyze(&self, rho: f64) -> Result<Analysis> {
        Vanilla::analyze(self, rho)
    }
    fn summary(&self, rho: f64) -> Result<Summary> {
        Vanilla::summary(self, rho)
    }
    fn divergence_reason(&self) -> String {
        Vanilla::divergence_reason(self)
    }
}

impl Vanilla {
    /// [`Vanilla::analyze`]'s headline numbers, computed for speed (phase diagrams):
    /// `q*` by Brent's method on the bracket the dynamics from `h^0 = 0` move into; `c*` by
    /// Brent's method on the correlation map with a Hermite expansion whose length is grown
    /// until its truncation bound at `c*` is below `1e-13`; with identical inputs in the
    /// ordered phase `c* = 1` without a solve. Falls back to [`Vanilla::analyze`] whenever a
    /// shortcut's assumption fails (no sign change, non-smooth φ, several candidate roots).
    ///
    /// Unlike [`Vanilla::analyze`] it does not enumerate every fixed point: with several
    /// stable correlation fixed points (not seen for the built-in activations at μ_b = 0)
    /// it reports the one its bracket contains. `tests/vanilla_theory.rs` checks that the two
    /// agree over random parameters.
    ///
    /// # Errors
    /// As [`Vanilla::analyze`].
    pub fn summary(&self, rho: f64) -> Result<Summary> {
        if !(-1.0..=1.0).contains(&rho) || rho.is_nan() {
            return Err(Error::invalid("rho", rho, "a correlation in [-1, 1]"));
        }
        let Some((q, root)) = self.fast_q_star()? else {
            return Ok(self.analyze(rho)?.summary);
        };
        let chi_q = self.variance_map_slope(q)?;
        let chi_1 = self.chi_1(q)?;
        let big_q = self.hidden_second_moment(q)?;
        let _ = root;
        let (c_star, chi_c) = if q == 0.0 {
            (None, None)
        } else if rho == 1.0 && chi_1 < 1.0 {
            (Some(1.0), Some(chi_1))
        } else {
            match self.fast_c_star(q, rho)? {
                Some((c, chi)) => (Some(c), Some(chi)),
                None => return Ok(self.analyze(rho)?.summary),
            }
        };
        Ok(Summary::from_slopes(
            (q, big_q),
            c_star,
            chi_q,
            chi_c,
            chi_1,
        ))
    }

    /// `q*` reached from `q¹ = σ_v² R + σ_b²`: walk geometrically from `q¹` in the direction of
    /// `V(q) − q` to a sign change, then Brent. `None` if no sign change within `1e12`.
    fn fast_q_star(&self) -> Result<Option<(f64, Root)>> {
        let f = |q: f64| -> Result<f64> { Ok(self.variance_map(q)? - q) };
        let q1 = self.drive();
        let f1 = f(q1)?;
        if f1 == 0.0 {
            return Ok(Some((q1, Root::exact(q1))));
        }
        let (mut a, mut fa) = (q1, f1);
        if f1 > 0.0 {
            let mut b = (2.0 * q1).max(1e-3);
            loop {
                let fb = f(b)?;
                if fb <= 0.0 {
                    let r = brent_with(f, a, b, fa, fb, &self.solver.brent(0.0))?;
                    return Ok(Some((r.x, r)));
                }
                a = b;
                fa = fb;
                b *= 2.0;
                if b > 1e12 {
                    return Ok(None);
                }
            }
        } else {
            // Move down towards 0.
            let mut b = 0.5 * q1;
            loop {
                let fb = f(b)?;
                if fb >= 0.0 {
                    let r = brent_with(f, b, a, fb, fa, &self.solver.brent(0.0))?;
                    return Ok(Some((r.x, r)));
                }
                a = b;
                fa = fb;
                if b < 1e-12 * q1 {
                    let f0 = f(0.0)?;
                    if f0 >= 0.0 {
                        let r = brent_with(f, 0.0, a, f0, fa, &self.solver.brent(0.0))?;
                        return Ok(Some((r.x, r)));
                    }
                    return Ok(None);
                }
                b *= 0.5;
            }
        }
    }

    /// `c*` and `χ_c` by Brent's method on the correlation map written through the Hermite
    /// expansion (smooth φ only); `None` to request the full analysis.
    fn fast_c_star(&self, q: f64, rho: f64) -> Result<Option<(f64, f64)>> {
        if self.piecewise || !matches!(self.phi.smoothness(), Smoothness::Analytic { .. }) {
            return Ok(None);
        }
        let p = &self.p;
        let sw2 = p.sigma_w() * p.sigma_w();
        let noise = p.sigma_v() * p.sigma_v() * p.r() * (1.0 - rho);
        let identical = rho == 1.0;
        let n = Normal::new(p.mu_b(), q)?;
        let mut terms = 24;
        loop {
            let Ok(e) = HermiteExpansion::new(&self.phi, &n, terms) else {
                return Ok(None);
            };
            // H(1) = 1 − χ₁ is known exactly; elsewhere the expansion with its tail.
            let chi_1 = if identical { self.chi_1(q)? } else { 0.0 };
            let g = |c: f64| -> Result<f64> {
                Ok(if identical {
                    if c == 1.0 {
                        1.0 - chi_1
                    } else {
                        1.0 - sw2 * e.gap_over_one_minus_c(c).0 / q
                    }
                } else {
                    (1.0 - c) - (sw2 * e.gap(c).0 + noise) / q
                })
            };
            // Bracket: [0, 1] first (the usual case), then [−1, 0].
            let (g0, g1) = (g(0.0)?, g(1.0)?);
            let bracket = if g0 * g1 <= 0.0 {
                Some((0.0, 1.0, g0, g1))
            } else {
                let gm = g(-1.0)?;
                (gm * g0 <= 0.0).then_some((-1.0, 0.0, gm, g0))
            };
            let Some((lo, hi, glo, ghi)) = bracket else {
                return Ok(None);
            };
            let r = brent_with(g, lo, hi, glo, ghi, &self.solver.brent(1e-15))?;
            let c = r.x;
            let bound = sw2 / q
                * if identical {
                    e.gap_over_one_minus_c(c).1
                } else {
                    e.gap(c).1
                };
            if bound <= 1e-13 {
                let chi = sw2 * e.kernel_slope(&e, c) / q;
                return Ok(Some((c, chi)));
            }
            if terms >= 4096 {
                return Ok(None);
            }
            terms *= 4;
        }
    }
}

/// The gap `D(c) = Q* − C(q*, c)` and slope `dC/dc`, from the Hermite expansion when φ is
/// smooth (accurate as `c → 1`), otherwise from the expectation engine.
enum GapSource<'a> {
    Hermite(HermiteExpansion),
    Engine(&'a Vanilla, f64, f64),
}

impl<'a> GapSource<'a> {
    fn new(v: &'a Vanilla, q: f64) -> Result<GapSource<'a>> {
        let smooth = matches!(
            v.phi.smoothness(),
            Smoothness::Analytic { .. } | Smoothness::Polynomial { .. }
        ) && v.phi.to_piecewise().is_none();
        if smooth {
            let n = Normal::new(v.p.mu_b(), q)?;
            if let Ok(e) = HermiteExpansion::with_tail_below(&v.phi, &n, 1e-16, 8192)
                && e.tail <= 1e-12 * e.norm2
            {
                return Ok(GapSource::Hermite(e));
            }
        }
        Ok(GapSource::Engine(v, q, v.hidden_second_moment(q)?))
    }

    /// Whether `D(c)` is resolved: always from the expansion; from the engine when the
    /// difference `Q* − C(c)` is at least 1e4 times its rounding and quadrature error.
    fn resolved(&self, c: f64) -> Result<bool> {
        match self {
            GapSource::Hermite(_) => Ok(true),
            GapSource::Engine(v, q, big_q) => {
                let b = BivariateNormal::equal(v.p.mu_b(), *q, c)?;
                let e = v.eng.expect2(&v.phi, &v.phi, &b)?;
                let noise = e.error_estimate + 4.0 * f64::EPSILON * big_q.abs();
                Ok(big_q - e.value > 1e4 * noise)
            }
        }
    }

    fn gap(&self, c: f64) -> Result<f64> {
        match self {
            GapSource::Hermite(e) => Ok(e.gap(c).0),
            GapSource::Engine(v, q, big_q) => Ok(big_q - v.two_point(*q, c)?),
        }
    }

    fn over_one_minus_c(&self, c: f64) -> Result<f64> {
        match self {
            GapSource::Hermite(e) => Ok(e.gap_over_one_minus_c(c).0),
            GapSource::Engine(v, q, _) => {
                if c == 1.0 {
                    Ok(q * v.eng.expect(&v.dphi2, &v.normal(*q)?)?.value)
                } else {
                    Ok(self.gap(c)? / (1.0 - c))
                }
            }
        }
    }

    /// `dC/dc = q E[φ'(e_a) φ'(e_b)]`.
    fn slope(&self, c: f64) -> Result<f64> {
        match self {
            GapSource::Hermite(e) => Ok(e.kernel_slope(e, c)),
            GapSource::Engine(v, q, _) => {
                let b = BivariateNormal::equal(v.p.mu_b(), *q, c)?;
                Ok(q * v.eng.expect2(&v.dphi, &v.dphi, &b)?.value)
            }
        }
    }
}
