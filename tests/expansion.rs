//! Small-variance expansions (`mfrnn::expansion`, theory/05-small-variance.md): the series
//! against quadrature with the truncation error scaling as the first omitted power of q,
//! known and closed-form coefficients, the jet's Float implementation against known series,
//! finite differences and identities, exact against floating-point paths, and typed errors.

mod common;

use mfrnn::Error;
use mfrnn::activation::Builtin;
use mfrnn::expansion::{
    BigRational, Jet, MAX_ORDER, Series, SmallVariance, builtin_taylor, exact_taylor,
    gaussian_series, small_variance, small_variance_from_taylor, small_variance_of, taylor,
};
use mfrnn::expect::{Fun, Normal, expect};
use num_traits::{Float, NumCast, One, ToPrimitive, Zero};
use proptest::prelude::*;

fn strings(s: &Series) -> Vec<String> {
    s.exact_strings().expect("exact coefficients")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

// ---------------------------------------------------------------------------------------------
// Known coefficients and closed forms
// ---------------------------------------------------------------------------------------------

/// The tanh numbers quoted in theory/05-small-variance.md (SV.9).
#[test]
fn tanh_known_coefficients() {
    let s = small_variance(Builtin::Tanh, 6).unwrap();
    assert_eq!(
        strings(&s.phi2),
        ["0", "1", "-2", "17/3", "-62/3", "1382/15", "-21844/45"]
    );
    assert_eq!(
        strings(&s.dphi2),
        ["1", "-2", "7", "-94/3", "502/3", "-15484/15", "324419/45"]
    );
    assert_eq!(
        strings(&s.dphi4),
        [
            "1",
            "-4",
            "26",
            "-608/3",
            "5351/3",
            "-259508/15",
            "8212702/45"
        ]
    );
    assert_eq!(
        strings(&s.sigma_w2),
        ["1", "2", "-3", "34/3", "-61", "6034/15", "-45842/15"]
    );
    assert_eq!(
        strings(&s.input_variance),
        ["0", "0", "0", "4/3", "-8", "748/15", "-1048/3"]
    );
    assert_eq!(
        strings(&s.spectral_growth),
        ["0", "0", "8", "-80", "2432/3", "-8720", "4492576/45"]
    );
    assert_eq!(
        s.sigma_w2.formula(),
        "1 + 2 q - 3 q^2 + 34/3 q^3 - 61 q^4 + 6034/15 q^5 - 45842/15 q^6 + O(q^7)"
    );
    assert_eq!(s.pi_powers(), [0; 6]);
    let t = exact_taylor(Builtin::Tanh, 9).unwrap();
    let t: Vec<String> = t.coefficients.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        t,
        [
            "0", "1", "0", "-1/3", "0", "2/15", "0", "-17/315", "0", "62/2835"
        ]
    );
    let g = exact_taylor(Builtin::Sigmoid, 5).unwrap();
    let g: Vec<String> = g.coefficients.iter().map(|c| c.to_string()).collect();
    assert_eq!(g, ["1/2", "1/4", "0", "-1/48", "0", "1/480"]);
}

trait PiPowers {
    fn pi_powers(&self) -> [i32; 6];
}
impl PiPowers for SmallVariance {
    fn pi_powers(&self) -> [i32; 6] {
        self.entries().map(|(_, _, s)| s.pi_power)
    }
}

#[test]
fn linear_is_exact() {
    let s = small_variance(Builtin::Linear, 5).unwrap();
    assert_eq!(strings(&s.phi2), ["0", "1", "0", "0", "0", "0"]);
    for x in [&s.dphi2, &s.dphi4, &s.sigma_w2] {
        assert_eq!(strings(x), ["1", "0", "0", "0", "0", "0"]);
    }
    for x in [&s.input_variance, &s.spectral_growth] {
        assert!(x.exact.as_ref().unwrap().iter().all(Zero::is_zero));
        assert_eq!(x.formula(), "0 + O(q^6)");
    }
    assert_eq!(s.phi2.formula(), "q + O(q^6)");
}

/// erf: `E[erf(√q z)²] = (2/π) asin(2q/(1+2q))`, `μ₁ = (4/π)(1+4q)^{−1/2}`,
/// `μ₂ = (16/π²)(1+8q)^{−1/2}` (theory/01, G.4, G.6), so `σ_w² = (π/4)√(1+4q)` exactly.
/// The series converge for `q < 1/4` and `q < 1/8`.
#[test]
fn erf_matches_closed_forms() {
    let s = small_variance(Builtin::Erf, 24).unwrap();
    assert_eq!(s.pi_powers(), [-1, -1, -2, 1, 0, 0]);
    // σ_w²/π = √(1+4q)/4: coefficients binom(1/2, k) 4^k / 4, exactly.
    let mut b = BigRational::from_integer(1.into());
    for (k, r) in s.sigma_w2.exact.as_ref().unwrap().iter().enumerate() {
        assert_eq!(
            *r,
            b.clone() / BigRational::from_integer(4.into()),
            "k = {k}"
        );
        let k = k as i64;
        // binom(1/2, k+1) 4^{k+1} = binom(1/2, k) 4^k · 4 (1/2 − k)/(k + 1)
        b *= BigRational::new((2 - 4 * k).into(), (k + 1).into());
    }
    let pi = std::f64::consts::PI;
    for q in [0.01, 0.02, 0.04] {
        let asin = 2.0 / pi * (2.0 * q / (1.0 + 2.0 * q)).asin();
        assert!(close(s.phi2.eval(q), asin, 1e-14), "{q}");
        assert!(close(
            s.dphi2.eval(q),
            4.0 / pi / (1.0 + 4.0 * q).sqrt(),
            1e-14
        ));
        assert!(close(
            s.dphi4.eval(q),
            16.0 / (pi * pi) / (1.0 + 8.0 * q).sqrt(),
            1e-13
        ));
        assert!(close(
            s.sigma_w2.eval(q),
            pi / 4.0 * (1.0 + 4.0 * q).sqrt(),
            1e-14
        ));
        let growth = (1.0 + 4.0 * q) / (1.0 + 8.0 * q).sqrt() - 1.0;
        let err = (s.spectral_growth.eval(q) - growth).abs();
        println!("erf spectral growth at q = {q}: |series − closed form| = {err:e}");
        assert!(err < 1e-13, "{err:e}");
    }
    assert_eq!(
        small_variance(Builtin::Erf, 2).unwrap().sigma_w2.formula(),
        "π (1/4 + 1/2 q - 1/2 q^2 + O(q^3))"
    );
}

/// sin through the jet path: `E[sin²(√q z)] = (1 − e^{−2q})/2`, `E[cos²] = (1 + e^{−2q})/2`,
/// `E[cos⁴] = (3 + 4e^{−2q} + e^{−8q})/8` (E[cos(a√q z)] = e^{−a²q/2}): entire in q.
#[test]
fn sin_has_closed_forms() {
    let s = small_variance_of("sin", |x: Jet<42>| x.sin(), 20).unwrap();
    let mut fact = 1.0;
    for k in 1..=12 {
        fact *= k as f64;
        let want = -(-2.0f64).powi(k as i32) / (2.0 * fact);
        assert!(close(s.phi2.coefficients[k], want, 1e-14), "k = {k}");
    }
    let q = 0.3;
    let e2 = (-2.0 * q).exp();
    assert!(close(s.phi2.eval(q), (1.0 - e2) / 2.0, 1e-12));
    assert!(close(s.dphi2.eval(q), (1.0 + e2) / 2.0, 1e-12));
    assert!(close(
        s.dphi4.eval(q),
        (3.0 + 4.0 * e2 + (-8.0 * q).exp()) / 8.0,
        1e-11
    ));
    assert!(close(s.sigma_w2.eval(q), 2.0 / (1.0 + e2), 1e-11));
    // sin is odd with sin'(0) = 1, so σ_b² + σ_v² R = q − tanh(q)·… starts at q³ like tanh:
    // q − (1 − e^{−2q})/(1 + e^{−2q}) = q − tanh q = q³/3 + …
    assert!(close(s.input_variance.eval(q), q - q.tanh(), 1e-10));
    assert!(s.phi2.exact.is_none() && s.phi2.pi_power == 0);
}

// ---------------------------------------------------------------------------------------------
// Against quadrature: truncation error ∝ q^{m}, m the first omitted non-zero power
// ---------------------------------------------------------------------------------------------

/// The six quantities at `q` by the expectation engine (SV.2, SV.4–SV.6 evaluated directly).
fn by_quadrature(b: Builtin, q: f64) -> [f64; 6] {
    let act = b.arc();
    let n = Normal::new(0.0, q).unwrap();
    let e = |f: Fun| expect(&f, &n).unwrap().value;
    let big_q = e(Fun::phi(&act).powi(2));
    let mu1 = e(Fun::dphi(&act).powi(2));
    let mu2 = e(Fun::dphi(&act).powi(4));
    [
        big_q,
        mu1,
        mu2,
        1.0 / mu1,
        q - big_q / mu1,
        mu2 / (mu1 * mu1) - 1.0,
    ]
}

/// For every smooth built-in, every quantity and orders 1–4: the residual `r(q)` of the order-n
/// series against quadrature equals `c_m q^m (1 + O(q))`, `m` the first non-zero power above
/// n, with the `O(q)` bounded by the next coefficients; and halving q divides it by `≈ 2^m`.
#[test]
fn series_match_quadrature_with_the_right_truncation_order() {
    let q = 0.01;
    let mut worst_exponent = 0.0f64;
    let mut worst_ratio = 0.0f64;
    let mut worst_corrected = 0.0f64;
    for b in [
        Builtin::Tanh,
        Builtin::Erf,
        Builtin::Sigmoid,
        Builtin::Softplus,
    ] {
        let full = small_variance(b, 12).unwrap();
        let (at_q, at_half) = (by_quadrature(b, q), by_quadrature(b, q / 2.0));
        for order in 1..=4 {
            let s = small_variance(b, order).unwrap();
            for (i, ((key, _, series), (_, _, f))) in
                s.entries().into_iter().zip(full.entries()).enumerate()
            {
                let c = &f.coefficients;
                let Some(m) = (order + 1..=12).find(|&k| c[k] != 0.0) else {
                    continue;
                };
                let r = at_q[i] - series.eval(q);
                let r_half = at_half[i] - series.eval(q / 2.0);
                let lead = c[m] * q.powi(m as i32);
                // Expected relative size of the next terms, with a margin of 2 and the
                // quadrature's rounding (1e-15 of the value) on top.
                let next: f64 = (1..=3)
                    .filter(|j| m + j <= 12)
                    .map(|j| (c[m + j] / c[m]).abs() * q.powi(j as i32))
                    .sum();
                let noise = 1e-15 * at_q[i].abs().max(1.0) / lead.abs();
                let dev = (r / lead - 1.0).abs();
                assert!(
                    dev <= 2.0 * next + noise,
                    "{b} {key} order {order}: r = {r:e}, c_{m} q^{m} = {lead:e} (dev {dev:e}, \
                     allowed {:e})",
                    2.0 * next + noise
                );
                // Halving q: the measured exponent log2(r(q)/r(q/2)) against m, corrected by the
                // next three terms of the series.
                let p = (r / r_half).log2();
                let tail = |x: f64| -> f64 {
                    (0..=3)
                        .filter(|j| m + j <= 12)
                        .map(|j| c[m + j] * x.powi((m + j) as i32))
                        .sum()
                };
                let p_pred = (tail(q) / tail(q / 2.0)).log2();
                worst_exponent = worst_exponent.max((p - m as f64).abs());
                worst_corrected = worst_corrected.max((p - p_pred).abs());
                worst_ratio = worst_ratio.max(dev / (next + noise));
                assert!(
                    (p - p_pred).abs() < 0.02 && (p - m as f64).abs() < 0.5,
                    "{b} {key} order {order}: residual exponent {p} vs {m} (corrected {p_pred})"
                );
            }
        }
    }
    println!(
        "worst |log2(r(q)/r(q/2)) − m| = {worst_exponent:.3}, against the corrected exponent \
         {worst_corrected:.2e}; worst dev/next = {worst_ratio:.2}"
    );
}

// ---------------------------------------------------------------------------------------------
// Exact against floating point, jets against known series
// ---------------------------------------------------------------------------------------------

fn assert_series_close(a: &SmallVariance, b: &SmallVariance, rel: f64) {
    for ((k, _, x), (_, _, y)) in a.entries().into_iter().zip(b.entries()) {
        let scale = x.coefficients.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        for (i, (u, v)) in x.coefficients.iter().zip(&y.coefficients).enumerate() {
            assert!(
                (u - v).abs() <= rel * u.abs().max(v.abs()) + 1e-15 * scale,
                "{} {k} q^{i}: {u} vs {v}",
                a.activation
            );
        }
    }
}

#[test]
fn exact_and_jet_paths_agree() {
    const N: usize = 18;
    let order = 8;
    type Phi = fn(Jet<N>) -> Jet<N>;
    let jets: [(Builtin, Phi); 4] = [
        (Builtin::Tanh, |x| x.tanh()),
        (Builtin::Sigmoid, |x| (Jet::one() + (-x).exp()).recip()),
        (Builtin::Softplus, |x| x.exp().ln_1p()),
        (Builtin::Linear, |x| x),
    ];
    for (b, f) in jets {
        let exact = small_variance(b, order).unwrap();
        let jet = small_variance_of(b.as_str(), f, order).unwrap();
        assert_series_close(&exact, &jet, 1e-12);
    }
    // erf has no Float method: through its floating-point Taylor coefficients.
    let c = builtin_taylor(Builtin::Erf, 2 * order + 1).unwrap();
    let f = small_variance_from_taylor("erf", &c, order).unwrap();
    assert_series_close(&small_variance(Builtin::Erf, order).unwrap(), &f, 1e-12);
    // The generic builtin_taylor agrees with the jets of the same functions.
    let t = taylor(|x: Jet<12>| x.tanh()).unwrap();
    let e = builtin_taylor(Builtin::Tanh, 11).unwrap();
    for (a, b) in t.iter().zip(&e) {
        assert!((a - b).abs() <= 1e-15 * a.abs().max(1e-300) + 1e-17);
    }
}

fn factorial(k: usize) -> f64 {
    (1..=k).map(|i| i as f64).product()
}

#[test]
fn jet_matches_known_series() {
    const N: usize = 14;
    let x = Jet::<N>::variable(0.0);
    let exp = x.exp().coefficients();
    let sin = x.sin().coefficients();
    let cos = x.cos().coefficients();
    let ln1p = x.ln_1p().coefficients();
    let atan = x.atan().coefficients();
    let sqrt = (Jet::constant(1.0) + x).sqrt().coefficients();
    let tanh = x.tanh().coefficients();
    let composite = (x * x.tanh() + x.sin().powi(2)).coefficients();
    let exact_tanh = builtin_taylor(Builtin::Tanh, N - 1).unwrap();
    let mut binom = 1.0; // binom(1/2, k)
    for k in 0..N {
        let kf = k as f64;
        let odd = k % 2 == 1;
        let sign = if (k / 2) % 2 == 0 { 1.0 } else { -1.0 };
        assert!(close(exp[k], 1.0 / factorial(k), 1e-15), "exp {k}");
        let (want_sin, want_cos) = if odd {
            (sign / factorial(k), 0.0)
        } else {
            (0.0, sign / factorial(k))
        };
        assert!(close(sin[k], want_sin, 1e-15), "sin {k}: {}", sin[k]);
        assert!(close(cos[k], want_cos, 1e-15), "cos {k}: {}", cos[k]);
        let want_ln = if k == 0 {
            0.0
        } else {
            -(-1.0f64).powi(k as i32) / kf
        };
        assert!(close(ln1p[k], want_ln, 1e-15), "ln_1p {k}");
        assert!(
            close(atan[k], if odd { sign / kf } else { 0.0 }, 1e-15),
            "atan {k}"
        );
        assert!(close(sqrt[k], binom, 1e-14), "sqrt {k}");
        binom *= (0.5 - kf) / (kf + 1.0);
        assert!(
            (tanh[k] - exact_tanh[k]).abs() <= 1e-15 * exact_tanh[k].abs(),
            "tanh {k}: {} vs {}",
            tanh[k],
            exact_tanh[k]
        );
        // x tanh x + sin² x, with sin² x = (1 − cos 2x)/2.
        let shifted = if k >= 1 { exact_tanh[k - 1] } else { 0.0 };
        let sin2 = if k >= 2 && !odd {
            -sign * 2f64.powi(k as i32) / (2.0 * factorial(k))
        } else {
            0.0
        };
        assert!(
            (composite[k] - shifted - sin2).abs() <= 1e-15 * (shifted.abs() + sin2.abs()),
            "composite {k}: {} vs {}",
            composite[k],
            shifted + sin2
        );
    }
}

fn composite<F: Float>(x: F) -> F {
    x * x.tanh() + x.sin().powi(2)
}

fn other<F: Float>(x: F) -> F {
    let two = F::from(2.0).unwrap();
    (x.exp() + two).ln() * x.atan() - (x * x + two).sqrt() / x.cosh()
        + x.powf(F::from(1.5).unwrap())
}

#[test]
fn jet_matches_finite_differences() {
    for x0 in [0.37, 1.3] {
        for (name, f, g) in [
            (
                "composite",
                composite::<Jet<4>> as fn(Jet<4>) -> Jet<4>,
                composite::<f64> as fn(f64) -> f64,
            ),
            ("other", other::<Jet<4>>, other::<f64>),
        ] {
            let c = f(Jet::variable(x0)).coefficients();
            assert_eq!(c[0], g(x0));
            let h = 1e-4;
            let d1 = (g(x0 + h) - g(x0 - h)) / (2.0 * h);
            let d2 = (g(x0 + h) - 2.0 * g(x0) + g(x0 - h)) / (h * h);
            let h3 = 1e-3;
            let d3 = (g(x0 + 2.0 * h3) - 2.0 * g(x0 + h3) + 2.0 * g(x0 - h3) - g(x0 - 2.0 * h3))
                / (2.0 * h3.powi(3));
            assert!(
                (c[1] - d1).abs() < 1e-7,
                "{name} f' at {x0}: {} vs {d1}",
                c[1]
            );
            assert!(
                (2.0 * c[2] - d2).abs() < 1e-5,
                "{name} f'' at {x0}: {} vs {d2}",
                2.0 * c[2]
            );
            assert!(
                (6.0 * c[3] - d3).abs() < 1e-4,
                "{name} f''' at {x0}: {} vs {d3}",
                6.0 * c[3]
            );
        }
    }
}

type J = Jet<8>;

fn jet(c0: f64, c1: f64, c2: f64) -> J {
    let mut c = [0.0; 8];
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    J::from_coefficients(c)
}

fn assert_jets_close(a: J, b: J, what: &str) -> Result<(), TestCaseError> {
    let (a, b) = (a.coefficients(), b.coefficients());
    let scale = a.iter().chain(&b).fold(1.0f64, |m, x| m.max(x.abs()));
    for k in 0..8 {
        prop_assert!(
            (a[k] - b[k]).abs() <= 1e-12 * scale,
            "{what}: coefficient {k}: {} vs {}",
            a[k],
            b[k]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::fixed_seed(64))]

    /// Functional identities hold coefficient by coefficient for random jets.
    #[test]
    fn jet_identities(x0 in -0.9f64..0.9, c1 in -1.0f64..1.0, c2 in -1.0f64..1.0) {
        let a = jet(x0, c1, c2);
        let b = a + J::constant(2.0); // positive
        let one = J::constant(1.0);
        let (s, c) = a.sin_cos();
        assert_jets_close(b.ln().exp(), b, "exp ln")?;
        assert_jets_close(s * s + c * c, one, "sin² + cos²")?;
        assert_jets_close(a.cosh() * a.cosh() - a.sinh() * a.sinh(), one, "cosh² − sinh²")?;
        assert_jets_close(a.tanh(), a.sinh() / a.cosh(), "tanh")?;
        assert_jets_close(a.tan(), s / c, "tan")?;
        assert_jets_close(a.tan().atan(), a, "atan tan")?;
        assert_jets_close(a.sin().asin(), a, "asin sin")?;
        let t = a + J::constant(1.6);
        assert_jets_close(t.cos().acos(), t, "acos cos")?;
        assert_jets_close(a.sinh().asinh(), a, "asinh sinh")?;
        assert_jets_close(t.cosh().acosh(), t, "acosh cosh")?;
        assert_jets_close(a.tanh().atanh(), a, "atanh tanh")?;
        assert_jets_close(b.sqrt() * b.sqrt(), b, "sqrt")?;
        assert_jets_close(b.cbrt().powi(3), b, "cbrt")?;
        assert_jets_close((a - J::constant(2.0)).cbrt().powi(3), a - J::constant(2.0), "cbrt < 0")?;
        assert_jets_close(b.powf(J::constant(2.5)), b * b * b.sqrt(), "powf const")?;
        assert_jets_close(b.powf(a), (a * b.ln()).exp(), "powf jet")?;
        assert_jets_close(b.powi(-3) * b.powi(3), one, "powi")?;
        assert_jets_close(b.recip() * b, one, "recip")?;
        assert_jets_close(a.exp2(), (a * J::constant(std::f64::consts::LN_2)).exp(), "exp2")?;
        assert_jets_close(b.log2() * J::constant(std::f64::consts::LN_2), b.ln(), "log2")?;
        assert_jets_close(b.log10() * J::constant(std::f64::consts::LN_10), b.ln(), "log10")?;
        assert_jets_close(b.log(J::constant(3.0)), b.ln() / J::constant(3f64.ln()), "log")?;
        assert_jets_close(b.log(b), one, "log jet base")?;
        assert_jets_close(a.exp_m1(), a.exp() - one, "exp_m1")?;
        assert_jets_close(a.ln_1p(), (one + a).ln(), "ln_1p")?;
        assert_jets_close(a.hypot(b), (a * a + b * b).sqrt(), "hypot")?;
        assert_jets_close(s.atan2(c), a, "atan2")?;
        assert_jets_close(a.mul_add(b, one), a * b + one, "mul_add")?;
        assert_jets_close(a.to_radians().to_degrees(), a, "degrees")?;
        assert_jets_close((a * b) / b, a, "div")?;
    }

    /// Polynomial activations: the series terminate and are exact, so they equal quadrature at
    /// any q (SV.1–SV.2).
    #[test]
    fn polynomial_activations_are_exact(
        a1 in 0.2f64..2.0, a0 in -0.5f64..0.5, a2 in -0.5f64..0.5, a3 in -0.5f64..0.5,
        q in 0.05f64..3.0,
    ) {
        let mut phi = vec![0.0; 16];
        phi[..4].copy_from_slice(&[a0, a1, a2, a3]);
        let s = small_variance_from_taylor("cubic", &phi, 7).unwrap();
        let n = Normal::new(0.0, q).unwrap();
        let p = move |x: f64| a0 + x * (a1 + x * (a2 + x * a3));
        let dp = move |x: f64| a1 + x * (2.0 * a2 + x * 3.0 * a3);
        for (series, f) in [
            (&s.phi2, Fun::closure(move |x| p(x).powi(2))),
            (&s.dphi2, Fun::closure(move |x| dp(x).powi(2))),
            (&s.dphi4, Fun::closure(move |x| dp(x).powi(4))),
        ] {
            let e = expect(&f, &n).unwrap();
            let scale = series.coefficients.iter().enumerate()
                .map(|(k, c)| c.abs() * q.powi(k as i32)).sum::<f64>();
            prop_assert!((series.eval(q) - e.value).abs() <= 1e-12 * scale,
                "{} vs {}", series.eval(q), e.value);
        }
        // The critical line is the exact reciprocal: σ_w² μ₁ = 1 + O(q^{order+1}).
        let prod: Vec<f64> = (0..=7).map(|k| (0..=k).map(|j|
            s.sigma_w2.coefficients[j] * s.dphi2.coefficients[k - j]).sum()).collect();
        for (k, v) in prod.iter().enumerate() {
            let want = if k == 0 { 1.0 } else { 0.0 };
            prop_assert!((v - want).abs() < 1e-12 * s.sigma_w2.coefficients[k].abs().max(1.0));
        }
    }
}

proptest! {
    #![proptest_config(common::fixed_seed(64))]

    /// The leading terms (SV.10–SV.11) for φ(0) = 0: σ_w² = a₁⁻²(1 − (4a₂²/a₁² + 6a₃/a₁) q + …),
    /// σ_b² + σ_v² R = (a₂/a₁)² q² + …, and for odd φ 12 (a₃/a₁)² q³ + … with spectral growth
    /// 72 (a₃/a₁)² q² + …, whatever a₅. Tolerances are relative to the size of the terms that
    /// cancel, `(1 + |a₂/a₁| + |a₃/a₁| + |a₅/a₁|)³`.
    #[test]
    fn leading_terms_of_the_critical_line(
        a1 in 0.2f64..2.0, a2 in -1.0f64..1.0, a3 in -1.0f64..1.0, a5 in -1.0f64..1.0,
    ) {
        let (b2, b3) = (a2 / a1, a3 / a1);
        let scale = (1.0 + b2.abs() + b3.abs() + (a5 / a1).abs()).powi(3);
        let near = |x: f64, want: f64, unit: f64| (x - want).abs() <= 1e-12 * scale * unit;
        let mut phi = vec![0.0; 12];
        phi[1] = a1;
        phi[2] = a2;
        phi[3] = a3;
        phi[5] = a5;
        let s = small_variance_from_taylor("poly", &phi, 4).unwrap();
        let v = &s.input_variance.coefficients;
        let w = &s.sigma_w2.coefficients;
        let u = 1.0 / (a1 * a1);
        prop_assert!(v[0] == 0.0 && near(v[1], 0.0, 1.0));
        prop_assert!(near(v[2], b2 * b2, 1.0), "{} vs {}", v[2], b2 * b2);
        prop_assert!(near(w[0], u, u) && near(w[1], -(4.0 * b2 * b2 + 6.0 * b3) * u, u));
        phi[2] = 0.0;
        let s = small_variance_from_taylor("odd", &phi, 4).unwrap();
        let (v, g) = (&s.input_variance.coefficients, &s.spectral_growth.coefficients);
        prop_assert!(near(v[2], 0.0, 1.0));
        prop_assert!(near(v[3], 12.0 * b3 * b3, 1.0), "{} vs {}", v[3], 12.0 * b3 * b3);
        prop_assert!(near(s.sigma_w2.coefficients[1], -6.0 * b3 * u, u));
        prop_assert!(near(g[1], 0.0, 1.0) && near(g[2], 72.0 * b3 * b3, 1.0));
    }
}

/// tanh's series diverge for every q > 0 (poles at ±iπ/2): at q = 0.1 the error of Q first
/// falls, is smallest near order π²/(8q) ≈ 12, then grows without bound.
#[test]
fn tanh_series_are_asymptotic() {
    let s = small_variance(Builtin::Tanh, 30).unwrap();
    let q = 0.1;
    let exact = by_quadrature(Builtin::Tanh, q)[0];
    let err = |n: usize| {
        let c = &s.phi2.coefficients[..=n];
        (c.iter().rev().fold(0.0, |a, &x| a * q + x) - exact).abs()
    };
    let (best, e_best) = (0..=30)
        .map(|n| (n, err(n)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert!((9..=14).contains(&best), "optimal order {best}");
    assert!(e_best < 1e-4 && err(4) > 5.0 * e_best && err(30) > 1e3 * e_best);
}

#[test]
fn gaussian_series_of_polynomials_is_exact() {
    // E[(√q z)^{2k}] = (2k−1)!! q^k
    for k in 0..8 {
        let mut f = vec![0.0; 2 * k + 1];
        f[2 * k] = 1.0;
        let s = gaussian_series(&f, k).unwrap();
        let df: f64 = (1..=k).map(|i| (2 * i - 1) as f64).product();
        assert_eq!(s[k], df);
        assert!(s[..k].iter().all(|&x| x == 0.0));
    }
    // Odd moments vanish.
    assert_eq!(
        gaussian_series(&[0.0, 1.0, 0.0, 1.0, 0.0], 2).unwrap(),
        [0.0; 3]
    );
}

// ---------------------------------------------------------------------------------------------
// Ordering, branches and errors
// ---------------------------------------------------------------------------------------------

#[test]
fn jet_ordering_and_piecewise_functions() {
    let x = J::variable(0.0);
    let zero = J::constant(0.0);
    assert!(x > zero && -x < zero && x < J::constant(1e-300));
    assert_eq!(x.max(zero), x);
    assert_eq!((-x).max(zero), zero);
    assert_eq!(x.abs(), x);
    assert_eq!((-x).abs(), x);
    assert_eq!(x.floor(), zero);
    assert_eq!((-x).floor(), J::constant(-1.0));
    assert_eq!(x.ceil(), J::constant(1.0));
    assert_eq!((-x).ceil(), zero);
    assert_eq!((-x).trunc(), zero);
    assert_eq!((J::constant(0.5) - x).round(), zero);
    assert_eq!((J::constant(0.5) + x).round(), J::constant(1.0));
    assert_eq!(J::constant(2.5).round(), J::constant(3.0));
    assert_eq!((-x).signum(), J::constant(-1.0));
    assert_eq!(zero.signum(), J::constant(1.0));
    let y = jet(2.75, 1.0, 0.0);
    assert_eq!(y.fract().coefficients()[..2], [0.75, 1.0]);
    assert_eq!((y % J::constant(1.0)).coefficients()[..2], [0.75, 1.0]);
    assert!(J::nan().max(x) == x && x.min(J::nan()) == x);
    assert!(J::nan().is_nan() && !J::nan().is_finite() && J::infinity().is_infinite());
    assert_eq!(y.to_f64(), Some(2.75));
    assert_eq!(y.to_i64(), Some(2));
    let c: J = NumCast::from(3u8).unwrap();
    assert_eq!(c, J::constant(3.0));
    assert_eq!(
        <J as num_traits::Num>::from_str_radix("1.5", 10).unwrap(),
        J::constant(1.5)
    );
    assert_eq!(y.integer_decode(), <f64 as Float>::integer_decode(2.75));
    assert_eq!(J::constant(-0.0).abs().coefficients()[0].to_bits(), 0);
    assert_eq!(x.copysign(-x), -x);
    // A removable singularity: sin(x)/x, the top coefficient lost to the cancellation.
    let sinc = (x.sin() / x).coefficients();
    assert!(close(sinc[2], -1.0 / 6.0, 1e-15) && close(sinc[6], -1.0 / 5040.0, 1e-15));
    assert!(sinc[7].is_nan());
}

#[test]
fn jet_rejects_kinks_and_singularities() {
    fn unsupported(r: Result<[f64; 8], Error>, what: &str, needle: &str) {
        match r {
            Err(Error::Unsupported(m)) => assert!(m.contains(needle), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    unsupported(
        taylor(|x: J| x.max(J::constant(0.0))),
        "relu",
        "from the right and from the left",
    );
    unsupported(taylor(|x: J| x.abs()), "abs", "kink");
    unsupported(taylor(|x: J| x.floor()), "floor", "order 0");
    unsupported(
        taylor(|x: J| {
            if x > J::constant(0.0) {
                x
            } else {
                x * J::constant(0.1)
            }
        }),
        "leaky",
        "order 1",
    );
    unsupported(taylor(|x: J| x.sqrt()), "sqrt", "not analytic");
    unsupported(taylor(|x: J| x.ln()), "ln", "not analytic");
    unsupported(taylor(|x: J| x.recip()), "1/x", "is inf");
    unsupported(taylor(|x: J| x.abs().powi(3)), "|x|³", "order 3");
    // |x|² = x² is analytic: accepted.
    assert_eq!(taylor(|x: J| x.abs().powi(2)).unwrap()[2], 1.0);
    // And through small_variance_of.
    assert!(matches!(
        small_variance_of("relu", |x: J| x.max(J::constant(0.0)), 2),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn typed_errors() {
    for b in [Builtin::Relu, Builtin::HardTanh] {
        match small_variance(b, 3) {
            Err(Error::Unsupported(m)) => {
                assert!(m.contains("kink") && m.contains(b.as_str()), "{m}")
            }
            other => panic!("{b}: {other:?}"),
        }
        assert!(matches!(exact_taylor(b, 3), Err(Error::Unsupported(_))));
        assert!(matches!(builtin_taylor(b, 3), Err(Error::Unsupported(_))));
    }
    let order_error = |r: Result<SmallVariance, Error>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        order_error(small_variance(Builtin::Tanh, MAX_ORDER + 1)),
        "order"
    );
    let e = small_variance(Builtin::Tanh, MAX_ORDER + 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("exact-arithmetic limit") && e.contains("40"),
        "{e}"
    );
    // The limit itself works.
    assert_eq!(
        small_variance(Builtin::Sigmoid, MAX_ORDER)
            .unwrap()
            .sigma_w2
            .order(),
        MAX_ORDER
    );
    assert_eq!(
        order_error(small_variance_from_taylor("t", &[0.0, 1.0, 0.0], 1)),
        "order"
    );
    assert_eq!(
        order_error(small_variance_from_taylor(
            "t",
            &[0.0, 1.0, f64::NAN, 0.0],
            1
        )),
        "phi"
    );
    match small_variance_from_taylor("cos", &[1.0, 0.0, -0.5, 0.0], 1) {
        Err(Error::Unsupported(m)) => assert!(m.contains("φ'(0) = 0"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        exact_taylor(Builtin::Softplus, 3),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        gaussian_series(&[1.0, 0.0], 1),
        Err(Error::InvalidParameter { name: "order", .. })
    ));
    assert!(matches!(
        exact_taylor(Builtin::Tanh, 2 * MAX_ORDER + 2),
        Err(Error::InvalidParameter { name: "degree", .. })
    ));
}

#[test]
fn formulas() {
    let s = small_variance(Builtin::Tanh, 4).unwrap();
    assert_eq!(s.phi2.formula(), "q - 2 q^2 + 17/3 q^3 - 62/3 q^4 + O(q^5)");
    assert_eq!(
        s.spectral_growth.to_string(),
        "8 q^2 - 80 q^3 + 2432/3 q^4 + O(q^5)"
    );
    let e = small_variance(Builtin::Erf, 2).unwrap();
    assert_eq!(e.dphi4.formula(), "(16 - 64 q + 384 q^2 + O(q^3))/π^2");
    let p = small_variance(Builtin::Softplus, 2).unwrap();
    assert!(p.phi2.exact.is_none());
    assert!(
        p.phi2
            .formula()
            .starts_with("0.4804530139 + 0.4232867951 q"),
        "{}",
        p.phi2
    );
    assert_eq!(p.sigma_w2.formula(), "4 - q + 3/4 q^2 + O(q^3)");
}
