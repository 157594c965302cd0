//! Every operation of infer-ad checked against the central-difference gradient checker on
//! random inputs in its domain (proptest). Tensor-valued operations are reduced with a random
//! constant weight tensor, so the whole Jacobian is exercised.

use infer_ad::gradcheck::{check_gradient, check_gradient_scalar};
use infer_ad::{AdError, Tape, Tensor, Var};
use proptest::prelude::*;
use std::sync::Arc;

use crate::common::{arr, cfg, weigh};

fn vec_in(lo: f64, hi: f64, n: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(lo..hi, n)
}

/// A value in [lo, hi] of random sign, so |x| ≥ lo (away from kinks at 0).
fn signed(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi, any::<bool>()).prop_map(|(x, s)| if s { x } else { -x })
}

macro_rules! unary_props {
    ($($name:ident: $method:ident in $strat:expr;)*) => {
        $(
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(48))]
                #[test]
                fn $name(x in $strat, xs in proptest::collection::vec($strat, 6)) {
                    check_gradient_scalar(&[x], |_, v| v[0].$method(), &cfg()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    check_gradient(&[arr(&[2, 3], &xs)], |t, v| Ok(weigh(t, v[0].$method())), &cfg())
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
        )*
    };
}

unary_props! {
    prop_exp: exp in -5.0f64..5.0;
    prop_ln: ln in 0.05f64..20.0;
    prop_ln_1p: ln_1p in -0.9f64..20.0;
    prop_exp_m1: exp_m1 in -5.0f64..5.0;
    prop_sqrt: sqrt in 0.05f64..20.0;
    prop_sin: sin in -6.0f64..6.0;
    prop_cos: cos in -6.0f64..6.0;
    prop_tanh: tanh in -4.0f64..4.0;
    prop_sigmoid: sigmoid in -10.0f64..10.0;
    prop_softplus: softplus in -10.0f64..10.0;
    prop_log_sigmoid: log_sigmoid in -10.0f64..10.0;
    prop_abs: abs in signed(0.01, 5.0);
    prop_recip: recip in signed(0.1, 5.0);
    prop_square: square in -5.0f64..5.0;
    prop_neg: neg_op in -5.0f64..5.0;
    prop_lgamma: lgamma in 0.05f64..30.0;
    prop_lgamma_negative: lgamma in (0i32..4, 0.15f64..0.85).prop_map(|(k, f)| -f64::from(k) - f);
    prop_digamma: digamma in 0.1f64..30.0;
    prop_erf: erf in -3.0f64..3.0;
    prop_erfc: erfc in -3.0f64..3.0;
    prop_log_normal_cdf: log_normal_cdf in -30.0f64..8.0;
}

/// `-x` through a method so the macro can use it.
trait NegOp {
    fn neg_op(self) -> Self;
}
impl NegOp for Var<'_> {
    fn neg_op(self) -> Self {
        -self
    }
}
impl NegOp for Tensor<'_> {
    fn neg_op(self) -> Self {
        -self
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_scalar_arithmetic(a in -3.0f64..3.0, b in signed(0.2, 3.0), c in signed(0.2, 3.0)) {
        check_gradient_scalar(&[a, b], |_, v| v[0] + v[1] * v[0] - v[1] / v[0].exp(), &cfg()).map_err(fail)?;
        check_gradient_scalar(&[a, b], |_, v| (v[0] + c) * (c - v[1]) + (v[0] / c) + (c / v[1]) - (v[0] - c) * (c + v[1]) * c, &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_pow_family(x in 0.2f64..4.0, p in -2.5f64..2.5, n in -3i32..4) {
        check_gradient_scalar(&[x], |_, v| v[0].powf(p), &cfg()).map_err(fail)?;
        check_gradient_scalar(&[x], |_, v| v[0].powi(n), &cfg()).map_err(fail)?;
        check_gradient_scalar(&[x, p], |_, v| v[0].pow(v[1]).expect("one tape"), &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[3], &[x, x + 0.5, x + 1.0]), arr(&[3], &[p, -p, 0.5 * p])],
            |t, v| Ok(weigh(t, v[0].pow(v[1])?)), &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[2], &[x, x + 1.0])], |t, v| Ok(weigh(t, v[0].powf(p)) + weigh(t, v[0].powi(n))), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_min_max_clamp(a in -3.0f64..3.0, d in signed(0.05, 2.0), lo in -4.0f64..-3.5, hi in 3.5f64..4.0) {
        let b = a + d;
        check_gradient_scalar(&[a, b], |_, v| v[0].min(v[1]).expect("one tape") * 2.0 + v[0].max(v[1]).expect("one tape") * 3.0, &cfg()).map_err(fail)?;
        // 2a crosses the clamp bounds; |2a − bound| < h happens with probability ~1e-4 per case
        check_gradient_scalar(&[a, b], |_, v| (v[0] * 2.0).clamp(lo, hi) * v[1], &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[2], &[a, a - 1.0]), arr(&[2], &[b, b - 1.0])],
            |t, v| Ok(weigh(t, v[0].minimum(v[1])?) + weigh(t, v[0].maximum(v[1])?) + weigh(t, v[0].clamp(lo, hi))), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_tensor_elementwise_broadcasting(a in vec_in(-2.0, 2.0, 6), b in vec_in(0.5, 2.0, 3), s in 0.5f64..2.0) {
        // [2,3] ⊕ [3] ⊕ scalar, through all four operators and the f64 / Var overloads
        check_gradient(&[arr(&[2, 3], &a), arr(&[3], &b), arr(&[], &[s])], |t, v| {
            let sv = v[2].item()?;
            let x = (v[0] + v[1]) * v[1] - v[0] / v[1] + v[0] * sv - sv / v[1] + (2.0 - v[0]) * 0.5 + 1.5 / v[1] - v[1] * 3.0 + (v[0] - 1.0) / 2.0;
            Ok(weigh(t, x))
        }, &cfg()).map_err(fail)?;
        // [2,1] against [1,3]
        check_gradient(&[arr(&[2, 1], &a[..2]), arr(&[1, 3], &b)], |t, v| Ok(weigh(t, v[0] * v[1] + v[0].broadcast_to(infer_ad::Shape::new(&[2, 3])?)?)), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_reductions(a in vec_in(-3.0, 3.0, 12), m in -2.0f64..2.0, k in 0usize..12) {
        let x = arr(&[3, 4], &a);
        // sum_sq_dev: value against the naive sum (lengths 0..12 cover the vectorized chunks
        // and the remainder), gradient in the values and the centre against the checker.
        let tape = Tape::new();
        let naive: f64 = a[..k].iter().map(|v| (v - m) * (v - m)).sum();
        let got = tape.tensor(&arr(&[k], &a[..k])).sum_sq_dev(tape.var(m)).map_err(fail)?.value();
        prop_assert!((got - naive).abs() <= 1e-12 * (1.0 + naive), "{got} vs {naive}");
        check_gradient(&[x.clone(), arr(&[], &[m])], |_, v| v[0].sum_sq_dev(v[1].item()?), &cfg()).map_err(fail)?;
        check_gradient(std::slice::from_ref(&x), |_, v| Ok(v[0].sum() * v[0].mean()), &cfg()).map_err(fail)?;
        for axis in 0..2 {
            check_gradient(std::slice::from_ref(&x), |t, v| Ok(weigh(t, v[0].sum_axis(axis)?) + weigh(t, v[0].mean_axis(axis)?)), &cfg()).map_err(fail)?;
            check_gradient(std::slice::from_ref(&x), |t, v| Ok(weigh(t, v[0].logsumexp_axis(axis)?)), &cfg()).map_err(fail)?;
            check_gradient(std::slice::from_ref(&x), |t, v| Ok(weigh(t, v[0].softmax(axis)?)), &cfg()).map_err(fail)?;
            check_gradient(std::slice::from_ref(&x), |t, v| Ok(weigh(t, v[0].log_softmax(axis)?)), &cfg()).map_err(fail)?;
        }
        check_gradient(&[x], |_, v| Ok(v[0].logsumexp()), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_products(a in vec_in(-2.0, 2.0, 6), b in vec_in(-2.0, 2.0, 12), c in vec_in(-2.0, 2.0, 3)) {
        check_gradient(&[arr(&[3], &c), arr(&[3], &a[..3])], |_, v| v[0].dot(v[1]), &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[2, 3], &a), arr(&[3], &c)], |t, v| Ok(weigh(t, v[0].matvec(v[1])?)), &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[2, 3], &a), arr(&[3, 4], &b)], |t, v| Ok(weigh(t, v[0].matmul(v[1])?)), &cfg()).map_err(fail)?;
        let data = Arc::new(ndarray::Array2::from_shape_vec((2, 3), a.clone()).unwrap());
        check_gradient(&[arr(&[3], &c)], |t, v| Ok(weigh(t, t.data_matvec(&data, v[0])?)), &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[3, 4], &b)], |t, v| Ok(weigh(t, t.data_matmul(&data, v[0])?)), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_triangular(l in vec_in(-1.0, 1.0, 9), d in vec_in(0.5, 2.0, 3), b in vec_in(-2.0, 2.0, 6)) {
        let mut m = l.clone();
        for i in 0..3 { m[i * 3 + i] = d[i]; }
        for lower in [true, false] {
            check_gradient(&[arr(&[3, 3], &m), arr(&[3], &b[..3])], |t, v| Ok(weigh(t, v[0].tri_solve(v[1], lower)?)), &cfg()).map_err(fail)?;
            check_gradient(&[arr(&[3, 3], &m), arr(&[3, 2], &b)], |t, v| Ok(weigh(t, v[0].tri_solve(v[1], lower)?)), &cfg()).map_err(fail)?;
        }
        check_gradient(&[arr(&[3, 3], &m)], |t, v| Ok(v[0].tri_logdet()? + weigh(t, v[0].diag()?)), &cfg()).map_err(fail)?;
    }

    #[test]
    fn prop_shape_ops(a in vec_in(-2.0, 2.0, 12), mask in proptest::collection::vec(any::<bool>(), 12)) {
        let x = arr(&[3, 4], &a);
        let one = |f: &dyn for<'t> Fn(&'t Tape, Tensor<'t>) -> Result<Var<'t>, AdError>| {
            check_gradient(std::slice::from_ref(&x), |t, v| f(t, v[0]), &cfg()).map_err(fail)
        };
        one(&|t, v| Ok(weigh(t, v.reshape(&[2, 6])?.exp())))?;
        one(&|t, v| Ok(weigh(t, v.t()?.sin())))?;
        one(&|t, v| Ok(weigh(t, v.reshape(&[2, 3, 2])?.permute(&[2, 0, 1])?.tanh())))?;
        one(&|_, v| Ok(v.at(&[1, 2])? * v.at(&[2, 3])?))?;
        one(&|t, v| Ok(weigh(t, v.index_axis(1, 2)?) + weigh(t, v.index_axis(0, 1)?.square())))?;
        one(&|t, v| Ok(weigh(t, v.slice_axis(1, 1, 3)?.exp()) + weigh(t, v.slice_axis(0, 1, 3)?)))?;
        one(&|t, v| Ok(weigh(t, t.concat(&[v, v.square()], 1)?) + weigh(t, t.concat(&[v, v], 0)?)))?;
        one(&|t, v| Ok(weigh(t, t.stack(&[v, v.exp()], 1)?)))?;
        one(&|t, v| Ok(weigh(t, v.select(&mask)?.cos())))?;
        one(&|t, v| Ok(weigh(t, t.stack_vars(&[v.flat(0)?, v.flat(5)?, v.flat(0)?])?)))?;
    }

    #[test]
    fn prop_fused(a in vec_in(-2.0, 2.0, 5), loc in -1.0f64..1.0, scale in 0.5f64..2.0) {
        check_gradient(&[arr(&[5], &a), arr(&[], &[loc]), arr(&[], &[scale])], |t, v| {
            t.fused_sum([v[0], v[1], v[2]], |_, [x, m, s]| {
                let z = (x - m) / s;
                (-0.5 * z * z - s.ln(), [-z / s, z / s, (z * z - 1.0) / s])
            })
        }, &cfg()).map_err(fail)?;
        check_gradient(&[arr(&[5], &a), arr(&[], &[loc])], |t, v| {
            let y = t.fused_map([v[0], v[1]], |_, [x, m]| ((x * m).sin(), [m * (x * m).cos(), x * (x * m).cos()]))?;
            Ok(weigh(t, y))
        }, &cfg()).map_err(fail)?;
    }
}
