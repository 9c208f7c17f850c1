//! Statistics of Monte Carlo results: means with standard errors over independent runs,
//! trajectories of estimates, Kolmogorov–Smirnov distances, quantiles, empirical distribution
//! functions, histograms and the weighted fit of a `κ/N` finite-width bias.
//!
//! Everything here is plain arithmetic on samples; the simulators ([`crate::sim`]) and the
//! sampled exact theory ([`crate::exact`]) produce the samples. Standard errors are those of
//! the mean of independent replicas (networks, or independent sets of unit paths): with `n`
//! replicas, `se = s/√n` with the unbiased sample variance `s²` (`theory/07-simulation.md`).

use serde::Serialize;

use crate::error::{Error, Result};

/// A mean and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSe {
    /// The sample mean.
    pub mean: f64,
    /// Its standard error, `s/√n` (NaN for fewer than two values).
    pub se: f64,
}

/// Mean and standard error of independent estimates `xs` (one per replica).
///
/// ```
/// let m = mfrnn::stats::mean_se(&[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(m.mean, 2.5);
/// assert!((m.se - (5.0f64 / 12.0).sqrt()).abs() < 1e-15);
/// ```
///
/// Scaled so that neither the mean nor the sum of squared deviations overflows for values up
/// to the largest double.
pub fn mean_se(xs: &[f64]) -> MeanSe {
    let n = xs.len() as f64;
    let mut mean = xs.iter().sum::<f64>() / n;
    if !mean.is_finite() {
        mean = xs.iter().map(|x| x / n).sum::<f64>();
    }
    if xs.len() < 2 {
        return MeanSe { mean, se: f64::NAN };
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    if var.is_finite() {
        return MeanSe {
            mean,
            se: (var / n).sqrt(),
        };
    }
    let scale = xs.iter().fold(0.0f64, |a, x| a.max((x - mean).abs()));
    if scale == 0.0 || !scale.is_finite() {
        return MeanSe { mean, se: scale };
    }
    let ss = xs.iter().map(|x| ((x - mean) / scale).powi(2)).sum::<f64>();
    MeanSe {
        mean,
        se: scale * (ss / (n * (n - 1.0))).sqrt(),
    }
}

/// Statistics of two sequences over time, `t = 1..=T`, each with its standard error: from
/// simulated networks ([`crate::sim::SimTrajectory`], over networks) or from the sampled exact
/// theory ([`crate::exact::ExactTrajectory`], over replicas). The quantities are those of
/// [`crate::cells::Trajectory`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimates<C> {
    /// Steps `1..=T`.
    pub t: Vec<usize>,
    /// Pre-activation (gate) variance.
    pub q: Vec<f64>,
    /// Its standard error.
    pub q_se: Vec<f64>,
    /// Hidden second moment.
    #[serde(rename = "Q")]
    pub big_q: Vec<f64>,
    /// Its standard error.
    #[serde(rename = "Q_se")]
    pub big_q_se: Vec<f64>,
    /// Pre-activation covariance of the two sequences.
    pub q_ab: Vec<f64>,
    /// Its standard error.
    pub q_ab_se: Vec<f64>,
    /// Hidden second moment between sequences.
    #[serde(rename = "C")]
    pub big_c: Vec<f64>,
    /// Its standard error.
    #[serde(rename = "C_se")]
    pub big_c_se: Vec<f64>,
    /// Correlation.
    pub c: Vec<f64>,
    /// Its standard error.
    pub c_se: Vec<f64>,
    /// The settings used.
    pub config: C,
}

/// The per-step statistics of one replica: `q, Q, q_ab, C, c`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepStats {
    /// Pre-activation variance.
    pub q: f64,
    /// Hidden second moment.
    pub big_q: f64,
    /// Pre-activation covariance of the two sequences.
    pub q_ab: f64,
    /// Hidden second moment between sequences.
    pub big_c: f64,
    /// Correlation.
    pub c: f64,
}

impl StepStats {
    /// Names of the statistics in the order of [`StepStats::values`].
    pub const NAMES: [&'static str; 5] = ["q", "Q", "q_ab", "C", "c"];

    /// `[q, Q, q_ab, C, c]`.
    pub fn values(&self) -> [f64; 5] {
        [self.q, self.big_q, self.q_ab, self.big_c, self.c]
    }

    /// A step whose statistics overflowed (every value infinite), for
    /// [`check_finite_runs`] to report.
    pub fn not_finite() -> StepStats {
        StepStats {
            q: f64::INFINITY,
            big_q: f64::INFINITY,
            q_ab: f64::INFINITY,
            big_c: f64::INFINITY,
            c: f64::INFINITY,
        }
    }
}

/// The first step (1-based) at which a per-run statistic is not finite, as
/// [`Error::Diverged`] with `reason()`; `Ok` if every value is finite.
///
/// A statistic that overflows is not a result: from there on sums of squares are infinite,
/// differences of them NaN, and a correlation computed from them would be fabricated.
///
/// # Errors
/// [`Error::Diverged`] naming the statistic, the step, its value and the reason, with the
/// largest finite value of the step before.
pub fn check_finite_runs(runs: &[Vec<StepStats>], reason: impl FnOnce() -> String) -> Result<()> {
    let mut first: Option<(usize, usize, f64)> = None;
    for run in runs {
        let limit = first.map_or(run.len(), |f| f.0.min(run.len()));
        if let Some((t, k, v)) = run[..limit].iter().enumerate().find_map(|(t, st)| {
            st.values()
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite())
                .map(|(k, v)| (t, k, *v))
        }) {
            first = Some((t, k, v));
        }
    }
    match first {
        None => Ok(()),
        Some((t, k, value)) => {
            let last = runs
                .iter()
                .filter_map(|r| r.get(t.wrapping_sub(1)).map(|st| st.values()[k]))
                .filter(|v| v.is_finite())
                .fold(f64::NAN, f64::max);
            let before = if t > 0 && last.is_finite() {
                format!(" (largest finite value at step {t}: {last:e})")
            } else {
                String::new()
            };
            Err(Error::Diverged {
                quantity: StepStats::NAMES[k],
                step: t + 1,
                value,
                reason: format!("{}{before}", reason()),
            })
        }
    }
}

/// Means and standard errors over independent replicas of their per-step statistics.
pub fn estimates<C>(runs: &[Vec<StepStats>], steps: usize, config: C) -> Estimates<C> {
    let mut out = Estimates {
        t: (1..=steps).collect(),
        q: Vec::with_capacity(steps),
        q_se: Vec::with_capacity(steps),
        big_q: Vec::with_capacity(steps),
        big_q_se: Vec::with_capacity(steps),
        q_ab: Vec::with_capacity(steps),
        q_ab_se: Vec::with_capacity(steps),
        big_c: Vec::with_capacity(steps),
        big_c_se: Vec::with_capacity(steps),
        c: Vec::with_capacity(steps),
        c_se: Vec::with_capacity(steps),
        config,
    };
    type Field = fn(&StepStats) -> f64;
    let fields: [Field; 5] = [|s| s.q, |s| s.big_q, |s| s.q_ab, |s| s.big_c, |s| s.c];
    for t in 0..steps {
        for (field, (m, e)) in fields.iter().zip([
            (&mut out.q, &mut out.q_se),
            (&mut out.big_q, &mut out.big_q_se),
            (&mut out.q_ab, &mut out.q_ab_se),
            (&mut out.big_c, &mut out.big_c_se),
            (&mut out.c, &mut out.c_se),
        ]) {
            let col: Vec<f64> = runs.iter().map(|r| field(&r[t])).collect();
            let s = mean_se(&col);
            m.push(s.mean);
            e.push(s.se);
        }
    }
    out
}

/// Kolmogorov–Smirnov distance `sup_x |F_n(x) − F(x)|` between the empirical distribution of
/// a **sorted** sample and a distribution function `cdf`.
///
/// ```
/// // Uniform sample against the uniform CDF on [0, 1].
/// let xs: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect();
/// let d = mfrnn::stats::ks_distance(&xs, |x| x.clamp(0.0, 1.0));
/// assert!((d - 0.005).abs() < 1e-12);
/// ```
pub fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    d
}

/// The `p`-quantile of **sorted** values (the nearest order statistic, `p ∈ [0, 1]`); NaN for
/// an empty sample.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize]
}

/// The empirical distribution function of a **sorted** sample at `x`: the fraction of values
/// `≤ x` (NaN for an empty sample).
///
/// ```
/// let xs = [1.0, 2.0, 2.0, 4.0];
/// assert_eq!(mfrnn::stats::empirical_cdf(&xs, 2.0), 0.75);
/// assert_eq!(mfrnn::stats::empirical_cdf(&xs, 0.5), 0.0);
/// ```
pub fn empirical_cdf(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|&v| v <= x) as f64 / sorted.len() as f64
}

/// The fraction of the values of `xs` in the closed interval `[lo, hi]` (NaN for an empty
/// sample).
pub fn fraction_within(xs: &[f64], lo: f64, hi: f64) -> f64 {
    xs.iter().filter(|&&x| x >= lo && x <= hi).count() as f64 / xs.len() as f64
}

/// A density histogram of `xs` on `[lo, hi)` with `bins` equal bins: bin centres and
/// densities (counts over `n · width`, so that the whole sample integrates to one; values
/// outside the range count in `n` but in no bin). Empty vectors for an empty sample.
pub fn histogram(xs: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<f64>) {
    if xs.is_empty() || bins == 0 || hi <= lo {
        return (Vec::new(), Vec::new());
    }
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in xs {
        if x >= lo && x < hi {
            counts[(((x - lo) / w) as usize).min(bins - 1)] += 1;
        }
    }
    let n = xs.len() as f64;
    let centres = (0..bins).map(|i| lo + (i as f64 + 0.5) * w).collect();
    let dens = counts.iter().map(|&c| c as f64 / (n * w)).collect();
    (centres, dens)
}

/// The weighted least-squares fit of a finite-width bias `d(N) = κ/N` (`theory/07`, (Sim.7)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InverseWidthFit {
    /// `κ`.
    pub kappa: f64,
    /// Its standard error, `1/√(Σ w x²)` with `x = 1/N`, `w = 1/se²`.
    pub kappa_se: f64,
    /// `χ² = Σ ((d − κ/N)/se)²`.
    pub chi2: f64,
    /// Degrees of freedom (points − 1).
    pub dof: usize,
}

/// Fits `difference = κ/N` through the origin to points `(N, difference, se)`, weighting each
/// by `1/se²`.
///
/// ```
/// // Exact κ/N data: the fit recovers κ with χ² = 0.
/// let pts = [(16, 0.5 / 16.0, 0.01), (64, 0.5 / 64.0, 0.01), (256, 0.5 / 256.0, 0.002)];
/// let f = mfrnn::stats::fit_inverse_width(&pts);
/// assert!((f.kappa - 0.5).abs() < 1e-12 && f.chi2 < 1e-20 && f.dof == 2);
/// ```
pub fn fit_inverse_width(points: &[(usize, f64, f64)]) -> InverseWidthFit {
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(n, d, se) in points {
        let (x, w) = (1.0 / n as f64, 1.0 / (se * se).max(1e-300));
        sxx += w * x * x;
        sxy += w * x * d;
    }
    let kappa = sxy / sxx;
    let chi2 = points
        .iter()
        .map(|&(n, d, se)| {
            let z = (d - kappa / n as f64) / se.max(1e-300);
            z * z
        })
        .sum();
    InverseWidthFit {
        kappa,
        kappa_se: 1.0 / sxx.sqrt(),
        chi2,
        dof: points.len().saturating_sub(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_average_replicas_step_by_step() {
        let run = |x: f64| {
            vec![
                StepStats {
                    q: x,
                    big_q: 2.0 * x,
                    q_ab: 0.0,
                    big_c: 1.0,
                    c: -x,
                };
                3
            ]
        };
        let e = estimates(&[run(1.0), run(3.0)], 3, ());
        assert_eq!(e.t, [1, 2, 3]);
        assert_eq!(e.q, [2.0; 3]);
        assert_eq!(e.big_q, [4.0; 3]);
        assert_eq!(e.c, [-2.0; 3]);
        assert_eq!(e.q_se, [1.0; 3]);
        assert_eq!(e.big_c_se, [0.0; 3]);
    }

    #[test]
    fn histogram_integrates_to_the_fraction_inside() {
        let xs: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let (c, d) = histogram(&xs, 0.0, 0.5, 10);
        assert_eq!(c.len(), 10);
        let mass: f64 = d.iter().sum::<f64>() * 0.05;
        assert!((mass - 0.5).abs() < 1e-12, "{mass}");
        assert_eq!(quantile(&xs, 0.5), 0.5);
        assert_eq!(fraction_within(&xs, 0.1, 0.2), 0.101);
        assert_eq!(empirical_cdf(&xs, 0.0995), 0.1);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
