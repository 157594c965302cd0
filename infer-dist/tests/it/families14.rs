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
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

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

pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
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

// ---------------------------------------------------------------------------------------
// LkjCholesky

/// The LKJ log density from first principles: Σᵢ eᵢ ln Lᵢᵢ (eᵢ = K − i − 1 + 2η − 2, rows
/// numbered from 0) minus ln of the product over rows of the ball integrals
/// ∫_{Bⁱ} (1 − |w|²)^{eᵢ/2} dw = π^{i/2} Γ(eᵢ/2 + 1)/Γ(eᵢ/2 + 1 + i/2).
fn lkj_direct(k: usize, eta: f64, l: &[f64]) -> f64 {
    use infer_ad::scalar::lgamma;
    let mut lp = 0.0;
    for i in 1..k {
        let e = (k - i - 1) as f64 + 2.0 * eta - 2.0;
        let h = e / 2.0;
        lp += e * l[i * k + i].ln();
        lp -= 0.5 * i as f64 * std::f64::consts::PI.ln() + lgamma(h + 1.0)
            - lgamma(h + 1.0 + 0.5 * i as f64);
    }
    lp
}

/// A Cholesky factor of a correlation matrix from a K×(K + 2) matrix of numbers in (−2, 2):
/// rows of the lower-triangular Gram–Schmidt factor of A, normalized.
fn corr_chol(k: usize, raw: &[f64]) -> Vec<f64> {
    let a = Array2::from_shape_vec((k, k + 2), raw[..k * (k + 2)].to_vec()).unwrap();
    let s = a.dot(&a.t()) + Array2::<f64>::eye(k) * 0.5;
    // Cholesky of S, then rows scaled to unit norm (the Cholesky factor of the correlation)
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut v = s[[i, j]];
            for p in 0..j {
                v -= l[i * k + p] * l[j * k + p];
            }
            l[i * k + j] = if i == j { v.sqrt() } else { v / l[j * k + j] };
        }
    }
    for i in 0..k {
        let nrm = (0..=i).map(|j| l[i * k + j].powi(2)).sum::<f64>().sqrt();
        for j in 0..=i {
            l[i * k + j] /= nrm;
        }
    }
    l
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// log_prob against the ball-integral normalizer; ∂/∂η by finite differences; ∂/∂L
    /// against eᵢ/Lᵢᵢ on the diagonal and 0 elsewhere.
    #[test]
    fn lkj_log_prob_and_gradient(
        k in 2usize..6,
        eta in 0.3f64..12.0,
        raw in proptest::collection::vec(-2.0f64..2.0, 5 * 7),
    ) {
        let l = corr_chol(k, &raw);
        let tape = Tape::new();
        let e = tape.var(eta);
        let x = tape.tensor(&arr(&[k, k], &l));
        let d = LkjCholesky::new(k, e).unwrap();
        let lp = d.log_prob(x).unwrap();
        let direct = lkj_direct(k, eta, &l);
        // relative 1e-12: ≤ 8 lgamma values of size ≤ 30 and logarithms
        prop_assert!(close(lp.to_vec()[0], direct, 1e-12), "{:?} vs {direct}", lp.to_vec());
        prop_assert!(close(d.log_prob_sum(x).unwrap().value(), direct, 1e-12));
        lp.sum().backward();
        let g = x.grad();
        for i in 0..k {
            for j in 0..k {
                let want = if i == j && i > 0 {
                    ((k - i - 1) as f64 + 2.0 * eta - 2.0) / l[i * k + i]
                } else {
                    0.0
                };
                prop_assert!(close(g[[i, j]], want, 1e-14), "∂/∂L[{i},{j}] = {} vs {want}", g[[i, j]]);
            }
        }
        let lc = l.clone();
        check_gradient(
            &[arr(&[], &[eta])],
            move |tp, v| {
                let d = LkjCholesky::new(k, v[0]).map_err(ad)?;
                Ok(d.log_prob(tp.constant(&arr(&[k, k], &lc))).map_err(ad)?.sum())
            },
            &cfg(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

/// K = 3, η = 1.5: the density integrates to 1 over the free coordinates (r₂₁ ∈ (−1, 1) and
/// (r₃₁, r₃₂) in the unit disk, in polar coordinates: the density depends on the radius only).
/// Midpoint rule on 600 × 600 cells, evaluated as one batched log_prob; the integrand behaves
/// like √(1 − ρ²) at the rim, so the rule's error is O(h^{3/2}) ≈ 1e-4: tolerance 1e-3.
#[test]
fn lkj_density_integrates_to_one() {
    let (k, eta, m) = (3, 1.5, 600);
    let h = 1.0 / m as f64;
    let mut vals = Vec::with_capacity(m * m * 9);
    let mut weights = Vec::with_capacity(m * m);
    for a in 0..m {
        let r21 = -1.0 + 2.0 * (a as f64 + 0.5) * h;
        for b in 0..m {
            let rho = (b as f64 + 0.5) * h;
            let (r31, r32) = (rho * 0.6, rho * 0.8);
            vals.extend([
                1.0,
                0.0,
                0.0,
                r21,
                (1.0 - r21 * r21).sqrt(),
                0.0,
                r31,
                r32,
                (1.0 - rho * rho).sqrt(),
            ]);
            // dr₂₁ · 2πρ dρ
            weights.push(2.0 * h * 2.0 * std::f64::consts::PI * rho * h);
        }
    }
    let tape = Tape::new();
    let d = LkjCholesky::new(k, tape.var(eta)).unwrap();
    let lp = d
        .log_prob(tape.constant(&arr(&[m * m, 3, 3], &vals)))
        .unwrap()
        .to_vec();
    let total: f64 = lp.iter().zip(&weights).map(|(l, w)| l.exp() * w).sum();
    assert!((total - 1.0).abs() < 1e-3, "∫ p = {total}");
}

/// K = 4, η = 2, 20 000 draws (seed 16): every draw is a Cholesky factor of a correlation
/// matrix with a finite log density, and each correlation Ωᵢⱼ of LLᵀ has the LKJ marginal
/// 2·Beta(a, a) − 1, a = η − 1 + K/2 = 3: mean 0, variance 1/(2a + 1) = 1/7, fourth moment
/// 3/((2a + 1)(2a + 3)) = 1/21. Sample means within 5 standard errors (√(1/7/N)), sample
/// second moments within 5 standard errors (√((1/21 − 1/49)/N)): false-failure rate < 1e-5.
#[test]
fn lkj_sampling_moments() {
    let (k, n) = (4, 20_000);
    let tape = Tape::new();
    let d = LkjCholesky::new(k, tape.var(2.0)).unwrap();
    let mut rng = StdRng::seed_from_u64(16);
    let draws = d.sample_n(n, &mut rng).unwrap();
    assert_eq!(draws.shape(), &[n, k, k]);
    let flat: Vec<f64> = draws.iter().copied().collect();
    let lp = d.log_prob(tape.constant(&draws)).unwrap().to_vec();
    assert!(lp.iter().all(|v| v.is_finite()));
    let pairs = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];
    let nn = n as f64;
    for &(i, j) in &pairs {
        let (mut s1, mut s2) = (0.0, 0.0);
        for m in flat.chunks(k * k) {
            assert!(Constraint::CholeskyFactorCorr.check_event(m));
            let w: f64 = (0..k).map(|p| m[i * k + p] * m[j * k + p]).sum();
            s1 += w;
            s2 += w * w;
        }
        let (mean, second) = (s1 / nn, s2 / nn);
        assert!(
            mean.abs() < 5.0 * (1.0 / 7.0 / nn).sqrt(),
            "E Ω[{i},{j}] = {mean}"
        );
        let se = ((1.0 / 21.0 - 1.0 / 49.0) / nn).sqrt();
        assert!(
            (second - 1.0 / 7.0).abs() < 5.0 * se,
            "E Ω[{i},{j}]² = {second}"
        );
    }
    // a batch of concentrations: one factor per element
    let db = LkjCholesky::new(3, tape.tensor(&ndarray::array![0.5, 50.0])).unwrap();
    assert_eq!(db.sample(&mut rng).unwrap().shape(), &[2, 3, 3]);
}

#[test]
fn lkj_support_shapes_and_errors() {
    let tape = Tape::new();
    let e = tape.var(1.7);
    let d = LkjCholesky::new(2, e).unwrap();
    assert_eq!(d.event_shape().dims(), &[2, 2]);
    assert_eq!(d.support(), Constraint::CholeskyFactorCorr);
    assert!(matches!(d.family(), Family::LkjCholesky(_)));
    let x = tape.tensor(&ndarray::array![
        [[1.0, 0.0], [0.6, 0.8]],
        [[1.0, 0.0], [0.6, 0.7]],  // row not of unit norm
        [[1.0, 0.1], [0.6, 0.8]],  // not lower triangular
        [[1.0, 0.0], [0.6, -0.8]], // negative diagonal
    ]);
    let lp = d.log_prob(x).unwrap();
    let v = lp.to_vec();
    assert!(close(
        v[0],
        lkj_direct(2, 1.7, &[1.0, 0.0, 0.6, 0.8]),
        1e-14
    ));
    assert_eq!(&v[1..], &[f64::NEG_INFINITY; 3]);
    lp.sum().backward();
    assert!(x.grad().iter().all(|g| g.is_finite()) && e.grad().is_finite());
    assert_eq!(d.log_prob_sum(x).unwrap().value(), f64::NEG_INFINITY);
    // the K = 2 closed form in the correlation r: (1 − r²)^{η−1}/(2^{2η−1} B(η, η))
    let r: f64 = 0.6;
    let ln_b = {
        use infer_ad::scalar::lgamma;
        2.0 * lgamma(1.7) - lgamma(3.4)
    };
    let closed = 0.7 * (1.0 - r * r).ln() - 2.4 * 2f64.ln() - ln_b;
    assert!(close(v[0], closed, 1e-14), "{} vs {closed}", v[0]);
    // shapes: a batch of η against one factor; a wrong event shape is a typed error
    let db = LkjCholesky::new(2, tape.tensor(&ndarray::array![1.0, 3.0, 0.5])).unwrap();
    let one = tape.constant(&ndarray::array![[1.0, 0.0], [0.6, 0.8]]);
    assert_eq!(db.log_prob(one).unwrap().dims(), &[3]);
    assert!(matches!(
        db.log_prob(tape.constant(&ndarray::array![[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])),
        Err(DistError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        db.log_prob(tape.constant(&ndarray::array![
            [[1.0, 0.0], [0.6, 0.8]],
            [[1.0, 0.0], [0.6, 0.8]]
        ])),
        Err(DistError::ShapeMismatch { .. })
    ));
    match LkjCholesky::new(1, e) {
        Err(DistError::InvalidParameter {
            param: "dim",
            value,
            ..
        }) => assert_eq!(value, 1.0),
        other => panic!("{other:?}"),
    }
    for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        match LkjCholesky::new(3, tape.var(bad)) {
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
    // large η: the normalizer by Stirling differences stays accurate (against the direct
    // formula, whose ln Γ values are of size 1e7 and cancel to ~1e-8 relative)
    let big = LkjCholesky::new(3, tape.var(1e6)).unwrap();
    let l3 = corr_chol(
        3,
        &[
            0.3, -1.2, 0.8, 1.1, 0.2, -0.4, 0.9, 0.5, -1.5, 0.7, 0.1, 1.3, -0.6, 0.4, 0.2,
        ],
    );
    let got = big
        .log_prob(tape.constant(&arr(&[3, 3], &l3)))
        .unwrap()
        .to_vec()[0];
    let want = lkj_direct(3, 1e6, &l3);
    assert!(
        (got - want).abs() < 1e-6 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}
