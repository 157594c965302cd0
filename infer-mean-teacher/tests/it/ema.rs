//! The EMA: α schedule, reference formula, α_max = 0, bias correction, update_every and
//! start_after, parameter-set implementations, the swap-based evaluation.

use infer_ad::ParamStore;
use infer_mean_teacher::{EmaSettings, MeanTeacher, ParameterSet, UpdateOutcome, ema_alpha};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

fn random_store(rng: &mut StdRng) -> ParamStore {
    let mut s = ParamStore::new();
    s.add(
        "w",
        ArrayD::from_shape_fn(IxDyn(&[3, 4]), |_| rng.random_range(-1.0..1.0)),
    )
    .unwrap();
    s.add(
        "b",
        ArrayD::from_shape_fn(IxDyn(&[4]), |_| rng.random_range(-1.0..1.0)),
    )
    .unwrap();
    s
}

fn perturb(s: &mut ParamStore, rng: &mut StdRng) {
    let ids: Vec<_> = s.ids().collect();
    for id in ids {
        s.value_mut(id)
            .mapv_inplace(|x| x + rng.random_range(-0.1..0.1));
    }
}

fn flat(p: &impl ParameterSet) -> Vec<f64> {
    (0..p.num_arrays())
        .flat_map(|i| p.array(i).1.iter().copied().collect::<Vec<_>>())
        .collect()
}

#[test]
fn alpha_schedule_values() {
    assert_eq!(ema_alpha(0, 0.99), 0.0);
    assert_eq!(ema_alpha(1, 0.99), 0.5);
    assert_eq!(ema_alpha(2, 0.99), 1.0 - 1.0 / 3.0);
    assert_eq!(ema_alpha(3, 0.99), 0.75);
    assert_eq!(ema_alpha(99, 0.99), 0.99);
    assert_eq!(ema_alpha(1000, 0.99), 0.99);
    assert_eq!(ema_alpha(1000, 0.999), 0.999);
    assert_eq!(ema_alpha(5, 0.0), 0.0);
    // Through the state: the first update uses 1/2, then 2/3, 3/4, ..., capped at α_max.
    let mut rng = StdRng::seed_from_u64(1);
    let student = random_store(&mut rng);
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    for t in 1..=300u64 {
        let expected = (1.0 - 1.0 / (t as f64 + 1.0)).min(0.99);
        assert_eq!(mt.next_alpha(), expected);
        match mt.update(&student).unwrap() {
            UpdateOutcome::Averaged { alpha, weight } => {
                assert_eq!(alpha, expected, "step {t}");
                assert_eq!(weight, 1.0 - expected);
            }
            other => panic!("step {t}: {other:?}"),
        }
    }
    assert_eq!(mt.step(), 300);
    assert_eq!(mt.num_ema_updates(), 300);
}

#[test]
fn matches_reference_formula() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut student = random_store(&mut rng);
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    let mut reference = flat(&student);
    for t in 1..=200u64 {
        perturb(&mut student, &mut rng);
        mt.update(&student).unwrap();
        let a = ema_alpha(t, 0.99);
        for (r, s) in reference.iter_mut().zip(flat(&student)) {
            *r = a * *r + (1.0 - a) * s;
        }
        for (x, r) in flat(mt.teacher()).iter().zip(&reference) {
            assert!((x - r).abs() < 1e-12, "step {t}: {x} vs {r}");
        }
    }
}

#[test]
fn alpha_max_zero_makes_teacher_equal_student() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut student = random_store(&mut rng);
    let independent = random_store(&mut rng);
    let settings = EmaSettings {
        alpha_max: 0.0,
        ..EmaSettings::default()
    };
    let mut mt = MeanTeacher::with_teacher_weights(settings, &student, independent).unwrap();
    for _ in 0..20 {
        perturb(&mut student, &mut rng);
        mt.update(&student).unwrap();
        let (a, b) = (flat(mt.teacher()), flat(&student));
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn bias_correction_constant_student_from_first_step() {
    let mut rng = StdRng::seed_from_u64(4);
    let student = random_store(&mut rng); // constant over time
    for alpha_max in [0.5, 0.9, 0.99, 0.999] {
        let settings = EmaSettings {
            alpha_max,
            bias_correction: true,
            ..EmaSettings::default()
        };
        // Independent weights far from the student: bias correction starts from zero, so
        // they are forgotten at the first update.
        let mut far = student.clone();
        let ids: Vec<_> = far.ids().collect();
        for id in ids {
            far.value_mut(id).fill(1e6);
        }
        let mut mt = MeanTeacher::with_teacher_weights(settings, &student, far).unwrap();
        for t in 1..=100 {
            mt.update(&student).unwrap();
            assert_eq!(
                flat(mt.teacher()),
                flat(&student),
                "α_max {alpha_max}, step {t}"
            );
        }
    }
}

#[test]
fn bias_correction_matches_optax_formula() {
    // optax: ema ← α ema + (1 − α) x from ema = 0, reported as ema / (1 − αᵗ) for constant α.
    let mut rng = StdRng::seed_from_u64(5);
    let mut student = random_store(&mut rng);
    let alpha = 0.9;
    let settings = EmaSettings {
        alpha_max: alpha,
        bias_correction: true,
        ..EmaSettings::default()
    };
    let mut mt = MeanTeacher::new(settings, &student).unwrap();
    // Skip the ramp (α = 1 − 1/(t+1) < 0.9 for t < 9) by comparing with the varying-α form:
    // the debiasing factor is 1 − Π αᵢ, equal to 1 − αᵗ once α is constant from the start.
    let mut raw = vec![0.0; flat(&student).len()];
    let mut prod = 1.0;
    for t in 1..=60u64 {
        perturb(&mut student, &mut rng);
        mt.update(&student).unwrap();
        let a = ema_alpha(t, alpha);
        prod *= a;
        for (r, s) in raw.iter_mut().zip(flat(&student)) {
            *r = a * *r + (1.0 - a) * s;
        }
        for (x, r) in flat(mt.teacher()).iter().zip(&raw) {
            let expected = r / (1.0 - prod);
            assert!((x - expected).abs() < 1e-12, "step {t}: {x} vs {expected}");
        }
    }
    // α_max = 1/2 keeps α constant from the first update: optax's 1 − αᵗ exactly.
    let mut student = random_store(&mut rng);
    let mut mt = MeanTeacher::new(
        EmaSettings {
            alpha_max: 0.5,
            bias_correction: true,
            ..EmaSettings::default()
        },
        &student,
    )
    .unwrap();
    let mut raw = vec![0.0; flat(&student).len()];
    for t in 1..=40i32 {
        perturb(&mut student, &mut rng);
        mt.update(&student).unwrap();
        for (r, s) in raw.iter_mut().zip(flat(&student)) {
            *r = 0.5 * *r + 0.5 * s;
        }
        for (x, r) in flat(mt.teacher()).iter().zip(&raw) {
            let expected = r / (1.0 - 0.5f64.powi(t));
            assert!((x - expected).abs() < 1e-12, "step {t}: {x} vs {expected}");
        }
    }
}

#[test]
fn update_every_and_start_after() {
    let mut student = vec![("x".to_string(), ArrayD::from_elem(IxDyn(&[2]), 0.0))];
    let settings = EmaSettings {
        update_every: 3,
        start_after: 4,
        ..EmaSettings::default()
    };
    let mut mt = MeanTeacher::new(settings, &student).unwrap();
    let mut outcomes = Vec::new();
    for step in 1..=13 {
        student[0].1.fill(step as f64);
        outcomes.push(mt.update(&student).unwrap());
        if step <= 4 {
            assert_eq!(mt.teacher()[0].1[0], step as f64, "copy before start");
        }
    }
    use UpdateOutcome::{Averaged, Copied, Skipped};
    let kinds: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Copied => "c",
            Skipped => "s",
            Averaged { .. } => "a",
        })
        .collect();
    assert_eq!(kinds.join(""), "ccccssassassa");
    assert_eq!(mt.num_ema_updates(), 3);
    // steps 7, 10, 13 with α = 1/2, 2/3, 3/4 from the copy at step 4
    let mut t: f64 = 4.0;
    for (k, s) in [(1u64, 7.0), (2, 10.0), (3, 13.0)] {
        let a = ema_alpha(k, 0.99);
        t += (1.0 - a) * (s - t);
    }
    assert!((mt.teacher()[0].1[0] - t).abs() < 1e-12);
}

#[test]
fn set_alpha_max_switches_the_cap() {
    let student = vec![("x".to_string(), ArrayD::from_elem(IxDyn(&[1]), 1.0))];
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    for _ in 0..500 {
        mt.update(&student).unwrap();
    }
    assert_eq!(mt.next_alpha(), 0.99);
    mt.set_alpha_max(0.999).unwrap();
    // the ramp 1 − 1/(t + 1) is below the new cap until t = 999
    assert_eq!(mt.next_alpha(), 1.0 - 1.0 / 502.0);
    for _ in 0..1000 {
        mt.update(&student).unwrap();
    }
    assert_eq!(mt.next_alpha(), 0.999);
    assert_eq!(mt.settings().alpha_max, 0.999);
}

#[test]
fn works_over_btreemap_and_vec() {
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), ArrayD::from_elem(IxDyn(&[2, 2]), 0.0));
    map.insert("b".to_string(), ArrayD::from_elem(IxDyn(&[3]), 0.0));
    let mut mt = MeanTeacher::new(EmaSettings::default(), &map).unwrap();
    for v in map.values_mut() {
        v.fill(2.0);
    }
    mt.update(&map).unwrap();
    assert!(mt.teacher().values().all(|a| a.iter().all(|&x| x == 1.0)));
    assert_eq!(mt.teacher().num_elements(), 7);
}

#[test]
fn non_standard_layout_is_averaged_elementwise() {
    let base = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let student = vec![("w".to_string(), base.clone())];
    // teacher in transposed (Fortran) memory order, same logical shape and values × 3
    let mut t = ArrayD::zeros(IxDyn(&[3, 2])).reversed_axes();
    t.assign(&base.mapv(|x| 3.0 * x));
    let teacher = vec![("w".to_string(), t)];
    let mut mt =
        MeanTeacher::with_teacher_weights(EmaSettings::default(), &student, teacher).unwrap();
    mt.update(&student).unwrap();
    assert_eq!(mt.teacher()[0].1, base.mapv(|x| 2.0 * x));
}

#[test]
fn with_teacher_swaps_and_restores() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut student = random_store(&mut rng);
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    perturb(&mut student, &mut rng);
    mt.update(&student).unwrap();
    let before_student = flat(&student);
    let before_teacher = flat(mt.teacher());
    let seen = mt.with_teacher(&mut student, flat).unwrap();
    assert_eq!(seen, before_teacher);
    assert_eq!(flat(&student), before_student);
    assert_eq!(flat(mt.teacher()), before_teacher);
    // A panic inside the closure still puts everything back.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mt.with_teacher(&mut student, |_| panic!("model failed"))
    }));
    assert!(result.is_err());
    assert_eq!(flat(&student), before_student);
    assert_eq!(flat(mt.teacher()), before_teacher);
}
