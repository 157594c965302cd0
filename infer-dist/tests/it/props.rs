//! Property tests: log_prob gradients against infer-ad's central-difference checker over random
//! valid parameters for every family; constructors never panic on arbitrary f64 input; values
//! outside the support have log density −∞ (never NaN) with a finite (zero) gradient.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape, Tensor, Var};
use infer_dist::*;
use ndarray::{ArrayD, arr0, arr1};
use proptest::prelude::*;

fn fail(e: DistError) -> AdError {
    match e {
        DistError::Ad(a) => a,
        _ => AdError::InvalidHyperParameter {
            name: "distribution",
            value: f64::NAN,
            reason: "constructor or log_prob failed",
        },
    }
}

/// Builds a distribution from parameter tensors.
type Build =
    for<'t> fn(&'t Tape, &[Tensor<'t>]) -> Result<Box<dyn Distribution<'t> + 't>, DistError>;

fn a0(x: f64) -> ArrayD<f64> {
    arr0(x).into_dyn()
}

fn cfg() -> GradCheckConfig {
    GradCheckConfig {
        step: 1e-4,
        atol: 1e-6,
        rtol: 1e-5,
    }
}

/// Gradient check of Σ log_prob for a distribution built from `inputs[..n_params]`, at the
/// value `inputs[n_params]` (continuous families) or the constant `value` (discrete ones).
fn gc(
    inputs: Vec<ArrayD<f64>>,
    build: Build,
    value: Option<ArrayD<f64>>,
) -> Result<(), TestCaseError> {
    let n = inputs.len();
    let r = check_gradient(
        &inputs,
        |tape, t| {
            let (params, x) = match &value {
                Some(v) => (t, tape.constant(v)),
                None => (&t[..n - 1], t[n - 1]),
            };
            let d = build(tape, params).map_err(fail)?;
            let a: Var<'_> = d.log_prob(x).map_err(fail)?.sum();
            // the fused sum must agree with the elementwise path
            let b = d.log_prob_sum(x).map_err(fail)?;
            Ok(a * 0.5 + b * 0.5)
        },
        &cfg(),
    );
    prop_assert!(r.is_ok(), "{:?} at {:?}", r, inputs);
    Ok(())
}

macro_rules! build {
    (|$t:ident, $p:ident| $e:expr) => {{
        fn f<'t>(
            $t: &'t Tape,
            $p: &[Tensor<'t>],
        ) -> Result<Box<dyn Distribution<'t> + 't>, DistError> {
            let _ = $t;
            Ok(Box::new($e?))
        }
        f
    }};
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn grad_location_scale(m in -3.0..3.0f64, s in 0.2..3.0f64, z in -3.0..3.0f64) {
        let x = m + s * z;
        let i = || vec![a0(m), a0(s), a0(x)];
        gc(i(), build!(|t, p| Normal::new(p[0], p[1])), None)?;
        gc(i(), build!(|t, p| Cauchy::new(p[0], p[1])), None)?;
        gc(i(), build!(|t, p| Gumbel::new(p[0], p[1])), None)?;
        if z.abs() > 0.01 {
            gc(i(), build!(|t, p| Laplace::new(p[0], p[1])), None)?;
        }
        gc(vec![a0(m), a0(s), a0(x.abs() + 0.1)], build!(|t, p| LogNormal::new(p[0], p[1])), None)?;
    }

    #[test]
    fn grad_positive_families(a in 0.3..6.0f64, b in 0.3..4.0f64, x in 0.05..6.0f64) {
        gc(vec![a0(b), a0(x)], build!(|t, p| HalfNormal::new(p[0])), None)?;
        gc(vec![a0(b), a0(x)], build!(|t, p| HalfCauchy::new(p[0])), None)?;
        gc(vec![a0(b), a0(x)], build!(|t, p| Exponential::new(p[0])), None)?;
        gc(vec![a0(a), a0(b), a0(x)], build!(|t, p| Gamma::new(p[0], p[1])), None)?;
        gc(vec![a0(a), a0(b), a0(x)], build!(|t, p| InverseGamma::new(p[0], p[1])), None)?;
        gc(vec![a0(b), a0(a), a0(x)], build!(|t, p| Weibull::new(p[0], p[1])), None)?;
        gc(vec![a0(a), a0(x)], build!(|t, p| Chi2::new(p[0])), None)?;
        gc(vec![a0(a), a0(x - 1.0), a0(b), a0(x * x - 2.0)], build!(|t, p| StudentT::new(p[0], p[1], p[2])), None)?;
    }

    #[test]
    fn grad_bounded_families(a in 0.3..5.0f64, b in 0.3..5.0f64, u in 0.05..0.95f64, lo in -2.0..2.0f64, w in 0.5..3.0f64) {
        gc(vec![a0(a), a0(b), a0(u)], build!(|t, p| Beta::new(p[0], p[1])), None)?;
        gc(vec![a0(a), a0(b), a0(u)], build!(|t, p| Kumaraswamy::new(p[0], p[1])), None)?;
        gc(vec![a0(lo), a0(lo + w), a0(lo + u * w)], build!(|t, p| Uniform::new(p[0], p[1])), None)?;
        // Pareto: the value sits at least 5% above the scale
        gc(vec![a0(b), a0(a), a0(b * (1.05 + 3.0 * u))], build!(|t, p| Pareto::new(p[0], p[1])), None)?;
    }

    #[test]
    fn grad_discrete_families(p in 0.05..0.95f64, r in 0.2..8.0f64, k in 0u32..12, l in -3.0..3.0f64) {
        let kf = f64::from(k);
        let bern = if k % 2 == 0 { 0.0 } else { 1.0 };
        gc(vec![a0(p)], build!(|t, q| Bernoulli::from_probs(q[0])), Some(a0(bern)))?;
        gc(vec![a0(l)], build!(|t, q| Bernoulli::from_logits(q[0])), Some(a0(bern)))?;
        gc(vec![a0(p)], build!(|t, q| Binomial::new(t.constant(&arr0(12.0)), q[0])), Some(a0(kf)))?;
        gc(vec![a0(r)], build!(|t, q| Poisson::new(q[0])), Some(a0(kf)))?;
        gc(vec![a0(p)], build!(|t, q| Geometric::new(q[0])), Some(a0(kf)))?;
        gc(vec![a0(r), a0(p)], build!(|t, q| NegativeBinomial::new(q[0], q[1])), Some(a0(kf)))?;
        let probs = arr1(&[p, 1.0 - p, r / 8.0]).into_dyn();
        let cat = a0(f64::from(k % 3));
        gc(vec![probs.clone()], build!(|t, q| Categorical::from_probs(q[0])), Some(cat.clone()))?;
        gc(vec![probs], build!(|t, q| Categorical::from_logits(q[0])), Some(cat))?;
    }

    #[test]
    fn grad_multivariate(a in 0.3..4.0f64, b in 0.3..4.0f64, c in 0.3..4.0f64, u in 0.1..0.8f64,
                         m in -2.0..2.0f64, l0 in 0.3..2.0f64, l1 in -1.0..1.0f64, l2 in 0.3..2.0f64) {
        let v = arr1(&[u, (1.0 - u) * 0.4, (1.0 - u) * 0.6]).into_dyn();
        gc(vec![arr1(&[a, b, c]).into_dyn()], build!(|t, q| Dirichlet::new(q[0])), Some(v))?;
        // MVN: loc, the 3 free entries of a 2×2 Cholesky factor, and the value
        gc(
            vec![arr1(&[m, -m]).into_dyn(), arr1(&[l0, l1, l2]).into_dyn(), arr1(&[m + 0.5, 0.3]).into_dyn()],
            build!(|t, q| {
                let e = q[1];
                let zero = t.constant(&arr0(0.0)).item()?;
                let l = t.stack_vars(&[e.flat(0)?, zero, e.flat(1)?, e.flat(2)?])?.reshape(&[2, 2])?;
                MultivariateNormal::new(q[0], l)
            }),
            None,
        )?;
    }

    /// Constructors return Ok or a typed Err for any f64, including NaN and ±∞; a built
    /// distribution evaluates any value without panicking, and a value outside its support
    /// has log density exactly −∞ (never NaN).
    #[test]
    fn constructors_never_panic(a in any::<f64>(), b in any::<f64>(), c in any::<f64>(), x in any::<f64>()) {
        let tape = Tape::new();
        let s = |v: f64| tape.var(v).as_tensor();
        let ds: Vec<Result<Box<dyn Distribution<'_> + '_>, DistError>> = vec![
            Normal::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Cauchy::new(s(a), s(b)).map(|d| Box::new(d) as _),
            LogNormal::new(s(a), s(b)).map(|d| Box::new(d) as _),
            HalfNormal::new(s(a)).map(|d| Box::new(d) as _),
            HalfCauchy::new(s(a)).map(|d| Box::new(d) as _),
            Exponential::new(s(a)).map(|d| Box::new(d) as _),
            Gamma::new(s(a), s(b)).map(|d| Box::new(d) as _),
            InverseGamma::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Beta::new(s(a), s(b)).map(|d| Box::new(d) as _),
            StudentT::new(s(a), s(b), s(c)).map(|d| Box::new(d) as _),
            Laplace::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Uniform::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Gumbel::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Weibull::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Chi2::new(s(a)).map(|d| Box::new(d) as _),
            Pareto::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Kumaraswamy::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Bernoulli::from_probs(s(a)).map(|d| Box::new(d) as _),
            Bernoulli::from_logits(s(a)).map(|d| Box::new(d) as _),
            Binomial::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Poisson::new(s(a)).map(|d| Box::new(d) as _),
            Geometric::new(s(a)).map(|d| Box::new(d) as _),
            NegativeBinomial::new(s(a), s(b)).map(|d| Box::new(d) as _),
            Categorical::from_probs(tape.tensor(&arr1(&[a, b, c]))).map(|d| Box::new(d) as _),
            Categorical::from_logits(tape.tensor(&arr1(&[a, b, c]))).map(|d| Box::new(d) as _),
            Dirichlet::new(tape.tensor(&arr1(&[a, b, c]))).map(|d| Box::new(d) as _),
            MultivariateNormal::new(tape.tensor(&arr1(&[a, b])), tape.tensor(&ndarray::arr2(&[[c, 0.0], [a, b]])))
                .map(|d| Box::new(d) as _),
            Delta::new(s(a)).map(|d| Box::new(d) as _),
        ];
        for d in ds {
            let Ok(d) = d else { continue };
            let n = d.event_shape().dims().first().copied().unwrap_or(1);
            let v = if d.event_shape().ndim() == 0 {
                tape.constant(&arr0(x))
            } else {
                tape.constant(&ndarray::Array1::from_elem(n, x))
            };
            let lp = d.log_prob(v).expect("shapes agree");
            let inside = d.support().check_event(&vec![x; n]);
            if !inside && !x.is_nan() {
                for l in lp.to_vec() {
                    prop_assert!(l == f64::NEG_INFINITY, "{}: log_prob({x}) = {l} outside the support", d.name());
                }
            }
        }
    }

    #[test]
    fn shape_mismatch_is_an_error(n in 2usize..5, dm in 1usize..3) {
        let m = n + dm;
        let tape = Tape::new();
        let a = tape.tensor(&ndarray::Array1::from_elem(n, 1.0));
        let b = tape.tensor(&ndarray::Array1::from_elem(m, 1.0));
        let bad = matches!(Normal::new(a, b), Err(DistError::ShapeMismatch { .. }));
        prop_assert!(bad);
        let d = Normal::new(a, a).expect("valid");
        let bad = matches!(d.log_prob(b), Err(DistError::ShapeMismatch { .. }));
        prop_assert!(bad);
    }
}

/// Values outside the support: −∞ exactly, never NaN, and a zero (finite) gradient.
#[test]
fn outside_support_is_negative_infinity() {
    let tape = Tape::new();
    let s = |v: f64| tape.var(v).as_tensor();
    let cases: Vec<(Box<dyn Distribution<'_> + '_>, Vec<f64>)> = vec![
        (
            Box::new(LogNormal::new(s(0.0), s(1.0)).expect("ok")),
            vec![-1.0, 0.0, f64::INFINITY],
        ),
        (
            Box::new(HalfNormal::new(s(1.0)).expect("ok")),
            vec![-0.5, f64::NEG_INFINITY],
        ),
        (Box::new(HalfCauchy::new(s(1.0)).expect("ok")), vec![-0.5]),
        (Box::new(Exponential::new(s(1.0)).expect("ok")), vec![-0.5]),
        (
            Box::new(Gamma::new(s(2.0), s(1.0)).expect("ok")),
            vec![-0.5, f64::INFINITY],
        ),
        (
            Box::new(InverseGamma::new(s(2.0), s(1.0)).expect("ok")),
            vec![-0.5, 0.0],
        ),
        (
            Box::new(Beta::new(s(2.0), s(3.0)).expect("ok")),
            vec![-0.1, 1.1],
        ),
        (
            Box::new(Kumaraswamy::new(s(2.0), s(3.0)).expect("ok")),
            vec![-0.1, 1.1],
        ),
        (
            Box::new(Uniform::new(s(0.0), s(1.0)).expect("ok")),
            vec![-0.1, 1.0, 2.0],
        ),
        (
            Box::new(Weibull::new(s(1.0), s(2.0)).expect("ok")),
            vec![-0.1],
        ),
        (Box::new(Chi2::new(s(3.0)).expect("ok")), vec![-0.1]),
        (
            Box::new(Pareto::new(s(1.0), s(2.0)).expect("ok")),
            vec![0.5, -1.0],
        ),
        (
            Box::new(Normal::new(s(0.0), s(1.0)).expect("ok")),
            vec![f64::INFINITY],
        ),
        (
            Box::new(Bernoulli::from_probs(s(0.3)).expect("ok")),
            vec![0.5, 2.0, -1.0],
        ),
        (
            Box::new(Binomial::new(s(5.0), s(0.3)).expect("ok")),
            vec![6.0, -1.0, 2.5],
        ),
        (Box::new(Poisson::new(s(2.0)).expect("ok")), vec![-1.0, 1.5]),
        (
            Box::new(Geometric::new(s(0.3)).expect("ok")),
            vec![-1.0, 0.5],
        ),
        (
            Box::new(NegativeBinomial::new(s(2.0), s(0.3)).expect("ok")),
            vec![-1.0, 0.5],
        ),
        (
            Box::new(Categorical::from_probs(tape.tensor(&arr1(&[0.2, 0.8]))).expect("ok")),
            vec![2.0, -1.0, 0.5],
        ),
        (Box::new(Delta::new(s(1.0)).expect("ok")), vec![1.5]),
    ];
    for (d, xs) in cases {
        let v = tape.tensor(&arr1(&xs));
        let lp = d.log_prob(v).expect("shapes agree");
        for (x, l) in xs.iter().zip(lp.to_vec()) {
            assert_eq!(l, f64::NEG_INFINITY, "{} at {x}", d.name());
        }
        let total = d.log_prob_sum(v).expect("shapes agree");
        assert_eq!(total.value(), f64::NEG_INFINITY, "{} sum", d.name());
        lp.sum().backward();
        assert!(
            v.grad().iter().all(|g| g.is_finite()),
            "{} gradient",
            d.name()
        );
    }
    // Dirichlet off the simplex and MVN never leave their support
    let dir = Dirichlet::new(tape.tensor(&arr1(&[1.0, 2.0]))).expect("ok");
    let off = tape.constant(&arr1(&[0.7, 0.7]));
    assert_eq!(
        dir.log_prob(off).expect("shape").to_vec(),
        vec![f64::NEG_INFINITY]
    );
    let neg = tape.constant(&arr1(&[-0.5, 1.5]));
    assert_eq!(
        dir.log_prob(neg).expect("shape").to_vec(),
        vec![f64::NEG_INFINITY]
    );
}

#[test]
fn constructor_errors_name_the_parameter() {
    let tape = Tape::new();
    let s = |v: f64| tape.var(v).as_tensor();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        match Normal::new(s(0.0), s(bad)) {
            Err(DistError::InvalidParameter {
                dist: "Normal",
                param: "scale",
                value,
                ..
            }) => {
                assert!(value == bad || (value.is_nan() && bad.is_nan()));
            }
            other => panic!("scale {bad}: {other:?}"),
        }
    }
    assert!(matches!(
        Bernoulli::from_probs(s(1.5)),
        Err(DistError::InvalidParameter { param: "probs", .. })
    ));
    let upper = tape.tensor(&ndarray::arr2(&[[1.0, 0.2], [0.0, 1.0]]));
    assert!(matches!(
        MultivariateNormal::new(tape.tensor(&arr1(&[0.0, 0.0])), upper),
        Err(DistError::InvalidParameter {
            param: "scale_tril",
            ..
        })
    ));
    let neg_diag = tape.tensor(&ndarray::arr2(&[[1.0, 0.0], [0.0, -1.0]]));
    assert!(matches!(
        MultivariateNormal::new(tape.tensor(&arr1(&[0.0, 0.0])), neg_diag),
        Err(DistError::InvalidParameter { param: "scale_tril", value, .. }) if value == -1.0
    ));
    let wrong = tape.tensor(&ndarray::arr2(&[[1.0, 0.0], [0.0, 1.0]]));
    assert!(matches!(
        MultivariateNormal::new(tape.tensor(&arr1(&[0.0, 0.0, 0.0])), wrong),
        Err(DistError::ShapeMismatch { .. })
    ));
}
