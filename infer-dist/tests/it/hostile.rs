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

use infer_ad::{Tape, Tensor};
use infer_dist::*;
use ndarray::arr1;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::SeedableRng;
use std::sync::mpsc;
use std::time::Duration;

mod extremes;
mod gradients;
mod two_tapes;

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
