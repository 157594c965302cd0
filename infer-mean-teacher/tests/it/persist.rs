//! Save → restore → bit-identical continuation; corrupt and mismatched files are rejected.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{ParamStore, Tape};
use infer_mean_teacher::{EmaSettings, MeanTeacher, MeanTeacherError, ParameterSet};
use ndarray::{ArrayD, IxDyn, array};
use proptest::prelude::*;

fn bits(p: &impl ParameterSet) -> Vec<u64> {
    (0..p.num_arrays())
        .flat_map(|i| p.array(i).1.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        .collect()
}

fn settings() -> EmaSettings {
    EmaSettings {
        alpha_max: 0.95,
        bias_correction: true,
        update_every: 2,
        start_after: 3,
    }
}

/// A student trained by Adam on a fixed quadratic, one snapshot per step.
fn student_trajectory(steps: usize) -> (ParamStore, Vec<ParamStore>) {
    let mut s = ParamStore::new();
    let w = s.add("w", array![[0.5, -1.0], [2.0, 0.25]]).unwrap();
    let b = s.add("b", array![0.1, -0.2]).unwrap();
    let init = s.clone();
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut tape = Tape::new();
    let mut out = Vec::new();
    for _ in 0..steps {
        tape.clear();
        let p = s.bind(&tape);
        let loss = ((p[w] - 1.0).square().sum() + (p[b] * 3.0).sin().square().sum()) * 0.5;
        loss.backward();
        s.zero_grads();
        s.accumulate_grads(&p).unwrap();
        adam.step(&mut s).unwrap();
        out.push(s.clone());
    }
    (init, out)
}

#[test]
fn save_restore_continues_bit_identically() {
    let (init, traj) = student_trajectory(40);
    let mut mt = MeanTeacher::new(settings(), &init).unwrap();
    mt.set_alpha_max(0.97).unwrap();
    for s in &traj[..17] {
        mt.update(s).unwrap();
    }
    let mut saved = Vec::new();
    mt.save(&mut saved).unwrap();
    let mut restored = MeanTeacher::load(saved.as_slice(), &init).unwrap();
    assert_eq!(restored.step(), 17);
    assert_eq!(restored.num_ema_updates(), mt.num_ema_updates());
    assert_eq!(restored.settings(), mt.settings());
    assert_eq!(restored.settings().alpha_max, 0.97);
    assert_eq!(bits(restored.teacher()), bits(mt.teacher()));
    for s in &traj[17..] {
        let a = mt.update(s).unwrap();
        let b = restored.update(s).unwrap();
        assert_eq!(a, b);
        assert_eq!(bits(restored.teacher()), bits(mt.teacher()));
    }
    // Saving again gives the same bytes.
    let (mut x, mut y) = (Vec::new(), Vec::new());
    mt.save(&mut x).unwrap();
    restored.save(&mut y).unwrap();
    assert_eq!(x, y);
}

fn small_state() -> (Vec<u8>, ParamStore) {
    let mut s = ParamStore::new();
    s.add("weight", array![[1.0, 2.0], [3.0, 4.0]]).unwrap();
    s.add("b", array![0.5]).unwrap();
    let mut mt = MeanTeacher::new(settings(), &s).unwrap();
    for _ in 0..5 {
        mt.update(&s).unwrap();
    }
    let mut bytes = Vec::new();
    mt.save(&mut bytes).unwrap();
    (bytes, s)
}

#[test]
fn every_single_byte_corruption_is_rejected() {
    let (bytes, s) = small_state();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert!(
                MeanTeacher::load(b.as_slice(), &s).is_err(),
                "byte {i} ^ {flip:#x} accepted"
            );
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let (bytes, s) = small_state();
    for n in 0..bytes.len() {
        match MeanTeacher::load(&bytes[..n], &s) {
            Err(MeanTeacherError::Corrupt { .. }) => {}
            other => panic!("truncated to {n}: {other:?}"),
        }
    }
    assert!(MeanTeacher::load(bytes.as_slice(), &s).is_ok());
}

#[test]
fn wrong_model_is_reported() {
    let (bytes, _) = small_state();
    let mut other = ParamStore::new();
    other.add("weight", array![[1.0, 2.0], [3.0, 4.0]]).unwrap();
    other.add("bias", array![0.5]).unwrap();
    assert!(matches!(
        MeanTeacher::load(bytes.as_slice(), &other),
        Err(MeanTeacherError::NameMismatch { .. })
    ));
    let mut shaped = ParamStore::new();
    shaped.add("weight", array![1.0, 2.0, 3.0, 4.0]).unwrap();
    shaped.add("b", array![0.5]).unwrap();
    match MeanTeacher::load(bytes.as_slice(), &shaped) {
        Err(MeanTeacherError::ShapeMismatch { name, .. }) => assert_eq!(name, "weight"),
        other => panic!("{other:?}"),
    }
    let err = MeanTeacher::load(&b"INFERMT\0\x07\0\0\0"[..], &shaped).unwrap_err();
    assert!(err.to_string().contains("version"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn roundtrip_is_bitwise(
        values in proptest::collection::vec(
            prop_oneof![any::<f64>(), Just(f64::NAN), Just(-0.0), Just(f64::INFINITY)],
            1..40,
        ),
        step in 0u64..1000,
        alpha in 0.0f64..0.9999,
    ) {
        let n = values.len();
        let student = vec![
            ("θ".to_string(), ArrayD::from_shape_vec(IxDyn(&[n]), values.clone()).unwrap()),
            ("empty".to_string(), ArrayD::zeros(IxDyn(&[0, 3]))),
        ];
        let s = EmaSettings { alpha_max: alpha, start_after: step, ..EmaSettings::default() };
        let mut mt = MeanTeacher::new(s, &student).unwrap();
        mt.update(&student).unwrap();
        let mut bytes = Vec::new();
        mt.save(&mut bytes).unwrap();
        let back = MeanTeacher::load(bytes.as_slice(), &student).unwrap();
        prop_assert_eq!(bits(back.teacher()), bits(mt.teacher()));
        prop_assert_eq!(back.step(), mt.step());
        prop_assert_eq!(back.settings().alpha_max.to_bits(), alpha.to_bits());
    }
}
