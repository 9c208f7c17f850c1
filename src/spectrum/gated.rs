//! Spectra of gated Jacobians `J = diag(a) + diag(b) W` (the minimalRNN: `a = u`,
//! `b = σ'(e)(h^{t−1} − z^t)`), `theory/04-spectra.md` §4.
//!
//! **One step (exact in the infinite-width limit, given the per-unit law of `(a, b)`).**
//! Write `W = σ_w U` with `U` Haar orthogonal, or `W = σ_w G/√N` with `G` Ginibre, and fold
//! `σ_w` into `b`. Hermitise `X = A + BU` and use freeness with amalgamation over the diagonal
//! matrices: `U` is free from the diagonals in the scalar sense, so its diagonal-valued
//! cumulants are its scalar ones, and the resolvent of `XXᵀ` at `ζ` follows from three
//! scalar unknowns `(α, β, φ)`:
//!
//! - `D_i = ζ (1 − b_i² β φ)(1 − α φ) − a_i²`,
//! - `α = ⟨b² (1 − αφ)/D⟩`, `β = ⟨(1 − b²βφ)/D⟩`,
//! - `φ = 1` (Gaussian) or `ζ α β φ² + φ − 1 = 0` (orthogonal: the generating function of the
//!   Haar unitary's free cumulants, `φ(s) = (√(1+4s) − 1)/(2s)` at `s = ζαβ`),
//! - `G(ζ) = ⟨(1 − αφ)/D⟩` and `M(ζ) = ζ G(ζ) − 1`.
//!
//! **T steps (free approximation, `exact: false`).** The one-step factors of a minimalRNN
//! share each unit's diagonal entries across time, so they are *not* free; treating them as
//! free gives `S_{J_T J_Tᵀ} = S_ν^T` for the one-step law `ν`, solved jointly with the
//! one-step equations: `M_ν(ζ) = m`, `z = ζ^T m^{T−1} (1+m)^{1−T}`. Its first moment `ν₁^T`
//! misses the persistence that [`crate::exact::m1_by_unit_recursion`] captures.

use num_complex::Complex64 as C64;
use serde::Serialize;

use super::{Density, SpectralEquations, continuation_density};
use crate::cells::WeightLaw;
use crate::error::{Error, Result};
use crate::exact::JacobianPaths;

/// The per-unit joint law of the Jacobian diagonals `(a, b)` (with `σ_w` folded into `b`),
/// as weighted atoms of `(a², b²)` — only the squares enter the spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct GatedLaw {
    a2: Vec<f64>,
    b2: Vec<f64>,
    w: Vec<f64>,
}

impl GatedLaw {
    /// Atoms `(a_i, b_i)` with probabilities `probs` (normalised); `b` is multiplied by
    /// `sigma_w`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for mismatched lengths, an empty law, non-finite entries,
    /// negative probabilities or a non-positive `sigma_w`.
    pub fn atoms(a: &[f64], b: &[f64], probs: &[f64], sigma_w: f64) -> Result<GatedLaw> {
        if a.len() != b.len() || a.len() != probs.len() || a.is_empty() {
            return Err(Error::invalid(
                "atoms",
                a.len() as f64,
                "equally many a, b and probabilities (at least one)",
            ));
        }
        if !(sigma_w.is_finite() && sigma_w > 0.0) {
            return Err(Error::invalid("sigma-w", sigma_w, "a finite number > 0"));
        }
        let total: f64 = probs.iter().sum();
        let ok = a.iter().chain(b).all(|x| x.is_finite())
            && probs.iter().all(|p| p.is_finite() && *p >= 0.0)
            && total > 0.0;
        if !ok {
            return Err(Error::invalid(
                "atoms",
                f64::NAN,
                "finite a, b and non-negative probabilities",
            ));
        }
        let s2 = sigma_w * sigma_w;
        Ok(GatedLaw {
            a2: a.iter().map(|x| x * x).collect(),
            b2: b.iter().map(|x| s2 * x * x).collect(),
            w: probs.iter().map(|p| p / total).collect(),
        })
    }

    /// The law at recorded step `step` of unit paths of the exact theory
    /// ([`crate::exact::jacobian_paths`]), pooling all replicas, equally weighted.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `step` is not recorded or the paths are empty.
    pub fn from_paths(paths: &[JacobianPaths], step: usize, sigma_w: f64) -> Result<GatedLaw> {
        let cols = paths.first().map_or(0, |p| p.a.ncols());
        if step >= cols {
            return Err(Error::invalid(
                "step",
                step as f64,
                "a recorded step of the unit paths",
            ));
        }
        let a: Vec<f64> = paths
            .iter()
            .flat_map(|p| p.a.column(step).iter().copied().collect::<Vec<_>>())
            .collect();
        let b: Vec<f64> = paths
            .iter()
            .flat_map(|p| p.b.column(step).iter().copied().collect::<Vec<_>>())
            .collect();
        let w = vec![1.0; a.len()];
        GatedLaw::atoms(&a, &b, &w, sigma_w)
    }

    /// Reduces the atoms to at most `bins²` by quantile binning: `bins` groups in `a²`, each
    /// split into `bins` groups in `b²`, each replaced by its mean `(a², b²)` and total weight.
    /// Preserves `⟨a²⟩`, `⟨b²⟩` exactly; the spectrum changes at second order in the bin
    /// widths (measured in `tests/gated_spectrum.rs`).
    pub fn compress(&self, bins: usize) -> GatedLaw {
        let n = self.w.len();
        if bins == 0 || n <= bins * bins {
            return self.clone();
        }
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&i, &j| self.a2[i].total_cmp(&self.a2[j]));
        let mut out = GatedLaw {
            a2: Vec::new(),
            b2: Vec::new(),
            w: Vec::new(),
        };
        for g in 0..bins {
            let mut group: Vec<usize> = idx[g * n / bins..(g + 1) * n / bins].to_vec();
            group.sort_by(|&i, &j| self.b2[i].total_cmp(&self.b2[j]));
            let k = group.len();
            for h in 0..bins {
                let cell = &group[h * k / bins..(h + 1) * k / bins];
                let wt: f64 = cell.iter().map(|&i| self.w[i]).sum();
                if wt <= 0.0 {
                    continue;
                }
                let a2 = cell.iter().map(|&i| self.w[i] * self.a2[i]).sum::<f64>() / wt;
                let b2 = cell.iter().map(|&i| self.w[i] * self.b2[i]).sum::<f64>() / wt;
                out.a2.push(a2);
                out.b2.push(b2);
                out.w.push(wt);
            }
        }
        out
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Whether there are no atoms (never true for a constructed law).
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }

    fn mean(&self, f: impl Fn(f64, f64) -> f64) -> f64 {
        self.a2
            .iter()
            .zip(&self.b2)
            .zip(&self.w)
            .map(|((a, b), w)| w * f(*a, *b))
            .sum()
    }

    /// One-step moments `(m₁, m₂)` of `JJᵀ` (`theory/04-spectra.md`, (S.5)):
    /// `m₁ = ⟨a²⟩ + ⟨b²⟩`; `m₂ = ⟨(a² + b²)²⟩ + 2⟨a²⟩⟨b²⟩ (+ ⟨b²⟩²` for Gaussian `W`).
    pub fn one_step_moments(&self, weights: WeightLaw) -> (f64, f64) {
        let a2 = self.mean(|a, _| a);
        let b2 = self.mean(|_, b| b);
        let m1 = a2 + b2;
        let mut m2 = self.mean(|a, b| (a + b) * (a + b)) + 2.0 * a2 * b2;
        if weights == WeightLaw::Gaussian {
            m2 += b2 * b2;
        }
        (m1, m2)
    }
}

/// Moments of the squared singular values, with whether they are exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GatedMoments {
    /// `m₁ = ν₁^T`.
    pub m1: f64,
    /// `m₂ = m₁² (1 + v)`.
    pub m2: f64,
    /// `v = T (ν₂/ν₁² − 1)` (additive over free factors).
    pub normalized_variance: f64,
    /// `true` only for one step.
    pub exact: bool,
}

/// Settings of the damped Newton solver behind [`GatedSpectrum`] (the joint system in the
/// unknowns `[m, ζ, α, β, φ]`) and of its density's refinement. The defaults are those every
/// gated spectrum in the docs and tests was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GatedSolver {
    /// Newton steps per point. A point whose residual is not below 1e-13 (relative) after
    /// them is accepted at 1e-10 or fails: a failed point of the density is counted in
    /// [`Density::failures`], a failed start of [`GatedSpectrum::upper_edge`] is an
    /// [`Error::NoConvergence`]. Default 40.
    pub newton_max_iter: usize,
    /// On the physical branch, the Newton step at which a residual still above 1e-6 of the
    /// starting one means the start lies outside the basin (the continuation then takes a
    /// shorter step). Default 12.
    pub basin_check_iter: usize,
    /// Step halvings of the damped line search. Default 12.
    pub line_search_halvings: usize,
    /// Levels of midpoint refinement of the density (as
    /// [`super::ProductSolver::refine_max_depth`]). Default 12.
    pub refine_max_depth: usize,
}

impl Default for GatedSolver {
    fn default() -> Self {
        GatedSolver {
            newton_max_iter: 40,
            basin_check_iter: 12,
            line_search_halvings: 12,
            refine_max_depth: 12,
        }
    }
}

/// The spectrum of `J_T J_Tᵀ` for gated Jacobians: exact for `T = 1`, the free approximation
/// for `T > 1`.
#[derive(Debug, Clone)]
pub struct GatedSpectrum {
    law: GatedLaw,
    weights: WeightLaw,
    steps: usize,
    solver: GatedSolver,
}

/// Unknowns `[m, ζ, α, β, φ]`.
type State = [C64; 5];

impl GatedSpectrum {
    /// `T`-step spectrum of the one-step law `law`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `steps == 0`.
    pub fn new(law: GatedLaw, weights: WeightLaw, steps: usize) -> Result<GatedSpectrum> {
        if steps == 0 {
            return Err(Error::invalid("steps", 0.0, "at least 1"));
        }
        Ok(GatedSpectrum {
            law,
            weights,
            steps,
            solver: GatedSolver::default(),
        })
    }

    /// Uses `solver` for the Newton iterations and the density's refinement;
    /// [`GatedSolver::default`] otherwise.
    #[must_use]
    pub fn with_solver(mut self, solver: GatedSolver) -> Self {
        self.solver = solver;
        self
    }

    /// The solver settings.
    pub fn solver(&self) -> &GatedSolver {
        &self.solver
    }

    /// Whether the result is exact in the infinite-width limit (one step only).
    pub fn exact(&self) -> bool {
        self.steps == 1
    }

    /// Moments: exact for one step, the free approximation's `ν₁^T` and `T·v₁` otherwise.
    pub fn moments(&self) -> GatedMoments {
        let (n1, n2) = self.law.one_step_moments(self.weights);
        let t = self.steps as f64;
        let m1 = n1.powf(t);
        let nv = t * (n2 / (n1 * n1) - 1.0);
        GatedMoments {
            m1,
            m2: m1 * m1 * (1.0 + nv),
            normalized_variance: nv,
            exact: self.exact(),
        }
    }

    /// Residuals and Jacobian of the joint system at `z`.
    fn system(&self, z: C64, s: &State) -> ([C64; 5], [[C64; 5]; 5]) {
        let [m, zeta, al, be, ph] = *s;
        let one = C64::new(1.0, 0.0);
        let zero = C64::new(0.0, 0.0);
        let mut g = zero;
        let mut f3 = zero;
        let mut f4 = zero;
        // Derivative sums: [∂α, ∂β, ∂φ, ∂ζ] of G, F3 and F4 terms.
        let mut dg = [zero; 4];
        let mut d3 = [zero; 4];
        let mut d4 = [zero; 4];
        let p = one - al * ph;
        for ((&a2, &b2), &w) in self.law.a2.iter().zip(&self.law.b2).zip(&self.law.w) {
            let qb = one - be * ph * b2;
            let d = zeta * qb * p - a2;
            let inv = d.inv();
            let k = inv * inv * w;
            let pw = p * inv * w;
            g += pw;
            f3 += pw * b2;
            f4 += qb * inv * w;
            let phia2 = ph * a2;
            let zp2 = zeta * p * p;
            let zq2 = zeta * qb * qb;
            let common_f = al * a2 + zp2 * be * b2;
            dg[0] += k * phia2;
            dg[1] += k * zp2 * ph * b2;
            dg[2] += k * common_f;
            dg[3] -= k * p * p * qb;
            d3[0] += k * phia2 * b2;
            d3[1] += k * zp2 * ph * b2 * b2;
            d3[2] += k * common_f * b2;
            d3[3] -= k * p * p * qb * b2;
            d4[0] += k * zq2 * ph;
            d4[1] += k * phia2 * b2;
            d4[2] += k * (be * b2 * a2 + zq2 * al);
            d4[3] -= k * qb * qb * p;
        }
        let t = self.steps as f64;
        let lz = t * zeta.ln() + (t - 1.0) * m.ln() + (1.0 - t) * (m + 1.0).ln() - z.ln();
        let q = lz.exp();
        let mut r = [zeta * g - one - m, q - one, f3 - al, f4 - be, zero];
        let mut j = [[zero; 5]; 5];
        j[0] = [
            -one,
            g + zeta * dg[3],
            zeta * dg[0],
            zeta * dg[1],
            zeta * dg[2],
        ];
        j[1] = [
            q * ((t - 1.0) / m - (t - 1.0) / (m + 1.0)),
            q * t / zeta,
            zero,
            zero,
            zero,
        ];
        j[2] = [zero, d3[3], d3[0] - one, d3[1], d3[2]];
        j[3] = [zero, d4[3], d4[0], d4[1] - one, d4[2]];
        match self.weights {
            WeightLaw::Gaussian => {
                r[4] = ph - one;
                j[4] = [zero, zero, zero, zero, one];
            }
            WeightLaw::Orthogonal => {
                r[4] = zeta * al * be * ph * ph + ph - one;
                j[4] = [
                    zero,
                    al * be * ph * ph,
                    zeta * be * ph * ph,
                    zeta * al * ph * ph,
                    zeta * al * be * ph * 2.0 + one,
                ];
            }
        }
        (r, j)
    }

    fn newton(&self, z: C64, init: State, physical: bool) -> Option<State> {
        let mut s = init;
        let (mut r, mut j) = self.system(z, &s);
        let mut norm = r.iter().map(|x| x.norm()).sum::<f64>();
        let scale = 1.0 + s.iter().map(|x| x.norm()).sum::<f64>();
        let norm0 = norm;
        for it in 0..self.solver.newton_max_iter {
            if norm < 1e-13 * scale {
                return Some(s);
            }
            // Newton from a good start converges quadratically; slow progress means the
            // start is outside the basin (the caller then takes a shorter step).
            // (On the real axis, near the fold, convergence is only linear: no cut-off.)
            if physical && it == self.solver.basin_check_iter && norm > 1e-6 * norm0 {
                return None;
            }
            let dx = solve5(j, r)?;
            let mut step = 1.0;
            let mut accepted = false;
            for _ in 0..self.solver.line_search_halvings {
                let mut ns = s;
                for k in 0..5 {
                    ns[k] -= dx[k] * step;
                }
                let branch_ok = !physical || (ns[0].im <= 0.0 && ns[1].im >= 0.0);
                if branch_ok && ns.iter().all(|x| x.is_finite()) {
                    let (nr, nj) = self.system(z, &ns);
                    let nn = nr.iter().map(|x| x.norm()).sum::<f64>();
                    if nn < norm || nn < 1e-13 * scale {
                        s = ns;
                        r = nr;
                        j = nj;
                        norm = nn;
                        accepted = true;
                        break;
                    }
                }
                step *= 0.5;
            }
            if !accepted {
                return (norm < 1e-10 * scale).then_some(s);
            }
        }
        (norm < 1e-10 * scale).then_some(s)
    }

    /// Initial state at large `|z|`.
    fn asymptotic(&self, z: C64) -> State {
        let (n1, n2) = self.law.one_step_moments(self.weights);
        let t = self.steps as i32;
        let mom = self.moments();
        let m = C64::new(mom.m1, 0.0) / z + C64::new(mom.m2, 0.0) / (z * z);
        let zeta = z / n1.powi(t - 1);
        let b2 = self.law.mean(|_, b| b);
        let _ = n2;
        let al = C64::new(b2, 0.0) / zeta;
        let be = zeta.inv();
        let ph = match self.weights {
            WeightLaw::Gaussian => C64::new(1.0, 0.0),
            WeightLaw::Orthogonal => C64::new(1.0, 0.0) - zeta * al * be,
        };
        [m, zeta, al, be, ph]
    }

    /// Upper edge of the support: continue the real solution down from large `z` until it
    /// ceases to exist (the fold of `z(m)`), by bisection on the step.
    pub fn upper_edge(&self) -> Result<f64> {
        let mom = self.moments();
        let mut z = 20.0 * mom.m1 * (1.0 + mom.normalized_variance) * (1.0 + self.steps as f64);
        let zc = C64::new(z, 0.0);
        let start = self.asymptotic(zc);
        let mut s = self
            .newton(zc, start, false)
            .map(|s| Tracked { s, z: zc })
            .ok_or_else(|| Error::NoConvergence {
                solver: "gated spectral Newton solver",
                iterations: 1,
                residual: self.system(zc, &start).0.iter().map(|x| x.norm()).sum(),
                detail: format!(
                    "no real solution at z = {z:e} from the large-z expansion (residual of the \
                     starting point)"
                ),
            })?;
        // On the physical real branch `det J` keeps its sign until the fold, where it
        // vanishes; a Newton step that lands on another real branch flips it (or breaks the
        // monotonicity of m and ζ), and is rejected.
        let det_sign = |t: &Tracked| det5(self.system(t.z, &t.s).1).re.signum();
        let sign0 = det_sign(&s);
        let mut dz = 0.5 * z;
        while dz > 1e-8 * z {
            let zt = z - dz;
            let ok = self
                .track(C64::new(zt, 0.0), s, false)
                .filter(|ns| {
                    ns.s.iter().all(|x| x.im.abs() <= 1e-9 * (1.0 + x.re.abs()))
                        && ns.s[0].re > s.s[0].re
                        && ns.s[0].re > 0.0
                        && ns.s[1].re < s.s[1].re
                        && det_sign(ns) == sign0
                })
                .map(|ns| {
                    s = ns;
                    z = zt;
                });
            if ok.is_none() {
                dz *= 0.5;
            }
        }
        Ok(z)
    }

    /// The density on `n` points (see [`super::ProductSpectrum::density`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n < 10`; [`Error::TooLarge`] (`points`) beyond the
    /// memory or time limit ([`super::density_estimate`]); [`Error::NoConvergence`] with the
    /// residual if a solver fails.
    pub fn density(&self, n: usize) -> Result<Density> {
        super::density_estimate(n, std::mem::size_of::<Tracked>(), self.law.len()).check()?;
        let n1 = self.law.one_step_moments(self.weights).0;
        super::check_scale(self.moments().m1, self.steps, n1.ln(), None)?;
        let hi = self.upper_edge()?;
        let height = 10.0 * hi * (1.0 + self.steps as f64);
        continuation_density(self, hi, n, height, self.solver.refine_max_depth, |z| {
            Tracked {
                s: self.asymptotic(z),
                z,
            }
        })
    }
}

/// A solution together with the `z` it solves (for the tangent predictor).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tracked {
    s: State,
    z: C64,
}

impl GatedSpectrum {
    /// Newton from a tangent (Euler) prediction: `ds/dz = −J⁻¹ ∂F/∂z`, where only the
    /// `z`-equation depends on `z` (`∂F₂/∂z = −q/z`). The unknowns vary like powers of `z`
    /// near the edges of the spectrum, where an unpredicted start lies outside Newton's basin.
    fn track(&self, z: C64, from: Tracked, physical: bool) -> Option<Tracked> {
        let mut init = from.s;
        if z != from.z {
            let (r, j) = self.system(from.z, &from.s);
            let q = r[1] + 1.0;
            let zero = C64::new(0.0, 0.0);
            if let Some(ds) = solve5(j, [zero, q / from.z * (z - from.z), zero, zero, zero]) {
                let mut pred = from.s;
                for k in 0..5 {
                    pred[k] += ds[k];
                }
                let branch_ok = !physical || (pred[0].im <= 0.0 && pred[1].im >= 0.0);
                if branch_ok && pred.iter().all(|x| x.is_finite()) {
                    init = pred;
                }
            }
        }
        self.newton(z, init, physical).map(|s| Tracked { s, z })
    }
}

impl SpectralEquations for GatedSpectrum {
    type State = Tracked;
    fn solve(&self, z: C64, init: &Tracked) -> Option<Tracked> {
        self.track(z, *init, true)
    }
    fn m(&self, s: &Tracked) -> C64 {
        s.s[0]
    }
    fn residual(&self, z: C64, s: &Tracked) -> f64 {
        self.system(z, &s.s).0.iter().map(|x| x.norm()).sum()
    }
}

/// Determinant of a 5×5 complex matrix (elimination with partial pivoting).
fn det5(mut j: [[C64; 5]; 5]) -> C64 {
    let mut det = C64::new(1.0, 0.0);
    for c in 0..5 {
        let piv = (c..5)
            .max_by(|&x, &y| j[x][c].norm().total_cmp(&j[y][c].norm()))
            .expect("non-empty range");
        if j[piv][c].norm() == 0.0 {
            return C64::new(0.0, 0.0);
        }
        if piv != c {
            j.swap(c, piv);
            det = -det;
        }
        det *= j[c][c];
        let inv = j[c][c].inv();
        for row in c + 1..5 {
            let f = j[row][c] * inv;
            let pivot_row = j[c];
            for (dst, v) in j[row][c..].iter_mut().zip(&pivot_row[c..]) {
                *dst -= f * v;
            }
        }
    }
    det
}

/// Solves the 5×5 complex system `j x = r` by Gaussian elimination with partial pivoting.
fn solve5(mut j: [[C64; 5]; 5], mut r: [C64; 5]) -> Option<[C64; 5]> {
    for c in 0..5 {
        let piv = (c..5).max_by(|&x, &y| j[x][c].norm().total_cmp(&j[y][c].norm()))?;
        if j[piv][c].norm() == 0.0 || !j[piv][c].is_finite() {
            return None;
        }
        j.swap(c, piv);
        r.swap(c, piv);
        let inv = j[c][c].inv();
        for row in c + 1..5 {
            let f = j[row][c] * inv;
            if f.norm() == 0.0 {
                continue;
            }
            let pivot_row = j[c];
            for (dst, v) in j[row][c..].iter_mut().zip(&pivot_row[c..]) {
                *dst -= f * v;
            }
            let v = r[c];
            r[row] -= f * v;
        }
    }
    let mut x = [C64::new(0.0, 0.0); 5];
    for c in (0..5).rev() {
        let mut acc = r[c];
        for col in c + 1..5 {
            acc -= j[c][col] * x[col];
        }
        x[c] = acc / j[c][c];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a = 0`, `b = 1`, Gaussian: Marchenko–Pastur with ratio 1 on `[0, 4]`.
    #[test]
    fn pure_gaussian_is_marchenko_pastur() {
        let law = GatedLaw::atoms(&[0.0], &[1.0], &[1.0], 1.0).unwrap();
        let sp = GatedSpectrum::new(law, WeightLaw::Gaussian, 1).unwrap();
        let hi = sp.upper_edge().unwrap();
        assert!((hi - 4.0).abs() < 1e-6, "{hi}");
        let d = sp.density(200).unwrap();
        assert_eq!(d.failures, 0);
        for (l, r) in d.lambda.iter().zip(&d.density) {
            if *l > 1e-3 && *l < 3.95 {
                let exact = (l * (4.0 - l)).sqrt() / (2.0 * std::f64::consts::PI * l);
                assert!(
                    (r - exact).abs() < 1e-6 * exact.max(1.0),
                    "{l}: {r} vs {exact}"
                );
            }
        }
    }
}
