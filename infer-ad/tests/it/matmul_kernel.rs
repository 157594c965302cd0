//! `matmul` / `data_matmul` (matrixmultiply kernel via ndarray's `general_mat_mul`, issue 19)
//! against a naive triple loop, forward and both backward products, to 1e-12 relative.

use infer_ad::Tape;
use ndarray::{Array2, ArrayD, Ix2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
}

fn close(got: &ArrayD<f64>, want: &Array2<f64>, what: &str) {
    let got = got.view().into_dimensionality::<Ix2>().unwrap();
    assert_eq!(got.dim(), want.dim(), "{what}");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (g, w) in got.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-12 * scale, "{what}: {g} vs {w}");
    }
}

#[test]
fn matmul_matches_the_naive_product_forward_and_backward() {
    let mut rng = StdRng::seed_from_u64(19);
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 5, 2),
        (115, 32, 32),
        (17, 1, 9),
        (2, 64, 3),
        (33, 7, 65),
    ] {
        let a = Array2::from_shape_fn((m, k), |_| rng.random_range(-2.0..2.0));
        let b = Array2::from_shape_fn((k, n), |_| rng.random_range(-2.0..2.0));
        let w = Array2::from_shape_fn((m, n), |_| rng.random_range(-1.0..1.0));
        let tape = Tape::new();
        let (ta, tb) = (tape.tensor(&a), tape.tensor(&b));
        let c = ta.matmul(tb).unwrap();
        close(&c.value(), &naive(&a, &b), "forward");
        // L = Σ W ⊙ C: gA = W Bᵀ, gB = Aᵀ W
        (c * tape.constant(&w)).sum().backward();
        close(&ta.grad(), &naive(&w, &b.t().to_owned()), "gA");
        close(&tb.grad(), &naive(&a.t().to_owned(), &w), "gB");
        // the data form
        let tape = Tape::new();
        let tb = tape.tensor(&b);
        let c = tape.data_matmul(&Arc::new(a.clone()), tb).unwrap();
        close(&c.value(), &naive(&a, &b), "data forward");
        (c * tape.constant(&w)).sum().backward();
        close(&tb.grad(), &naive(&a.t().to_owned(), &w), "data gB");
        // a transposed (non-standard layout) data matrix
        let at = Arc::new(a.t().to_owned().reversed_axes());
        let tape = Tape::new();
        let tb = tape.tensor(&b);
        close(
            &tape.data_matmul(&at, tb).unwrap().value(),
            &naive(&a, &b),
            "layout",
        );
    }
}
