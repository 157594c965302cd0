//! Issue 14 item 3: Stan's `ordered`, `positive_ordered`, `cholesky_factor_corr`,
//! `cholesky_factor_cov` and `sum_to_zero_vector` transforms (parameter-dependent bounds are
//! in `bounds.rs`, hostile inputs for both in `bijector_stan_hostile.rs`).
//!
//! Property tests like the existing bijector suite: round trips, lengths, the image inside
//! the constraint, ln|det J| against the determinant of a central-difference Jacobian *and* of
//! the tape's own Jacobian of the forward map (one backward pass per output), gradient checks
//! of the forward map and of ln|det J|, and hostile inputs (typed errors, never NaN or a panic).
//! Fixed references come from closed forms, from Stan's own loops written out here, or from
//! mpmath at 40 digits (quoted).

// `DistError`/`AdError` carry `Shape`s by value; the test helpers return them as they are.
#![allow(clippy::result_large_err)]

use crate::bijector::ln_abs_det;
use infer_ad::Tape;
use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_dist::{Bijector, Constraint, DistError};
use proptest::prelude::*;

pub(crate) fn forward(b: Bijector, y: &[f64]) -> Result<Vec<f64>, DistError> {
    let tape = Tape::new();
    let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
    Ok(b.forward(t)?.to_vec())
}

/// ln|det J| and its gradient in y.
pub(crate) fn log_det(b: Bijector, y: &[f64]) -> Result<(f64, Vec<f64>), DistError> {
    let tape = Tape::new();
    let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
    let lj = b.log_abs_det_jacobian(t)?;
    let v = lj.value();
    lj.backward();
    Ok((v, t.grad().iter().copied().collect()))
}

/// The hostile-input rules of `b` at `y` (checked after `forward(b, y)` succeeds): the forward
/// `x` finite (if `finite`) and in the closed set (`in_closed_set`), and forward ∘ inverse ∘
/// forward = forward within 1e-12 relative + `scale_tol` + 1e-300 absolute; then ln|J| and its
/// gradient at `y`, and the inverse of `x_any`, each a typed error or finite values.
pub(crate) fn total_and_round_trip(
    b: Bijector,
    y: &[f64],
    x_any: &[f64],
    finite: bool,
    in_closed_set: fn(Bijector, &[f64]) -> bool,
    scale_tol: fn(Bijector, &[f64]) -> f64,
) -> Result<(), TestCaseError> {
    if let Ok(x) = forward(b, y) {
        if finite {
            prop_assert!(x.iter().all(|v| v.is_finite()), "{b:?}: {y:?} → {x:?}");
        }
        prop_assert!(in_closed_set(b, &x), "{b:?}: {y:?} → {x:?}");
        if let Ok(back) = b.inverse(&x) {
            prop_assert!(
                back.iter().all(|v| v.is_finite()),
                "{b:?}: {x:?} → {back:?}"
            );
            let again = forward(b, &back);
            prop_assert!(again.is_ok(), "{b:?}: {back:?}: {again:?}");
            let again = again.unwrap_or_default();
            let scale_tol = scale_tol(b, &x);
            for (a, w) in again.iter().zip(&x) {
                prop_assert!(
                    (a - w).abs() <= 1e-12 * w.abs() + scale_tol + 1e-300,
                    "{b:?}: y {y:?} → x {x:?} → {back:?} → {again:?}"
                );
            }
        }
    }
    if let Ok((lj, g)) = log_det(b, y) {
        prop_assert!(lj.is_finite(), "{b:?}: ln|J|({y:?}) = {lj}");
        prop_assert!(
            g.iter().all(|v| v.is_finite()),
            "{b:?}: ∇ ln|J|({y:?}) = {g:?}"
        );
    }
    if let Ok(back) = b.inverse(x_any) {
        prop_assert!(
            back.iter().all(|v| v.is_finite()),
            "{b:?}: {x_any:?} → {back:?}"
        );
    }
    Ok(())
}

/// The constraint whose bijector `b` is.
fn constraint_of(b: Bijector) -> Constraint {
    match b {
        Bijector::Ordered => Constraint::Ordered,
        Bijector::PositiveOrdered => Constraint::PositiveOrdered,
        Bijector::CholeskyFactorCorr => Constraint::CholeskyFactorCorr,
        Bijector::CholeskyFactorCov { rows, cols } => Constraint::CholeskyFactorCov { rows, cols },
        _ => Constraint::SumToZero,
    }
}

/// The constrained coordinates that are free (the rows of the square Jacobian).
fn free_rows(b: Bijector, m: usize) -> Vec<usize> {
    match b {
        Bijector::CholeskyFactorCorr => {
            let k = b
                .constrained_len(m)
                .map_or(0, |l| (l as f64).sqrt() as usize);
            (0..k)
                .flat_map(|i| (0..i).map(move |j| i * k + j))
                .collect()
        }
        Bijector::CholeskyFactorCov { rows, cols } => {
            let top = (0..cols).flat_map(|i| (0..=i).map(move |j| i * cols + j));
            top.chain(cols * cols..rows * cols).collect()
        }
        _ => (0..m).collect(),
    }
}

/// Central-difference Jacobian of the forward map, all constrained rows (row-major, out×m).
fn numeric_jacobian(b: Bijector, y: &[f64]) -> Vec<Vec<f64>> {
    let m = y.len();
    let out = b.constrained_len(m).unwrap_or(0);
    let mut jac = vec![vec![0.0; m]; out];
    for c in 0..m {
        let h = 1e-5 * y[c].abs().max(1.0);
        let (mut yp, mut ym) = (y.to_vec(), y.to_vec());
        yp[c] += h;
        ym[c] -= h;
        let (fp, fm) = (
            forward(b, &yp).unwrap_or_default(),
            forward(b, &ym).unwrap_or_default(),
        );
        for r in 0..out {
            jac[r][c] = (fp[r] - fm[r]) / (2.0 * h);
        }
    }
    jac
}

/// The tape's Jacobian of the forward map: one fresh tape and one backward pass per output.
fn tape_jacobian(b: Bijector, y: &[f64]) -> Vec<Vec<f64>> {
    let out = b.constrained_len(y.len()).unwrap_or(0);
    (0..out)
        .map(|r| {
            let tape = Tape::new();
            let t = tape.tensor(&ndarray::Array1::from(y.to_vec()));
            let x = b.forward(t).expect("forward");
            let n = x.numel();
            x.reshape(&[n])
                .expect("flat")
                .flat(r)
                .expect("row")
                .backward();
            t.grad().iter().copied().collect()
        })
        .collect()
}

/// ln|det| of the square Jacobian onto the free rows.
fn free_log_det(b: Bijector, jac: &[Vec<f64>]) -> f64 {
    let m = jac.first().map_or(0, Vec::len);
    let rows = free_rows(b, m);
    assert_eq!(rows.len(), m, "{b:?}");
    let flat: Vec<f64> = rows.iter().flat_map(|&r| jac[r].clone()).collect();
    ln_abs_det(flat, m)
}

/// ½ ln det(JᵀJ): the volume factor of a map into a higher-dimensional space.
fn volume_log_det(jac: &[Vec<f64>]) -> f64 {
    let m = jac.first().map_or(0, Vec::len);
    let mut g = vec![0.0; m * m];
    for a in 0..m {
        for c in 0..m {
            g[a * m + c] = jac.iter().map(|row| row[a] * row[c]).sum();
        }
    }
    0.5 * ln_abs_det(g, m)
}

pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// The gradient checker wants `AdError`; the bijector's inputs here are always valid.
pub(crate) fn as_ad(e: DistError) -> infer_ad::AdError {
    match e {
        DistError::Ad(e) => e,
        _ => infer_ad::AdError::Empty { op: "bijector" },
    }
}

fn stan_bijector_and_point() -> impl Strategy<Value = (Bijector, Vec<f64>)> {
    prop_oneof![
        prop::collection::vec(-4.0..4.0f64, 1..7).prop_map(|y| (Bijector::Ordered, y)),
        prop::collection::vec(-4.0..4.0f64, 1..7).prop_map(|y| (Bijector::PositiveOrdered, y)),
        (1usize..6)
            .prop_flat_map(|k| prop::collection::vec(-2.5..2.5f64, k * (k - 1) / 2))
            .prop_map(|y| (Bijector::CholeskyFactorCorr, y)),
        (1usize..4, 0usize..3).prop_flat_map(|(c, extra)| {
            let r = c + extra;
            prop::collection::vec(-2.0..2.0f64, c * (c + 1) / 2 + extra * c)
                .prop_map(move |y| (Bijector::CholeskyFactorCov { rows: r, cols: c }, y))
        }),
        prop::collection::vec(-5.0..5.0f64, 1..7).prop_map(|y| (Bijector::SumToZero, y)),
    ]
}

proptest! {
    #[test]
    fn round_trips_lengths_and_image((b, y) in stan_bijector_and_point()) {
        let x = forward(b, &y)?;
        prop_assert_eq!(x.len(), b.constrained_len(y.len())?);
        prop_assert_eq!(b.unconstrained_len(x.len())?, y.len());
        prop_assert!(constraint_of(b).check_event(&x), "{b:?}: {y:?} -> {x:?}");
        prop_assert_eq!(constraint_of(b).bijector(), Some(b));
        let back = b.inverse(&x)?;
        prop_assert_eq!(back.len(), y.len());
        for (u, v) in y.iter().zip(&back) {
            prop_assert!(close(*u, *v, 1e-8), "{b:?}: {y:?} -> {x:?} -> {back:?}");
        }
        let again = forward(b, &back)?;
        for (u, v) in x.iter().zip(&again) {
            prop_assert!(close(*u, *v, 1e-10), "{b:?}: {x:?} vs {again:?}");
        }
    }

    #[test]
    fn log_det_matches_numeric_and_tape_jacobians((b, y) in stan_bijector_and_point()) {
        let (analytic, _) = log_det(b, &y)?;
        let numeric = numeric_jacobian(b, &y);
        let taped = tape_jacobian(b, &y);
        if b == Bijector::SumToZero {
            // An isometry onto the hyperplane: volume factor 1, so ln|J| = 0 (Stan's value);
            // the map onto the first N coordinates alone has the constant det (N+1)^(−1/2).
            let n = y.len() as f64;
            prop_assert_eq!(analytic, 0.0);
            prop_assert!(volume_log_det(&numeric).abs() < 1e-8);
            prop_assert!(volume_log_det(&taped).abs() < 1e-12);
            prop_assert!(close(free_log_det(b, &taped), -0.5 * (n + 1.0).ln(), 1e-12));
        } else {
            let (fd, tp) = (free_log_det(b, &numeric), free_log_det(b, &taped));
            // Central differences with h = 1e-5: O(h²) ≈ 1e-10 truncation plus rounding.
            prop_assert!(close(analytic, fd, 1e-6), "{b:?} at {y:?}: {analytic} vs fd {fd}");
            prop_assert!(close(analytic, tp, 1e-10), "{b:?} at {y:?}: {analytic} vs tape {tp}");
        }
    }

    #[test]
    fn tape_gradients_match_finite_differences((b, y) in stan_bijector_and_point()) {
        prop_assume!(!y.is_empty());
        let y0 = ndarray::Array1::from(y.clone()).into_dyn();
        let cfg = GradCheckConfig::default();
        check_gradient(std::slice::from_ref(&y0), |tape, t| {
            // A constant offset keeps the checked function away from 0 for SumToZero.
            Ok(b.log_abs_det_jacobian(t[0]).map_err(as_ad)? + tape.var(1.0))
        }, &cfg)?;
        check_gradient(&[y0], |tape, t| {
            let x = b.forward(t[0]).map_err(as_ad)?;
            let n = x.numel();
            let w = tape.constant(&ndarray::Array1::from_iter((1..=n).map(|i| (i as f64).sqrt())));
            Ok((x.reshape(&[n])? * w).sum())
        }, &cfg)?;
    }
}

#[test]
fn ordered_values() {
    let y = [-1.0, 0.5, -2.0];
    let x = forward(Bijector::Ordered, &y).expect("forward");
    let want = [
        -1.0,
        -1.0 + 0.5f64.exp(),
        -1.0 + 0.5f64.exp() + (-2.0f64).exp(),
    ];
    for (g, w) in x.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{x:?}");
    }
    let (lj, g) = log_det(Bijector::Ordered, &y).expect("ladj");
    assert_eq!(lj, 0.5 - 2.0);
    assert_eq!(g, vec![0.0, 1.0, 1.0]);
    let x = forward(Bijector::PositiveOrdered, &y).expect("forward");
    assert!((x[0] - (-1.0f64).exp()).abs() < 1e-16);
    let (lj, g) = log_det(Bijector::PositiveOrdered, &y).expect("ladj");
    assert_eq!(lj, -2.5);
    assert_eq!(g, vec![1.0; 3]);
    // One element: Ordered is the identity, PositiveOrdered the exponential.
    assert_eq!(log_det(Bijector::Ordered, &[3.0]).expect("ladj").0, 0.0);
    assert_eq!(
        forward(Bijector::Ordered, &[]).expect("empty"),
        Vec::<f64>::new()
    );
}

/// mpmath (40 digits) of Stan's loop `cholesky_corr_constrain` at K = 4; see the module docs.
#[test]
fn cholesky_corr_matches_mpmath() {
    let y = [0.5, -1.0, 2.0, 0.3, -0.7, 1.5];
    let x = forward(Bijector::CholeskyFactorCorr, &y).expect("forward");
    let want = [
        1.0,
        0.0,
        0.0,
        0.0,
        0.462_117_157_260_009_758_5,
        0.886_818_883_970_073_908_7,
        0.0,
        0.0,
        -0.761_594_155_955_764_888_1,
        0.624_742_193_197_986_630_8,
        0.172_254_270_345_311_371_4,
        0.0,
        0.291_312_612_451_590_905_8,
        -0.578_155_084_643_386_775_4,
        0.689_859_357_552_557_584_6,
        0.323_987_232_348_436_821_9,
    ];
    for (g, w) in x.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{g} vs {w}");
    }
    let (lj, _) = log_det(Bijector::CholeskyFactorCorr, &y).expect("ladj");
    assert!((lj - -6.761_631_109_888_237_090_6).abs() < 1e-14, "{lj}");
}

/// K = 2 in closed form: [[1, 0], [tanh y, sech y]], ln|J| = 2 ln sech y; and Stan's own loop
/// (sqrt(1 − Σw²), log1m) written out in f64 agrees at random points.
#[test]
fn cholesky_corr_closed_form_and_stan_loop() {
    for y in [-3.0, -0.2, 0.0, 1.0, 4.0] {
        let x = forward(Bijector::CholeskyFactorCorr, &[y]).expect("forward");
        let sech = 1.0 / f64::cosh(y);
        assert!((x[2] - y.tanh()).abs() < 1e-16 && (x[3] - sech).abs() < 1e-15);
        let (lj, g) = log_det(Bijector::CholeskyFactorCorr, &[y]).expect("ladj");
        assert!((lj - 2.0 * sech.ln()).abs() < 1e-14);
        assert!((g[0] + 2.0 * y.tanh()).abs() < 1e-15);
    }
    let stan = |y: &[f64], k: usize| {
        let z: Vec<f64> = y.iter().map(|v| v.tanh()).collect();
        let mut lp: f64 = z.iter().map(|t| (-t * t).ln_1p()).sum();
        let mut x = vec![0.0; k * k];
        x[0] = 1.0;
        let mut c = 0;
        for i in 1..k {
            x[i * k] = z[c];
            c += 1;
            let mut ss = x[i * k] * x[i * k];
            for j in 1..i {
                lp += 0.5 * (-ss).ln_1p();
                x[i * k + j] = z[c] * (1.0 - ss).sqrt();
                c += 1;
                ss += x[i * k + j] * x[i * k + j];
            }
            x[i * k + i] = (1.0 - ss).sqrt();
        }
        (x, lp)
    };
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
    };
    for k in 1..8 {
        let y: Vec<f64> = (0..k * (k - 1) / 2).map(|_| next()).collect();
        let (want, want_lj) = stan(&y, k);
        let x = forward(Bijector::CholeskyFactorCorr, &y).expect("forward");
        for (g, w) in x.iter().zip(&want) {
            assert!((g - w).abs() < 1e-13, "K = {k}: {g} vs {w}");
        }
        let (lj, _) = log_det(Bijector::CholeskyFactorCorr, &y).expect("ladj");
        assert!(close(lj, want_lj, 1e-12), "K = {k}: {lj} vs {want_lj}");
        // L Lᵀ is a correlation matrix: unit diagonal.
        for i in 0..k {
            let d: f64 = (0..k).map(|j| x[i * k + j] * x[i * k + j]).sum();
            assert!((d - 1.0).abs() < 1e-14);
        }
    }
}

/// Large |y|: tanh rounds to ±1 but the diagonal keeps sech y, so the inverse still recovers
/// y (sech 20 ≈ 4.1e-9; relative 1e-12), and the gradients stay finite.
#[test]
fn cholesky_corr_large_coordinates() {
    let y = [20.0, -30.0, 25.0];
    let x = forward(Bijector::CholeskyFactorCorr, &y).expect("forward");
    assert!(Constraint::CholeskyFactorCorr.check_event(&x), "{x:?}");
    let back = Bijector::CholeskyFactorCorr.inverse(&x).expect("inverse");
    for (a, b) in back.iter().zip(y) {
        assert!((a - b).abs() < 1e-12 * b.abs(), "{back:?}");
    }
    let (lj, g) = log_det(Bijector::CholeskyFactorCorr, &y).expect("ladj");
    // Σ (i − j + 1) ln sech yᵢⱼ with ln sech y = ln 2 − |y| − ln(1 + e^{−2|y|}).
    let ls = |v: f64| std::f64::consts::LN_2 - v.abs() - (-2.0 * v.abs()).exp().ln_1p();
    assert!(close(
        lj,
        2.0 * ls(20.0) + 3.0 * ls(-30.0) + 2.0 * ls(25.0),
        1e-15
    ));
    assert!(g.iter().all(|v| v.is_finite()));
}

#[test]
fn cholesky_cov_reuses_lower_cholesky() {
    let y = [0.3, -1.0, 0.2, 2.0, 0.5, -0.4];
    let sq = Bijector::CholeskyFactorCov { rows: 3, cols: 3 };
    assert_eq!(
        forward(sq, &y).ok(),
        forward(Bijector::LowerCholesky, &y).ok()
    );
    assert_eq!(
        log_det(sq, &y).ok(),
        log_det(Bijector::LowerCholesky, &y).ok()
    );
    // 4×2: Stan's layout — the 2×2 lower triangle (diagonal exponentiated), then 2 free rows.
    let b = Bijector::CholeskyFactorCov { rows: 4, cols: 2 };
    let y = [0.3, -1.0, 0.2, 2.0, 0.5, -0.4, 7.0];
    let x = forward(b, &y).expect("forward");
    let e = f64::exp;
    assert_eq!(x, vec![e(0.3), 0.0, -1.0, e(0.2), 2.0, 0.5, -0.4, 7.0]);
    assert_eq!(log_det(b, &y).expect("ladj").0, 0.3 + 0.2);
    assert_eq!(b.inverse(&x).ok().map(|v| v.len()), Some(7));
    // Wrong lengths and shapes are typed errors.
    assert!(matches!(
        forward(b, &y[..6]),
        Err(DistError::InvalidLength { .. })
    ));
    assert!(matches!(
        b.inverse(&x[..7]),
        Err(DistError::InvalidLength { .. })
    ));
    let bad = Bijector::CholeskyFactorCov { rows: 1, cols: 2 };
    assert!(matches!(
        forward(bad, &[0.0, 0.0, 0.0]),
        Err(DistError::InvalidParameter { param: "rows", .. })
    ));
    assert!(bad.unconstrained_len(2).is_err());
    let zero = Bijector::CholeskyFactorCov { rows: 2, cols: 0 };
    assert!(matches!(
        zero.inverse(&[]),
        Err(DistError::InvalidParameter { param: "cols", .. })
    ));
    // A non-positive diagonal in the top block and a NaN in the free rows are rejected.
    assert!(
        b.inverse(&[1.0, 0.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0])
            .is_err()
    );
    assert!(
        b.inverse(&[1.0, 0.0, 0.5, 1.0, 0.0, f64::NAN, 0.0, 0.0])
            .is_err()
    );
}

/// The Helmert-like basis written out as a matrix: x = V y, VᵀV = I, y = Vᵀ x.
#[test]
fn sum_to_zero_is_the_isometric_basis() {
    for n in 1..9usize {
        let mut v = vec![vec![0.0; n]; n + 1];
        for c in 1..=n {
            let s = 1.0 / ((c * (c + 1)) as f64).sqrt();
            for row in v.iter_mut().take(c) {
                row[c - 1] = s;
            }
            v[c][c - 1] = -(c as f64) * s;
        }
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7 - 1.3).sin() * 3.0).collect();
        let want: Vec<f64> = v
            .iter()
            .map(|row| row.iter().zip(&y).map(|(a, b)| a * b).sum())
            .collect();
        let x = forward(Bijector::SumToZero, &y).expect("forward");
        for (g, w) in x.iter().zip(&want) {
            assert!((g - w).abs() < 1e-14, "N = {n}: {x:?} vs {want:?}");
        }
        assert!(x.iter().sum::<f64>().abs() < 1e-14);
        let back = Bijector::SumToZero.inverse(&x).expect("inverse");
        for (g, w) in back.iter().zip(&y) {
            assert!((g - w).abs() < 1e-14);
        }
    }
    // No free coordinate: the one-element zero vector.
    assert_eq!(forward(Bijector::SumToZero, &[]).ok(), Some(vec![0.0]));
    assert_eq!(Bijector::SumToZero.inverse(&[0.0]).ok(), Some(vec![]));
    assert!(Bijector::SumToZero.inverse(&[1e-3]).is_err());
    assert!(Bijector::SumToZero.inverse(&[]).is_err());
    assert!(Bijector::SumToZero.inverse(&[1.0, -1.0, 1e-6]).is_err());
    // Entries near f64::MAX: the check and the inverse run on scaled entries.
    let big = [f64::MAX / 2.0, -f64::MAX / 4.0, -f64::MAX / 4.0];
    assert!(Constraint::SumToZero.check_event(&big));
    let y = Bijector::SumToZero.inverse(&big).expect("representable");
    // y₀ = (x₀ − x₁)/√2 = ¾ MAX/√2, y₁ = (x₀ + x₁ − 2x₂)/√6 = ¾ MAX/√6.
    assert!(close(y[0], 0.75 * f64::MAX / 2f64.sqrt(), 1e-15), "{y:?}");
    assert!(close(y[1], 0.75 * f64::MAX / 6f64.sqrt(), 1e-15), "{y:?}");
    // Here y₀ = 1.5 MAX/√2 is beyond f64: a typed error, although x sums to 0.
    let bigger = [f64::MAX, -f64::MAX / 2.0, -f64::MAX / 2.0];
    assert!(Constraint::SumToZero.check_event(&bigger));
    assert!(matches!(
        Bijector::SumToZero.inverse(&bigger),
        Err(DistError::OutsideSupport { .. })
    ));
}

#[test]
fn lengths_and_names() {
    assert_eq!(
        Bijector::CholeskyFactorCorr.unconstrained_len(16).ok(),
        Some(6)
    );
    assert_eq!(
        Bijector::CholeskyFactorCorr.constrained_len(6).ok(),
        Some(16)
    );
    assert_eq!(
        Bijector::CholeskyFactorCorr.constrained_len(0).ok(),
        Some(1)
    );
    assert!(Bijector::CholeskyFactorCorr.unconstrained_len(0).is_err());
    assert!(Bijector::CholeskyFactorCorr.unconstrained_len(8).is_err());
    assert!(Bijector::CholeskyFactorCorr.constrained_len(4).is_err());
    assert_eq!(Bijector::SumToZero.unconstrained_len(5).ok(), Some(4));
    assert!(Bijector::SumToZero.unconstrained_len(0).is_err());
    assert_eq!(Bijector::Ordered.constrained_len(3).ok(), Some(3));
    let cov = Bijector::CholeskyFactorCov { rows: 5, cols: 3 };
    assert_eq!(cov.unconstrained_len(15).ok(), Some(12));
    assert_eq!(cov.constrained_len(12).ok(), Some(15));
    assert!(cov.unconstrained_len(14).is_err());
    for b in [
        Bijector::Ordered,
        Bijector::PositiveOrdered,
        Bijector::CholeskyFactorCorr,
        cov,
        Bijector::SumToZero,
    ] {
        assert!(!b.is_elementwise());
        assert_eq!(b.name(), format!("{b:?}").split(' ').next().unwrap_or(""));
    }
}

#[test]
fn constraint_checks() {
    assert!(Constraint::Ordered.check_event(&[-3.0, -2.0, 5.0]));
    assert!(!Constraint::Ordered.check_event(&[-3.0, -3.0]));
    assert!(!Constraint::Ordered.check_event(&[0.0, f64::INFINITY]));
    assert!(!Constraint::PositiveOrdered.check_event(&[0.0, 1.0]));
    assert!(Constraint::PositiveOrdered.check_event(&[0.5, 1.0]));
    assert!(!Constraint::CholeskyFactorCorr.check(1.5));
    assert!(Constraint::CholeskyFactorCorr.check_event(&[1.0]));
    assert!(!Constraint::CholeskyFactorCorr.check_event(&[1.0, 0.0, 0.0, 1.0, 0.0]));
    // A row of norm 1 but with a negative diagonal, and an upper-triangle entry.
    assert!(!Constraint::CholeskyFactorCorr.check_event(&[1.0, 0.0, 0.6, -0.8]));
    assert!(!Constraint::CholeskyFactorCorr.check_event(&[0.6, 0.8, 0.0, 1.0]));
    let cov = Constraint::CholeskyFactorCov { rows: 2, cols: 2 };
    assert!(cov.check_event(&[1.0, 0.0, -5.0, 2.0]));
    assert!(!cov.check_event(&[1.0, 0.0, -5.0]));
    assert!(!cov.check_event(&[1.0, 0.1, -5.0, 2.0]));
    assert!(!Constraint::SumToZero.check_event(&[]));
    assert!(!Constraint::SumToZero.check_event(&[f64::NAN, 0.0]));
    for c in [
        Constraint::Ordered,
        Constraint::PositiveOrdered,
        Constraint::CholeskyFactorCorr,
        cov,
        Constraint::SumToZero,
    ] {
        assert!(!c.is_discrete());
        assert!(c.bijector().is_some());
    }
}
