//! Issue 14's LkjCholesky: the log density against the direct formula (and, for K = 3, a
//! numerical integral of the density), gradients, sampling moments with fixed seeds, support,
//! shapes and typed errors.

use super::{ad, arr, cfg, close};
use infer_ad::Tape;
use infer_ad::gradcheck::check_gradient;
use infer_dist::*;
use ndarray::Array2;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The LKJ log density from first principles: Σᵢ eᵢ ln Lᵢᵢ (eᵢ = K − i − 1 + 2η − 2, rows
/// numbered from 0) minus ln of the product over rows of the ball integrals
/// ∫_{Bⁱ} (1 − |w|²)^{eᵢ/2} dw = π^{i/2} Γ(eᵢ/2 + 1)/Γ(eᵢ/2 + 1 + i/2).
fn lkj_direct(k: usize, eta: f64, l: &[f64]) -> f64 {
    use infer_ad::scalar::lgamma;
    let mut lp = 0.0;
    for i in 1..k {
        let e = (k - i - 1) as f64 + 2.0 * eta - 2.0;
        let h = e / 2.0;
        lp += e * l[i * k + i].ln();
        lp -= 0.5 * i as f64 * std::f64::consts::PI.ln() + lgamma(h + 1.0)
            - lgamma(h + 1.0 + 0.5 * i as f64);
    }
    lp
}

/// A Cholesky factor of a correlation matrix from a K×(K + 2) matrix of numbers in (−2, 2):
/// rows of the lower-triangular Gram–Schmidt factor of A, normalized.
fn corr_chol(k: usize, raw: &[f64]) -> Vec<f64> {
    let a = Array2::from_shape_vec((k, k + 2), raw[..k * (k + 2)].to_vec()).unwrap();
    let s = a.dot(&a.t()) + Array2::<f64>::eye(k) * 0.5;
    // Cholesky of S, then rows scaled to unit norm (the Cholesky factor of the correlation)
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut v = s[[i, j]];
            for p in 0..j {
                v -= l[i * k + p] * l[j * k + p];
            }
            l[i * k + j] = if i == j { v.sqrt() } else { v / l[j * k + j] };
        }
    }
    for i in 0..k {
        let nrm = (0..=i).map(|j| l[i * k + j].powi(2)).sum::<f64>().sqrt();
        for j in 0..=i {
            l[i * k + j] /= nrm;
        }
    }
    l
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// log_prob against the ball-integral normalizer; ∂/∂η by finite differences; ∂/∂L
    /// against eᵢ/Lᵢᵢ on the diagonal and 0 elsewhere.
    #[test]
    fn lkj_log_prob_and_gradient(
        k in 2usize..6,
        eta in 0.3f64..12.0,
        raw in proptest::collection::vec(-2.0f64..2.0, 5 * 7),
    ) {
        let l = corr_chol(k, &raw);
        let tape = Tape::new();
        let e = tape.var(eta);
        let x = tape.tensor(&arr(&[k, k], &l));
        let d = LkjCholesky::new(k, e).unwrap();
        let lp = d.log_prob(x).unwrap();
        let direct = lkj_direct(k, eta, &l);
        // relative 1e-12: ≤ 8 lgamma values of size ≤ 30 and logarithms
        prop_assert!(close(lp.to_vec()[0], direct, 1e-12), "{:?} vs {direct}", lp.to_vec());
        prop_assert!(close(d.log_prob_sum(x).unwrap().value(), direct, 1e-12));
        lp.sum().backward();
        let g = x.grad();
        for i in 0..k {
            for j in 0..k {
                let want = if i == j && i > 0 {
                    ((k - i - 1) as f64 + 2.0 * eta - 2.0) / l[i * k + i]
                } else {
                    0.0
                };
                prop_assert!(close(g[[i, j]], want, 1e-14), "∂/∂L[{i},{j}] = {} vs {want}", g[[i, j]]);
            }
        }
        let lc = l.clone();
        check_gradient(
            &[arr(&[], &[eta])],
            move |tp, v| {
                let d = LkjCholesky::new(k, v[0]).map_err(ad)?;
                Ok(d.log_prob(tp.constant(&arr(&[k, k], &lc))).map_err(ad)?.sum())
            },
            &cfg(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

/// K = 3, η = 1.5: the density integrates to 1 over the free coordinates (r₂₁ ∈ (−1, 1) and
/// (r₃₁, r₃₂) in the unit disk, in polar coordinates: the density depends on the radius only).
/// Midpoint rule on 600 × 600 cells, evaluated as one batched log_prob; the integrand behaves
/// like √(1 − ρ²) at the rim, so the rule's error is O(h^{3/2}) ≈ 1e-4: tolerance 1e-3.
#[test]
fn lkj_density_integrates_to_one() {
    let (k, eta, m) = (3, 1.5, 600);
    let h = 1.0 / m as f64;
    let mut vals = Vec::with_capacity(m * m * 9);
    let mut weights = Vec::with_capacity(m * m);
    for a in 0..m {
        let r21 = -1.0 + 2.0 * (a as f64 + 0.5) * h;
        for b in 0..m {
            let rho = (b as f64 + 0.5) * h;
            let (r31, r32) = (rho * 0.6, rho * 0.8);
            vals.extend([
                1.0,
                0.0,
                0.0,
                r21,
                (1.0 - r21 * r21).sqrt(),
                0.0,
                r31,
                r32,
                (1.0 - rho * rho).sqrt(),
            ]);
            // dr₂₁ · 2πρ dρ
            weights.push(2.0 * h * 2.0 * std::f64::consts::PI * rho * h);
        }
    }
    let tape = Tape::new();
    let d = LkjCholesky::new(k, tape.var(eta)).unwrap();
    let lp = d
        .log_prob(tape.constant(&arr(&[m * m, 3, 3], &vals)))
        .unwrap()
        .to_vec();
    let total: f64 = lp.iter().zip(&weights).map(|(l, w)| l.exp() * w).sum();
    assert!((total - 1.0).abs() < 1e-3, "∫ p = {total}");
}

/// K = 4, η = 2, 20 000 draws (seed 16): every draw is a Cholesky factor of a correlation
/// matrix with a finite log density, and each correlation Ωᵢⱼ of LLᵀ has the LKJ marginal
/// 2·Beta(a, a) − 1, a = η − 1 + K/2 = 3: mean 0, variance 1/(2a + 1) = 1/7, fourth moment
/// 3/((2a + 1)(2a + 3)) = 1/21. Sample means within 5 standard errors (√(1/7/N)), sample
/// second moments within 5 standard errors (√((1/21 − 1/49)/N)): false-failure rate < 1e-5.
#[test]
fn lkj_sampling_moments() {
    let (k, n) = (4, 20_000);
    let tape = Tape::new();
    let d = LkjCholesky::new(k, tape.var(2.0)).unwrap();
    let mut rng = StdRng::seed_from_u64(16);
    let draws = d.sample_n(n, &mut rng).unwrap();
    assert_eq!(draws.shape(), &[n, k, k]);
    let flat: Vec<f64> = draws.iter().copied().collect();
    let lp = d.log_prob(tape.constant(&draws)).unwrap().to_vec();
    assert!(lp.iter().all(|v| v.is_finite()));
    let pairs = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];
    let nn = n as f64;
    for &(i, j) in &pairs {
        let (mut s1, mut s2) = (0.0, 0.0);
        for m in flat.chunks(k * k) {
            assert!(Constraint::CholeskyFactorCorr.check_event(m));
            let w: f64 = (0..k).map(|p| m[i * k + p] * m[j * k + p]).sum();
            s1 += w;
            s2 += w * w;
        }
        let (mean, second) = (s1 / nn, s2 / nn);
        assert!(
            mean.abs() < 5.0 * (1.0 / 7.0 / nn).sqrt(),
            "E Ω[{i},{j}] = {mean}"
        );
        let se = ((1.0 / 21.0 - 1.0 / 49.0) / nn).sqrt();
        assert!(
            (second - 1.0 / 7.0).abs() < 5.0 * se,
            "E Ω[{i},{j}]² = {second}"
        );
    }
    // a batch of concentrations: one factor per element
    let db = LkjCholesky::new(3, tape.tensor(&ndarray::array![0.5, 50.0])).unwrap();
    assert_eq!(db.sample(&mut rng).unwrap().shape(), &[2, 3, 3]);
}

#[test]
fn lkj_support_shapes_and_errors() {
    let tape = Tape::new();
    let e = tape.var(1.7);
    let d = LkjCholesky::new(2, e).unwrap();
    assert_eq!(d.event_shape().dims(), &[2, 2]);
    assert_eq!(d.support(), Constraint::CholeskyFactorCorr);
    assert!(matches!(d.family(), Family::LkjCholesky(_)));
    let x = tape.tensor(&ndarray::array![
        [[1.0, 0.0], [0.6, 0.8]],
        [[1.0, 0.0], [0.6, 0.7]],  // row not of unit norm
        [[1.0, 0.1], [0.6, 0.8]],  // not lower triangular
        [[1.0, 0.0], [0.6, -0.8]], // negative diagonal
    ]);
    let lp = d.log_prob(x).unwrap();
    let v = lp.to_vec();
    assert!(close(
        v[0],
        lkj_direct(2, 1.7, &[1.0, 0.0, 0.6, 0.8]),
        1e-14
    ));
    assert_eq!(&v[1..], &[f64::NEG_INFINITY; 3]);
    lp.sum().backward();
    assert!(x.grad().iter().all(|g| g.is_finite()) && e.grad().is_finite());
    assert_eq!(d.log_prob_sum(x).unwrap().value(), f64::NEG_INFINITY);
    // the K = 2 closed form in the correlation r: (1 − r²)^{η−1}/(2^{2η−1} B(η, η))
    let r: f64 = 0.6;
    let ln_b = {
        use infer_ad::scalar::lgamma;
        2.0 * lgamma(1.7) - lgamma(3.4)
    };
    let closed = 0.7 * (1.0 - r * r).ln() - 2.4 * 2f64.ln() - ln_b;
    assert!(close(v[0], closed, 1e-14), "{} vs {closed}", v[0]);
    // shapes: a batch of η against one factor; a wrong event shape is a typed error
    let db = LkjCholesky::new(2, tape.tensor(&ndarray::array![1.0, 3.0, 0.5])).unwrap();
    let one = tape.constant(&ndarray::array![[1.0, 0.0], [0.6, 0.8]]);
    assert_eq!(db.log_prob(one).unwrap().dims(), &[3]);
    assert!(matches!(
        db.log_prob(tape.constant(&ndarray::array![[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        db.log_prob(tape.constant(&ndarray::array![
            [[1.0, 0.0], [0.6, 0.8]],
            [[1.0, 0.0], [0.6, 0.8]]
        ])),
        Err(DistError::ShapeMismatch { .. })
    ));
    match LkjCholesky::new(1, e) {
        Err(DistError::InvalidParameter {
            param: "dim",
            value,
            ..
        }) => assert_eq!(value, 1.0),
        other => panic!("{other:?}"),
    }
    for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        match LkjCholesky::new(3, tape.var(bad)) {
            Err(DistError::InvalidParameter {
                param: "concentration",
                value,
                ..
            }) => {
                assert!(value == bad || (value.is_nan() && bad.is_nan()));
            }
            other => panic!("{other:?}"),
        }
    }
    // large η: the normalizer by Stirling differences stays accurate (against the direct
    // formula, whose ln Γ values are of size 1e7 and cancel to ~1e-8 relative)
    let big = LkjCholesky::new(3, tape.var(1e6)).unwrap();
    let l3 = corr_chol(
        3,
        &[
            0.3, -1.2, 0.8, 1.1, 0.2, -0.4, 0.9, 0.5, -1.5, 0.7, 0.1, 1.3, -0.6, 0.4, 0.2,
        ],
    );
    let got = big
        .log_prob(tape.constant(&arr(&[3, 3], &l3)))
        .unwrap()
        .to_vec()[0];
    let want = lkj_direct(3, 1e6, &l3);
    assert!(
        (got - want).abs() < 1e-6 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}
