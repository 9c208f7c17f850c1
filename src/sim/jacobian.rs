//! Sampled state-to-state Jacobians of finite-width networks and their squared singular
//! values — the empirical side of `crate::spectrum`.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use super::{NetworkWeights, SimConfig};
use crate::cells::{Cell, CellParams, WeightLaw};
use crate::error::{Error, Result};
use crate::roots::Termination;
use crate::stats::mean_se;

/// Empirical moments of the squared singular values, with standard errors over networks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmpiricalMoments {
    /// Mean squared singular value.
    pub m1: f64,
    /// Its standard error.
    pub m1_se: f64,
    /// Mean of the fourth power of the singular values.
    pub m2: f64,
    /// Its standard error.
    pub m2_se: f64,
    /// `E[λ³]` (sixth power of the singular values).
    pub m3: f64,
    /// Its standard error.
    pub m3_se: f64,
    /// `E[λ⁴]`.
    pub m4: f64,
    /// Its standard error.
    pub m4_se: f64,
    /// `(m₂ − m₁²)/m₁²` (per network, then averaged; 0 for a network whose Jacobian vanishes,
    /// a point mass at 0).
    pub normalized_variance: f64,
    /// Its standard error.
    pub normalized_variance_se: f64,
}

/// Squared singular values of `J_T` from several networks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JacobianSample {
    /// All squared singular values (every network), sorted.
    pub squared_singular_values: Vec<f64>,
    /// Moments with standard errors over networks.
    pub moments: EmpiricalMoments,
    /// The settings used.
    pub config: SimConfig,
    /// Steps in the product.
    pub steps: usize,
    /// Steps run before the product starts (to reach the fixed point).
    pub burn_in: usize,
}

/// How the product `J_T = J^T ⋯ J^1` is accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Accumulation {
    /// Multiply the matrices (rescaled by powers of two so the product cannot overflow) and
    /// take the SVD: fast, but singular values far below the largest lose relative accuracy
    /// (absolute error `≈ ε s_max`).
    #[default]
    Direct,
    /// Keep `J_t = Q_t R_t` with `Q_t` orthogonal: each step re-factors `J^t Q_{t−1}` and
    /// multiplies the triangular factors; the squared singular values of `R_T` come from a
    /// one-sided Jacobi SVD, which is accurate in the relative sense for the graded triangular
    /// factors these products produce (long horizons, off-critical settings).
    Qr,
}

/// Samples `T`-step Jacobians `J_T = ∏ (diag(a^t) + diag(b^t) W)` of `cfg.seeds()` networks of
/// `cell` at `p` (the entries `a, b` from the cell's unit rule, [`Cell::unit_slopes`]: the
/// vanilla RNN's `J^t = diag(φ'(e^t)) W`, the minimalRNN's `a = u`,
/// `b = u(1−u)(h^{t−1} − z^t)`): each network runs `burn_in` steps from `h^0 = 0` on one
/// input sequence (second moment `R`), then the product of the next `steps` one-step
/// Jacobians is accumulated as `acc` says. The Jacobian of step `t` uses the `W` that produced
/// `e^t` (with untied weights, a fresh one).
///
/// # Errors
/// [`Error::InvalidParameter`] for `steps == 0` or when `p` violates the cell's constraint;
/// [`Error::TooLarge`] when the run would exceed the memory or time limit ([`estimate`]).
pub fn sample(
    cell: &Cell,
    p: &CellParams,
    cfg: &SimConfig,
    steps: usize,
    burn_in: usize,
    acc: Accumulation,
) -> Result<JacobianSample> {
    if steps == 0 {
        return Err(Error::invalid("steps", 0.0, "at least 1"));
    }
    cell.validate(p)?;
    let cfg = if cell.input_enters_state() {
        cfg.with_state_sized_input()
    } else {
        *cfg
    };
    estimate(&cfg, steps, burn_in, acc).check()?;
    let per: Vec<Vec<f64>> = (0..cfg.seeds())
        .into_par_iter()
        .map(|s| run_network(cell, p, &cfg, steps, burn_in, acc, s))
        .collect();
    let mut stats = Vec::with_capacity(per.len());
    for l in &per {
        let n = l.len() as f64;
        let m1 = l.iter().sum::<f64>() / n;
        let m2 = l.iter().map(|x| x * x).sum::<f64>() / n;
        let m3 = l.iter().map(|x| x * x * x).sum::<f64>() / n;
        let m4 = l.iter().map(|x| (x * x) * (x * x)).sum::<f64>() / n;
        // A Jacobian that vanishes (every unit saturated, e.g. hard_tanh) has all its mass at
        // 0: a point mass, whose spread is 0 rather than 0/0.
        let nv = if m1 > 0.0 {
            (m2 - m1 * m1) / (m1 * m1)
        } else {
            0.0
        };
        stats.push([m1, m2, m3, m4, nv]);
    }
    let col = |i: usize| -> (f64, f64) {
        let m = mean_se(&stats.iter().map(|s| s[i]).collect::<Vec<_>>());
        (m.mean, m.se)
    };
    let (m1, m1_se) = col(0);
    let (m2, m2_se) = col(1);
    let (m3, m3_se) = col(2);
    let (m4, m4_se) = col(3);
    let (nv, nv_se) = col(4);
    let mut all: Vec<f64> = per.into_iter().flatten().collect();
    all.sort_by(f64::total_cmp);
    Ok(JacobianSample {
        squared_singular_values: all,
        moments: EmpiricalMoments {
            m1,
            m1_se,
            m2,
            m2_se,
            m3,
            m3_se,
            m4,
            m4_se,
            normalized_variance: nv,
            normalized_variance_se: nv_se,
        },
        config: cfg,
        steps,
        burn_in,
    })
}

/// The memory and time of [`sample`]: per running network `W`, `V`, the accumulated product
/// with its QR factors and the SVD's copy (about `(w + 7) N²` doubles, `w` = 1 for Gaussian
/// and 4 for orthogonal `W` with its Haar draw); all singular values (twice, for sorting);
/// time `2 N²` a burn-in step (with redraws when untied), `2 N³` (direct) or `5 N³` (QR) a
/// product step, and the SVD (`10 N³`, Jacobi `30 N³`).
pub fn estimate(
    cfg: &SimConfig,
    steps: usize,
    burn_in: usize,
    acc: Accumulation,
) -> crate::budget::Estimate {
    use crate::budget::{blame, concurrency};
    let (n, nin, s) = (
        cfg.width() as f64,
        cfg.input_dim() as f64,
        cfg.seeds() as f64,
    );
    let (t, b) = (steps as f64, burn_in as f64);
    let k = concurrency(cfg.seeds());
    let orth = cfg.weights() == WeightLaw::Orthogonal;
    let wf = if orth { 4.0 } else { 1.0 };
    let (wide, wv) = blame(&[("width", n, 800.0), ("input-dim", nin, n.max(1.0))]);
    let (many, mv) = blame(&[("seeds", s, 4.0), ("width", n, 800.0)]);
    let draw = 20.0 * (n * n + n * nin) + if orth { 3.0 * n * n * n } else { 0.0 };
    let step = 2.0 * n * n + 2.0 * n * nin + if cfg.regime().tied { 0.0 } else { draw };
    let product = match acc {
        Accumulation::Direct => 2.0 * n * n * n,
        Accumulation::Qr => 5.0 * n * n * n,
    };
    let svd = match acc {
        Accumulation::Direct => 10.0,
        Accumulation::Qr => 30.0,
    } * n
        * n
        * n;
    let (long, lv) = blame(&[
        ("burn-in", b, 50.0),
        ("steps", t, 10.0),
        ("width", n, 800.0),
        ("seeds", s, 4.0),
    ]);
    crate::budget::Estimate::new("sampling Jacobians")
        .memory(wide, wv, 8.0 * k as f64 * ((wf + 7.0) * n * n + n * nin))
        .memory(many, mv, 16.0 * s * n)
        .ops(long, lv, s * ((b + t) * step + t * product + svd + draw), k)
}

/// A running product of one-step Jacobians `diag(a) + diag(b) W`.
#[derive(Debug, Clone)]
pub struct Accumulator {
    mode: Accumulation,
    /// Direct: the product; QR: the orthogonal factor.
    m: DMatrix<f64>,
    /// QR: the triangular factor.
    r: DMatrix<f64>,
    /// The product is `2^log2_scale` times what is stored.
    log2_scale: i32,
}

impl Accumulator {
    /// The identity of size `n`.
    pub fn new(n: usize, mode: Accumulation) -> Accumulator {
        Accumulator {
            mode,
            m: DMatrix::identity(n, n),
            r: DMatrix::identity(n, n),
            log2_scale: 0,
        }
    }

    /// Left-multiplies by `diag(a) + diag(b) w`.
    pub fn push(&mut self, a: &[f64], b: &[f64], w: &DMatrix<f64>) {
        let mut next = w * &self.m;
        let n = next.nrows();
        for j in 0..next.ncols() {
            for i in 0..n {
                next[(i, j)] = b[i] * next[(i, j)] + a[i] * self.m[(i, j)];
            }
        }
        match self.mode {
            Accumulation::Direct => {
                self.m = next;
                self.rescale_m();
            }
            Accumulation::Qr => {
                let (q, r) = next.qr().unpack();
                self.m = q;
                self.r = r * &self.r;
                let big = self.r.amax();
                if big > 0.0 && big.is_finite() {
                    let k = big.log2().round() as i32;
                    self.r *= 2f64.powi(-k);
                    self.log2_scale += k;
                }
            }
        }
    }

    fn rescale_m(&mut self) {
        let big = self.m.amax();
        if big > 0.0 && big.is_finite() {
            let k = big.log2().round() as i32;
            self.m *= 2f64.powi(-k);
            self.log2_scale += k;
        }
    }

    /// Squared singular values of the product, in decreasing order.
    pub fn squared_singular_values(&self) -> Vec<f64> {
        let mut s: Vec<f64> = match self.mode {
            Accumulation::Direct => singular_values(&self.m),
            Accumulation::Qr => jacobi_singular_values(self.r.clone()),
        };
        s.sort_by(|a, b| b.total_cmp(a));
        let f = 2f64.powi(self.log2_scale);
        s.iter().map(|x| (x * f) * (x * f)).collect()
    }
}

/// Singular values of a dense matrix: nalgebra's bidiagonal QR, or faer's divide and conquer
/// with the `faer` feature (faster from a few hundred rows; `docs/performance.md`).
pub fn singular_values(m: &DMatrix<f64>) -> Vec<f64> {
    #[cfg(feature = "faer")]
    {
        let f = faer::Mat::<f64>::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)]);
        if let Ok(s) = f.singular_values() {
            return s;
        }
    }
    m.singular_values().iter().copied().collect()
}

/// Settings of the one-sided Jacobi SVD ([`jacobi_singular_values_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JacobiParams {
    /// Rows count as orthogonal when `|⟨x_p, x_q⟩| <= tol ‖x_p‖ ‖x_q‖`. Default 1e-15.
    pub tol: f64,
    /// Largest number of sweeps over all pairs (Jacobi converges quadratically once the rows
    /// are nearly orthogonal: under 15 sweeps for the Jacobians of the test suite). Default 60.
    pub max_sweeps: usize,
}

impl Default for JacobiParams {
    fn default() -> Self {
        JacobiParams {
            tol: 1e-15,
            max_sweeps: 60,
        }
    }
}

/// Singular values from [`jacobi_singular_values_with`], with the sweeps spent and why it
/// stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JacobiSvd {
    /// The singular values (row norms after the rotations), in row order.
    pub values: Vec<f64>,
    /// Sweeps over all pairs of rows.
    pub sweeps: usize,
    /// [`Termination::Converged`] when a sweep rotated nothing; [`Termination::MaxIterations`]
    /// when `max_sweeps` ran out first (the values are then those of the last sweep).
    pub termination: Termination,
}

/// Singular values by the one-sided (Hestenes) Jacobi method on the rows of `a`: rotate
/// pairs of rows until all are mutually orthogonal; the row norms are then the singular
/// values. Each rotation is exact to rounding in the relative sense, which is what keeps
/// tiny singular values of graded matrices accurate. As [`jacobi_singular_values_with`] with
/// the default [`JacobiParams`], returning the values only.
pub fn jacobi_singular_values(a: DMatrix<f64>) -> Vec<f64> {
    jacobi_singular_values_with(a, &JacobiParams::default()).values
}

/// [`jacobi_singular_values`] with explicit settings, reporting the sweeps and the
/// [`Termination`].
pub fn jacobi_singular_values_with(a: DMatrix<f64>, params: &JacobiParams) -> JacobiSvd {
    // Work on columns of the transpose (column access is contiguous).
    let mut x = a.transpose();
    let n = x.ncols();
    let mut sweeps = 0;
    let mut termination = Termination::MaxIterations;
    while sweeps < params.max_sweeps {
        sweeps += 1;
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (alpha, beta, gamma) = {
                    let cp = x.column(p);
                    let cq = x.column(q);
                    (cp.norm_squared(), cq.norm_squared(), cp.dot(&cq))
                };
                if gamma == 0.0 || gamma.abs() <= params.tol * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for i in 0..x.nrows() {
                    let (xp, xq) = (x[(i, p)], x[(i, q)]);
                    x[(i, p)] = c * xp - s * xq;
                    x[(i, q)] = s * xp + c * xq;
                }
            }
        }
        if !rotated {
            termination = Termination::Converged;
            break;
        }
    }
    JacobiSvd {
        values: (0..n).map(|j| x.column(j).norm()).collect(),
        sweeps,
        termination,
    }
}

fn run_network(
    cell: &Cell,
    p: &CellParams,
    cfg: &SimConfig,
    steps: usize,
    burn_in: usize,
    acc: Accumulation,
    s: usize,
) -> Vec<f64> {
    let mut rng = cfg.rng(s);
    let (n, nin) = (cfg.width(), cfg.input_dim());
    let state_input = cell.input_enters_state();
    let mut net = NetworkWeights::draw(&mut rng, cfg, p);
    let sr = p.r().sqrt();
    let mut h = DMatrix::<f64>::zeros(n, 1);
    let mut jac = Accumulator::new(n, acc);
    let mut a = vec![0.0; n];
    let mut b = vec![0.0; n];
    for t in 0..burn_in + steps {
        if t > 0 {
            net.redraw(&mut rng, cfg, p);
        }
        let x = DMatrix::from_fn(nin, 1, |_, _| sr * rng.sample::<f64, _>(StandardNormal));
        let e = &net.w * &h + &net.vin * &x;
        for i in 0..n {
            let ei = e[(i, 0)] + net.bias[i];
            let (hp, z) = (h[(i, 0)], if state_input { x[(i, 0)] } else { 0.0 });
            let slopes = cell.unit_slopes(hp, ei, z);
            a[i] = slopes.a;
            b[i] = slopes.b;
            h[(i, 0)] = cell.unit_state(hp, ei, z);
        }
        if t >= burn_in {
            jac.push(&a, &b, &net.w);
        }
        crate::budget::tick(1);
    }
    jac.squared_singular_values()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{gaussian_matrix, orthogonal_matrix};

    /// A configuration used here only for its seeded random streams ([`SimConfig::rng`]).
    fn rng_source(width: usize, seed: u64) -> SimConfig {
        SimConfig::builder()
            .width(width)
            .batch(1)
            .seeds(2)
            .seed(seed)
            .build()
            .unwrap()
    }

    /// `values` are the singular values of the square `a` as nalgebra computes them, to 1e-12
    /// of the largest.
    fn assert_nalgebra_values(mut values: Vec<f64>, a: &DMatrix<f64>) {
        let mut reference: Vec<f64> = a.singular_values().iter().copied().collect();
        values.sort_by(f64::total_cmp);
        reference.sort_by(f64::total_cmp);
        let largest = reference[a.nrows() - 1];
        for (x, y) in values.iter().zip(&reference) {
            assert!((x - y).abs() < 1e-12 * largest, "{x} vs {y}");
        }
    }

    /// Jacobi singular values agree with nalgebra's on a generic matrix.
    #[test]
    fn jacobi_matches_nalgebra() {
        let cfg = rng_source(10, 11);
        let a = gaussian_matrix(&mut cfg.rng(0), 30, 30, 1.0);
        assert_nalgebra_values(jacobi_singular_values(a.clone()), &a);
    }

    /// The Jacobi SVD reports its sweeps and why it stopped: converged within the default
    /// budget, out of sweeps with a budget of one (a generic matrix is not orthogonalised by
    /// one sweep), converged at once on orthogonal rows.
    #[test]
    fn jacobi_reports_its_termination() {
        let cfg = rng_source(10, 11);
        let a = gaussian_matrix(&mut cfg.rng(0), 30, 30, 1.0);
        let full = jacobi_singular_values_with(a.clone(), &JacobiParams::default());
        assert_eq!(full.termination, Termination::Converged);
        assert!(full.sweeps > 1 && full.sweeps < 60, "{}", full.sweeps);
        assert_eq!(full.values, jacobi_singular_values(a.clone()));
        let one = JacobiParams {
            max_sweeps: 1,
            ..JacobiParams::default()
        };
        let cut = jacobi_singular_values_with(a, &one);
        assert_eq!(
            (cut.termination, cut.sweeps),
            (Termination::MaxIterations, 1)
        );
        let q = orthogonal_matrix(&mut cfg.rng(1), 12, 2.0);
        let done = jacobi_singular_values_with(q, &JacobiParams::default());
        assert_eq!(done.termination, Termination::Converged);
        assert!(
            done.values.iter().all(|v| (v - 2.0).abs() < 1e-13),
            "{:?}",
            done.values
        );
    }

    /// The faer backend agrees with nalgebra.
    #[cfg(feature = "faer")]
    #[test]
    fn backend_singular_values_agree() {
        let cfg = rng_source(10, 12);
        let a = gaussian_matrix(&mut cfg.rng(0), 60, 60, 1.0);
        assert_nalgebra_values(singular_values(&a), &a);
    }

    /// A telescoping product `O_T D O_{T−1}ᵀ ⋯ O_1 D O_0ᵀ = O_T D^T O_0ᵀ` has singular values
    /// `d_i^T` exactly. With `d` spanning 0.3..1 and T = 120 they span 60 orders of magnitude:
    /// QR accumulation keeps every one to 1e-9 relative, the direct product cannot (its
    /// absolute error is ≈ ε s_max, so values below ~1e-16 of the largest are noise).
    #[test]
    fn qr_accumulation_keeps_small_singular_values() {
        let n = 12;
        let t_steps: i32 = 120;
        let d: Vec<f64> = (0..n)
            .map(|i| 0.3 + 0.7 * i as f64 / (n - 1) as f64)
            .collect();
        let cfg = rng_source(n, 5);
        let mut rng = cfg.rng(0);
        let mut prev = orthogonal_matrix(&mut rng, n, 1.0);
        let mut qr = Accumulator::new(n, Accumulation::Qr);
        let mut direct = Accumulator::new(n, Accumulation::Direct);
        // Identity accumulators start at I: push O_0ᵀ first as a = 0, b = 1, W = O_0ᵀ.
        let ones = vec![1.0; n];
        let zeros = vec![0.0; n];
        qr.push(&zeros, &ones, &prev.transpose());
        direct.push(&zeros, &ones, &prev.transpose());
        for _ in 0..t_steps {
            let next = orthogonal_matrix(&mut rng, n, 1.0);
            // Step matrix O_next D O_prevᵀ, applied as diag(0) + diag(1) W.
            let mut w = &next * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(d.clone()));
            w *= prev.transpose();
            qr.push(&zeros, &ones, &w);
            direct.push(&zeros, &ones, &w);
            prev = next;
        }
        let mut exact: Vec<f64> = d.iter().map(|x| x.powi(2 * t_steps)).collect();
        exact.sort_by(|a, b| b.total_cmp(a));
        let got = qr.squared_singular_values();
        for (g, e) in got.iter().zip(&exact) {
            assert!((g / e - 1.0).abs() < 1e-9, "QR: {g:e} vs {e:e}");
        }
        let dir = direct.squared_singular_values();
        let worst = dir
            .iter()
            .zip(&exact)
            .map(|(g, e)| (g / e - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(worst > 1.0, "the direct product should fail here: {worst}");
    }
}
