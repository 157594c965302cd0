//! `Predictive`: posterior-predictive draws from a guide.

use infer_ad::{ParamConstraint, ParamStore, Shape};
use infer_dist::Normal;
use infer_loss::{BoxedDist, LossError, Predictive, PredictiveSamples};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Guide z ~ N(2, 0.5²) (the scale declared positive), observations y ~ N(z, 1), 4 per draw.
fn draws(num: usize, seed: u64) -> Result<PredictiveSamples, LossError> {
    let mut store = ParamStore::new();
    let loc = store.add("loc", ndarray::arr0(2.0))?;
    let sd = store.add_constrained("sd", ndarray::arr0(0.5), ParamConstraint::positive())?;
    let mut rng = StdRng::seed_from_u64(seed);
    Predictive::new(num)?.sample(
        &store,
        |_, p| Ok(vec![Box::new(Normal::new(p[loc], p[sd])?) as BoxedDist]),
        |tape, _, z| {
            let mu = z[0].broadcast_to(Shape::vector(4))?;
            Ok(Box::new(Normal::new(mu, tape.var(1.0))?) as BoxedDist)
        },
        &mut rng,
    )
}

fn mean_var(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count() as f64;
    let m = v.clone().sum::<f64>() / n;
    (m, v.map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0))
}

#[test]
fn draws_follow_the_guide_then_the_observation_family() {
    // z ~ N(2, 0.25), y | z ~ N(z, 1): y has mean 2 and variance 1.25, and two observations
    // of one draw share z, so their covariance is 0.25. With 20 000 draws the sd of the mean
    // of z is 0.0035 and of one y column 0.0079; the tolerances (0.02, 0.04) are 5 sds. The
    // variances' relative sds are √(2/19999) = 1%; tolerance 5%. The covariance's sd is
    // ≈ √(1.25² + 0.25²)/√20000 ≈ 0.009; tolerance 0.045. False-failure rate below 1e-5;
    // seed fixed.
    let n = 20_000;
    let d = draws(n, 1).unwrap();
    assert_eq!(d.latent.len(), 1);
    assert_eq!(d.latent[0].shape(), &[n]);
    assert_eq!(d.observed.shape(), &[n, 4]);
    let (mz, vz) = mean_var(d.latent[0].iter().copied());
    assert!((mz - 2.0).abs() < 0.02, "{mz}");
    assert!((vz / 0.25 - 1.0).abs() < 0.05, "{vz}");
    let col = |j: usize| d.observed.index_axis(ndarray::Axis(1), j).to_owned();
    let (my, vy) = mean_var(col(0).iter().copied());
    assert!((my - 2.0).abs() < 0.04, "{my}");
    assert!((vy / 1.25 - 1.0).abs() < 0.05, "{vy}");
    let (a, b) = (col(1), col(2));
    let (ma, mb) = (a.mean().unwrap(), b.mean().unwrap());
    let cov = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (n - 1) as f64;
    assert!((cov - 0.25).abs() < 0.045, "{cov}");
}

#[test]
fn the_same_seed_gives_the_same_draws() {
    assert_eq!(draws(50, 7).unwrap(), draws(50, 7).unwrap());
    assert_ne!(draws(50, 7).unwrap(), draws(50, 8).unwrap());
}

#[test]
fn inconsistent_guides_and_bad_settings_are_typed_errors() {
    assert!(matches!(
        Predictive::new(0),
        Err(LossError::InvalidArgument {
            name: "num_samples",
            ..
        })
    ));
    let store = ParamStore::new();
    let mut rng = StdRng::seed_from_u64(0);
    // the number of guide sites changes between draws
    let mut calls = 0;
    let err = Predictive::new(3).unwrap().sample(
        &store,
        |tape, _| {
            calls += 1;
            let q = || Box::new(Normal::new(tape.var(0.0), tape.var(1.0)).unwrap()) as BoxedDist;
            Ok(if calls == 1 {
                vec![q()]
            } else {
                vec![q(), q()]
            })
        },
        |tape, _, _| Ok(Box::new(Normal::new(tape.var(0.0), tape.var(1.0))?) as BoxedDist),
        &mut rng,
    );
    assert!(matches!(
        err,
        Err(LossError::LengthMismatch {
            expected: 1,
            got: 2,
            ..
        })
    ));
    // the observation's shape changes between draws
    let mut calls = 0;
    let err = Predictive::new(3).unwrap().sample(
        &store,
        |_, _| Ok(Vec::new()),
        |tape, _, _| {
            calls += 1;
            let loc = tape.constant(&ndarray::Array1::<f64>::zeros(calls));
            Ok(Box::new(Normal::new(loc, tape.var(1.0))?) as BoxedDist)
        },
        &mut rng,
    );
    assert!(matches!(err, Err(LossError::ShapeMismatch { .. })));
    // a closure's error passes through
    let err = Predictive::new(2).unwrap().sample(
        &store,
        |tape, _| {
            Ok(vec![
                Box::new(Normal::new(tape.var(0.0), tape.var(-1.0))?) as BoxedDist
            ])
        },
        |tape, _, _| Ok(Box::new(Normal::new(tape.var(0.0), tape.var(1.0))?) as BoxedDist),
        &mut rng,
    );
    assert!(matches!(err, Err(LossError::Dist(_))));
}
