//! `log_prob_sum` with scalar parameters hoists the parameter-only terms (ln σ, ln λ, ln π …)
//! out of the per-observation loop for HalfNormal, Exponential, Cauchy, HalfCauchy, LogNormal
//! and Gumbel, and the ln Γ / ψ terms for Gamma, InverseGamma, Beta and Chi2. The hoisted sum must agree with Σ `log_prob` (the elementwise kernel) in value
//! and in every gradient — in the bulk, near the support's edge, for values outside the support
//! (−∞, gradient 0) and at extreme scales — and array parameters must keep the elementwise
//! path. Deterministic inputs; the tolerance (1e-12 relative to the sum or to the size of the
//! terms it adds, whichever is larger) covers the different summation order of n·c against
//! Σ c.

use infer_ad::{Tape, Tensor, Var};
use infer_dist::{
    Beta, Cauchy, Chi2, DistError, Distribution, Exponential, Gamma, Gumbel, HalfCauchy,
    HalfNormal, InverseGamma, LogNormal,
};
use ndarray::Array1;

type Build = for<'t> fn(&[Var<'t>]) -> Result<Box<dyn Distribution<'t> + 't>, DistError>;

fn families() -> Vec<(&'static str, usize, Build)> {
    vec![
        ("HalfNormal", 1, |p| Ok(Box::new(HalfNormal::new(p[0])?))),
        ("Exponential", 1, |p| Ok(Box::new(Exponential::new(p[0])?))),
        ("HalfCauchy", 1, |p| Ok(Box::new(HalfCauchy::new(p[0])?))),
        ("Cauchy", 2, |p| Ok(Box::new(Cauchy::new(p[0], p[1])?))),
        ("LogNormal", 2, |p| {
            Ok(Box::new(LogNormal::new(p[0], p[1])?))
        }),
        ("Gumbel", 2, |p| Ok(Box::new(Gumbel::new(p[0], p[1])?))),
        ("Chi2", 1, |p| Ok(Box::new(Chi2::new(p[0])?))),
        ("Gamma", 2, |p| Ok(Box::new(Gamma::new(p[0], p[1])?))),
        ("InverseGamma", 2, |p| {
            Ok(Box::new(InverseGamma::new(p[0], p[1])?))
        }),
        ("Beta", 2, |p| Ok(Box::new(Beta::new(p[0], p[1])?))),
    ]
}

/// The families whose first parameter is a positive shape (not a location).
fn shaped(name: &str) -> bool {
    matches!(name, "Gamma" | "InverseGamma" | "Beta")
}

/// Value and gradients (observations, then parameters) of `log_prob_sum` or Σ `log_prob`.
fn eval(build: Build, params: &[f64], x: &[f64], hoisted: bool) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let xt: Tensor<'_> = tape.tensor(&Array1::from(x.to_vec()));
    let ps: Vec<Var<'_>> = params.iter().map(|&p| tape.var(p)).collect();
    let d = build(&ps).unwrap();
    let lp = if hoisted {
        d.log_prob_sum(xt).unwrap()
    } else {
        d.log_prob(xt).unwrap().sum()
    };
    lp.backward();
    let mut g: Vec<f64> = xt.grad().iter().copied().collect();
    g.extend(ps.iter().map(|p| p.grad()));
    (lp.value(), g)
}

/// The sizes of the terms that each sum adds up: Σᵢ |log_prob(xᵢ)| for the value and
/// Σᵢ |∂ log_prob(xᵢ)/∂θ| for each gradient (one backward pass per element). Two orders of
/// summation differ by rounding relative to these, not to the sum itself (a parameter's
/// partials can cancel: n α/β − Σ x for a Gamma rate).
fn term_sizes(build: Build, params: &[f64], x: &[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let xt: Tensor<'_> = tape.tensor(&Array1::from(x.to_vec()));
    let ps: Vec<Var<'_>> = params.iter().map(|&p| tape.var(p)).collect();
    let lp = build(&ps).unwrap().log_prob(xt).unwrap();
    let mut value = 0.0;
    let mut sizes = vec![0.0; x.len() + ps.len()];
    for i in 0..x.len() {
        let li = lp.flat(i).unwrap();
        value += li.value().abs();
        li.backward();
        let gx = xt.grad();
        let g = gx.iter().copied().chain(ps.iter().map(|p| p.grad()));
        for (s, gi) in sizes.iter_mut().zip(g) {
            *s += gi.abs();
        }
    }
    (value, sizes)
}

/// Agreement to 1e-12 relative to the sum or to the size of its terms (`size`).
fn agree(a: f64, b: f64, size: f64, what: &str) {
    // (both NaN: a density unbounded at the edge of the support, +∞, plus a value outside it)
    let ok = a == b
        || (a.is_nan() && b.is_nan())
        || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(size).max(1e-300);
    assert!(ok, "{what}: hoisted {a} vs elementwise {b}");
}

/// The parameter sets: ordinary, tiny and huge scales, locations far from the data; for the
/// shaped families, shapes on both sides of the size where the density takes a saddle-point
/// form (the hoisted sum then falls back to the kernel).
fn parameter_sets(name: &str, k: usize) -> Vec<Vec<f64>> {
    let scales = [1.0, 0.37, 1e-150, 1e150, 3.0e5];
    let locs = [0.0, 1.5, -1e6];
    let shapes = [0.5, 1.0, 2.5, 9.5, 30.0, 1e11];
    if shaped(name) {
        let second: &[f64] = if name == "Beta" { &shapes } else { &scales };
        shapes
            .iter()
            .flat_map(|&a| second.iter().map(move |&b| vec![a, b]))
            .collect()
    } else if k == 1 {
        scales.iter().map(|&s| vec![s]).collect()
    } else {
        locs.iter()
            .flat_map(|&m| scales.iter().map(move |&s| vec![m, s]))
            .collect()
    }
}

#[test]
fn hoisted_sums_agree_with_the_elementwise_kernel() {
    let inside = [0.0, 1e-300, 0.3, 1.0, 2.5, 17.0, 1e6, 1e150];
    let mixed = [-1.0, 0.3, 2.0, -5e3, 4.0];
    let unit = [1e-300, 0.25, 0.5, 0.75, 1.0 - 1e-12];
    for (name, k, build) in families() {
        for params in parameter_sets(name, k) {
            for x in [&inside[..], &mixed[..], &unit[..]] {
                let (v1, g1) = eval(build, &params, x, true);
                let (v2, g2) = eval(build, &params, x, false);
                let (vs, gs) = term_sizes(build, &params, x);
                let what = format!("{name}{params:?} at {x:?}");
                agree(v1, v2, vs, &what);
                assert_eq!(g1.len(), g2.len());
                for (i, (a, b)) in g1.iter().zip(&g2).enumerate() {
                    agree(*a, *b, gs[i], &format!("{what}, gradient {i}"));
                }
            }
        }
    }
}

#[test]
fn values_outside_the_support_give_minus_infinity_with_zero_gradients() {
    // the positive-support families at a negative value; the others at ±∞
    for (name, k, build) in families() {
        let params: Vec<f64> = if k == 1 { vec![2.0] } else { vec![0.5, 2.0] };
        let bad = if matches!(name, "Cauchy" | "Gumbel") {
            f64::INFINITY
        } else {
            -1.0
        };
        let (v, g) = eval(build, &params, &[0.5, bad, 1.0], true);
        assert_eq!(v, f64::NEG_INFINITY, "{name}");
        assert!(g.iter().all(|gi| !gi.is_nan()), "{name}: {g:?}");
        let (_, g2) = eval(build, &params, &[0.5, bad, 1.0], false);
        assert_eq!(g, g2, "{name}: the hoisted path falls back to the kernel");
    }
}

#[test]
fn array_parameters_keep_the_elementwise_path() {
    let tape = Tape::new();
    let scale = tape.tensor(&Array1::from(vec![0.5, 2.0, 3.0]));
    let x = tape.constant(&Array1::from(vec![0.1, 0.2, 5.0]));
    let d = HalfNormal::new(scale).unwrap();
    let a = d.log_prob_sum(x).unwrap().value();
    let b: f64 = d.log_prob(x).unwrap().to_vec().iter().sum();
    agree(a, b, 0.0, "HalfNormal with an array scale");
}
