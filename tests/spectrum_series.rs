//! Exact moments of Jacobian products from S-transform power series
//! (`mfrnn::spectrum::series::product_moments`) against closed forms, the closed-form first
//! two moments of `ProductSpectrum`, and moments of its numerically solved density.

mod common;

use mfrnn::Error;
use mfrnn::cells::WeightLaw;
use mfrnn::spectrum::series::product_moments;
use mfrnn::spectrum::{self, DiagonalLaw, ProductSpectrum};
use proptest::prelude::*;

fn law_moments(law: &DiagonalLaw, order: usize) -> Vec<f64> {
    (1..=order).map(|k| law.moment(k as i32)).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// `binom((T+1)k, k)/(Tk+1)`, exact in integers.
fn fuss_catalan(t: u64, k: u64) -> f64 {
    let mut b: u128 = 1;
    for i in 0..k {
        b = b * u128::from((t + 1) * k - i) / u128::from(i + 1);
    }
    b as f64 / (t * k + 1) as f64
}

/// D = I, T Gaussian factors, σ_w² = 1: the Fuss–Catalan numbers.
#[test]
fn fuss_catalan_moments() {
    for t in 1..=5usize {
        let m = product_moments(&[(vec![1.0; 6], t)], 1.0, WeightLaw::Gaussian, 6).unwrap();
        for (k, mk) in (1..=6u64).zip(&m) {
            let exact = fuss_catalan(t as u64, k);
            assert!(rel(*mk, exact) < 1e-12, "T={t} k={k}: {mk} vs {exact}");
        }
    }
    // The same law split over several factor entries (S-transforms multiply).
    let m = product_moments(
        &[(vec![1.0; 6], 2), (vec![1.0; 6], 0), (vec![1.0; 6], 3)],
        1.0,
        WeightLaw::Gaussian,
        6,
    )
    .unwrap();
    for (k, mk) in (1..=6u64).zip(&m) {
        assert!(rel(*mk, fuss_catalan(5, k)) < 1e-12);
    }
}

/// D = I with orthogonal weights: `J_T = σ_w^T O`, all `m_k = σ_w^{2Tk}`.
#[test]
fn orthogonal_identity() {
    for t in [1usize, 2, 7, 50] {
        for sw2 in [0.5, 1.0, 1.3] {
            let m = product_moments(&[(vec![1.0; 5], t)], sw2, WeightLaw::Orthogonal, 5).unwrap();
            for (k, mk) in m.iter().enumerate() {
                let exact = sw2.powi((t * (k + 1)) as i32);
                assert!(rel(*mk, exact) < 1e-12, "T={t} σ²={sw2} k={}", k + 1);
            }
        }
    }
}

/// One orthogonal step: the law of `σ_w² d`, `m_k = σ_w^{2k} μ_k`.
#[test]
fn one_orthogonal_step_is_scaled_law() {
    let law = DiagonalLaw::atoms(vec![0.0, 0.3, 1.0, 2.5], vec![0.2, 0.3, 0.4, 0.1]).unwrap();
    let mu = law_moments(&law, 8);
    let m = product_moments(&[(mu.clone(), 1)], 0.8, WeightLaw::Orthogonal, 8).unwrap();
    for (k, (a, b)) in m.iter().zip(&mu).enumerate() {
        let exact = 0.8f64.powi(k as i32 + 1) * b;
        assert!(rel(*a, exact) < 1e-12, "k={}: {a} vs {exact}", k + 1);
    }
}

/// `m_1 = (σ_w² μ_1)^T` and `(m_2 − m_1²)/m_1² = T(μ_2/μ_1² − 1 − s_1)`, as given in closed
/// form by `ProductSpectrum::moments`, including T = 1000 (log/exp powers).
#[test]
fn first_two_moments_match_closed_form() {
    let law = DiagonalLaw::atoms(vec![0.16, 0.81, 1.69], vec![0.3, 0.5, 0.2]).unwrap();
    let mu = law_moments(&law, 4);
    for weights in [WeightLaw::Gaussian, WeightLaw::Orthogonal] {
        for t in [1usize, 2, 5, 30, 1000] {
            // Critical scale for T = 1000 (m_1 = 1), a non-critical one otherwise.
            let sw2 = if t == 1000 { 1.0 / mu[0] } else { 1.3 };
            let m = product_moments(&[(mu.clone(), t)], sw2, weights, 4).unwrap();
            let closed = ProductSpectrum::new(law.clone(), sw2, t, weights)
                .unwrap()
                .moments();
            let m1 = (sw2 * mu[0]).powi(t as i32);
            assert!(rel(m[0], m1) < 1e-12, "{weights:?} T={t}: {} vs {m1}", m[0]);
            assert!(rel(m[0], closed.m1) < 1e-12);
            let nv = (m[1] - m[0] * m[0]) / (m[0] * m[0]);
            let exact = t as f64 * (mu[1] / (mu[0] * mu[0]) - 1.0 - spectrum::s1(weights));
            assert!(rel(nv, exact) < 1e-10, "{weights:?} T={t}: {nv} vs {exact}");
            assert!(rel(nv, closed.normalized_variance) < 1e-10);
            assert!(m.iter().all(|x| x.is_finite() && *x > 0.0));
        }
    }
}

/// Distinct laws along a trajectory: the order of the factors does not matter, and the
/// normalised variance is additive.
#[test]
fn distinct_laws_commute() {
    let a = law_moments(
        &DiagonalLaw::atoms(vec![0.2, 1.0], vec![0.5, 0.5]).unwrap(),
        5,
    );
    let b = law_moments(
        &DiagonalLaw::atoms(vec![0.5, 0.9, 1.4], vec![0.2, 0.6, 0.2]).unwrap(),
        5,
    );
    for weights in [WeightLaw::Gaussian, WeightLaw::Orthogonal] {
        let ab = product_moments(&[(a.clone(), 2), (b.clone(), 3)], 1.1, weights, 5).unwrap();
        let ba = product_moments(&[(b.clone(), 3), (a.clone(), 2)], 1.1, weights, 5).unwrap();
        for (x, y) in ab.iter().zip(&ba) {
            assert!(rel(*x, *y) < 1e-13);
        }
        let nv = (ab[1] - ab[0] * ab[0]) / (ab[0] * ab[0]);
        let exact = 2.0 * (a[1] / (a[0] * a[0]) - 1.0) + 3.0 * (b[1] / (b[0] * b[0]) - 1.0)
            - 5.0 * spectrum::s1(weights);
        assert!(rel(nv, exact) < 1e-12, "{weights:?}: {nv} vs {exact}");
    }
}

/// `∫ λ^k ρ dλ` by the trapezoid rule on the density's own grid.
fn density_moment(d: &mfrnn::spectrum::Density, k: i32) -> f64 {
    d.lambda
        .windows(2)
        .zip(d.density.windows(2))
        .map(|(x, r)| 0.5 * (x[1] - x[0]) * (x[1].powi(k) * r[1] + x[0].powi(k) * r[0]))
        .sum()
}

/// Against moments of the numerically solved density (3-atom law, T = 3, both weight laws).
///
/// Measured relative errors of `∫λ^k ρ` at 2000 points: 0.4–2.6e-5 (Gaussian) and
/// 0.7–3.2e-5 (orthogonal) for k = 1..4, growing with k. They fall like `h^{3/2}` with the
/// grid step (9e-6 at 4000 points, 2.5e-6 at 8000), the trapezoid error at the
/// square-root edges, so they are the density's discretisation, not the series'. The
/// Gaussian spectrum (`ρ ~ λ^{−3/4}` near 0) leaves ~1% of its mass below the grid, which
/// carries no appreciable `λ^k` moment. Tolerance 1.5e-4: about 5× the worst measured error,
/// since where the grid falls relative to the edges varies with the parameters.
#[test]
fn density_moments_match() {
    let law = DiagonalLaw::atoms(vec![0.16, 0.81, 1.69], vec![0.3, 0.5, 0.2]).unwrap();
    let mu = law_moments(&law, 4);
    for weights in [WeightLaw::Gaussian, WeightLaw::Orthogonal] {
        let sw2 = 1.2;
        let m = product_moments(&[(mu.clone(), 3)], sw2, weights, 4).unwrap();
        let d = ProductSpectrum::new(law.clone(), sw2, 3, weights)
            .unwrap()
            .density(2000)
            .unwrap();
        assert_eq!(d.failures, 0);
        for (k, mk) in (1..=4).zip(&m) {
            let num = density_moment(&d, k);
            assert!(
                rel(num, *mk) < 1.5e-4,
                "{weights:?} k={k}: series {mk} vs density {num}"
            );
        }
    }
}

#[test]
fn invalid_input() {
    let mu = vec![0.5, 0.4, 0.35];
    let g = WeightLaw::Gaussian;
    let is_invalid = |r: Result<Vec<f64>, Error>| matches!(r, Err(Error::InvalidParameter { .. }));
    assert!(is_invalid(product_moments(&[(mu.clone(), 2)], 1.0, g, 0)));
    // Fewer moments than the order, in any factor.
    assert!(is_invalid(product_moments(&[(mu.clone(), 2)], 1.0, g, 4)));
    assert!(is_invalid(product_moments(
        &[(mu.clone(), 2), (vec![0.5, 0.4], 1)],
        1.0,
        g,
        3
    )));
    // No steps at all.
    assert!(is_invalid(product_moments(&[], 1.0, g, 3)));
    assert!(is_invalid(product_moments(&[(mu.clone(), 0)], 1.0, g, 3)));
    // μ_1 and σ_w².
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(is_invalid(product_moments(
            &[(vec![bad, 0.4, 0.3], 1)],
            1.0,
            g,
            3
        )));
        assert!(is_invalid(product_moments(&[(mu.clone(), 1)], bad, g, 3)));
    }
    assert!(is_invalid(product_moments(
        &[(vec![0.5, f64::NAN, 0.3], 1)],
        1.0,
        g,
        3
    )));
    // Extra moments beyond the order are ignored, even if they are not finite.
    let ok = product_moments(&[(vec![0.5, 0.4, f64::NAN], 1)], 1.0, g, 2).unwrap();
    assert_eq!(ok.len(), 2);
}

/// Discrete laws: up to 4 atoms in [0, 3] with some positive atom.
fn atom_law() -> impl Strategy<Value = DiagonalLaw> {
    (1usize..=4)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(0.0f64..3.0, n),
                prop::collection::vec(0.01f64..1.0, n),
                0.05f64..3.0,
            )
        })
        .prop_map(|(mut v, p, top)| {
            // Guarantee μ_1 > 0.
            v[0] = top;
            DiagonalLaw::atoms(v, p).unwrap()
        })
}

proptest! {
    #![proptest_config(common::fixed_seed(200))]

    /// Moments of a positive law are positive and log-convex: `m_{k−1} m_{k+1} ≥ m_k²`
    /// (`m_0 = 1`; Hankel positivity), in particular `m_1 m_3 ≥ m_2²`.
    #[test]
    fn positive_and_log_convex(
        law in atom_law(),
        t in 1usize..6,
        sw2 in 0.2f64..3.0,
        gaussian in any::<bool>(),
    ) {
        let weights = if gaussian { WeightLaw::Gaussian } else { WeightLaw::Orthogonal };
        let order = 6;
        let m = product_moments(&[(law_moments(&law, order), t)], sw2, weights, order).unwrap();
        prop_assert!(m.iter().all(|x| x.is_finite() && *x > 0.0), "{m:?}");
        let mut with0 = vec![1.0];
        with0.extend(&m);
        for k in 1..order {
            // Equality holds for a point mass (one atom, orthogonal); allow rounding.
            prop_assert!(
                with0[k - 1] * with0[k + 1] >= with0[k] * with0[k] * (1.0 - 1e-10),
                "k={k}: {m:?}"
            );
        }
    }
}
