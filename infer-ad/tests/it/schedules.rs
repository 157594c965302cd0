//! Learning-rate schedules against their closed forms (PyTorch's `StepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`), worked out by hand at chosen epochs, and their typed errors.

use infer_ad::AdError;
use infer_ad::optim::{
    Adam, AdamConfig, CosineAnnealingLr, ExponentialLr, LrSchedule, Sgd, SgdConfig, StepLr,
};
use std::f64::consts::SQRT_2;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * b.abs().max(1e-300)
}

#[test]
fn step_lr_multiplies_by_gamma_every_step_size_epochs() {
    // PyTorch's documentation example: lr 0.05, step_size 30, gamma 0.1
    let s = StepLr::new(0.05, 30, 0.1).unwrap();
    for (epoch, lr) in [
        (0, 0.05),
        (29, 0.05),
        (30, 0.005),
        (59, 0.005),
        (60, 0.0005),
        (89, 0.0005),
        (90, 0.00005),
    ] {
        assert!(close(s.lr_at(epoch), lr), "{epoch}: {}", s.lr_at(epoch));
    }
    // γ = 1 is a constant rate; far epochs underflow to 0 rather than misbehave
    assert_eq!(StepLr::new(0.3, 1, 1.0).unwrap().lr_at(u64::MAX), 0.3);
    assert_eq!(StepLr::new(0.3, 1, 0.5).unwrap().lr_at(u64::MAX), 0.0);
    assert_eq!(StepLr::new(0.3, 2, 0.5).unwrap().lr_at(5), 0.3 * 0.25);
}

#[test]
fn exponential_lr_is_base_times_gamma_to_the_epoch() {
    let s = ExponentialLr::new(0.2, 0.5).unwrap();
    for (epoch, lr) in [(0, 0.2), (1, 0.1), (2, 0.05), (10, 0.2 / 1024.0)] {
        assert!(close(s.lr_at(epoch), lr), "{epoch}");
    }
    let s = ExponentialLr::new(1.0, 0.9).unwrap();
    assert!(close(s.lr_at(3), 0.729));
    assert_eq!(s.lr_at(u64::MAX), 0.0);
}

#[test]
fn cosine_annealing_hits_its_closed_form_at_the_eighths_of_a_period() {
    // t_max = 4: the phase π·t/4 visits the eighths of a circle, whose cosines are
    // 1, √2/2, 0, −√2/2, −1, −√2/2, 0, √2/2, 1 for t = 0..8 (the rate rises again after t_max,
    // as PyTorch's closed form does).
    let (base, eta_min) = (0.1, 0.02);
    let s = CosineAnnealingLr::new(base, 4, eta_min).unwrap();
    let h = SQRT_2 / 2.0;
    let cosines = [1.0, h, 0.0, -h, -1.0, -h, 0.0, h, 1.0];
    for (t, c) in cosines.iter().enumerate() {
        let expect = eta_min + (base - eta_min) * (1.0 + c) / 2.0;
        let got = s.lr_at(t as u64);
        assert!((got - expect).abs() < 1e-16, "t = {t}: {got} vs {expect}");
    }
    // the middle of the anneal is the mean of the two ends
    assert!((s.lr_at(2) - 0.06).abs() < 1e-16);
    assert!((s.lr_at(4) - eta_min).abs() < 1e-17);
    // a huge epoch is reduced modulo the period 2·t_max first: 10⁹·8 + 2 is a middle point
    assert!((s.lr_at(8_000_000_002) - 0.06).abs() < 1e-16);
    // η_min = 0 reaches 0 and never goes below
    let z = CosineAnnealingLr::new(0.5, 3, 0.0).unwrap();
    assert!(z.lr_at(3).abs() < 1e-17);
    assert!((0..100).all(|t| z.lr_at(t) >= 0.0));
}

#[test]
fn every_scheduled_rate_is_accepted_by_both_optimizers() {
    let schedules: [Box<dyn LrSchedule>; 3] = [
        Box::new(StepLr::new(1e-3, 7, 0.3).unwrap()),
        Box::new(ExponentialLr::new(1e-2, 0.999).unwrap()),
        Box::new(CosineAnnealingLr::new(5e-2, 500, 1e-4).unwrap()),
    ];
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut sgd = Sgd::new(SgdConfig::default()).unwrap();
    for s in &schedules {
        for t in (0..5000).chain([u64::MAX - 1, u64::MAX]) {
            let lr = s.lr_at(t);
            adam.set_lr(lr).unwrap();
            sgd.set_lr(lr).unwrap();
            assert_eq!(adam.config().lr, lr);
            assert_eq!(sgd.config().lr, lr);
        }
    }
}

fn hp(r: Result<impl std::fmt::Debug, AdError>) -> (&'static str, f64) {
    match r {
        Err(AdError::InvalidHyperParameter { name, value, .. }) => (name, value),
        other => panic!("expected InvalidHyperParameter, got {other:?}"),
    }
}

#[test]
fn bad_settings_are_typed_errors_naming_the_setting() {
    assert_eq!(hp(StepLr::new(-0.1, 10, 0.5)), ("lr", -0.1));
    assert_eq!(hp(StepLr::new(f64::INFINITY, 10, 0.5)).0, "lr");
    assert_eq!(hp(StepLr::new(0.1, 0, 0.5)), ("step_size", 0.0));
    assert_eq!(hp(StepLr::new(0.1, 10, 0.0)), ("gamma", 0.0));
    assert_eq!(hp(StepLr::new(0.1, 10, 1.5)), ("gamma", 1.5));
    assert_eq!(hp(StepLr::new(0.1, 10, f64::NAN)).0, "gamma");
    assert_eq!(hp(ExponentialLr::new(f64::NAN, 0.9)).0, "lr");
    assert_eq!(hp(ExponentialLr::new(0.1, -0.9)), ("gamma", -0.9));
    assert_eq!(hp(CosineAnnealingLr::new(0.1, 0, 0.0)), ("t_max", 0.0));
    assert_eq!(
        hp(CosineAnnealingLr::new(0.1, 10, -1e-3)),
        ("eta_min", -1e-3)
    );
    assert_eq!(hp(CosineAnnealingLr::new(0.1, 10, f64::NAN)).0, "eta_min");
    assert_eq!(hp(CosineAnnealingLr::new(-1.0, 10, 0.0)), ("lr", -1.0));
}
