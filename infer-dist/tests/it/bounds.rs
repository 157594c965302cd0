//! Issue 14 item 3: parameter-dependent bounds (`infer_dist::bounded` / `unbounded`): Stan's
//! closed forms, gradients into the value and both bounds checked by infer-ad's gradient
//! checker, typed errors for bad bounds, and round trips.

// `DistError` carries `Shape`s by value; the test helpers return it as it is.
#![allow(clippy::result_large_err)]

use crate::bijector_stan::{as_ad, close};
use infer_ad::Tape;
use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_dist::{DistError, bounded, unbounded};
use proptest::prelude::*;

/// (x, ln|J|) of `bounded` for plain f64 inputs (bounds of one element or of y's length).
fn bounded_f64(
    y: &[f64],
    lower: Option<&[f64]>,
    upper: Option<&[f64]>,
) -> Result<(Vec<f64>, f64), DistError> {
    let tape = Tape::new();
    let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
    let l = lower.map(|l| tape.tensor(&ndarray::Array1::from(l.to_vec())));
    let u = upper.map(|u| tape.tensor(&ndarray::Array1::from(u.to_vec())));
    let (x, lj) = bounded(t, l, u)?;
    Ok((x.to_vec(), lj.value()))
}

#[test]
fn bounded_matches_stan_closed_forms() {
    let y = [-1.5, 0.0, 2.0];
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let (x, lj) = bounded_f64(&y, Some(&[1.0]), None).expect("lower");
    for (g, v) in x.iter().zip(y) {
        assert!((g - (1.0 + v.exp())).abs() < 1e-15);
    }
    assert_eq!(lj, 0.5);
    let (x, lj) = bounded_f64(&y, None, Some(&[1.0, 2.0, 3.0])).expect("upper");
    for ((g, v), u) in x.iter().zip(y).zip([1.0, 2.0, 3.0]) {
        assert!((g - (u - v.exp())).abs() < 1e-15);
    }
    assert_eq!(lj, 0.5);
    let (l, u) = ([-1.0, 0.0, 2.0], [1.0, 0.5, 10.0]);
    let (x, lj) = bounded_f64(&y, Some(&l), Some(&u)).expect("both");
    let mut want_lj = 0.0;
    for i in 0..3 {
        let s = sig(y[i]);
        assert!(close(x[i], l[i] + (u[i] - l[i]) * s, 1e-15), "{x:?}");
        want_lj += (u[i] - l[i]).ln() + s.ln() + (1.0 - s).ln();
    }
    assert!((lj - want_lj).abs() < 1e-14);
    let (x, lj) = bounded_f64(&y, None, None).expect("none");
    assert_eq!((x, lj), (y.to_vec(), 0.0));
    // Infinite bound elements mean "no bound" elementwise, as in Stan.
    let (x, lj) = bounded_f64(&[0.0, 0.0], Some(&[f64::NEG_INFINITY, 1.0]), None).expect("mixed");
    assert_eq!((x, lj), (vec![0.0, 2.0], 0.0));
    // A scalar y (0-d) keeps its shape with one-element bounds.
    let tape = Tape::new();
    let (x, _) = bounded(
        tape.scalar(0.0),
        Some(tape.tensor(&ndarray::array![0.0])),
        Some(tape.scalar(4.0)),
    )
    .expect("scalar");
    assert_eq!((x.dims().len(), x.to_vec()), (0, vec![2.0]));
    // A flat y with a bound shaped as the parameter (2×2): matched row-major.
    let y = tape.tensor(&ndarray::array![0.0, 0.0, 0.0, 0.0]);
    let l = tape.tensor(&ndarray::array![[0.0, 1.0], [2.0, 3.0]]);
    let (x, _) = bounded(y, Some(l), None).expect("same numel");
    assert_eq!((x.dims(), x.to_vec()), (&[4][..], vec![1.0, 2.0, 3.0, 4.0]));
}

/// Lower and upper bound arrays, each optional.
type OptBounds = (Option<ndarray::ArrayD<f64>>, Option<ndarray::ArrayD<f64>>);

#[test]
fn bounded_gradients_flow_into_the_bounds() {
    let cfg = GradCheckConfig::default();
    let y = ndarray::array![-1.2, 0.3, 2.5].into_dyn();
    let weights = ndarray::array![1.0, -2.0, 0.5];
    // Per-element bounds, scalar bounds, one-sided bounds.
    let cases: Vec<OptBounds> = vec![
        (
            Some(ndarray::array![-1.0, 0.0, 1.0].into_dyn()),
            Some(ndarray::array![0.5, 3.0, 1.5].into_dyn()),
        ),
        (
            Some(ndarray::array![-2.0].into_dyn()),
            Some(ndarray::array![5.0].into_dyn()),
        ),
        (Some(ndarray::array![0.7].into_dyn()), None),
        (None, Some(ndarray::array![0.1, 0.2, 0.3].into_dyn())),
    ];
    for (l, u) in cases {
        let mut inputs = vec![y.clone()];
        inputs.extend(l.clone());
        inputs.extend(u.clone());
        let (has_l, has_u) = (l.is_some(), u.is_some());
        for which in 0..2 {
            let w = weights.clone();
            check_gradient(
                &inputs,
                |tape, t| {
                    let lo = has_l.then(|| t[1]);
                    let hi = has_u.then(|| t[if has_l { 2 } else { 1 }]);
                    let (x, lj) = bounded(t[0], lo, hi).map_err(as_ad)?;
                    if which == 0 {
                        Ok((x * tape.constant(&w)).sum())
                    } else {
                        Ok(lj)
                    }
                },
                &cfg,
            )
            .unwrap_or_else(|e| panic!("{has_l} {has_u} {which}: {e}"));
        }
    }
}

#[test]
fn bounded_rejects_bad_bounds_with_typed_errors() {
    let y = [0.0, 1.0];
    let err = bounded_f64(&y, Some(&[1.0]), Some(&[1.0])).unwrap_err();
    assert!(
        matches!(err, DistError::InvalidParameter { param: "upper", value, .. } if value == 1.0),
        "{err:?}"
    );
    assert!(matches!(
        bounded_f64(&y, Some(&[0.0, 2.0]), Some(&[1.0, 1.5])),
        Err(DistError::InvalidParameter { param: "upper", .. })
    ));
    assert!(matches!(
        bounded_f64(&y, Some(&[f64::NAN]), None),
        Err(DistError::InvalidParameter { param: "lower", .. })
    ));
    assert!(matches!(
        bounded_f64(&y, Some(&[f64::INFINITY]), None),
        Err(DistError::InvalidParameter { param: "lower", .. })
    ));
    assert!(matches!(
        bounded_f64(&y, None, Some(&[f64::NEG_INFINITY])),
        Err(DistError::InvalidParameter { param: "upper", .. })
    ));
    assert!(matches!(
        bounded_f64(&y, Some(&[0.0]), Some(&[5e-324])),
        Err(DistError::InvalidParameter { param: "upper", .. })
    ));
    assert!(matches!(
        bounded_f64(&y, Some(&[0.0, 1.0, 2.0]), None),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        bounded_f64(&[f64::NAN], Some(&[0.0]), None),
        Err(DistError::OutsideSupport { .. })
    ));
    assert!(matches!(
        bounded_f64(&[710.0], Some(&[0.0]), None),
        Err(DistError::OutsideSupport { .. })
    ));
    assert!(matches!(
        bounded_f64(&[709.0], Some(&[1.7e308]), None),
        Err(DistError::OutsideSupport { .. })
    ));
    // Two-sided bounds accept any finite y (the image may round onto a bound).
    assert!(bounded_f64(&[1e308], Some(&[0.0]), Some(&[1.0])).is_ok());
    // Different tapes are a typed error, not a panic.
    let (t1, t2) = (Tape::new(), Tape::new());
    assert!(bounded(t1.scalar(0.0), Some(t2.scalar(0.0)), None).is_err());
    // The inverse.
    assert!(unbounded(&[0.5], Some(&[1.0]), None).is_err());
    assert!(unbounded(&[0.5], None, Some(&[0.5])).is_err());
    assert!(unbounded(&[0.5], Some(&[1.0]), Some(&[0.0])).is_err());
    assert!(unbounded(&[0.5, 0.6], Some(&[0.0, 0.0, 0.0]), None).is_err());
    assert!(unbounded(&[f64::NAN], None, None).is_err());
}

proptest! {
    #[test]
    fn bounded_round_trips(
        y in prop::collection::vec(-8.0..8.0f64, 1..5),
        l in -5.0..5.0f64,
        w in prop::collection::vec(0.01..20.0f64, 1..5),
        kind in 0usize..4,
    ) {
        let n = y.len();
        let u: Vec<f64> = (0..n).map(|i| l + w[i % w.len()]).collect();
        let (lo, hi): (Option<&[f64]>, Option<&[f64]>) = match kind {
            0 => (Some(std::slice::from_ref(&l)), Some(&u)),
            1 => (Some(std::slice::from_ref(&l)), None),
            2 => (None, Some(&u)),
            _ => (None, None),
        };
        let (x, lj) = bounded_f64(&y, lo, hi)?;
        prop_assert!(lj.is_finite());
        for (i, &v) in x.iter().enumerate() {
            if lo.is_some() { prop_assert!(v >= l); }
            if hi.is_some() { prop_assert!(v <= u[i]); }
        }
        let back = unbounded(&x, lo, hi)?;
        for (a, b) in back.iter().zip(&y) {
            // (U − L)σ(y) loses ~|y| ulp of relative precision near the bounds.
            prop_assert!(close(*a, *b, 1e-7), "{y:?} -> {x:?} -> {back:?}");
        }
    }
}
