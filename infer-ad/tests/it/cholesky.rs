//! `Tensor::cholesky`: L Lᵀ reproduces the matrix, the factor of a closed-form case, the
//! gradient against central differences (through weighted sums of L, so that every entry's
//! adjoint differs), typed errors for matrices that are not positive definite.
//!
//! Property tests draw from the fixed proptest seed (`.cargo/config.toml`), so they cannot fail
//! by chance; tolerances are stated at each comparison.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape};
use ndarray::{Array2, ArrayD, IxDyn};
use proptest::prelude::*;

use crate::common::weigh;

/// A well-conditioned SPD matrix B Bᵀ + n I from arbitrary entries of B.
fn spd(n: usize, b: &[f64]) -> Array2<f64> {
    let b = Array2::from_shape_vec((n, n), b[..n * n].to_vec()).unwrap();
    b.dot(&b.t()) + Array2::<f64>::eye(n) * n as f64
}

#[test]
fn closed_form_factor() {
    // [[4, 2, 2], [2, 5, 3], [2, 3, 6]] = L Lᵀ with L = [[2, 0, 0], [1, 2, 0], [1, 1, 2]]
    let tape = Tape::new();
    let a = tape.tensor(&ndarray::array![
        [4.0, 2.0, 2.0],
        [2.0, 5.0, 3.0],
        [2.0, 3.0, 6.0]
    ]);
    assert_eq!(
        a.cholesky().unwrap().to_vec(),
        vec![2.0, 0.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0]
    );
}

#[test]
fn not_positive_definite_is_a_typed_error() {
    let tape = Tape::new();
    let a = tape.tensor(&ndarray::array![[1.0, 2.0], [2.0, 1.0]]);
    assert!(matches!(
        a.cholesky(),
        Err(AdError::NotPositiveDefinite { index: 1, .. })
    ));
    let nan = tape.tensor(&ndarray::array![[f64::NAN, 0.0], [0.0, 1.0]]);
    assert!(matches!(
        nan.cholesky(),
        Err(AdError::NotPositiveDefinite { index: 0, .. })
    ));
    let rect = tape.tensor(&ndarray::array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
    assert!(matches!(
        rect.cholesky(),
        Err(AdError::ShapeMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// L is lower triangular with a positive diagonal and L Lᵀ = A to 1e-12 relative.
    #[test]
    fn reconstructs_the_matrix(n in 1usize..7, b in proptest::collection::vec(-2.0..2.0f64, 36)) {
        let a = spd(n, &b);
        let tape = Tape::new();
        let l = tape.tensor(&a).cholesky().unwrap();
        let l = Array2::from_shape_vec((n, n), l.to_vec()).unwrap();
        for i in 0..n {
            prop_assert!(l[[i, i]] > 0.0);
            for j in i + 1..n {
                prop_assert_eq!(l[[i, j]], 0.0);
            }
        }
        let back = l.dot(&l.t());
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in back.iter().zip(a.iter()) {
            prop_assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
        }
    }

    /// The gradient of a weighted sum of L (and of L·v, as the GP models use it) agrees with
    /// central differences (the checker's default tolerance), perturbing every entry of A —
    /// both triangles, since the factor is that of the symmetric part.
    #[test]
    fn gradient_matches_central_differences(
        n in 1usize..6,
        b in proptest::collection::vec(-2.0..2.0f64, 25),
    ) {
        let a = spd(n, &b).into_dyn();
        let v = ArrayD::from_shape_vec(IxDyn(&[n]), (0..n).map(|i| 0.5 - i as f64 * 0.3).collect())
            .unwrap();
        check_gradient(std::slice::from_ref(&a), |tp, t| Ok(weigh(tp, t[0].cholesky()?)), &GradCheckConfig::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_gradient(
            &[a, v],
            |tp, t| Ok(weigh(tp, t[0].cholesky()?.matvec(t[1])?).exp()),
            &GradCheckConfig::default(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
