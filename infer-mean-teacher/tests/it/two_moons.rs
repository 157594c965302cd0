//! The two-moons demonstration with fewer seeds (release mode): mean teacher against
//! supervised-only training with the same Gaussian input-noise augmentation. Same data setup
//! and settings as `examples/two_moons.rs` (moon noise 0.1, 10 labels, 1000 unlabelled).

use crate::moons::{Method, Moons, TrainConfig, mean_sd, run};

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug; run with --release")]
fn mean_teacher_beats_augmented_supervised() {
    let cfg = TrainConfig::default();
    let (mut sup, mut mt) = (Vec::new(), Vec::new());
    for seed in SEEDS {
        let data = Moons::generate(10, 1000, 1000, 0.1, 1000 + seed);
        sup.push(run(&data, Method::SupervisedNoise, &cfg, seed).unwrap());
        mt.push(run(&data, MT_METHOD, &cfg, seed).unwrap());
    }
    let (a, b) = (mean_sd(&sup).0, mean_sd(&mt).0);
    eprintln!("supervised + noise {a:.3}, mean teacher {b:.3}");
    assert!(
        b - a >= MARGIN,
        "mean teacher {b} vs supervised + noise {a}"
    );
}

// Two of the ten reported seeds. Observed: supervised + noise 97.6% / 83.5%, mean teacher with
// the adversarial perturbation 99.7% / 96.2% (mean gain +7.4 points); the assertion is the
// issue's ≥ 5 points.
const SEEDS: [u64; 2] = [0, 1];
const MT_METHOD: Method = Method::MeanTeacherAdversarial;
const MARGIN: f64 = 0.05;
