//! Hostile input (issue 13): sampler settings, metrics, dual averaging, initialization and
//! `Fit::draws_by_name`. One regression test per defect of the issue; the property suites
//! over arbitrary values are in `hostile_props.rs`.

use infer_mcmc::adapt::{DualAveragingOptions, WarmupWindows, dual_averaging};
use infer_mcmc::{
    AdaptSettings, McmcError, Metric, Sampler, SamplerSettings, models::Gauss, random_init,
};
use rand::SeedableRng;

use super::common::{fit_each, log_cosh, tiny, within};

// ----------------------------------------------------------------------------------------
// Regression tests, one per defect of the issue.

/// Issue 13: `num_samples: 1 << 40` aborted the process on allocation.
#[test]
fn num_samples_2_pow_40_is_a_typed_error_not_an_abort() {
    let settings = SamplerSettings {
        num_samples: 1 << 40,
        ..tiny()
    };
    let result = within(60, "num_samples = 1 << 40", move || {
        Sampler::new(settings)?.sample(|_| Gauss::new(4))
    });
    match result {
        Err(McmcError::OutputTooLarge { name, value }) => {
            assert_eq!((name, value), ("num_samples", 1 << 40));
        }
        other => panic!("expected OutputTooLarge, got {other:?}"),
    }
}

/// Issue 13: `num_samples: usize::MAX` panicked inside the chain (capacity overflow).
#[test]
fn num_samples_usize_max_is_rejected_by_validate() {
    for num_warmup in [0, 1000] {
        let s = SamplerSettings {
            num_samples: usize::MAX,
            num_warmup,
            ..tiny()
        };
        assert!(
            matches!(
                s.validate(),
                Err(McmcError::InvalidSetting {
                    name: "num_samples",
                    ..
                })
            ),
            "{:?}",
            s.validate()
        );
    }
    let s = SamplerSettings {
        num_warmup: usize::MAX,
        save_warmup: true,
        num_samples: 0,
        ..tiny()
    };
    assert!(matches!(
        s.validate(),
        Err(McmcError::InvalidSetting {
            name: "num_warmup",
            ..
        })
    ));
    let s = SamplerSettings {
        num_chains: usize::MAX,
        ..tiny()
    };
    assert!(matches!(
        s.validate(),
        Err(McmcError::InvalidSetting {
            name: "num_chains",
            ..
        })
    ));
    // Thinning makes a huge request small: 2 draws kept of usize::MAX − 1 iterations is a
    // valid request (only the output must fit).
    let s = SamplerSettings {
        num_samples: usize::MAX / 2,
        thin: usize::MAX / 4,
        ..tiny()
    };
    assert!(s.validate().is_ok());
}

/// Issue 13: `init_radius = 1e308` passed validation and then panicked in `random_init`
/// (the range −1e308..1e308 has an infinite width).
#[test]
fn init_radius_1e308_samples_without_panic() {
    let mut model = log_cosh(3);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let pos = random_init(&mut model, 1e308, 10, 0, &mut rng).expect("finite everywhere");
    assert!(pos.q().iter().all(|q| q.abs() <= 1e308 && q.is_finite()));
    // Spread over the whole box, not stuck near 0 or at the edges.
    assert!(pos.q().iter().any(|q| q.abs() > 1e300));
    // One coordinate: three near f64::MAX would make log p itself overflow.
    let mut one = log_cosh(1);
    for radius in [f64::MAX, 5e-324] {
        let pos = random_init(&mut one, radius, 1, 0, &mut rng).unwrap();
        assert!(pos.q().iter().all(|q| q.abs() <= radius));
    }
    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        assert!(matches!(
            random_init(&mut model, bad, 1, 0, &mut rng),
            Err(McmcError::InvalidSetting {
                name: "init_radius",
                ..
            })
        ));
    }
    // Without warmup the chain starts out there and samples.
    let settings = SamplerSettings {
        init_radius: 1e308,
        num_samples: 5,
        ..tiny()
    };
    assert!(settings.validate().is_ok());
    let fit = within(60, "init_radius = 1e308", move || {
        Sampler::new(settings)?.sample(|_| log_cosh(2))
    })
    .expect("a finite-everywhere model samples from any start");
    assert!(fit.chains[0].draws.iter().all(|x| x.is_finite()));
    // With warmup, Stan's step-size search finds log p linear out there (acceptance 1 at
    // every step size): a typed error, not a panic.
    let settings = SamplerSettings {
        num_warmup: 20,
        ..settings
    };
    let result = within(60, "init_radius = 1e308 with warmup", move || {
        Sampler::new(settings)?.sample(|_| log_cosh(2))
    });
    assert!(
        !matches!(result, Err(McmcError::ChainPanicked { .. })),
        "{result:?}"
    );
}

/// Issue 13: `Metric::dense` read only the lower triangle (`[1, NaN, 0, 1]` and asymmetric
/// matrices were accepted) and `Metric::dense(vec![], 1 << 32)` panicked.
#[test]
fn dense_metric_reads_every_entry() {
    match Metric::dense(vec![1.0, f64::NAN, 0.0, 1.0], 2) {
        Err(McmcError::InvalidMetric {
            row, col, value, ..
        }) => {
            assert_eq!((row, col), (0, 1));
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }
    match Metric::dense(vec![1.0, 0.5, 0.0, 1.0], 2) {
        Err(McmcError::InvalidMetric {
            row, col, value, ..
        }) => {
            assert_eq!((row, col, value), (1, 0, 0.0));
        }
        other => panic!("{other:?}"),
    }
    let dim = if usize::BITS == 64 { 1 << 32 } else { 1 << 16 };
    assert!(matches!(
        Metric::dense(vec![], dim),
        Err(McmcError::InvalidSetting { name: "dim", .. })
    ));
    // Within the stated tolerance: accepted and made exactly symmetric.
    let eps = 0.5 * 1e-10 * 0.5;
    let m = Metric::dense(vec![2.0, 0.5 + eps, 0.5, 1.0], 2).unwrap();
    let a = m.inverse_matrix();
    assert_eq!(a[1], a[2]);
    // Symmetric but indefinite.
    assert!(matches!(
        Metric::dense(vec![1.0, 2.0, 2.0, 1.0], 2),
        Err(McmcError::NotPositiveDefinite { index: 1, .. })
    ));
    // The diagonal names the element.
    assert!(matches!(
        Metric::diagonal(vec![1.0, 2.0, f64::INFINITY]),
        Err(McmcError::InvalidMetric { row: 2, col: 2, .. })
    ));
}

/// Issue 13: `dual_averaging` with a NaN acceptance probability, a NaN ε̄, ε₀ = 0 or γ = 0
/// returned NaN or 0 silently.
#[test]
fn dual_averaging_rejects_bad_arguments_by_name() {
    let o = DualAveragingOptions::default();
    let name = |r: Result<(f64, f64, f64), McmcError>| match r {
        Err(McmcError::InvalidSetting { name, .. }) => name,
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(
        name(dual_averaging(f64::NAN, 1, 0.1, 1.0, 0.0, o)),
        "accept_prob"
    );
    assert_eq!(
        name(dual_averaging(0.5, 1, 0.1, f64::NAN, 0.0, o)),
        "epsilon_bar"
    );
    assert_eq!(
        name(dual_averaging(0.5, 1, 0.0, 1.0, 0.0, o)),
        "initial_epsilon"
    );
    let g0 = DualAveragingOptions { gamma: 0.0, ..o };
    assert_eq!(name(dual_averaging(0.5, 1, 0.1, 1.0, 0.0, g0)), "gamma");
    assert_eq!(name(dual_averaging(0.5, 1, 0.1, 1.0, f64::NAN, o)), "h_bar");
    // Valid but extreme: γ = 1e-300 drives ln ε to −∞; an error naming the output.
    let tiny_gamma = DualAveragingOptions { gamma: 1e-300, ..o };
    assert_eq!(
        name(dual_averaging(0.1, 5, 0.1, 1.0, 0.0, tiny_gamma)),
        "epsilon"
    );
    // The documented first step, computed by hand: H̄₁ = (0.8 − 0.5)/11,
    // ln ε₁ = ln(10 · 0.1) − √1/0.05 · H̄₁, and ε̄₁ = ε₁ (weight 1^(−κ) = 1).
    let (eps, eps_bar, h_bar) = dual_averaging(0.5, 1, 0.1, 1.0, 0.0, o).unwrap();
    let want_h = 0.3 / 11.0;
    assert!((h_bar - want_h).abs() < 1e-16);
    assert!((eps - (-20.0 * want_h).exp()).abs() < 1e-15);
    assert_eq!(eps, eps_bar);
}

/// Issue 13: `AdaptSettings { init_buffer: usize::MAX, .. }` passed `validate()` (and the
/// window schedule then overflowed).
/// Sets one field of adaptation settings to an invalid value.
type Invalidate = fn(&mut AdaptSettings);

#[test]
fn adapt_settings_overflow_is_an_error() {
    let a = AdaptSettings {
        init_buffer: usize::MAX,
        ..AdaptSettings::default()
    };
    assert!(matches!(
        a.validate(),
        Err(McmcError::InvalidSetting {
            name: "init_buffer",
            ..
        })
    ));
    let s = SamplerSettings { adapt: a, ..tiny() };
    assert!(matches!(
        s.validate(),
        Err(McmcError::InvalidSetting {
            name: "init_buffer",
            ..
        })
    ));
    let cases: [(&str, Invalidate); 4] = [
        ("base_window", |a| a.base_window = 0),
        ("gamma", |a| a.gamma = f64::NAN),
        ("kappa", |a| a.kappa = f64::INFINITY),
        ("t0", |a| a.t0 = -1.0),
    ];
    for (field, set) in cases {
        let mut a = AdaptSettings::default();
        set(&mut a);
        match a.validate() {
            Err(McmcError::InvalidSetting { name, .. }) => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Large buffers that do not overflow are valid (Stan's 15% / 75% / 10% fallback).
    let big = AdaptSettings {
        init_buffer: usize::MAX / 4,
        term_buffer: usize::MAX / 4,
        ..AdaptSettings::default()
    };
    assert!(big.validate().is_ok());
    assert_eq!(
        WarmupWindows::new(100, big.init_buffer, big.term_buffer, 25).windows(),
        vec![(15, 90)]
    );
    // With fewer than 20 warmup iterations the buffers are kept: no overflow either.
    assert!(
        WarmupWindows::new(10, usize::MAX, usize::MAX, usize::MAX)
            .windows()
            .is_empty()
    );
}

/// Issue 13: `Fit::draws_by_name("eta[0]")` returned `None` silently (names are 1-based).
#[test]
fn draws_by_name_names_the_valid_range() {
    let settings = SamplerSettings {
        num_samples: 4,
        num_warmup: 10,
        ..tiny()
    };
    let fit = fit_each(settings, |_| infer_mcmc::models::EightSchools::classic());
    assert_eq!(fit.draws_by_name("eta[8]").unwrap().dim(), (1, 4));
    for bad in ["eta[0]", "eta[9]"] {
        match fit.draws_by_name(bad) {
            Err(e @ McmcError::UnknownName { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("eta[1] ..= eta[8]") && msg.contains("1-based"),
                    "{msg}"
                );
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    match fit.draws_by_name("omega") {
        Err(e @ McmcError::UnknownName { .. }) => {
            assert!(e.to_string().contains("tau"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}
