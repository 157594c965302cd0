//! The elementwise (tensor) forms of `log_mix`: values against the unshifted formula written
//! here and against the scalar form element by element, gradients against closed forms and the
//! central-difference checker, broadcasting, limits (θ at 0 and 1, ±∞, NaN) and typed errors.
//! Property tests draw from the fixed proptest seed (`.cargo/config.toml`), so they cannot
//! fail by chance; tolerances are stated at each comparison.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Shape, Tape, Tensor, Var, log_mix};
use proptest::prelude::*;

use crate::common::{arr, close, naive_mix, weigh_by};

/// A fixed weight per element, so that every output's adjoint differs.
fn weight(i: usize) -> f64 {
    0.4 + ((i * 7919) % 11) as f64 / 10.0
}

/// Σ wᵢ tᵢ with the weights of [`weight`].
fn weigh<'t>(tape: &'t Tape, t: Tensor<'t>) -> Var<'t> {
    weigh_by(tape, t, weight)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// θ a scalar variable broadcast over N observations: values, the three gradients in
    /// closed form (∂/∂θ summed over the observations), agreement with the scalar form, and
    /// the finite-difference check of every form (θ as f64, Var, 0-d and full tensors).
    #[test]
    fn scalar_theta_over_vectors(
        th in 0.05f64..0.95,
        ab in proptest::collection::vec((-30.0f64..30.0, -30.0f64..30.0), 1..9),
    ) {
        let (a, b): (Vec<f64>, Vec<f64>) = ab.iter().copied().unzip();
        let n = a.len();
        let tape = Tape::new();
        let t = tape.var(th);
        let x = tape.tensor(&ndarray::Array1::from(a.clone()));
        let y = tape.tensor(&ndarray::Array1::from(b.clone()));
        let before = tape.num_nodes();
        let l = log_mix(t, x, y).unwrap();
        prop_assert!(tape.num_nodes() - before <= 3, "one fused node per tracked operand");
        prop_assert_eq!(l.dims(), &[n][..]);
        let got = l.to_vec();
        for i in 0..n {
            // relative 1e-14: two exponentials, a sum and a logarithm
            prop_assert!(close(got[i], naive_mix(th, a[i], b[i]), 1e-14));
            let s = log_mix(t, tape.var(a[i]), tape.var(b[i])).unwrap().value();
            prop_assert_eq!(got[i].to_bits(), s.to_bits(), "same kernel as the scalar form");
        }
        weigh(&tape, l).backward();
        let mut dth = 0.0;
        for i in 0..n {
            let s = th * a[i].exp() + (1.0 - th) * b[i].exp();
            let w = weight(i);
            prop_assert!((x.grad()[[i]] - w * th * a[i].exp() / s).abs() <= 1e-14 * w);
            prop_assert!((y.grad()[[i]] - w * (1.0 - th) * b[i].exp() / s).abs() <= 1e-14 * w);
            dth += w * (a[i].exp() - b[i].exp()) / s;
        }
        // a sum of ≤ 8 terms each within 1e-13 relative of |(e^a − e^b)/S| ≤ 1/min(θ, 1 − θ)
        prop_assert!((t.grad() - dth).abs() <= 1e-13 * 20.0 * n as f64, "{} vs {dth}", t.grad());
        let cfg = GradCheckConfig::default();
        let inputs = [arr(&[], &[th]), arr(&[n], &a), arr(&[n], &b)];
        check_gradient(&inputs, |tp, v| Ok(weigh(tp, log_mix(v[0], v[1], v[2])?)), &cfg)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_gradient(
            &inputs,
            |tp, v| Ok(weigh(tp, log_mix(v[0].item()?, v[1], v[2])?)),
            &cfg,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_gradient(
            &inputs[1..],
            |tp, v| Ok(weigh(tp, log_mix(th, v[0], v[1])?)),
            &cfg,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ths: Vec<f64> = (0..n).map(|i| 0.05 + 0.9 * weight(i) / 1.5).collect();
        check_gradient(
            &[arr(&[n], &ths), arr(&[n], &a), arr(&[n], &b)],
            |tp, v| Ok(weigh(tp, log_mix(v[0], v[1], v[2])?)),
            &cfg,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    /// Shifting both log densities by c shifts every result by c, far outside exp's range.
    #[test]
    fn shift_invariance(
        th in 0.0f64..=1.0,
        a in -30.0f64..30.0,
        b in -30.0f64..30.0,
        c in -1e5f64..1e5,
    ) {
        let tape = Tape::new();
        let l = log_mix(
            th,
            tape.tensor(&ndarray::array![a + c]),
            tape.tensor(&ndarray::array![b + c]),
        )
        .unwrap()
        .to_vec()[0];
        let direct = if th == 0.0 { b } else if th == 1.0 { a } else { naive_mix(th, a, b) };
        prop_assert!((l - (direct + c)).abs() <= 1e-12 * (1.0 + c.abs() + direct.abs()));
    }
}

#[test]
fn broadcasting_shapes() {
    let tape = Tape::new();
    // θ per row (2×1), lp₁ per column (3), lp₂ a scalar variable: a 2×3 result
    let th = tape.tensor(&ndarray::array![[0.2], [0.7]]);
    let a = tape.tensor(&ndarray::array![-1.0, 0.0, 2.0]);
    let b = tape.var(-0.5);
    let l = log_mix(th, a, b).unwrap();
    assert_eq!(l.dims(), &[2, 3]);
    let v = l.to_vec();
    let (ths, xs) = ([0.2, 0.7], [-1.0, 0.0, 2.0]);
    for r in 0..2 {
        for c in 0..3 {
            assert!(close(v[r * 3 + c], naive_mix(ths[r], xs[c], -0.5), 1e-15));
        }
    }
    let cfg = GradCheckConfig::default();
    check_gradient(
        &[arr(&[2, 1], &[0.2, 0.7]), arr(&[3], &xs), arr(&[], &[-0.5])],
        |tp, v| Ok(weigh(tp, log_mix(v[0], v[1], v[2].item()?)?)),
        &cfg,
    )
    .unwrap();
    // shapes that do not broadcast: a typed error naming the failing pair, nothing recorded
    let before = (tape.len(), tape.num_nodes());
    let bad = tape.tensor(&ndarray::array![0.0, 0.0]);
    let before2 = (tape.len(), tape.num_nodes());
    assert!(before2.0 > before.0);
    match log_mix(0.5, a, bad) {
        Err(AdError::ShapeMismatch {
            op: "log_mix",
            left,
            right,
        }) => {
            assert_eq!(left, Shape::new(&[3]).unwrap());
            assert_eq!(right, Shape::new(&[2]).unwrap());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((tape.len(), tape.num_nodes()), before2);
    // an empty operand gives an empty result
    let e = tape.tensor(&ndarray::Array1::<f64>::zeros(0));
    assert_eq!(log_mix(0.3, e, e).unwrap().dims(), &[0]);
    assert_eq!(log_mix(tape.var(0.3), e, tape.var(1.0)).unwrap().numel(), 0);
}

#[test]
fn constants_record_nothing() {
    let tape = Tape::new();
    let a = tape.constant(&ndarray::array![0.0, -1.0]);
    let b = tape.constant(&ndarray::array![-2.0, 3.0]);
    let before = tape.num_nodes();
    let l = log_mix(0.4, a, b).unwrap();
    assert!(!l.is_tracked());
    assert_eq!(tape.num_nodes(), before);
    // tracked θ only: one node, from θ
    let t = tape.var(0.4);
    let l = log_mix(t, a, b).unwrap();
    assert!(l.is_tracked());
    assert_eq!(tape.num_nodes(), before + 1);
    l.sum().backward();
    let expect: f64 = [(0.0f64, -2.0f64), (-1.0, 3.0)]
        .iter()
        .map(|&(x, y)| (x.exp() - y.exp()) / (0.4 * x.exp() + 0.6 * y.exp()))
        .sum();
    assert!(close(t.grad(), expect, 1e-14));
}

#[test]
fn limits() {
    let (ninf, inf, nan) = (f64::NEG_INFINITY, f64::INFINITY, f64::NAN);
    let tape = Tape::new();
    let a = tape.tensor(&ndarray::array![-1.0, ninf, ninf, 800.0, inf, nan]);
    let b = tape.tensor(&ndarray::array![-2.5, -3.0, ninf, -1e5, 0.0, 0.0]);
    // θ = 0: exactly lp₂; θ = 1: exactly lp₁ (where finite); ∂/∂θ = e^{lp₁ − lp₂} − 1 at 0
    let t0 = tape.var(0.0);
    let l = log_mix(
        t0,
        a.slice_axis(0, 0, 1).unwrap(),
        b.slice_axis(0, 0, 1).unwrap(),
    )
    .unwrap();
    assert_eq!(l.to_vec(), vec![-2.5]);
    l.sum().backward();
    assert!((t0.grad() - (1.5f64.exp() - 1.0)).abs() <= 1e-15 * 1.5f64.exp());
    let l1 = log_mix(1.0, a, b).unwrap().to_vec();
    assert_eq!(l1[0], -1.0);
    assert_eq!(l1[3], 800.0);
    // θ = 0.25 across the edge cases
    let t = tape.var(0.25);
    let l = log_mix(t, a, b).unwrap();
    let v = l.to_vec();
    assert!(close(v[0], naive_mix(0.25, -1.0, -2.5), 1e-15));
    assert!(
        (v[1] - (0.75f64.ln() - 3.0)).abs() <= 1e-15,
        "−∞ component adds nothing"
    );
    assert_eq!(v[2], ninf, "both −∞");
    assert!(
        (v[3] - (800.0 + 0.25f64.ln())).abs() <= 1e-12,
        "no overflow, no ln 0"
    );
    assert_eq!(v[4], inf);
    assert!(v[5].is_nan());
    l.sum().backward();
    let (ga, gb) = (a.grad(), b.grad());
    assert_eq!((ga[[1]], gb[[1]]), (0.0, 1.0));
    assert_eq!((ga[[2]], gb[[2]]), (0.0, 0.0), "both −∞: zero gradients");
    assert!((ga[[3]] - 1.0).abs() <= 1e-15 && gb[[3]] == 0.0);
    assert_eq!(
        (ga[[4]], gb[[4]]),
        (1.0, 0.0),
        "+∞ takes the whole gradient"
    );
    assert!(ga[[5]].is_nan() && gb[[5]].is_nan());
    assert!(t.grad().is_nan(), "NaN propagates into ∂/∂θ");
}

#[test]
fn theta_errors_name_element_and_value() {
    let tape = Tape::new();
    let a = tape.tensor(&ndarray::array![0.0, 0.0, 0.0]);
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let n = (tape.len(), tape.num_nodes());
        for r in [
            log_mix(bad, a, a),
            log_mix(tape.var(bad), a, a),
            log_mix(tape.scalar(bad), a, a),
        ] {
            match r {
                Err(AdError::InvalidArgument {
                    op: "log_mix",
                    name,
                    value,
                    ..
                }) => {
                    assert_eq!(name, "theta");
                    assert_eq!(value.to_bits(), bad.to_bits());
                }
                other => panic!("θ = {bad}: {other:?}"),
            }
        }
        // (two leaves were pushed by the calls' arguments; the failed calls added nothing)
        assert_eq!(tape.num_nodes(), n.1);
        assert_eq!(tape.len(), n.0 + 2);
    }
    let th = tape.tensor(&ndarray::array![0.5, 0.2, 1.25]);
    match log_mix(th, a, a) {
        Err(e @ AdError::InvalidArgument { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("theta[2]") && msg.contains("1.25"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // the scalar form with a constant θ checks it too
    assert!(log_mix(2.0, tape.var(0.0), tape.var(0.0)).is_err());
    assert!((log_mix(0.5, tape.var(0.0), tape.var(0.0)).unwrap().value()).abs() < 1e-15);
    let other = Tape::new();
    assert_eq!(
        log_mix(0.5, a, other.tensor(&ndarray::array![0.0])).unwrap_err(),
        AdError::DifferentTapes { op: "log_mix" }
    );
    assert_eq!(
        log_mix(other.var(0.5), a, a).unwrap_err(),
        AdError::DifferentTapes { op: "log_mix" }
    );
}
