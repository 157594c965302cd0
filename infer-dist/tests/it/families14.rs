//! Issue 14's families: Multinomial, DirichletMultinomial, LkjCholesky. Log masses and
//! densities against direct formulas written here from elementary operations (ln x! as a sum
//! of logarithms, Γ(x + α)/Γ(α) as a rising product, the LKJ normalizer as a product of ball
//! integrals and, for K = 3, as a numerical integral of the density), gradients against the
//! central-difference checker and closed forms, sampling moments with fixed seeds, support
//! edges and typed errors. Property tests draw from the fixed proptest seed
//! (`.cargo/config.toml`); every statistical tolerance below is stated with its false-failure
//! rate.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape};
use infer_dist::*;
use ndarray::{Array1, ArrayD, IxDyn};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

pub(crate) use crate::common::close;

mod lkj;

pub(crate) fn cfg() -> GradCheckConfig {
    GradCheckConfig {
        step: 1e-5,
        atol: 1e-6,
        rtol: 1e-5,
    }
}

pub(crate) fn ad(e: DistError) -> AdError {
    match e {
        DistError::Ad(a) => a,
        other => AdError::InvalidHyperParameter {
            name: "distribution",
            value: f64::NAN,
            reason: Box::leak(other.to_string().into_boxed_str()),
        },
    }
}

pub(crate) fn arr(dims: &[usize], v: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(dims), v.to_vec()).unwrap()
}

/// ln x! = Σ_{j=2}^{x} ln j (exact enough for x ≤ 60: a sum of ≤ 60 logarithms).
fn ln_fact(x: f64) -> f64 {
    (2..=x as u64).map(|j| (j as f64).ln()).sum()
}

/// ln Γ(α + x) − ln Γ(α) = Σ_{j<x} ln(α + j) for a count x.
fn ln_rising(a: f64, x: f64) -> f64 {
    (0..x as u64).map(|j| (a + j as f64).ln()).sum()
}

/// Splits `n` into `k` counts at the cut points `cuts` (values in 0..=n).
fn composition(n: u64, cuts: &[u64]) -> Vec<f64> {
    let mut c: Vec<u64> = cuts.iter().map(|c| c % (n + 1)).collect();
    c.sort_unstable();
    let mut out = Vec::with_capacity(c.len() + 1);
    let mut prev = 0;
    for &x in &c {
        out.push((x - prev) as f64);
        prev = x;
    }
    out.push((n - prev) as f64);
    out
}

// ---------------------------------------------------------------------------------------
// Multinomial

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// log_prob = ln n! − Σ ln xₖ! + Σ xₖ ln(pₖ/Σp), from probs and from logits; the fused sum
    /// agrees; gradients pass the finite-difference check.
    #[test]
    fn multinomial_log_prob_and_gradient(
        raw in proptest::collection::vec(0.1f64..2.0, 2..6),
        n in 0u64..40,
        cuts in proptest::collection::vec(0u64..1000, 5),
    ) {
        let k = raw.len();
        let x = composition(n, &cuts[..k - 1]);
        let s: f64 = raw.iter().sum();
        let direct = ln_fact(n as f64)
            + x.iter().zip(&raw).map(|(&xi, &p)| xi * (p / s).ln() - ln_fact(xi)).sum::<f64>();
        let tape = Tape::new();
        let xv = tape.constant(&Array1::from(x.clone()));
        let d = Multinomial::from_probs(n, tape.tensor(&Array1::from(raw.clone()))).unwrap();
        let lp = d.log_prob(xv).unwrap();
        prop_assert_eq!(lp.dims(), &[] as &[usize]);
        // relative 1e-13: ≤ 40 logarithms summed
        prop_assert!(close(lp.to_vec()[0], direct, 1e-13), "{:?} vs {direct}", lp.to_vec());
        prop_assert!(close(d.log_prob_sum(xv).unwrap().value(), direct, 1e-13));
        // the same through logits ln p
        let logits: Vec<f64> = raw.iter().map(|p| p.ln() + 0.7).collect();
        let dl = Multinomial::from_logits(n, tape.tensor(&Array1::from(logits.clone()))).unwrap();
        prop_assert!(close(dl.log_prob(xv).unwrap().to_vec()[0], direct, 1e-13));
        for (par, is_logits) in [(raw.clone(), false), (logits, true)] {
            let x = x.clone();
            check_gradient(
                &[arr(&[k], &par)],
                move |tp, v| {
                    let d = if is_logits {
                        Multinomial::from_logits(n, v[0])
                    } else {
                        Multinomial::from_probs(n, v[0])
                    }
                    .map_err(ad)?;
                    let xv = tp.constant(&Array1::from(x.clone()));
                    Ok(d.log_prob(xv).map_err(ad)?.sum() * 0.5 + d.log_prob_sum(xv).map_err(ad)? * 0.5)
                },
                &cfg(),
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }
}

#[test]
fn multinomial_support_edges_and_batches() {
    let ninf = f64::NEG_INFINITY;
    let tape = Tape::new();
    let p = tape.tensor(&ndarray::array![0.0, 0.3, 0.7]);
    let d = Multinomial::from_probs(5, p).unwrap();
    let rows = tape.constant(&ndarray::array![
        [0.0, 2.0, 3.0],  // zero probability, zero count: finite
        [1.0, 1.0, 3.0],  // positive count of a zero-probability category
        [0.0, 2.0, 2.0],  // sums to 4, not 5
        [0.0, -1.0, 6.0], // negative count
        [0.0, 2.5, 2.5],  // not integers
    ]);
    let lp = d.log_prob(rows).unwrap();
    let v = lp.to_vec();
    let direct = ln_fact(5.0) - ln_fact(2.0) - ln_fact(3.0) + 2.0 * 0.3f64.ln() + 3.0 * 0.7f64.ln();
    assert!(close(v[0], direct, 1e-14));
    assert_eq!(&v[1..], &[ninf; 4]);
    lp.sum().backward();
    assert!(p.grad().iter().all(|g| g.is_finite()), "{:?}", p.grad());
    // the fused sum: −∞ as soon as one row is outside the support; finite rows alone agree
    assert_eq!(d.log_prob_sum(rows).unwrap().value(), ninf);
    // a batch of parameters against one value, and values against one parameter row
    let pb = tape.tensor(&ndarray::array![[0.5, 0.5], [0.1, 0.9]]);
    let db = Multinomial::from_probs(2, pb).unwrap();
    assert_eq!(db.batch_shape().dims(), &[2]);
    assert_eq!(db.event_shape().dims(), &[2]);
    let l = db
        .log_prob(tape.constant(&ndarray::array![1.0, 1.0]))
        .unwrap()
        .to_vec();
    assert!(close(l[0], 0.5f64.ln(), 1e-15) && close(l[1], (2.0f64 * 0.09).ln(), 1e-14));
    let s = db
        .log_prob_sum(tape.constant(&ndarray::array![1.0, 1.0]))
        .unwrap();
    assert!(close(s.value(), l[0] + l[1], 1e-15));
    assert!(matches!(
        db.log_prob(tape.constant(&ndarray::array![1.0, 1.0, 0.0])),
        Err(DistError::ShapeMismatch { .. })
    ));
    // moments: n p and n p (1 − p) of the normalized probabilities
    let m = Multinomial::from_probs(10, tape.tensor(&ndarray::array![1.0, 3.0])).unwrap();
    assert_eq!(m.mean().unwrap().to_vec(), vec![2.5, 7.5]);
    assert_eq!(m.variance().unwrap().to_vec(), vec![1.875, 1.875]);
    assert!(m.is_discrete());
    assert!(matches!(m.family(), Family::Multinomial(_)));
    assert!(m.entropy().is_err());
}

#[test]
fn multinomial_constructor_errors() {
    let tape = Tape::new();
    let bad = |r: Result<Multinomial<'_>, DistError>, param: &str, value: f64| match r {
        Err(DistError::InvalidParameter {
            param: p, value: v, ..
        }) => {
            assert_eq!(p, param);
            assert!(
                v == value || (v.is_nan() && value.is_nan()),
                "{v} vs {value}"
            );
        }
        other => panic!("{other:?}"),
    };
    bad(
        Multinomial::from_probs(3, tape.tensor(&ndarray::array![0.5, -0.5])),
        "probs",
        -0.5,
    );
    bad(
        Multinomial::from_probs(3, tape.tensor(&ndarray::array![0.0, 0.0])),
        "probs",
        0.0,
    );
    bad(
        Multinomial::from_probs(3, tape.tensor(&ndarray::array![f64::NAN, 1.0])),
        "probs",
        f64::NAN,
    );
    bad(
        Multinomial::from_logits(3, tape.tensor(&ndarray::array![f64::INFINITY, 1.0])),
        "logits",
        f64::INFINITY,
    );
    bad(
        Multinomial::from_probs(u64::MAX, tape.tensor(&ndarray::array![1.0])),
        "total_count",
        u64::MAX as f64,
    );
    assert!(matches!(
        Multinomial::from_probs(3, tape.var(1.0)),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Multinomial::from_probs(3, tape.tensor(&Array1::<f64>::zeros(0))),
        Err(DistError::ShapeMismatch { .. })
    ));
}

/// Counts of 20 trials, p = (0.2, 0.3, 0.5), 20 000 draws (seed 14): every draw is a count
/// vector summing to 20; per category the sample mean is within 5 standard errors of n pₖ
/// (se = √(n pₖ(1 − pₖ)/N) ≤ 0.016) and the sample variance within 5 standard errors of
/// n pₖ(1 − pₖ) (se ≈ σ²√(2/N) ≤ 0.036; the counts are nearly normal): false-failure
/// rate < 1e-5 for the whole test (and 0 at this fixed seed).
#[test]
fn multinomial_sampling_moments() {
    let tape = Tape::new();
    let p = [0.2, 0.3, 0.5];
    let n = 20.0;
    let d = Multinomial::from_probs(20, tape.tensor(&ndarray::array![2.0, 3.0, 5.0])).unwrap();
    let mut rng = StdRng::seed_from_u64(14);
    let draws = d.sample_n(20_000, &mut rng).unwrap();
    assert_eq!(draws.shape(), &[20_000, 3]);
    let m = draws.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
    for row in m.rows() {
        assert!(row.iter().all(|&x| x >= 0.0 && x.fract() == 0.0));
        assert_eq!(row.sum(), n);
    }
    let nn = 20_000.0;
    for (k, pk) in p.iter().enumerate() {
        let col = m.column(k);
        let mean = col.sum() / nn;
        let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nn - 1.0);
        let (mu, s2) = (n * pk, n * pk * (1.0 - pk));
        assert!(
            (mean - mu).abs() < 5.0 * (s2 / nn).sqrt(),
            "mean {mean} vs {mu}"
        );
        assert!(
            (var - s2).abs() < 5.0 * s2 * (2.0 / nn).sqrt(),
            "var {var} vs {s2}"
        );
    }
    // a huge number of trials: sequential binomials, exact sums, no overflow
    let big = Multinomial::from_logits(
        1_000_000_000_000,
        tape.tensor(&ndarray::array![0.0, 1.0, -2.0]),
    )
    .unwrap();
    let x = big.sample(&mut rng).unwrap();
    assert_eq!(x.sum(), 1e12);
    assert!(big.log_prob(tape.constant(&x)).unwrap().to_vec()[0].is_finite());
}

// ---------------------------------------------------------------------------------------
// DirichletMultinomial

/// ln n! − Σ ln xₖ! + Σ ln(αₖ)_{xₖ} − ln(α₀)_n with rising products.
fn dm_direct(n: u64, a: &[f64], x: &[f64]) -> f64 {
    let a0: f64 = a.iter().sum();
    ln_fact(n as f64) - ln_rising(a0, n as f64)
        + x.iter()
            .zip(a)
            .map(|(&xi, &ai)| ln_rising(ai, xi) - ln_fact(xi))
            .sum::<f64>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn dirichlet_multinomial_log_prob_and_gradient(
        a in proptest::collection::vec(0.05f64..30.0, 2..6),
        n in 0u64..40,
        cuts in proptest::collection::vec(0u64..1000, 5),
    ) {
        let k = a.len();
        let x = composition(n, &cuts[..k - 1]);
        let direct = dm_direct(n, &a, &x);
        let tape = Tape::new();
        let xv = tape.constant(&Array1::from(x.clone()));
        let d = DirichletMultinomial::new(n, tape.tensor(&Array1::from(a.clone()))).unwrap();
        // relative 1e-12: ≤ 120 logarithms summed, and lgamma differences accurate to ~1e-15
        let got = d.log_prob(xv).unwrap().to_vec()[0];
        prop_assert!(close(got, direct, 1e-12), "{got} vs {direct}");
        prop_assert!(close(d.log_prob_sum(xv).unwrap().value(), direct, 1e-12));
        check_gradient(
            &[arr(&[k], &a)],
            move |tp, v| {
                let d = DirichletMultinomial::new(n, v[0]).map_err(ad)?;
                let xv = tp.constant(&Array1::from(x.clone()));
                Ok(d.log_prob(xv).map_err(ad)?.sum() * 0.5 + d.log_prob_sum(xv).map_err(ad)? * 0.5)
            },
            &cfg(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn dirichlet_multinomial_limits_and_moments() {
    let tape = Tape::new();
    // α → ∞ with α/α₀ fixed: the multinomial (difference O(n²/α₀)); no cancellation at 1e12
    let x = ndarray::array![3.0, 0.0, 2.0];
    let xv = tape.constant(&x);
    let multi = Multinomial::from_probs(5, tape.tensor(&ndarray::array![0.2, 0.3, 0.5]))
        .unwrap()
        .log_prob(xv)
        .unwrap()
        .to_vec()[0];
    for (scale, tol) in [(1e6, 1e-4), (1e12, 1e-10)] {
        let a = tape.tensor(&ndarray::array![0.2 * scale, 0.3 * scale, 0.5 * scale]);
        let lp = DirichletMultinomial::new(5, a)
            .unwrap()
            .log_prob(xv)
            .unwrap()
            .to_vec()[0];
        assert!((lp - multi).abs() < tol, "α₀ = {scale}: {lp} vs {multi}");
    }
    // n = 0: the empty count vector has probability 1
    let d0 = DirichletMultinomial::new(0, tape.tensor(&ndarray::array![0.5, 2.0])).unwrap();
    assert_eq!(
        d0.log_prob(tape.constant(&ndarray::array![0.0, 0.0]))
            .unwrap()
            .to_vec(),
        vec![0.0]
    );
    // outside the support: −∞, zero gradient
    let a = tape.tensor(&ndarray::array![1.5, 2.5]);
    let d = DirichletMultinomial::new(4, a).unwrap();
    let lp = d
        .log_prob(tape.constant(&ndarray::array![[1.0, 2.0], [4.0, 0.0]]))
        .unwrap();
    let v = lp.to_vec();
    assert_eq!(v[0], f64::NEG_INFINITY);
    assert!(close(v[1], dm_direct(4, &[1.5, 2.5], &[4.0, 0.0]), 1e-13));
    lp.sum().backward();
    assert!(a.grad().iter().all(|g| g.is_finite()));
    // moments against n q and n q(1 − q)(n + α₀)/(1 + α₀), q = α/α₀ = (0.375, 0.625)
    let m = d.mean().unwrap().to_vec();
    assert!(close(m[0], 1.5, 1e-15) && close(m[1], 2.5, 1e-15));
    let var = d.variance().unwrap().to_vec();
    let expect = 4.0 * 0.375 * 0.625 * 8.0 / 5.0;
    assert!(close(var[0], expect, 1e-15) && close(var[1], expect, 1e-15));
    // moment gradients against finite differences
    for which in [0, 1] {
        check_gradient(
            &[arr(&[2], &[1.5, 2.5])],
            move |_, v| {
                let d = DirichletMultinomial::new(4, v[0]).map_err(ad)?;
                let t = if which == 0 { d.mean() } else { d.variance() }.map_err(ad)?;
                Ok((t * t).sum())
            },
            &cfg(),
        )
        .unwrap();
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        match DirichletMultinomial::new(3, tape.tensor(&ndarray::array![1.0, bad])) {
            Err(DistError::InvalidParameter {
                param: "concentration",
                value,
                ..
            }) => {
                assert!(value == bad || (value.is_nan() && bad.is_nan()));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        DirichletMultinomial::new(3, tape.tensor(&ndarray::array![1e308, 1e308])),
        Err(DistError::InvalidParameter { .. })
    ));
}

/// 30 trials, α = (0.5, 2, 4.5) (q = 0.07̅, 0.2̅6̅, 0.6̅), 20 000 draws (seed 15): every draw
/// sums to 30; per category the sample mean within 5 standard errors of n q
/// (se = √(var/N)) and the sample variance within 25% of n q(1 − q)(n + α₀)/(1 + α₀) (the
/// counts are overdispersed and skewed, the standard error of the sample variance is ≤ 4%
/// of it here): false-failure rate < 1e-5.
#[test]
fn dirichlet_multinomial_sampling_moments() {
    let tape = Tape::new();
    let a = [0.5, 2.0, 4.5];
    let a0: f64 = a.iter().sum();
    let n = 30.0;
    let d = DirichletMultinomial::new(30, tape.tensor(&Array1::from(a.to_vec()))).unwrap();
    let mut rng = StdRng::seed_from_u64(15);
    let draws = d.sample_n(20_000, &mut rng).unwrap();
    let m = draws.into_dimensionality::<ndarray::Ix2>().unwrap();
    for row in m.rows() {
        assert_eq!(row.sum(), n);
    }
    let nn = 20_000.0;
    for (k, ak) in a.iter().enumerate() {
        let q = ak / a0;
        let col = m.column(k);
        let mean = col.sum() / nn;
        let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nn - 1.0);
        let s2 = n * q * (1.0 - q) * (n + a0) / (1.0 + a0);
        assert!(
            (mean - n * q).abs() < 5.0 * (s2 / nn).sqrt(),
            "mean {mean} vs {}",
            n * q
        );
        assert!((var / s2 - 1.0).abs() < 0.25, "var {var} vs {s2}");
    }
}
