//! Maps a conformance case's `{dist, params}` onto infer's constructors. Every parameter becomes
//! a tracked leaf (`tape.tensor`) so that gradients can be read back by name. An unknown
//! distribution or parameter is *unsupported*, never skipped. A `MixtureSameFamily` nests its
//! `mixture_distribution` (a Categorical) and `component_distribution` specs; its leaves are
//! named by path (`component_distribution.loc`).

use crate::Outcome;
use infer::ad::{Tape, Tensor};
use infer::dist::{
    Bernoulli, Beta, Binomial, Categorical, Cauchy, Chi2, Delta, Dirichlet, DirichletMultinomial,
    Distribution, Exponential, Gamma, Geometric, Gumbel, HalfCauchy, HalfNormal, InverseGamma,
    Kumaraswamy, Laplace, LkjCholesky, LogNormal, Mixture, Multinomial, MultivariateNormal,
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
    build_with(tape, spec, None)
}

/// The mixing weights of a `MixtureSameFamily` whose components are being built: the leaf,
/// and whether it holds logits (otherwise probabilities).
type Weights<'t> = Option<(Tensor<'t>, bool)>;

/// Wraps a built distribution in the mixture `mix` names, if any.
fn finish<'t, D: Distribution<'t> + 't>(
    name: &str,
    d: D,
    mix: Weights<'t>,
) -> Result<Box<dyn Distribution<'t> + 't>, Outcome> {
    let fail = |e: infer::dist::DistError| {
        Outcome::Fail(format!("MixtureSameFamily of {name}: constructor: {e}"))
    };
    Ok(match mix {
        None => Box::new(d),
        Some((w, false)) => Box::new(Mixture::new(w, d).map_err(fail)?),
        Some((w, true)) => Box::new(Mixture::from_logits(w, d).map_err(fail)?),
    })
}

/// `MixtureSameFamily(mixture_distribution, component_distribution)` (PyTorch's names): the
/// mixing distribution a `Categorical` given by `probs` or `logits` (shape `[K]`), the
/// components one distribution of any family here whose batch shape ends in K. The leaves
/// are named by path: `mixture_distribution.probs`, `component_distribution.loc`, ….
fn build_mixture<'t>(
    tape: &'t Tape,
    params: &serde_json::Map<String, Value>,
) -> Result<Built<'t>, Outcome> {
    const MIX: &str = "mixture_distribution";
    const COMP: &str = "component_distribution";
    let mut keys: Vec<&str> = params.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != [COMP, MIX] {
        return Err(Outcome::Unsupported(format!(
            "MixtureSameFamily with parameters {keys:?} (supported: [{MIX:?}, {COMP:?}])"
        )));
    }
    let mix = &params[MIX];
    if mix["dist"].as_str() != Some("Categorical") {
        return Err(Outcome::Unsupported(format!(
            "MixtureSameFamily with mixture distribution {:?} (supported: Categorical)",
            mix["dist"]
        )));
    }
    let mix_params = mix["params"].as_object().ok_or_else(|| {
        Outcome::Fail("MixtureSameFamily: mixture params is not an object".into())
    })?;
    let (key, logits) = match mix_params.keys().map(String::as_str).collect::<Vec<_>>()[..] {
        ["probs"] => ("probs", false),
        ["logits"] => ("logits", true),
        ref other => {
            return Err(Outcome::Unsupported(format!(
                "MixtureSameFamily with Categorical parameters {other:?}"
            )));
        }
    };
    let w = json_array(&mix_params[key])
        .ok_or_else(|| Outcome::Fail(format!("MixtureSameFamily: {MIX}.{key}: not numeric")))?;
    let w = tape.tensor(&w);
    let comp = build_with(tape, &params[COMP], Some((w, logits)))?;
    let mut leaves = vec![(format!("{MIX}.{key}"), w)];
    leaves.extend(
        comp.leaves
            .into_iter()
            .map(|(k, t)| (format!("{COMP}.{k}"), t)),
    );
    Ok(Built {
        dist: comp.dist,
        leaves,
    })
}

/// [`build`], wrapping the result in the mixture `mix` when the spec is a mixture's components.
fn build_with<'t>(tape: &'t Tape, spec: &Value, mix: Weights<'t>) -> Result<Built<'t>, Outcome> {
    let name = spec["dist"]
        .as_str()
        .ok_or_else(|| Outcome::Unsupported("no distribution name".into()))?;
    let params = spec["params"]
        .as_object()
        .ok_or_else(|| Outcome::Fail(format!("{name}: params is not an object")))?;
    if name == "MixtureSameFamily" {
        if mix.is_some() {
            return Err(Outcome::Unsupported(
                "MixtureSameFamily of a MixtureSameFamily".into(),
            ));
        }
        return build_mixture(tape, params);
    }
    // Each family below is boxed through `finish`, which wraps it in the mixture if any.
    macro_rules! fin {
        ($d:expr) => {
            finish(name, $d, mix)?
        };
    }
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
                "Normal" => fin!(Normal::new(p[0], p[1]).map_err(fail)?),
                "Cauchy" => fin!(Cauchy::new(p[0], p[1]).map_err(fail)?),
                "LogNormal" => fin!(LogNormal::new(p[0], p[1]).map_err(fail)?),
                "Laplace" => fin!(Laplace::new(p[0], p[1]).map_err(fail)?),
                _ => fin!(Gumbel::new(p[0], p[1]).map_err(fail)?),
            }
        }
        "HalfNormal" => fin!(HalfNormal::new(expect(&["scale"])?[0]).map_err(fail)?),
        "HalfCauchy" => fin!(HalfCauchy::new(expect(&["scale"])?[0]).map_err(fail)?),
        "Exponential" => fin!(Exponential::new(expect(&["rate"])?[0]).map_err(fail)?),
        "Gamma" | "InverseGamma" => {
            let p = expect(&["concentration", "rate"])?;
            match name {
                "Gamma" => fin!(Gamma::new(p[0], p[1]).map_err(fail)?),
                _ => fin!(InverseGamma::new(p[0], p[1]).map_err(fail)?),
            }
        }
        "Beta" | "Kumaraswamy" => {
            let p = expect(&["concentration1", "concentration0"])?;
            match name {
                "Beta" => fin!(Beta::new(p[0], p[1]).map_err(fail)?),
                _ => fin!(Kumaraswamy::new(p[0], p[1]).map_err(fail)?),
            }
        }
        "StudentT" => {
            let p = expect(&["df", "loc", "scale"])?;
            fin!(StudentT::new(p[0], p[1], p[2]).map_err(fail)?)
        }
        "Uniform" => {
            let p = expect(&["low", "high"])?;
            fin!(Uniform::new(p[0], p[1]).map_err(fail)?)
        }
        "Weibull" => {
            let p = expect(&["scale", "concentration"])?;
            fin!(Weibull::new(p[0], p[1]).map_err(fail)?)
        }
        "Chi2" => fin!(Chi2::new(expect(&["df"])?[0]).map_err(fail)?),
        "Pareto" => {
            let p = expect(&["scale", "alpha"])?;
            fin!(Pareto::new(p[0], p[1]).map_err(fail)?)
        }
        "Bernoulli" if keys == ["logits"] => {
            fin!(Bernoulli::from_logits(expect(&["logits"])?[0]).map_err(fail)?)
        }
        "Bernoulli" => fin!(Bernoulli::from_probs(expect(&["probs"])?[0]).map_err(fail)?),
        "Binomial" | "NegativeBinomial" => {
            let p = expect(&["total_count", "probs"])?;
            match name {
                "Binomial" => fin!(Binomial::new(p[0], p[1]).map_err(fail)?),
                _ => fin!(NegativeBinomial::new(p[0], p[1]).map_err(fail)?),
            }
        }
        "Poisson" => fin!(Poisson::new(expect(&["rate"])?[0]).map_err(fail)?),
        "Geometric" => fin!(Geometric::new(expect(&["probs"])?[0]).map_err(fail)?),
        "Categorical" if keys == ["logits"] => {
            fin!(Categorical::from_logits(expect(&["logits"])?[0]).map_err(fail)?)
        }
        "Categorical" => fin!(Categorical::from_probs(expect(&["probs"])?[0]).map_err(fail)?),
        "Dirichlet" => fin!(Dirichlet::new(expect(&["concentration"])?[0]).map_err(fail)?),
        "MultivariateNormal" => {
            let p = expect(&["loc", "scale_tril"])?;
            fin!(MultivariateNormal::new(p[0], p[1]).map_err(fail)?)
        }
        "Delta" => fin!(Delta::new(expect(&["v"])?[0]).map_err(fail)?),
        "Multinomial" if keys.contains(&"logits") => {
            let p = expect(&["total_count", "logits"])?;
            fin!(Multinomial::from_logits(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "Multinomial" => {
            let p = expect(&["total_count", "probs"])?;
            fin!(Multinomial::from_probs(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "DirichletMultinomial" => {
            let p = expect(&["total_count", "concentration"])?;
            fin!(DirichletMultinomial::new(count(name, p[0])?, p[1]).map_err(fail)?)
        }
        "LKJCholesky" => {
            let p = expect(&["dim", "concentration"])?;
            let dim = usize::try_from(count(name, p[0])?)
                .map_err(|_| Outcome::Fail(format!("{name}: dim too large")))?;
            fin!(LkjCholesky::new(dim, p[1]).map_err(fail)?)
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
