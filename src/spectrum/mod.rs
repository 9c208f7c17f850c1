//! Singular-value spectra of products of random matrices by free probability: the law of the
//! squared singular values of the `T`-step state-to-state Jacobian `J_T = D_T W ⋯ D_1 W` of the
//! vanilla RNN (Pennington, Schoenholz & Ganguli 2017, 2018; `theory/04-spectra.md`).
//!
//! With `D_t² ~` the law of `φ'(e)²` and `W W^T` either `σ_w² I` (scaled orthogonal) or
//! Marchenko–Pastur (Gaussian), the S-transforms multiply:
//! `S_{JJ^T} = S_{D²}^T S_{WW^T}^T`. In terms of the moment generating function
//! `m = M_{JJ^T}(z)` and an auxiliary `ζ` with `M_{D²}(ζ) = m`,
//!
//! - orthogonal: `z = σ_w^{2T} ζ^T m^{T−1} (1+m)^{1−T}`;
//! - Gaussian:   `z = σ_w^{2T} ζ^T m^{T−1} (1+m)`.
//!
//! The density is `ρ(λ) = −Im[(1 + m(λ + i0))/λ]/π`, solved by Newton's method with
//! continuation from large `Im z` (sweeping along `λ` at a moderate height, then descending
//! vertically at each output point: sweeping directly at a tiny height jumps branches).

mod cell;
pub mod gated;
pub mod series;

pub use cell::{CellSpectrum, LawSource, Request, UnitRecursionM1, for_cell, for_cell_each};

use num_complex::Complex64 as C64;
use rayon::prelude::*;
use serde::Serialize;

use crate::activation::{Activation, Deriv};
use crate::cells::WeightLaw;
use crate::error::{Error, Result};
use crate::gauss::special::{norm_interval, norm_pdf};

/// First coefficient of the S-transform series of `W Wᵀ`, `S(m) = σ_w^{-2}(1 + s₁ m + …)`:
/// `−1` for Gaussian `W` (Marchenko–Pastur, `S = σ_w^{-2}/(1+m)`), `0` for orthogonal `W`.
pub fn s1(weights: WeightLaw) -> f64 {
    match weights {
        WeightLaw::Gaussian => -1.0,
        WeightLaw::Orthogonal => 0.0,
    }
}

/// A discrete law for `d = φ'(e)²` (atoms or quadrature nodes with probabilities).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalLaw {
    d: Vec<f64>,
    w: Vec<f64>,
}

impl DiagonalLaw {
    /// Atoms `values` with probabilities `probs` (normalised).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for negative or non-finite entries, or mismatched lengths.
    pub fn atoms(values: Vec<f64>, probs: Vec<f64>) -> Result<DiagonalLaw> {
        if values.len() != probs.len() || values.is_empty() {
            return Err(Error::invalid(
                "atoms",
                values.len() as f64,
                "as many values as probabilities",
            ));
        }
        let total: f64 = probs.iter().sum();
        for (&v, &p) in values.iter().zip(&probs) {
            if !(v.is_finite() && v >= 0.0 && p.is_finite() && p >= 0.0) || total <= 0.0 {
                return Err(Error::invalid(
                    "atoms",
                    v,
                    "non-negative values and probabilities",
                ));
            }
        }
        Ok(DiagonalLaw {
            d: values,
            w: probs.into_iter().map(|p| p / total).collect(),
        })
    }

    /// The law of `φ'(e)²`, `e ~ N(mean, var)`. Piecewise-constant `φ'` (ReLU, hard-tanh,
    /// linear) gives exact atoms; smooth `φ'` is discretised on a fine trapezoid grid in
    /// `z` (step 0.01, `|z| <= 9`, equal values merged), accurate for the Stieltjes transform
    /// away from the real axis, where the solver evaluates it.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite mean or negative variance.
    pub fn of_activation(act: &dyn Activation, mean: f64, var: f64) -> Result<DiagonalLaw> {
        crate::error::finite("mean", mean)?;
        crate::error::non_negative("q", var)?;
        if var == 0.0 {
            let v = act.eval(Deriv::DPhi, mean);
            return DiagonalLaw::atoms(vec![v * v], vec![1.0]);
        }
        let sd = var.sqrt();
        if let Some(p) = act.piecewise(Deriv::DPhi)
            && p.pieces.iter().all(|c| c.len() <= 1)
        {
            let mut values = Vec::new();
            let mut probs = Vec::new();
            for (i, c) in p.pieces.iter().enumerate() {
                let lo = if i == 0 {
                    f64::NEG_INFINITY
                } else {
                    (p.breaks[i - 1] - mean) / sd
                };
                let hi = if i == p.breaks.len() {
                    f64::INFINITY
                } else {
                    (p.breaks[i] - mean) / sd
                };
                let v = c.first().copied().unwrap_or(0.0);
                values.push(v * v);
                probs.push(norm_interval(lo, hi));
            }
            return DiagonalLaw::atoms(values, probs);
        }
        let h = 0.01;
        let n = (9.0 / h) as i64;
        let mut nodes: Vec<(f64, f64)> = (-n..=n)
            .map(|j| {
                let z = j as f64 * h;
                let v = act.eval(Deriv::DPhi, mean + sd * z);
                (v * v, h * norm_pdf(z))
            })
            .collect();
        // Merge exactly equal values (a symmetric law halves the work).
        nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut d: Vec<f64> = Vec::with_capacity(nodes.len());
        let mut w: Vec<f64> = Vec::with_capacity(nodes.len());
        for (v, p) in nodes {
            if d.last() == Some(&v) {
                *w.last_mut().expect("non-empty") += p;
            } else {
                d.push(v);
                w.push(p);
            }
        }
        DiagonalLaw::atoms(d, w)
    }

    /// Equal atoms and probabilities to 1e-13 (relative to the largest atom): laws this close
    /// give spectra equal far below any solver tolerance, so [`ProductSpectrum::along`] merges
    /// them — a trajectory that has converged to its fixed point costs one law.
    pub fn close_to(&self, other: &DiagonalLaw) -> bool {
        let scale = self.max().max(other.max());
        self.d.len() == other.d.len()
            && self
                .d
                .iter()
                .zip(&other.d)
                .all(|(a, b)| (a - b).abs() <= 1e-13 * scale)
            && self
                .w
                .iter()
                .zip(&other.w)
                .all(|(a, b)| (a - b).abs() <= 1e-13)
    }

    /// `μ_k = E[d^k]`.
    pub fn moment(&self, k: i32) -> f64 {
        self.d.iter().zip(&self.w).map(|(d, w)| w * d.powi(k)).sum()
    }

    /// Largest atom.
    pub fn max(&self) -> f64 {
        self.d.iter().copied().fold(0.0, f64::max)
    }

    /// `M(ζ) = E[d/(ζ − d)]` and `M'(ζ) = −E[d/(ζ − d)²]`.
    pub fn stieltjes(&self, zeta: C64) -> (C64, C64) {
        let mut m = C64::new(0.0, 0.0);
        let mut dm = C64::new(0.0, 0.0);
        for (&d, &w) in self.d.iter().zip(&self.w) {
            if d == 0.0 {
                continue;
            }
            let r = (zeta - d).inv();
            let t = r * (w * d);
            m += t;
            dm -= t * r;
        }
        (m, dm)
    }
}

/// The squared singular values of `J_T` from free probability: a product of `T` factors
/// `D_t W`, where the laws of `D_t²` may differ from step to step (a finite trajectory) or all
/// be the fixed-point law.
#[derive(Debug, Clone)]
pub struct ProductSpectrum {
    /// Distinct laws with their multiplicities (order does not matter: S-transforms commute).
    factors: Vec<(DiagonalLaw, usize)>,
    sigma_w2: f64,
    steps: usize,
    weights: WeightLaw,
    solver: ProductSolver,
}

/// Settings of the solvers behind [`ProductSpectrum`]: the Newton iteration for the density
/// at each `z` and the searches for the edges of the support. The defaults are those every
/// spectrum in the docs and tests was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProductSolver {
    /// Newton steps per point (quadratic convergence from the continuation's start needs
    /// fewer than 10; a point that does not converge is refined or reported). Default 60.
    pub newton_max_iter: usize,
    /// Step halvings of the damped Newton line search. Default 30.
    pub line_search_halvings: usize,
    /// Bisection steps for each `ζ(m)` of the edge search (to `4ε` relative). Default 200.
    pub bisection_max_iter: usize,
    /// Golden-section steps for `λ_max = min z(m)` over `ln m` (to 1e-13). Default 300.
    pub golden_max_iter: usize,
    /// Levels of midpoint refinement of the density where linear interpolation mispredicts
    /// it (at most `2n` points added in all); what is left unrefined is counted in
    /// [`Density::unrefined`]. Default 12.
    pub refine_max_depth: usize,
}

impl Default for ProductSolver {
    fn default() -> Self {
        ProductSolver {
            newton_max_iter: 60,
            line_search_halvings: 30,
            bisection_max_iter: 200,
            golden_max_iter: 300,
            refine_max_depth: 12,
        }
    }
}

/// Moments of the squared singular values of `J_T`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpectrumMoments {
    /// `m₁ = E[λ] = (σ_w² μ₁)^T = χ₁^T`.
    pub m1: f64,
    /// `m₂ = E[λ²]`.
    pub m2: f64,
    /// `(m₂ − m₁²)/m₁² = T (μ₂/μ₁² − 1 − s₁)`.
    pub normalized_variance: f64,
}

/// A density on a grid with its diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Density {
    /// Grid points `λ`.
    pub lambda: Vec<f64>,
    /// Density values (≥ 0).
    pub density: Vec<f64>,
    /// Edges of the support `[lo, hi]` (lo = 0 when mass reaches 0).
    pub support: [f64; 2],
    /// `∫ρ` over the grid (trapezoid); `1 −` this is mass at or below the first grid point
    /// (an atom at 0 for kinked activations).
    pub mass: f64,
    /// `∫λρ` over the grid.
    pub mean: f64,
    /// Points where the solver failed (density reported as NaN-free 0 and counted here).
    pub failures: usize,
    /// Intervals still marked for refinement (the density changes there faster than the grid
    /// resolves) when the refinement reached its depth or its point budget; written only
    /// when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub unrefined: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Density {
    /// Distribution function: the mass below the grid (`1 − mass`) plus the trapezoid
    /// integral of the density up to `λ`; below the grid a power-law continuation.
    pub fn cdf(&self, lambda: f64) -> f64 {
        let base = (1.0 - self.mass).max(0.0);
        if lambda < self.lambda[0] {
            // Below the grid: a power law F(λ) = F(λ₀)(λ/λ₀)^α matching the density at λ₀
            // (α = ρ(λ₀) λ₀ / F(λ₀)), the behaviour of products of random matrices near 0.
            if base <= 0.0 || lambda <= 0.0 {
                return 0.0;
            }
            let alpha = (self.density[0] * self.lambda[0] / base).max(1e-3);
            return base * (lambda / self.lambda[0]).powf(alpha);
        }
        let mut acc = base;
        for i in 1..self.lambda.len() {
            let (x0, x1) = (self.lambda[i - 1], self.lambda[i]);
            let (r0, r1) = (self.density[i - 1], self.density[i]);
            if lambda <= x1 {
                let t = (lambda - x0) / (x1 - x0);
                let r = r0 + t * (r1 - r0);
                return (acc + 0.5 * (lambda - x0) * (r0 + r)).min(1.0);
            }
            acc += 0.5 * (x1 - x0) * (r0 + r1);
        }
        acc.min(1.0)
    }
}

impl ProductSpectrum {
    /// `T`-step product with one diagonal law `law` at every step (the fixed point), weight
    /// scale `σ_w²` and weight law.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `steps == 0` or a non-positive `σ_w²`.
    pub fn new(law: DiagonalLaw, sigma_w2: f64, steps: usize, weights: WeightLaw) -> Result<Self> {
        if steps == 0 {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        ProductSpectrum::with_factors(vec![(law, steps)], sigma_w2, weights)
    }

    /// The product along a trajectory: step `t` has diagonal law `laws[t]` (laws equal to
    /// 1e-13, [`DiagonalLaw::close_to`], are merged, so a trajectory that has reached its fixed point costs no more than one
    /// law). Only the marginal law of each `D_t` enters, for tied and untied weights alike
    /// (`theory/04-spectra.md`, (S.7)).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no laws or a non-positive `σ_w²`.
    pub fn along(laws: Vec<DiagonalLaw>, sigma_w2: f64, weights: WeightLaw) -> Result<Self> {
        if laws.is_empty() {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        let mut factors: Vec<(DiagonalLaw, usize)> = Vec::new();
        for law in laws {
            match factors.iter_mut().find(|(l, _)| l.close_to(&law)) {
                Some(f) => f.1 += 1,
                None => factors.push((law, 1)),
            }
        }
        ProductSpectrum::with_factors(factors, sigma_w2, weights)
    }

    fn with_factors(
        factors: Vec<(DiagonalLaw, usize)>,
        sigma_w2: f64,
        weights: WeightLaw,
    ) -> Result<Self> {
        if !(sigma_w2.is_finite() && sigma_w2 > 0.0) {
            return Err(Error::invalid(
                "sigma-w",
                sigma_w2.sqrt(),
                "a finite number > 0",
            ));
        }
        let steps = factors.iter().map(|f| f.1).sum();
        Ok(ProductSpectrum {
            factors,
            sigma_w2,
            steps,
            weights,
            solver: ProductSolver::default(),
        })
    }

    /// Uses `solver` for the Newton iterations and edge searches
    /// ([`ProductSolver::default`] otherwise).
    #[must_use]
    pub fn with_solver(mut self, solver: ProductSolver) -> Self {
        self.solver = solver;
        self
    }

    /// Number of steps `T`.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Moments from the S-transform series: `m₁ = σ_w^{2T} ∏_t μ₁(t)`, normalised variance
    /// `Σ_t (μ₂(t)/μ₁(t)² − 1) − T s₁` (additive over free factors).
    pub fn moments(&self) -> SpectrumMoments {
        let mut log_m1 = self.steps as f64 * self.sigma_w2.ln();
        let mut nv = -(self.steps as f64) * s1(self.weights);
        for (law, n) in &self.factors {
            let (mu1, mu2) = (law.moment(1), law.moment(2));
            log_m1 += *n as f64 * mu1.ln();
            nv += *n as f64 * (mu2 / (mu1 * mu1) - 1.0);
        }
        let m1 = log_m1.exp();
        SpectrumMoments {
            m1,
            m2: m1 * m1 * (1.0 + nv),
            normalized_variance: nv,
        }
    }

    /// Moments `[m₁, …, m_order]` of the squared singular values, `m_k = E[λ^k]`, exact up to
    /// rounding from the truncated S-transform power series ([`series::product_moments`],
    /// `theory/04-spectra.md` (S.8); checked in `tests/spectrum_series.rs`). `m₁` and `m₂`
    /// agree with [`ProductSpectrum::moments`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `order == 0`; [`Error::Overflow`] if the normalised
    /// series or a moment overflows.
    pub fn moment_series(&self, order: usize) -> Result<Vec<f64>> {
        let factors: Vec<(Vec<f64>, usize)> = self
            .factors
            .iter()
            .map(|(law, n)| ((1..=order).map(|k| law.moment(k as i32)).collect(), *n))
            .collect();
        series::product_moments(&factors, self.sigma_w2, self.weights, order).map_err(|e| match e {
            // Name the flag that set the scale, as `check_scale` does for the density.
            Error::Overflow { quantity, reason } => {
                let (parameter, value) =
                    scale_parameter(self.log_step(), self.steps, Some(self.sigma_w2.sqrt()));
                Error::Infeasible {
                    parameter,
                    value,
                    constraint: format!("{quantity} overflows ({reason})"),
                    feasible: "use fewer steps or a smaller scale (the moments grow \
                               geometrically in T)"
                        .into(),
                }
            }
            other => other,
        })
    }

    /// `ln` of the one-step mean squared singular value, `ln(σ_w² ∏ μ₁^{k/T})`.
    fn log_step(&self) -> f64 {
        self.sigma_w2.ln()
            + self
                .factors
                .iter()
                .map(|(l, k)| *k as f64 * l.moment(1).ln())
                .sum::<f64>()
                / self.steps as f64
    }

    /// Exponents `(a, b)` of `m^a (1+m)^b` in `z(m, ζ)`.
    fn exponents(&self) -> (f64, f64) {
        let t = self.steps as f64;
        match self.weights {
            WeightLaw::Orthogonal => (t - 1.0, 1.0 - t),
            WeightLaw::Gaussian => (t - 1.0, 1.0),
        }
    }

    /// `ln z(m, ζ) = T ln σ_w² + Σ_j n_j ln ζ_j + a ln m + b ln(1+m)` (integer exponents, so the
    /// branch of the logarithm does not matter once exponentiated).
    fn ln_z_of(&self, m: C64, zeta: &[C64]) -> C64 {
        let (a, b) = self.exponents();
        let mut acc =
            C64::new(self.steps as f64 * self.sigma_w2.ln(), 0.0) + a * m.ln() + b * (m + 1.0).ln();
        for ((_, n), z) in self.factors.iter().zip(zeta) {
            acc += *n as f64 * z.ln();
        }
        acc
    }

    /// `Σ |residual|` of the product equations at `z` for the state `st` (what [`Self::newton`]
    /// drives below 1e-13), reported when a solve fails.
    fn residual_norm(&self, z: C64, st: &ProductState) -> f64 {
        let q = (self.ln_z_of(st.m, &st.zeta) - z.ln()).exp();
        (q - 1.0).norm()
            + self
                .factors
                .iter()
                .zip(&st.zeta)
                .map(|((law, _), zj)| (law.stieltjes(*zj).0 - st.m).norm())
                .sum::<f64>()
    }

    /// Newton's method for `(m, ζ_1..ζ_J)` at `z` from `init`; `None` if it does not
    /// converge. The Jacobian is an arrow (each `ζ_j` couples only to `m`), solved in `O(J)`.
    fn newton(&self, z: C64, init: &ProductState) -> Option<ProductState> {
        let (a, b) = self.exponents();
        let nf = self.factors.len();
        let resid = |st: &ProductState| -> (C64, Vec<C64>, Vec<C64>) {
            let q = (self.ln_z_of(st.m, &st.zeta) - z.ln()).exp();
            let mut r = Vec::with_capacity(nf);
            let mut d = Vec::with_capacity(nf);
            for ((law, _), zj) in self.factors.iter().zip(&st.zeta) {
                let (mz, dmz) = law.stieltjes(*zj);
                r.push(mz - st.m);
                d.push(dmz);
            }
            (q - 1.0, r, d)
        };
        let norm_of = |r0: C64, r: &[C64]| r0.norm() + r.iter().map(|x| x.norm()).sum::<f64>();
        let mut st = init.clone();
        let (mut r0, mut r, mut dm) = resid(&st);
        let mut norm = norm_of(r0, &r);
        for _ in 0..self.solver.newton_max_iter {
            if norm < 1e-13 {
                return Some(st);
            }
            // Rows: r_j: M_j'(ζ_j) δζ_j − δm = r_j;  r_0: qA δm + Σ q n_j/ζ_j δζ_j = r_0.
            let q = r0 + 1.0;
            let big_a = q * (a / st.m + b / (st.m + 1.0));
            let mut denom = big_a;
            let mut rhs = r0;
            for (j, ((_, n), zj)) in self.factors.iter().zip(&st.zeta).enumerate() {
                let bj = q * (*n as f64) / zj;
                if dm[j].norm() == 0.0 || !dm[j].is_finite() {
                    return None;
                }
                denom += bj / dm[j];
                rhs -= bj * r[j] / dm[j];
            }
            if denom.norm() == 0.0 || !denom.is_finite() {
                return None;
            }
            let dmm = rhs / denom;
            let dz: Vec<C64> = (0..nf).map(|j| (r[j] + dmm) / dm[j]).collect();
            let mut step = 1.0;
            let mut accepted = false;
            for _ in 0..self.solver.line_search_halvings {
                let cand = ProductState {
                    m: st.m - dmm * step,
                    zeta: st.zeta.iter().zip(&dz).map(|(z, d)| z - d * step).collect(),
                };
                // The physical branch: Im m < 0 and Im ζ > 0 for Im z > 0.
                let ok = cand.m.im <= 0.0
                    && cand.m.is_finite()
                    && cand.zeta.iter().all(|z| z.im >= 0.0 && z.is_finite());
                if ok {
                    let (a0, a1, a2) = resid(&cand);
                    let nn = norm_of(a0, &a1);
                    if nn < norm || nn < 1e-13 {
                        st = cand;
                        r0 = a0;
                        r = a1;
                        dm = a2;
                        norm = nn;
                        accepted = true;
                        break;
                    }
                }
                step *= 0.5;
            }
            if !accepted {
                return if norm < 1e-10 { Some(st) } else { None };
            }
        }
        (norm < 1e-10).then_some(st)
    }

    /// Edges of the support: `λ_max = min_{m > 0} z(m)` and `λ_min = max_{−1 < m < 0} z(m)`
    /// (or 0), with each `ζ_j` real solving `M_{D_j²}(ζ_j) = m` outside the support of `d`.
    pub fn edges(&self) -> [f64; 2] {
        // ζ(m) for m > 0: M is decreasing from +∞ to 0 on (d_max, ∞).
        let zeta_of = |law: &DiagonalLaw, m: f64| -> f64 {
            let dmax = law.max();
            let (mut lo, mut hi) = (dmax * (1.0 + 1e-15) + 1e-300, dmax.max(1.0) * 2.0 + 1.0);
            while law.stieltjes(C64::new(hi, 0.0)).0.re > m {
                hi *= 2.0;
            }
            for _ in 0..self.solver.bisection_max_iter {
                let mid = 0.5 * (lo + hi);
                if law.stieltjes(C64::new(mid, 0.0)).0.re > m {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo <= 4.0 * f64::EPSILON * hi {
                    break;
                }
            }
            0.5 * (lo + hi)
        };
        // ln z(m) (real and positive here): minimised in logarithms, because z itself
        // overflows away from the minimum at long horizons (z ~ m^{T−1}), which would leave
        // the search comparing infinities (λ_max was reported as inf from T ≈ 10⁶).
        let ln_zr = |m: f64| -> f64 {
            let zeta: Vec<C64> = self
                .factors
                .iter()
                .map(|(law, _)| C64::new(zeta_of(law, m), 0.0))
                .collect();
            self.ln_z_of(C64::new(m, 0.0), &zeta).re
        };
        // Golden-section search for the minimum over log m; the minimiser is near m ~ 1/T.
        let (mut a, mut b) = (-30.0 - (self.steps as f64).ln(), 30.0f64);
        let g = 0.618_033_988_749_894_9;
        for _ in 0..self.solver.golden_max_iter {
            let c = b - g * (b - a);
            let d = a + g * (b - a);
            if ln_zr(c.exp()) < ln_zr(d.exp()) {
                b = d;
            } else {
                a = c;
            }
            if b - a < 1e-13 {
                break;
            }
        }
        let hi = ln_zr((0.5 * (a + b)).exp()).exp();
        [0.0, hi]
    }

    /// The density on `n` base points spanning the support (log-spaced near 0 where the
    /// spectrum reaches down to it), plus adaptive points (at most `2n`) that bisect intervals
    /// of the linear part where the density changes sharply, until linear interpolation
    /// predicts each midpoint to 10% — narrow peaks are otherwise mis-weighted by the
    /// trapezoid rule (`narrow_peak_is_resolved` in `tests/gated_spectrum.rs`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n < 10`; [`Error::TooLarge`] (`points`) beyond the
    /// memory or time limit ([`density_estimate`]); [`Error::NoConvergence`] (with the
    /// residual) if the continuation from large `Im z` fails; [`Error::Overflow`] if `λ_max`
    /// does.
    pub fn density(&self, n: usize) -> Result<Density> {
        let atoms: usize = self.factors.iter().map(|(l, _)| l.d.len()).sum();
        density_estimate(n, 40 + 16 * self.factors.len(), atoms).check()?;
        check_scale(
            self.moments().m1,
            self.steps,
            self.log_step(),
            Some(self.sigma_w2.sqrt()),
        )?;
        let [_, hi] = self.edges();
        let mom = self.moments();
        let height = 10.0 * hi * (1.0 + self.steps as f64);
        let mu1: Vec<f64> = self.factors.iter().map(|(l, _)| l.moment(1)).collect();
        continuation_density(
            &ProductEquations(self),
            hi,
            n,
            height,
            self.solver.refine_max_depth,
            |z| {
                // Large z: m ≈ m₁/z + m₂/z², ζ_j ≈ μ₁(j)/m.
                let m0 = C64::new(mom.m1, 0.0) / z + C64::new(mom.m2, 0.0) / (z * z);
                ProductState {
                    m: m0,
                    zeta: mu1.iter().map(|u| C64::new(*u, 0.0) / m0).collect(),
                }
            },
        )
    }
}

/// Refuses a density whose scale `m₁ = E[λ]` (`χ₁^T` at a fixed point) lies beyond what the
/// solver can represent (outside `[1e-200, 1e200]`): at so many steps the spectrum of `J_T`
/// underflows or overflows double precision, and the error says so, naming `steps` — or
/// `sigma-w` (when given) if already one step (`ln m₁` per step: `log_step`) is beyond
/// `1e±10`.
pub(crate) fn check_scale(
    m1: f64,
    steps: usize,
    log_step: f64,
    sigma_w: Option<f64>,
) -> Result<()> {
    if m1.is_finite() && (1e-200..=1e200).contains(&m1) {
        return Ok(());
    }
    let (parameter, value) = scale_parameter(log_step, steps, sigma_w);
    Err(Error::Infeasible {
        parameter,
        value,
        constraint: format!(
            "the mean squared singular value of J_T, m₁ = (one-step m₁)^T = {}, is outside \
             the range of double precision the density is computed in",
            crate::error::fmt_num(m1)
        ),
        feasible: "use fewer steps (the moments m1, normalized_variance grow or decay \
                   geometrically in T)"
            .into(),
    })
}

/// The flag to blame for a scale out of range: σ_w when one step alone changes the scale by
/// more than 10 decades, else the number of steps.
fn scale_parameter(log_step: f64, steps: usize, sigma_w: Option<f64>) -> (&'static str, f64) {
    match sigma_w {
        Some(sw) if log_step.abs() > 10.0 * std::f64::consts::LN_10 => ("sigma-w", sw),
        _ => ("steps", steps as f64),
    }
}

/// The memory and time of a density on `n` base points (up to `3n` with the refinement):
/// every point keeps its solver state (`state_bytes`) and a few numbers; each costs a few
/// hundred evaluations of the equations, whose cost grows with the number of `atoms` of the
/// laws.
pub fn density_estimate(n: usize, state_bytes: usize, atoms: usize) -> crate::budget::Estimate {
    let n = n as f64;
    crate::budget::Estimate::new("the spectral density")
        .memory("points", n, 4.0 * n * (64.0 + state_bytes as f64))
        .ops(
            "points",
            n,
            3.0 * n * (300.0 * atoms as f64 + 1e4),
            crate::budget::concurrency(usize::MAX),
        )
}

/// Unknowns of the product equations: `m` and one `ζ_j` per distinct diagonal law.
#[derive(Debug, Clone)]
pub(crate) struct ProductState {
    m: C64,
    zeta: Vec<C64>,
}

/// A system of spectral equations solved pointwise in `z`: its state determines the moment
/// generating function `m(z) = ∫ λ ρ(λ)/(z − λ) dλ`.
pub(crate) trait SpectralEquations: Sync {
    /// The unknowns.
    type State: Clone + Send + Sync;
    /// Newton's method at `z` from `init`, staying on the physical branch; `None` when it
    /// does not converge.
    fn solve(&self, z: C64, init: &Self::State) -> Option<Self::State>;
    /// `m(z)` of a solution.
    fn m(&self, s: &Self::State) -> C64;
    /// The norm of the equations' residual at `z` for a state (diagnostics of a failure).
    fn residual(&self, z: C64, s: &Self::State) -> f64;
}

struct ProductEquations<'a>(&'a ProductSpectrum);

impl SpectralEquations for ProductEquations<'_> {
    type State = ProductState;
    fn solve(&self, z: C64, init: &ProductState) -> Option<ProductState> {
        self.0.newton(z, init)
    }
    fn m(&self, s: &ProductState) -> C64 {
        s.m
    }
    fn residual(&self, z: C64, s: &ProductState) -> f64 {
        self.0.residual_norm(z, s)
    }
}

/// The density `ρ(λ) = −Im[(1 + m(λ + i0))/λ]/π` on `n` points over `[0, 1.02 hi]` by
/// continuation: start at `1.02 hi + i·height` from `init(z)`, descend to a moderate height,
/// sweep right to left along `λ` at that height, and at each output point descend vertically
/// to `Im z = 1e-12 hi` (sweeping directly at a tiny height jumps between branches).
pub(crate) fn continuation_density<E: SpectralEquations>(
    eq: &E,
    hi: f64,
    n: usize,
    height: f64,
    refine_max_depth: usize,
    init: impl Fn(C64) -> E::State,
) -> Result<Density> {
    if n < 10 {
        return Err(Error::invalid("points", n as f64, "at least 10"));
    }
    if hi.is_infinite() {
        return Err(Error::Overflow {
            quantity: "the upper edge λ_max of the spectrum".into(),
            reason: format!("λ_max = {hi:e} is beyond the largest double (1.8e308)"),
        });
    }
    if !(hi.is_finite() && hi > 0.0) {
        return Err(Error::NoConvergence {
            solver: "spectral edge search",
            iterations: 0,
            residual: f64::INFINITY,
            detail: format!(
                "the spectrum's upper edge λ_max = {} is not a positive finite number, so there \
                 is no density to compute (the Jacobian vanishes, or its scale is beyond double \
                 precision)",
                crate::error::fmt_num(hi)
            ),
        });
    }
    // Grid: half log-spaced on [1e-10 hi, 0.05 hi], half linear on [0.05 hi, 1.02 hi].
    let half = n / 2;
    let mut grid: Vec<f64> = (0..half)
        .map(|i| hi * 1e-10 * (0.05f64 / 1e-10).powf(i as f64 / half as f64))
        .collect();
    grid.extend((0..n - half).map(|i| hi * (0.05 + 0.97 * i as f64 / (n - half - 1) as f64)));
    let scale = hi;
    let eps_sweep = 3e-2 * scale;
    let eps_final = 1e-12 * scale;
    let mut z = C64::new(grid[n - 1], height);
    let start = init(z);
    let mut sol = eq.solve(z, &start).ok_or_else(|| Error::NoConvergence {
        solver: "spectral Newton solver",
        iterations: 1,
        residual: eq.residual(z, &start),
        detail: "the spectral density solver found no starting point (the equations have no \
                 solution far from the real axis at these parameters; very long horizons \
                 --steps are a known cause)"
            .into(),
    })?;
    let mut y = z.im;
    let mut steps = 0usize;
    while y > eps_sweep {
        let ny = (0.7 * y).max(eps_sweep);
        let mut fac = 0.7;
        loop {
            let zt = C64::new(z.re, ny.max(y * fac));
            steps += 1;
            if let Some(s) = eq.solve(zt, &sol) {
                sol = s;
                y = zt.im;
                break;
            }
            fac = 0.5 * (1.0 + fac);
            if fac > 0.999 {
                return Err(Error::NoConvergence {
                    solver: "spectral continuation (descent in Im z)",
                    iterations: steps,
                    residual: eq.residual(zt, &sol),
                    detail: format!(
                        "the branch was lost below Im z = {y:e} on the way to {eps_sweep:e} at \
                         Re z = {:e} (residual of the last solution at the next height)",
                        z.re
                    ),
                });
            }
        }
        z = C64::new(z.re, y);
    }
    // Sweeping left at height eps_sweep (lower near 0) from a solved state at `from` to
    // `target`, halving the step where Newton fails; `None` if the branch is lost.
    let sweep_to = |from: f64, s: &E::State, target: f64| -> Option<E::State> {
        let (mut x, mut s) = (from, s.clone());
        while x > target {
            let mut dx = x - target;
            loop {
                let zt = C64::new(
                    x - dx,
                    eps_sweep.min(0.3 * (x - dx).max(1e-300) + eps_final),
                );
                if let Some(ns) = eq.solve(zt, &s) {
                    s = ns;
                    x -= dx;
                    break;
                }
                dx *= 0.5;
                if dx < 1e-12 * scale {
                    return None;
                }
            }
        }
        Some(s)
    };
    // Descending vertically at `target` from the swept state to the final height, `1e-7 λ`
    // (plenty for a density smooth on the scale of the grid) but at most `1e-12 λ_max` near
    // zero: the density at the height reached, and whether that is the final height.
    let descend = |target: f64, s: E::State| -> (f64, bool) {
        let floor = (1e-7 * target).max(eps_final);
        let mut yy = eps_sweep.min(0.3 * target + eps_final);
        let mut sv = s;
        let mut good = true;
        let mut factor = 0.1;
        while yy > floor {
            let ny = (factor * yy).max(floor);
            match eq.solve(C64::new(target, ny), &sv) {
                Some(ns) => {
                    sv = ns;
                    yy = ny;
                    factor = (factor * factor).max(0.01);
                }
                None if factor < 0.9 => factor = factor.sqrt(),
                None => {
                    good = false;
                    break;
                }
            }
        }
        let rho = -((eq.m(&sv) + 1.0) / C64::new(target, yy)).im / std::f64::consts::PI;
        (rho, good)
    };
    // Phase 1 (sequential): sweep right to left at eps_sweep, keeping the state at every
    // grid point (None where the branch was lost).
    let mut swept: Vec<Option<E::State>> = vec![None; n];
    let mut cur = (grid[n - 1], sol);
    for i in (0..n).rev() {
        if let Some(s) = sweep_to(cur.0, &cur.1, grid[i]) {
            swept[i] = Some(s.clone());
            cur = (grid[i], s);
        }
        crate::budget::tick(1);
    }
    // Phase 2 (parallel, independent per point): descend vertically.
    let descended: Vec<Option<(f64, bool)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            crate::budget::tick(1);
            Some(descend(grid[i], swept[i].clone()?))
        })
        .collect();
    // Phase 3 (sequential, right to left): failures. Past the left end of the bulk, where
    // the mass density per unit of log λ (ρ λ) has already fallen below 1e-6, a lost branch
    // means (exponentially) small density: record 0, not a failure; likewise where the
    // smoothed density at the height reached is negligible (the solution is nearly real).
    let mut density = vec![0.0; n];
    let mut failures = 0;
    let mut last_good = f64::INFINITY;
    for i in (0..n).rev() {
        let lam = grid[i];
        match descended[i] {
            None => {
                if last_good * lam >= 1e-6 {
                    failures += 1;
                }
            }
            Some((rho, false)) => {
                if rho * lam >= 1e-8 && last_good * lam >= 1e-6 {
                    failures += 1;
                }
            }
            Some((rho, true)) => {
                density[i] = rho.max(0.0);
                last_good = density[i];
            }
        }
    }
    // Phase 4: narrow peaks. A law with a near-atom (gated units whose gate term is tiny)
    // has a spike narrower than the linear grid step; the trapezoid rule then over- or
    // under-weights it by a large factor. Bisect the suspicious intervals (new points swept
    // from the state of the interval's right end, then descended as above) until linear
    // interpolation predicts each midpoint to 10%, at most `refine_max_depth` levels deep
    // (ProductSolver, GatedSolver: 12) and 2n points in all; what is left is reported.
    let linear_start = half;
    let mut pts: Vec<(f64, f64, Option<E::State>)> = grid
        .iter()
        .zip(&density)
        .zip(swept)
        .map(|((&l, &r), st)| (l, r, st))
        .collect();
    // Candidates: intervals of the linear part across which the density changes by more
    // than half and that carry more than 2e-3 of mass by their larger end.
    let mut todo: Vec<(f64, f64)> = Vec::new();
    for i in linear_start.max(1)..n - 1 {
        let (a, b) = (pts[i].1, pts[i + 1].1);
        if (grid[i + 1] - grid[i]) * a.max(b) > 2e-3 && a.max(b) > 1.5 * a.min(b) {
            todo.push((grid[i], grid[i + 1]));
        }
    }
    let mut added = 0usize;
    for _depth in 0..refine_max_depth {
        if todo.is_empty() || added >= 2 * n {
            break;
        }
        let find = |pts: &[(f64, f64, Option<E::State>)], x: f64| pts.partition_point(|p| p.0 < x);
        // (left end, right end, ρ there, ρ there, midpoint or its ρ, swept state).
        type Job<S> = (f64, f64, f64, f64, f64, S);
        let jobs: Vec<Job<E::State>> = todo
            .iter()
            .filter_map(|&(a, b)| {
                let (ia, ib) = (find(&pts, a), find(&pts, b));
                let st = pts.get(ib)?.2.clone()?;
                Some((a, b, pts[ia].1, pts[ib].1, 0.5 * (a + b), st))
            })
            .take(2 * n - added)
            .collect();
        let solved: Vec<Option<Job<E::State>>> = jobs
            .into_par_iter()
            .map(|(a, b, ra, rb, m, st)| {
                let sm = sweep_to(b, &st, m)?;
                let (rho, good) = descend(m, sm.clone());
                good.then_some((a, b, ra, rb, rho.max(0.0), sm))
            })
            .collect();
        todo.clear();
        for (a, b, ra, rb, rho, sm) in solved.into_iter().flatten() {
            let m = 0.5 * (a + b);
            let at = find(&pts, m);
            pts.insert(at, (m, rho, Some(sm)));
            added += 1;
            let predicted = 0.5 * (ra + rb);
            if (rho - predicted).abs() > 0.1 * ra.max(rb).max(rho)
                && (b - a) * rho.max(ra).max(rb) > 1e-5
            {
                todo.push((a, m));
                todo.push((m, b));
            }
        }
    }
    let (grid, density): (Vec<f64>, Vec<f64>) = pts.into_iter().map(|(l, r, _)| (l, r)).unzip();
    let mut mass = 0.0;
    let mut mean = 0.0;
    for i in 1..grid.len() {
        let dx = grid[i] - grid[i - 1];
        mass += 0.5 * dx * (density[i] + density[i - 1]);
        mean += 0.5 * dx * (grid[i] * density[i] + grid[i - 1] * density[i - 1]);
    }
    Ok(Density {
        lambda: grid,
        density,
        support: [0.0, hi],
        mass,
        mean,
        failures,
        unrefined: todo.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One Gaussian step with D = I is Marchenko–Pastur with ratio 1:
    /// ρ(λ) = √(λ(4σ² − λ)) / (2π σ² λ) on [0, 4σ²].
    #[test]
    fn marchenko_pastur() {
        let law = DiagonalLaw::atoms(vec![1.0], vec![1.0]).unwrap();
        let sp = ProductSpectrum::new(law, 1.5, 1, WeightLaw::Gaussian).unwrap();
        let [_, hi] = sp.edges();
        assert!((hi - 6.0).abs() < 1e-9, "{hi}");
        let d = sp.density(200).unwrap();
        assert_eq!(d.failures, 0);
        for (l, r) in d.lambda.iter().zip(&d.density) {
            if *l < 5.9 && *l > 1e-3 {
                let exact = (l * (6.0 - l)).sqrt() / (2.0 * std::f64::consts::PI * 1.5 * l);
                assert!(
                    (r - exact).abs() < 1e-4 * exact.max(1.0),
                    "λ={l}: {r} vs {exact}"
                );
            }
        }
    }
}
