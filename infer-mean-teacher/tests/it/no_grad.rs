//! The teacher never receives gradients: its tensors are untracked constants, its store's
//! gradient buffers stay zero, and its weights change only through `update`.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{ParamStore, Tape};
use infer_mean_teacher::{EmaSettings, MeanTeacher, ParameterSet, kl_consistency, softmax_mse};
use ndarray::{Array2, array};
use std::sync::Arc;

fn snapshot(p: &ParamStore) -> Vec<u64> {
    (0..p.num_arrays())
        .flat_map(|i| p.array(i).1.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn teacher_receives_no_gradient_during_training() {
    let mut student = ParamStore::new();
    let w = student
        .add("w", array![[0.3, -0.2, 0.1], [0.5, 0.4, -0.6]])
        .unwrap();
    let b = student.add("b", array![0.1, 0.0, -0.1]).unwrap();
    let mut mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::default()
    })
    .unwrap();
    let x: Arc<Array2<f64>> = Arc::new(array![[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]]);
    let x_teacher: Arc<Array2<f64>> = Arc::new(x.mapv(|v| v + 0.1));
    let mut tape = Tape::new();
    for step in 0..20 {
        tape.clear();
        let s = student.bind(&tape);
        let t = mt.bind_teacher(&tape);
        assert!(t.tensors().iter().all(|t| !t.is_tracked()));
        let nodes_before = tape.num_nodes();
        let tl = tape.data_matmul(&x_teacher, t[w]).unwrap() + t[b];
        assert_eq!(
            tape.num_nodes(),
            nodes_before,
            "teacher forward records no nodes"
        );
        let sl = tape.data_matmul(&x, s[w]).unwrap() + s[b];
        let loss = if step % 2 == 0 {
            softmax_mse(sl, tl).unwrap()
        } else {
            kl_consistency(sl, tl).unwrap()
        };
        loss.backward();
        for leaf in t.tensors() {
            assert!(leaf.grad().iter().all(|&g| g == 0.0));
        }
        student.zero_grads();
        student.accumulate_grads(&s).unwrap();
        assert!(student.grad_norm() > 0.0, "the student does get a gradient");
        let before = snapshot(mt.teacher());
        adam.step(&mut student).unwrap();
        assert_eq!(
            snapshot(mt.teacher()),
            before,
            "only update() moves the teacher"
        );
        mt.update(&student).unwrap();
        assert_eq!(mt.teacher().grad_norm(), 0.0);
    }
}

#[test]
fn tracked_teacher_logits_are_detached_by_the_losses() {
    // Even when the caller binds the teacher as tracked leaves, the losses detach it.
    let tape = Tape::new();
    let s = tape.tensor(&array![[0.2, -0.3], [1.0, 0.0]]);
    let t = tape.tensor(&array![[-0.5, 0.5], [0.3, 0.1]]);
    for loss in [softmax_mse(s, t).unwrap(), kl_consistency(s, t).unwrap()] {
        loss.backward();
        assert!(t.grad().iter().all(|&g| g == 0.0));
        assert!(s.grad().iter().any(|&g| g != 0.0));
    }
}

#[test]
fn teacher_store_grads_start_at_zero() {
    let mut student = ParamStore::new();
    let w = student.add("w", array![1.0, 2.0]).unwrap();
    student.grad_mut(w).fill(5.0);
    let mt = MeanTeacher::new(EmaSettings::default(), &student).unwrap();
    assert_eq!(mt.teacher().grad_norm(), 0.0);
}
