//! Hostile input for every loss: lists of any lengths, NaN and extreme values, sites on
//! different tapes, invalid scalings, and `hard_negative_mining` at its edges. The rule: a
//! typed error or a value, never a panic; a NaN loss only from a NaN input.

use infer_ad::{AdError, Tape, Tensor, Var};
use infer_dist::{Cauchy, Distribution, Normal};
use infer_loss::{
    Estimator, LossError, SubSample, ViOptions, analytical_kl_divergence_loss, elbo_entropy_loss,
    elbo_loss, elbo_path_derivative_loss, elbo_rb_score_function, elbo_score_function,
    elbo_score_function_loss, hard_negative_mining, log_prob, log_prob_loss,
    log_prob_volume_adjustment, negative_log_prob, negative_log_prob_loss, prior_loss,
    vi_analytical_kl_loss, vi_loss, vi_loss_with, vi_regularization, volume_adjustment,
};
use ndarray::Array2;
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn c(tape: &Tape, x: f64) -> Tensor<'_> {
    tape.constant(&ndarray::arr0(x))
}

/// Runs `f`, failing the test with `what` if it panics.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("{what} panicked"),
    }
}

/// Whether `r` is the different-tapes error, directly or through a distribution.
fn is_different_tapes(r: &Result<Var<'_>, LossError>) -> bool {
    match r {
        Err(LossError::Ad(AdError::DifferentTapes { .. })) => true,
        Err(LossError::Dist(e)) => e.to_string().contains("different tapes"),
        _ => false,
    }
}

type SiteFn = for<'t> fn(
    &dyn Distribution<'t>,
    &dyn Distribution<'t>,
    Tensor<'t>,
) -> Result<Var<'t>, LossError>;

const SITE_FNS: [(&str, SiteFn); 6] = [
    ("elbo_loss", elbo_loss),
    ("prior_loss", prior_loss),
    ("elbo_entropy_loss", elbo_entropy_loss),
    ("elbo_path_derivative_loss", elbo_path_derivative_loss),
    ("elbo_score_function_loss", elbo_score_function_loss),
    (
        "analytical_kl_divergence_loss",
        analytical_kl_divergence_loss,
    ),
];

/// Regression: a site whose p, q and value are not on one tape used to panic inside the
/// operators (or read slots of the wrong tape); now every loss returns `DifferentTapes`.
#[test]
fn site_on_two_tapes_is_a_typed_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let p1 = Normal::new(t1.var(0.0), t1.var(1.0)).unwrap();
    let q1 = Normal::new(t1.var(0.2), t1.var(0.7)).unwrap();
    let q2 = Normal::new(t2.var(0.2), t2.var(0.7)).unwrap();
    let (x1, x2) = (c(&t1, 0.3), c(&t2, 0.3));
    for (name, f) in SITE_FNS {
        // Same-tape calls still work.
        assert!(f(&p1, &q1, x1).is_ok(), "{name} on one tape");
        for (case, p, q, x) in [
            (
                "q on another tape",
                &p1 as &dyn Distribution,
                &q2 as &dyn Distribution,
                x1,
            ),
            ("value on another tape", &p1, &q1, x2),
        ] {
            let r = no_panic(name, || f(p, q, x));
            assert!(is_different_tapes(&r), "{name}, {case}: {r:?}");
        }
    }
    type OneFn = for<'t> fn(&dyn Distribution<'t>, Tensor<'t>) -> Result<Var<'t>, LossError>;
    let single: [(&str, OneFn); 3] = [
        ("log_prob_loss", log_prob_loss),
        ("negative_log_prob_loss", negative_log_prob_loss),
        ("volume_adjustment", volume_adjustment),
    ];
    for (name, f) in single {
        assert!(f(&p1, x1).is_ok(), "{name} on one tape");
        let r = no_panic(name, || f(&p1, x2));
        assert!(is_different_tapes(&r), "{name}: {r:?}");
    }
}

/// Regression: sites that are each consistent but sit on two tapes used to panic in the sum
/// over sites; every list function now returns `DifferentTapes`.
#[test]
fn sites_on_two_tapes_are_a_typed_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let p1 = Normal::new(t1.var(0.0), t1.var(1.0)).unwrap();
    let q1 = Normal::new(t1.var(0.2), t1.var(0.7)).unwrap();
    let p2 = Cauchy::new(t2.var(0.0), t2.var(1.0)).unwrap();
    let q2 = Normal::new(t2.var(0.2), t2.var(0.7)).unwrap();
    let (x1, x2) = (c(&t1, 0.3), c(&t2, -0.4));
    let ps: [&dyn Distribution; 2] = [&p1, &p2];
    let qs: [&dyn Distribution; 2] = [&q1, &q2];
    let xs = [x1, x2];
    type Check<'a, 't> = Box<dyn Fn() -> Result<Var<'t>, LossError> + 'a>;
    let checks: Vec<(&str, Check<'_, '_>)> = vec![
        ("log_prob", Box::new(|| log_prob(&ps, &xs))),
        (
            "negative_log_prob",
            Box::new(|| negative_log_prob(&ps, &xs)),
        ),
        (
            "log_prob_volume_adjustment",
            Box::new(|| log_prob_volume_adjustment(&ps, &xs)),
        ),
        (
            "vi_regularization",
            Box::new(|| vi_regularization(&ps, &qs, &xs, elbo_loss)),
        ),
        (
            "elbo_score_function",
            Box::new(|| elbo_score_function(&ps, &qs, &xs, None)),
        ),
        (
            "vi_loss latent",
            Box::new(|| vi_loss(&ps, &qs, &xs, &[false, false], 1.0)),
        ),
        (
            "vi_loss observed",
            Box::new(|| vi_loss(&ps, &qs, &xs, &[true, true], 1.0)),
        ),
        (
            "vi_loss mixed",
            Box::new(|| vi_loss(&ps, &qs, &xs, &[true, false], 1.0)),
        ),
        (
            "vi_analytical_kl_loss",
            Box::new(|| vi_analytical_kl_loss(&ps, &qs, &xs, &[false, false], 1.0)),
        ),
    ];
    for (name, f) in &checks {
        let r = no_panic(name, f);
        assert!(is_different_tapes(&r), "{name}: {r:?}");
    }
    for estimator in [
        Estimator::Divergence,
        Estimator::AnalyticKl,
        Estimator::ScoreFunction,
    ] {
        let opts = ViOptions {
            estimator,
            ..ViOptions::default()
        };
        let r = no_panic("vi_loss_with", || {
            vi_loss_with(&ps, &qs, &xs, &[false, false], &opts)
        });
        assert!(is_different_tapes(&r), "{estimator:?}: {r:?}");
    }
    // The Rao–Blackwellized estimator: sub-samples on two tapes, and parameters on another.
    let p1s: [&dyn Distribution; 1] = [&p1];
    let q1s: [&dyn Distribution; 1] = [&q1];
    let p2s: [&dyn Distribution; 1] = [&p2];
    let q2s: [&dyn Distribution; 1] = [&q2];
    let (x1s, x2s) = ([x1], [x2]);
    let sub1 = SubSample {
        p_dists: &p1s,
        q_dists: &q1s,
        values: &x1s,
        regularization: None,
    };
    let sub2 = SubSample {
        p_dists: &p2s,
        q_dists: &q2s,
        values: &x2s,
        regularization: None,
    };
    let params1: Vec<Tensor<'_>> = q1
        .params()
        .into_iter()
        .filter_map(|(_, t)| t.as_tensor())
        .collect();
    let params2: Vec<Tensor<'_>> = q2
        .params()
        .into_iter()
        .filter_map(|(_, t)| t.as_tensor())
        .collect();
    assert!(elbo_rb_score_function(&[sub1, sub1, sub1], &params1).is_ok());
    let r = no_panic("rb sub-samples", || {
        elbo_rb_score_function(&[sub1, sub2, sub1], &params1)
    });
    assert!(is_different_tapes(&r), "rb sub-samples: {r:?}");
    let r = no_panic("rb parameters", || {
        elbo_rb_score_function(&[sub1, sub1, sub1], &params2)
    });
    assert!(is_different_tapes(&r), "rb parameters: {r:?}");
}

#[test]
fn invalid_scalings_are_typed_errors() {
    let tape = Tape::new();
    let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0)).unwrap();
    let q = Normal::new(tape.var(0.1), tape.var(0.9)).unwrap();
    let ps: [&dyn Distribution; 1] = [&p];
    let qs: [&dyn Distribution; 1] = [&q];
    let xs = [c(&tape, 0.4)];
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        -5e-324,
        -1e308,
    ] {
        let named = |r: Result<Var<'_>, LossError>, name: &str| {
            matches!(r, Err(LossError::InvalidArgument { name: n, value, .. })
                if n == name && (value.to_bits() == bad.to_bits()))
        };
        assert!(named(vi_loss(&ps, &qs, &xs, &[false], bad), "kl_scaling"));
        assert!(named(
            vi_analytical_kl_loss(&ps, &qs, &xs, &[false], bad),
            "kl_scaling"
        ));
        let opts = ViOptions {
            kl_scaling: bad,
            ..ViOptions::default()
        };
        assert!(named(
            vi_loss_with(&ps, &qs, &xs, &[false], &opts),
            "kl_scaling"
        ));
        if !bad.is_finite() {
            let opts = ViOptions {
                estimator: Estimator::ScoreFunction,
                baseline: bad,
                ..ViOptions::default()
            };
            assert!(named(
                vi_loss_with(&ps, &qs, &xs, &[false], &opts),
                "baseline"
            ));
        }
    }
    // The edges of the valid range are accepted.
    for good in [0.0, 5e-324, 1e308] {
        assert!(vi_loss(&ps, &qs, &xs, &[false], good).is_ok(), "{good}");
    }
}

fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -10.0f64..10.0,
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(5e-324),
        Just(1e308),
        Just(-1e308),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Lists of any lengths: `Ok` exactly when every list has the sites' length and there
    /// is at least one site; otherwise `LengthMismatch` or `Empty`. Never a panic.
    #[test]
    fn list_lengths(np in 0usize..4, nq in 0usize..4, nx in 0usize..4, no in 0usize..4) {
        let tape = Tape::new();
        let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0)).unwrap();
        let q = Normal::new(tape.var(0.1), tape.var(0.9)).unwrap();
        let ps: Vec<&dyn Distribution> = vec![&p; np];
        let qs: Vec<&dyn Distribution> = vec![&q; nq];
        let xs: Vec<Tensor<'_>> = (0..nx).map(|i| c(&tape, i as f64 * 0.1)).collect();
        let obs = vec![false; no];
        let valid = |r: &Result<Var<'_>, LossError>, want_ok: bool| match r {
            Ok(_) => want_ok,
            Err(LossError::LengthMismatch { .. } | LossError::Empty { .. }) => !want_ok,
            Err(_) => false,
        };
        let px = np == nx && np > 0;
        let pqx = px && nq == np;
        let all = pqx && no == np;
        prop_assert!(valid(&no_panic("log_prob", || log_prob(&ps, &xs)), px));
        prop_assert!(valid(&no_panic("negative_log_prob", || negative_log_prob(&ps, &xs)), px));
        prop_assert!(valid(&no_panic("volume", || log_prob_volume_adjustment(&ps, &xs)), px));
        prop_assert!(valid(&no_panic("vi_regularization", || vi_regularization(&ps, &qs, &xs, elbo_loss)), pqx));
        prop_assert!(valid(&no_panic("elbo_score_function", || elbo_score_function(&ps, &qs, &xs, None)), pqx));
        prop_assert!(valid(&no_panic("vi_loss", || vi_loss(&ps, &qs, &xs, &obs, 1.0)), all));
        prop_assert!(valid(&no_panic("vi_analytical_kl_loss", || vi_analytical_kl_loss(&ps, &qs, &xs, &obs, 1.0)), all));
    }

    /// Any values (NaN, ±∞, ±0, subnormal, ±1e308) and any q parameters: every loss returns
    /// a value or a typed error and never panics; backward never panics; a NaN loss comes
    /// only from a NaN input or from a site whose log densities are infinite (−∞ − (−∞),
    /// a value outside what q and p can score); ordinary inputs give a finite loss.
    #[test]
    fn extreme_values_and_parameters(
        v in hostile_f64(),
        loc in hostile_f64(),
        scale in hostile_f64(),
        kl_scaling in prop_oneof![Just(1.0), 0.0f64..1e3, Just(5e-324), Just(1e308)],
    ) {
        let tape = Tape::new();
        let p = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0)).unwrap();
        // An invalid q (e.g. a scale ≤ 0) is the constructor's typed error: nothing to score.
        let Ok(q) = Normal::new(tape.var(loc), tape.var(scale)) else {
            return Ok(());
        };
        let x = c(&tape, v);
        let nan_input = v.is_nan() || loc.is_nan() || scale.is_nan();
        let lp = p.log_prob_sum(x).map(|l| l.value()).unwrap_or(f64::NAN);
        let lq = q.log_prob_sum(x).map(|l| l.value()).unwrap_or(f64::NAN);
        let densities_finite = lp.is_finite() && lq.is_finite();
        let ordinary = [v, loc, scale].iter().all(|z| z.abs() < 1e3) && scale > 1e-3;
        for (name, f) in SITE_FNS {
            let r = no_panic(name, || f(&p, &q, x));
            if let Ok(loss) = r {
                no_panic("backward", || loss.backward());
                let val = loss.value();
                prop_assert!(!val.is_nan() || nan_input || !densities_finite,
                    "{} = NaN at v {}, q N({}, {})", name, v, loc, scale);
                if ordinary {
                    prop_assert!(val.is_finite(), "{} = {} at v {}, q N({}, {})", name, val, v, loc, scale);
                }
            }
        }
        let ps: [&dyn Distribution; 2] = [&p, &p];
        let qs: [&dyn Distribution; 2] = [&q, &q];
        let xs = [x, c(&tape, 0.5)];
        for observed in [[false, false], [true, false], [true, true]] {
            let r = no_panic("vi_loss", || vi_loss(&ps, &qs, &xs, &observed, kl_scaling));
            if let Ok(loss) = r {
                no_panic("backward", || loss.backward());
                prop_assert!(!loss.value().is_nan() || nan_input || !densities_finite);
                if ordinary {
                    prop_assert!(loss.value().is_finite(), "vi_loss {:?} = {}", observed, loss.value());
                }
            }
        }
    }

    /// `hard_negative_mining` over arbitrary losses (±∞ included), class-id labels and
    /// ratios: every positive is kept; exactly ⌈ratio · positives⌉ negatives are kept (all
    /// of them if fewer), and every kept negative's loss is ≥ every dropped negative's.
    #[test]
    fn hard_negative_mining_invariants(
        rows in 1usize..4,
        cols in 1usize..9,
        seed_losses in proptest::collection::vec(
            prop_oneof![-5.0f64..5.0, Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0), Just(-0.0)],
            36,
        ),
        seed_labels in proptest::collection::vec(prop_oneof![Just(0u8), Just(0u8), 1u8..4].prop_map(f64::from), 36),
        ratio in prop_oneof![Just(0.0), Just(0.5), Just(1.0), Just(3.0), 0.0f64..10.0, Just(1e300)],
    ) {
        let losses = Array2::from_shape_fn((rows, cols), |(i, j)| seed_losses[i * cols + j]);
        let labels = Array2::from_shape_fn((rows, cols), |(i, j)| seed_labels[i * cols + j]);
        let mask = no_panic("hard_negative_mining", || {
            hard_negative_mining(losses.view(), labels.view(), ratio)
        }).unwrap();
        for i in 0..rows {
            let pos = (0..cols).filter(|&j| labels[[i, j]] > 0.0).count();
            let negs: Vec<usize> = (0..cols).filter(|&j| labels[[i, j]] <= 0.0).collect();
            for j in 0..cols {
                if labels[[i, j]] > 0.0 {
                    prop_assert!(mask[[i, j]], "positive dropped");
                }
            }
            let want = ((pos as f64) * ratio).ceil().min(negs.len() as f64) as usize;
            let kept: Vec<usize> = negs.iter().copied().filter(|&j| mask[[i, j]]).collect();
            prop_assert_eq!(kept.len(), want);
            for &k in &kept {
                for &d in negs.iter().filter(|&&j| !mask[[i, j]]) {
                    prop_assert!(losses[[i, k]] >= losses[[i, d]]);
                }
            }
        }
    }
}

#[test]
fn hard_negative_mining_edges() {
    let losses = ndarray::array![[0.9, 0.1, 0.5, 0.7], [0.3, 0.2, 0.8, 0.6]];
    // ratio 0: positives only.
    let labels = ndarray::array![[0.0, 2.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]];
    let m = hard_negative_mining(losses.view(), labels.view(), 0.0).unwrap();
    assert_eq!(
        m,
        ndarray::array![[false, true, false, false], [true, false, false, false]]
    );
    // A fractional product rounds up: ratio 2.5 with one positive keeps three negatives.
    let m = hard_negative_mining(losses.view(), labels.view(), 2.5).unwrap();
    assert_eq!(m.row(0).iter().filter(|&&b| b).count(), 4);
    // All positive: everything kept; all negative: nothing kept.
    let all_pos = Array2::from_elem((2, 4), 3.0);
    let m = hard_negative_mining(losses.view(), all_pos.view(), 3.0).unwrap();
    assert!(m.iter().all(|&b| b));
    let all_neg = Array2::zeros((2, 4));
    let m = hard_negative_mining(losses.view(), all_neg.view(), 3.0).unwrap();
    assert!(m.iter().all(|&b| !b));
    // NaN losses, NaN labels, invalid ratios, shape mismatches: typed errors.
    let mut nan_losses = losses.clone();
    nan_losses[[1, 2]] = f64::NAN;
    assert!(matches!(
        hard_negative_mining(nan_losses.view(), labels.view(), 1.0),
        Err(LossError::InvalidArgument { name: "losses", .. })
    ));
    let mut nan_labels = labels.clone();
    nan_labels[[0, 0]] = f64::NAN;
    assert!(matches!(
        hard_negative_mining(losses.view(), nan_labels.view(), 1.0),
        Err(LossError::InvalidArgument { name: "labels", .. })
    ));
    for bad in [f64::NAN, -1.0, f64::INFINITY, -0.5] {
        assert!(matches!(
            hard_negative_mining(losses.view(), labels.view(), bad),
            Err(LossError::InvalidArgument {
                name: "neg_pos_ratio",
                ..
            })
        ));
    }
    let wrong = Array2::zeros((2, 3));
    assert!(matches!(
        hard_negative_mining(losses.view(), wrong.view(), 1.0),
        Err(LossError::ShapeMismatch { .. })
    ));
    // Empty inputs are fine.
    let empty = Array2::<f64>::zeros((0, 4));
    assert_eq!(
        hard_negative_mining(empty.view(), empty.view(), 3.0)
            .unwrap()
            .len(),
        0
    );
}
