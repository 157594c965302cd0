//! Parameters and optimizers: PyTorch's update rules, checked on hand-computed steps, and a
//! real fit.

use infer_ad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, clip_grad_norm};
use infer_ad::{ParamStore, Tape};
use ndarray::{Array1, arr1};

fn set_grad(s: &mut ParamStore, g: f64) {
    let id = s.id("w").unwrap();
    s.grad_mut(id).fill(g);
}

#[test]
fn adam_first_steps_match_pytorch_rule() {
    // PyTorch Adam, lr 0.1, w0 = 1, constant gradient 2: each step moves by lr·m̂/(√v̂+ε) ≈ lr.
    let mut s = ParamStore::new();
    let w = s.add("w", arr1(&[1.0])).unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        ..AdamConfig::default()
    })
    .unwrap();
    set_grad(&mut s, 2.0);
    adam.step(&mut s).unwrap();
    let expect = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8);
    assert!((s.value(w)[0] - expect).abs() < 1e-15);
    // second step with gradient −1: m = 0.9·0.2 − 0.1 = 0.08, v = 0.999·0.004 + 0.001 = 0.004996
    set_grad(&mut s, -1.0);
    adam.step(&mut s).unwrap();
    let (m, v): (f64, f64) = (0.08, 0.999 * 0.004 + 0.001);
    let (bc1, bc2) = (1.0 - 0.81, 1.0 - 0.999f64.powi(2));
    let expect2 = expect - 0.1 / bc1 * m / (v.sqrt() / bc2.sqrt() + 1e-8);
    assert!((s.value(w)[0] - expect2).abs() < 1e-14);
}

#[test]
fn sgd_momentum_and_nesterov() {
    for nesterov in [false, true] {
        let mut s = ParamStore::new();
        let w = s.add("w", arr1(&[0.0])).unwrap();
        let mut sgd = Sgd::new(SgdConfig {
            lr: 0.5,
            momentum: 0.9,
            nesterov,
            weight_decay: 0.1,
            ..SgdConfig::default()
        })
        .unwrap();
        set_grad(&mut s, 1.0);
        sgd.step(&mut s).unwrap(); // g = 1 + 0.1·0 = 1, b = 1, step = 1 (+0.9 nesterov)
        let w1 = if nesterov { -0.5 * 1.9 } else { -0.5 };
        assert!((s.value(w)[0] - w1).abs() < 1e-15);
        sgd.step(&mut s).unwrap(); // g = 1 + 0.1·w1, b = 0.9 + g
        let g = 1.0 + 0.1 * w1;
        let b = 0.9 + g;
        let stp = if nesterov { g + 0.9 * b } else { b };
        assert!((s.value(w)[0] - (w1 - 0.5 * stp)).abs() < 1e-15);
    }
}

#[test]
fn amsgrad_and_errors() {
    assert!(
        Adam::new(AdamConfig {
            beta1: 1.0,
            ..AdamConfig::default()
        })
        .is_err()
    );
    assert!(
        Adam::new(AdamConfig {
            lr: f64::NAN,
            ..AdamConfig::default()
        })
        .is_err()
    );
    let mut s = ParamStore::new();
    assert!(s.add("w", arr1(&[0.0])).is_ok());
    assert!(s.add("w", arr1(&[0.0])).is_err());
    assert!(s.id("nope").is_err());
    assert!(clip_grad_norm(&mut s, 0.0).is_err());
    let mut adam = Adam::new(AdamConfig {
        amsgrad: true,
        ..AdamConfig::default()
    })
    .unwrap();
    set_grad(&mut s, 1.0);
    adam.step(&mut s).unwrap();
    assert!(s.value(s.id("w").unwrap())[0] < 0.0);
}

/// Least squares with Adam recovers the coefficients of a noiseless linear model.
#[test]
fn adam_fits_linear_regression() {
    let xs: Vec<f64> = (0..50).map(|i| i as f64 / 25.0 - 1.0).collect();
    let ys: Array1<f64> = xs.iter().map(|x| 3.0 * x - 0.5).collect();
    let x = Array1::from(xs);
    let mut s = ParamStore::new();
    let a = s.add("a", arr1(&[0.0])).unwrap();
    let b = s.add("b", arr1(&[0.0])).unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut tape = Tape::new();
    for _ in 0..2000 {
        tape.clear();
        let p = s.bind(&tape);
        let xt = tape.constant(&x);
        let yt = tape.constant(&ys);
        let loss = (xt * p[a] + p[b] - yt).square().mean();
        loss.backward();
        s.zero_grads();
        s.accumulate_grads(&p).unwrap();
        adam.step(&mut s).unwrap();
    }
    assert!((s.value(a)[0] - 3.0).abs() < 1e-3, "{}", s.value(a)[0]);
    assert!((s.value(b)[0] + 0.5).abs() < 1e-3, "{}", s.value(b)[0]);
}

/// Replacing a parameter through `value_mut` by an array in another memory layout, or of
/// another shape, never makes an optimizer panic: layouts are normalized and state restarts.
#[test]
fn optimizers_survive_layout_and_shape_changes() {
    let mut s = ParamStore::new();
    let w = s.add("w", ndarray::Array2::<f64>::zeros((2, 3))).unwrap();
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut sgd = Sgd::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    })
    .unwrap();
    adam.step(&mut s).unwrap();
    sgd.step(&mut s).unwrap();
    // column-major (reversed axes) replacement of the same shape
    let fortran =
        ndarray::Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64).reversed_axes();
    assert!(!fortran.is_standard_layout());
    *s.value_mut(w) = fortran.into_dyn();
    s.grad_mut(w).fill(1.0);
    adam.step(&mut s).unwrap();
    sgd.step(&mut s).unwrap();
    // another shape
    *s.value_mut(w) = ndarray::Array1::<f64>::ones(5).into_dyn();
    adam.step(&mut s).unwrap();
    sgd.step(&mut s).unwrap();
    let mut tape = Tape::new();
    tape.clear();
    let p = s.bind(&tape);
    p[w].sum().backward();
    s.accumulate_grads(&p).unwrap();
    assert_eq!(s.grad(w).len(), 5);
    assert!(s.grad(w).iter().all(|g| *g == 1.0));
}
