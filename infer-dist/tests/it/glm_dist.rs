//! The GLM likelihoods as distributions (`BernoulliLogitGlmDist`, `PoissonLogGlmDist`,
//! `NormalIdGlmDist` over a `GlmDesign`) and the fast path of the plain spelling
//! `Bernoulli::from_logits(data_matvec(x, β) + α).log_prob_sum(y)`: agreement with the
//! elementwise families (`log_prob(..).sum()`, which records one partial per observation and
//! takes no fast path), gradients against central differences, typed errors on bad input.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape, Tensor, Var};
use infer_dist::{
    Bernoulli, BernoulliLogitGlmDist, DistError, Distribution, GlmDesign, Normal, NormalIdGlmDist,
    Poisson, PoissonLogGlmDist,
};
use ndarray::{Array1, Array2, ArrayD, arr0, arr1};
use proptest::prelude::*;
use std::sync::Arc;

use crate::common::close;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fam {
    Bernoulli,
    Poisson,
    Normal,
}

const FAMS: [Fam; 3] = [Fam::Bernoulli, Fam::Poisson, Fam::Normal];

/// A design n × k with entries in (−s, s) and outcomes of the family, from a seed
/// (a 64-bit LCG: the data are reproducible and need no RNG crate).
fn data(fam: Fam, n: usize, k: usize, s: f64, seed: u64) -> (Arc<Array2<f64>>, Array1<f64>) {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut u = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = Array2::from_shape_fn((n, k), |_| s * (2.0 * u() - 1.0));
    let y = (0..n)
        .map(|_| match fam {
            Fam::Bernoulli => f64::from(u() < 0.4),
            Fam::Poisson => (u() * 6.0).floor(),
            Fam::Normal => 3.0 * (2.0 * u() - 1.0),
        })
        .collect();
    (Arc::new(x), y)
}

fn fail(e: DistError) -> AdError {
    match e {
        DistError::Ad(a) => a,
        _ => AdError::InvalidHyperParameter {
            name: "glm",
            value: f64::NAN,
            reason: "constructor or log density failed",
        },
    }
}

/// The fused log likelihood of the GLM distribution of `fam`.
fn fused<'t>(
    fam: Fam,
    design: &GlmDesign,
    alpha: Option<Tensor<'t>>,
    beta: Tensor<'t>,
    sigma: Tensor<'t>,
    y: Tensor<'t>,
) -> Result<Var<'t>, DistError> {
    match fam {
        Fam::Bernoulli => BernoulliLogitGlmDist::new(design, alpha, beta)?.log_prob_sum(y),
        Fam::Poisson => PoissonLogGlmDist::new(design, alpha, beta)?.log_prob_sum(y),
        Fam::Normal => NormalIdGlmDist::new(design, alpha, beta, sigma)?.log_prob_sum(y),
    }
}

/// The same log likelihood spelled with the elementwise families on η = Xβ (+ α):
/// `log_prob` then `sum`, one partial per observation and no fast path.
fn plain<'t>(
    fam: Fam,
    x: &Arc<Array2<f64>>,
    alpha: Option<Tensor<'t>>,
    beta: Tensor<'t>,
    sigma: Tensor<'t>,
    y: Tensor<'t>,
) -> Result<Var<'t>, DistError> {
    let tape = beta.tape();
    let mut eta = tape.data_matvec(x, beta)?;
    if let Some(a) = alpha {
        eta = eta + a;
    }
    Ok(match fam {
        Fam::Bernoulli => Bernoulli::from_logits(eta)?.log_prob(y)?.sum(),
        Fam::Poisson => Poisson::new(eta.exp())?.log_prob(y)?.sum(),
        Fam::Normal => Normal::new(eta, sigma)?.log_prob(y)?.sum(),
    })
}

/// Value and gradients (β, α, σ) of one spelling.
fn run(
    fam: Fam,
    x: &Arc<Array2<f64>>,
    y: &Array1<f64>,
    b0: &[f64],
    a0: Option<f64>,
    s0: f64,
    use_fused: bool,
) -> (f64, Vec<f64>, f64, f64) {
    let design = GlmDesign::new(x.clone()).expect("finite design");
    let tape = Tape::new();
    let beta = tape.tensor(&arr1(b0));
    let alpha = tape.var(a0.unwrap_or(0.0));
    let sigma = tape.var(s0);
    let a = a0.map(|_| alpha.as_tensor());
    let yt = tape.constant(y);
    let lp = if use_fused {
        fused(fam, &design, a, beta, sigma.as_tensor(), yt)
    } else {
        plain(fam, x, a, beta, sigma.as_tensor(), yt)
    }
    .expect("valid");
    lp.backward();
    (
        lp.value(),
        beta.grad().iter().copied().collect(),
        alpha.grad(),
        sigma.grad(),
    )
}

/// |a − b| ≤ tol · (1 + |b|).
fn assert_agree(what: &str, f: &(f64, Vec<f64>, f64, f64), r: &(f64, Vec<f64>, f64, f64)) {
    // rounding only: the two spellings sum the same n terms in different orders, with
    // different (correctly rounded to ~1 ulp) exp/log implementations
    const TOL: f64 = 1e-12;
    assert!(close(f.0, r.0, TOL), "{what}: value {} vs {}", f.0, r.0);
    for (j, (a, b)) in f.1.iter().zip(&r.1).enumerate() {
        assert!(close(*a, *b, TOL), "{what}: d/dbeta[{j}] {a} vs {b}");
    }
    assert!(close(f.2, r.2, TOL), "{what}: d/dalpha {} vs {}", f.2, r.2);
    assert!(close(f.3, r.3, TOL), "{what}: d/dsigma {} vs {}", f.3, r.3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Each GLM distribution's fused `log_prob_sum` and its gradients agree with the
    /// elementwise spelling to 1e-12 relative, on random designs (n up to 300: several
    /// kernel blocks and a remainder; k up to 70: the heap path beyond 64 coefficients),
    /// coefficients, intercepts (or none) and scales.
    #[test]
    fn glm_dist_agrees_with_elementwise(
        n in 1usize..300,
        k in prop_oneof![1usize..8, 64usize..71],
        seed in any::<u64>(),
        with_alpha in any::<bool>(),
        a0 in -1.0f64..1.0,
        s0 in 0.3f64..3.0,
        bscale in 0.01f64..0.5,
    ) {
        for fam in FAMS {
            let (x, y) = data(fam, n, k, 1.0, seed);
            let b0: Vec<f64> = (0..k).map(|j| bscale * ((j as f64 * 0.7 + seed as f64).sin())).collect();
            let a = with_alpha.then_some(a0);
            let f = run(fam, &x, &y, &b0, a, s0, true);
            let r = run(fam, &x, &y, &b0, a, s0, false);
            assert_agree(&format!("{fam:?} n={n} k={k}"), &f, &r);
        }
    }

    /// The plain spelling `Bernoulli::from_logits(η).log_prob_sum(y)` with η an affine data
    /// product (which takes the fast path) agrees with `log_prob(y).sum()` (which does not),
    /// also when η is used a second time after the likelihood (its adjoint must still reach
    /// β and α through the product), for each way of adding the intercept.
    #[test]
    fn plain_spelling_fast_path_is_exact(
        n in 1usize..200,
        k in 1usize..30,
        seed in any::<u64>(),
        form in 0usize..6,
        reuse in any::<bool>(),
    ) {
        let (x, y) = data(Fam::Bernoulli, n, k, 2.0, seed);
        let b0: Vec<f64> = (0..k).map(|j| 0.4 * (j as f64 + seed as f64 * 0.1).cos()).collect();
        let eval = |elementwise: bool| {
            let tape = Tape::new();
            let beta = tape.tensor(&arr1(&b0));
            let alpha = tape.var(0.3);
            let mv = tape.data_matvec(&x, beta).expect("shapes");
            let eta = match form {
                0 => mv,
                1 => mv + alpha,
                2 => alpha + mv,
                3 => mv - alpha,
                4 => mv + 1.5,
                _ => mv + tape.scalar(-0.5),
            };
            // the tape recognizes the product (the fast path's precondition)
            assert!(tape.data_affine_source(eta).is_some(), "form {form}");
            let d = Bernoulli::from_logits(eta).expect("finite");
            let yt = tape.constant(&y);
            let mut lp = if elementwise {
                d.log_prob(yt).expect("shapes").sum()
            } else {
                d.log_prob_sum(yt).expect("shapes")
            };
            if reuse {
                lp = lp + (eta * eta).sum() * 0.25;
            }
            lp.backward();
            let g: Vec<f64> = beta.grad().iter().copied().collect();
            (lp.value(), g, alpha.grad(), 0.0)
        };
        let (f, r) = (eval(false), eval(true));
        assert_agree(&format!("form {form} reuse {reuse} n={n} k={k}"), &f, &r);
    }
}

/// The fused likelihoods' gradients in β, α and σ against infer-ad's central differences
/// (default tolerances: relative 1e-5, absolute 1e-6).
#[test]
fn glm_dist_gradients_check() {
    for fam in FAMS {
        let (x, y) = data(fam, 37, 4, 1.0, 5);
        let design = GlmDesign::new(x).expect("finite");
        let inputs: Vec<ArrayD<f64>> = vec![
            arr1(&[0.5, -0.2, 0.1, 0.3]).into_dyn(),
            arr0(-0.3).into_dyn(),
            arr0(1.3).into_dyn(),
        ];
        check_gradient(
            &inputs,
            |tape, v| {
                let yt = tape.constant(&y);
                fused(fam, &design, Some(v[1]), v[0], v[2], yt).map_err(fail)
            },
            &GradCheckConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{fam:?}: {e:?}"));
    }
    // the plain spelling's fast path, with η also used elsewhere
    let (x, y) = data(Fam::Bernoulli, 41, 3, 1.5, 9);
    check_gradient(
        &[arr1(&[0.5, -0.2, 0.1]).into_dyn(), arr0(0.2).into_dyn()],
        |tape, v| {
            let eta = tape.data_matvec(&x, v[0])? - v[1];
            let lp = Bernoulli::from_logits(eta)
                .and_then(|d| d.log_prob_sum(tape.constant(&y)))
                .map_err(fail)?;
            Ok(lp + eta.square().sum() * 0.1)
        },
        &GradCheckConfig::default(),
    )
    .expect("fast path gradient matches finite differences");
}

/// The Poisson constant −Σ ln yᵢ! is remembered per outcome vector: alternating between
/// two outcome vectors on one design gives each one's own value every time.
#[test]
fn glm_design_remembers_outcomes_correctly() {
    let (x, y1) = data(Fam::Poisson, 50, 3, 1.0, 1);
    let y2 = y1.mapv(|v| v + 1.0);
    let b0 = [0.1, -0.2, 0.05];
    let want1 = run(Fam::Poisson, &x, &y1, &b0, Some(0.2), 1.0, false).0;
    let want2 = run(Fam::Poisson, &x, &y2, &b0, Some(0.2), 1.0, false).0;
    let design = GlmDesign::new(x).expect("finite");
    let tape = Tape::new();
    let beta = tape.tensor(&arr1(&b0));
    let lik = PoissonLogGlmDist::new(&design, Some(tape.scalar(0.2)), beta).expect("valid");
    for y in [&y1, &y2, &y1, &y1, &y2] {
        let want = if *y == y1 { want1 } else { want2 };
        let got = lik.log_prob_sum(tape.constant(y)).expect("valid").value();
        assert!(close(got, want, 1e-12), "{got} vs {want}");
    }
}

/// Closed forms at η = 0 (X = 0, no intercept): Bernoulli n ln ½; Poisson Σ −1 − ln yᵢ!
/// (ln 0! = 0, ln 3! = ln 6); Normal with σ = 2: −Σ yᵢ²/8 − n ln 2 − (n/2) ln 2π.
#[test]
fn glm_dist_closed_forms_at_zero() {
    let x = Arc::new(Array2::zeros((3, 2)));
    let design = GlmDesign::new(x).expect("finite");
    let tape = Tape::new();
    let beta = tape.tensor(&arr1(&[0.7, -0.4]));
    let sigma = tape.scalar(2.0);
    let b = BernoulliLogitGlmDist::new(&design, None, beta).expect("valid");
    let lp = b
        .log_prob_sum(tape.constant(&arr1(&[1.0, 0.0, 1.0])))
        .expect("valid");
    assert!((lp.value() - 3.0 * 0.5f64.ln()).abs() < 1e-15);
    let p = PoissonLogGlmDist::new(&design, None, beta).expect("valid");
    let lp = p
        .log_prob_sum(tape.constant(&arr1(&[0.0, 3.0, 0.0])))
        .expect("valid");
    assert!((lp.value() - (-3.0 - 6f64.ln())).abs() < 1e-14);
    let nm = NormalIdGlmDist::new(&design, None, beta, sigma).expect("valid");
    let lp = nm
        .log_prob_sum(tape.constant(&arr1(&[1.0, -2.0, 0.5])))
        .expect("valid");
    let want =
        -(1.0 + 4.0 + 0.25) / 8.0 - 3.0 * 2f64.ln() - 1.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(
        (lp.value() - want).abs() < 1e-14,
        "{} vs {want}",
        lp.value()
    );
}

/// Per-observation methods: batch shape [n], means σ(η), e^η, η; samples of shape [n] in the
/// support; the Normal cdf is defined, the Bernoulli one is not (as for `Bernoulli`).
#[test]
fn glm_dist_per_observation_methods() {
    use rand::SeedableRng;
    let x = Arc::new(ndarray::array![[0.0], [1.0], [-1.0]]);
    let design = GlmDesign::new(x).expect("finite");
    let tape = Tape::new();
    let beta = tape.tensor(&arr1(&[0.5]));
    let alpha = Some(tape.scalar(0.25));
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let etas = [0.25, 0.75, -0.25];
    let b = BernoulliLogitGlmDist::new(&design, alpha, beta).expect("valid");
    let p = PoissonLogGlmDist::new(&design, alpha, beta).expect("valid");
    let nm = NormalIdGlmDist::new(&design, alpha, beta, tape.scalar(1.5)).expect("valid");
    for (d, mean) in [
        (
            &b as &dyn Distribution,
            etas.map(|e: f64| 1.0 / (1.0 + (-e).exp())),
        ),
        (&p, etas.map(f64::exp)),
        (&nm, etas),
    ] {
        assert_eq!(d.batch_shape().dims(), &[3]);
        for (m, w) in d.mean().expect("defined").to_vec().into_iter().zip(mean) {
            assert!((m - w).abs() < 1e-15, "{}: mean {m} vs {w}", d.name());
        }
        let s = d.sample(&mut rng).expect("draws");
        assert_eq!(s.shape(), &[3]);
        assert!(s.iter().all(|&v| d.support().check(v)), "{}", d.name());
        assert_eq!(d.log_prob(tape.constant(&s)).expect("shapes").numel(), 3);
        assert!(matches!(d.family(), infer_dist::Family::Other));
    }
    let v = nm.variance().expect("defined").to_vec();
    assert!(v.iter().all(|&v| (v - 2.25).abs() < 1e-15));
    let c = nm
        .cdf(tape.constant(&arr1(&[0.25, 0.75, -0.25])))
        .expect("defined")
        .to_vec();
    assert!(c.iter().all(|&v| (v - 0.5).abs() < 1e-15));
    assert!(matches!(
        b.cdf(tape.constant(&arr1(&[0.0, 1.0, 0.0]))),
        Err(DistError::NotDefined { .. })
    ));
    assert_eq!(
        nm.params().iter().map(|p| p.0).collect::<Vec<_>>(),
        ["alpha", "beta", "sigma"]
    );
}

/// Bad input gives typed errors naming the parameter and value: counts that are negative,
/// fractional or not finite, outcomes other than 0/1, non-finite Normal observations, the
/// wrong number of observations, non-finite designs, mis-shaped or non-finite coefficients,
/// a non-scalar intercept, a non-positive scale.
#[test]
fn glm_dist_rejects_bad_input() {
    let (x, _) = data(Fam::Poisson, 4, 2, 1.0, 2);
    let design = GlmDesign::new(x.clone()).expect("finite");
    let tape = Tape::new();
    let beta = tape.tensor(&arr1(&[0.1, 0.2]));
    let p = PoissonLogGlmDist::new(&design, None, beta).expect("valid");
    let b = BernoulliLogitGlmDist::new(&design, None, beta).expect("valid");
    let nm = NormalIdGlmDist::new(&design, None, beta, tape.scalar(1.0)).expect("valid");
    let y = |v: [f64; 4]| tape.constant(&arr1(&v));
    let invalid_y = |r: Result<Var<'_>, DistError>, want: f64| match r {
        Err(DistError::InvalidParameter {
            param: "y", value, ..
        }) => {
            assert!(
                value == want || (value.is_nan() && want.is_nan()),
                "{value} vs {want}"
            );
        }
        other => panic!("expected an invalid y = {want}, got {other:?}"),
    };
    invalid_y(p.log_prob_sum(y([1.0, -1.0, 0.0, 2.0])), -1.0);
    invalid_y(p.log_prob_sum(y([1.0, 2.5, 0.0, 2.0])), 2.5);
    invalid_y(
        p.log_prob_sum(y([f64::INFINITY, 1.0, 0.0, 2.0])),
        f64::INFINITY,
    );
    invalid_y(p.log_prob_sum(y([1.0, 1.0, f64::NAN, 2.0])), f64::NAN);
    invalid_y(b.log_prob_sum(y([1.0, 2.0, 0.0, 1.0])), 2.0);
    invalid_y(
        nm.log_prob_sum(y([1.0, 2.0, f64::NEG_INFINITY, 1.0])),
        f64::NEG_INFINITY,
    );
    // a valid vector after an invalid one is accepted
    assert!(p.log_prob_sum(y([1.0, 0.0, 0.0, 2.0])).is_ok());
    for d in [&p as &dyn Distribution, &b, &nm] {
        assert!(matches!(
            d.log_prob_sum(tape.constant(&arr1(&[1.0, 0.0, 1.0]))),
            Err(DistError::ShapeMismatch { .. })
        ));
    }
    let mut xn = (*x).clone();
    xn[[2, 1]] = f64::NAN;
    assert!(matches!(
        GlmDesign::new(Arc::new(xn)),
        Err(DistError::InvalidParameter { param: "x", .. })
    ));
    assert!(matches!(
        PoissonLogGlmDist::new(&design, None, tape.tensor(&arr1(&[0.1, 0.2, 0.3]))),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        BernoulliLogitGlmDist::new(&design, None, tape.tensor(&arr1(&[0.1, f64::NAN]))),
        Err(DistError::InvalidParameter { param: "beta", .. })
    ));
    assert!(matches!(
        BernoulliLogitGlmDist::new(&design, Some(tape.tensor(&arr1(&[0.1, 0.2]))), beta),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        BernoulliLogitGlmDist::new(&design, Some(tape.scalar(f64::INFINITY)), beta),
        Err(DistError::InvalidParameter { param: "alpha", .. })
    ));
    for s in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            NormalIdGlmDist::new(&design, None, beta, tape.scalar(s)),
            Err(DistError::InvalidParameter { param: "sigma", .. })
        ));
    }
    let other = Tape::new();
    assert!(matches!(
        NormalIdGlmDist::new(&design, None, beta, other.scalar(1.0)),
        Err(DistError::Ad(AdError::DifferentTapes { .. }))
    ));
    // a Poisson rate that overflows gives −∞, never a panic or NaN value
    let big = tape.tensor(&arr1(&[800.0, 800.0]));
    let xo = Arc::new(Array2::from_elem((2, 2), 1.0));
    let d = PoissonLogGlmDist::new(&GlmDesign::new(xo).expect("finite"), None, big).expect("valid");
    let lp = d
        .log_prob_sum(tape.constant(&arr1(&[1.0, 0.0])))
        .expect("valid");
    assert_eq!(lp.value(), f64::NEG_INFINITY);
}

/// The plain spelling with the intercept added to the product (`η = Xβ + α`, `Xβ − α`,
/// `α + Xβ`) leaves the product uncomputed: the likelihood evaluates it inside the fused
/// GLM kernel, and the value and gradients agree with the GLM distribution's (1e-12
/// relative: two summation orders of the same sums).
#[test]
fn plain_spelling_never_computes_the_product() {
    let (x, y) = data(Fam::Bernoulli, 150, 7, 1.5, 11);
    let design = GlmDesign::new(x.clone()).expect("finite design");
    let b0: Vec<f64> = (0..7).map(|j| 0.3 - 0.1 * j as f64).collect();
    for form in 0..3 {
        let tape = Tape::new();
        let beta = tape.tensor(&arr1(&b0));
        let alpha = tape.var(0.4);
        let mv = tape.data_matvec(&x, beta).expect("shapes");
        let (eta, sign) = match form {
            0 => (mv + alpha, 1.0),
            1 => (mv - alpha, -1.0),
            _ => (alpha + mv, 1.0),
        };
        let lp = Bernoulli::from_logits(eta)
            .and_then(|d| d.log_prob_sum(&y))
            .expect("valid");
        lp.backward();
        assert!(
            tape.deferred_affine(eta).is_some(),
            "form {form}: the product was computed"
        );
        let (v, gb, ga) = (lp.value(), beta.grad(), alpha.grad());
        let t2 = Tape::new();
        let (b2, a2) = (t2.tensor(&arr1(&b0)), t2.var(0.4 * sign));
        let r = BernoulliLogitGlmDist::new(&design, Some(a2.as_tensor()), b2)
            .and_then(|d| d.log_prob_sum(&y))
            .expect("valid");
        r.backward();
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        assert!(near(v, r.value()), "form {form}: {v} vs {}", r.value());
        for (g, w) in gb.iter().zip(b2.grad().iter()) {
            assert!(near(*g, *w), "form {form}: ∂β {g} vs {w}");
        }
        assert!(near(ga, sign * a2.grad()), "form {form}: ∂α {ga}");
        // reading the product afterwards computes it (the eager values)
        let direct: Vec<f64> = (0..150)
            .map(|i| (0..7).map(|j| x[[i, j]] * b0[j]).sum::<f64>() + sign * 0.4)
            .collect();
        for (got, want) in eta.to_vec().iter().zip(&direct) {
            assert!((got - want).abs() <= 1e-12, "form {form}: {got} vs {want}");
        }
    }
}

/// `Bernoulli::from_logits` on a deferred product rejects non-finite logits as it does on
/// computed ones: a NaN coefficient, and a product that overflows; and accepts a product
/// whose coefficients are huge but whose logits are finite (the cheap bound fails, the values
/// are then computed and checked).
#[test]
fn deferred_logits_are_checked_like_computed_ones() {
    let x = Arc::new(ndarray::array![[1.0, -1.0], [0.5, -0.5]]);
    let y = arr1(&[1.0, 0.0]);
    for (b, ok) in [
        ([f64::NAN, 0.0], false),
        ([1e308, -1e308], false),
        ([1e308, 1e308], true),
        ([3.0, 1.0], true),
    ] {
        let tape = Tape::new();
        let beta = tape.tensor(&arr1(&b));
        let eta = tape.data_matvec(&x, beta).expect("shapes");
        let d = Bernoulli::from_logits(eta);
        assert_eq!(d.is_ok(), ok, "β = {b:?}: {d:?}");
        if let Ok(d) = d {
            let lp = d.log_prob_sum(&y).expect("valid");
            assert!(lp.value().is_finite(), "β = {b:?}");
        }
    }
}
