//! Issue 14's operands: `Tensor::gather`, `Tensor::cumsum`, `log_sum_exp` (tensor, axis and
//! slice forms), `log_mix` and `log_mix_weights`. Values against direct computations written
//! here (naive sums and exponentials on ranges where they are exact enough), gradients against
//! the central-difference checker and against closed forms, limits and typed errors.
//! Property tests draw from the fixed proptest seed (`.cargo/config.toml`), so they cannot
//! fail by chance; the tolerances are stated at each comparison.

use infer_ad::gradcheck::{check_gradient, check_gradient_scalar};
use infer_ad::{AdError, Tape, Tensor, Var, log_mix, log_mix_weights, log_sum_exp};
use proptest::prelude::*;

use crate::common::{arr, cfg, close, naive_mix, weigh, weight};

fn grad_vec(t: Tensor<'_>) -> Vec<f64> {
    t.grad().iter().copied().collect()
}

// ---------------------------------------------------------------------------------------
// gather

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Values are the indexed rows; the gradient of Σ w·gather(x) is, for each source row,
    /// the sum of the weights of the outputs that read it (repeats accumulate).
    #[test]
    fn gather_values_and_gradient(
        len in 1usize..7,
        cols in 0usize..3,
        raw in proptest::collection::vec(0usize..1000, 0..24),
        xs in proptest::collection::vec(-3.0f64..3.0, 7 * 3),
    ) {
        let idx: Vec<usize> = raw.iter().map(|r| r % len).collect();
        let dims: Vec<usize> = if cols == 0 { vec![len] } else { vec![len, cols] };
        let inner = cols.max(1);
        let x = arr(&dims, &xs[..len * inner]);
        let tape = Tape::new();
        let t = tape.tensor(&x);
        let before = tape.num_nodes();
        let y = t.gather(&idx).unwrap();
        prop_assert_eq!(tape.num_nodes() - before, 1, "one node");
        let mut expect_dims = dims.clone();
        expect_dims[0] = idx.len();
        prop_assert_eq!(y.dims(), &expect_dims[..]);
        let flat: Vec<f64> = x.iter().copied().collect();
        let direct: Vec<f64> =
            idx.iter().flat_map(|&i| flat[i * inner..(i + 1) * inner].to_vec()).collect();
        prop_assert_eq!(y.to_vec(), direct);
        weigh(&tape, y).backward();
        let mut g = vec![0.0; len * inner];
        for (r, &i) in idx.iter().enumerate() {
            for j in 0..inner {
                g[i * inner + j] += weight(r * inner + j);
            }
        }
        let got = grad_vec(t);
        for (a, b) in got.iter().zip(&g) {
            // sums of at most 24 weights: exact to a few ulps
            prop_assert!(close(*a, *b, 1e-14), "{got:?} vs {g:?}");
        }
        check_gradient(&[x], |tp, v| Ok(weigh(tp, v[0].gather(&idx)?).exp()), &cfg())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn gather_errors_name_index_and_length() {
    let tape = Tape::new();
    let a = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    assert_eq!(
        a.gather(&[0, 2, 3, 5]).unwrap_err(),
        AdError::IndexOutOfBounds { index: 3, len: 3 }
    );
    let msg = a.gather(&[7]).unwrap_err().to_string();
    assert!(msg.contains('7') && msg.contains('3'), "{msg}");
    assert!(matches!(
        tape.var(1.0).as_tensor().gather(&[0]),
        Err(AdError::WrongRank { op: "gather", .. })
    ));
    // a failed gather leaves nothing on the tape
    let n = (tape.len(), tape.num_nodes());
    assert!(a.gather(&[0, 9]).is_err());
    assert_eq!((tape.len(), tape.num_nodes()), n);
    // empty index list: an empty result, no error
    let e = a.gather(&[]).unwrap();
    assert_eq!(e.dims(), &[0]);
}

#[test]
fn gather_of_data_records_no_node_and_hierarchical_hot_path_is_one_node() {
    let tape = Tape::new();
    let c = tape.constant(&ndarray::array![1.0, 2.0]);
    let before = tape.num_nodes();
    let y = c.gather(&[1, 1, 0]).unwrap();
    assert!(!y.is_tracked());
    assert_eq!(tape.num_nodes(), before);
    assert_eq!(y.to_vec(), vec![2.0, 2.0, 1.0]);

    // a[group[i]] over N = 10⁴ observations and J = 50 groups: one node, and the gradient of
    // Σᵢ a[group[i]] is each group's size
    let j = 50;
    let group: Vec<usize> = (0..10_000).map(|i| (i * 31 + i / 7) % j).collect();
    let a = tape.tensor(&ndarray::Array1::<f64>::zeros(j));
    let before = tape.num_nodes();
    let s = a.gather(&group).unwrap().sum();
    assert_eq!(tape.num_nodes() - before, 2, "gather + sum");
    s.backward();
    let mut sizes = vec![0.0; j];
    for &g in &group {
        sizes[g] += 1.0;
    }
    assert_eq!(grad_vec(a), sizes);
}

// ---------------------------------------------------------------------------------------
// cumsum

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn cumsum_values_and_gradient(
        len in 0usize..9,
        cols in 0usize..3,
        xs in proptest::collection::vec(-3.0f64..3.0, 9 * 2),
    ) {
        let dims: Vec<usize> = if cols == 0 { vec![len] } else { vec![len, cols] };
        let inner = cols.max(1);
        let x = arr(&dims, &xs[..len * inner]);
        let flat: Vec<f64> = x.iter().copied().collect();
        let tape = Tape::new();
        let t = tape.tensor(&x);
        let before = tape.num_nodes();
        let y = t.cumsum().unwrap();
        prop_assert!(tape.num_nodes() - before <= 1, "at most one node");
        prop_assert_eq!(y.dims(), &dims[..]);
        let got = y.to_vec();
        for i in 0..len {
            for j in 0..inner {
                let direct: f64 = (0..=i).map(|k| flat[k * inner + j]).sum();
                // a running sum of ≤ 9 terms of size ≤ 3: within 1e-14
                prop_assert!(close(got[i * inner + j], direct, 1e-14));
            }
        }
        if len == 0 {
            return Ok(());
        }
        weigh(&tape, y).backward();
        let g = grad_vec(t);
        for k in 0..len {
            for j in 0..inner {
                let expect: f64 = (k..len).map(|i| weight(i * inner + j)).sum();
                prop_assert!(close(g[k * inner + j], expect, 1e-14));
            }
        }
        check_gradient(&[x], |tp, v| Ok(weigh(tp, v[0].cumsum()?.sin())), &cfg())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn cumsum_edges() {
    let tape = Tape::new();
    assert!(matches!(
        tape.var(2.0).as_tensor().cumsum(),
        Err(AdError::WrongRank { op: "cumsum", .. })
    ));
    let c = tape.constant(&ndarray::array![1.0, 2.0]).cumsum().unwrap();
    assert!(!c.is_tracked());
    assert_eq!(c.to_vec(), vec![1.0, 3.0]);
    // 3-d: along axis 0 over 2×2 slabs
    let x = tape.tensor(&arr(
        &[3, 2, 2],
        &(0..12).map(f64::from).collect::<Vec<_>>(),
    ));
    let y = x.cumsum().unwrap();
    assert_eq!(y.to_vec()[8..].to_vec(), vec![12.0, 15.0, 18.0, 21.0]);
    // an infinite element propagates forward only
    let z = tape
        .tensor(&ndarray::array![1.0, f64::INFINITY, 1.0])
        .cumsum()
        .unwrap();
    assert_eq!(z.to_vec(), vec![1.0, f64::INFINITY, f64::INFINITY]);
    // long vector: the backward pass is the suffix sum (exact for integers)
    let n = 100_000;
    let v = tape.tensor(&ndarray::Array1::<f64>::ones(n));
    let s = v.cumsum().unwrap().sum();
    assert_eq!(s.value(), (n * (n + 1) / 2) as f64);
    s.backward();
    let g = grad_vec(v);
    assert_eq!(g[0], n as f64);
    assert_eq!(g[n - 1], 1.0);
}

// ---------------------------------------------------------------------------------------
// log_sum_exp

/// ln Σ exp(x) without the shift: exact enough for |x| ≤ 30.
fn naive_lse(x: &[f64]) -> f64 {
    x.iter().map(|v| v.exp()).sum::<f64>().ln()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn log_sum_exp_values_and_gradient(
        xs in proptest::collection::vec(-30.0f64..30.0, 1..12),
        shift in -700.0f64..700.0,
    ) {
        let tape = Tape::new();
        let t = tape.tensor(&ndarray::Array1::from(xs.clone()));
        let l = t.log_sum_exp().unwrap();
        let direct = naive_lse(&xs);
        // relative 1e-14: a sum of ≤ 12 positive terms and one logarithm
        prop_assert!(close(l.value(), direct, 1e-14), "{} vs {}", l.value(), direct);
        l.backward();
        let z: f64 = xs.iter().map(|v| v.exp()).sum();
        for (g, v) in grad_vec(t).iter().zip(&xs) {
            prop_assert!((g - v.exp() / z).abs() <= 1e-14);
        }
        // shift invariance far outside the range of exp: lse(x + c) = lse(x) + c
        let shifted: Vec<f64> = xs.iter().map(|v| v + shift).collect();
        let tape2 = Tape::new();
        let ls = tape2.tensor(&ndarray::Array1::from(shifted)).log_sum_exp().unwrap();
        prop_assert!((ls.value() - (direct + shift)).abs() <= 1e-12 * (1.0 + shift.abs()));
        // the slice form agrees with the tensor form, and the axis form row by row
        let vars: Vec<Var<'_>> = xs.iter().map(|&v| tape.var(v)).collect();
        prop_assert!((log_sum_exp(&vars).unwrap().value() - l.value()).abs() <= 1e-15 * (1.0 + l.value().abs()));
        let m = tape.tensor(&arr(&[1, xs.len()], &xs));
        let row = m.log_sum_exp_axis(1).unwrap().to_vec()[0];
        prop_assert!((row - l.value()).abs() <= 1e-15 * (1.0 + l.value().abs()));
        check_gradient(&[arr(&[xs.len()], &xs)], |_, v| v[0].log_sum_exp(), &cfg())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_gradient_scalar(&xs, |_, v| log_sum_exp(v).unwrap(), &cfg())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    #[test]
    fn log_sum_exp_axis_gradient(xs in proptest::collection::vec(-5.0f64..5.0, 12)) {
        for axis in 0..3 {
            check_gradient(
                &[arr(&[2, 3, 2], &xs)],
                |tp, v| Ok(weigh(tp, v[0].log_sum_exp_axis(axis)?)),
                &cfg(),
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }
}

#[test]
fn log_sum_exp_limits() {
    let ninf = f64::NEG_INFINITY;
    let tape = Tape::new();
    // all −∞: −∞ with a zero gradient (the former logsumexp gave NaN partials)
    let t = tape.tensor(&ndarray::array![ninf, ninf]);
    let l = t.log_sum_exp().unwrap();
    assert_eq!(l.value(), ninf);
    l.backward();
    assert_eq!(grad_vec(t), vec![0.0, 0.0]);
    let l = t.logsumexp();
    l.backward();
    assert_eq!(grad_vec(t), vec![0.0, 0.0]);
    // some −∞: they get zero weight
    let t = tape.tensor(&ndarray::array![ninf, 0.0, 0.0]);
    let l = t.log_sum_exp().unwrap();
    l.backward();
    assert_eq!(l.value(), 2f64.ln());
    assert_eq!(grad_vec(t), vec![0.0, 0.5, 0.5]);
    // +∞: +∞, the gradient shared by the infinite elements
    let t = tape.tensor(&ndarray::array![f64::INFINITY, 1.0, f64::INFINITY]);
    let l = t.log_sum_exp().unwrap();
    l.backward();
    assert_eq!(l.value(), f64::INFINITY);
    assert_eq!(grad_vec(t), vec![0.5, 0.0, 0.5]);
    // NaN propagates
    let t = tape.tensor(&ndarray::array![1.0, f64::NAN]);
    let l = t.log_sum_exp().unwrap();
    l.backward();
    assert!(l.value().is_nan());
    assert!(grad_vec(t).iter().all(|g| g.is_nan()));
    // the axis forms apply the same rules per group
    let m = tape.tensor(&ndarray::array![[ninf, ninf], [f64::INFINITY, 0.0]]);
    let r = m.logsumexp_axis(1).unwrap();
    assert_eq!(r.to_vec(), vec![ninf, f64::INFINITY]);
    r.sum().backward();
    assert_eq!(grad_vec(m), vec![0.0, 0.0, 1.0, 0.0]);
    // empty: an error from the checked forms, −∞ from the unchecked ones
    let e = tape.tensor(&ndarray::Array1::<f64>::zeros(0));
    assert_eq!(
        e.log_sum_exp().unwrap_err(),
        AdError::Empty { op: "log_sum_exp" }
    );
    assert_eq!(e.logsumexp().value(), ninf);
    let e2 = tape.tensor(&ndarray::Array2::<f64>::zeros((3, 0)));
    assert!(matches!(e2.log_sum_exp_axis(1), Err(AdError::Empty { .. })));
    assert_eq!(e2.logsumexp_axis(1).unwrap().to_vec(), vec![ninf; 3]);
    assert_eq!(e2.log_sum_exp_axis(0).unwrap().dims(), &[0]);
    assert!(matches!(
        e2.log_sum_exp_axis(2),
        Err(AdError::AxisOutOfRange { axis: 2, .. })
    ));
    assert_eq!(
        log_sum_exp(&[]).unwrap_err(),
        AdError::Empty { op: "log_sum_exp" }
    );
    let other = Tape::new();
    assert_eq!(
        log_sum_exp(&[tape.var(1.0), other.var(1.0)]).unwrap_err(),
        AdError::DifferentTapes { op: "log_sum_exp" }
    );
}

// ---------------------------------------------------------------------------------------
// log_mix

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn log_mix_values_and_gradient(
        th in 0.05f64..0.95,
        a in -30.0f64..30.0,
        b in -30.0f64..30.0,
        shift in -1e4f64..1e4,
    ) {
        let tape = Tape::new();
        let (t, x, y) = (tape.var(th), tape.var(a), tape.var(b));
        let l = log_mix(t, x, y).unwrap();
        let direct = naive_mix(th, a, b);
        prop_assert!(close(l.value(), direct, 1e-14), "{} vs {}", l.value(), direct);
        l.backward();
        // closed forms: θe^a/S, (1 − θ)e^b/S, (e^a − e^b)/S
        let s = th * a.exp() + (1.0 - th) * b.exp();
        prop_assert!((x.grad() - th * a.exp() / s).abs() <= 1e-14);
        prop_assert!((y.grad() - (1.0 - th) * b.exp() / s).abs() <= 1e-14);
        prop_assert!(close(t.grad(), (a.exp() - b.exp()) / s, 1e-13));
        // far from the range of exp: shifting both log densities shifts the result
        let ls = log_mix(t, tape.var(a + shift), tape.var(b + shift)).unwrap();
        prop_assert!((ls.value() - (direct + shift)).abs() <= 1e-12 * (1.0 + shift.abs()));
        check_gradient_scalar(&[th, a, b], |_, v| log_mix(v[0], v[1], v[2]).unwrap(), &cfg())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    /// K components through a softmax (so that the weights stay a simplex under the
    /// finite-difference perturbation); values and weight partials against closed forms.
    #[test]
    fn log_mix_weights_values_and_gradient(
        logits in proptest::collection::vec(-3.0f64..3.0, 4),
        lps in proptest::collection::vec(-20.0f64..5.0, 4),
    ) {
        let tape = Tape::new();
        let w = tape.tensor(&ndarray::Array1::from(logits.clone())).softmax(0).unwrap();
        let wv = w.to_vec();
        let lp = tape.tensor(&ndarray::Array1::from(lps.clone()));
        let l = log_mix_weights(w, lp).unwrap();
        let s: f64 = wv.iter().zip(&lps).map(|(w, x)| w * x.exp()).sum();
        prop_assert!(close(l.value(), s.ln(), 1e-14));
        l.backward();
        for k in 0..4 {
            prop_assert!((lp.grad()[[k]] - wv[k] * lps[k].exp() / s).abs() <= 1e-14);
            prop_assert!(close(w.grad()[[k]], lps[k].exp() / s, 1e-13));
        }
        // the two-component form is log_mix
        let two = tape.tensor(&ndarray::array![wv[0], 1.0 - wv[0]]);
        let lp2 = tape.tensor(&ndarray::array![lps[0], lps[1]]);
        let a = log_mix_weights(two, lp2).unwrap().value();
        let b = log_mix(tape.var(wv[0]), tape.var(lps[0]), tape.var(lps[1])).unwrap().value();
        prop_assert!((a - b).abs() <= 1e-14 * (1.0 + b.abs()));
        check_gradient(
            &[arr(&[4], &logits), arr(&[4], &lps)],
            |_, v| log_mix_weights(v[0].softmax(0)?, v[1]),
            &cfg(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn log_mix_edges() {
    let ninf = f64::NEG_INFINITY;
    let tape = Tape::new();
    // θ at the ends: exactly the other component, with ∂/∂θ = e^{lp₁ − lp₂} − 1 at θ = 0
    let (t, a, b) = (tape.var(0.0), tape.var(-1.0), tape.var(-2.5));
    let l = log_mix(t, a, b).unwrap();
    assert_eq!(l.value(), -2.5);
    l.backward();
    assert_eq!((a.grad(), b.grad()), (0.0, 1.0));
    assert!((t.grad() - (1.5f64.exp() - 1.0)).abs() <= 1e-15 * 1.5f64.exp());
    let l = log_mix(tape.var(1.0), a, b).unwrap();
    assert_eq!(l.value(), -1.0);
    // a component with −∞ log density contributes nothing; both −∞: −∞ and zero gradients
    let l = log_mix(tape.var(0.25), tape.var(ninf), tape.var(-3.0)).unwrap();
    assert!((l.value() - (0.75f64.ln() - 3.0)).abs() <= 1e-15);
    let (t, a, b) = (tape.var(0.25), tape.var(ninf), tape.var(ninf));
    let l = log_mix(t, a, b).unwrap();
    assert_eq!(l.value(), ninf);
    l.backward();
    assert_eq!((t.grad(), a.grad(), b.grad()), (0.0, 0.0, 0.0));
    // far apart log densities: no overflow, no ln 0
    let l = log_mix(tape.var(0.5), tape.var(-1e5), tape.var(800.0)).unwrap();
    assert!((l.value() - (800.0 + 0.5f64.ln())).abs() <= 1e-12);
    // NaN propagates
    assert!(
        log_mix(tape.var(0.5), tape.var(f64::NAN), tape.var(0.0))
            .unwrap()
            .value()
            .is_nan()
    );
    // θ outside [0, 1] or NaN: a typed error naming θ and its value
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        match log_mix(tape.var(bad), tape.var(0.0), tape.var(0.0)) {
            Err(AdError::InvalidArgument {
                op: "log_mix",
                name,
                value,
                ..
            }) => {
                assert_eq!(name, "theta");
                assert!(value.to_bits() == bad.to_bits());
            }
            other => panic!("θ = {bad}: {other:?}"),
        }
    }
    let msg = log_mix(tape.var(1.5), tape.var(0.0), tape.var(0.0))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("theta") && msg.contains("1.5"), "{msg}");
    let other = Tape::new();
    assert_eq!(
        log_mix(tape.var(0.5), other.var(0.0), tape.var(0.0)).unwrap_err(),
        AdError::DifferentTapes { op: "log_mix" }
    );
}

#[test]
fn log_mix_weights_errors() {
    let tape = Tape::new();
    let lps = tape.tensor(&ndarray::array![-1.0, -2.0, -3.0]);
    let w = |v: [f64; 3]| tape.tensor(&ndarray::Array1::from(v.to_vec()));
    match log_mix_weights(w([0.5, 1.2, -0.7]), lps) {
        Err(AdError::InvalidArgument { name, value, .. }) => {
            assert_eq!(name, "weights[1]");
            assert_eq!(value, 1.2);
        }
        other => panic!("{other:?}"),
    }
    match log_mix_weights(w([0.2, 0.3, 0.4]), lps) {
        Err(AdError::InvalidArgument { name, value, .. }) => {
            assert_eq!(name, "sum of weights");
            assert!((value - 0.9).abs() < 1e-15);
        }
        other => panic!("{other:?}"),
    }
    assert!(log_mix_weights(w([0.2, f64::NAN, 0.8]), lps).is_err());
    assert!(matches!(
        log_mix_weights(tape.tensor(&ndarray::array![0.5, 0.5]), lps),
        Err(AdError::ShapeMismatch {
            op: "log_mix_weights",
            ..
        })
    ));
    let e = tape.tensor(&ndarray::Array1::<f64>::zeros(0));
    assert!(matches!(log_mix_weights(e, e), Err(AdError::Empty { .. })));
    // a zero weight silences its component, even a +∞ one
    let l = log_mix_weights(
        w([0.0, 1.0, 0.0]),
        tape.tensor(&ndarray::array![f64::INFINITY, -2.0, 0.0]),
    )
    .unwrap();
    assert_eq!(l.value(), -2.0);
    // within the tolerance: accepted
    assert!(log_mix_weights(w([0.2, 0.3, 0.5 + 1e-12]), lps).is_ok());
}

// ---------------------------------------------------------------------------------------
// the kernels behind StudentT's hoisted log density

/// `fastmath::ln_1p_and_recip` against `f64::ln_1p` and `1/(1 + x)` on a dense grid over
/// many binades (the logarithm to 1 ulp, as `fastmath::ln_1p`; the reciprocal exactly).
#[test]
fn ln_1p_and_recip_matches_std() {
    use infer_ad::fastmath::ln_1p_and_recip;
    let mut x: f64 = 1e-300;
    while x < 1e300 {
        for y in [x, -x.min(0.999_999)] {
            let (l, r) = ln_1p_and_recip(y);
            let e = y.ln_1p();
            assert!(
                (l - e).abs() <= f64::EPSILON * e.abs(),
                "x = {y}: {l} vs {e}"
            );
            assert_eq!(r, 1.0 / (1.0 + y));
        }
        x *= 1.37;
    }
    assert!(ln_1p_and_recip(-2.0).0.is_nan());
}

/// `Tape::fused_sum` with single-element operands (the path StudentT's and every family's
/// scalar-parameter log density takes) over lengths around its block size: the total and
/// every partial against a direct loop (sums of ≤ 1000 terms of size ≤ 2: 1e-12).
#[test]
fn fused_sum_with_scalar_operands_across_blocks() {
    for n in [1usize, 2, 255, 256, 257, 513, 1000] {
        let xs: Vec<f64> = (0..n)
            .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let tape = Tape::new();
        let x = tape.tensor(&ndarray::Array1::from(xs.clone()));
        let (a, b) = (tape.var(0.7), tape.var(-0.2));
        let s = tape
            .fused_sum([x, a.as_tensor(), b.as_tensor()], |_, [x, a, b]| {
                (a * x * x + b * x, [2.0 * a * x + b, x * x, x])
            })
            .unwrap();
        let direct: f64 = xs.iter().map(|x| 0.7 * x * x - 0.2 * x).sum();
        assert!((s.value() - direct).abs() <= 1e-12, "n = {n}");
        s.backward();
        let sq: f64 = xs.iter().map(|x| x * x).sum();
        let sum: f64 = xs.iter().sum();
        assert!((a.grad() - sq).abs() <= 1e-12 && (b.grad() - sum).abs() <= 1e-12);
        for (g, x) in grad_vec(x).iter().zip(&xs) {
            assert_eq!(*g, 2.0 * 0.7 * x - 0.2);
        }
    }
}
