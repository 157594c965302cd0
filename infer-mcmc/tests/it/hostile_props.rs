//! Hostile input (issue 13), property suites: arbitrary values (NaN, ±∞, ±0, subnormals,
//! ±1e308, 0, 1 << 40, `usize::MAX`) for sampler settings, metrics, dual averaging and warmup
//! windows, asserting the rules: a typed error or a valid result, never a panic, an abort, a
//! hang or a NaN from non-NaN input. The regression tests of the issue are in `hostile.rs`.
//!
//! Property suites and their case counts (the proptest seed is fixed in .cargo/config.toml):
//! `settings_validate_never_panics` 3000, `valid_settings_sample_a_tiny_model` 150,
//! `diagonal_metric_rule` 1500, `dense_metric_rule` 1500, `spd_matrices_are_accepted` 500,
//! `dual_averaging_rule` 3000, `warmup_windows_never_panic` 1500.

use std::panic::catch_unwind;

use infer_mcmc::adapt::{DualAveraging, DualAveragingOptions, WarmupWindows, dual_averaging};
use infer_mcmc::{
    AdaptSettings, Adaptation, Algorithm, McmcError, Metric, MetricKind, Sampler, SamplerSettings,
    models::Gauss,
};
use proptest::prelude::*;

use super::common::{log_cosh, within};

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
        AdaptSettings { gamma, kappa, t0, init_buffer, term_buffer, base_window, ..AdaptSettings::default() }
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
