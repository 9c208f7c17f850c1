//! Two-dimensional expectations of smooth integrands: the Mehler series (moderate
//! correlation) and the commensurate trapezoid lattice (strong correlation).
//! See `theory/01-gaussian-expectations.md`, (G.12)–(G.13).

use super::{BivariateNormal, Expectation, Fun, Method, trap_step, x_smoothness, z_range};
use crate::error::{Error, Result};
use crate::gauss::special::{gauss_hermite, norm_pdf};
use crate::gauss::trapezoid::{StepModel, Z_TABLE, level_for, step, weights, weights_len};

/// The Mehler series is never used beyond this correlation (its length grows like
/// `1/(1 − |c|)`); below it, the cheaper of Mehler and lattice by [`mehler_cost`] and
/// [`lattice_cost`].
pub(crate) const MEHLER_MAX_CORR: f64 = 0.8;

/// Target exponent of the inner Gauss–Hermite rule (error ≈ e^{-E}).
const GH_EXPONENT: f64 = 40.0;

/// Smallest Gauss–Hermite rule (≤ 24 points) accurate to `e^{-GH_EXPONENT}` for `g(m + s z)`
/// in `z ~ N(0, 1)`, where (in z units) `g` is analytic in a disc of radius `a`, grows like
/// `e^{γ|z|²}` (`γ = growth · s²`, entire functions such as erf) and like `|z|^degree`.
///
/// Error models: a radius `a` gives Taylor coefficients `O(a^{-k})` and an error about
/// `(2n−1)!!/a^{2n}`; Gaussian growth `γ` gives coefficients `≤ (2eγ/k)^{k/2}` and an error
/// about `√2 (2γ)^n`; a polynomial of degree `d` is exact once `2n − 1 >= d`.
fn gh_points(a: f64, gamma: f64, degree: u32) -> Option<usize> {
    let mut need = degree as usize / 2 + 1;
    if a.is_finite() {
        let mut ln_dfact = 0.0; // ln (2n−1)!!
        let mut found = None;
        for n in 1..=24usize {
            ln_dfact += ((2 * n - 1) as f64).ln();
            if 2.0 * n as f64 * a.ln() - ln_dfact >= GH_EXPONENT {
                found = Some(n);
                break;
            }
        }
        need = need.max(found?);
    }
    if gamma > 0.0 {
        let r = 2.0 * gamma;
        if r >= 0.25 {
            return None;
        }
        need = need.max(((GH_EXPONENT + 0.35) / (-r.ln())).ceil() as usize);
    }
    (need <= 24).then_some(need.max(2))
}

/// Estimated cost (nanoseconds) above which the smooth 2-D methods step aside for nested
/// adaptive quadrature (very large variances).
const MAX_COST_NS: f64 = 1.5e6;

/// Cost budget (nanoseconds, same model) of a precomputed [`super::HermiteExpansion`],
/// which is reused at many correlations: about 0.2 s. Beyond it (variances where the
/// expansion needs very many terms on a very fine grid) it is refused rather than computed
/// for minutes with hundreds of megabytes of weight tables.
pub(crate) const EXPANSION_BUDGET_NS: f64 = 2e8;

/// Normalised Hermite coefficients `A_k = E[f(μ + σz) h_k(z)]`, `k = 0..=k_max`, with
/// `‖f‖ = E[f²]^{1/2}` and the number of integrand evaluations.
///
/// The trapezoid step accounts for the growth `e^{√(2K+1)|y|}` of `h_K` off the real axis;
/// the zeroth coefficient and the norm are checked against the `2h` sums.
pub(crate) struct Coefficients {
    pub a: Vec<f64>,
    pub norm: f64,
    /// Step-halving difference of `A_0` and `‖f‖²` (relative to `‖f‖²`).
    pub check: f64,
    pub evals: usize,
}

pub(crate) fn hermite_coefficients(
    f: &Fun,
    mean: f64,
    sd: f64,
    k_max: usize,
    zmin: f64,
    budget_ns: f64,
) -> Result<Option<Coefficients>> {
    let Some((strip, growth, degree)) = x_smoothness(f) else {
        return Ok(None);
    };
    let beta = 2.0 * (2.0 * k_max as f64 + 1.0).sqrt();
    let h_max = trap_step(strip / sd, 0.5 + growth * sd * sd, beta, degree);
    let level = level_for(h_max);
    let h = step(level);
    // The finest ladder level is coarser than the step needed: the sums would not be
    // accurate (very large variances).
    if h > h_max {
        return Ok(None);
    }
    let zmax = z_range(degree).max(zmin).min(Z_TABLE);
    if (zmax / h) * (20.0 + 1.0 * k_max as f64) > budget_ns {
        return Ok(None);
    }
    let w = weights(level);
    let n = ((zmax / h).floor() as usize).min(w.len() - 1);
    // Recurrence constants for h_{k+1} = (z h_k − √k h_{k−1}) / √(k+1).
    let sq: Vec<f64> = (0..=k_max + 1).map(|k| (k as f64).sqrt()).collect();
    let isq: Vec<f64> = sq
        .iter()
        .map(|s| if *s > 0.0 { 1.0 / s } else { 0.0 })
        .collect();
    let mut norm2 = 0.0;
    let mut norm2_even = 0.0;
    let mut a0_even = 0.0;
    let mut evals = 0;
    let eval = |z: f64| -> Result<f64> {
        let v = f.eval(mean + sd * z);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::NonFiniteIntegrand {
                at: mean + sd * z,
                value: v,
            })
        }
    };
    // Per node: z, and the weights of even and odd orders (h_k(−z) = (−1)^k h_k(z): even k
    // see f(z) + f(−z), odd k see f(z) − f(−z)).
    let mut zs = Vec::with_capacity(n + 1);
    let mut sym = Vec::with_capacity(n + 1);
    let mut anti = Vec::with_capacity(n + 1);
    for (j, &wj) in w.iter().enumerate().take(n + 1) {
        let z = j as f64 * h;
        let (fp, fm) = if j == 0 {
            let v = eval(0.0)?;
            evals += 1;
            (0.5 * v, 0.5 * v)
        } else {
            evals += 2;
            (eval(z)?, eval(-z)?)
        };
        let s = wj * (fp + fm);
        // At j = 0 the value was split in halves (fp = fm = v/2): its square is 4 fp².
        let n2 = if j == 0 {
            wj * 4.0 * fp * fp
        } else {
            wj * (fp * fp + fm * fm)
        };
        norm2 += n2;
        if j % 2 == 0 {
            norm2_even += n2;
            a0_even += s;
        }
        zs.push(z);
        sym.push(s);
        anti.push(wj * (fp - fm));
    }
    // The Hermite recurrence runs over orders for LANES nodes at once (independent lanes, so
    // it vectorises); accumulators per lane are reduced at the end.
    const LANES: usize = 8;
    let mut acc = vec![[0.0f64; LANES]; k_max + 1];
    for start in (0..zs.len()).step_by(LANES) {
        let mut z = [0.0; LANES];
        let mut ws = [0.0; LANES];
        let mut wa = [0.0; LANES];
        let m = LANES.min(zs.len() - start);
        z[..m].copy_from_slice(&zs[start..start + m]);
        ws[..m].copy_from_slice(&sym[start..start + m]);
        wa[..m].copy_from_slice(&anti[start..start + m]);
        let mut prev = [1.0f64; LANES];
        let mut cur = z;
        for l in 0..LANES {
            acc[0][l] += ws[l];
        }
        if k_max >= 1 {
            for l in 0..LANES {
                acc[1][l] += wa[l] * cur[l];
            }
        }
        for k in 2..=k_max {
            let (c1, c2) = (sq[k - 1], isq[k]);
            let wk = if k % 2 == 0 { &ws } else { &wa };
            let slot = &mut acc[k];
            for l in 0..LANES {
                let next = (z[l] * cur[l] - c1 * prev[l]) * c2;
                prev[l] = cur[l];
                cur[l] = next;
                slot[l] += wk[l] * next;
            }
        }
    }
    let a: Vec<f64> = acc.iter().map(|lanes| lanes.iter().sum::<f64>()).collect();
    let check = ((a[0] - 2.0 * a0_even).abs() + (norm2 - 2.0 * norm2_even).abs())
        / norm2.max(f64::MIN_POSITIVE);
    Ok(Some(Coefficients {
        a,
        norm: norm2.sqrt(),
        check,
        evals,
    }))
}

/// Number of Mehler terms for correlation `c`.
fn mehler_terms(c: f64) -> usize {
    ((1e-17f64).ln() / c.abs().ln()).ceil().max(1.0) as usize
}

/// Estimated cost (ns) of [`mehler`], from its node count and series length (measured: about
/// 0.5 ns per node and term after vectorisation, 25 ns per node for the integrand).
pub(crate) fn mehler_cost(f: &Fun, g: &Fun, b: &BivariateNormal) -> Option<f64> {
    let c = b.corr;
    let k = mehler_terms(c) as f64;
    let beta = 2.0 * (2.0 * k + 1.0).sqrt();
    let zmin = 9.1 / ((1.0 - c) * (1.0 + c)).sqrt() + 0.5;
    let side = |fun: &Fun, sd: f64| -> Option<f64> {
        let (strip, growth, degree) = x_smoothness(fun)?;
        let h = trap_step(strip / sd, 0.5 + growth * sd * sd, beta, degree);
        let n = 2.0 * z_range(degree).max(zmin).min(Z_TABLE) / h;
        Some(n * (25.0 + 0.5 * k))
    };
    let a = side(f, b.var_u.sqrt())?;
    let same = f.same_as(g) && b.mean_u == b.mean_v && b.var_u == b.var_v;
    Some(if same {
        a
    } else {
        a + side(g, b.var_v.sqrt())?
    })
}

/// Estimated cost (ns) of the first attempt of [`lattice`] (10 ns per integrand evaluation,
/// 0.3 ns per multiply-add).
pub(crate) fn lattice_cost(f: &Fun, g: &Fun, b: &BivariateNormal) -> Option<f64> {
    Some(LatticePlan::new(f, g, b)?.cost(0).0)
}

/// Mehler series `Σ_k A_k B_k c^k` (G.12), truncated where `|c|^{K+1}‖f‖‖g‖ < 1e-17‖f‖‖g‖`.
/// `None` if a factor is not smooth or the coefficient quadrature fails its check.
pub(crate) fn mehler(f: &Fun, g: &Fun, b: &BivariateNormal) -> Result<Option<Expectation>> {
    let c = b.corr;
    let k_max = mehler_terms(c);
    // The Hermite functions of order ≤ K reach further out than the Gaussian alone.
    let zmin = 9.1 / ((1.0 - c) * (1.0 + c)).sqrt() + 0.5;
    let Some(ca) = hermite_coefficients(f, b.mean_u, b.var_u.sqrt(), k_max, zmin, MAX_COST_NS)?
    else {
        return Ok(None);
    };
    let same = f.same_as(g) && b.mean_u == b.mean_v && b.var_u == b.var_v;
    let cb = if same {
        None
    } else {
        match hermite_coefficients(g, b.mean_v, b.var_v.sqrt(), k_max, zmin, MAX_COST_NS)? {
            Some(x) => Some(x),
            None => return Ok(None),
        }
    };
    let cbr = cb.as_ref().unwrap_or(&ca);
    if ca.check > 1e-8 || cbr.check > 1e-8 {
        return Ok(None);
    }
    let mut value = 0.0;
    let mut abs = 0.0;
    let mut ck = 1.0;
    for (x, y) in ca.a.iter().zip(&cbr.a) {
        let t = x * y * ck;
        value += t;
        abs += t.abs();
        ck *= c;
    }
    let nn = ca.norm * cbr.norm;
    let trunc = c.abs().powi(k_max as i32 + 1) * nn;
    // Quadrature: the 2h-check certifies about its square (geometric convergence).
    let quad = (ca.check * ca.check + cbr.check * cbr.check) * nn;
    Ok(Some(Expectation {
        value,
        error_estimate: trunc + quad + 4.0 * f64::EPSILON * (abs + nn) * (k_max as f64).sqrt(),
        method: Method::Mehler,
        evaluations: ca.evals + cb.map_or(0, |x| x.evals),
    }))
}

/// Step models and ranges of the lattice for one bivariate law.
struct LatticePlan {
    m1: StepModel,
    m2: StepModel,
    z1: f64,
    z2: f64,
    gh_nodes: Option<usize>,
    slope: f64,
    s: f64,
}

/// One lattice attempt's geometry.
struct Geometry {
    h1: f64,
    n1: usize,
    h2: f64,
    n2: usize,
    num: usize,
    den: usize,
    n_grid: usize,
}

impl LatticePlan {
    fn new(f: &Fun, g: &Fun, b: &BivariateNormal) -> Option<LatticePlan> {
        let (strip_f, growth_f, deg_f) = x_smoothness(f)?;
        let (strip_g, growth_g, deg_g) = x_smoothness(g)?;
        let (su, sv, c) = (b.var_u.sqrt(), b.var_v.sqrt(), b.corr);
        let sprime = ((1.0 - c) * (1.0 + c)).sqrt();
        let slope = sv * c; // dv/dz₁
        let s = sv * sprime; // dv/dz₂
        let m2 = StepModel {
            a_max: strip_g / s,
            gamma: 0.5 + growth_g * s * s,
            beta: 0.0,
            degree: f64::from(deg_g),
        };
        Some(LatticePlan {
            m1: StepModel {
                a_max: (strip_f / su).min(strip_g / slope.abs()),
                gamma: 0.5 + growth_f * su * su + growth_g * slope * slope,
                beta: 0.0,
                degree: f64::from(deg_f + deg_g),
            },
            m2,
            z1: z_range(deg_f + deg_g).min(Z_TABLE),
            z2: z_range(deg_g),
            // Gauss–Hermite inner rule, when the conditional law of v is narrow.
            gh_nodes: gh_points(m2.a_max, growth_g * s * s, deg_g),
            slope,
            s,
        })
    }

    fn geometry(&self, level: usize) -> Geometry {
        let h1 = step(level);
        let n1 = ((self.z1 / h1).floor() as usize).min(weights_len(level) - 1);
        let h2_max = self.m2.step();
        let delta = self.slope.abs() * h1; // v-step per j
        // Commensurate inner step: s h₂ = n δ (n ≥ 1) or δ / m (m ≥ 1).
        let (num, den) = if delta <= self.s * h2_max {
            (
                ((self.s * h2_max) / delta).floor().max(1.0) as usize,
                1usize,
            )
        } else {
            (1usize, ((delta / (self.s * h2_max)).ceil()) as usize)
        };
        let h2 = delta * num as f64 / (den as f64 * self.s);
        let n2 = (self.z2 / h2).floor() as usize;
        Geometry {
            h1,
            n1,
            h2,
            n2,
            num,
            den,
            n_grid: den * n1 + num * n2,
        }
    }

    /// (cost in ns, use Gauss–Hermite inner rule) at ladder level offset `extra`.
    fn cost(&self, extra: usize) -> (f64, bool) {
        let geo = self.geometry(level_for(self.m1.step()) + extra);
        let nf = (2 * geo.n1 + 1) as f64;
        let nk = (2 * geo.n2 + 1) as f64;
        // Measured: ~0.5 ns per multiply-add for contiguous inner sums, ~1.5 ns strided.
        let fma = if geo.num == 1 { 0.5 } else { 1.5 };
        let lattice = 10.0 * (2 * geo.n_grid + 1) as f64 + fma * nf * nk;
        let gh = self
            .gh_nodes
            .map_or(f64::INFINITY, |n| 12.0 * nf * n as f64);
        (lattice.min(gh), gh < lattice)
    }
}

/// The commensurate trapezoid lattice (G.13) for strongly correlated smooth pairs.
///
/// Nodes `(z₁, z₂) = (j h₁, k h₂)` with `σ_v √(1−c²) h₂` an integer multiple or fraction of
/// `σ_v |c| h₁`, so that `v` takes values on one 1-D grid: `f` is evaluated `O(N₁)` times,
/// `g` `O(N₁ + N₂)` times, and the double sum costs `N₁ N₂` multiply-adds. When the
/// conditional law of `v` is narrow compared with `g`'s analyticity strip (`c` near ±1), the
/// inner integral uses a short Gauss–Hermite rule instead, whichever is cheaper. The outer
/// step is checked by halving; `None` if not applicable, too costly, or the check fails.
pub(crate) fn lattice(f: &Fun, g: &Fun, b: &BivariateNormal) -> Result<Option<Expectation>> {
    let Some(plan) = LatticePlan::new(f, g, b) else {
        return Ok(None);
    };
    let (su, c) = (b.var_u.sqrt(), b.corr);
    let (slope, s) = (plan.slope, plan.s);
    let level0 = level_for(plan.m1.step());
    for attempt in 0..3 {
        let level = level0 + 8 * attempt;
        let (cost, use_gh) = plan.cost(8 * attempt);
        if cost > MAX_COST_NS {
            // Very large variance: nested adaptive quadrature is cheaper.
            return Ok(None);
        }
        let Geometry {
            h1,
            n1,
            h2,
            n2,
            num,
            den,
            n_grid,
        } = plan.geometry(level);
        let w1 = weights(level);
        let nf = 2 * n1 + 1;
        let nk = 2 * n2 + 1;
        let sign = if c >= 0.0 { 1i64 } else { -1 };
        let fv: Vec<f64> = (0..nf)
            .map(|i| f.eval(b.mean_u + su * (i as f64 - n1 as f64) * h1))
            .collect();
        let mut evals = nf;
        let (mut sum, mut coarse, mut l1) = (0.0, 0.0, 0.0);
        if use_gh {
            let (zn, wn) = gauss_hermite(plan.gh_nodes.unwrap_or(2));
            for (i, fi) in fv.iter().enumerate() {
                let j = i as i64 - n1 as i64;
                let wj = w1[j.unsigned_abs() as usize];
                if *fi == 0.0 || wj == 0.0 {
                    continue;
                }
                let m = b.mean_v + slope * j as f64 * h1;
                let mut inner = 0.0;
                let mut inner_abs = 0.0;
                for (z, w) in zn.iter().zip(wn) {
                    let t = w * g.eval(m + s * z);
                    inner += t;
                    inner_abs += t.abs();
                }
                evals += zn.len();
                let t = wj * fi;
                sum += t * inner;
                l1 += (t * inner_abs).abs();
                if j % 2 == 0 {
                    coarse += 2.0 * t * inner;
                }
            }
        } else {
            // Inner weights over k = −n2..=n2, and the 2h₂ rule's weights (2w on even k).
            let w2: Vec<f64> = (0..nk)
                .map(|i| h2 * norm_pdf((i as f64 - n2 as f64) * h2))
                .collect();
            let w2c: Vec<f64> = w2
                .iter()
                .enumerate()
                .map(|(i, w)| if (i + n2) % 2 == 0 { 2.0 * w } else { 0.0 })
                .collect();
            // v on the grid μ_v + t·δ/den, index t = den·sgn(c)·j + num·k.
            let dv = slope.abs() * h1 / den as f64;
            let gv: Vec<f64> = (0..=2 * n_grid)
                .map(|t| g.eval(b.mean_v + (t as f64 - n_grid as f64) * dv))
                .collect();
            let ga: Vec<f64> = gv.iter().map(|x| x.abs()).collect();
            evals += gv.len();
            for (i, fi) in fv.iter().enumerate() {
                let j = i as i64 - n1 as i64;
                let wj = w1[j.unsigned_abs() as usize];
                let start = (n_grid as i64 + sign * den as i64 * j - (num * n2) as i64) as usize;
                let (inner, inner_c, inner_abs) = if num == 1 {
                    let g = &gv[start..start + nk];
                    let a = &ga[start..start + nk];
                    (dot(&w2, g), dot(&w2c, g), dot(&w2, a))
                } else {
                    let mut acc = (0.0, 0.0, 0.0);
                    for (k, idx) in (start..).step_by(num).take(nk).enumerate() {
                        acc.0 += w2[k] * gv[idx];
                        acc.1 += w2c[k] * gv[idx];
                        acc.2 += w2[k] * ga[idx];
                    }
                    acc
                };
                let t = wj * fi;
                sum += t * inner;
                l1 += (t * inner_abs).abs();
                if j % 2 == 0 {
                    coarse += 2.0 * t * inner_c;
                }
            }
        }
        if !sum.is_finite() {
            return Err(Error::NonFiniteIntegrand {
                at: f64::NAN,
                value: sum,
            });
        }
        let diff = (sum - coarse).abs();
        let scale = l1.max(f64::MIN_POSITIVE);
        let (m1, m2) = (&plan.m1, &plan.m2);
        let accept = if use_gh {
            m1.accept(h1)
        } else {
            m1.accept(h1).max(m2.accept(h2))
        };
        if diff <= accept * scale {
            let model_err = if use_gh {
                m1.error(h1, diff / scale) + (-GH_EXPONENT).exp()
            } else {
                m1.error(h1, diff / scale) + m2.error(h2, diff / scale)
            };
            return Ok(Some(Expectation {
                value: sum,
                error_estimate: model_err * scale
                    + 2.0 * f64::EPSILON * scale * ((nf as f64).sqrt() + (nk as f64).sqrt()),
                method: Method::Lattice,
                evaluations: evals,
            }));
        }
    }
    Ok(None)
}

/// Dot product in four independent lanes (lets the compiler vectorise).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let n = a.len().min(b.len());
    let (a4, b4) = (a[..n].chunks_exact(4), b[..n].chunks_exact(4));
    let (ra, rb) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}
