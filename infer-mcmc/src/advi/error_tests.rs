//! ADVI's typed errors: bad settings, a start where the density is not finite, a fit that
//! diverges or loses every draw, fatal density errors — each an error, never a panic.

use super::*;
use crate::FnDensity;
use crate::models::Gauss;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng() -> StdRng {
    StdRng::seed_from_u64(1)
}

/// The default settings with the start `init`.
fn from(init: &[f64]) -> AdviSettings {
    AdviSettings {
        init: Some(init.to_vec()),
        ..AdviSettings::default()
    }
}

/// The error of ADVI on `density` with the settings `s` (seed 1).
fn fails(density: &mut impl LogDensity, s: &AdviSettings) -> AdviError {
    advi(density, s, &mut rng()).unwrap_err()
}

/// Sets one field of the settings to an invalid value.
type Invalidate = fn(&mut AdviSettings);

#[test]
fn invalid_settings_are_named() {
    let base = AdviSettings::default();
    // each setting set to an invalid value, with the name the error gives
    let cases: [(&str, Invalidate); 11] = [
        ("grad_samples", |s| s.grad_samples = 0),
        ("elbo_samples", |s| s.elbo_samples = 0),
        ("max_iterations", |s| s.max_iterations = 0),
        ("eval_elbo", |s| s.eval_elbo = 0),
        ("output_samples", |s| s.output_samples = 0),
        ("adapt_iter", |s| s.adapt_iter = 0),
        ("eta", |s| s.eta = f64::NAN),
        ("eta", |s| s.eta = 0.0),
        ("tol_rel_obj", |s| s.tol_rel_obj = -0.01),
        ("init_radius", |s| s.init_radius = f64::INFINITY),
        ("init", |s| s.init = Some(vec![0.0, f64::NAN])),
    ];
    for (name, set) in cases {
        let mut s = base.clone();
        set(&mut s);
        match advi(&mut Gauss::new(2), &s, &mut rng()) {
            Err(AdviError::InvalidSetting { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    // adapt_iter is not used without the search
    let s = AdviSettings {
        adapt_iter: 0,
        adapt_engaged: false,
        max_iterations: 200,
        ..base
    };
    assert!(advi(&mut Gauss::new(2), &s, &mut rng()).is_ok());
}

/// log p(x) = ln x − x (a Gamma(2, 1) on x > 0, not on the unconstrained scale): −∞ for
/// x ≤ 0.
fn half_line() -> impl LogDensity {
    FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
        g[0] = 1.0 / x[0] - 1.0;
        Ok(if x[0] > 0.0 {
            x[0].ln() - x[0]
        } else {
            f64::NEG_INFINITY
        })
    })
}

#[test]
fn a_start_where_the_density_is_not_finite() {
    let err = fails(&mut half_line(), &from(&[-1.0]));
    assert!(
        matches!(err, AdviError::NonFiniteInit { logp } if logp == f64::NEG_INFINITY),
        "{err:?}"
    );
    let err = fails(&mut half_line(), &from(&[1.0, 2.0]));
    assert!(
        matches!(
            err,
            AdviError::InitDimension {
                expected: 1,
                found: 2
            }
        ),
        "{err:?}"
    );
    let mut nowhere = FnDensity::new(2, |_: &[f64], _: &mut [f64]| {
        Err(LogDensityError::recoverable("nowhere"))
    });
    let err = fails(&mut nowhere, &AdviSettings::default());
    assert!(
        matches!(err, AdviError::NoFiniteInit { tries: 100, radius } if radius == 2.0),
        "{err:?}"
    );
    let mut empty = FnDensity::new(0, |_: &[f64], _: &mut [f64]| Ok(0.0));
    let err = fails(&mut empty, &AdviSettings::default());
    assert!(matches!(err, AdviError::ZeroDimension), "{err:?}");
}

#[test]
fn a_model_without_parameters_is_an_error() {
    struct Empty;
    impl Model for Empty {
        fn log_density<'t>(
            &self,
            p: &mut crate::model::Params<'t>,
        ) -> Result<infer_ad::Var<'t>, LogDensityError> {
            Ok(p.tape().var(0.0))
        }
    }
    let err = advi_model(Empty, &AdviSettings::default(), &mut rng()).unwrap_err();
    assert!(
        matches!(err, AdviError::Model(McmcError::ZeroDimension)),
        "{err:?}"
    );
}

/// Finite only on |x| < 1e-3: the start (0) is fine, but nearly every draw of the initial
/// guide N(0, 1) falls outside.
fn pinhole() -> impl LogDensity {
    FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
        g[0] = -x[0];
        if x[0].abs() < 1e-3 {
            Ok(-0.5 * x[0] * x[0])
        } else {
            Err(LogDensityError::recoverable("outside the pinhole"))
        }
    })
}

#[test]
fn every_draw_dropped_is_an_error() {
    // P(a draw of N(0, 1) in (−1e-3, 1e-3)) = 8e-4: all 100 draws of the initial ELBO land
    // outside with probability 0.92, and it needs 100 drops in a row.
    let err = fails(&mut pinhole(), &from(&[0.0]));
    assert!(
        matches!(
            err,
            AdviError::DroppedDraws {
                what: "ELBO",
                iteration: 0,
                dropped: 100
            }
        ),
        "{err:?}"
    );
    // without the search the first gradient step fails: 10 × grad_samples draws dropped
    let s = AdviSettings {
        adapt_engaged: false,
        ..from(&[0.0])
    };
    let err = fails(&mut pinhole(), &s);
    assert!(
        matches!(
            err,
            AdviError::DroppedDraws {
                what: "gradient",
                iteration: 1,
                dropped: 10
            }
        ),
        "{err:?}"
    );
}

/// log p = −1e307 (1 + x²/1000): finite at every draw (for |x| < 130), but the sum of 100
/// draws in the ELBO estimate overflows to −∞.
fn overflowing() -> impl LogDensity {
    FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
        g[0] = -2e304 * x[0];
        Ok(-1e307 * (1.0 + x[0] * x[0] / 1000.0))
    })
}

#[test]
fn an_infinite_elbo_is_a_divergence() {
    let s = AdviSettings {
        adapt_engaged: false,
        eta: 0.01,
        ..from(&[0.0])
    };
    let err = fails(&mut overflowing(), &s);
    assert!(
        matches!(err, AdviError::Diverged { what: "ELBO", iteration: 100, value } if value == f64::NEG_INFINITY),
        "{err:?}"
    );
    // with the search: the initial ELBO already overflows
    let err = fails(&mut overflowing(), &from(&[0.0]));
    assert!(
        matches!(
            err,
            AdviError::Diverged {
                what: "ELBO",
                iteration: 0,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_fatal_density_error_is_returned() {
    let mut calls = 0;
    let mut breaks = FnDensity::new(1, move |x: &[f64], g: &mut [f64]| {
        calls += 1;
        if calls > 500 {
            return Err(LogDensityError::fatal(std::io::Error::other("model broke")));
        }
        g[0] = -x[0];
        Ok(-0.5 * x[0] * x[0])
    });
    let err = fails(&mut breaks, &AdviSettings::default());
    match err {
        AdviError::LogDensity(LogDensityError::Fatal { source }) => {
            assert_eq!(source.to_string(), "model broke");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_names_are_errors() {
    let s = AdviSettings {
        max_iterations: 200,
        output_samples: 10,
        ..AdviSettings::default()
    };
    let fit = advi(&mut Gauss::new(2), &s, &mut rng()).unwrap();
    assert!(matches!(fit.draws_of("z"), Err(AdviError::UnknownName { name }) if name == "z"));
}

#[test]
fn a_panicking_model_is_an_error() {
    let mut buggy = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
        let i = x.len(); // a bug: one past the last coordinate
        g.fill(0.0);
        Ok(-x[i] * x[i])
    });
    let err = fails(&mut buggy, &AdviSettings::default());
    match err {
        AdviError::ModelPanicked { message, location } => {
            assert!(message.contains("index out of bounds"), "{message}");
            assert!(location.is_some_and(|l| l.file.ends_with("error_tests.rs")));
        }
        other => panic!("{other:?}"),
    }
}

/// log p = N(x | 0, 1), recorded as `x` and the transformed parameter `t` = √(1.5 − x),
/// which cannot be computed for x > 1.5 (a recoverable error after `x` is written, as a
/// Cholesky factor of a matrix that is not positive definite fails in a transformed
/// parameter).
struct RootOfSlack;

impl LogDensity for RootOfSlack {
    fn dim(&self) -> usize {
        1
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        g[0] = -x[0];
        Ok(-0.5 * x[0] * x[0])
    }
    fn layout(&self) -> crate::layout::Layout {
        use crate::layout::{Block, EntrySpec, Layout};
        Layout::new(vec![
            EntrySpec::parameter("x", &[], 1, None),
            EntrySpec::new("t", &[], Block::TransformedParameter),
        ])
        .expect("valid names")
    }
    fn write_draw(
        &mut self,
        x: &[f64],
        _rng: &mut dyn rand::RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        out[0] = x[0];
        if x[0] > 1.5 {
            return Err(LogDensityError::recoverable("1.5 - x < 0"));
        }
        out[1] = (1.5 - x[0]).sqrt();
        Ok(())
    }
}

/// A guide draw whose transformed parameter cannot be computed does not end the fit: as
/// Stan's sampler output does, its values not computed are NaN and the parameter is kept.
/// The fitted guide is close to N(0, 1), so P(x > 1.5) ≈ 0.067: among 1000 draws some fail
/// (none with probability (1 − 0.048)¹⁰⁰⁰ < 10⁻²¹ even for a guide sd of 0.9) and most do
/// not.
#[test]
fn a_draw_that_cannot_be_recorded_is_nan() {
    let fit = advi(&mut RootOfSlack, &AdviSettings::default(), &mut rng()).unwrap();
    let x = fit.draws_of("x").unwrap();
    let t = fit.draws_of("t").unwrap();
    let mut failed = 0;
    for (&xi, &ti) in x.iter().zip(t.iter()) {
        assert!(xi.is_finite());
        if xi > 1.5 {
            assert!(ti.is_nan(), "x = {xi}, t = {ti}");
            failed += 1;
        } else {
            assert_eq!(ti, (1.5 - xi).sqrt());
        }
    }
    assert!(failed > 0 && failed < 500, "{failed} draws failed");
}
