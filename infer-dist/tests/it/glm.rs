//! The fused logistic-regression node against the generic formulation and the gradient
//! checker, and its input validation.

use infer_ad::Tape;
use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_dist::{Bernoulli, BernoulliLogitGlm, DistError};
use ndarray::{Array1, Array2};
use std::sync::Arc;

/// Deterministic pseudo-random numbers in (−1, 1).
fn noise(i: usize) -> f64 {
    ((i.wrapping_mul(2_654_435_761) % 10_007) as f64 / 10_007.0) * 2.0 - 1.0
}

fn data(n: usize, k: usize) -> (Arc<Array2<f64>>, Vec<f64>) {
    let x = Array2::from_shape_fn((n, k), |(i, j)| 2.0 * noise(i * 131 + j * 7 + 1));
    let y = (0..n).map(|i| f64::from(noise(i * 17 + 3) > 0.0)).collect();
    (Arc::new(x), y)
}

/// Value and gradients of the fused node and of `data_matvec` + Bernoulli(logits), for
/// n = 150 rows (two full blocks of 64 and a remainder, and a row remainder after the
/// four-row passes), k = 3 (stack buffers) and k = 70 (heap buffers), with and without an
/// intercept: equal up to rounding (relative 1e-12).
#[test]
fn fused_glm_matches_generic_formulation() {
    for k in [3usize, 70] {
        let (x, y) = data(150, k);
        let glm = BernoulliLogitGlm::new(x.clone(), &y).expect("valid data");
        let b0: Array1<f64> = (0..k).map(|j| 0.3 * noise(j + 11)).collect();
        for with_alpha in [false, true] {
            let run = |fused: bool| {
                let tape = Tape::new();
                let beta = tape.tensor(&b0);
                let alpha = tape.var(0.4);
                let lp = if fused {
                    glm.log_prob(beta, with_alpha.then_some(alpha))
                        .expect("shapes")
                } else {
                    let mut eta = tape.data_matvec(&x, beta).expect("shapes");
                    if with_alpha {
                        eta = eta + alpha.as_tensor();
                    }
                    Bernoulli::from_logits(eta)
                        .expect("valid")
                        .log_prob_sum(tape.constant(&Array1::from(y.clone())))
                        .expect("shapes")
                };
                lp.backward();
                (lp.value(), beta.grad(), alpha.grad())
            };
            let (f, r) = (run(true), run(false));
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
            assert!(close(f.0, r.0), "k={k}: value {} vs {}", f.0, r.0);
            for (a, b) in f.1.iter().zip(r.1.iter()) {
                assert!(close(*a, *b), "k={k}: d/dbeta {a} vs {b}");
            }
            assert!(close(f.2, r.2), "k={k}: d/dalpha {} vs {}", f.2, r.2);
        }
    }
}

/// The gradient in β and α against central differences (infer-ad's checker).
#[test]
fn fused_glm_gradient_checks() {
    let (x, y) = data(37, 4);
    let glm = BernoulliLogitGlm::new(x, &y).expect("valid data");
    let beta = ndarray::arr1(&[0.5, -0.2, 0.1, 0.3]).into_dyn();
    let alpha = ndarray::arr0(-0.3).into_dyn();
    check_gradient(
        &[beta, alpha],
        |_, v| {
            glm.log_prob(v[0], Some(v[1].item()?))
                .map_err(|e| infer_ad::AdError::Empty {
                    op: if matches!(e, DistError::ShapeMismatch { .. }) {
                        "shape"
                    } else {
                        "other"
                    },
                })
        },
        &GradCheckConfig::default(),
    )
    .expect("gradient matches finite differences");
}

#[test]
fn fused_glm_rejects_bad_input() {
    let (x, y) = data(5, 2);
    assert!(matches!(
        BernoulliLogitGlm::new(x.clone(), &y[..4]),
        Err(DistError::ShapeMismatch { .. })
    ));
    let mut bad = y.clone();
    bad[2] = 0.5;
    match BernoulliLogitGlm::new(x.clone(), &bad) {
        Err(DistError::InvalidParameter { param, value, .. }) => {
            assert_eq!((param, value), ("y", 0.5));
        }
        other => panic!("expected an invalid y, got {other:?}"),
    }
    let mut xn = (*x).clone();
    xn[[1, 1]] = f64::NAN;
    assert!(matches!(
        BernoulliLogitGlm::new(Arc::new(xn), &y),
        Err(DistError::InvalidParameter { param: "x", .. })
    ));
    let glm = BernoulliLogitGlm::new(x, &y).expect("valid");
    let tape = Tape::new();
    assert!(matches!(
        glm.log_prob(tape.tensor(&ndarray::arr1(&[1.0, 2.0, 3.0])), None),
        Err(DistError::ShapeMismatch { .. })
    ));
    // a non-finite coefficient propagates as NaN (a divergence for a sampler), not a panic
    let lp = glm
        .log_prob(tape.tensor(&ndarray::arr1(&[f64::NAN, 0.0])), None)
        .expect("shapes agree");
    assert!(lp.value().is_nan());
}
