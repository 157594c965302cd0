//! Ramp schedules.

use infer_mean_teacher::{MeanTeacherError, cosine_rampdown, linear_rampup, sigmoid_rampup};

#[test]
fn sigmoid_rampup_values() {
    let t_max = 80.0;
    for t in [0.0, 10.0, 40.0, 79.0, 80.0] {
        let p: f64 = 1.0 - t / t_max;
        assert_eq!(sigmoid_rampup(t, t_max).unwrap(), (-5.0 * p * p).exp());
    }
    assert_eq!(sigmoid_rampup(-3.0, t_max).unwrap(), (-5.0f64).exp());
    assert_eq!(sigmoid_rampup(1e9, t_max).unwrap(), 1.0);
    assert_eq!(sigmoid_rampup(0.0, 0.0).unwrap(), 1.0);
    let mut prev = 0.0;
    for i in 0..=100 {
        let v = sigmoid_rampup(i as f64, 100.0).unwrap();
        assert!(v >= prev);
        prev = v;
    }
}

#[test]
fn cosine_rampdown_values() {
    assert_eq!(cosine_rampdown(0.0, 100.0).unwrap(), 1.0);
    assert!(
        (cosine_rampdown(25.0, 100.0).unwrap() - 0.5 * (1.0 + (0.25 * std::f64::consts::PI).cos()))
            .abs()
            < 1e-15
    );
    assert_eq!(cosine_rampdown(100.0, 100.0).unwrap(), 0.0);
    assert_eq!(cosine_rampdown(150.0, 100.0).unwrap(), 0.0);
    assert_eq!(cosine_rampdown(-5.0, 100.0).unwrap(), 1.0);
    assert_eq!(linear_rampup(2.5, 10.0).unwrap(), 0.25);
}

#[test]
fn invalid_lengths() {
    for f in [sigmoid_rampup, cosine_rampdown, linear_rampup] {
        for bad in [-1.0, f64::NAN] {
            assert!(matches!(
                f(1.0, bad),
                Err(MeanTeacherError::InvalidRamp { .. })
            ));
        }
    }
}
