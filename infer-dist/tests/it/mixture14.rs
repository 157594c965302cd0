//! The finite `Mixture` family (issue 14): log density against the unshifted weighted sum of
//! densities written here, gradients against the central-difference checker, edges (zero
//! weights, far tails, batches, vector events), typed errors and sampling moments with a fixed
//! seed. Property tests draw from the fixed proptest seed (`.cargo/config.toml`).

use super::families14::{ad, arr, cfg, close};
use infer_ad::Tape;
use infer_ad::gradcheck::check_gradient;
use infer_dist::*;
use ndarray::Array1;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The normal density, written out.
fn normal_pdf(x: f64, mu: f64, s: f64) -> f64 {
    (-0.5 * ((x - mu) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// log_prob = ln Σ wₖ φ((x − μₖ)/σₖ)/σₖ against the unshifted sum (|x − μ|/σ ≤ 20, so
    /// no term underflows); the fused sum agrees; gradients with respect to logits, locations,
    /// scales and the value pass the finite-difference check.
    #[test]
    fn mixture_of_normals_log_prob_and_gradient(
        comps in proptest::collection::vec((-3.0f64..3.0, -3.0f64..3.0, 0.5f64..2.0), 1..5),
        xs in proptest::collection::vec(-5.0f64..5.0, 1..6),
    ) {
        let k = comps.len();
        let logits: Vec<f64> = comps.iter().map(|c| c.0).collect();
        let mus: Vec<f64> = comps.iter().map(|c| c.1).collect();
        let sds: Vec<f64> = comps.iter().map(|c| c.2).collect();
        let z: f64 = logits.iter().map(|l| l.exp()).sum();
        let w: Vec<f64> = logits.iter().map(|l| l.exp() / z).collect();
        let tape = Tape::new();
        let normal = Normal::new(
            tape.tensor(&Array1::from(mus.clone())),
            tape.tensor(&Array1::from(sds.clone())),
        )
        .unwrap();
        let m = Mixture::new(tape.tensor(&Array1::from(w.clone())), normal).unwrap();
        let xv = tape.constant(&Array1::from(xs.clone()));
        let lp = m.log_prob(xv).unwrap().to_vec();
        prop_assert_eq!(lp.len(), xs.len());
        for (x, got) in xs.iter().zip(&lp) {
            let direct = (0..k).map(|j| w[j] * normal_pdf(*x, mus[j], sds[j])).sum::<f64>().ln();
            // relative 1e-13: ≤ 4 exponentials and one logarithm
            prop_assert!(close(*got, direct, 1e-13), "{got} vs {direct}");
        }
        let total: f64 = lp.iter().sum();
        prop_assert!(close(m.log_prob_sum(xv).unwrap().value(), total, 1e-14));
        check_gradient(
            &[arr(&[k], &logits), arr(&[k], &mus), arr(&[k], &sds), arr(&[xs.len()], &xs)],
            |_, v| {
                let c = Normal::new(v[1], v[2]).map_err(ad)?;
                let m = Mixture::from_logits(v[0], c).map_err(ad)?;
                Ok(m.log_prob(v[3]).map_err(ad)?.sum())
            },
            &cfg(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn mixture_edges_shapes_and_errors() {
    let tape = Tape::new();
    let locs = tape.tensor(&ndarray::array![-2.0, 1.5, 40.0]);
    let scales = tape.tensor(&ndarray::array![0.7, 1.0, 0.5]);
    let w = tape.tensor(&ndarray::array![0.3, 0.7, 0.0]);
    let m = Mixture::new(w, Normal::new(locs, scales).unwrap()).unwrap();
    assert_eq!(m.batch_shape().dims(), &[] as &[usize]);
    assert_eq!(m.num_components(), 3);
    assert_eq!(m.name(), "MixtureSameFamily");
    assert!(matches!(m.family(), Family::Mixture));
    // a zero weight adds nothing, also where its component dominates; gradients stay finite
    let x = tape.constant(&ndarray::array![40.0, 0.0]);
    let lp = m.log_prob(x).unwrap();
    let v = lp.to_vec();
    let direct = |x: f64| (0.3 * normal_pdf(x, -2.0, 0.7) + 0.7 * normal_pdf(x, 1.5, 1.0)).ln();
    assert!(close(v[1], direct(0.0), 1e-14));
    // x = 40 lies 38.5 sd from the nearest weighted component: ln of a sum of two
    // underflowing terms, computed shifted (the direct sum underflows to ln 0 = −∞)
    let l2 = 0.7f64.ln() - 0.5 * 38.5f64.powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(close(v[0], l2, 1e-14), "{} vs {l2}", v[0]);
    lp.sum().backward();
    assert!(
        w.grad()
            .iter()
            .chain(locs.grad().iter())
            .all(|g| g.is_finite())
    );
    // moments: Σ w μ and Σ w (σ² + μ²) − μ²
    let mean = 0.3 * -2.0 + 0.7 * 1.5;
    let var = 0.3 * (0.49 + 4.0) + 0.7 * (1.0 + 2.25) - mean * mean;
    assert!(close(m.mean().unwrap().to_vec()[0], mean, 1e-15));
    assert!(close(m.variance().unwrap().to_vec()[0], var, 1e-14));
    // a batch of mixtures: components [2, 3], shared weights [3]
    let cb = Normal::new(
        tape.tensor(&ndarray::array![[0.0, 1.0, 2.0], [5.0, 6.0, 7.0]]),
        tape.var(1.0),
    )
    .unwrap();
    let mb = Mixture::from_logits(tape.tensor(&ndarray::array![0.0, 0.0, 0.0]), cb).unwrap();
    assert_eq!(mb.batch_shape().dims(), &[2]);
    let l = mb
        .log_prob(tape.constant(&ndarray::array![1.0]))
        .unwrap()
        .to_vec();
    let d0 = ((normal_pdf(1.0, 0.0, 1.0) + normal_pdf(1.0, 1.0, 1.0) + normal_pdf(1.0, 2.0, 1.0))
        / 3.0)
        .ln();
    assert_eq!(l.len(), 2);
    assert!(close(l[0], d0, 1e-14));
    // a mixture of Dirichlets: event shape [2] carried through
    let dir = Dirichlet::new(tape.tensor(&ndarray::array![[1.0, 1.0], [2.0, 5.0]])).unwrap();
    let md = Mixture::new(tape.tensor(&ndarray::array![0.5, 0.5]), dir).unwrap();
    assert_eq!(md.event_shape().dims(), &[2]);
    let p = md
        .log_prob(tape.constant(&ndarray::array![0.25, 0.75]))
        .unwrap()
        .to_vec()[0];
    // Beta(2, 5) density at 0.25: 30 · 0.25 · 0.75⁴
    assert!(close(
        p,
        (0.5 * 1.0 + 0.5 * 30.0 * 0.25 * 0.75f64.powi(4)).ln(),
        1e-13
    ));
    assert!(matches!(
        md.log_prob(tape.constant(&ndarray::array![0.25, 0.25, 0.5])),
        Err(DistError::ShapeMismatch { .. })
    ));
    // errors: weights off the simplex, a negative weight, K mismatch, no component axis
    let n2 = || Normal::new(tape.tensor(&ndarray::array![0.0, 1.0]), tape.var(1.0)).unwrap();
    match Mixture::new(tape.tensor(&ndarray::array![0.5, 0.6]), n2()) {
        Err(DistError::InvalidParameter {
            param: "weights",
            value,
            ..
        }) => {
            assert!((value - 1.1).abs() < 1e-15)
        }
        other => panic!("{other:?}"),
    }
    match Mixture::new(tape.tensor(&ndarray::array![-0.5, 1.5]), n2()) {
        Err(DistError::InvalidParameter {
            param: "weights",
            value,
            ..
        }) => assert_eq!(value, -0.5),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Mixture::new(tape.tensor(&ndarray::array![0.2, 0.3, 0.5]), n2()),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Mixture::new(
            tape.tensor(&ndarray::array![1.0]),
            Normal::new(tape.var(0.0), tape.var(1.0)).unwrap()
        ),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Mixture::from_logits(tape.tensor(&ndarray::array![f64::NAN, 0.0]), n2()),
        Err(DistError::InvalidParameter {
            param: "logits",
            ..
        })
    ));
}

/// 0.3 N(−2, 0.7) + 0.7 N(1.5, 1), 40 000 draws (seed 17): the sample mean within 5 standard
/// errors of 0.45 (se = √(3.4195/N) ≈ 0.0092) and the sample variance within 5 standard
/// errors of 3.4195 (se = √((μ₄ − σ⁴)/N) ≈ 0.017, μ₄ ≈ 23.9 computed below): false-failure
/// rate < 1e-5.
#[test]
fn mixture_sampling_moments() {
    let tape = Tape::new();
    let c = Normal::new(
        tape.tensor(&ndarray::array![-2.0, 1.5]),
        tape.tensor(&ndarray::array![0.7, 1.0]),
    )
    .unwrap();
    let m = Mixture::new(tape.tensor(&ndarray::array![0.3, 0.7]), c).unwrap();
    let mut rng = StdRng::seed_from_u64(17);
    let n = 40_000;
    let draws = m.sample_n(n, &mut rng).unwrap();
    assert_eq!(draws.shape(), &[n]);
    let nn = n as f64;
    let mean = draws.sum() / nn;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nn - 1.0);
    let (mu, s2) = (0.45, 3.4195);
    // central fourth moment of the mixture: Σ w E(X − μ)⁴ over each normal component,
    // E(Y + d)⁴ = 3σ⁴ + 6σ²d² + d⁴ for Y ~ N(0, σ²)
    let m4: f64 = [(0.3, -2.0, 0.7f64), (0.7, 1.5, 1.0)]
        .iter()
        .map(|&(w, loc, s)| {
            let d: f64 = loc - mu;
            w * (3.0 * s.powi(4) + 6.0 * s * s * d * d + d.powi(4))
        })
        .sum();
    assert!((mean - mu).abs() < 5.0 * (s2 / nn).sqrt(), "mean {mean}");
    assert!(
        (var - s2).abs() < 5.0 * ((m4 - s2 * s2) / nn).sqrt(),
        "var {var} (μ₄ {m4})"
    );
}
