//! Hostile input (issue 13): sampler settings, metrics, dual averaging, initialization and
//! `Fit::draws_by_name`. One regression test per defect of the issue, then property suites
//! over arbitrary values (NaN, ±∞, ±0, subnormals, ±1e308, 0, 1 << 40, `usize::MAX`)
//! asserting the rules: a typed error or a valid result, never a panic, an abort, a hang or
//! a NaN from non-NaN input.
//!
//! Property suites and their case counts (the proptest seed is fixed in .cargo/config.toml):
//! `settings_validate_never_panics` 3000, `valid_settings_sample_a_tiny_model` 150,
//! `diagonal_metric_rule` 1500, `dense_metric_rule` 1500, `spd_matrices_are_accepted` 500,
//! `dual_averaging_rule` 3000, `warmup_windows_never_panic` 1500.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use infer_mcmc::adapt::{DualAveraging, DualAveragingOptions, WarmupWindows, dual_averaging};
use infer_mcmc::{
    AdaptSettings, Adaptation, Algorithm, LogDensity, LogDensityError, McmcError, Metric,
    MetricKind, Sampler, SamplerSettings, models::Gauss, random_init,
};
use proptest::prelude::*;
use rand::SeedableRng;

/// Runs `f` on its own thread and waits at most `secs` seconds for it: a hang fails the
/// test (the thread is left behind) instead of blocking the suite.
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(_)) => panic!("{what}: panicked"),
        Err(_) => panic!("{what}: no answer within {secs} s (hang)"),
    }
}

/// log p = −ln cosh x per coordinate (written stably): finite with a finite gradient at
/// every finite point, so any initial radius finds a start.
#[derive(Clone, Copy, Debug)]
struct LogCosh(usize);

impl LogDensity for LogCosh {
    fn dim(&self) -> usize {
        self.0
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        let mut lp = 0.0;
        for (xi, gi) in x.iter().zip(g.iter_mut()) {
            let a = xi.abs();
            // ln cosh x = |x| + ln(1 + e^{−2|x|}) − ln 2
            lp -= a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2;
            *gi = -xi.tanh();
        }
        Ok(lp)
    }
}

fn log_cosh(dim: usize) -> LogCosh {
    LogCosh(dim)
}

fn tiny() -> SamplerSettings {
    SamplerSettings {
        num_chains: 1,
        num_warmup: 0,
        num_samples: 2,
        ..SamplerSettings::default()
    }
}

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
    for (field, a) in [
        (
            "base_window",
            AdaptSettings {
                base_window: 0,
                ..AdaptSettings::default()
            },
        ),
        (
            "gamma",
            AdaptSettings {
                gamma: f64::NAN,
                ..AdaptSettings::default()
            },
        ),
        (
            "kappa",
            AdaptSettings {
                kappa: f64::INFINITY,
                ..AdaptSettings::default()
            },
        ),
        (
            "t0",
            AdaptSettings {
                t0: -1.0,
                ..AdaptSettings::default()
            },
        ),
    ] {
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
    let fit = Sampler::new(settings)
        .unwrap()
        .sample(|_| infer_mcmc::models::EightSchools::classic())
        .unwrap();
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

// ----------------------------------------------------------------------------------------
// Property suites.

/// Floats with every hostile class well represented.
fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            1e308,
            -1e308,
            f64::MAX,
            f64::MIN,
            1.0,
            -1.0,
            0.5,
            1e-300,
        ]),
        2 => -10.0..10.0f64,
        1 => any::<f64>(),
    ]
}

fn hostile_usize() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => prop::sample::select(vec![0, 1, 2, 3, 7, 1 << 32, 1 << 40, usize::MAX / 2, usize::MAX - 1, usize::MAX]),
        2 => 0..64usize,
        1 => any::<usize>(),
    ]
}

prop_compose! {
    fn hostile_adapt()(
        gamma in hostile_f64(), kappa in hostile_f64(), t0 in hostile_f64(),
        init_buffer in hostile_usize(), term_buffer in hostile_usize(), base_window in hostile_usize(),
    ) -> AdaptSettings {
        AdaptSettings { gamma, kappa, t0, init_buffer, term_buffer, base_window }
    }
}

prop_compose! {
    fn hostile_settings()(
        counts in prop::array::uniform8(hostile_usize()),
        floats in prop::array::uniform4(hostile_f64()),
        seed in any::<u64>(),
        dense in any::<bool>(),
        hmc in any::<bool>(),
        save_warmup in any::<bool>(),
        init_radius in hostile_f64(),
        adapt in hostile_adapt(),
        fisher in any::<bool>(),
    ) -> SamplerSettings {
        SamplerSettings {
            num_warmup: counts[0],
            num_samples: counts[1],
            num_chains: counts[2],
            num_threads: counts[3],
            seed,
            algorithm: if hmc { Algorithm::StaticHmc { num_steps: counts[4] } } else { Algorithm::Nuts },
            max_depth: counts[5],
            max_delta_h: floats[0],
            target_accept: floats[1],
            metric: if dense { MetricKind::Dense } else { MetricKind::Diagonal },
            initial_step_size: floats[2],
            thin: counts[6],
            save_warmup,
            init_radius,
            max_init_tries: counts[7],
            adapt,
            adaptation: if fisher { Adaptation::FisherDiagonal } else { Adaptation::Stan },
            init: infer_mcmc::InitStrategy::Random,
        }
    }
}

/// The field names `validate` may report.
const FIELDS: [&str; 17] = [
    "num_chains",
    "thin",
    "num_samples",
    "num_warmup",
    "max_init_tries",
    "init_radius",
    "initial_step_size",
    "target_accept",
    "max_depth",
    "max_delta_h",
    "gamma",
    "kappa",
    "t0",
    "base_window",
    "init_buffer",
    "delta",
    "num_steps",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any settings: `validate` returns Ok or an `InvalidSetting` naming a real field, never
    /// panics; Ok implies the documented domain.
    #[test]
    fn settings_validate_never_panics(s in hostile_settings()) {
        let r = catch_unwind(|| s.validate());
        prop_assert!(r.is_ok(), "validate panicked on {s:?}");
        match r.unwrap() {
            Ok(()) => {
                prop_assert!(s.num_chains >= 1 && s.thin >= 1 && s.max_init_tries >= 1);
                prop_assert!(s.init_radius.is_finite() && s.init_radius >= 0.0);
                prop_assert!((10.0 * s.initial_step_size).is_finite() && s.initial_step_size > 0.0);
                prop_assert!(s.target_accept > 0.0 && s.target_accept < 1.0);
                prop_assert!(s.num_warmup.checked_add(s.num_samples).is_some());
                prop_assert!(s.adapt.gamma > 0.0 && s.adapt.gamma.is_finite());
                prop_assert!(s.adapt.kappa > 0.0 && s.adapt.kappa <= 1.0);
                prop_assert!(s.adapt.t0 >= 0.0 && s.adapt.t0.is_finite());
                prop_assert!(s.max_delta_h > 0.0);
                prop_assert!((1..=30).contains(&s.max_depth));
                prop_assert!(Sampler::new(s).is_ok());
            }
            Err(McmcError::InvalidSetting { name, .. }) => {
                prop_assert!(FIELDS.contains(&name), "unknown field {name}");
                prop_assert!(Sampler::new(s).is_err());
            }
            Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
        }
    }
}

prop_compose! {
    /// Hostile settings whose valid members are cheap to run: few iterations and chains,
    /// trees of depth ≤ 8, ≤ 40 static steps, ≤ 20 initialization tries (every other field
    /// as hostile as above).
    fn runnable_settings()(
        s in hostile_settings(),
        num_warmup in prop::sample::select(vec![0usize, 1, 2, 19, 20, 30]),
        num_samples in prop::sample::select(vec![0usize, 1, 2, 5]),
        num_chains in prop::sample::select(vec![0usize, 1, 2]),
        max_depth in 0usize..=8,
        num_steps in 0usize..=40,
        max_init_tries in 0usize..=20,
    ) -> SamplerSettings {
        SamplerSettings {
            num_warmup,
            num_samples,
            num_chains,
            max_depth,
            max_init_tries,
            algorithm: match s.algorithm {
                Algorithm::StaticHmc { .. } => Algorithm::StaticHmc { num_steps },
                a => a,
            },
            ..s
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Valid settings sample a tiny model quickly (time bound 20 s per case) and record
    /// finite draws; invalid ones are refused by `Sampler::new`. Two models: a standard
    /// normal (log p = −∞ far out, so wide inits retry) and −ln cosh (finite everywhere).
    #[test]
    fn valid_settings_sample_a_tiny_model(s in runnable_settings(), cosh in any::<bool>()) {
        let result = within(20, "sampling", move || {
            let sampler = Sampler::new(s)?;
            if cosh {
                sampler.sample(|_| log_cosh(2))
            } else {
                sampler.sample(|_| Gauss::new(2))
            }
        });
        match result {
            Ok(fit) => {
                prop_assert!(s.validate().is_ok());
                prop_assert_eq!(fit.num_chains(), s.num_chains);
                for c in &fit.chains {
                    prop_assert_eq!(c.draws.nrows(), s.num_samples.div_ceil(s.thin));
                    prop_assert!(c.draws.iter().all(|x| x.is_finite()), "non-finite draw");
                    prop_assert!(c.stats.iter().all(|st| st.lp.is_finite() && !st.accept_stat.is_nan()));
                    prop_assert!(c.step_size.is_finite() && c.step_size > 0.0);
                }
            }
            Err(McmcError::ChainPanicked { .. }) => prop_assert!(false, "a chain panicked on {s:?}"),
            Err(McmcError::InvalidSetting { .. }) => prop_assert!(s.validate().is_err()),
            // Typed run-time failures (no finite start within the tries, a step-size search
            // that left its range, …) are allowed for valid settings.
            Err(_) => prop_assert!(s.validate().is_ok()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// A diagonal metric is accepted exactly when every element is finite and > 0.
    #[test]
    fn diagonal_metric_rule(v in prop::collection::vec(hostile_f64(), 0..6)) {
        let ok = v.iter().all(|x| *x > 0.0 && x.is_finite());
        match catch_unwind(|| Metric::diagonal(v.clone())) {
            Err(_) => prop_assert!(false, "panicked on {v:?}"),
            Ok(Ok(m)) => {
                prop_assert!(ok);
                prop_assert_eq!(m.inverse_diagonal(), v);
            }
            Ok(Err(McmcError::InvalidMetric { row, col, value, .. })) => {
                prop_assert!(!ok);
                prop_assert_eq!(row, col);
                prop_assert!(value.to_bits() == v[row].to_bits());
                prop_assert!(v[..row].iter().all(|x| *x > 0.0 && x.is_finite()));
            }
            Ok(Err(e)) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// Any dense input: no panic; Ok only for a finite, symmetric (to the stated tolerance),
    /// positive-definite matrix, stored exactly symmetric.
    #[test]
    fn dense_metric_rule(
        dim in prop_oneof![4 => 0usize..4, 1 => prop::sample::select(vec![1usize << 32, usize::MAX])],
        entries in prop::collection::vec(hostile_f64(), 0..17),
        mirror in any::<bool>(),
    ) {
        let mut a = entries;
        let n = dim.min(4);
        if mirror && a.len() == n * n {
            for i in 0..n {
                for j in 0..i {
                    a[j * n + i] = a[i * n + j];
                }
            }
        }
        let input = a.clone();
        match catch_unwind(move || Metric::dense(input, dim)) {
            Err(_) => prop_assert!(false, "panicked on {a:?}, dim {dim}"),
            Ok(Ok(m)) => {
                prop_assert_eq!(a.len(), dim * dim);
                let b = m.inverse_matrix();
                for i in 0..dim {
                    prop_assert!(b[i * dim + i] > 0.0);
                    for j in 0..dim {
                        prop_assert!(b[i * dim + j].is_finite());
                        prop_assert_eq!(b[i * dim + j].to_bits(), b[j * dim + i].to_bits());
                        let (x, y) = (a[i * dim + j], a[j * dim + i]);
                        let scale = x.abs().max(y.abs())
                            .max(a[i * dim + i].sqrt() * a[j * dim + j].sqrt());
                        prop_assert!((x - y).abs() <= 1e-10 * scale);
                    }
                }
            }
            Ok(Err(
                McmcError::InvalidMetric { .. }
                | McmcError::NotPositiveDefinite { .. }
                | McmcError::DimensionMismatch { .. }
                | McmcError::InvalidSetting { name: "dim", .. },
            )) => {}
            Ok(Err(e)) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// Symmetric positive-definite matrices B Bᵀ + I are accepted (also when the upper
    /// triangle carries a rounding-size asymmetry), and momenta drawn with them are finite.
    #[test]
    fn spd_matrices_are_accepted(
        n in 1usize..5,
        b in prop::collection::vec(-3.0..3.0f64, 16),
        wobble in prop::collection::vec(-1.0..1.0f64, 16),
        scale in prop::sample::select(vec![1e-150, 1e-8, 1.0, 1e8, 1e150]),
    ) {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let s: f64 = (0..n).map(|k| b[i * 4 + k] * b[j * 4 + k]).sum();
                a[i * n + j] = scale * (s + if i == j { 1.0 } else { 0.0 });
            }
        }
        for i in 0..n {
            for j in i + 1..n {
                a[i * n + j] *= 1.0 + 1e-13 * wobble[i * 4 + j];
            }
        }
        let m = Metric::dense(a, n);
        prop_assert!(m.is_ok(), "{m:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// `dual_averaging`: Ok with a finite positive ε and ε̄ and a finite H̄, or a typed error;
    /// always an error when an argument is NaN.
    #[test]
    fn dual_averaging_rule(
        accept in hostile_f64(),
        m in hostile_usize(),
        eps0 in hostile_f64(),
        eps_bar in hostile_f64(),
        h_bar in hostile_f64(),
        delta in prop_oneof![Just(0.8), hostile_f64()],
        gamma in prop_oneof![Just(0.05), hostile_f64()],
        t0 in prop_oneof![Just(10.0), hostile_f64()],
        kappa in prop_oneof![Just(0.75), hostile_f64()],
    ) {
        let o = DualAveragingOptions { delta, gamma, t0, kappa };
        let any_nan = [accept, eps0, eps_bar, h_bar, delta, gamma, t0, kappa].iter().any(|x| x.is_nan());
        match catch_unwind(|| dual_averaging(accept, m, eps0, eps_bar, h_bar, o)) {
            Err(_) => prop_assert!(false, "panicked"),
            Ok(Ok((e, eb, hb))) => {
                prop_assert!(!any_nan);
                prop_assert!(e > 0.0 && e.is_finite() && eb > 0.0 && eb.is_finite() && hb.is_finite());
            }
            Ok(Err(McmcError::InvalidSetting { .. })) => {}
            Ok(Err(e)) => prop_assert!(false, "unexpected {e:?}"),
        }
        // The stateful form: `new` validates; `update` with a valid statistic stays a number.
        if let Ok(mut da) = DualAveraging::new(o, eps0) {
            prop_assert!(!any_nan || accept.is_nan() || eps_bar.is_nan() || h_bar.is_nan());
            if (0.0..=1.0).contains(&accept) {
                let e = da.update(accept);
                prop_assert!(!e.is_nan());
            }
        }
    }

    /// The warmup schedule never panics (overflowing buffers included) and its windows lie
    /// inside the warmup, in order.
    #[test]
    fn warmup_windows_never_panic(
        num_warmup in prop_oneof![0usize..300, prop::sample::select(vec![1000usize, 5000])],
        init in hostile_usize(),
        term in hostile_usize(),
        base in hostile_usize(),
    ) {
        let w = catch_unwind(|| WarmupWindows::new(num_warmup, init, term, base).windows());
        prop_assert!(w.is_ok(), "panicked");
        let w = w.unwrap();
        let mut last_end = 0;
        for (a, b) in w {
            prop_assert!(a < b && b <= num_warmup && a >= last_end, "window ({a}, {b}) of {num_warmup}");
            last_end = b;
        }
    }
}
