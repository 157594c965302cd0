//! Bijectors: round trips forward∘inverse = id and inverse∘forward = id, log|det J| against a
//! central-difference Jacobian, and tape gradients against infer-ad's checker.

// `DistError`/`AdError` carry two `Shape`s by value; the test helpers return them as they are.
#![allow(clippy::result_large_err)]

use crate::bijector_stan::{as_ad, close};
use infer_ad::Tape;
use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_dist::Bijector;
use proptest::prelude::*;

/// Forward map in plain f64 (a fresh tape per call).
fn forward_f64(b: Bijector, y: &[f64]) -> Vec<f64> {
    let tape = Tape::new();
    let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
    b.forward(t).map(|x| x.to_vec()).unwrap_or_default()
}

/// ln|det J| on the tape, as f64.
fn log_det(b: Bijector, y: &[f64]) -> f64 {
    let tape = Tape::new();
    let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
    b.log_abs_det_jacobian(t).map_or(f64::NAN, |v| v.value())
}

/// Indices of the constrained coordinates that are free (the square Jacobian's rows).
fn free_rows(b: Bijector, m: usize) -> Vec<usize> {
    match b {
        Bijector::StickBreaking => (0..m).collect(),
        Bijector::LowerCholesky => {
            let n = b
                .constrained_len(m)
                .map_or(0, |l| (l as f64).sqrt() as usize);
            let mut rows = Vec::new();
            for i in 0..n {
                for j in 0..=i {
                    rows.push(i * n + j);
                }
            }
            rows
        }
        _ => (0..m).collect(),
    }
}

/// ln|det A| by LU decomposition with partial pivoting (A is m×m, row-major).
pub(crate) fn ln_abs_det(mut a: Vec<f64>, m: usize) -> f64 {
    let mut acc = 0.0;
    for c in 0..m {
        let p = (c..m)
            .max_by(|&i, &j| a[i * m + c].abs().total_cmp(&a[j * m + c].abs()))
            .unwrap_or(c);
        if p != c {
            for k in 0..m {
                a.swap(c * m + k, p * m + k);
            }
        }
        let d = a[c * m + c];
        acc += d.abs().ln();
        for r in c + 1..m {
            let f = a[r * m + c] / d;
            for k in c..m {
                a[r * m + k] -= f * a[c * m + k];
            }
        }
    }
    acc
}

/// Central-difference ln|det J| of the map onto the free coordinates.
fn numeric_log_det(b: Bijector, y: &[f64]) -> f64 {
    let m = y.len();
    let rows = free_rows(b, m);
    assert_eq!(rows.len(), m);
    let mut jac = vec![0.0; m * m];
    for c in 0..m {
        let h = 1e-5 * y[c].abs().max(1.0);
        let mut yp = y.to_vec();
        let mut ym = y.to_vec();
        yp[c] += h;
        ym[c] -= h;
        let (fp, fm) = (forward_f64(b, &yp), forward_f64(b, &ym));
        for (r, &row) in rows.iter().enumerate() {
            jac[r * m + c] = (fp[row] - fm[row]) / (2.0 * h);
        }
    }
    ln_abs_det(jac, m)
}

fn elementwise() -> impl Strategy<Value = Bijector> {
    prop_oneof![
        Just(Bijector::Identity),
        Just(Bijector::Exp),
        (-5.0..5.0f64).prop_map(|low| Bijector::ShiftedExp { low }),
        (-5.0..5.0f64, 0.1..10.0f64)
            .prop_map(|(low, w)| Bijector::ScaledSigmoid { low, high: low + w }),
        Just(Bijector::Sigmoid),
    ]
}

/// A bijector with an unconstrained point of the right length.
fn bijector_and_point() -> impl Strategy<Value = (Bijector, Vec<f64>)> {
    prop_oneof![
        (elementwise(), prop::collection::vec(-6.0..6.0f64, 1..6)),
        prop::collection::vec(-4.0..4.0f64, 1..7).prop_map(|y| (Bijector::StickBreaking, y)),
        (1usize..5)
            .prop_flat_map(|n| prop::collection::vec(-2.0..2.0f64, n * (n + 1) / 2))
            .prop_map(|y| (Bijector::LowerCholesky, y)),
    ]
}

proptest! {
    #[test]
    fn inverse_of_forward_is_identity((b, y) in bijector_and_point()) {
        let x = forward_f64(b, &y);
        prop_assert_eq!(x.len(), b.constrained_len(y.len())?);
        let back = b.inverse(&x)?;
        prop_assert_eq!(back.len(), y.len());
        for (u, v) in y.iter().zip(&back) {
            prop_assert!(close(*u, *v, 1e-8), "{b:?}: {y:?} -> {x:?} -> {back:?}");
        }
    }

    #[test]
    fn forward_of_inverse_is_identity((b, y) in bijector_and_point()) {
        // A constrained point from the bijector's image, mapped back and forth again.
        let x = forward_f64(b, &y);
        let x2 = forward_f64(b, &b.inverse(&x)?);
        for (u, v) in x.iter().zip(&x2) {
            prop_assert!(close(*u, *v, 1e-10), "{b:?}: {x:?} vs {x2:?}");
        }
    }

    #[test]
    fn log_det_matches_numerical_jacobian((b, y) in bijector_and_point()) {
        let analytic = log_det(b, &y);
        let numeric = numeric_log_det(b, &y);
        prop_assert!(close(analytic, numeric, 1e-6), "{b:?} at {y:?}: {analytic} vs {numeric}");
    }

    #[test]
    fn tape_gradients_match_finite_differences((b, y) in bijector_and_point()) {
        let y0 = ndarray::Array1::from(y.clone()).into_dyn();
        let cfg = GradCheckConfig::default();
        // log|det J| and a weighted sum of the outputs (weights 1, 2, 3, …).
        check_gradient(std::slice::from_ref(&y0), |_, t| {
            b.log_abs_det_jacobian(t[0]).map_err(as_ad)
        }, &cfg)?;
        check_gradient(&[y0], |tape, t| {
            let x = b.forward(t[0]).map_err(as_ad)?;
            let n = x.numel();
            let w = tape.constant(&ndarray::Array1::from_iter((1..=n).map(|i| i as f64)));
            Ok((x.reshape(&[n])? * w).sum())
        }, &cfg)?;
    }
}

#[test]
fn extreme_inputs_stay_finite() {
    let tape = Tape::new();
    let y = tape.tensor(&ndarray::array![-800.0, -40.0, 0.0, 40.0, 800.0]);
    for b in [
        Bijector::Sigmoid,
        Bijector::ScaledSigmoid {
            low: -2.0,
            high: 5.0,
        },
        Bijector::StickBreaking,
    ] {
        let x = b.forward(y).expect("forward");
        assert!(
            x.to_vec().iter().all(|v| v.is_finite() && *v >= -2.0),
            "{b:?}"
        );
        let lj = b.log_abs_det_jacobian(y).expect("ladj");
        assert!(!lj.value().is_nan(), "{b:?}: {}", lj.value());
        lj.backward();
        assert!(y.grad().iter().all(|g| g.is_finite()), "{b:?}");
    }
}

#[test]
fn stick_breaking_lands_on_the_simplex() {
    let tape = Tape::new();
    let y = tape.tensor(&ndarray::array![3.0, -2.0, 0.5, 30.0]);
    let x = Bijector::StickBreaking
        .forward(y)
        .expect("forward")
        .to_vec();
    assert_eq!(x.len(), 5);
    assert!(x.iter().all(|v| *v > 0.0));
    assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-14);
    // The one-element simplex has no free coordinate.
    let empty = tape.tensor(&ndarray::Array1::<f64>::zeros(0));
    assert_eq!(
        Bijector::StickBreaking
            .forward(empty)
            .expect("K = 1")
            .to_vec(),
        vec![1.0]
    );
    assert_eq!(
        Bijector::StickBreaking
            .log_abs_det_jacobian(empty)
            .expect("K = 1")
            .value(),
        0.0
    );
}

#[test]
fn lower_cholesky_has_the_stan_layout() {
    let tape = Tape::new();
    let y = tape.tensor(&ndarray::array![0.0, 2.0, 1.0, -1.0, 3.0, 0.5]);
    let l = Bijector::LowerCholesky.forward(y).expect("forward");
    assert_eq!(l.dims(), &[3, 3]);
    let e = f64::exp;
    let want = [e(0.0), 0.0, 0.0, 2.0, e(1.0), 0.0, -1.0, 3.0, e(0.5)];
    for (g, w) in l.to_vec().iter().zip(want) {
        assert!((g - w).abs() < 1e-15);
    }
    let lj = Bijector::LowerCholesky
        .log_abs_det_jacobian(y)
        .expect("ladj");
    assert!((lj.value() - 1.5).abs() < 1e-15);
}

#[test]
fn inverse_rejects_points_outside_the_support() {
    assert!(Bijector::Exp.inverse(&[0.0]).is_err());
    assert!(Bijector::Exp.inverse(&[f64::NAN]).is_err());
    assert!(Bijector::ShiftedExp { low: 1.0 }.inverse(&[1.0]).is_err());
    assert!(Bijector::Sigmoid.inverse(&[1.0]).is_err());
    let b = Bijector::ScaledSigmoid {
        low: 0.0,
        high: 2.0,
    };
    assert!(b.inverse(&[2.5]).is_err());
    assert!(Bijector::StickBreaking.inverse(&[0.5, 0.6]).is_err());
    assert!(Bijector::StickBreaking.inverse(&[1.5, -0.5]).is_err());
    assert!(Bijector::StickBreaking.inverse(&[]).is_err());
    assert!(
        Bijector::LowerCholesky
            .inverse(&[1.0, 0.5, 0.0, 1.0])
            .is_err()
    );
    assert!(
        Bijector::LowerCholesky
            .inverse(&[1.0, 0.0, 0.5, -1.0])
            .is_err()
    );
    assert!(Bijector::LowerCholesky.inverse(&[1.0, 0.0, 0.5]).is_err());
    assert!(Bijector::Identity.inverse(&[f64::NAN]).is_err());
    // Bounds that are not finite or not ordered are rejected by every method.
    let bad = Bijector::ScaledSigmoid {
        low: 1.0,
        high: 1.0,
    };
    assert!(bad.inverse(&[1.0]).is_err());
    let tape = Tape::new();
    let y = tape.tensor(&ndarray::array![0.0]);
    assert!(bad.forward(y).is_err());
    assert!(bad.log_abs_det_jacobian(y).is_err());
    assert!(Bijector::ShiftedExp { low: f64::NAN }.forward(y).is_err());
}

#[test]
fn lengths() {
    for n in 0..6 {
        let m = n * (n + 1) / 2;
        assert_eq!(Bijector::LowerCholesky.constrained_len(m).ok(), Some(n * n));
        assert_eq!(
            Bijector::LowerCholesky.unconstrained_len(n * n).ok(),
            Some(m)
        );
    }
    assert!(Bijector::StickBreaking.unconstrained_len(0).is_err());
    assert_eq!(Bijector::Exp.unconstrained_len(7).ok(), Some(7));
}

#[test]
fn constraint_bijectors_land_in_the_constraint() {
    use infer_dist::Constraint;
    let tape = Tape::new();
    let y = tape.tensor(&ndarray::array![-3.0, -0.5, 0.0, 1.5, 4.0, 0.25]);
    let cases = [
        Constraint::Real,
        Constraint::RealVector,
        Constraint::Positive,
        Constraint::GreaterThan(2.0),
        Constraint::GreaterThanEq(-1.0),
        Constraint::Interval {
            low: -2.0,
            high: 0.5,
        },
        Constraint::UnitInterval,
        Constraint::Simplex,
        Constraint::LowerCholesky,
        Constraint::Ordered,
        Constraint::PositiveOrdered,
        Constraint::CholeskyFactorCorr,
        Constraint::CholeskyFactorCov { rows: 3, cols: 3 },
        Constraint::CholeskyFactorCov { rows: 6, cols: 1 },
        Constraint::SumToZero,
    ];
    for c in cases {
        let b = c.bijector().expect("continuous constraint");
        let x = b.forward(y).expect("forward").to_vec();
        assert!(c.check_event(&x), "{c:?} via {b:?}: {x:?}");
    }
    for c in [
        Constraint::Boolean,
        Constraint::NonNegativeInteger,
        Constraint::IntegerInterval {
            low: 0.0,
            high: 3.0,
        },
    ] {
        assert_eq!(c.bijector(), None);
    }
}
