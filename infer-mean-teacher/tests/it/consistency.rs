//! Consistency losses: values and gradients against hand-derived formulas.

use infer_ad::Tape;
use infer_mean_teacher::{MeanTeacherError, kl_consistency, softmax_mse};
use ndarray::{Array2, array};

fn softmax_rows(z: &Array2<f64>) -> Array2<f64> {
    let mut p = z.clone();
    for mut row in p.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|x| (x - m).exp());
        let s = row.sum();
        row.mapv_inplace(|x| x / s);
    }
    p
}

fn logits() -> (Array2<f64>, Array2<f64>) {
    (
        array![
            [0.2, -1.0, 0.7],
            [1.5, 0.1, -0.3],
            [0.0, 0.0, 0.0],
            [-2.0, 3.0, 0.5]
        ],
        array![
            [0.9, -0.4, 0.1],
            [0.3, 0.2, 0.1],
            [1.0, -1.0, 0.0],
            [-1.0, 2.0, 1.5]
        ],
    )
}

#[test]
fn softmax_mse_value_and_gradient() {
    let (zs, zt) = logits();
    let (b, c) = zs.dim();
    let (ps, pt) = (softmax_rows(&zs), softmax_rows(&zt));
    let expected: f64 = (&ps - &pt).mapv(|d| d * d).sum() / (b * c) as f64;
    let tape = Tape::new();
    let s = tape.tensor(&zs);
    let t = tape.constant(&zt);
    let loss = softmax_mse(s, t).unwrap();
    assert!((loss.value() - expected).abs() < 1e-15);
    loss.backward();
    // d/dz_k Σ_j (p_j − q_j)² / (BC) = 2/(BC) · p_k ((p_k − q_k) − Σ_j p_j (p_j − q_j))
    let g = s.grad();
    for i in 0..b {
        let inner: f64 = (0..c).map(|j| ps[[i, j]] * (ps[[i, j]] - pt[[i, j]])).sum();
        for k in 0..c {
            let want = 2.0 / (b * c) as f64 * ps[[i, k]] * ((ps[[i, k]] - pt[[i, k]]) - inner);
            assert!((g[[i, k]] - want).abs() < 1e-15, "({i},{k})");
        }
    }
}

#[test]
fn kl_value_and_gradient() {
    let (zs, zt) = logits();
    let b = zs.nrows();
    let (ps, pt) = (softmax_rows(&zs), softmax_rows(&zt));
    let expected: f64 = pt
        .iter()
        .zip(ps.iter())
        .map(|(q, p)| q * (q.ln() - p.ln()))
        .sum::<f64>()
        / b as f64;
    let tape = Tape::new();
    let s = tape.tensor(&zs);
    let t = tape.constant(&zt);
    let loss = kl_consistency(s, t).unwrap();
    assert!((loss.value() - expected).abs() < 1e-14);
    assert!(loss.value() > 0.0);
    loss.backward();
    let want = (&ps - &pt) / b as f64;
    for (g, w) in s.grad().iter().zip(want.iter()) {
        assert!((g - w).abs() < 1e-15);
    }
}

#[test]
fn kl_is_stable_for_extreme_logits() {
    let tape = Tape::new();
    let s = tape.tensor(&array![[1000.0, -1000.0]]);
    let t = tape.constant(&array![[-1000.0, 1000.0]]);
    let kl = kl_consistency(s, t).unwrap();
    assert!((kl.value() - 2000.0).abs() < 1e-9, "{}", kl.value());
}

#[test]
fn shape_errors() {
    let tape = Tape::new();
    let s = tape.tensor(&array![[1.0, 2.0]]);
    let t = tape.tensor(&array![[1.0, 2.0, 3.0]]);
    let v = tape.tensor(&array![1.0, 2.0]);
    for r in [softmax_mse(s, t), kl_consistency(s, t), softmax_mse(v, v)] {
        assert!(matches!(r, Err(MeanTeacherError::LogitShape { .. })));
    }
}
