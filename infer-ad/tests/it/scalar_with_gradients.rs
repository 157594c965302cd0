//! `Tape::scalar_with_gradients`, the node of a scalar function computed off the tape (a
//! black-box log density with its gradient, as ADVI records log p): the gradient through it
//! against central differences of the whole composition, and its typed errors.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape, Tensor, Var};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// f(x) = Σᵢ sin(xᵢ)·xᵢ₊₁ + ln(1 + Σ xᵢ²) and its gradient, by hand, off the tape.
fn f_and_grad(x: &[f64], grad: &mut [f64]) -> f64 {
    let s2: f64 = x.iter().map(|v| v * v).sum();
    let mut v = s2.ln_1p();
    for (g, xi) in grad.iter_mut().zip(x) {
        *g = 2.0 * xi / (1.0 + s2);
    }
    for i in 0..x.len().saturating_sub(1) {
        v += x[i].sin() * x[i + 1];
        grad[i] += x[i].cos() * x[i + 1];
        grad[i + 1] += x[i].sin();
    }
    v
}

/// The off-tape node between tape operations: x = exp(w) ⊙ c + v (two leaves reach x),
/// y = f(x) (with a second input v, gradient Σ-weights k), root = y² + Σ x ⊙ w — so the
/// adjoint of y is not 1, the node has two tracked inputs, and w also reaches the root
/// around the node.
fn composed<'t>(tape: &'t Tape, t: &[Tensor<'t>]) -> Result<Var<'t>, AdError> {
    let (w, v) = (t[0], t[1]);
    let n = w.numel();
    let c: Vec<f64> = (0..n).map(|i| 0.5 + 0.25 * i as f64).collect();
    let c = tape.constant(&ArrayD::from_shape_vec(IxDyn(w.dims()), c).expect("shape"));
    let x = w.exp() * c + v;
    let (mut xv, mut vv) = (vec![0.0; n], vec![0.0; n]);
    x.value_into(&mut xv);
    v.value_into(&mut vv);
    let mut g = vec![0.0; n];
    let k: Vec<f64> = (0..n).map(|i| 1.0 - 0.1 * i as f64).collect();
    let value = f_and_grad(&xv, &mut g) + vv.iter().zip(&k).map(|(a, b)| a * b).sum::<f64>();
    let y = tape.scalar_with_gradients(value, &[(x, &g), (v, &k)])?;
    Ok(y * y + (x * w).sum())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The tape gradient through the node agrees with central differences (gradcheck's
    /// default tolerances), for vector and matrix inputs.
    #[test]
    fn gradient_through_off_tape_scalar(
        w in proptest::collection::vec(-1.5f64..1.5, 6),
        v in proptest::collection::vec(-2.0f64..2.0, 6),
        matrix in any::<bool>(),
    ) {
        let dims: &[usize] = if matrix { &[2, 3] } else { &[6] };
        let arr = |d: &[f64]| ArrayD::from_shape_vec(IxDyn(dims), d.to_vec()).expect("shape");
        check_gradient(&[arr(&w), arr(&v)], composed, &GradCheckConfig::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn value_and_gradient_are_recorded_as_given() {
    let tape = Tape::new();
    let x = tape.tensor(&ndarray::array![1.0, 2.0]);
    let y = tape
        .scalar_with_gradients(-7.5, &[(x, &[0.25, -1.0])])
        .expect("lengths match");
    assert_eq!(y.value(), -7.5);
    (y * 3.0).backward();
    assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), [0.75, -3.0]);
}

#[test]
fn untracked_input_records_no_edge() {
    let tape = Tape::new();
    let x = tape.constant(&ndarray::array![1.0, 2.0]);
    let nodes = tape.num_nodes();
    let y = tape
        .scalar_with_gradients(3.0, &[(x, &[1.0, 1.0])])
        .expect("lengths match");
    assert_eq!(tape.num_nodes(), nodes);
    assert_eq!(y.value(), 3.0);
}

#[test]
fn wrong_gradient_length_is_an_error_and_records_nothing() {
    let tape = Tape::new();
    let x = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    let before = (tape.len(), tape.num_nodes());
    let err = tape
        .scalar_with_gradients(0.0, &[(x, &[1.0, 2.0, 3.0])])
        .unwrap_err();
    assert!(
        matches!(err, AdError::LengthMismatch { len: 3, shape } if shape.dims() == [2, 2]),
        "{err:?}"
    );
    assert_eq!((tape.len(), tape.num_nodes()), before);
}

#[test]
fn another_tapes_tensor_is_an_error_and_records_nothing() {
    let (a, b) = (Tape::new(), Tape::new());
    let x = a.tensor(&ndarray::array![1.0]);
    let err = b.scalar_with_gradients(0.0, &[(x, &[1.0])]).unwrap_err();
    assert_eq!(
        err,
        AdError::DifferentTapes {
            op: "scalar_with_gradients"
        }
    );
    assert!(b.is_empty());
}
