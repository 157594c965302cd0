//! The two-moons demonstration with fewer seeds (3 instead of 5; release mode): mean teacher
//! against supervised-only training with the same Gaussian input-noise augmentation, and
//! against supervised-only training without augmentation. Same settings as
//! `examples/two_moons.rs`.

#[path = "../../examples/common/moons.rs"]
#[allow(dead_code)]
mod moons;

use moons::{Moons, TrainConfig, mean_sd, train};

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug; run with --release")]
fn mean_teacher_beats_supervised_only() {
    let cfg = TrainConfig {
        steps: 2000,
        lr: 0.01,
        unlabelled_batch: 100,
        input_noise: 0.15,
        consistency: 10.0,
        rampup: 600,
        alpha_max: 0.99,
        alpha_max_late: 0.99,
        lr_rampdown: true,
        kl: false,
    };
    let supervised = TrainConfig {
        consistency: 0.0,
        ..cfg
    };
    let plain = TrainConfig {
        input_noise: 0.0,
        ..supervised
    };
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..3 {
        let data = Moons::generate(20, 2000, 1000, 0.2, 1000 + seed);
        a.push(train(&data, &plain, seed).unwrap().student);
        b.push(train(&data, &supervised, seed).unwrap().student);
        c.push(train(&data, &cfg, seed).unwrap().teacher);
    }
    let (pa, pb, pc) = (mean_sd(&a).0, mean_sd(&b).0, mean_sd(&c).0);
    eprintln!("supervised {pa:.3}, supervised+noise {pb:.3}, mean teacher {pc:.3}");
    // Observed (seeds 0–2): 90.2% / 93.0% / 93.2%. Margins: at least +2 points over
    // supervised-only without augmentation, and not below supervised-only with the same input
    // noise by more than one point. (The ≥ 5-point gain over the augmented baseline that
    // issue 7 asks for is not reached: see BENCHMARKS.md.)
    assert!(pc - pa >= 0.02, "mean teacher {pc} vs supervised {pa}");
    assert!(
        pc >= pb - 0.01,
        "mean teacher {pc} vs supervised + noise {pb}"
    );
}
