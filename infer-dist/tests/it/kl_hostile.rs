//! Hostile-input suite for the KL divergences (issue 13, area C): a regression test per
//! reported defect (expected values from closed forms or mpmath at 40 digits, computed
//! outside the crate), and property tests over every registered pair at extreme parameters
//! (subnormal, 1e±300, ±f64::MAX, probabilities 0 and 1, counts up to 9e15): the KL is never
//! NaN, is ≥ 0, is 0 for identical distributions, its gradients are never NaN where it is
//! finite, and Binomial/Poisson-type pairs return within a time bound (every pair over the
//! whole of f64). On a modest range the closed forms agree with a direct sum (discrete) or a
//! Gauss–Legendre quadrature (Uniform p), and MultivariateNormal–MultivariateNormal with
//! mpmath and finite differences.

// `DistError` carries two `Shape`s by value; the helpers return it as it is.
#![allow(clippy::result_large_err)]

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape, Tensor};
use infer_dist::{
    Bernoulli, Beta, Bijector, Binomial, Categorical, Chi2, DistError, Distribution, Gamma,
    Geometric, Gumbel, KL_PAIRS, MultivariateNormal, Normal, Pareto, Poisson, Uniform,
    kl_divergence,
};
use ndarray::{ArrayD, arr0, arr1};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use std::sync::mpsc;
use std::time::Duration;

type Dist<'t> = Box<dyn Distribution<'t> + 't>;

const POS: &[f64] = &[
    5e-324,
    1e-300,
    1e-8,
    0.3,
    1.0,
    2.5,
    1e8,
    1e300,
    1e308,
    f64::MAX,
];
const LOC: &[f64] = &[
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    1e-8,
    -1e-8,
    0.7,
    -0.7,
    1e8,
    -1e8,
    1e308,
    -1e308,
    f64::MAX,
    -f64::MAX,
];
const PROB: &[f64] = &[
    0.0,
    5e-324,
    1e-300,
    1e-8,
    0.3,
    0.5,
    0.99999999,
    0.9999999999999999,
    1.0,
];
const COUNT: &[f64] = &[0.0, 1.0, 2.0, 7.0, 1e3, 1e8, 1e12, 8.99e15];

fn pick(rng: &mut impl Rng, set: &[f64], lo: f64, hi: f64) -> f64 {
    if rng.random_bool(0.7) {
        set[rng.random_range(0..set.len())]
    } else {
        lo + (hi - lo) * rng.random::<f64>()
    }
}

/// Parameters of `family` (and a Binomial count): 70 % from the extreme sets, 30 % uniform on
/// a moderate interval.
fn params(family: &str, rng: &mut impl Rng) -> (Vec<ArrayD<f64>>, f64) {
    let s = |x: f64| arr0(x).into_dyn();
    let pos = |r: &mut _| pick(r, POS, 0.05, 5.0);
    let loc = |r: &mut _| pick(r, LOC, -3.0, 3.0);
    let prob = |r: &mut _| pick(r, PROB, 0.0, 1.0);
    let count = COUNT[rng.random_range(0..COUNT.len())];
    let v = match family {
        "Normal" | "LogNormal" | "Cauchy" | "Laplace" | "Gumbel" => {
            vec![s(loc(rng)), s(pos(rng))]
        }
        "HalfNormal" | "HalfCauchy" | "Exponential" | "Chi2" => vec![s(pos(rng))],
        "Poisson" => vec![s(if rng.random_bool(0.2) { 0.0 } else { pos(rng) })],
        "Gamma" | "InverseGamma" | "Beta" | "Pareto" => vec![s(pos(rng)), s(pos(rng))],
        "Uniform" => {
            let (a, b) = if rng.random_bool(0.5) {
                (prob(rng), prob(rng))
            } else {
                (loc(rng), loc(rng))
            };
            vec![s(a.min(b)), s(a.max(b))]
        }
        "Bernoulli" | "Binomial" => vec![s(prob(rng))],
        "Geometric" => vec![s(prob(rng))],
        "Categorical" => {
            let set = [0.0, 5e-324, 1e-300, 0.3, 1.0, 1e300, f64::MAX];
            let v: Vec<f64> = (0..3)
                .map(|_| set[rng.random_range(0..set.len())])
                .collect();
            vec![arr1(&v).into_dyn()]
        }
        "Dirichlet" => vec![arr1(&[pos(rng), pos(rng), pos(rng)]).into_dyn()],
        "MultivariateNormal" => vec![
            arr1(&[loc(rng), loc(rng)]).into_dyn(),
            ndarray::array![[pos(rng), 0.0], [loc(rng), pos(rng)]].into_dyn(),
        ],
        other => panic!("no generator for {other}"),
    };
    (v, count)
}

fn build<'t>(family: &str, x: &[Tensor<'t>], count: f64) -> Result<Dist<'t>, DistError> {
    Ok(match family {
        "Categorical" => Box::new(Categorical::from_probs(x[0])?),
        "MultivariateNormal" => Box::new(MultivariateNormal::new(x[0], x[1])?),
        _ => crate::kl::build_common(family, x, count)?,
    })
}

/// (KL, whether any gradient is NaN, whether any gradient is infinite), or None when a
/// constructor rejects the parameters (the constructors are tested by the families' suite).
fn evaluate(
    pf: &str,
    qf: &str,
    xp: &[ArrayD<f64>],
    xq: &[ArrayD<f64>],
    counts: (f64, f64),
) -> Option<(f64, bool, bool)> {
    let tape = Tape::new();
    let tp: Vec<Tensor<'_>> = xp.iter().map(|a| tape.tensor(a)).collect();
    let tq: Vec<Tensor<'_>> = xq.iter().map(|a| tape.tensor(a)).collect();
    let (Ok(p), Ok(q)) = (build(pf, &tp, counts.0), build(qf, &tq, counts.1)) else {
        return None;
    };
    let kl = kl_divergence(p.as_ref(), q.as_ref())
        .expect("registered pair")
        .sum();
    let v = kl.value();
    kl.backward();
    let grads: Vec<f64> = tp.iter().chain(&tq).flat_map(|t| t.grad()).collect();
    Some((
        v,
        grads.iter().any(|g| g.is_nan()),
        grads.iter().any(|g| g.is_infinite()),
    ))
}

/// Largest negative KL accepted: rounding of a divergence that is 0 (absolute, as the
/// divergences near 0 are differences of O(1) terms).
const NEG_TOL: f64 = 1e-12;

/// A Categorical with a zero, subnormal or overflowing probability: its gradient can be NaN
/// because the family's normalisation and `logits` (ln 0) multiply a zero upstream gradient by
/// ∞ in `categorical.rs` (outside this area; reported as open work of issue 13). The value
/// rules still apply to these cases.
fn zero_prob_categorical(pf: &str, xp: &[ArrayD<f64>], xq: &[ArrayD<f64>]) -> bool {
    let tiny = |a: &[ArrayD<f64>]| {
        a.iter().flatten().any(|&v| {
            let total: f64 = a.iter().flatten().sum();
            v < f64::MIN_POSITIVE || v / total < f64::MIN_POSITIVE || !total.is_finite()
        })
    };
    pf == "Categorical" && (tiny(xp) || tiny(xq))
}

/// The rules for every registered pair at the parameters drawn from `seed`: the failures.
fn violations(seed: u64, same: u8) -> Vec<(&'static str, &'static str, String)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut bad = Vec::new();
    for &(pf, qf) in KL_PAIRS {
        let (xp, cp) = params(pf, &mut rng);
        let identical = pf == qf && same == 0;
        let (xq, cq) = if identical {
            (xp.clone(), cp)
        } else {
            params(qf, &mut rng)
        };
        let Some((v, grad_nan, _)) = evaluate(pf, qf, &xp, &xq, (cp, cq)) else {
            continue;
        };
        let flat = |a: &[ArrayD<f64>]| -> Vec<f64> { a.iter().flatten().copied().collect() };
        let what = if v.is_nan() {
            "NaN"
        } else if v < -NEG_TOL {
            "negative"
        } else if identical && v.abs() > NEG_TOL {
            "non-zero for identical distributions"
        } else if v.is_finite() && grad_nan && !zero_prob_categorical(pf, &xp, &xq) {
            "NaN gradient"
        } else {
            continue;
        };
        bad.push((
            pf,
            qf,
            format!(
                "{what}: KL = {v:e} at p = {:?} (n {cp}), q = {:?} (n {cq})",
                flat(&xp),
                flat(&xq)
            ),
        ));
    }
    bad
}

proptest! {
    // 2,048 cases × every registered pair (86) = 176,128 KL evaluations with gradients (minus
    // the draws a constructor rejects), plus the saved regression seeds.
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// For every registered pair at arbitrary valid parameters (extremes included): KL is
    /// never NaN, is ≥ −1e-12, is 0 (|KL| ≤ 1e-12) for identical distributions, and no
    /// gradient is NaN where KL is finite.
    #[test]
    fn kl_rules_hold_for_every_pair_at_extreme_parameters(seed in any::<u64>(), same in 0u8..4) {
        let bad = violations(seed, same);
        prop_assert!(bad.is_empty(), "{bad:#?}");
    }
}

/// KL(p ‖ q) and the gradients of the given inputs, on a fresh tape.
fn kl_with<F>(f: F) -> (f64, Vec<f64>)
where
    F: for<'t> FnOnce(&'t Tape) -> Result<(Dist<'t>, Dist<'t>, Vec<Tensor<'t>>), DistError>,
{
    let tape = Tape::new();
    let (p, q, inputs) = f(&tape).expect("valid parameters");
    let kl = kl_divergence(p.as_ref(), q.as_ref())
        .expect("registered")
        .sum();
    let v = kl.value();
    kl.backward();
    (v, inputs.iter().flat_map(|t| t.grad()).collect())
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1.0)
}

/// Issue 13: KL(Uniform(0, 1e-8) ‖ Beta(0.9, 1e8)) was −0.036 (E[ln(1 − X)] lost every
/// digit). Expected values: mpmath at 40 digits of the closed form with E[ln X] = ln b − 1,
/// E[ln(1 − X)] = ((1 − a)ln(1 − a) − (1 − b)ln(1 − b))/(b − a) − 1.
#[test]
fn uniform_narrow_against_beta_is_exact() {
    let (v, g) = kl_with(|t| {
        let (al, be) = (t.tensor(&arr0(0.9)), t.tensor(&arr0(1e8)));
        let p = Uniform::new(t.var(0.0), t.var(1e-8))?;
        Ok((
            Box::new(p) as Dist<'_>,
            Box::new(Beta::new(al, be)?) as Dist<'_>,
            vec![al, be],
        ))
    });
    assert!(close(v, 0.466_376_236_851_409_6, 1e-9), "{v}");
    assert!(close(g[0], 0.245_073_046_052_948_6, 1e-9), "{g:?}");
    assert!((g[1] - (-3.999_999_987_833_333e-9)).abs() < 1e-13, "{g:?}");
}

/// Issue 13: KL(Bernoulli(0) ‖ Poisson(0)) and KL(Binomial(0, 0.3) ‖ Binomial(1, 0)) were NaN;
/// both compare a point mass at 0 with itself: 0. Gradients are not NaN.
#[test]
fn point_masses_at_zero_have_zero_divergence() {
    let (v, g) = kl_with(|t| {
        let (p, l) = (t.tensor(&arr0(0.0)), t.tensor(&arr0(0.0)));
        let b = Bernoulli::from_probs(p)?;
        Ok((
            Box::new(b) as Dist<'_>,
            Box::new(Poisson::new(l)?) as Dist<'_>,
            vec![p, l],
        ))
    });
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    let (v, g) = kl_with(|t| {
        let (p, q) = (t.tensor(&arr0(0.3)), t.tensor(&arr0(0.0)));
        let bp = Binomial::new(t.constant(&arr0(0.0)), p)?;
        let bq = Binomial::new(t.constant(&arr0(1.0)), q)?;
        Ok((
            Box::new(bp) as Dist<'_>,
            Box::new(bq) as Dist<'_>,
            vec![p, q],
        ))
    });
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    // Binomial(3, 0) ‖ Binomial(5, 0.2): −ln q(0) = −5 ln 0.8 (closed form).
    let (v, _) = kl_with(|t| {
        let bp = Binomial::new(t.constant(&arr0(3.0)), t.var(0.0))?;
        let bq = Binomial::new(t.constant(&arr0(5.0)), t.var(0.2))?;
        Ok((Box::new(bp) as Dist<'_>, Box::new(bq) as Dist<'_>, vec![]))
    });
    assert!(close(v, -5.0 * 0.8f64.ln(), 1e-15), "{v}");
    // Binomial(5, 1) ‖ Binomial(3, 0.5): p puts its mass on 5 ∉ {0..3}: +∞.
    let (v, _) = kl_with(|t| {
        let bp = Binomial::new(t.constant(&arr0(5.0)), t.var(1.0))?;
        let bq = Binomial::new(t.constant(&arr0(3.0)), t.var(0.5))?;
        Ok((Box::new(bp) as Dist<'_>, Box::new(bq) as Dist<'_>, vec![]))
    });
    assert_eq!(v, f64::INFINITY);
}

/// Issue 13: KL(Uniform(1e-8, 0.1) ‖ Gumbel(0.5, 1e-8)) was NaN (e^{5e7} − e^{…} = ∞ − ∞); the
/// divergence is beyond f64 (it exceeds β/(b − a) e^{(m − b)/β} ≈ e^{4e7}): +∞. Finite cases
/// from mpmath (40 digits) of PyTorch's form, including bounds at ±1e308.
#[test]
fn uniform_against_gumbel_is_never_nan() {
    let case = |a: f64, b: f64, m: f64, s: f64| {
        kl_with(|t| {
            let p = Uniform::new(t.var(a), t.var(b))?;
            let q = Gumbel::new(t.var(m), t.var(s))?;
            Ok((Box::new(p) as Dist<'_>, Box::new(q) as Dist<'_>, vec![]))
        })
        .0
    };
    assert_eq!(case(1e-8, 0.1, 0.5, 1e-8), f64::INFINITY);
    let v = case(1e-8, 0.1, 0.5, 0.05);
    assert!(close(v, 9_513.059_506_530_84, 1e-12), "{v}");
    let v = case(-1e308, 1e308, 0.0, 1e308);
    assert!(close(v, 0.482_054_013_083_856_15, 1e-12), "{v}");
}

/// Uniform ‖ Uniform with bounds at ±f64::MAX: the widths overflow, the ratio does not.
/// ln(2·MAX/2e308) from mpmath.
#[test]
fn uniform_uniform_at_the_edge_of_f64() {
    let (v, g) = kl_with(|t| {
        let p = Uniform::new(t.var(-1e308), t.var(1e308))?;
        let (lo, hi) = (t.tensor(&arr0(-f64::MAX)), t.tensor(&arr0(f64::MAX)));
        Ok((
            Box::new(p) as Dist<'_>,
            Box::new(Uniform::new(lo, hi)?) as Dist<'_>,
            vec![lo, hi],
        ))
    });
    assert!(close(v, 0.586_504_251_217_926_1, 1e-14), "{v}");
    assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
}

/// Runs `f` on a thread and fails if it does not return within `secs` seconds.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("did not return within the time bound")
}

fn binomial_kl(np: f64, p: f64, nq: f64, q: f64) -> f64 {
    kl_with(|t| {
        let bp = Binomial::new(t.constant(&arr0(np)), t.var(p))?;
        let bq = Binomial::new(t.constant(&arr0(nq)), t.var(q))?;
        Ok((Box::new(bp) as Dist<'_>, Box::new(bq) as Dist<'_>, vec![]))
    })
    .0
}

/// Issue 13: Binomial–Binomial looped over every k ≤ n (n = 1e8 took 10 s, n = 1e12 never
/// returned). Now bounded work for any count, under a 20 s bound for all cases together (each
/// takes milliseconds). Expected values from mpmath (40 digits): n KL(Bern ‖ Bern) for equal
/// counts, and the direct sum over k ∈ mean ± 45 sd for Bin(1e7, 0.3) ‖ Bin(1.5e7, 0.25)
/// (a window of 2·10⁵ integers, which the implementation sums on every 4th one).
#[test]
fn binomial_kl_takes_bounded_work_at_any_count() {
    let got = within(20, || {
        [
            binomial_kl(1e12, 0.3, 1e12, 0.4),
            binomial_kl(1e7, 0.3, 1.5e7, 0.25),
            binomial_kl(8.9e15, 0.3, 8.99e15, 0.3),
            binomial_kl(1e12, 1e-300, 8.99e15, 0.5),
            binomial_kl(1e8, 0.5, 1e12, 0.5),
            binomial_kl(8.99e15, 0.5, 8.99e15, 0.5),
        ]
    });
    assert!(close(got[0], 21_600_854_143.546_535, 1e-12), "{got:?}");
    assert!(close(got[1], 105_031.603_973_921_53, 1e-9), "{got:?}");
    assert!(
        got[2..].iter().all(|v| v.is_finite() && *v >= 0.0),
        "{got:?}"
    );
    assert_eq!(got[5], 0.0);
}

/// Gauss–Legendre (5 nodes on each of `panels` panels) of `f` over [a, b].
fn quadrature(a: f64, b: f64, panels: usize, f: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    const X: [f64; 5] = [
        0.0,
        -0.538_469_310_105_683_1,
        0.538_469_310_105_683_1,
        -0.906_179_845_938_664,
        0.906_179_845_938_664,
    ];
    const W: [f64; 5] = [
        0.568_888_888_888_888_9,
        0.478_628_670_499_366_5,
        0.478_628_670_499_366_5,
        0.236_926_885_056_189_1,
        0.236_926_885_056_189_1,
    ];
    let h = (b - a) / panels as f64;
    let nodes: Vec<f64> = (0..panels)
        .flat_map(|i| {
            let mid = a + (i as f64 + 0.5) * h;
            X.map(|x| mid + 0.5 * h * x)
        })
        .collect();
    let vals = f(&nodes);
    vals.chunks(5)
        .map(|c| c.iter().zip(W).map(|(v, w)| v * w).sum::<f64>() * 0.5 * h)
        .sum()
}

/// E_p[ln p − ln q] by summing the masses over k = 0..=k_max (log_prob of both families).
fn direct_sum<'t>(p: &dyn Distribution<'t>, q: &dyn Distribution<'t>, k_max: usize) -> f64 {
    let tape = p.params()[0].1.tape().expect("a tensor parameter");
    let ks = tape.constant(&ndarray::Array1::from_iter((0..=k_max).map(|k| k as f64)));
    let lp = p.log_prob(ks).expect("log p").to_vec();
    let lq = q.log_prob(ks).expect("log q").to_vec();
    lp.iter()
        .zip(&lq)
        .filter(|(a, _)| a.is_finite())
        .map(|(a, b)| a.exp() * (a - b))
        .sum()
}

proptest! {
    // 256 cases × 10 pairs.
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// On a modest range the reworked closed forms agree with an independent evaluation from
    /// the families' log densities: for a Uniform p, −ln(b − a) − (1/(b − a))∫ ln q by
    /// Gauss–Legendre (400 panels; relative 1e-8); for the discrete pairs, the direct sum of
    /// p(k)(ln p(k) − ln q(k)) (relative 1e-9, the omitted tail below 1e-15).
    #[test]
    fn reworked_forms_agree_with_quadrature_and_direct_sums(
        u in prop::collection::vec(0.0..1.0f64, 6),
        np in 0u32..200,
        extra in 0u32..100,
    ) {
        let tape = Tape::new();
        let v = |x: f64| tape.var(x);
        let a = 0.05 + 0.35 * u[0];
        let b = a + 0.05 + 0.5 * u[1];
        let uniform = || Uniform::new(v(a), v(b));
        let qs: Vec<Dist<'_>> = vec![
            Box::new(Normal::new(v(2.0 * u[2] - 1.0), v(0.2 + u[3]))?),
            Box::new(Gumbel::new(v(2.0 * u[2] - 1.0), v(0.2 + u[3]))?),
            Box::new(Beta::new(v(0.5 + 3.0 * u[2]), v(0.5 + 3.0 * u[3]))?),
            Box::new(Gamma::new(v(0.5 + 3.0 * u[2]), v(0.2 + 2.0 * u[3]))?),
            Box::new(Pareto::new(v(0.01 + 0.04 * u[2]), v(0.5 + 3.0 * u[3]))?),
            Box::new(Chi2::new(v(0.5 + 4.0 * u[2]))?),
        ];
        for q in &qs {
            let p = uniform()?;
            let exact = kl_divergence(&p, q.as_ref())?.sum().value();
            let c = b - a;
            let integral = quadrature(a, b, 400, |xs| {
                q.log_prob(tape.constant(&ndarray::Array1::from(xs.to_vec())))
                    .expect("log q")
                    .to_vec()
            });
            let want = -c.ln() - integral / c;
            prop_assert!(close(exact, want, 1e-8), "Uniform({a}, {b}) ‖ {}: {exact} vs {want}", q.name());
        }
        let (np, nq) = (f64::from(np), f64::from(np + extra));
        let (pp, pq) = (0.02 + 0.96 * u[4], 0.02 + 0.96 * u[5]);
        let bp = Binomial::new(tape.constant(&arr0(np)), v(pp))?;
        let bq = Binomial::new(tape.constant(&arr0(nq)), v(pq))?;
        let pairs: Vec<(Dist<'_>, Dist<'_>, usize)> = vec![
            (Box::new(bp), Box::new(bq), 300),
            (Box::new(Bernoulli::from_probs(v(u[4]))?), Box::new(Poisson::new(v(0.1 + 5.0 * u[5]))?), 60),
            (Box::new(Poisson::new(v(0.1 + 10.0 * u[4]))?), Box::new(Poisson::new(v(0.1 + 10.0 * u[5]))?), 200),
            (Box::new(Geometric::new(v(0.1 + 0.9 * u[4]))?), Box::new(Geometric::new(v(0.1 + 0.89 * u[5]))?), 600),
        ];
        for (p, q, k_max) in &pairs {
            let exact = kl_divergence(p.as_ref(), q.as_ref())?.sum().value();
            let want = direct_sum(p.as_ref(), q.as_ref(), *k_max);
            prop_assert!(close(exact, want, 1e-9), "{} ‖ {}: {exact} vs {want}", p.name(), q.name());
        }
    }
}

/// KL(p ‖ q) and the gradients of every parameter for families built by [`build`] (one
/// parameter list per side).
fn kl_of(pf: &str, xp: &[f64], qf: &str, xq: &[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let tp: Vec<Tensor<'_>> = xp.iter().map(|&x| tape.tensor(&arr0(x))).collect();
    let tq: Vec<Tensor<'_>> = xq.iter().map(|&x| tape.tensor(&arr0(x))).collect();
    let p = build(pf, &tp, 0.0).expect("valid p");
    let q = build(qf, &tq, 0.0).expect("valid q");
    let kl = kl_divergence(p.as_ref(), q.as_ref())
        .expect("registered")
        .sum();
    let v = kl.value();
    kl.backward();
    (v, tp.iter().chain(&tq).flat_map(|t| t.grad()).collect())
}

/// A regression case: p's family and parameters, q's, and the expected KL.
type Case<'a> = (&'a str, &'a [f64], &'a str, &'a [f64], f64);

/// A regression case with two parameters on each side.
type PairCase = (&'static str, [f64; 2], &'static str, [f64; 2], f64);

/// Issue 13 (area C2): the gamma-family KL subtracted ln Γ and ψ terms of size α ln α:
/// KL(Gamma(1e100, 1) ‖ Exponential(1e-100)) was −2.4e86, subnormal shapes gave NaN. Now the
/// Stirling-regrouped form. Expected values: mpmath at 400 digits of
/// αq ln(βp/βq) + ln Γ(αq) − ln Γ(αp) + (αp − αq)ψ(αp) + (βq − βp)αp/βp at the f64 inputs.
#[test]
fn gamma_family_kl_at_extreme_shapes_matches_mpmath() {
    let cases: [Case<'_>; 6] = [
        (
            "Gamma",
            &[1e100, 1.0],
            "Exponential",
            &[1e-100],
            114.710_316_116_497_61,
        ),
        (
            "Gamma",
            &[1e300, 1e-300],
            "Gamma",
            &[2e300, 1e-300],
            3.862_943_611_198_906_4e299,
        ),
        (
            "Gamma",
            &[5e-324, 1.0],
            "Gamma",
            &[1e-300, 3.0],
            2.024_022_533_073_106_2e23,
        ),
        (
            "Gamma",
            &[1e-300, 1.0],
            "Gamma",
            &[5e-324, 1.0],
            52.664_544_023_167_557,
        ),
        // Chi2(1e308) = Gamma(5e307, ½).
        (
            "Chi2",
            &[1e308],
            "Exponential",
            &[1.0],
            1.000_000_000_000_000_011e308,
        ),
        (
            "InverseGamma",
            &[3e8, 2e8],
            "InverseGamma",
            &[3.1e8, 2e8],
            164_845.075_398_925_12,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, xp, qf, xq);
        assert!(
            close(v, want, 1e-11),
            "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
    }
    // Beyond f64: αq/αp overflows.
    let (v, g) = kl_of("Gamma", &[5e-324, 1.0], "Gamma", &[1.0, 1.0]);
    assert_eq!(v, f64::INFINITY);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
}

/// Issue 13 (area C2): Normal–Normal with σ = 5e-324 gave 0 · ∞ (the hoisted 1/σq²
/// overflowed). Now ½ φ(2 ln(σp/σq)) + ½ z². Expected values: mpmath (400 digits) of
/// ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½; LogNormal and HalfNormal share the form.
#[test]
fn normal_kl_at_subnormal_and_huge_scales_matches_mpmath() {
    let cases: [(&str, [f64; 2], [f64; 2], f64); 4] = [
        ("Normal", [0.0, 5e-324], [0.0, 1.0], 743.940_071_921_381_26),
        (
            "LogNormal",
            [0.0, 5e-324],
            [0.0, 1.0],
            743.940_071_921_381_26,
        ),
        (
            "Normal",
            [1e308, 1.0],
            [-1e308, 1e300],
            20_000_000_000_000_688.615,
        ),
        (
            "Normal",
            [0.0, 1e-300],
            [1e-300, 2e-300],
            0.443_147_180_559_945_31,
        ),
    ];
    for (f, xp, xq, want) in cases {
        let (v, g) = kl_of(f, &xp, f, &xq);
        assert!(
            close(v, want, 1e-13),
            "{f}{xp:?} ‖ {xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{f}: {g:?}");
    }
    let (v, _) = kl_of("HalfNormal", &[5e-324], "HalfNormal", &[1.0]);
    assert!(close(v, 743.940_071_921_381_26, 1e-13), "{v}");
    // σq = 5e-324 against σp = 1: the divergence (≈ 2e646) is beyond f64.
    let (v, g) = kl_of("Normal", &[0.0, 1.0], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, f64::INFINITY);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    let (v, _) = kl_of("Normal", &[0.0, 5e-324], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, 0.0);
}

/// Issue 13 (area C2): KL(Uniform ‖ Beta) at concentrations ≥ 1e300 was NaN or wrong (ln B
/// and the (α − 1), (β − 1) terms overflowed with opposite signs). Expected values: mpmath
/// (400 digits) of ln B(α, β) − ln(b − a) − (α − 1) E[ln X] − (β − 1) E[ln(1 − X)].
#[test]
fn uniform_against_beta_at_huge_concentrations_matches_mpmath() {
    let cases: [([f64; 2], [f64; 2], f64); 3] = [
        ([0.3, 0.5], [1e300, 1e300], 5.610_873_617_676_872_8e298),
        ([0.3, 0.5], [1e308, 1e300], 9.269_085_558_590_953_4e307),
        ([0.25, 0.75], [1e300, 3e300], 7.041_631_339_956_709_6e299),
    ];
    for (xp, xq, want) in cases {
        let (v, g) = kl_of("Uniform", &xp, "Beta", &xq);
        assert!(close(v, want, 1e-11), "{xp:?} ‖ {xq:?}: {v:e} vs {want:e}");
        assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    }
}

/// Issue 13 (area C2): Laplace–Laplace, Laplace–Normal, Cauchy–Cauchy with subnormal scales
/// and locations at ±f64::MAX gave NaN (0 · ∞, ∞ − ∞, ∞/∞). Now regrouped into
/// non-negative terms (φ(s) = eˢ − 1 − s) or ln(1 + u² + w²) from logarithms. Expected
/// values: mpmath (400 digits) of the textbook forms (see each pair's documentation).
#[test]
fn location_scale_kl_at_extreme_parameters_matches_mpmath() {
    let cases: [PairCase; 8] = [
        (
            "Laplace",
            [0.0, 5e-324],
            "Laplace",
            [1.0, 1.0],
            744.440_071_921_381_26,
        ),
        (
            "Laplace",
            [1e308, 1.0],
            "Laplace",
            [-1e308, 1e300],
            200_000_689.775_527_89,
        ),
        (
            "Laplace",
            [0.0, 1e308],
            "Laplace",
            [5e-324, 5e-324],
            f64::INFINITY,
        ),
        (
            "Cauchy",
            [f64::MAX, 5e-324],
            "Cauchy",
            [-1e308, 1e308],
            1_454.427_811_250_589_5,
        ),
        (
            "Cauchy",
            [0.0, 5e-324],
            "Cauchy",
            [0.0, 1e308],
            1_452.249_986_202_427_4,
        ),
        (
            "Cauchy",
            [1e-8, 1e-300],
            "Cauchy",
            [0.0, 2e-300],
            1_342.630_252_766_842_8,
        ),
        (
            "Laplace",
            [0.0, 1e-300],
            "Normal",
            [0.0, 1.0],
            690.001_319_250_858_43,
        ),
        (
            "Laplace",
            [1e308, 1e300],
            "Normal",
            [-1e308, 1e300],
            19_999_999_999_999_998.565,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, &xp, qf, &xq);
        if want.is_infinite() {
            assert_eq!(v, want, "{pf}{xp:?} ‖ {qf}{xq:?}");
        } else {
            assert!(
                close(v, want, 1e-12),
                "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
            );
            assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
        }
    }
    let (v, _) = kl_of("HalfCauchy", &[5e-324], "HalfCauchy", &[1e308]);
    assert!(close(v, 1_452.249_986_202_427_4, 1e-12), "{v}");
    let (v, _) = kl_of("Laplace", &[0.0, 1.0], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, f64::INFINITY);
}

/// Issue 13: the pairs that were held to narrower ranges (their closed forms subtracted ln Γ,
/// ψ and exponential terms that cancel or overflow) now evaluate regrouped forms over the
/// whole of f64. Expected values: mpmath 1.3 at 800 digits of the textbook forms (PyTorch's
/// `kl.py` expressions, with ln Γ, ψ and erf from mpmath) at the exact f64 inputs, computed
/// outside the crate; `f64::INFINITY` where the exact divergence exceeds f64::MAX. Gradients
/// are checked not NaN at the finite cases.
#[test]
fn formerly_narrow_pairs_match_mpmath_at_extreme_parameters() {
    const M: f64 = f64::MAX;
    let inf = f64::INFINITY;
    let cases: [Case<'_>; 26] = [
        (
            "Normal",
            &[1e308, 1e300],
            "Gumbel",
            &[-1e308, 1e305],
            2_010.093_986_931_765_7,
        ),
        (
            "Normal",
            &[0.0, 5e-324],
            "Gumbel",
            &[1e-300, 1e-300],
            53.963_887_318_421_93,
        ),
        (
            "Gumbel",
            &[1e308, 2e300],
            "Gumbel",
            &[-1e308, 1e300],
            199_999_998.884_068_48,
        ),
        (
            "Gumbel",
            &[0.0, 5e-324],
            "Gumbel",
            &[0.0, 1.0],
            743.862_856_256_479_73,
        ),
        (
            "Gumbel",
            &[M, 1e300],
            "Normal",
            &[-M, 1e305],
            6_463_412.089_663_667,
        ),
        (
            "Gumbel",
            &[0.0, 5e-324],
            "Normal",
            &[0.0, 1.0],
            743.781_794_789_684_4,
        ),
        (
            "Normal",
            &[-1e308, M],
            "Laplace",
            &[1e308, 2.5],
            8.962_639_016_251_33e307,
        ),
        (
            "Normal",
            &[0.0, 5e-324],
            "Laplace",
            &[1.0, 1.0],
            744.714_280_568_736_5,
        ),
        (
            "Gamma",
            &[1e-300, 1e-300],
            "Normal",
            &[0.0, 1.5],
            1.222_222_222_222_222_2e300,
        ),
        // α/β = 2e308 overflows; the divergence does not.
        (
            "Gamma",
            &[1e308, 0.5],
            "Normal",
            &[0.0, 1e308],
            355.404_957_140_523_1,
        ),
        ("Gamma", &[0.88, 1e-300], "Gumbel", &[1e308, 0.3], inf),
        (
            "Gamma",
            &[2.5, 1e-300],
            "Gumbel",
            &[1e300, 1e300],
            0.250_580_969_014_835_15,
        ),
        (
            "Gamma",
            &[1e300, 1.0],
            "Gumbel",
            &[1e300, 1e290],
            321.942_974_485_961_7,
        ),
        (
            "Pareto",
            &[1e308, 1e308],
            "Normal",
            &[1e308, 1e300],
            690.694_466_431_418_4,
        ),
        (
            "Pareto",
            &[1.0, M],
            "Normal",
            &[1.7, 0.3],
            711.219_900_844_484_96,
        ),
        (
            "Pareto",
            &[1e-300, 3.0],
            "Exponential",
            &[1e300],
            1.265_278_955_334_776_4,
        ),
        // Chi2(1e308) = Gamma(5e307, ½); the divergence ≈ 8.7e308 exceeds f64.
        ("Pareto", &[1e300, 1e8], "Chi2", &[1e308], inf),
        (
            "Beta",
            &[1e308, 1e300],
            "Normal",
            &[0.957, 1e-8],
            9_244_995_700_345.447,
        ),
        ("Beta", &[1e-300, 1.0], "Normal", &[0.0, 1e-300], 1.25e300),
        (
            "Beta",
            &[1e-8, 1e300],
            "Gamma",
            &[0.3, 0.3],
            30_000_189.442_132_144,
        ),
        (
            "Beta",
            &[1e308, 1.5],
            "Gamma",
            &[5e-324, 5e-324],
            1_452.275_307_788_171_9,
        ),
        (
            "Beta",
            &[2.5, 1e308],
            "Exponential",
            &[1e300],
            16.690_732_859_447_311,
        ),
        (
            "Beta",
            &[2.5, 1e308],
            "Uniform",
            &[-0.7, 1e8],
            725.886_941_483_613_4,
        ),
        ("Beta", &[1e-300, 1e-300], "Uniform", &[0.0, 1.0], 1e300),
        (
            "Beta",
            &[1e308, 1e308],
            "Beta",
            &[5e307, 5e307],
            0.096_573_590_279_972_65,
        ),
        (
            "Beta",
            &[1e-300, 2.25],
            "Beta",
            &[1e-299, 2.25],
            6.697_414_907_005_954,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, xp, qf, xq);
        if want.is_infinite() {
            assert_eq!(v, want, "{pf}{xp:?} ‖ {qf}{xq:?}");
            continue;
        }
        assert!(
            close(v, want, 1e-10),
            "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
    }
    // Identical Betas with a subnormal or huge concentration: exactly 0.
    for x in [[1e8, 5e-324], [5e-324, 1e-300], [M, M]] {
        let (v, g) = kl_of("Beta", &x, "Beta", &x);
        assert_eq!(v, 0.0, "{x:?}");
        assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    }
}

/// Issue 13: Dirichlet–Dirichlet at concentrations near f64::MAX (the sum overflows) and
/// 1e-8 was NaN. Expected values: mpmath at 800 digits of ln Γ(Σαp) − ln Γ(Σαq) −
/// Σ(ln Γ(αp) − ln Γ(αq)) + Σ(αp − αq)(ψ(αp) − ψ(Σαp)).
#[test]
fn dirichlet_kl_at_extreme_concentrations_matches_mpmath() {
    let cases: [([f64; 3], [f64; 3], f64); 3] = [
        (
            [1e308, 1e-8, 1e-8],
            [1e300, 1e-8, 2e-8],
            0.306_853_352_060_477_3,
        ),
        (
            [2.5, 1e8, 1e308],
            [3.0, 1e8, 1e308],
            0.056_885_989_764_404_556,
        ),
        ([2.5, 1e8, 1e308], [2.5, 1e8, 1e308], 0.0),
    ];
    for (xp, xq, want) in cases {
        let (xp, xq) = (vec![arr1(&xp).into_dyn()], vec![arr1(&xq).into_dyn()]);
        let (v, grad_nan, _) =
            evaluate("Dirichlet", "Dirichlet", &xp, &xq, (0.0, 0.0)).expect("valid");
        assert!(close(v, want, 1e-10), "{xp:?} ‖ {xq:?}: {v:e} vs {want:e}");
        assert!(!grad_nan, "{xp:?} ‖ {xq:?}");
    }
}

/// KL(MVN(μp, Lp) ‖ MVN(μq, Lq)) of n-dimensional inputs (row-major factors) and the
/// gradients of μp, Lp, μq, Lq, concatenated in that order.
fn mvn_kl(mp: &[f64], lp: &[f64], mq: &[f64], lq: &[f64]) -> (f64, Vec<f64>) {
    let n = mp.len();
    kl_with(|t| {
        let mat = |x: &[f64]| {
            t.tensor(&ndarray::Array2::from_shape_vec((n, n), x.to_vec()).expect("n×n"))
        };
        let (a, b, c, d) = (t.tensor(&arr1(mp)), mat(lp), t.tensor(&arr1(mq)), mat(lq));
        Ok((
            Box::new(MultivariateNormal::new(a, b)?) as Dist<'_>,
            Box::new(MultivariateNormal::new(c, d)?) as Dist<'_>,
            vec![a, b, c, d],
        ))
    })
}

/// `got` within `rel` of `want` relative (exactly equal for 0 and ±∞).
fn rel_close(got: f64, want: f64, rel: f64) -> bool {
    if want == 0.0 || want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= rel * want.abs()
    }
}

/// Issue 13: MultivariateNormal–MultivariateNormal through the tape's triangular solves had
/// NaN gradients with a finite divergence once Cholesky entries and locations left about
/// 1e±8 (a Cholesky diagonal of 1e-100 against a location of 1e100: KL 5e215; an off-diagonal
/// of −1e308 against a diagonal of 1e300: KL 5e31), from ∞ − ∞ in the adjoint of the solve.
/// Expected values: mpmath at 1000 digits of ½[tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − n +
/// ln det Σq − ln det Σp] with Σ = LLᵀ formed and inverted directly (the exact f64 inputs),
/// gradients by mpmath's numerical differentiation of the same at that precision. A gradient
/// beyond f64 (1e316) is +∞; the zero upper triangles have gradient 0.
#[test]
fn multivariate_normal_kl_at_extreme_factors_matches_mpmath() {
    type Case = ([f64; 2], [f64; 4], [f64; 2], [f64; 4], f64, [f64; 12]);
    let cases: [Case; 2] = [
        (
            [1e8, 1e100],
            [1e-100, 0.0, -0.7, 2.5],
            [1e8, -0.7],
            [1e100, 0.0, 1e308, 1.0],
            5.000_000_000_000_000_650_7e215,
            [
                -1e308,
                1e100,
                f64::INFINITY,
                0.0,
                -1e108,
                2.1,
                1e308,
                -1e100,
                -1e116,
                0.0,
                1e-92,
                -1.000_000_000_000_000_1e216,
            ],
        ),
        (
            [-1e8, -1e8],
            [0.3, 0.0, -1e8, 0.3],
            [0.7, 0.7],
            [1e300, 0.0, -1e308, 1.0],
            5.000_000_170_000_001_974_7e31,
            [
                -1.000_000_017e24,
                -1.000_000_017e16,
                -7_000_000_000_000_003.3,
                0.0,
                -70_000_000.000_000_002,
                -3.033_333_333_333_333_5,
                1.000_000_017e24,
                1.000_000_017e16,
                -1.000_000_024e-268,
                0.0,
                -1.000_000_024_000_000_1e-276,
                -1.000_000_034_000_000_4e32,
            ],
        ),
    ];
    for (mp, lp, mq, lq, want, want_g) in cases {
        let (v, g) = mvn_kl(&mp, &lp, &mq, &lq);
        assert!(
            rel_close(v, want, 1e-13),
            "{mp:?} {lp:?}: {v:e} vs {want:e}"
        );
        for (k, (got, want)) in g.iter().zip(want_g).enumerate() {
            if lp_upper(k, 2) {
                continue;
            }
            assert!(
                rel_close(*got, want, 1e-12),
                "gradient {k}: {got:e} vs {want:e}"
            );
        }
    }
}

/// A 3-dimensional pair at moderate parameters: the value and every gradient (μp, the lower
/// triangle of Lp, μq, the lower triangle of Lq; 0 above the diagonal) against mpmath at 1000
/// digits of the covariance form, gradients by numerical differentiation there (as above);
/// relative 1e-12.
#[test]
fn multivariate_normal_kl_in_three_dimensions_matches_mpmath() {
    let (v, g) = mvn_kl(
        &[0.5, -0.3, 1.1],
        &[1.2, 0.0, 0.0, 0.4, 0.7, 0.0, -0.2, 0.3, 0.9],
        &[0.0, 0.2, -0.4],
        &[0.9, 0.0, 0.0, -0.3, 1.1, 0.0, 0.5, -0.6, 0.8],
    );
    assert!(rel_close(v, 2.088_896_112_461_747_225_1, 1e-13), "{v}");
    let lower = |x: [f64; 6]| [x[0], 0.0, 0.0, x[1], x[2], 0.0, x[3], x[4], x[5]];
    let gmp = [
        -0.082_102_591_572_288_596,
        0.611_225_895_316_804_35,
        1.625_631_313_131_313_2,
    ];
    let glp = lower([
        1.119_815_580_042_852_6,
        0.294_421_487_603_305_72,
        -0.268_963_990_554_900_07,
        -0.672_348_484_848_484_82,
        1.065_340_909_090_908_8,
        0.295_138_888_888_888_79,
    ]);
    let glq = lower([
        -1.447_474_889_183_643,
        -0.732_131_925_313_743_35,
        0.142_254_153_101_260_83,
        -0.006_663_860_830_527_581_4,
        0.303_652_050_811_141_89,
        -3.715_775_973_114_988,
    ]);
    let want: Vec<f64> = gmp
        .iter()
        .chain(&glp)
        .copied()
        .chain(gmp.iter().map(|x| -x))
        .chain(glq)
        .collect();
    for (k, (got, want)) in g.iter().zip(&want).enumerate() {
        if lp_upper(k, 3) {
            continue;
        }
        assert!(
            rel_close(*got, *want, 1e-12),
            "gradient {k}: {got} vs {want}"
        );
    }
}

/// Whether gradient `k` of (μp, Lp, μq, Lq) in `n` dimensions is one of Lp's upper triangle:
/// not compared with the textbook form (whose Σp = LpLpᵀ reads the whole of Lp) but with
/// PyTorch's, which multiplies the whole of Lp by Lq⁻¹ (the conformance cases in
/// tests/data/conformance/kl.json).
fn lp_upper(k: usize, n: usize) -> bool {
    (n..n + n * n).contains(&k) && {
        let (i, j) = ((k - n) / n, (k - n) % n);
        j > i
    }
}

/// The fused MultivariateNormal divergence against central differences of itself
/// (`infer_ad`'s gradcheck; step 1e-6, tolerance 1e-6 + 1e-5 relative) in 3 dimensions, the
/// factors built from unconstrained coordinates by `LowerCholesky`, at 40 fixed points with
/// locations in [−2, 2], diagonals in [e⁻¹, e] and off-diagonals in [−1, 1].
#[test]
fn multivariate_normal_kl_passes_gradcheck_in_three_dimensions() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let mut draw = |k: usize, w: f64| -> ArrayD<f64> {
        arr1(
            &(0..k)
                .map(|_| w * (2.0 * rng.random::<f64>() - 1.0))
                .collect::<Vec<_>>(),
        )
        .into_dyn()
    };
    let cfg = GradCheckConfig {
        step: 1e-6,
        atol: 1e-6,
        rtol: 1e-5,
    };
    let as_ad = |e: DistError| match e {
        DistError::Ad(e) => e,
        _ => AdError::Empty { op: "kl test" },
    };
    for _ in 0..40 {
        let inputs = vec![draw(3, 2.0), draw(6, 1.0), draw(3, 2.0), draw(6, 1.0)];
        let r = check_gradient(
            &inputs,
            |_, t| {
                let lp = Bijector::LowerCholesky.forward(t[1]).map_err(as_ad)?;
                let lq = Bijector::LowerCholesky.forward(t[3]).map_err(as_ad)?;
                let p = MultivariateNormal::new(t[0], lp).map_err(as_ad)?;
                let q = MultivariateNormal::new(t[2], lq).map_err(as_ad)?;
                Ok(kl_divergence(&p, &q).map_err(as_ad)?.sum())
            },
            &cfg,
        );
        assert!(r.is_ok(), "{inputs:?}: {r:?}");
    }
}

/// A batch of locations against shared factors: the gradient of the summed batch equals the
/// sum of the single pairs' gradients (the factors' gradients accumulate over the batch; the
/// batch's locations get their own), to 1e-13 relative.
#[test]
fn multivariate_normal_kl_batch_gradients_match_single_pairs() {
    let lp = [1.2, 0.0, 0.4, 0.7];
    let lq = [0.9, 0.0, -0.3, 1.1];
    let locs = [[0.5, -0.3], [1e8, 2.0], [-1.0, 0.0]];
    let mq = [0.0, 0.2];
    let tape = Tape::new();
    let (tlp, tlq) = (
        tape.tensor(&ndarray::array![[lp[0], lp[1]], [lp[2], lp[3]]]),
        tape.tensor(&ndarray::array![[lq[0], lq[1]], [lq[2], lq[3]]]),
    );
    let tm = tape.tensor(&ndarray::Array2::from_shape_fn((3, 2), |(i, j)| locs[i][j]));
    let tmq = tape.tensor(&arr1(&mq));
    let p = MultivariateNormal::new(tm, tlp).expect("valid");
    let q = MultivariateNormal::new(tmq, tlq).expect("valid");
    let kl = kl_divergence(&p, &q).expect("registered");
    assert_eq!(kl.dims(), &[3]);
    kl.sum().backward();
    let (mut sum_lp, mut sum_mq, mut sum_lq) = ([0.0; 4], [0.0; 2], [0.0; 4]);
    let gm = tm.grad();
    for (i, loc) in locs.iter().enumerate() {
        let (_, g) = mvn_kl(loc, &lp, &mq, &lq);
        for k in 0..2 {
            assert!(rel_close(gm[[i, k]], g[k], 1e-13), "μp[{i}][{k}]");
            sum_mq[k] += g[6 + k];
        }
        for k in 0..4 {
            sum_lp[k] += g[2 + k];
            sum_lq[k] += g[8 + k];
        }
    }
    let close_all = |got: Vec<f64>, want: &[f64]| {
        got.iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() <= 1e-13 * b.abs().max(1.0))
    };
    assert!(close_all(tlp.grad().iter().copied().collect(), &sum_lp));
    assert!(close_all(tmq.grad().iter().copied().collect(), &sum_mq));
    assert!(close_all(tlq.grad().iter().copied().collect(), &sum_lq));
}

/// The rules of `kl_rules_hold_for_every_pair_at_extreme_parameters` for 3-dimensional
/// MultivariateNormal pairs (the property test draws 2-dimensional ones): 20,000 draws (fixed
/// seed) of locations and factor entries from the extreme sets (subnormal to ±f64::MAX), a
/// quarter of them identical pairs. The rules are exact (no statistical tolerance): KL is
/// never NaN, is ≥ 0, is 0 for identical pairs, and no gradient is NaN where it is finite.
#[test]
fn multivariate_normal_kl_rules_hold_in_three_dimensions() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x13);
    let draw = |rng: &mut rand::rngs::StdRng| {
        let pos = |r: &mut rand::rngs::StdRng| pick(r, POS, 0.05, 5.0);
        let loc = |r: &mut rand::rngs::StdRng| pick(r, LOC, -3.0, 3.0);
        let m = [loc(rng), loc(rng), loc(rng)];
        let l = [
            pos(rng),
            0.0,
            0.0,
            loc(rng),
            pos(rng),
            0.0,
            loc(rng),
            loc(rng),
            pos(rng),
        ];
        (m, l)
    };
    for case in 0..20_000 {
        let (mp, lp) = draw(&mut rng);
        let identical = case % 4 == 0;
        let (mq, lq) = if identical { (mp, lp) } else { draw(&mut rng) };
        let (v, g) = mvn_kl(&mp, &lp, &mq, &lq);
        let at = format!("{mp:?} {lp:?} ‖ {mq:?} {lq:?}");
        assert!(!v.is_nan() && v >= 0.0, "KL = {v} at {at}");
        assert!(
            !identical || v == 0.0,
            "KL = {v} for identical pairs at {at}"
        );
        assert!(
            !v.is_finite() || g.iter().all(|x| !x.is_nan()),
            "NaN gradient at {at}: {g:?}"
        );
    }
}
