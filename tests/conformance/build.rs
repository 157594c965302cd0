//! Maps a conformance case's `{dist, params}` onto infer's constructors. Every parameter becomes
//! a tracked leaf (`tape.tensor`) so that gradients can be read back by name. An unknown
//! distribution or parameter is *unsupported*, never skipped.

use crate::Outcome;
use infer::ad::{Tape, Tensor};
use infer::dist::{
    Bernoulli, Beta, Binomial, Categorical, Cauchy, Chi2, Delta, Dirichlet, DirichletMultinomial,
    Distribution, Exponential, Gamma, Geometric, Gumbel, HalfCauchy, HalfNormal, InverseGamma,
    Kumaraswamy, Laplace, LkjCholesky, LogNormal, Multinomial, MultivariateNormal,
    NegativeBinomial, Normal, Pareto, Poisson, StudentT, Uniform, Weibull,
};
use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

/// A distribution built on a tape, with its parameter leaves by (PyTorch) name.
pub struct Built<'t> {
    /// The distribution.
    pub dist: Box<dyn Distribution<'t> + 't>,
    /// The parameter leaves.
    pub leaves: Vec<(String, Tensor<'t>)>,
}

/// A JSON number or (nested) array of numbers as an ndarray array.
pub fn json_array(v: &Value) -> Option<ArrayD<f64>> {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Option<()> {
        match v {
            Value::Number(n) => {
                if depth != shape.len() {
                    return None;
                }
                out.push(n.as_f64()?);
                Some(())
            }
            Value::Array(items) => {
                if depth == shape.len() {
                    shape.push(items.len());
                } else if shape.get(depth) != Some(&items.len()) {
                    return None;
                }
                for it in items {
                    walk(it, depth + 1, shape, out)?;
                }
                Some(())
            }
            _ => None,
        }
    }
    let (mut shape, mut out) = (Vec::new(), Vec::new());
    // the first leaf fixes the rank: walk once to learn it
    walk(v, 0, &mut shape, &mut out)?;
    ArrayD::from_shape_vec(IxDyn(&shape), out).ok()
}

/// Builds the distribution named by `spec["dist"]` from `spec["params"]`.
///
/// # Errors
/// `Outcome::Unsupported` for an unknown name or parameter set; `Outcome::Fail` when a
/// parameter is not numeric or the constructor rejects it.
pub fn build<'t>(tape: &'t Tape, spec: &Value) -> Result<Built<'t>, Outcome> {
    let name = spec["dist"]
        .as_str()
        .ok_or_else(|| Outcome::Unsupported("no distribution name".into()))?;
    let params = spec["params"]
        .as_object()
        .ok_or_else(|| Outcome::Fail(format!("{name}: params is not an object")))?;
    let mut leaves: Vec<(String, Tensor<'t>)> = Vec::new();
    for (k, v) in params {
        let a = json_array(v).ok_or_else(|| Outcome::Fail(format!("{name}.{k}: not numeric")))?;
        leaves.push((k.clone(), tape.tensor(&a)));
    }
    let keys: Vec<&str> = leaves.iter().map(|(k, _)| k.as_str()).collect();
    let get = |k: &str| leaves.iter().find(|(n, _)| n == k).map(|(_, t)| *t);
    // The parameter sets each family accepts (PyTorch's names).
    let expect = |names: &[&str]| -> Result<Vec<Tensor<'t>>, Outcome> {
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        let mut sorted_names = names.to_vec();
        sorted_names.sort_unstable();
        if sorted_keys != sorted_names {
            return Err(Outcome::Unsupported(format!(
                "{name} with parameters {keys:?} (supported: {names:?})"
            )));
        }
        Ok(names.iter().filter_map(|n| get(n)).collect())
    };
    let fail = |e: infer::dist::DistError| Outcome::Fail(format!("{name}: constructor: {e}"));
    let dist: Box<dyn Distribution<'t> + 't> = match name {
        "Normal" | "Cauchy" | "LogNormal" | "Laplace" | "Gumbel" => {
            let p = expect(&["loc", "scale"])?;
            match name {
                "Normal" => Box::new(Normal::new(p[0], p[1]).map_err(fail)?),
                "Cauchy" => Box::new(Cauchy::new(p[0], p[1]).map_err(fail)?),
                "LogNormal" => Box::new(LogNormal::new(p[0], p[1]).map_err(fail)?),
                "Laplace" => Box::new(Laplace::new(p[0], p[1]).map_err(fail)?),
                _ => Box::new(Gumbel::new(p[0], p[1]).map_err(fail)?),
            }
        }
        "HalfNormal" => Box::new(HalfNormal::new(expect(&["scale"])?[0]).map_err(fail)?),
        "HalfCauchy" => Box::new(HalfCauchy::new(expect(&["scale"])?[0]).map_err(fail)?),
        "Exponential" => Box::new(Exponential::new(expect(&["rate"])?[0]).map_err(fail)?),
        "Gamma" => {
            let p = expect(&["concentration", "rate"])?;
            Box::new(Gamma::new(p[0], p[1]).map_err(fail)?)
        }
        "InverseGamma" => {
            let p = expect(&["concentration", "rate"])?;
            Box::new(InverseGamma::new(p[0], p[1]).map_err(fail)?)
        }
        "Beta" => {
            let p = expect(&["concentration1", "concentration0"])?;
            Box::new(Beta::new(p[0], p[1]).map_err(fail)?)
        }
        "Kumaraswamy" => {
            let p = expect(&["concentration1", "concentration0"])?;
            Box::new(Kumaraswamy::new(p[0], p[1]).map_err(fail)?)
        }
        "StudentT" => {
            let p = expect(&["df", "loc", "scale"])?;
            Box::new(StudentT::new(p[0], p[1], p[2]).map_err(fail)?)
        }
        "Uniform" => {
            let p = expect(&["low", "high"])?;
            Box::new(Uniform::new(p[0], p[1]).map_err(fail)?)
        }
        "Weibull" => {
            let p = expect(&["scale", "concentration"])?;
            Box::new(Weibull::new(p[0], p[1]).map_err(fail)?)
        }
        "Chi2" => Box::new(Chi2::new(expect(&["df"])?[0]).map_err(fail)?),
        "Pareto" => {
            let p = expect(&["scale", "alpha"])?;
            Box::new(Pareto::new(p[0], p[1]).map_err(fail)?)
        }
        "Bernoulli" if keys == ["logits"] => {
            Box::new(Bernoulli::from_logits(expect(&["logits"])?[0]).map_err(fail)?)
        }
        "Bernoulli" => Box::new(Bernoulli::from_probs(expect(&["probs"])?[0]).map_err(fail)?),
        "Binomial" => {
            let p = expect(&["total_count", "probs"])?;
            Box::new(Binomial::new(p[0], p[1]).map_err(fail)?)
        }
        "Poisson" => Box::new(Poisson::new(expect(&["rate"])?[0]).map_err(fail)?),
        "Geometric" => Box::new(Geometric::new(expect(&["probs"])?[0]).map_err(fail)?),
        "NegativeBinomial" => {
            let p = expect(&["total_count", "probs"])?;
            Box::new(NegativeBinomial::new(p[0], p[1]).map_err(fail)?)
        }
        "Categorical" if keys == ["logits"] => {
            Box::new(Categorical::from_logits(expect(&["logits"])?[0]).map_err(fail)?)
        }
        "Categorical" => Box::new(Categorical::from_probs(expect(&["probs"])?[0]).map_err(fail)?),
        "Dirichlet" => Box::new(Dirichlet::new(expect(&["concentration"])?[0]).map_err(fail)?),
        "MultivariateNormal" => {
            let p = expect(&["loc", "scale_tril"])?;
            Box::new(MultivariateNormal::new(p[0], p[1]).map_err(fail)?)
        }
        "Delta" => Box::new(Delta::new(expect(&["v"])?[0]).map_err(fail)?),
        "Multinomial" if keys.contains(&"logits") => {
            let p = expect(&["total_count", "logits"])?;
            Box::new(Multinomial::from_logits(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "Multinomial" => {
            let p = expect(&["total_count", "probs"])?;
            Box::new(Multinomial::from_probs(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "DirichletMultinomial" => {
            let p = expect(&["total_count", "concentration"])?;
            Box::new(DirichletMultinomial::new(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "LKJCholesky" => {
            let p = expect(&["dim", "concentration"])?;
            let dim = usize::try_from(count(name, p[0])?)
                .map_err(|_| Outcome::Fail(format!("{name}: dim too large")))?;
            Box::new(LkjCholesky::new(dim, p[1]).map_err(fail)?)
        }
        other => return Err(Outcome::Unsupported(format!("distribution {other:?}"))),
    };
    Ok(Built { dist, leaves })
}

/// A count parameter (`total_count`, `dim`) given as a scalar JSON number: a non-negative
/// integer.
fn count(name: &str, t: Tensor<'_>) -> Result<u64, Outcome> {
    let v = t.to_vec();
    match v.as_slice() {
        [x] if *x >= 0.0 && x.fract() == 0.0 && *x < 9.007_199_254_740_992e15 => Ok(*x as u64),
        _ => Err(Outcome::Fail(format!(
            "{name}: a count parameter must be one non-negative integer, got {v:?}"
        ))),
    }
}
