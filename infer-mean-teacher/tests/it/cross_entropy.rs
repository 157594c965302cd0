//! Masked cross-entropy from logits: value and gradient against hand-derived formulas and
//! central finite differences; label errors.

use infer_ad::Tape;
use infer_mean_teacher::{MeanTeacherError, masked_cross_entropy};
use ndarray::{Array2, array};

fn logits() -> Array2<f64> {
    array![
        [0.2, -1.0, 0.7],
        [1.5, 0.1, -0.3],
        [0.0, 0.0, 0.0],
        [-2.0, 3.0, 0.5]
    ]
}

/// −log softmax(z)_y by the direct formula log Σ exp(z) − z_y (small logits: no overflow).
fn nll(z: &[f64], y: usize) -> f64 {
    z.iter().map(|v| v.exp()).sum::<f64>().ln() - z[y]
}

fn value(z: &Array2<f64>, labels: &[Option<usize>]) -> f64 {
    let tape = Tape::new();
    masked_cross_entropy(tape.tensor(z), labels)
        .unwrap()
        .value()
}

#[test]
fn value_and_gradient_match_formulas_and_finite_differences() {
    let z = logits();
    let labels = [Some(2), None, Some(0), None];
    let expected = (nll(&[0.2, -1.0, 0.7], 2) + nll(&[0.0, 0.0, 0.0], 0)) / 2.0;
    let tape = Tape::new();
    let t = tape.tensor(&z);
    let ce = masked_cross_entropy(t, &labels).unwrap();
    assert!(
        (ce.value() - expected).abs() < 1e-15,
        "{} vs {expected}",
        ce.value()
    );
    ce.backward();
    let g = t.grad();
    for i in 0..4 {
        let row: Vec<f64> = z.row(i).to_vec();
        let s: f64 = row.iter().map(|v| v.exp()).sum();
        for c in 0..3 {
            // (softmax − onehot)/|S| on labelled rows, 0 on unlabelled rows
            let want = match labels[i] {
                Some(y) => (row[c].exp() / s - f64::from(u8::from(c == y))) / 2.0,
                None => 0.0,
            };
            assert!((g[[i, c]] - want).abs() < 1e-15, "({i},{c})");
            let h = 1e-6;
            let (mut up, mut down) = (z.clone(), z.clone());
            up[[i, c]] += h;
            down[[i, c]] -= h;
            let fd = (value(&up, &labels) - value(&down, &labels)) / (2.0 * h);
            assert!((fd - want).abs() < 1e-8, "fd ({i},{c}): {fd} vs {want}");
        }
    }
}

#[test]
fn stable_for_extreme_logits_and_empty_mask() {
    let tape = Tape::new();
    let z = tape.tensor(&array![[1000.0, -1000.0], [-1e300, 1e300]]);
    let ce = masked_cross_entropy(z, &[Some(1), Some(1)]).unwrap();
    // row 0: −log softmax = 2000 (exp(−2000) vanishes); row 1: 0
    assert!((ce.value() - 1000.0).abs() < 1e-9, "{}", ce.value());
    let none = masked_cross_entropy(z, &[None, None]).unwrap();
    assert_eq!(none.value(), 0.0);
    none.backward();
    assert!(z.grad().iter().all(|&g| g == 0.0));
}

#[test]
fn label_errors() {
    let tape = Tape::new();
    let z = tape.tensor(&array![[0.0, 1.0]]);
    for labels in [&[Some(2)][..], &[Some(0), None][..], &[][..]] {
        assert!(matches!(
            masked_cross_entropy(z, labels),
            Err(MeanTeacherError::LabelMismatch { .. })
        ));
    }
    let v = tape.tensor(&array![0.0, 1.0]);
    assert!(matches!(
        masked_cross_entropy(v, &[Some(0), Some(1)]),
        Err(MeanTeacherError::LogitShape { .. })
    ));
}
