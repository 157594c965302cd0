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

use infer_ad::{Tape, Tensor};
use infer_dist::{
    Bernoulli, Beta, Binomial, Categorical, Chi2, DistError, Distribution, Gamma, Geometric,
    Gumbel, KL_PAIRS, MultivariateNormal, Normal, Pareto, Poisson, Uniform, kl_divergence,
};
use ndarray::{ArrayD, arr0, arr1};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use std::sync::mpsc;
use std::time::Duration;

mod mpmath;
mod mvn;

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
