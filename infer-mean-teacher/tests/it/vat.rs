//! The virtual adversarial perturbation: the returned direction is an ascent direction of the
//! consistency loss D(r) = KL(teacher(x) ‖ student(x + r)) at the power iteration's starting
//! point r₀, checked against central finite differences; it is the steepest such direction
//! under the per-row norm constraint; the teacher never receives gradients.

use crate::moons::{Method, Mlp, Moons, TrainConfig, train};
use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{AdError, ParamStore, Tape, Tensor};
use infer_mean_teacher::{
    Constants, EmaSettings, MeanTeacher, MeanTeacherError, kl_and_grad, kl_consistency,
    masked_cross_entropy, virtual_adversarial,
};
use ndarray::{Array2, s};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fixes a closure's type to the higher-ranked forward signature.
fn forward_fn<F>(f: F) -> F
where
    F: for<'t> Fn(&'t Tape, Tensor<'t>) -> Result<Tensor<'t>, AdError>,
{
    f
}

fn student_and_teacher(seed: u64) -> (Mlp, ParamStore, ParamStore) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut student = ParamStore::new();
    let mlp = Mlp::new(&mut student, &mut rng).unwrap();
    let mut teacher = student.clone();
    let ids: Vec<_> = teacher.ids().collect();
    for id in ids {
        teacher
            .value_mut(id)
            .mapv_inplace(|v| v + rng.random_range(-0.3..0.3));
    }
    (mlp, student, teacher)
}

#[test]
fn adversarial_direction_ascends_the_consistency_loss() {
    for seed in 0..3 {
        let (mlp, student, teacher) = student_and_teacher(seed);
        let data = Moons::generate(10, 40, 10, 0.1, 500 + seed);
        let x = data.x_unl.slice(s![..20, ..]).to_owned();
        let target = mlp.predict(&teacher, &x).unwrap();
        let f = forward_fn(|t, i| mlp.forward(&Constants::bind(&student, t), i));
        let d = |r: &Array2<f64>| kl_and_grad(&x, &target, r, f).unwrap().0;
        let eps = 0.2;
        let mut rng = StdRng::seed_from_u64(seed);
        let step = virtual_adversarial(&x, &target, 1e-6, eps, &mut rng, f).unwrap();
        let r0 = &step.start;
        assert!((step.loss_at_start - d(r0)).abs() < 1e-15);
        // Row norms: ξ for the start, ε for the perturbation.
        for (a, b) in r0.rows().into_iter().zip(step.perturbation.rows()) {
            assert!((a.dot(&a).sqrt() - 1e-6).abs() < 1e-18);
            assert!((b.dot(&b).sqrt() - eps).abs() < 1e-14);
        }
        // Directional derivative of D at r₀ along r_adv: by the tape ⟨g, r_adv⟩ = ε Σᵢ ‖gᵢ‖,
        // by central finite differences of D.
        let by_tape = (&step.grad * &step.perturbation).sum();
        let norms: f64 = step.grad.rows().into_iter().map(|g| g.dot(&g).sqrt()).sum();
        assert!((by_tape - eps * norms).abs() <= 1e-12 * by_tape.abs());
        let h = 1e-4;
        let fd = |dir: &Array2<f64>| (d(&(r0 + &(dir * h))) - d(&(r0 - &(dir * h)))) / (2.0 * h);
        let along = fd(&step.perturbation);
        assert!(
            by_tape > 0.0 && along > 0.0,
            "seed {seed}: {by_tape}, {along}"
        );
        assert!(
            (along - by_tape).abs() <= 1e-6 * by_tape,
            "seed {seed}: finite differences {along} vs tape {by_tape}"
        );
        // The loss rises along it, and faster than along any random direction of the same row
        // norms (Cauchy–Schwarz: ⟨g, r⟩ ≤ ε Σᵢ ‖gᵢ‖ for ‖rᵢ‖ = ε).
        assert!(d(&(r0 + &(&step.perturbation * 0.05))) > d(r0));
        for _ in 0..20 {
            let dir: Array2<f64> = Array2::from_shape_fn(x.dim(), |_| rng.random_range(-1.0..1.0));
            let mut dir = dir;
            for mut row in dir.rows_mut() {
                let n = row.dot(&row).sqrt();
                row.mapv_inplace(|v| eps * v / n);
            }
            assert!(fd(&dir) <= along * (1.0 + 1e-6), "seed {seed}");
        }
    }
}

#[test]
fn invalid_sizes_are_rejected() {
    let (mlp, student, _) = student_and_teacher(0);
    let x = Array2::zeros((3, 2));
    let target = mlp.predict(&student, &x).unwrap();
    let f = forward_fn(|t, i| mlp.forward(&Constants::bind(&student, t), i));
    let mut rng = StdRng::seed_from_u64(0);
    for (xi, eps) in [
        (0.0, 1.0),
        (-1e-6, 1.0),
        (f64::NAN, 1.0),
        (1e-6, -1.0),
        (1e-6, f64::INFINITY),
    ] {
        assert!(matches!(
            virtual_adversarial(&x, &target, xi, eps, &mut rng, f),
            Err(MeanTeacherError::InvalidPerturbation { .. })
        ));
    }
    assert!(matches!(
        kl_and_grad(&x, &target, &Array2::zeros((2, 2)), f),
        Err(MeanTeacherError::InputShape { .. })
    ));
    assert!(matches!(
        virtual_adversarial(&x, &Array2::zeros((3, 3)), 1e-6, 1.0, &mut rng, f),
        Err(MeanTeacherError::LogitShape { .. })
    ));
}

#[test]
fn teacher_never_receives_gradients_in_adversarial_steps() {
    let (mlp, mut student, _) = student_and_teacher(4);
    let data = Moons::generate(10, 100, 10, 0.1, 77);
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut rng = StdRng::seed_from_u64(4);
    let x = data.x_unl.slice(s![..30, ..]).to_owned();
    let labels: Vec<Option<usize>> = (0..30).map(|i| (i < 4).then_some(i % 2)).collect();
    let mut tape = Tape::new();
    for _ in 0..10 {
        tape.clear();
        let t = mt.bind_teacher(&tape);
        let nodes = tape.num_nodes();
        let teacher_logits = mlp.forward(&t, tape.constant(&x)).unwrap();
        assert_eq!(
            tape.num_nodes(),
            nodes,
            "the teacher's forward records nothing"
        );
        let target: Array2<f64> = teacher_logits.value().into_dimensionality().unwrap();
        let vat = virtual_adversarial(&x, &target, 1e-6, 0.3, &mut rng, |tp, i| {
            mlp.forward(&Constants::bind(&student, tp), i)
        })
        .unwrap();
        assert_eq!(
            student.grad_norm(),
            0.0,
            "the power iteration touches no weights"
        );
        let p = student.bind(&tape);
        let clean = mlp.forward(&p, tape.constant(&x)).unwrap();
        let adv = mlp
            .forward(&p, tape.constant(&(&x + &vat.perturbation)))
            .unwrap();
        let loss = masked_cross_entropy(clean, &labels).unwrap()
            + kl_consistency(adv, teacher_logits).unwrap() * 3.0;
        loss.backward();
        for leaf in t.tensors() {
            assert!(leaf.grad().iter().all(|&g| g == 0.0));
        }
        student.zero_grads();
        student.accumulate_grads(&p).unwrap();
        assert!(student.grad_norm() > 0.0);
        let before = mt.teacher().clone();
        adam.step(&mut student).unwrap();
        let ids: Vec<_> = before.ids().collect();
        for id in &ids {
            assert_eq!(
                before.value(*id),
                mt.teacher().value(*id),
                "only update() moves it"
            );
        }
        assert_eq!(mt.teacher().grad_norm(), 0.0);
        mt.update(&student).unwrap();
        student.zero_grads();
    }
    // The training helper with the adversarial perturbation, a few steps.
    let cfg = TrainConfig {
        steps: 20,
        ..TrainConfig::default()
    };
    let trained = train(&data, Method::MeanTeacherAdversarial, &cfg, 1).unwrap();
    assert_eq!(trained.weights.grad_norm(), 0.0);
}
