//! A radix-2 fast Fourier transform and the circulant-embedding sampler of stationary Gaussian
//! sequences (Dietrich & Newsam 1997; Wood & Chan 1994), `theory/11-stationary-exact.md`
//! (X.4).
//!
//! A stationary sequence with autocovariance `c(τ)` (`c(τ) = 0` beyond the lags given) is
//! embedded in a circulant covariance of period `m` (a power of two, `m >= 2L`): the first row
//! `c(0), c(1), …, c(m/2), c(m/2 − 1), …, c(1)`. Its eigenvalues are the discrete Fourier
//! transform `λ_k` of that row; with complex white noise `ξ_k = a_k + i b_k`, the transform
//! of `√(λ_k/m) ξ_k` has real and imaginary parts that are two independent periodic Gaussian
//! sequences with exactly the circulant covariance, at `O(m log m)` per pair. Negative `λ_k`
//! (a row that is not positive semi-definite, e.g. a noisy estimate) are set to zero; the
//! variance this removes, relative to `c(0)`, is reported ([`Circulant::clipped`]).

use num_complex::Complex64;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::error::{Error, Result};

/// A precomputed radix-2 FFT of one power-of-two size.
#[derive(Debug, Clone)]
pub struct Fft {
    n: usize,
    /// `e^{−2πi k/n}`, `k < n/2`.
    twiddles: Vec<Complex64>,
}

impl Fft {
    /// The transform of size `n`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`length`) unless `n` is a power of two `>= 2`.
    pub fn new(n: usize) -> Result<Fft> {
        if n < 2 || !n.is_power_of_two() {
            return Err(Error::invalid("length", n as f64, "a power of two >= 2"));
        }
        let twiddles = (0..n / 2)
            .map(|k| {
                let a = -2.0 * std::f64::consts::PI * k as f64 / n as f64;
                Complex64::new(a.cos(), a.sin())
            })
            .collect();
        Ok(Fft { n, twiddles })
    }

    /// The size.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false (sizes are at least 2).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// In place: `x_k ← Σ_j x_j e^{∓2πi jk/n}` (`−` forward, `+` inverse; unnormalised).
    ///
    /// # Panics
    /// If `x.len()` is not the transform's size (an internal invariant).
    pub fn transform(&self, x: &mut [Complex64], inverse: bool) {
        let n = self.n;
        assert_eq!(x.len(), n, "FFT buffer of the wrong size");
        // Bit-reversal permutation.
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                x.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..half {
                    let w = self.twiddles[k * step];
                    let w = if inverse { w.conj() } else { w };
                    let a = x[start + k];
                    let b = x[start + k + half] * w;
                    x[start + k] = a + b;
                    x[start + k + half] = a - b;
                }
            }
            len *= 2;
        }
    }

    /// The circular autocorrelation `r(τ) = Σ_t x_t x_{(t+τ) mod n}` of a real sequence, for
    /// `τ = 0..lags` (`O(n log n)`), added to `out` (length `lags + 1`).
    ///
    /// # Panics
    /// If `x.len() != n`, `out.len() != lags + 1` or `lags >= n`.
    pub fn add_autocorrelation(
        &self,
        x: &[f64],
        lags: usize,
        buf: &mut [Complex64],
        out: &mut [f64],
    ) {
        assert!(x.len() == self.n && out.len() == lags + 1 && lags < self.n);
        for (b, &v) in buf.iter_mut().zip(x) {
            *b = Complex64::new(v, 0.0);
        }
        self.transform(buf, false);
        for b in buf.iter_mut() {
            *b = Complex64::new(b.norm_sqr(), 0.0);
        }
        self.transform(buf, true);
        let inv = 1.0 / self.n as f64;
        for (o, b) in out.iter_mut().zip(buf.iter()) {
            *o += b.re * inv;
        }
    }
}

/// The circulant embedding of a stationary autocovariance: samples periodic Gaussian
/// sequences of period `m` whose covariance at circular lag `τ` is `c(min(τ, m − τ))`.
#[derive(Debug, Clone)]
pub struct Circulant {
    fft: Fft,
    /// `√(max(λ_k, 0)/m)`.
    scale: Vec<f64>,
    clipped: f64,
}

impl Circulant {
    /// The embedding of period `m` of `cov` (`cov[τ]`, `τ = 0..`; zero beyond).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`length`) unless `m` is a power of two with
    /// `cov.len() <= m/2 + 1`; (`covariance`) unless `cov[0] > 0` and every entry is finite.
    pub fn new(cov: &[f64], m: usize) -> Result<Circulant> {
        let fft = Fft::new(m)?;
        if cov.len() > m / 2 + 1 {
            return Err(Error::invalid(
                "length",
                m as f64,
                "a period at least twice the number of covariance lags",
            ));
        }
        if !(cov.first().is_some_and(|&c| c > 0.0) && cov.iter().all(|c| c.is_finite())) {
            return Err(Error::invalid(
                "covariance",
                cov.first().copied().unwrap_or(f64::NAN),
                "a finite autocovariance with c(0) > 0",
            ));
        }
        let mut row = vec![Complex64::new(0.0, 0.0); m];
        for (tau, &c) in cov.iter().enumerate() {
            row[tau] = Complex64::new(c, 0.0);
            if tau > 0 {
                row[m - tau] = Complex64::new(c, 0.0);
            }
        }
        fft.transform(&mut row, false);
        let mut neg = 0.0;
        let scale = row
            .iter()
            .map(|l| {
                if l.re < 0.0 {
                    neg -= l.re;
                    0.0
                } else {
                    (l.re / m as f64).sqrt()
                }
            })
            .collect();
        Ok(Circulant {
            fft,
            scale,
            clipped: neg / (m as f64 * cov[0]),
        })
    }

    /// The period `m`.
    pub fn period(&self) -> usize {
        self.fft.len()
    }

    /// The variance removed by zeroing negative eigenvalues, relative to `c(0)`
    /// (`Σ_{λ_k<0} |λ_k| / (m c(0))`; 0 when the embedding is positive semi-definite).
    pub fn clipped(&self) -> f64 {
        self.clipped
    }

    /// Two independent periodic sequences (`a`, `b`, each of length `m`), using `buf`
    /// (length `m`) as scratch.
    ///
    /// # Panics
    /// If a slice has the wrong length (an internal invariant).
    pub fn sample_pair<R: Rng>(
        &self,
        rng: &mut R,
        buf: &mut [Complex64],
        a: &mut [f64],
        b: &mut [f64],
    ) {
        for (x, &s) in buf.iter_mut().zip(&self.scale) {
            let re: f64 = rng.sample(StandardNormal);
            let im: f64 = rng.sample(StandardNormal);
            *x = Complex64::new(s * re, s * im);
        }
        self.fft.transform(buf, false);
        for ((x, ya), yb) in buf.iter().zip(a.iter_mut()).zip(b.iter_mut()) {
            *ya = x.re;
            *yb = x.im;
        }
    }

    /// The FFT of the period (for autocorrelations of sampled sequences).
    pub fn fft(&self) -> &Fft {
        &self.fft
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn fft_matches_the_naive_transform() {
        let n = 64;
        let f = Fft::new(n).unwrap();
        let x: Vec<Complex64> = (0..n)
            .map(|j| Complex64::new((j as f64 * 0.37).sin(), (j as f64 * 1.3).cos() - 0.2))
            .collect();
        let mut y = x.clone();
        f.transform(&mut y, false);
        for (k, yk) in y.iter().enumerate() {
            let mut s = Complex64::new(0.0, 0.0);
            for (j, v) in x.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * (j * k) as f64 / n as f64;
                s += v * Complex64::new(a.cos(), a.sin());
            }
            assert!((s - yk).norm() < 1e-12, "k={k}");
        }
        f.transform(&mut y, true);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b / n as f64).norm() < 1e-14);
        }
        assert!(Fft::new(48).is_err() && Fft::new(1).is_err());
    }

    #[test]
    fn autocorrelation_matches_direct_sums() {
        let n = 32;
        let f = Fft::new(n).unwrap();
        let x: Vec<f64> = (0..n).map(|j| (j as f64 * 0.7).sin() + 0.1).collect();
        let mut buf = vec![Complex64::new(0.0, 0.0); n];
        let mut out = vec![0.0; 6];
        f.add_autocorrelation(&x, 5, &mut buf, &mut out);
        for (tau, o) in out.iter().enumerate() {
            let d: f64 = (0..n).map(|t| x[t] * x[(t + tau) % n]).sum();
            assert!((d - o).abs() < 1e-12, "{tau}");
        }
    }

    /// Sampled sequences have the requested covariance (within 5 standard errors of the
    /// sample covariance), the two halves of a pair are uncorrelated, and a covariance that
    /// is not positive definite reports its clipped mass.
    #[test]
    fn circulant_samples_have_the_covariance() {
        let cov = [1.0, 0.6, 0.3, 0.1];
        let m = 64;
        let c = Circulant::new(&cov, m).unwrap();
        assert!(c.clipped() == 0.0);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut buf = vec![Complex64::new(0.0, 0.0); m];
        let (mut a, mut b) = (vec![0.0; m], vec![0.0; m]);
        let reps = 4000;
        let mut acc = [0.0; 6];
        let mut acc2 = [0.0; 6];
        let mut cross = 0.0;
        for _ in 0..reps {
            c.sample_pair(&mut rng, &mut buf, &mut a, &mut b);
            for tau in 0..6 {
                // One circular lag product per sequence position 0 (independent draws).
                let v = a[3] * a[(3 + tau) % m];
                acc[tau] += v;
                acc2[tau] += v * v;
            }
            cross += a[5] * b[5];
        }
        for tau in 0..6 {
            let mean = acc[tau] / reps as f64;
            let se = ((acc2[tau] / reps as f64 - mean * mean) / reps as f64).sqrt();
            let want = cov.get(tau).copied().unwrap_or(0.0);
            assert!(
                (mean - want).abs() < 5.0 * se,
                "lag {tau}: {mean} vs {want} ± {se}"
            );
        }
        assert!((cross / reps as f64).abs() < 5.0 / (reps as f64).sqrt());
        // A sharp cut of a slowly decaying covariance is not positive definite.
        let bad: Vec<f64> = (0..17).map(|t| 1.0 - t as f64 / 20.0).collect();
        let c = Circulant::new(&bad, 32).unwrap();
        assert!(c.clipped() > 0.0);
        assert!(Circulant::new(&bad, 16).is_err());
        assert!(Circulant::new(&[0.0, 0.1], 16).is_err());
    }
}
