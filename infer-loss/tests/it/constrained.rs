//! The seed's documented guide pattern — a raw parameter as a Normal scale — against the
//! same guide with the scale declared positive (`ParamStore::add_constrained`), on the
//! logistic regression of `logistic.rs` (N = 2000, so the posterior sds are ≈ 0.06–0.09),
//! Adam at lr 0.05, scales initialized at 0.1, one reparameterized draw per step.
//!
//! Measured (seeds 0–9 of the draws): the raw scale leaves its domain — `Normal::new`
//! rejects a scale ≤ 0 — at step 3 (after three Adam steps, each moving it by ≈ lr = 0.05)
//! for 5 seeds of 10, and within 2000 steps for 9 of 10 (with scales initialized at 1.0
//! instead: 8 of 10 within 2000 steps, since Adam's steps of ≈ 0.05 are as large as the
//! posterior sd). The positive-constrained scale never fails.
//!
//! Tolerances of the fitted guide against the reference of `logistic::reference` (mode
//! and mean-field sds 1/√H_jj): |mean − mode| ≤ 0.3 reference sd, |sd/reference sd − 1| ≤
//! 0.15. The fit is the Polyak average of the iterates over the second half of 3000 steps
//! at constant lr 0.05. Over seeds 0–19 the worst errors were 0.115 sd (mean) and 5.8%
//! (sd), with softplus and with exp alike (they include the difference between the
//! mean-field optimum and the Gaussian reference), so a correct implementation fails these
//! bounds for well under 1 seed in 20; the seed is fixed, so the outcome is deterministic.

use super::logistic::{self, D};
use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{ParamConstraint, ParamStore, PositiveMap, Tape};
use infer_dist::DistError;
use infer_loss::{LossError, Svi};
use rand::SeedableRng;
use rand::rngs::StdRng;

const LR: f64 = 0.05;
const INIT_SCALE: f64 = 0.1;
/// A seed for which the raw pattern fails at step 3.
const SEED: u64 = 2;

#[test]
fn raw_parameter_as_normal_scale_fails_at_step_3() {
    let (x, y) = logistic::data();
    let mut store = ParamStore::new();
    let loc = store.add("loc", ndarray::Array1::zeros(D)).unwrap();
    let scale = store
        .add("scale", ndarray::Array1::from_elem(D, INIT_SCALE))
        .unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: LR,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut tape = Tape::new();
    let mut failure = None;
    for step in 0..100 {
        tape.clear();
        let b = store.bind(&tape);
        match logistic::loss(&tape, b[loc], b[scale], &x, &y, &mut rng) {
            Ok(loss) => loss.backward(),
            Err(e) => {
                failure = Some((step, e));
                break;
            }
        }
        store.zero_grads();
        store.accumulate_grads(&b).unwrap();
        adam.step(&mut store).unwrap();
    }
    let (step, err) = failure.expect("the raw scale leaves its domain");
    assert_eq!(step, 3);
    match err {
        LossError::Dist(DistError::InvalidParameter { value, .. }) => assert!(value <= 0.0),
        other => panic!("expected Normal's invalid scale, got {other:?}"),
    }
    assert!(store.value(scale).iter().any(|&s| s <= 0.0));
}

/// Fits the guide with the scale declared positive through `map`; returns the averaged
/// (means, sds).
fn fit_constrained(map: PositiveMap) -> ([f64; D], [f64; D]) {
    let (x, y) = logistic::data();
    let mut store = ParamStore::new();
    let loc = store.add("loc", ndarray::Array1::zeros(D)).unwrap();
    let scale = store
        .add_constrained(
            "scale",
            ndarray::Array1::from_elem(D, INIT_SCALE),
            ParamConstraint::GreaterThan { lower: 0.0, map },
        )
        .unwrap();
    let mut svi = Svi::new(
        Adam::new(AdamConfig {
            lr: LR,
            ..AdamConfig::default()
        })
        .unwrap(),
    );
    let mut rng = StdRng::seed_from_u64(SEED);
    let steps = 3000;
    let (mut mean, mut sd) = ([0.0; D], [0.0; D]);
    for t in 0..steps {
        svi.step(&mut store, |tape, p| {
            logistic::loss(tape, p[loc], p[scale], &x, &y, &mut rng)
        })
        .unwrap();
        if t >= steps / 2 {
            let (m, s) = (store.value(loc), store.constrained_value(scale));
            for j in 0..D {
                mean[j] += m[j] / (steps / 2) as f64;
                sd[j] += s[j] / (steps / 2) as f64;
            }
        }
    }
    (mean, sd)
}

#[test]
fn positive_constrained_scale_converges_on_the_same_fit() {
    let (x, y) = logistic::data();
    let (mode, ref_sd) = logistic::reference(&x, &y);
    for map in [PositiveMap::Softplus, PositiveMap::Exp] {
        let (mean, sd) = fit_constrained(map);
        for j in 0..D {
            let em = (mean[j] - mode[j]).abs() / ref_sd[j];
            let es = (sd[j] / ref_sd[j] - 1.0).abs();
            assert!(em <= 0.3, "{map:?} w[{j}]: mean {} vs {}", mean[j], mode[j]);
            assert!(es <= 0.15, "{map:?} w[{j}]: sd {} vs {}", sd[j], ref_sd[j]);
        }
    }
}
