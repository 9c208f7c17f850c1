//! Free-probability spectra of Jacobian products against closed forms, their own moment
//! series, and sampled Jacobians of finite-width networks.

use mfrnn::activation::{Activation, Builtin};
use mfrnn::cells::vanilla::Vanilla;
use mfrnn::cells::{Cell, CellParams, RhoSchedule, WeightLaw};
use mfrnn::sim::SimConfig;
use mfrnn::sim::jacobian::{self, Accumulation, JacobianSample};
use mfrnn::spectrum::{DiagonalLaw, ProductSpectrum};
use mfrnn::stats::ks_distance;

fn identity() -> DiagonalLaw {
    DiagonalLaw::atoms(vec![1.0], vec![1.0]).unwrap()
}

/// Products of T square Gaussian matrices (D = I): the upper edge of the Fuss–Catalan law is
/// (T+1)^{T+1}/T^T and the normalised variance is T.
#[test]
fn fuss_catalan_edges_and_moments() {
    for t in 1..=4usize {
        let sp = ProductSpectrum::new(identity(), 1.0, t, WeightLaw::Gaussian).unwrap();
        let tf = t as f64;
        let edge = (tf + 1.0).powf(tf + 1.0) / tf.powf(tf);
        let [_, hi] = sp.edges();
        assert!((hi - edge).abs() < 1e-8 * edge, "T={t}: {hi} vs {edge}");
        assert!((sp.moments().normalized_variance - tf).abs() < 1e-14);
        let d = sp.density(300).unwrap();
        assert_eq!(d.failures, 0);
        assert!((d.mean - 1.0).abs() < 2e-3, "T={t}: mean {}", d.mean);
        assert!(d.density.iter().all(|&x| x >= 0.0));
    }
}

/// Bernoulli diagonals (ReLU: p = 1/2) at criticality σ_w² p = 1: closed-form upper edges
/// (research notes, checked there by simulation): orthogonal λ_max = ((1−p)/p) L^L/(L−1)^{L−1}
/// when L(1−p) > 1, and Gaussian (L, p) = (5, 0.5): 27.272773395343.
#[test]
fn bernoulli_edges() {
    let p = 0.5;
    let law = DiagonalLaw::atoms(vec![0.0, 1.0], vec![1.0 - p, p]).unwrap();
    let l = 10usize;
    let sp = ProductSpectrum::new(law.clone(), 1.0 / p, l, WeightLaw::Orthogonal).unwrap();
    let lf = l as f64;
    let edge = (1.0 - p) / p * lf.powf(lf) / (lf - 1.0).powf(lf - 1.0);
    let [_, hi] = sp.edges();
    assert!((hi - edge).abs() < 1e-7 * edge, "{hi} vs {edge}");
    let sp = ProductSpectrum::new(law, 1.0 / p, 5, WeightLaw::Gaussian).unwrap();
    let [_, hi] = sp.edges();
    assert!((hi - 27.272_773_395_343).abs() < 1e-8, "{hi}");
    // ReLU's law from the activation is exactly this Bernoulli law.
    let relu = DiagonalLaw::of_activation(&Builtin::Relu as &dyn Activation, 0.0, 0.7).unwrap();
    assert!((relu.moment(1) - 0.5).abs() < 1e-15 && (relu.moment(2) - 0.5).abs() < 1e-15);
}

/// The density's mass and moments agree with the S-transform series (tanh, critical,
/// orthogonal, where the spectrum has no atom and little mass near 0).
#[test]
fn density_moments_match_series() {
    for (q, t) in [(0.05, 10usize), (0.04217, 100), (0.5, 10)] {
        let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, q).unwrap();
        let sw2 = 1.0 / law.moment(1);
        let sp = ProductSpectrum::new(law, sw2, t, WeightLaw::Orthogonal).unwrap();
        let m = sp.moments();
        assert!((m.m1 - 1.0).abs() < 1e-12);
        let d = sp.density(400).unwrap();
        assert_eq!(d.failures, 0);
        assert!(d.density.iter().all(|&x| x >= 0.0));
        assert!(
            (d.mass - 1.0).abs() < 1e-3 || q == 0.5,
            "q={q}: mass {}",
            d.mass
        );
        assert!((d.mean - m.m1).abs() < 1e-3, "q={q}: mean {}", d.mean);
        let var: f64 = d
            .lambda
            .windows(2)
            .zip(d.density.windows(2))
            .map(|(x, r)| {
                0.5 * (x[1] - x[0]) * ((x[1] - 1.0).powi(2) * r[1] + (x[0] - 1.0).powi(2) * r[0])
            })
            .sum();
        // At q = 0.5 about 5% of the mass lies below 1e-10 λ_max, which carries variance
        // (λ − 1)² ≈ 1 each; allow for it.
        let slack = 1e-2 * m.normalized_variance + (1.0 - d.mass).max(0.0);
        assert!(
            (var - m.normalized_variance).abs() < slack,
            "q={q}: variance {var} vs {}",
            m.normalized_variance
        );
    }
}

fn tanh_net(sigma_w: f64, sigma_v: f64, sigma_b: f64) -> Vanilla {
    let p = CellParams::builder()
        .sigma_w(sigma_w)
        .sigma_v(sigma_v)
        .sigma_b(sigma_b)
        .build()
        .unwrap();
    Vanilla::with_builtin(Builtin::Tanh, p)
}

/// Sampled `steps`-step Jacobians of the vanilla network of `v` (direct accumulation).
fn sample(v: &Vanilla, cfg: &SimConfig, steps: usize, burn_in: usize) -> JacobianSample {
    let cell = Cell::Vanilla(v.activation().clone());
    jacobian::sample(&cell, v.params(), cfg, steps, burn_in, Accumulation::Direct).unwrap()
}

fn config(width: usize, seeds: usize, seed: u64, w: WeightLaw, tied: bool) -> SimConfig {
    SimConfig::builder()
        .width(width)
        .batch(1)
        .seeds(seeds)
        .seed(seed)
        .weights(w)
        .tied(tied)
        .build()
        .unwrap()
}

fn critical_tanh(q: f64) -> (Vanilla, DiagonalLaw, f64) {
    let law = DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, q).unwrap();
    let sw2 = 1.0 / law.moment(1);
    let probe = tanh_net(sw2.sqrt(), 0.0, 0.0);
    let sb2 = q - sw2 * probe.hidden_second_moment(q).unwrap();
    let v = tanh_net(sw2.sqrt(), 0.0, sb2.sqrt());
    (v, law, sw2)
}

/// Theory against sampled Jacobians of real networks (N = 400, 16 networks, T = 10, tanh at
/// criticality, q* = 0.5): tied and untied, orthogonal and Gaussian.
///
/// Measured: KS distances 0.0049–0.0076 and m₁ = 0.965–1.031, each within 1.1 standard errors
/// of 1. KS threshold 0.025, about 3× the worst measured value (the pooled singular values of
/// one matrix repel, so they behave better than 6400 independent draws). m₁ within 4 standard
/// errors: the per-network m₁ fluctuates strongly (cf. Hanin & Nica: fluctuations grow with
/// T/N), and with only 4 networks the same seed gave 1.218 ± 0.037 for tied orthogonal weights
/// and KS 0.035 — an underestimated standard error of a heavy-tailed statistic, not a bias
/// (16 networks: 1.030 ± 0.056), which is why 16 are used.
#[test]
fn theory_matches_sampled_jacobians() {
    let (v, law, sw2) = critical_tanh(0.5);
    assert!((v.summary(1.0).unwrap().q_star - 0.5).abs() < 1e-12);
    let mut nv = Vec::new();
    for w in [WeightLaw::Orthogonal, WeightLaw::Gaussian] {
        let sp = ProductSpectrum::new(law.clone(), sw2, 10, w).unwrap();
        let d = sp.density(400).unwrap();
        for tied in [true, false] {
            let js = sample(&v, &config(400, 16, 3, w, tied), 10, 50);
            let ks = ks_distance(&js.squared_singular_values, |x| d.cdf(x));
            assert!(ks < 0.025, "{w:?} tied={tied}: KS {ks}");
            let m = js.moments;
            assert!(
                (m.m1 - 1.0).abs() < 4.0 * m.m1_se,
                "{w:?} tied={tied}: m1 {} ± {}",
                m.m1,
                m.m1_se
            );
            if tied {
                nv.push((
                    sp.moments().normalized_variance,
                    m.normalized_variance,
                    m.normalized_variance_se,
                ));
            }
        }
    }
    // Orthogonal weights give a narrower spectrum, by exactly T in normalised variance.
    let (o, g) = (nv[0], nv[1]);
    assert!((g.0 - o.0 - 10.0).abs() < 1e-12);
    assert!(
        o.1 + 3.0 * o.2 < g.1 - 3.0 * g.2,
        "sampled: orthogonal {o:?} vs Gaussian {g:?}"
    );
}

/// Spectra along a transient (S.7): a tanh network started at `h⁰ = 0` with weak input has
/// `q¹ = σ_v²R + σ_b²` far below `q*`, so the early `D^t` are near 1. The product over the
/// first 10 steps, with the laws of `D^t` at the mean-field `q^t`, matches sampled Jacobians of
/// the same steps (tied and untied, orthogonal), while the fixed-point law misses them. The
/// trajectory law's KS distance is 0.009–0.011 (measured), the fixed-point law's 0.16–0.18.
#[test]
fn trajectory_spectrum_matches_transient() {
    let v = tanh_net(1.5, 0.3, 0.05);
    let steps = 10;
    let tr = v
        .trajectory(&RhoSchedule::constant(1.0, steps).unwrap())
        .unwrap();
    let laws: Vec<DiagonalLaw> = tr
        .q
        .iter()
        .map(|&q| DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, q).unwrap())
        .collect();
    let along = ProductSpectrum::along(laws, 2.25, WeightLaw::Orthogonal).unwrap();
    assert_eq!(along.steps(), steps);
    let q_star = v.summary(1.0).unwrap().q_star;
    let fixed = ProductSpectrum::new(
        DiagonalLaw::of_activation(&Builtin::Tanh as &dyn Activation, 0.0, q_star).unwrap(),
        2.25,
        steps,
        WeightLaw::Orthogonal,
    )
    .unwrap();
    let d_along = along.density(400).unwrap();
    let d_fixed = fixed.density(400).unwrap();
    assert_eq!(d_along.failures, 0);
    // m₁ of the density against the product of the per-step χ's.
    assert!((d_along.mean / along.moments().m1 - 1.0).abs() < 2e-3);
    for tied in [true, false] {
        let js = sample(
            &v,
            &config(400, 4, 8, WeightLaw::Orthogonal, tied),
            steps,
            0,
        );
        let ks_along = ks_distance(&js.squared_singular_values, |x| d_along.cdf(x));
        let ks_fixed = ks_distance(&js.squared_singular_values, |x| d_fixed.cdf(x));
        assert!(
            ks_along < 0.05,
            "tied={tied}: KS along the trajectory {ks_along}"
        );
        assert!(
            ks_fixed > 0.1,
            "tied={tied}: KS of the fixed-point law {ks_fixed}"
        );
    }
}

/// Higher moments (S.8) against sampled Jacobians (N = 400, 8 networks, T = 3, tanh at
/// criticality, q* = 0.5), tied and untied, orthogonal and Gaussian.
///
/// Measured: every sampled `m_k` (k = 1..4) is within 1.25 standard errors of the series
/// (relative deviations 1–15%, all inside the noise; the finite-width bias is not resolved at
/// this size). Tolerance 4 standard errors per moment: the network-to-network spread is what
/// limits the check (the moments of one network move together with its `m₁`), so it catches
/// errors of roughly 10% (m₁) to 50% (Gaussian m₄) — e.g. the orthogonal and Gaussian values
/// differ by 2.6× already at `m₂`.
#[test]
fn higher_moments_match_sampled() {
    let (v, law, sw2) = critical_tanh(0.5);
    for w in [WeightLaw::Orthogonal, WeightLaw::Gaussian] {
        let th = ProductSpectrum::new(law.clone(), sw2, 3, w)
            .unwrap()
            .moment_series(4)
            .unwrap();
        for tied in [true, false] {
            let m = sample(&v, &config(400, 8, 5, w, tied), 3, 50).moments;
            for (k, (e, se)) in [
                (m.m1, m.m1_se),
                (m.m2, m.m2_se),
                (m.m3, m.m3_se),
                (m.m4, m.m4_se),
            ]
            .into_iter()
            .enumerate()
            {
                assert!(
                    (e - th[k]).abs() < 4.0 * se,
                    "{w:?} tied={tied} k={}: theory {} sampled {e} ± {se}",
                    k + 1,
                    th[k]
                );
            }
        }
    }
}
