//! Standard-normal special functions with full double precision in both tails.
//!
//! `libm`'s `erf`/`erfc` are accurate to about one ulp; `statrs` 0.19's are only good to
//! ~1e-11 and are deliberately not used (see `docs/accuracy.md`).

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// `1/sqrt(2π)`.
pub const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Standard normal density `φ(x) = exp(−x²/2)/√(2π)`.
#[inline]
pub fn norm_pdf(x: f64) -> f64 {
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal distribution function `Φ(x)`, accurate in the lower tail.
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Standard normal survival function `1 − Φ(x)`, accurate in the upper tail.
#[inline]
pub fn norm_sf(x: f64) -> f64 {
    0.5 * libm::erfc(x * FRAC_1_SQRT_2)
}

/// `P(a < z < b)` for a standard normal `z` (`a <= b`, infinite ends allowed), computed
/// from the tail that avoids cancellation.
pub fn norm_interval(a: f64, b: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    if a >= 0.0 {
        norm_sf(a) - norm_sf(b)
    } else if b <= 0.0 {
        norm_cdf(b) - norm_cdf(a)
    } else {
        1.0 - norm_cdf(a) - norm_sf(b)
    }
}

/// Abscissae of the 21-point Kronrod rule on `[-1, 1]` (positive half, then 0).
pub(crate) const XGK: [f64; 11] = [
    0.995_657_163_025_808_1,
    0.973_906_528_517_171_7,
    0.930_157_491_355_708_2,
    0.865_063_366_688_984_5,
    0.780_817_726_586_416_9,
    0.679_409_568_299_024_4,
    0.562_757_134_668_604_7,
    0.433_395_394_129_247_2,
    0.294_392_862_701_460_2,
    0.148_874_338_981_631_2,
    0.0,
];
/// Weights of the 21-point Kronrod rule.
pub(crate) const WGK: [f64; 11] = [
    0.011_694_638_867_371_874,
    0.032_558_162_307_964_73,
    0.054_755_896_574_351_996,
    0.075_039_674_810_919_95,
    0.093_125_454_583_697_6,
    0.109_387_158_802_297_64,
    0.123_491_976_262_065_85,
    0.134_709_217_311_473_33,
    0.142_775_938_577_060_08,
    0.147_739_104_901_338_5,
    0.149_445_554_002_916_9,
];
/// Weights of the embedded 10-point Gauss rule (at `XGK[1], XGK[3], ..., XGK[9]`).
pub(crate) const WG: [f64; 5] = [
    0.066_671_344_308_688_14,
    0.149_451_349_150_580_6,
    0.219_086_362_515_982_04,
    0.269_266_719_309_996_35,
    0.295_524_224_714_752_87,
];

/// Truncated standard-normal moments `T_k = ∫_a^b z^k φ(z) dz` for `k = 0..out.len()`.
///
/// Wide intervals use the recurrence `T_k = (k−1) T_{k−2} + a^{k−1}φ(a) − b^{k−1}φ(b)`,
/// which only adds terms of one sign when the interval lies in a tail. Narrow finite
/// intervals (width < 1), where that recurrence cancels, use the 21-point Kronrod rule,
/// which is exact to rounding there (the integrand is a polynomial times a Gaussian that
/// varies little across the interval).
pub fn truncated_moments(a: f64, b: f64, out: &mut [f64]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    if b <= a {
        out.iter_mut().for_each(|t| *t = 0.0);
        return;
    }
    if a.is_finite() && b.is_finite() && b - a < 1.0 {
        moments_kronrod(a, b, out);
    } else {
        moments_recurrence(a, b, out);
    }
}

/// [`truncated_moments`] by the 21-point Kronrod rule (for narrow finite intervals).
fn moments_kronrod(a: f64, b: f64, out: &mut [f64]) {
    {
        let c = 0.5 * (a + b);
        let h = 0.5 * (b - a);
        out.iter_mut().for_each(|t| *t = 0.0);
        for i in 0..11 {
            let w = WGK[i] * h;
            let xs: &[f64] = if i == 10 { &[0.0] } else { &[-1.0, 1.0] };
            for s in xs {
                let z = c + s * h * XGK[i];
                let mut p = w * norm_pdf(z);
                for t in out.iter_mut() {
                    *t += p;
                    p *= z;
                }
            }
        }
    }
}

/// [`truncated_moments`] by the upward recurrence (for wide or infinite intervals).
fn moments_recurrence(a: f64, b: f64, out: &mut [f64]) {
    let n = out.len();
    let pa = if a.is_finite() { norm_pdf(a) } else { 0.0 };
    let pb = if b.is_finite() { norm_pdf(b) } else { 0.0 };
    out[0] = norm_interval(a, b);
    if n > 1 {
        out[1] = pa - pb;
    }
    // a^{k-1} φ(a), updated multiplicatively; zero at infinite ends.
    let mut ta = pa;
    let mut tb = pb;
    for k in 2..n {
        if a.is_finite() {
            ta *= a;
        }
        if b.is_finite() {
            tb *= b;
        }
        out[k] = (k as f64 - 1.0) * out[k - 2] + ta - tb;
    }
}

/// `√(2π)`.
#[allow(dead_code)]
pub const SQRT_2PI: f64 = 2.506_628_274_631_000_7;

/// `2/√π`, the scale of `erf'`.
pub const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// `π`, re-exported for the closed forms.
#[allow(dead_code)]
pub const PI_: f64 = PI;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronrod_weights_sum_to_two() {
        let s: f64 = WGK[..10].iter().sum::<f64>() * 2.0 + WGK[10];
        assert!((s - 2.0).abs() < 1e-15, "{s}");
        let g: f64 = WG.iter().sum::<f64>() * 2.0;
        assert!((g - 2.0).abs() < 1e-15, "{g}");
    }

    #[test]
    fn truncated_moments_full_line_are_gaussian_moments() {
        let mut t = [0.0; 9];
        truncated_moments(f64::NEG_INFINITY, f64::INFINITY, &mut t);
        let exact = [1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 15.0, 0.0, 105.0];
        for (a, b) in t.iter().zip(exact) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
    }

    #[test]
    fn kronrod_and_recurrence_agree_near_the_switch() {
        for (a, b) in [(0.3, 1.2), (-0.45, 0.45), (-3.0, -2.05), (7.0, 7.9)] {
            let mut n = [0.0; 7];
            let mut w = [0.0; 7];
            moments_kronrod(a, b, &mut n);
            moments_recurrence(a, b, &mut w);
            for k in 0..7 {
                let scale = n[0].abs() * (a.abs().max(b.abs()) + 1.0).powi(k as i32);
                assert!(
                    (n[k] - w[k]).abs() < 1e-13 * scale,
                    "({a},{b}) k={k}: {} vs {}",
                    n[k],
                    w[k]
                );
            }
        }
    }
}

/// Probabilists' Gauss–Hermite rule with `n <= 24` nodes (weights sum to 1): exact for
/// `E[p(z)]`, `z ~ N(0, 1)`, for polynomials `p` of degree `<= 2n − 1`.
///
/// Nodes are the roots of the orthonormal Hermite polynomial `h_n`, bracketed by a scan and
/// polished by bisection; weights are the Christoffel numbers `1/Σ_{k<n} h_k(z)²`. Cached.
pub(crate) fn gauss_hermite(n: usize) -> &'static (Vec<f64>, Vec<f64>) {
    use std::sync::OnceLock;
    static RULES: [OnceLock<(Vec<f64>, Vec<f64>)>; 25] = [const { OnceLock::new() }; 25];
    assert!(
        (1..=24).contains(&n),
        "Gauss–Hermite rules are tabulated for 1..=24 nodes"
    );
    RULES[n].get_or_init(|| {
        // h_0..h_n at z (orthonormal: h_{k+1} = (z h_k − √k h_{k−1}) / √(k+1)).
        let eval = |z: f64| -> (f64, f64) {
            let (mut a, mut b) = (0.0f64, 1.0f64);
            let mut sumsq = 0.0;
            for k in 0..n {
                sumsq += b * b;
                let c = (z * b - (k as f64).sqrt() * a) / ((k + 1) as f64).sqrt();
                a = b;
                b = c;
            }
            (b, sumsq)
        };
        let zmax = (4.0 * n as f64 + 2.0).sqrt() + 1.0;
        let mut nodes = Vec::with_capacity(n);
        let steps = 20_000;
        let mut z0 = -zmax;
        let mut f0 = eval(z0).0;
        for i in 1..=steps {
            let z1 = -zmax + 2.0 * zmax * i as f64 / steps as f64;
            let f1 = eval(z1).0;
            if f0 == 0.0 {
                nodes.push(z0);
            } else if f0 * f1 < 0.0 {
                let (mut lo, mut hi, mut flo) = (z0, z1, f0);
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if mid <= lo || mid >= hi {
                        break;
                    }
                    let fm = eval(mid).0;
                    if fm * flo <= 0.0 {
                        hi = mid;
                    } else {
                        lo = mid;
                        flo = fm;
                    }
                }
                nodes.push(0.5 * (lo + hi));
            }
            z0 = z1;
            f0 = f1;
        }
        assert_eq!(nodes.len(), n, "Gauss–Hermite root scan");
        // Symmetrise (the rule is exactly symmetric) and fix the middle node at 0.
        for i in 0..n / 2 {
            let m = 0.5 * (nodes[n - 1 - i] - nodes[i]);
            nodes[i] = -m;
            nodes[n - 1 - i] = m;
        }
        if n % 2 == 1 {
            nodes[n / 2] = 0.0;
        }
        let weights: Vec<f64> = nodes.iter().map(|&z| 1.0 / eval(z).1).collect();
        (nodes, weights)
    })
}

#[cfg(test)]
mod gh_tests {
    use super::gauss_hermite;

    #[test]
    fn gauss_hermite_is_exact_to_degree_2n_minus_1() {
        for n in 1..=24 {
            let (z, w) = gauss_hermite(n);
            let mut moment = 1.0; // (k-1)!! for even k
            for k in 0..2 * n {
                let got: f64 = z.iter().zip(w).map(|(z, w)| w * z.powi(k as i32)).sum();
                let exact = if k % 2 == 1 { 0.0 } else { moment };
                // Odd moments cancel exactly in theory; scale by the neighbouring even one.
                assert!(
                    (got - exact).abs() <= 1e-13 * moment.max(1.0),
                    "n={n} k={k}: {got} vs {exact}"
                );
                if k % 2 == 0 {
                    moment *= (k + 1) as f64;
                }
            }
        }
    }
}
