//! `Svi` (the step helper) and `mean_over_particles` (`num_particles`).

use super::logistic::{self, D};
use super::seed;
use infer_ad::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use infer_ad::{ParamStore, Tape};
use infer_dist::{Cauchy, Normal, Reparameterizable};
use infer_loss::{LossError, Svi, mean_over_particles, vi_loss};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The seed's loop by hand (as in `vi_loss`'s documentation): returns the parameters and
/// the losses.
fn seed_loop_by_hand(steps: usize) -> (Vec<f64>, Vec<f64>) {
    let k = 5;
    let (mut store, params) = seed::params(k).unwrap();
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let mut tape = Tape::new();
    let mut losses = Vec::new();
    for _ in 0..steps {
        tape.clear();
        let bound = store.bind(&tape);
        let loss = seed::loss(&tape, &bound, &params, &mut rng).unwrap();
        losses.push(seed::update(loss, &bound, &mut store, &mut opt).unwrap());
    }
    (store.to_flat(), losses)
}

/// The same loop through `Svi` with `num_particles` particles.
fn seed_loop_svi(steps: usize, num_particles: usize) -> (Vec<f64>, Vec<f64>, Svi<Adam>) {
    let k = 5;
    let (mut store, params) = seed::params(k).unwrap();
    let opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut svi = Svi::new(opt).with_num_particles(num_particles).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let mut losses = Vec::new();
    for _ in 0..steps {
        let loss = svi
            .step(&mut store, |tape, bound| {
                seed::loss(tape, bound, &params, &mut rng)
            })
            .unwrap();
        losses.push(loss);
    }
    (store.to_flat(), losses, svi)
}

#[test]
fn one_particle_is_bit_identical_to_the_hand_written_loop() {
    let (p_hand, l_hand) = seed_loop_by_hand(200);
    let (p_svi, l_svi, svi) = seed_loop_svi(200, 1);
    assert_eq!(p_hand, p_svi);
    assert_eq!(l_hand, l_svi);
    assert_eq!(svi.steps(), 200);
    assert_eq!(svi.optimizer().steps(), 200);
}

#[test]
fn the_tape_is_cleared_and_reused_every_step() {
    let (_, _, mut svi) = seed_loop_svi(3, 1);
    let (len, cap) = (svi.tape().len(), svi.tape().capacity());
    assert_eq!(svi.tape().binds_since_clear(), 1);
    let mut store = ParamStore::new();
    let w = store.add("w", ndarray::arr1(&[0.5])).unwrap();
    for _ in 0..100 {
        svi.step(&mut store, |_, p| Ok((p[w] - 2.0).square().sum()))
            .unwrap();
        assert_eq!(svi.tape().binds_since_clear(), 1);
    }
    // the small loss fits in the buffers the earlier steps left: no growth, no reallocation
    assert!(svi.tape().len() < len);
    assert_eq!(svi.tape().capacity(), cap);
}

#[test]
fn mean_over_one_particle_records_nothing_more() {
    let tape = Tape::new();
    let x = tape.var(1.5);
    let direct = x.square() * 3.0;
    let before = tape.num_nodes();
    let one = mean_over_particles(1, |_| Ok(direct)).unwrap();
    assert_eq!(tape.num_nodes(), before);
    assert_eq!(one.value().to_bits(), direct.value().to_bits());
}

#[test]
fn mean_over_particles_is_the_mean_of_the_particle_losses() {
    // each particle's loss recomputed separately from the same stream of draws
    let n = 7;
    let tape = Tape::new();
    let (loc, scale) = (tape.var(0.3), tape.var(1.2));
    let p = Cauchy::new(tape.var(0.0), tape.var(1.0)).unwrap();
    let q = Normal::new(loc, scale).unwrap();
    let mut rng = StdRng::seed_from_u64(4);
    let mut singles = Vec::new();
    let mut grads = (0.0, 0.0);
    for _ in 0..n {
        let t2 = Tape::new();
        let (l2, s2) = (t2.var(0.3), t2.var(1.2));
        let p2 = Cauchy::new(t2.var(0.0), t2.var(1.0)).unwrap();
        let q2 = Normal::new(l2, s2).unwrap();
        let x = q2.rsample(&mut rng).unwrap();
        let loss = vi_loss(&[&p2], &[&q2], &[x], &[false], 1.0).unwrap();
        loss.backward();
        singles.push(loss.value());
        grads.0 += l2.grad() / n as f64;
        grads.1 += s2.grad() / n as f64;
    }
    let mut rng = StdRng::seed_from_u64(4);
    let mean = mean_over_particles(n, |_| {
        let x = q.rsample(&mut rng)?;
        vi_loss(&[&p], &[&q], &[x], &[false], 1.0)
    })
    .unwrap();
    mean.backward();
    let expect = singles.iter().sum::<f64>() / n as f64;
    assert!((mean.value() - expect).abs() < 1e-13 * (1.0 + expect.abs()));
    assert!((loc.grad() - grads.0).abs() < 1e-13);
    assert!((scale.grad() - grads.1).abs() < 1e-13);
}

/// The variance of the gradient of the logistic regression's negative ELBO with respect to
/// the guide's first mean, over independent draws at a fixed guide, with `n` particles.
fn gradient_variance(n: usize, reps: usize) -> f64 {
    let (x, y) = logistic::data();
    let mut rng = StdRng::seed_from_u64(99);
    let mut g = Vec::with_capacity(reps);
    for _ in 0..reps {
        let tape = Tape::new();
        let loc = tape.tensor(&ndarray::arr1(&[0.4, 0.8, -1.8]));
        let scale = tape.tensor(&ndarray::Array1::from_elem(D, 0.1));
        let loss = mean_over_particles(n, |_| logistic::loss(&tape, loc, scale, &x, &y, &mut rng))
            .unwrap();
        loss.backward();
        g.push(loc.grad()[0]);
    }
    let m = g.iter().sum::<f64>() / reps as f64;
    g.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (reps - 1) as f64
}

#[test]
fn sixteen_particles_divide_the_gradient_variance_by_about_sixteen() {
    // Independent particles: Var(mean of 16) = Var(one)/16. Each variance is estimated from
    // 400 draws (relative sd ≈ √(2/399) ≈ 7% for near-normal gradients, more for heavier
    // tails), so the ratio's relative sd is ≈ 10–15%; the bounds [8, 32] are a factor of 2
    // either way, beyond 5 of those sds (false-failure rate below 1e-6). Seed fixed.
    let ratio = gradient_variance(1, 400) / gradient_variance(16, 400);
    assert!((8.0..=32.0).contains(&ratio), "variance ratio {ratio}");
}

#[test]
fn bad_settings_and_divergence_are_typed_errors() {
    let sgd = Sgd::new(SgdConfig::default()).unwrap();
    assert!(matches!(
        Svi::new(sgd).with_num_particles(0),
        Err(LossError::InvalidArgument {
            name: "num_particles",
            ..
        })
    ));
    let tape = Tape::new();
    assert!(matches!(
        mean_over_particles(0, |_| Ok(tape.var(1.0))),
        Err(LossError::InvalidArgument {
            name: "num_particles",
            ..
        })
    ));
    // two particles on different tapes
    let other = Tape::new();
    let err = mean_over_particles(2, |i| {
        Ok(if i == 0 {
            tape.var(1.0)
        } else {
            other.var(1.0)
        })
    });
    assert!(matches!(err, Err(LossError::Ad(_))));

    // a loss that turns NaN after some steps: reported with its step, nothing updated
    let mut store = ParamStore::new();
    let w = store.add("w", ndarray::arr1(&[1.0])).unwrap();
    let mut svi = Svi::new(
        Sgd::new(SgdConfig {
            lr: 0.3,
            ..SgdConfig::default()
        })
        .unwrap(),
    );
    let mut err = None;
    for _ in 0..20 {
        // ln w: the gradient step w ← w − 0.3 / w drives w below 0
        match svi.step(&mut store, |_, p| Ok(p[w].ln().sum())) {
            Ok(_) => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let before = store.to_flat();
    match err {
        Some(LossError::NonFiniteLoss { step, value }) => {
            assert_eq!(step, svi.steps());
            assert!(value.is_nan());
        }
        other => panic!("expected NonFiniteLoss, got {other:?}"),
    }
    // the failed step changed nothing; the error repeats
    assert!(svi.step(&mut store, |_, p| Ok(p[w].ln().sum())).is_err());
    assert_eq!(store.to_flat(), before);
    // the closure's own errors pass through
    let e = svi.step(&mut store, |tape, _| {
        Ok(Normal::new(tape.var(0.0), tape.var(-1.0))?.log_prob_sum(tape.var(0.0).as_tensor())?)
    });
    assert!(matches!(e, Err(LossError::Dist(_))));
}

/// `Svi::with_schedule` is the hand-written loop that sets the learning rate from the
/// schedule before each step: the same parameters, bit for bit, after 60 Adam steps on a
/// cosine schedule (with a failed step in the middle, which does not advance the epoch).
#[test]
fn with_schedule_equals_the_hand_written_loop() {
    use infer_ad::optim::{CosineAnnealingLr, LrSchedule};
    let run = |wired: bool| {
        let mut store = ParamStore::new();
        let w = store.add("w", ndarray::arr1(&[1.5, -0.5])).expect("valid");
        let schedule = CosineAnnealingLr::new(0.05, 40, 0.001).expect("valid");
        let adam = Adam::new(AdamConfig::default()).expect("valid");
        let mut svi = if wired {
            Svi::new(adam).with_schedule(schedule)
        } else {
            Svi::new(adam)
        };
        for i in 0..60 {
            if !wired {
                let lr = schedule.lr_at(svi.steps());
                svi.optimizer_mut().set_lr(lr).expect("valid lr");
            }
            let r = svi.step(&mut store, |_, p| {
                let loss = (p[w] - 0.3).square().sum();
                Ok(if i == 20 { loss * f64::NAN } else { loss })
            });
            assert_eq!(r.is_err(), i == 20);
        }
        assert_eq!(svi.steps(), 59);
        store
            .value(w)
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(true), run(false));
}
