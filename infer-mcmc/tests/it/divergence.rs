//! NaN regions, recoverable and fatal model errors, failed initialization, panics.

use infer_mcmc::{FnDensity, LogDensity, LogDensityError, McmcError, Sampler, SamplerSettings};

use super::common::runs;

fn settings() -> SamplerSettings {
    SamplerSettings {
        seed: 5,
        ..runs(2, 300, 300)
    }
}

/// Standard normal in 2-D whose log density is NaN (or an error) where x₀ > 0.5.
fn walled(kind: u8) -> impl LogDensity {
    FnDensity::new(2, move |x: &[f64], g: &mut [f64]| {
        if x[0] > 0.5 {
            return match kind {
                0 => Ok(f64::NAN),
                1 => Ok(f64::NEG_INFINITY),
                _ => Err(LogDensityError::recoverable(
                    "x[1] > 0.5 is outside the support",
                )),
            };
        }
        g[0] = -x[0];
        g[1] = -x[1];
        Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
    })
}

#[test]
fn nan_and_rejected_regions_are_divergences_not_panics() {
    for kind in 0..3u8 {
        let fit = Sampler::new(settings())
            .unwrap()
            .with_inits(vec![vec![0.0, 0.0]])
            .sample(|_| walled(kind))
            .unwrap();
        let x0 = fit.draws_by_name("x[1]").unwrap();
        assert!(
            x0.iter().all(|&v| v <= 0.5),
            "an accepted state entered the NaN region"
        );
        assert!(
            fit.num_divergent() > 0,
            "the wall must show up as divergences"
        );
        for c in &fit.chains {
            assert!(
                c.stats
                    .iter()
                    .all(|s| s.lp.is_finite() && s.energy.is_finite())
            );
        }
    }
}

#[test]
fn fatal_error_stops_the_chain_with_the_error() {
    let err = Sampler::new(settings())
        .unwrap()
        .with_inits(vec![vec![0.0]])
        .sample(|_| {
            FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
                if x[0] > 1.5 {
                    return Err(LogDensityError::fatal(std::io::Error::other(
                        "broken model",
                    )));
                }
                g[0] = -x[0];
                Ok(-0.5 * x[0] * x[0])
            })
        })
        .unwrap_err();
    match err {
        McmcError::Chain { source, .. } => {
            assert!(matches!(
                *source,
                McmcError::LogDensity(LogDensityError::Fatal { .. })
            ));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn no_finite_start_is_a_clear_error() {
    let err = Sampler::new(settings())
        .unwrap()
        .sample(|_| {
            FnDensity::new(3, |_: &[f64], _: &mut [f64]| {
                Err(LogDensityError::recoverable("nowhere defined"))
            })
        })
        .unwrap_err();
    assert!(
        matches!(err, McmcError::NoFiniteInit { tries: 100, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("100 tries"), "{msg}");
}

#[test]
fn bad_user_inits_are_rejected() {
    let sampler = Sampler::new(settings()).unwrap();
    let err = sampler
        .clone()
        .with_inits(vec![vec![0.9, 0.0]])
        .sample(|_| walled(0))
        .unwrap_err();
    assert!(matches!(err, McmcError::NonFiniteStart { .. }), "{err:?}");
    let err = sampler
        .with_inits(vec![vec![0.0]; 3])
        .sample(|_| walled(0))
        .unwrap_err();
    assert!(matches!(
        err,
        McmcError::DimensionMismatch { name: "inits", .. }
    ));
}

#[test]
fn a_panicking_model_is_reported() {
    let err = Sampler::new(settings())
        .unwrap()
        .sample(|chain| {
            FnDensity::new(1, move |x: &[f64], g: &mut [f64]| {
                assert!(chain != 1, "deliberate panic in chain 1");
                g[0] = -x[0];
                Ok(-0.5 * x[0] * x[0])
            })
        })
        .unwrap_err();
    match &err {
        McmcError::ChainPanicked {
            chain: 1, message, ..
        } => assert_eq!(message, "deliberate panic in chain 1"),
        other => panic!("expected chain 1's panic, got {other:?}"),
    }
}
