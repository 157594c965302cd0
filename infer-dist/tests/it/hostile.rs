//! Hostile input for the families (issue 13): every family and every method over arbitrary f64
//! parameters and values — NaN, ±∞, ±0, subnormals, ±1e308 and ordinary numbers.
//!
//! The rules checked:
//! - a constructor returns `Ok` or a typed error, never panics;
//! - a log density (elementwise and summed) is finite or −∞ — +∞ only where the density is
//!   truly unbounded, at the edge of the support — and NaN only when the value is NaN;
//! - `log_prob_sum` agrees with Σ `log_prob`;
//! - a cdf lies in [0, 1]; entropy, mean and variance are never NaN (except the moments that
//!   PyTorch documents as undefined: the StudentT mean and variance for df ≤ 1); a variance is
//!   ≥ 0;
//! - gradients (by `backward`) are never NaN without a NaN input, and are exactly 0 outside the
//!   support;
//! - sampling terminates (each case runs on its own thread under a time bound), and a draw is
//!   in the support;
//! - parameters or values from two tapes are a typed error.
//!
//! The case count of each suite is printed (`cargo test -- --nocapture`) and asserted.

use infer_ad::{AdError, Tape, Tensor};
use infer_dist::*;
use ndarray::{arr1, arr2};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::SeedableRng;
use std::sync::mpsc;
use std::time::Duration;

/// Time allowed for one whole case (every method of one distribution at a few values).
const CASE_TIMEOUT: Duration = Duration::from_secs(5);

/// Special values an adversary tries first.
const SPECIAL: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2e-308,
    1e-300,
    1e-200,
    1e-160,
    1e-100,
    1e-16,
    1e-8,
    0.01,
    0.5,
    0.9,
    1.0,
    1.0 - 1e-16,
    -1.0,
    2.0,
    3.0,
    10.0,
    1e8,
    1e15,
    1e16,
    9e15,
    1e100,
    1e200,
    1e300,
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN,
    -1000.0,
    30.0,
];

/// An f64 an adversary would pick: special values, any f64 (all classes, NaN included),
/// ordinary numbers and small integers (for the discrete families).
fn hostile() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => proptest::sample::select(SPECIAL),
        2 => any::<f64>(),
        2 => -10.0..10.0f64,
        1 => 0.0..1.0f64,
        1 => (0u32..20).prop_map(f64::from),
    ]
}

type Dist<'t> = Box<dyn Distribution<'t> + 't>;

/// A family built from plain parameters, each recorded as a tracked leaf on `tape`; the leaves
/// are returned for the gradient checks.
type Build = for<'t> fn(&'t Tape, &[f64]) -> (Result<Dist<'t>, DistError>, Vec<Tensor<'t>>);

macro_rules! fam {
    ($name:expr, $k:expr, |$t:ident, $p:ident| $e:expr) => {
        ($name, $k, {
            fn f<'t>($t: &'t Tape, $p: &[f64]) -> (Result<Dist<'t>, DistError>, Vec<Tensor<'t>>) {
                let _ = $t;
                let leaves: Vec<Tensor<'t>> = $p.iter().map(|&v| $t.var(v).as_tensor()).collect();
                let $p = &leaves[..];
                let d: Result<Dist<'t>, DistError> = (|| Ok(Box::new($e?) as Dist<'t>))();
                (d, leaves)
            }
            f as Build
        })
    };
}

/// Every family: (name, number of scalar parameters, builder).
fn families() -> Vec<(&'static str, usize, Build)> {
    vec![
        fam!("Normal", 2, |t, p| Normal::new(p[0], p[1])),
        fam!("Cauchy", 2, |t, p| Cauchy::new(p[0], p[1])),
        fam!("LogNormal", 2, |t, p| LogNormal::new(p[0], p[1])),
        fam!("HalfNormal", 1, |t, p| HalfNormal::new(p[0])),
        fam!("HalfCauchy", 1, |t, p| HalfCauchy::new(p[0])),
        fam!("Exponential", 1, |t, p| Exponential::new(p[0])),
        fam!("Gamma", 2, |t, p| Gamma::new(p[0], p[1])),
        fam!("InverseGamma", 2, |t, p| InverseGamma::new(p[0], p[1])),
        fam!("Beta", 2, |t, p| Beta::new(p[0], p[1])),
        fam!("StudentT", 3, |t, p| StudentT::new(p[0], p[1], p[2])),
        fam!("Laplace", 2, |t, p| Laplace::new(p[0], p[1])),
        fam!("Uniform", 2, |t, p| Uniform::new(p[0], p[1])),
        fam!("Gumbel", 2, |t, p| Gumbel::new(p[0], p[1])),
        fam!("Weibull", 2, |t, p| Weibull::new(p[0], p[1])),
        fam!("Chi2", 1, |t, p| Chi2::new(p[0])),
        fam!("Pareto", 2, |t, p| Pareto::new(p[0], p[1])),
        fam!("Kumaraswamy", 2, |t, p| Kumaraswamy::new(p[0], p[1])),
        fam!("BernoulliProbs", 1, |t, p| Bernoulli::from_probs(p[0])),
        fam!("BernoulliLogits", 1, |t, p| Bernoulli::from_logits(p[0])),
        fam!("Binomial", 2, |t, p| Binomial::new(p[0], p[1])),
        fam!("Poisson", 1, |t, p| Poisson::new(p[0])),
        fam!("Geometric", 1, |t, p| Geometric::new(p[0])),
        fam!("NegativeBinomial", 2, |t, p| NegativeBinomial::new(
            p[0], p[1]
        )),
        fam!("CategoricalProbs", 3, |t, p| Categorical::from_probs(
            t.stack_vars(&[p[0].item()?, p[1].item()?, p[2].item()?])?
        )),
        fam!("CategoricalLogits", 3, |t, p| Categorical::from_logits(
            t.stack_vars(&[p[0].item()?, p[1].item()?, p[2].item()?])?
        )),
        fam!("Dirichlet", 3, |t, p| Dirichlet::new(t.stack_vars(&[
            p[0].item()?,
            p[1].item()?,
            p[2].item()?
        ])?)),
        fam!("MultivariateNormal", 5, |t, p| {
            let zero = t.constant(&ndarray::arr0(0.0)).item()?;
            let loc = t.stack_vars(&[p[0].item()?, p[1].item()?])?;
            let l = t
                .stack_vars(&[p[2].item()?, zero, p[3].item()?, p[4].item()?])?
                .reshape(&[2, 2])?;
            MultivariateNormal::new(loc, l)
        }),
        fam!("Delta", 1, |t, p| Delta::new(p[0])),
    ]
}

fn err(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// Whether `x` is a point of the support where a density may be unbounded (+∞).
fn on_edge(d: &dyn Distribution<'_>, x: f64) -> bool {
    match d.support() {
        Constraint::Positive | Constraint::GreaterThanEq(_) => x == 0.0,
        Constraint::UnitInterval => x == 0.0 || x == 1.0,
        Constraint::GreaterThan(l) => x == l,
        _ => false,
    }
}

/// A draw is in the support, or on its boundary when it underflowed there (a Weibull draw
/// λ E^{1/k} with k = 1e-300 and E < 1 is 0 in f64, as are Gamma draws with subnormal shapes).
fn in_closure(d: &dyn Distribution<'_>, xs: &[f64]) -> bool {
    if xs.iter().any(|x| x.is_nan()) {
        return false;
    }
    d.support().check_event(xs)
        || (matches!(d.support(), Constraint::Positive) && xs.iter().all(|&x| x == 0.0))
}

/// Whether a parameter is in the extreme class: nonzero with magnitude below 1e-150 or above
/// 1e150 (subnormals, 2.2e-308, 1e-300, 1e-200, 1e200, 1e300, 1e308, f64::MAX, ...).
fn extreme(p: f64) -> bool {
    p != 0.0 && !(1e-150..=1e150).contains(&p.abs())
}

/// The gradient rule's open exclusions (issue 13): (family, method) pairs whose parameter
/// gradients may still be NaN when some parameter is [`extreme`]; `log_prob` also covers
/// `log_prob_sum`, `"*"` is every method. Only the gradient check is skipped for them; the
/// value rules still apply. None is open: the former entries (Gamma/Chi2/InverseGamma `cdf`;
/// Gamma/Chi2/Beta/Weibull/InverseGamma/Laplace/NegativeBinomial `log_prob`; the implicit
/// `rsample` gradients; Kumaraswamy `mean`/`variance`/`entropy`, Beta and Dirichlet
/// `entropy`, Dirichlet `variance`) are fixed, with regressions below
/// (`*_at_extreme_parameters_*`).
const GRAD_EXCLUDED: &[(&str, &str)] = &[];

/// Whether the gradient check of `method` is skipped for `family` at `params`.
fn grad_excluded(family: &str, method: &str, params: &[f64]) -> bool {
    params.iter().any(|&p| extreme(p))
        && GRAD_EXCLUDED
            .iter()
            .any(|&(f, m)| f == family && (m == method || m == "*"))
}

fn grads_ok(
    grads: bool,
    what: &str,
    leaves: &[Tensor<'_>],
    value: Option<Tensor<'_>>,
    zero: bool,
) -> Result<(), String> {
    if !grads {
        return Ok(());
    }
    for (i, l) in leaves.iter().chain(value.iter()).enumerate() {
        for g in l.grad().iter() {
            if g.is_nan() {
                return Err(format!("{what}: NaN gradient of input {i}"));
            }
            if zero && *g != 0.0 {
                return Err(format!(
                    "{what}: gradient {g} of input {i} outside the support"
                ));
            }
        }
    }
    Ok(())
}

/// Every method of one distribution at the values `xs` (plus a draw), checked against the
/// rules. Returns a description of the first violation.
fn check_case(
    build: Build,
    params: &[f64],
    xs: &[f64],
    seed: u64,
    grads: bool,
) -> Result<(), String> {
    let tape = Tape::new();
    let (d, leaves) = build(&tape, params);
    let d = match d {
        Ok(d) => d,
        // a typed error: any variant is typed; the constructor did not panic
        Err(_) => return Ok(()),
    };
    let d = &*d;
    let name = d.name();
    let n_event = d.event_shape().dims().first().copied().unwrap_or(1);
    let scalar_event = d.event_shape().ndim() == 0;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // sampling: terminates (bounded by the case timeout), in the support
    let mut values: Vec<f64> = xs.to_vec();
    match d.sample(&mut rng) {
        Ok(s) => {
            let s = s.iter().copied().collect::<Vec<_>>();
            if !in_closure(d, &s) {
                return Err(format!("{name}{params:?}: draw {s:?} outside the support"));
            }
            if scalar_event {
                values.push(s[0]);
            }
        }
        Err(DistError::Sampling { .. }) => {}
        Err(e) => return Err(format!("{name}{params:?}: sample: unexpected error {e:?}")),
    }
    if let Some(r) = d.as_reparameterizable() {
        match r.rsample(&mut rng) {
            Ok(s) => {
                let v = s.to_vec();
                if !in_closure(d, &v) {
                    return Err(format!(
                        "{name}{params:?}: rsample {v:?} outside the support"
                    ));
                }
                s.sum().backward();
                grads_ok(
                    grads && !grad_excluded(name, "rsample", params),
                    &format!("{name}{params:?} rsample"),
                    &leaves,
                    None,
                    false,
                )?;
            }
            Err(DistError::Sampling { .. }) => {}
            Err(e) => return Err(format!("{name}{params:?}: rsample: unexpected error {e:?}")),
        }
    }

    for &x in &values {
        let what = format!("{name}{params:?} at {x}");
        let v = if scalar_event {
            tape.var(x).as_tensor()
        } else {
            tape.tensor(&ndarray::Array1::from_elem(n_event, x))
        };
        let inside = d.support().check_event(&vec![x; n_event]);
        let lp = d
            .log_prob(v)
            .map_err(|e| format!("{what}: log_prob: {e:?}"))?;
        let l = lp.to_vec()[0];
        if x.is_nan() {
            // NaN in: NaN out, or −∞ for the families that read the value as an index or a
            // point of a simplex (a NaN is not one)
            if !(l.is_nan() || l == f64::NEG_INFINITY) {
                return Err(format!("{what}: log_prob {l} for a NaN value"));
            }
            continue;
        }
        if l.is_nan() || (l == f64::INFINITY && !on_edge(d, x)) {
            return Err(format!("{what}: log_prob = {l}"));
        }
        if !inside && l != f64::NEG_INFINITY {
            return Err(format!("{what}: log_prob = {l} outside the support"));
        }
        let lp_grads = grads && !grad_excluded(name, "log_prob", params);
        lp.sum().backward();
        grads_ok(
            lp_grads,
            &format!("{what} log_prob"),
            &leaves,
            Some(v),
            !inside,
        )?;
        let s = d
            .log_prob_sum(v)
            .map_err(|e| format!("{what}: log_prob_sum: {e:?}"))?;
        let sv = s.value();
        let agree = sv == l || (sv - l).abs() <= 1e-9 * (1.0 + l.abs());
        if !agree {
            return Err(format!("{what}: log_prob_sum {sv} vs log_prob {l}"));
        }
        s.backward();
        grads_ok(
            lp_grads,
            &format!("{what} log_prob_sum"),
            &leaves,
            Some(v),
            !inside,
        )?;
        match d.cdf(v) {
            Ok(c) => {
                let c0 = c.to_vec()[0];
                if !(0.0..=1.0).contains(&c0) {
                    return Err(format!("{what}: cdf = {c0}"));
                }
                c.sum().backward();
                grads_ok(
                    grads && !grad_excluded(name, "cdf", params),
                    &format!("{what} cdf"),
                    &leaves,
                    Some(v),
                    false,
                )?;
            }
            Err(DistError::NotDefined { .. }) => {}
            Err(e) => return Err(format!("{what}: cdf: {e:?}")),
        }
    }
    // the fused sum over several values at once (the fast paths)
    if scalar_event && values.iter().all(|x| !x.is_nan()) {
        let v = tape.tensor(&arr1(&values));
        let each = d
            .log_prob(v)
            .map_err(|e| format!("{name}: {e:?}"))?
            .to_vec();
        let total: f64 = each.iter().sum();
        let sum = d.log_prob_sum(v).map_err(|e| format!("{name}: {e:?}"))?;
        let s = sum.value();
        let agree = s == total
            || (s - total).abs() <= 1e-9 * (1.0 + each.iter().map(|l| l.abs()).sum::<f64>());
        if !agree && !(s.is_nan() && total.is_nan()) {
            return Err(format!(
                "{name}{params:?}: log_prob_sum {s} vs Σ log_prob {total} at {values:?}"
            ));
        }
        // NaN only as +∞ + (−∞): a density unbounded at the edge of the support plus a value
        // outside it
        let both = each.contains(&f64::INFINITY) && each.contains(&f64::NEG_INFINITY);
        if s.is_nan() && !both {
            return Err(format!("{name}{params:?}: log_prob_sum NaN at {values:?}"));
        }
        // a finite sum has no NaN gradient: the partials of a scalar parameter summed over
        // the values (where one value's partial can be +∞ and another's −∞ when the
        // parameter's reciprocal overflows)
        if s.is_finite() {
            sum.backward();
            grads_ok(
                grads,
                &format!("{name}{params:?} log_prob_sum at {values:?}"),
                &leaves,
                Some(v),
                false,
            )?;
        }
    }

    // The moments PyTorch documents as undefined (NaN): the StudentT's mean and variance for
    // df ≤ 1 and the Cauchy's mean.
    let df_le_1 = (name == "StudentT" && params[0] <= 1.0) || name == "Cauchy";
    for (m, r) in [
        ("entropy", d.entropy()),
        ("mean", d.mean()),
        ("variance", d.variance()),
    ] {
        match r {
            Ok(t) => {
                for y in t.to_vec() {
                    if y.is_nan() && !(df_le_1 && m != "entropy") {
                        return Err(format!("{name}{params:?}: {m} is NaN"));
                    }
                    if m == "variance" && y < 0.0 {
                        return Err(format!("{name}{params:?}: variance {y} < 0"));
                    }
                }
                t.sum().backward();
                grads_ok(
                    grads && !grad_excluded(name, m, params),
                    &format!("{name}{params:?} {m}"),
                    &leaves,
                    None,
                    false,
                )?;
            }
            Err(DistError::NotDefined { .. }) => {}
            Err(e) => return Err(format!("{name}{params:?}: {m}: {e:?}")),
        }
    }
    Ok(())
}

/// Runs `check_case` on its own thread, failing on a panic or when it takes longer than
/// [`CASE_TIMEOUT`] (a hang).
fn bounded(
    build: Build,
    params: Vec<f64>,
    xs: Vec<f64>,
    seed: u64,
    grads: bool,
) -> Result<(), TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let (p2, x2) = (params.clone(), xs.clone());
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| check_case(build, &p2, &x2, seed, grads));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(CASE_TIMEOUT) {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(msg))) => Err(err(msg)),
        Ok(Err(_)) => Err(err(format!("panic at params {params:?}, values {xs:?}"))),
        Err(_) => Err(err(format!(
            "no answer within {CASE_TIMEOUT:?} (hang) at params {params:?}, values {xs:?}"
        ))),
    }
}

/// Cases per family in [`families_hostile`].
const CASES_PER_FAMILY: u32 = 256;

/// The families suite: every family, every method, hostile parameters and values: the rules
/// for values (log densities, cdfs, moments, draws, termination).
#[test]
fn families_hostile() {
    let total = run_families(false);
    println!("families_hostile: {total} cases");
    assert!(total >= CASES_PER_FAMILY * 28);
}

/// The same cases with the gradient rule as well (never NaN without a NaN input, 0 outside
/// the support), for log_prob, log_prob_sum, cdf, entropy, mean, variance and rsample.
/// The exclusions still open are listed, with their reasons, in [`GRAD_EXCLUDED`].
#[test]
fn families_hostile_gradients() {
    let total = run_families(true);
    println!("families_hostile_gradients: {total} cases");
    assert!(total >= CASES_PER_FAMILY * 28);
}

/// Parameters of the deterministic grid in [`families_grid_gradients`]: subnormal scales whose
/// reciprocal overflows, the edges of the normal range, ordinary and huge values.
const GRID: &[f64] = &[
    5e-324,
    2.97435946661293e-309,
    1e-310,
    2.2250738585072014e-308,
    1e-300,
    0.5,
    1.0,
    3.0,
    1e308,
];

/// Values of the grid sweep, three at a time: tiny and zero values beside each other (at a
/// subnormal scale one partial is +∞ and another −∞), values on both sides of 0, and extremes.
const GRID_VALUES: &[[f64; 3]] = &[
    [1.4677349185358627e-301, 2e-300, 0.0],
    [0.0, 1.0, -1.0],
    [5e-324, 1e308, 0.5],
    [-2e-300, 0.0, 2e-300],
];

/// Every family over a fixed grid of extreme parameters (every combination for up to three
/// parameters, a diagonal for the multivariate normal), with the gradient rule: deterministic
/// cases that a random search reaches only by chance.
#[test]
fn families_grid_gradients() {
    let mut total = 0u32;
    let mut failures = Vec::new();
    for (name, k, build) in families() {
        let combos: Vec<Vec<f64>> = if k <= 3 {
            (0..GRID.len().pow(k as u32))
                .map(|mut i| {
                    (0..k)
                        .map(|_| {
                            let v = GRID[i % GRID.len()];
                            i /= GRID.len();
                            v
                        })
                        .collect()
                })
                .collect()
        } else {
            GRID.iter()
                .flat_map(|&a| GRID.iter().map(move |&b| vec![0.0, 0.0, a, b, a]))
                .collect()
        };
        for params in combos {
            for xs in GRID_VALUES {
                total += 1;
                if let Err(e) = bounded(build, params.clone(), xs.to_vec(), 7, true) {
                    failures.push(format!("{name}: {e}"));
                }
            }
        }
    }
    println!("families_grid_gradients: {total} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn run_families(grads: bool) -> u32 {
    let mut total = 0u32;
    let mut failures = Vec::new();
    for (name, k, build) in families() {
        let mut runner = TestRunner::new(Config {
            cases: CASES_PER_FAMILY,
            failure_persistence: None,
            ..Config::default()
        });
        let strat = (
            proptest::collection::vec(hostile(), k),
            proptest::collection::vec(hostile(), 3),
            any::<u64>(),
        );
        let count = std::cell::Cell::new(0u32);
        let r = runner.run(&strat, |(params, xs, seed)| {
            count.set(count.get() + 1);
            bounded(build, params, xs, seed, grads)
        });
        if let Err(e) = r {
            failures.push(format!("{name}: {e}"));
        }
        total += count.get();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    total
}

// ---- two tapes ----

fn is_different_tapes<T: std::fmt::Debug>(r: Result<T, DistError>) -> bool {
    matches!(r, Err(DistError::Ad(AdError::DifferentTapes { .. })))
}

/// Parameters on two tapes are a typed error for every family with two or more parameter
/// handles, and a value on another tape than the parameters is a typed error for every
/// method that takes one (it used to be `Ok`, then panicked in `log_prob`).
#[test]
fn two_tapes_are_a_typed_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = |v: f64| t1.var(v).as_tensor();
    let b = |v: f64| t2.var(v).as_tensor();
    assert!(is_different_tapes(Normal::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Normal::new(b(0.0), a(1.0))));
    assert!(is_different_tapes(Cauchy::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(LogNormal::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Gamma::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(InverseGamma::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Beta::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(StudentT::new(a(3.0), a(0.0), b(1.0))));
    assert!(is_different_tapes(StudentT::new(b(3.0), a(0.0), a(1.0))));
    assert!(is_different_tapes(Laplace::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Uniform::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Gumbel::new(a(0.0), b(1.0))));
    assert!(is_different_tapes(Weibull::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Pareto::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Kumaraswamy::new(a(1.0), b(1.0))));
    assert!(is_different_tapes(Binomial::new(a(3.0), b(0.5))));
    assert!(is_different_tapes(NegativeBinomial::new(a(3.0), b(0.5))));
    assert!(is_different_tapes(MultivariateNormal::new(
        t1.tensor(&arr1(&[0.0, 0.0])),
        t2.tensor(&arr2(&[[1.0, 0.0], [0.0, 1.0]]))
    )));

    // a value on another tape than the parameters
    let x2 = b(0.5);
    let x2v = t2.tensor(&arr1(&[0.2, 0.3, 0.5]));
    let ds: Vec<Box<dyn Distribution<'_> + '_>> = vec![
        Box::new(Normal::new(a(0.0), a(1.0)).expect("valid")),
        Box::new(StudentT::new(a(3.0), a(0.0), a(1.0)).expect("valid")),
        Box::new(Gamma::new(a(2.0), a(1.0)).expect("valid")),
        Box::new(Beta::new(a(2.0), a(1.0)).expect("valid")),
        Box::new(Uniform::new(a(0.0), a(1.0)).expect("valid")),
        Box::new(Exponential::new(a(1.0)).expect("valid")),
        Box::new(Poisson::new(a(1.0)).expect("valid")),
        Box::new(Geometric::new(a(0.3)).expect("valid")),
        Box::new(Bernoulli::from_probs(a(0.3)).expect("valid")),
        Box::new(Delta::new(a(0.5)).expect("valid")),
        Box::new(Categorical::from_probs(t1.tensor(&arr1(&[0.2, 0.8]))).expect("valid")),
    ];
    for d in &ds {
        assert!(is_different_tapes(d.log_prob(x2)), "{} log_prob", d.name());
        assert!(
            is_different_tapes(d.log_prob_sum(x2)),
            "{} log_prob_sum",
            d.name()
        );
        match d.cdf(x2) {
            Err(DistError::NotDefined { .. }) => {}
            r => assert!(is_different_tapes(r), "{} cdf", d.name()),
        }
    }
    // the Normal's fast path (scalar parameters, a vector of values)
    let n = Normal::new(a(0.0), a(1.0)).expect("valid");
    assert!(is_different_tapes(n.log_prob_sum(x2v)));
    let dir = Dirichlet::new(t1.tensor(&arr1(&[1.0, 2.0, 3.0]))).expect("valid");
    assert!(is_different_tapes(dir.log_prob(x2v)));
    assert!(is_different_tapes(dir.log_prob_sum(x2v)));
    let mvn = MultivariateNormal::new(
        t1.tensor(&arr1(&[0.0, 0.0, 0.0])),
        t1.tensor(&arr2(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    )
    .expect("valid");
    assert!(is_different_tapes(mvn.log_prob(x2v)));
    assert!(is_different_tapes(mvn.log_prob_sum(x2v)));
}

// ---- MultivariateNormal regressions (issue 13) ----

/// A 2-d MultivariateNormal with tracked parameters [μ₁, μ₂, L₁₁, L₂₁, L₂₂].
fn mvn2<'t>(tape: &'t Tape, p: [f64; 5]) -> (MultivariateNormal<'t>, Vec<infer_ad::Var<'t>>) {
    let v: Vec<_> = p.iter().map(|&x| tape.var(x)).collect();
    let zero = tape.constant(&ndarray::arr0(0.0)).item().expect("0-d");
    let loc = tape.stack_vars(&[v[0], v[1]]).expect("same tape");
    let l = tape
        .stack_vars(&[v[2], zero, v[3], v[4]])
        .and_then(|l| l.reshape(&[2, 2]))
        .expect("2×2");
    (MultivariateNormal::new(loc, l).expect("valid"), v)
}

/// The sweep of a backward pass visits every node recorded before the root; the triangular
/// solve of a log density at a NaN value (no gradient reaches it) sent 0 · NaN = NaN to the
/// scale factor, so the entropy's gradient, taken later on the same tape, was NaN at
/// ordinary parameters. Expected: ∂H/∂Lᵢᵢ = 1/Lᵢᵢ (mpmath), 0 for L₂₁ and μ.
#[test]
fn mvn_entropy_gradient_after_a_nan_log_prob() {
    let tape = Tape::new();
    let (d, v) = mvn2(&tape, [0.0, 0.0, 2.2e-308, 0.0, 0.022_650_905_887_534_86]);
    let lp = d
        .log_prob(tape.tensor(&arr1(&[f64::NAN, f64::NAN])))
        .expect("shape");
    assert!(lp.to_vec()[0].is_nan());
    d.entropy().expect("defined").sum().backward();
    let g: Vec<f64> = v.iter().map(|x| x.grad()).collect();
    assert_eq!(&g[..2], &[0.0, 0.0]);
    assert_eq!(g[3], 0.0);
    assert!(
        (g[2] / 4.545_454_545_454_545_050_059_7e307 - 1.0).abs() < 1e-15,
        "{g:?}"
    );
    assert!(
        (g[4] / 44.148_344_660_701_419_161 - 1.0).abs() < 1e-14,
        "{g:?}"
    );
}

/// With a subnormal L₁₁ the partials of L₁₁ through the solve (z₁²/L₁₁) and through the log
/// determinant (−1/L₁₁) both overflow, and met as ∞ − ∞ = NaN though their sum
/// (z₁² − 1)/L₁₁ is 0 at z₁ = 1. Point: μ = 0, L = [[2⁻¹⁰⁷⁴, 0], [0, 2]], x = (2⁻¹⁰⁷⁴, 1):
/// z = (1, ½), ln p = −⅝ + 1074 ln 2 − ln 2 − ln 2π = 741.28404767441197152 (mpmath);
/// ∂/∂L₁₁ = 0, ∂/∂L₂₁ = z₁z₂/L₂₂ = ¼, ∂/∂L₂₂ = (z₂² − 1)/L₂₂ = −⅜, ∂/∂μ₂ = z₂/L₂₂ = ¼,
/// ∂/∂μ₁ = z₁/L₁₁ = 2¹⁰⁷⁴, which overflows to +∞.
#[test]
fn mvn_log_prob_gradient_at_a_subnormal_diagonal() {
    for sum in [false, true] {
        let tape = Tape::new();
        let (d, v) = mvn2(&tape, [0.0, 0.0, 5e-324, 0.0, 2.0]);
        let x = tape.tensor(&arr1(&[5e-324, 1.0]));
        let lp = if sum {
            d.log_prob_sum(x).expect("shape")
        } else {
            d.log_prob(x).expect("shape").sum()
        };
        assert!(
            (lp.value() - 741.284_047_674_411_971_52).abs() < 1e-12,
            "{}",
            lp.value()
        );
        lp.backward();
        let g: Vec<f64> = v.iter().map(|x| x.grad()).collect();
        assert_eq!(
            g,
            vec![f64::INFINITY, 0.25, 0.0, 0.25, -0.375],
            "sum: {sum}"
        );
        let gx = x.grad().iter().copied().collect::<Vec<_>>();
        assert_eq!(gx, vec![f64::NEG_INFINITY, -0.25], "sum: {sum}");
    }
}

/// x − μ overflows (1e308 − (−1e308)): the density is 0 in f64, so the log density is −∞
/// with gradient 0, not NaN (the solve turned ∞ into ∞ − ∞).
#[test]
fn mvn_log_prob_when_the_residual_overflows() {
    let tape = Tape::new();
    let (d, v) = mvn2(&tape, [0.0, -1e308, 0.69, 2.16, 5e-324]);
    let x = tape.tensor(&arr1(&[1e308, 1e308]));
    let lp = d.log_prob(x).expect("shape");
    assert_eq!(lp.to_vec(), vec![f64::NEG_INFINITY]);
    assert_eq!(d.log_prob_sum(x).expect("shape").value(), f64::NEG_INFINITY);
    lp.sum().backward();
    assert!(v.iter().all(|x| x.grad() == 0.0));
    assert!(x.grad().iter().all(|&g| g == 0.0));
}

/// InverseGamma(1e200, 3.424171746171744e305): b² and (a − 1)²(a − 2) both overflowed, so
/// the variance b²/((a − 1)²(a − 2)) was ∞/∞ = NaN. Exact (mpmath): V = 117249521472.80853,
/// ∂V/∂a = −3.5174856441842559e-189, ∂V/∂b = 6.8483434923434890e-295.
#[test]
fn inverse_gamma_variance_of_huge_parameters() {
    let tape = Tape::new();
    let (a, b) = (tape.var(1e200), tape.var(3.424_171_746_171_744e305));
    let v = InverseGamma::new(a, b)
        .and_then(|d| d.variance())
        .expect("defined")
        .sum();
    let rel = |x: f64, y: f64| ((x - y) / y).abs();
    assert!(
        rel(v.value(), 117_249_521_472.808_53) < 1e-14,
        "{}",
        v.value()
    );
    v.backward();
    assert!(
        rel(a.grad(), -3.517_485_644_184_255_9e-189) < 1e-14,
        "{}",
        a.grad()
    );
    assert!(
        rel(b.grad(), 6.848_343_492_343_489e-295) < 1e-14,
        "{}",
        b.grad()
    );
}

/// Kumaraswamy at the edges and at subnormal concentrations (issue 13):
/// - a = b = ½ at x = 0: the density is +∞ and the value partial (a − 1)/x − … was ∞ − ∞;
///   its limit is −∞;
/// - a = b = 2⁻¹⁰⁷⁴ at x = 0.9937931582382316: a ln x underflowed, so ln(1 − xᵃ) was −∞ and
///   the log density +∞; exact (mpmath, 900 digits): −739.35485412862853, ∂/∂x =
///   160.60888840253898, ∂/∂a = 0.99688690785852788 (the separate terms 1/a and (b − 1)/a
///   were ∞ − ∞); ∂/∂b = 2.02e323 overflows to +∞.
#[test]
fn kumaraswamy_edges_and_subnormal_concentrations() {
    let tape = Tape::new();
    let (a, b, x) = (tape.var(0.5), tape.var(0.5), tape.var(0.0));
    let lp = Kumaraswamy::new(a, b)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid")
        .sum();
    assert_eq!(lp.value(), f64::INFINITY);
    lp.backward();
    assert_eq!(x.grad(), f64::NEG_INFINITY);
    assert_eq!(a.grad(), f64::NEG_INFINITY);
    assert_eq!(b.grad(), 2.0);

    let tape = Tape::new();
    let (a, b, x) = (
        tape.var(5e-324),
        tape.var(5e-324),
        tape.var(0.993_793_158_238_231_6),
    );
    let lp = Kumaraswamy::new(a, b)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid")
        .sum();
    assert!(
        (lp.value() + 739.354_854_128_628_53).abs() < 1e-12,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(
        (x.grad() / 160.608_888_402_538_98 - 1.0).abs() < 1e-12,
        "{}",
        x.grad()
    );
    assert_eq!(b.grad(), f64::INFINITY);
    assert!(
        (a.grad() / 0.996_886_907_858_527_88 - 1.0).abs() < 1e-12,
        "{}",
        a.grad()
    );
}

// ---- moments and log densities at extreme parameters (issue 13, continued) ----

fn rel(x: f64, y: f64) -> f64 {
    ((x - y) / y).abs()
}

/// The value and the parameter gradients of a method of a 2-parameter family, built with
/// `f` from tracked leaves.
fn value_and_grads<'t>(
    tape: &'t Tape,
    p: [f64; 2],
    f: impl FnOnce(Tensor<'t>, Tensor<'t>) -> Result<Tensor<'t>, DistError>,
) -> (f64, [f64; 2]) {
    let (a, b) = (tape.var(p[0]), tape.var(p[1]));
    let y = f(a.as_tensor(), b.as_tensor()).expect("defined").sum();
    y.backward();
    (y.value(), [a.grad(), b.grad()])
}

/// Weibull variance at a huge concentration: ∂V/∂k = −(2/k²) λ² Γ(1 + 2/k) D with
/// D = ψ(1 + 2/k) − ρ ψ(1 + 1/k) ≈ ζ(2)/k, which the difference of ψs gave as 0 (and
/// 0 · ∞ = NaN when λ² overflows). Exact values (mpmath, 1200 digits):
/// (λ, k) = (f64::MAX, 1e200): V = 5.3159344225240428e216, ∂V/∂k = −1.0631868845048086e17,
/// ∂V/∂λ = 5.9141733585484123e-92; (1e100, 9e15): V = 2.0307827985780567e168,
/// ∂V/∂k = −4.5128506635067921e152.
#[test]
fn weibull_variance_gradient_at_a_huge_concentration() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [f64::MAX, 1e200], |l, k| {
        Weibull::new(l, k)?.variance()
    });
    assert!(rel(v, 5.315_934_422_524_042_8e216) < 1e-12, "{v}");
    assert!(rel(g[1], -1.063_186_884_504_808_6e17) < 1e-12, "{g:?}");
    assert!(rel(g[0], 5.914_173_358_548_412_3e-92) < 1e-12, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e100, 9e15], |l, k| Weibull::new(l, k)?.variance());
    assert!(rel(v, 2.030_782_798_578_056_7e168) < 1e-12, "{v}");
    assert!(rel(g[1], -4.512_850_663_506_792_1e152) < 1e-12, "{g:?}");
}

/// Gamma variance a/b² at (1e308, 1e200): b² overflowed (V = 0, and ∂/∂b = −2a/b³ was
/// ∞/∞ = NaN at a = f64::MAX). Closed form: V = 1e-92, ∂V/∂b = −2V/b = −2e-292,
/// ∂V/∂a = 1/b² = 1e-400, which underflows to 0.
#[test]
fn gamma_variance_of_a_huge_rate() {
    for (a, v_exact) in [(1e308, 1e-92), (f64::MAX, 1.797_693_134_862_315_7e-92)] {
        let tape = Tape::new();
        let (v, g) = value_and_grads(&tape, [a, 1e200], |a, b| Gamma::new(a, b)?.variance());
        assert!(rel(v, v_exact) < 1e-15, "{v}");
        assert!(rel(g[1], -2.0 * v_exact / 1e200) < 1e-15, "{g:?}");
        assert_eq!(g[0], 0.0);
    }
}

/// LogNormal variance at a subnormal σ: σ² underflows to 0, and ln(1 − e^{−σ²}) was
/// ln 0 = −∞ (so V = 0 instead of 2.5e-39 at μ = 700, and ∞ − ∞ = NaN at μ = 1e308).
/// Exact (mpmath, 1200 digits) at μ = 700, σ = 2⁻¹⁰⁷⁴: V = 2.5109841903664207e-39,
/// ∂V/∂μ = 2V, ∂V/∂σ = 1.0164577162983931e285; at μ = 1e308 V overflows to +∞.
#[test]
fn log_normal_variance_at_a_subnormal_scale() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [700.0, 5e-324], |m, s| {
        LogNormal::new(m, s)?.variance()
    });
    assert!(rel(v, 2.510_984_190_366_420_7e-39) < 1e-12, "{v}");
    assert!(rel(g[0], 5.021_968_380_732_841_5e-39) < 1e-12, "{g:?}");
    assert!(rel(g[1], 1.016_457_716_298_393_1e285) < 1e-12, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e308, 5e-324], |m, s| {
        LogNormal::new(m, s)?.variance()
    });
    assert_eq!(v, f64::INFINITY);
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
}

/// Kumaraswamy moments at a subnormal a (1/a ≈ 1e308): ln Γ(1 + 1/a) overflowed in the
/// moment's ln B (∞ − ∞), 2/a overflowed to ∞ (the second moment was taken as 0 though it is
/// ≈ 1 for a tiny b), and ln b + ln Γ(b) cancelled. Exact (mpmath, 1200 digits):
/// - (7.102549248754836e-309, 1e-200): mean 1 − 4.1e-198 (1 to f64), variance
///   7.0942240845077673e-198;
/// - (2.0729008449229745e-308, 1e308): ln mean = −9.35e307, the mean is 0 in f64;
/// - (7.956524320697693e-309, 2.7127004764224116): mean 7.0e-836, variance 1.1e-836, both 0
///   in f64.
#[test]
fn kumaraswamy_moments_at_a_subnormal_concentration() {
    let tape = Tape::new();
    let (m, _) = value_and_grads(&tape, [7.102_549_248_754_836e-309, 1e-200], |a, b| {
        Kumaraswamy::new(a, b)?.mean()
    });
    assert_eq!(m, 1.0);
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [7.102_549_248_754_836e-309, 1e-200], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 7.094_224_084_507_767_3e-198) < 1e-10, "{v}");
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
    for p in [
        [2.072_900_844_922_974_5e-308, 1e308],
        [7.956_524_320_697_693e-309, 2.712_700_476_422_411_6],
    ] {
        for var in [false, true] {
            let tape = Tape::new();
            let (y, g) = value_and_grads(&tape, p, |a, b| {
                let d = Kumaraswamy::new(a, b)?;
                if var { d.variance() } else { d.mean() }
            });
            assert_eq!(y, 0.0, "{p:?} variance: {var}");
            assert!(!g[0].is_nan() && !g[1].is_nan(), "{p:?} {g:?}");
        }
    }
}

/// Binomial(0, 1) at 0: the point mass at 0 (log probability 0), where n ln(1 − p) was
/// 0 · (−∞) = NaN.
#[test]
fn binomial_with_zero_trials_and_certain_success() {
    let tape = Tape::new();
    let (n, p) = (tape.var(0.0), tape.var(1.0));
    let d = Binomial::new(n, p).expect("valid");
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), 0.0);
    lp.backward();
    assert_eq!((n.grad(), p.grad()), (0.0, 0.0));
    let lp = d.log_prob(tape.var(1.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), f64::NEG_INFINITY);
}

/// NegativeBinomial with p = 0 (the point mass at 0), and with r and k near f64::MAX, where
/// ln C(k + r − 1, k) was ∞ − ∞: log probability −∞ at k = f64::MAX for p = 1.36e-308
/// (k ln p = −∞ dominates), 0 at k = 0 for p = 0 with ∂/∂p = −r.
#[test]
fn negative_binomial_at_p_zero_and_huge_counts() {
    let tape = Tape::new();
    let (r, p) = (tape.var(1e300), tape.var(1.362_481_211_923_666_5e-308));
    let d = NegativeBinomial::new(r, p).expect("valid");
    let lp = d
        .log_prob(tape.var(f64::MAX).as_tensor())
        .expect("shape")
        .sum();
    assert_eq!(lp.value(), f64::NEG_INFINITY);
    lp.backward();
    assert!(!r.grad().is_nan() && !p.grad().is_nan());

    let tape = Tape::new();
    let (r, p) = (tape.var(1e300), tape.var(0.0));
    let d = NegativeBinomial::new(r, p).expect("valid");
    for (k, want) in [
        (0.0, 0.0),
        (3.0, f64::NEG_INFINITY),
        (1e308, f64::NEG_INFINITY),
    ] {
        let lp = d.log_prob(tape.var(k).as_tensor()).expect("shape").sum();
        assert_eq!(lp.value(), want, "k = {k}");
    }
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    lp.backward();
    assert_eq!((r.grad(), p.grad()), (0.0, -1e300));

    // both huge, p ordinary: terms of size 1e308 cancel to a few hundred (Loader's form);
    // r = k = 1e308, p = ½ (at the mode): ln f = −355.86361644456768 (mpmath, 400 digits)
    let tape = Tape::new();
    let d = NegativeBinomial::new(tape.var(1e308), tape.var(0.5)).expect("valid");
    let lp = d
        .log_prob(tape.var(1e308).as_tensor())
        .expect("shape")
        .to_vec()[0];
    assert!(rel(lp, -355.863_616_444_567_68) < 1e-12, "{lp}");
}

/// Categorical(probs) with a row summing to a subnormal: ∂ ln(pᵢ/s)/∂pᵢ = 1/pᵢ − 1/s met as
/// ∞ − ∞. At probs [2⁻¹⁰⁷⁴, 0, 0], log_prob(0) = 0 with gradient exactly 0 for p₀ (and
/// −1/s = −2¹⁰⁷⁴ = −∞ for the other two, whose increase would lower the log probability).
#[test]
fn categorical_probs_with_a_subnormal_row() {
    let tape = Tape::new();
    let p: Vec<_> = [5e-324, 0.0, 0.0].iter().map(|&v| tape.var(v)).collect();
    let d = Categorical::from_probs(tape.stack_vars(&p).expect("same tape")).expect("valid");
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), 0.0);
    lp.backward();
    assert_eq!(p[0].grad(), 0.0);
    assert!(p[1].grad() < 0.0 && p[2].grad() < 0.0);
    let h = d.entropy().expect("defined").sum();
    assert_eq!(h.value(), 0.0);
    h.backward();
    assert!(p.iter().all(|x| !x.grad().is_nan()));
}

/// StudentT(2⁻¹⁰⁷⁴, 1e-300, 1e300) at x = 2⁻¹⁰⁷⁴: the hoisted `log_prob_sum` multiplied
/// u = 0 by 1/(2ν) = ∞ in ∂/∂ν. Exact (mpmath): ln p = −1063.6887110394643.
#[test]
fn student_t_log_prob_sum_at_a_subnormal_df() {
    let tape = Tape::new();
    let (v, m, s) = (tape.var(5e-324), tape.var(1e-300), tape.var(1e300));
    let d = StudentT::new(v, m, s).expect("valid");
    let lp = d.log_prob_sum(tape.var(5e-324).as_tensor()).expect("shape");
    assert!(
        rel(lp.value(), -1_063.688_711_039_464_3) < 1e-14,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(!v.grad().is_nan() && !m.grad().is_nan() && !s.grad().is_nan());
}

/// Normal(0, 3.7e154).log_prob_sum at 1e154: σ² overflowed, so the data term −Σ(x − μ)²/(2σ²)
/// was dropped (−0). Exact (mpmath): ln p = −356.86189868343387, ∂/∂σ = −2.5052810297514461e-155,
/// ∂/∂μ = 7.3046018991964943e-156.
#[test]
fn normal_log_prob_sum_at_a_huge_scale() {
    let tape = Tape::new();
    let (m, s) = (tape.var(0.0), tape.var(3.7e154));
    let d = Normal::new(m, s).expect("valid");
    let x = tape.tensor(&arr1(&[1e154]));
    let lp = d.log_prob_sum(x).expect("shape");
    assert!(
        rel(lp.value(), -356.861_898_683_433_87) < 1e-14,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(
        rel(s.grad(), -2.505_281_029_751_446_1e-155) < 1e-12,
        "{}",
        s.grad()
    );
    assert!(
        rel(m.grad(), 7.304_601_899_196_494_3e-156) < 1e-12,
        "{}",
        m.grad()
    );
}

/// Pareto(f64::MAX, 1e200).rsample: ∂x/∂α = −x e/α² was ∞/∞ = NaN (α² and x·e overflow).
/// Here x = σ e^{e/α} = σ in f64, and ∂x/∂α = −σ e/α² lies in [−σ·37/α², 0] (e = −ln U ≤ 37
/// for the generator's U ≥ 2⁻⁵³): finite, ≤ 0 and of size ≤ 6.7e-90.
#[test]
fn pareto_rsample_gradient_at_a_huge_shape() {
    let tape = Tape::new();
    let (s, a) = (tape.var(f64::MAX), tape.var(1e200));
    let d = Pareto::new(s, a).expect("valid");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let x = d.rsample(&mut rng).expect("draw").sum();
    assert_eq!(x.value(), f64::MAX);
    x.backward();
    let g = a.grad();
    assert!((-f64::MAX / 1e200 / 1e200 * 37.0..=0.0).contains(&g), "{g}");
    assert_eq!(s.grad(), 1.0);
}

// ---- gradients at extreme parameters (issue 13: the former GRAD_EXCLUDED entries) ----

/// The value and the gradients (parameters, then the value) of `f` at a 2-parameter family
/// built from tracked leaves, evaluated at the tracked value `x`.
fn at_value<'t>(
    tape: &'t Tape,
    p: [f64; 2],
    x: f64,
    f: impl FnOnce(Tensor<'t>, Tensor<'t>, Tensor<'t>) -> Result<Tensor<'t>, DistError>,
) -> (f64, [f64; 3]) {
    let (a, b, v) = (tape.var(p[0]), tape.var(p[1]), tape.var(x));
    let y = f(a.as_tensor(), b.as_tensor(), v.as_tensor())
        .expect("defined")
        .sum();
    y.backward();
    (y.value(), [a.grad(), b.grad(), v.grad()])
}

/// Beta(f64::MAX, 1e308) at ½: ln Γ(a + b) − ln Γ(a) − ln Γ(b) was ∞ − ∞ (NaN), and
/// (a − 1)/x − (b − 1)/(1 − x) too. Now Loader's form. Exact (mpmath, 60 digits):
/// ln p = −1.1531451410120057947e307, ∂/∂a = −0.25085623457901704072,
/// ∂/∂b = 0.33564801663890900298, ∂/∂x = 1.5953862697246313943e308.
#[test]
fn beta_log_prob_at_extreme_parameters_huge_concentrations() {
    for sum in [false, true] {
        let tape = Tape::new();
        let (l, g) = at_value(&tape, [f64::MAX, 1e308], 0.5, |a, b, x| {
            let d = Beta::new(a, b)?;
            if sum {
                Ok(d.log_prob_sum(x)?.as_tensor())
            } else {
                d.log_prob(x)
            }
        });
        assert!(rel(l, -1.153_145_141_012_005_8e307) < 1e-12, "{l}");
        assert!(rel(g[0], -0.250_856_234_579_017_04) < 1e-12, "{g:?}");
        assert!(rel(g[1], 0.335_648_016_638_909) < 1e-12, "{g:?}");
        assert!(rel(g[2], 1.595_386_269_724_631_4e308) < 1e-12, "{g:?}");
    }
}

/// At x = 0 with a subnormal shape, ∂/∂a of the log density is ln 0 + … = −∞: the sum
/// ln x + ψ(a + b) − ψ(a) was −∞ + ∞ (ψ(5e-324) = −∞ in f64). Beta, Gamma and Chi2.
#[test]
fn log_prob_at_extreme_parameters_shape_partial_at_zero() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 1e308], 0.0, |a, b, x| {
        Beta::new(a, b)?.log_prob(x)
    });
    assert_eq!(l, f64::INFINITY);
    assert_eq!(g[0], f64::NEG_INFINITY);
    assert!(g.iter().all(|v| !v.is_nan()), "{g:?}");
    let tape = Tape::new();
    let (_, g) = at_value(&tape, [5e-324, f64::MAX], 0.0, |a, b, x| {
        Gamma::new(a, b)?.log_prob(x)
    });
    assert_eq!(g[0], f64::NEG_INFINITY);
    assert!(g.iter().all(|v| !v.is_nan()), "{g:?}");
    let tape = Tape::new();
    let (v, x) = (tape.var(5.869_375_067_285_75e-309), tape.var(0.0));
    let lp = Chi2::new(v)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid");
    lp.sum().backward();
    assert_eq!(v.grad(), f64::NEG_INFINITY);
    assert!(!x.grad().is_nan());
}

/// Laplace(0.01, 2.178699856750168e-202) at x = loc: s² underflowed and −1/s + |x − μ|/s²
/// was 0/0. Exact: ln p = −ln 2s = 463.65031330133727479 (mpmath), ∂/∂s = −1/s =
/// −4.5898933572779419157e201, ∂/∂μ = ∂/∂x = 0 (the subgradient at the kink).
#[test]
fn laplace_log_prob_at_extreme_parameters_tiny_scale() {
    let tape = Tape::new();
    let (l, g) = at_value(
        &tape,
        [0.01, 2.178_699_856_750_168e-202],
        0.01,
        |m, s, x| Laplace::new(m, s)?.log_prob(x),
    );
    assert!(rel(l, 463.650_313_301_337_27) < 1e-14, "{l}");
    assert!(rel(g[1], -4.589_893_357_277_942e201) < 1e-14, "{g:?}");
    assert_eq!((g[0], g[2]), (0.0, 0.0));
}

/// InverseGamma(30, 2.2e-308) at x = 4.82e-310: ∂/∂b = a/b − 1/x was ∞ − ∞. Exact (mpmath):
/// ln p = 709.95402095464830869, ∂/∂a = 0.43641548560432492295; ∂/∂b = −7.1e308 and
/// ∂/∂x = 3.0e310 overflow to ∓∞.
#[test]
fn inverse_gamma_log_prob_at_extreme_parameters_subnormal_rate() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [30.0, 2.2e-308], 4.82e-310, |a, b, x| {
        InverseGamma::new(a, b)?.log_prob(x)
    });
    assert!(rel(l, 709.954_020_954_648_3) < 1e-13, "{l}");
    assert!(rel(g[0], 0.436_415_485_604_324_9) < 1e-12, "{g:?}");
    assert_eq!((g[1], g[2]), (f64::NEG_INFINITY, f64::INFINITY));
}

/// Weibull(λ = 2⁻¹⁰⁷⁴, k = 1e308) at x = λ: ∂/∂x = (k − 1)/x − k(x/λ)ᵏ/x was ∞ − ∞.
/// Closed form at x = λ: ln p = ln k − ln λ − 1 = 1452.636280563547333 (mpmath),
/// ∂/∂λ = k((x/λ)ᵏ − 1)/λ = 0, ∂/∂k = 1/k = 1e-308, ∂/∂x = −1/x, which overflows to −∞.
#[test]
fn weibull_log_prob_at_extreme_parameters_subnormal_value() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 1e308], 5e-324, |s, k, x| {
        Weibull::new(s, k)?.log_prob(x)
    });
    assert!(rel(l, 1_452.636_280_563_547_3) < 1e-14, "{l}");
    assert_eq!(g[0], 0.0);
    assert!(rel(g[1], 1e-308) < 1e-14, "{g:?}");
    assert_eq!(g[2], f64::NEG_INFINITY);
}

/// NegativeBinomial(2⁻¹⁰⁷⁴, 2⁻¹⁰⁷⁴) at 0: ∂/∂r = ψ(r + 0) − ψ(r) + ln(1 − p) was
/// −∞ − (−∞). Closed form: ln P(0) = r ln(1 − p) (0 in f64), ∂/∂r = ln(1 − p) = −2⁻¹⁰⁷⁴,
/// ∂/∂p = −r/(1 − p) = −2⁻¹⁰⁷⁴.
#[test]
fn negative_binomial_log_prob_at_extreme_parameters_subnormal_count() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 5e-324], 0.0, |r, p, x| {
        NegativeBinomial::new(r, p)?.log_prob(x)
    });
    assert_eq!(l, 0.0);
    assert_eq!((g[0], g[1]), (-5e-324, -5e-324));
}

/// The Gamma-type cdfs where the density factor of the partials is 0 and its cofactor
/// infinite (ψ(2⁻¹⁰⁷⁴) = −∞; and a shape ~1e308 made y^{a−1}/Γ(a) ∞ − ∞ in the exponent):
/// P(2⁻¹⁰⁷⁴, 1e208) = 1, P(f64::MAX/2, 5e7) = 0 and Q(2⁻¹⁰⁷⁴, 5e307) = 0, every partial a
/// multiple of e^{−y} with y ≥ 5e7, which is 0 in f64.
#[test]
fn gamma_cdfs_at_extreme_parameters() {
    let tape = Tape::new();
    let (c, g) = at_value(&tape, [5e-324, 1e308], 1e-100, |a, b, x| {
        Gamma::new(a, b)?.cdf(x)
    });
    assert_eq!((c, g), (1.0, [0.0; 3]));
    let tape = Tape::new();
    let (v, x) = (tape.var(f64::MAX), tape.var(1e8));
    let c = Chi2::new(v)
        .and_then(|d| d.cdf(x.as_tensor()))
        .expect("valid")
        .sum();
    c.backward();
    assert_eq!((c.value(), v.grad(), x.grad()), (0.0, 0.0, 0.0));
    let tape = Tape::new();
    let (c, g) = at_value(&tape, [5e-324, 1e308], 2.0, |a, b, x| {
        InverseGamma::new(a, b)?.cdf(x)
    });
    assert_eq!((c, g), (0.0, [0.0; 3]));
}

/// Beta(1e-200, 1e-200) entropy: ∂H/∂a = −(a − 1)ψ′(a) + (s − 2)ψ′(s) was ∞ − ∞ (both
/// trigammas overflow); the poles together are ((1 − a) − (2 − s)(a/s)²)/a² ≈ 1/(2a²), which
/// overflows to +∞. H = −1.0000000000000000179e200 (mpmath).
#[test]
fn beta_entropy_at_extreme_parameters_subnormal_concentrations() {
    let tape = Tape::new();
    let (h, g) = value_and_grads(&tape, [1e-200, 1e-200], |a, b| Beta::new(a, b)?.entropy());
    assert!(rel(h, -1e200) < 1e-14, "{h}");
    assert_eq!(g, [f64::INFINITY; 2]);
}

/// Dirichlet([2⁻¹⁰⁷⁴, 1, 3.99151770220401]) entropy: the partials of the components held
/// ψ(α₀) − ψ(αⱼ) + ψ(αⱼ) with ψ(2⁻¹⁰⁷⁴) = −∞ (∞ − ∞). ∂H/∂αᵢ = −(αᵢ − 1)ψ′(αᵢ) +
/// (α₀ − 3)ψ′(α₀): +∞ (overflow) for the first, 0.4415943099746264085 and
/// −0.40950292992504404366 (mpmath) for the others; H itself is ≈ −1/α₁, −∞ in f64.
#[test]
fn dirichlet_entropy_at_extreme_parameters_subnormal_component() {
    let tape = Tape::new();
    let a: Vec<_> = [5e-324, 1.0, 3.991_517_702_204_01]
        .iter()
        .map(|&v| tape.var(v))
        .collect();
    let h = Dirichlet::new(tape.stack_vars(&a).expect("one tape"))
        .and_then(|d| d.entropy())
        .expect("defined")
        .sum();
    assert_eq!(h.value(), f64::NEG_INFINITY);
    h.backward();
    assert_eq!(a[0].grad(), f64::INFINITY);
    assert!(
        rel(a[1].grad(), 0.441_594_309_974_626_4) < 1e-12,
        "{}",
        a[1].grad()
    );
    assert!(
        rel(a[2].grad(), -0.409_502_929_925_044_04) < 1e-12,
        "{}",
        a[2].grad()
    );
}

/// Dirichlet([f64::MAX, 10, 2.6178366936803625]) variance: s − 2a overflowed (−∞/∞).
/// Every variance and partial is below 1e-300 (αᵢ(α₀ − αᵢ)/α₀³ with α₀ ≈ 1.8e308): 0 or
/// subnormal in f64, never NaN.
#[test]
fn dirichlet_variance_at_extreme_parameters_huge_component() {
    let tape = Tape::new();
    let a: Vec<_> = [f64::MAX, 10.0, 2.617_836_693_680_362_5]
        .iter()
        .map(|&v| tape.var(v))
        .collect();
    let v = Dirichlet::new(tape.stack_vars(&a).expect("one tape"))
        .and_then(|d| d.variance())
        .expect("defined");
    assert!(v.to_vec().iter().all(|x| (0.0..1e-300).contains(x)));
    v.sum().backward();
    assert!(a.iter().all(|x| x.grad().abs() < 1e-300), "{a:?}");
}

/// Kumaraswamy variance: at a = 1e-160 the moment partial (n/a²)(ψ(q) − ψ(p)) overflowed
/// (n/a² = ∞) and the two moments' partials met as ∞ − ∞; at b = 2.2e-308 the factor
/// e^d/(e^d − 1) of a subnormal d was ∞ times a zero. Exact (mpmath, 250 and 800 digits):
/// (1e-160, 0.3653126911711035): V = 2.4504608558294607942e-59,
/// ∂V/∂a = 8.9518444985250576824e100, ∂V/∂b = −9.0472073761497116169e-57;
/// (3, 2.2e-308): V = 2.8904154542231913716e-309 (subnormal: 2⁻²⁰ relative is all f64
/// holds there), ∂V/∂b = 0.13138252064650868702.
#[test]
fn kumaraswamy_variance_at_extreme_parameters() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e-160, 0.365_312_691_171_103_5], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 2.450_460_855_829_460_8e-59) < 1e-9, "{v}");
    assert!(rel(g[0], 8.951_844_498_525_058e100) < 1e-9, "{g:?}");
    assert!(rel(g[1], -9.047_207_376_149_712e-57) < 1e-9, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [3.0, 2.2e-308], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 2.890_415_454_223_191_4e-309) < 1e-6, "{v}");
    assert!(rel(g[1], 0.131_382_520_646_508_7) < 1e-9, "{g:?}");
    assert!(!g[0].is_nan() && g[0].abs() < 1e-300, "{g:?}");
}

/// Kumaraswamy(2⁻¹⁰⁷⁴, 1e-300) entropy: ψ(1 + b) + γ rounded to 0 and (1 − 1/a) · 0 was
/// −∞ · 0 = NaN. Exact (mpmath): H = −9.9999999999999997494e299 (the 1 − 1/b term; the
/// ζ(2)b/a term adds −3.3e23).
#[test]
fn kumaraswamy_entropy_at_extreme_parameters() {
    let tape = Tape::new();
    let (h, g) = value_and_grads(&tape, [5e-324, 1e-300], |a, b| {
        Kumaraswamy::new(a, b)?.entropy()
    });
    assert!(rel(h, -9.999_999_999_999_999_7e299) < 1e-14, "{h}");
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
}

/// The implicit reparameterization gradient at a huge shape (Wilson–Hilferty): 3α overflowed
/// for α > f64::MAX/3 and ∞ · 0 was NaN. For Gamma(α, 1), dx/dα → 1 as α → ∞ at a fixed
/// quantile (x = α + z√α + O(1)): at α = x = f64::MAX it is 1 − O(α^{-1/2}), equal to 1 in
/// f64 up to rounding.
#[test]
fn standard_gamma_grad_at_extreme_parameters_huge_shape() {
    let g = infer_dist::special::standard_gamma_grad(f64::MAX, f64::MAX);
    assert!((g - 1.0).abs() < 1e-12, "{g}");
}

/// rsample gradients at extreme parameters are never NaN; a draw pinned at 0 (underflow at
/// a tiny shape) has gradient 0 in its shape. Points that were NaN: Gamma(1e-300, 16),
/// Chi2(2.2e-308), Kumaraswamy(1e-300, 16), Weibull(1e-200, 1e-200) (draws underflowing to
/// 0 with an infinite ∂ln x/∂α), and at huge shapes StudentT(f64::MAX, 10, 2.6),
/// InverseGamma(f64::MAX, 1e-200), Beta(3, 1e308), Dirichlet([1e300, 1e308, 1.62e171])
/// and Dirichlet([0.18694050396741285, 1e300, 1e308]). Several seeds each.
#[test]
fn rsample_gradients_at_extreme_parameters() {
    let cases: &[(&str, &[f64])] = &[
        ("Gamma", &[1e-300, 16.0]),
        ("Chi2", &[2.2e-308]),
        ("Kumaraswamy", &[1e-300, 16.0]),
        ("Weibull", &[1e-200, 1e-200]),
        ("StudentT", &[f64::MAX, 10.0, 2.617_836_693_680_362_5]),
        ("InverseGamma", &[f64::MAX, 1e-200]),
        ("Beta", &[3.0, 1e308]),
        ("Dirichlet", &[1e300, 1e308, 1.62e171]),
        ("Dirichlet", &[0.186_940_503_967_412_85, 1e300, 1e308]),
    ];
    let fams = families();
    for &(name, p) in cases {
        let build = fams.iter().find(|f| f.0 == name).expect("family").2;
        for seed in 0..20u64 {
            let tape = Tape::new();
            let (d, leaves) = build(&tape, p);
            let d = d.expect("valid");
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let r = d.as_reparameterizable().expect("reparameterizable");
            let s = match r.rsample(&mut rng) {
                Ok(s) => s,
                Err(DistError::Sampling { .. }) => continue,
                Err(e) => panic!("{name}{p:?}: {e:?}"),
            };
            let x = s.to_vec();
            s.sum().backward();
            for l in &leaves {
                let g = l.grad().iter().copied().collect::<Vec<_>>();
                assert!(
                    g.iter().all(|v| !v.is_nan()),
                    "{name}{p:?} seed {seed}: {g:?}"
                );
            }
            if x.len() == 1 && x[0] == 0.0 && name != "Weibull" {
                assert_eq!(leaves[0].grad().iter().copied().sum::<f64>(), 0.0, "{name}");
            }
        }
    }
}

/// NegativeBinomial(1e308, 1 − 2⁻⁵³) at k = f64::MAX: ∂/∂p = k/p − r/(1 − p) was ∞ − ∞
/// (PROPTEST_RNG_SEED=18). Closed form: (k(1 − p) − rp)/(p(1 − p)) = −9.0e323, which
/// overflows to −∞; ∂/∂r is finite.
#[test]
fn negative_binomial_log_prob_at_extreme_parameters_huge_count() {
    let tape = Tape::new();
    let (_, g) = at_value(
        &tape,
        [1e308, 1.0 - f64::EPSILON / 2.0],
        f64::MAX,
        |r, p, x| NegativeBinomial::new(r, p)?.log_prob(x),
    );
    assert_eq!(g[1], f64::NEG_INFINITY);
    assert!(g[0].is_finite(), "{g:?}");
}

/// Scalar parameters whose reciprocal overflows (σ < 5.6e-309): each value's partial for σ
/// (or μ) is ±∞, of opposite signs for two values, and their sum was NaN. The sums in scaled
/// form give the true gradient: of definite sign, or an exact 0 where the terms cancel.
#[test]
fn log_prob_sum_gradients_at_a_scale_whose_reciprocal_overflows() {
    let grads = |build: &dyn Fn(&Tape) -> (Dist<'_>, Vec<Tensor<'_>>), xs: &[f64]| -> Vec<f64> {
        let tape = Tape::new();
        let (d, leaves) = build(&tape);
        let s = d.log_prob_sum(tape.constant(&arr1(xs))).unwrap();
        assert!(s.value().is_finite(), "{}", s.value());
        s.backward();
        leaves.iter().map(|l| l.grad().iter().sum()).collect()
    };
    let sigma = 2.97435946661293e-309;
    // HalfNormal: ∂σ = (Σ zᵢ² − n)/σ, z = (6.7e8, 0): +∞ (the true value, 1.5e326, overflows)
    let g = grads(
        &|t| {
            let s = t.var(sigma).as_tensor();
            (Box::new(HalfNormal::new(s).unwrap()), vec![s])
        },
        &[2e-300, 0.0],
    );
    assert_eq!(g, [f64::INFINITY]);
    // Normal at μ = 0, σ = 5e-324, values ±1e-300: ∂μ = Σ(xᵢ − μ)/σ² = 0 exactly (the
    // partials were +∞ and −∞)
    let g = grads(
        &|t| {
            let (m, s) = (t.var(0.0).as_tensor(), t.var(5e-324).as_tensor());
            (Box::new(Normal::new(m, s).unwrap()), vec![m, s])
        },
        &[-1e-300, 1e-300],
    );
    assert_eq!(g, [0.0, f64::INFINITY]);
    // Cauchy at μ = 0, σ = 5e-324, values 0 and 1e-300 (z = 0 and 2.02e23): ∂μ =
    // Σ 2zᵢ/(1 + zᵢ²)/σ = 2/x₂ = 2e300; ∂σ = Σ(1 − 2/(1 + zᵢ²))/σ = (−1 + 1 − 4.9e-47)/σ =
    // −2σ/x₂² ≈ −9.9e276 (the per-value partials were −∞ and +∞). In f64 the terms −1 and
    // 1 − 4.9e-47 cancel to 0: finite, never NaN, of the right sign or 0.
    let g = grads(
        &|t| {
            let (m, s) = (t.var(0.0).as_tensor(), t.var(5e-324).as_tensor());
            (Box::new(Cauchy::new(m, s).unwrap()), vec![m, s])
        },
        &[0.0, 1e-300],
    );
    assert!((g[0] - 2e300).abs() <= 1e-12 * 2e300, "{g:?}");
    assert!(g[1].is_finite() && g[1] <= 0.0, "{g:?}");
    // StudentT(ν = 3) the same: ∂μ = (ν + 1)(x₂ − μ)/(νσ² + (x₂ − μ)²) = 4/x₂ = 4e300;
    // ∂σ = Σ((ν + 1)uᵢ − 1)/σ with u = (0, 1): (−1 + 3)/σ = +∞
    let g = grads(
        &|t| {
            let (v, m, s) = (
                t.var(3.0).as_tensor(),
                t.var(0.0).as_tensor(),
                t.var(5e-324).as_tensor(),
            );
            (Box::new(StudentT::new(v, m, s).unwrap()), vec![v, m, s])
        },
        &[0.0, 1e-300],
    );
    assert!(g[0].is_finite() && g[2] == f64::INFINITY, "{g:?}");
    assert!((g[1] - 4e300).abs() <= 1e-12 * 4e300, "{g:?}");
}

/// A Dirichlet with subnormal concentrations: every ln Gⱼ of a draw is −∞ (their softmax was
/// NaN); the draw is a vertex, and the mean and variance have gradients without NaN.
#[test]
fn dirichlet_at_subnormal_concentrations() {
    let tape = Tape::new();
    let a = tape.tensor(&arr1(&[5e-324, 1e-310, 2.97435946661293e-309]));
    let d = Dirichlet::new(a).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for _ in 0..20 {
        let x = d.sample(&mut rng).unwrap();
        assert_eq!(x.sum(), 1.0);
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0), "{x:?}");
        let r = d.rsample(&mut rng).unwrap();
        assert_eq!(r.to_vec().iter().sum::<f64>(), 1.0);
        r.sum().backward();
        assert!(a.grad().iter().all(|g| !g.is_nan()));
    }
    let m = d.mean().unwrap();
    let got = m.to_vec();
    // αᵢ/α₀ with α₀ = 3.07435946661293e-309 (exact to within a subnormal's rounding)
    assert!(
        (got[1] - 1e-310 / 3.07435946661293e-309).abs() < 1e-12,
        "{got:?}"
    );
    assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    m.sum().backward();
    // Σ mean = 1 for every α: the gradient of the sum is 0 (to rounding, times 1/α₀)
    assert!(a.grad().iter().all(|g| g.is_finite()), "{:?}", a.grad());
    let v = d.variance().unwrap();
    v.sum().backward();
    assert!(a.grad().iter().all(|g| !g.is_nan()), "{:?}", a.grad());
}
