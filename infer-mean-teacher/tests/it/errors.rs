//! Typed errors for bad input, naming the parameter and the value.

use infer_ad::ParamStore;
use infer_mean_teacher::{EmaSettings, MeanTeacher, MeanTeacherError};
use ndarray::{ArrayD, IxDyn, array};

fn store(names: &[(&str, &[usize])]) -> ParamStore {
    let mut s = ParamStore::new();
    for (n, shape) in names {
        s.add(*n, ArrayD::zeros(IxDyn(shape))).unwrap();
    }
    s
}

#[test]
fn alpha_outside_unit_interval() {
    for bad in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
        let s = EmaSettings {
            alpha_max: bad,
            ..EmaSettings::default()
        };
        let err = MeanTeacher::new(s, &store(&[("w", &[2])])).unwrap_err();
        match err {
            MeanTeacherError::InvalidAlpha { name, value } => {
                assert_eq!(name, "alpha_max");
                assert!(value.to_bits() == bad.to_bits());
            }
            other => panic!("{other:?}"),
        }
        assert!(err_text(s).contains("alpha_max"));
    }
    let mut mt = MeanTeacher::new(EmaSettings::default(), &store(&[("w", &[2])])).unwrap();
    assert!(matches!(
        mt.set_alpha_max(1.0),
        Err(MeanTeacherError::InvalidAlpha { .. })
    ));
    assert_eq!(
        mt.settings().alpha_max,
        0.99,
        "a rejected value changes nothing"
    );
}

fn err_text(s: EmaSettings) -> String {
    s.validate().unwrap_err().to_string()
}

#[test]
fn update_every_zero() {
    let s = EmaSettings {
        update_every: 0,
        ..EmaSettings::default()
    };
    assert!(matches!(
        s.validate(),
        Err(MeanTeacherError::InvalidSetting {
            name: "update_every",
            ..
        })
    ));
}

#[test]
fn mismatched_names_shapes_counts() {
    let student = store(&[("w", &[2, 3]), ("b", &[3])]);
    let cases = [
        store(&[("w", &[2, 3])]),
        store(&[("w", &[2, 3]), ("bias", &[3])]),
        store(&[("w", &[3, 2]), ("b", &[3])]),
    ];
    let s = EmaSettings::default();
    let errs: Vec<_> = cases
        .into_iter()
        .map(|t| MeanTeacher::with_teacher_weights(s, &student, t).unwrap_err())
        .collect();
    assert!(matches!(
        errs[0],
        MeanTeacherError::CountMismatch {
            student: 2,
            teacher: 1
        }
    ));
    match &errs[1] {
        MeanTeacherError::NameMismatch {
            index,
            student,
            teacher,
        } => {
            assert_eq!(
                (*index, student.as_str(), teacher.as_str()),
                (1, "b", "bias")
            );
        }
        other => panic!("{other:?}"),
    }
    match &errs[2] {
        MeanTeacherError::ShapeMismatch {
            name,
            student,
            teacher,
        } => {
            assert_eq!(name, "w");
            assert_eq!(student, &vec![2, 3]);
            assert_eq!(teacher, &vec![3, 2]);
        }
        other => panic!("{other:?}"),
    }
    assert!(errs[2].to_string().contains("\"w\""));
}

#[test]
fn update_and_with_teacher_check_the_student() {
    let student = store(&[("w", &[2])]);
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    let mut other = store(&[("w", &[3])]);
    assert!(matches!(
        mt.update(&other),
        Err(MeanTeacherError::ShapeMismatch { .. })
    ));
    assert_eq!(mt.step(), 0, "a rejected update does not count");
    assert!(mt.with_teacher(&mut other, |_| ()).is_err());
    let mut renamed = ParamStore::new();
    renamed.add("v", array![0.0, 0.0]).unwrap();
    assert!(matches!(
        mt.update(&renamed),
        Err(MeanTeacherError::NameMismatch { .. })
    ));
}
