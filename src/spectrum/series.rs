//! Exact low-order moments of products of free random matrices from truncated power series
//! of S-transforms: no density, no root finding, only polynomial arithmetic on the moment
//! sequences (see [`product_moments`]).

use crate::error::{Error, Result};
use crate::power_series::{self as ps, exp_f64, log_f64, revert_f64};
use crate::spectrum::WeightLaw;

/// Moments `m_1..m_order` of the squared singular values of `J_T = D_T W ⋯ D_1 W`, where the
/// factors are free.
///
/// `factors` lists `(moments, n_j)`: the moments `[μ_1, μ_2, …]` (at least `order` of them)
/// of `d = (diagonal entry)²` for a law used at `n_j` steps, so `T = Σ_j n_j`. The weights
/// have `W W^T = σ_w² I` ([`WeightLaw::Orthogonal`]) or `W W^T` Marchenko–Pastur with ratio 1
/// scaled by `σ_w²` ([`WeightLaw::Gaussian`]). Returns `[m_1, …, m_order]`, `m_k = E[λ^k]`.
///
/// # Method
///
/// The nonzero spectrum of `J_T J_T^T` is the free multiplicative convolution of the laws of
/// `D_t²` and of `W W^T` (Pennington, Schoenholz & Ganguli 2017, 2018), so S-transforms
/// multiply. For a law with moments `μ_k` let `ψ(x) = Σ_{k≥1} μ_k x^k` (the moment
/// generating function, `ψ(1/z) = M(z)`), `χ = ψ^{-1}` its compositional inverse (a power
/// series with `χ'(0) = 1/μ_1`), and `S(m) = χ(m)(1+m)/m`. Then
///
/// - `S_total = Π_j S_j^{n_j} · S_W^T`, with `S_W = σ_w^{-2}` (orthogonal) or
///   `σ_w^{-2}/(1+m)` (Gaussian);
/// - `χ_total(m) = m S_total(m)/(1+m)`, `ψ_total = χ_total^{-1}`, and `m_k = [x^k] ψ_total`.
///
/// All series are truncated at degree `order` (the coefficient of `x^k` in `ψ_total` needs
/// `μ_1..μ_k` only), so these are formal power-series identities: exact up to rounding, with
/// no convergence condition. Powers with large `n_j` go through `log S_total = Σ_j n_j log S_j
/// + T log S_W` and one exponential (`S_j(0) = 1/μ_1 > 0`), which costs the same for any
/// `n_j`. Compositional inverses use Lagrange inversion: for `f(y) = y h(y)`,
/// `[x^k] f^{-1} = (1/k) [y^{k−1}] h(y)^{−k}`. Cost `O(J order² + order³)`. The series
/// arithmetic is that of [`power_series`](crate::power_series).
///
/// Scale is split off first: with `d̃ = d/μ_1` each `S̃_j(0) = 1`, and the product law is
/// `m_1 = σ_w^{2T} Π_j μ_{1,j}^{n_j}` times a law of mean 1 whose moments `m̃_k` come from the
/// series; `m_k = m̃_k m_1^k`. This keeps the series `O(T^k)` whatever the scale, so large
/// `T` off criticality cannot overflow the intermediate coefficients. The returned `m_k`
/// themselves can leave the range of `f64`: below it they round to 0; above it the call is an
/// [`Error::Overflow`] naming the moment, never an infinite "moment".
///
/// # Errors
/// [`Error::InvalidParameter`] for `order == 0`, no steps (`Σ n_j = 0`), `σ_w²` not finite and
/// `> 0`, a factor with fewer than `order` moments, `μ_1` not finite and `> 0`, or a
/// non-finite moment (or ratio `μ_k/μ_1^k`); [`Error::Overflow`] if the normalised series or
/// a moment overflows.
///
/// # Example
/// ```
/// use mfrnn::spectrum::{WeightLaw, series::product_moments};
/// // Two Gaussian steps with D = I: the Fuss–Catalan numbers 1, 3, 12, 55.
/// let m = product_moments(&[(vec![1.0; 4], 2)], 1.0, WeightLaw::Gaussian, 4).unwrap();
/// for (a, b) in m.iter().zip([1.0, 3.0, 12.0, 55.0]) {
///     assert!((a - b).abs() < 1e-12 * b);
/// }
/// ```
pub fn product_moments(
    factors: &[(Vec<f64>, usize)],
    sigma_w2: f64,
    weights: WeightLaw,
    order: usize,
) -> Result<Vec<f64>> {
    if order == 0 {
        return Err(Error::invalid("order", 0.0, "at least 1"));
    }
    if !(sigma_w2.is_finite() && sigma_w2 > 0.0) {
        return Err(Error::invalid("sigma_w2", sigma_w2, "a finite number > 0"));
    }
    // In f64: a usize sum could overflow, and only the value enters the series.
    let steps: f64 = factors.iter().map(|f| f.1 as f64).sum();
    if steps == 0.0 {
        return Err(Error::invalid(
            "steps",
            0.0,
            "at least 1 (total multiplicity of the factors)",
        ));
    }
    // Normalised ψ̃_j of d/μ_1 (coefficients 0, 1, μ_2/μ_1², …), validated before any work.
    let mut psis = Vec::with_capacity(factors.len());
    for (mu, _) in factors {
        if mu.len() < order {
            return Err(Error::invalid(
                "moments",
                mu.len() as f64,
                "at least `order` moments per factor",
            ));
        }
        let mu1 = mu[0];
        if !(mu1.is_finite() && mu1 > 0.0) {
            return Err(Error::invalid("mu_1", mu1, "a finite number > 0"));
        }
        let mut psi = vec![0.0; order + 1];
        for k in 1..=order {
            let v = mu[k - 1] / mu1.powi(k as i32);
            if !v.is_finite() {
                return Err(Error::invalid(
                    "moments",
                    mu[k - 1],
                    "finite moments with finite ratios μ_k/μ_1^k",
                ));
            }
            psi[k] = v;
        }
        psis.push(psi);
    }

    // log S̃_total to degree order − 1 (χ̃_total = m S̃/(1+m) then reaches degree order).
    let deg = order - 1;
    let mut ln_m1 = steps * sigma_w2.ln();
    let mut log_s = vec![0.0; deg + 1];
    for ((mu, n), psi) in factors.iter().zip(&psis) {
        if *n == 0 {
            continue;
        }
        let n = *n as f64;
        ln_m1 += n * mu[0].ln();
        let chi = revert_f64(psi, order);
        // S̃_j = (χ̃_j(m)/m)(1 + m), S̃_j(0) = 1.
        let s: Vec<f64> = (0..=deg)
            .map(|k| chi[k + 1] + if k > 0 { chi[k] } else { 0.0 })
            .collect();
        for (acc, l) in log_s.iter_mut().zip(log_f64(&s)) {
            *acc += n * l;
        }
    }
    if weights == WeightLaw::Gaussian {
        // log(1/(1+m)) = Σ_{k≥1} (−1)^k m^k / k.
        for (k, acc) in log_s.iter_mut().enumerate().skip(1) {
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            *acc += steps * sign / k as f64;
        }
    }
    let s_total = exp_f64(&log_s);
    // χ̃_total = m · S̃/(1+m): the quotient by 1 + m, shifted up one degree.
    let mut chi_total = vec![0.0; order + 1];
    // f64 division is total (the divisor 1 + m has leading coefficient 1): no error to handle.
    let _ = ps::div(&s_total, &[1.0, 1.0], &mut chi_total[1..]);
    let psi_total = revert_f64(&chi_total, order);
    if let Some(bad) = psi_total.iter().find(|v| !v.is_finite()) {
        return Err(Error::Overflow {
            quantity: format!("the moment series of order {order}"),
            reason: format!("a normalised moment is {bad}"),
        });
    }
    let moments: Vec<f64> = (1..=order)
        .map(|k| psi_total[k] * (k as f64 * ln_m1).exp())
        .collect();
    if let Some(k) = moments.iter().position(|m| !m.is_finite()) {
        return Err(Error::Overflow {
            quantity: format!("the moment m_{} of the squared singular values", k + 1),
            reason: format!(
                "m_{} = {} is beyond the largest double (1.8e308); ln m₁ = {ln_m1:.6e}",
                k + 1,
                moments[k]
            ),
        });
    }
    Ok(moments)
}
