//! The `loss` and `doc` kinds: the VI and likelihood losses of `infer::loss`, their values
//! and their gradients with respect to every distribution parameter.
//!
//! A `loss` case's latent value *i* is the reparameterized draw `qᵢ.loc + qᵢ.scale · eps[i]`
//! built on the tape (so gradients flow through it); an observed value is the constant
//! `values_observed[i]`. A `doc` case's values are the constants `values`.

use crate::Outcome;
use crate::build::{Built, build, json_array};
use crate::cases::{expected, matches, outcome};
use infer::ad::{Tape, Tensor, Var};
use infer::dist::Distribution;
use infer::loss;
use serde_json::Value;

const TOL: f64 = 1e-8;
const KNOWN: [&str; 2] = ["loss", "grad"];

/// Checks one `loss` or `doc` case.
pub fn check(case: &Value) -> Outcome {
    outcome(run(case))
}

/// The distributions of a list (`p` or `q`; `null` is an empty list).
fn build_list<'t>(tape: &'t Tape, v: &Value, what: &str) -> Result<Vec<Built<'t>>, Outcome> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(|s| build(tape, s)).collect(),
        _ => Err(Outcome::Fail(format!("{what} is not a list"))),
    }
}

fn leaf<'t>(b: &Built<'t>, name: &str) -> Option<Tensor<'t>> {
    b.leaves.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
}

/// The values of a `loss` case: reparameterized draws for latent sites, constants for
/// observed ones.
fn loss_values<'t>(
    tape: &'t Tape,
    case: &Value,
    q: &[Built<'t>],
    observed: &[bool],
) -> Result<Vec<Tensor<'t>>, Outcome> {
    let eps = case["eps"].as_array();
    let obs_vals = case["values_observed"].as_array();
    let mut out = Vec::with_capacity(observed.len());
    for (i, &obs) in observed.iter().enumerate() {
        if obs {
            let v = obs_vals
                .and_then(|o| o.get(i))
                .and_then(json_array)
                .ok_or_else(|| Outcome::Fail(format!("values_observed[{i}] missing")))?;
            out.push(tape.constant(&v));
        } else {
            let e = eps
                .and_then(|e| e.get(i))
                .and_then(json_array)
                .ok_or_else(|| Outcome::Fail(format!("eps[{i}] missing")))?;
            let qi = q
                .get(i)
                .ok_or_else(|| Outcome::Fail(format!("q[{i}] missing")))?;
            let (Some(loc), Some(scale)) = (leaf(qi, "loc"), leaf(qi, "scale")) else {
                return Err(Outcome::Unsupported(format!(
                    "q[{i}] = {} is not a location–scale family",
                    qi.dist.name()
                )));
            };
            out.push(loc + scale * tape.constant(&e));
        }
    }
    Ok(out)
}

fn run(case: &Value) -> Result<(), Outcome> {
    let fail = |e: String| Outcome::Fail(e);
    let expect = expected(case, &KNOWN)?;
    let func = case["fn"]
        .as_str()
        .ok_or_else(|| fail("no fn name".into()))?;
    let dec = case["decimals"].as_i64().map(|d| d as i32);
    let tape = Tape::new();
    let p = build_list(&tape, &case["p"], "p")?;
    let q = build_list(&tape, &case["q"], "q")?;
    let observed: Vec<bool> = match case["observed"].as_array() {
        Some(a) => a.iter().map(|b| b.as_bool().unwrap_or(false)).collect(),
        None => vec![false; p.len()],
    };
    let values: Vec<Tensor<'_>> = if case["kind"] == "doc" {
        let vs = case["values"]
            .as_array()
            .ok_or_else(|| fail("values is not a list".into()))?;
        vs.iter()
            .map(|v| json_array(v).map(|a| tape.constant(&a)))
            .collect::<Option<_>>()
            .ok_or_else(|| fail("values are not numeric".into()))?
    } else {
        loss_values(&tape, case, &q, &observed)?
    };
    let p_refs: Vec<&dyn Distribution<'_>> = p.iter().map(|b| b.dist.as_ref()).collect();
    let q_refs: Vec<&dyn Distribution<'_>> = q.iter().map(|b| b.dist.as_ref()).collect();
    let single =
        || -> Result<(&dyn Distribution<'_>, &dyn Distribution<'_>, Tensor<'_>), Outcome> {
            match (
                p_refs.first(),
                q_refs.first().or(p_refs.first()),
                values.first(),
            ) {
                (Some(p), Some(q), Some(v)) => Ok((*p, *q, *v)),
                _ => Err(fail(format!("{func}: needs one p, q and value"))),
            }
        };
    let err = |e: loss::LossError| fail(format!("{func}: {e}"));
    let kl_scaling = case["kl_scaling"].as_f64().unwrap_or(1.0);
    let (result, single_site): (Var<'_>, bool) = match func {
        "elbo_loss" => {
            let (p, q, v) = single()?;
            (loss::elbo_loss(p, q, v).map_err(err)?, true)
        }
        "elbo_path_derivative_loss" => {
            let (p, q, v) = single()?;
            (loss::elbo_path_derivative_loss(p, q, v).map_err(err)?, true)
        }
        "prior_loss" => {
            let (p, q, v) = single()?;
            (loss::prior_loss(p, q, v).map_err(err)?, true)
        }
        "negative_log_prob_loss" => {
            let (p, _, v) = single()?;
            (loss::negative_log_prob_loss(p, v).map_err(err)?, true)
        }
        "analytical_kl_divergence_loss" => {
            let (p, q, v) = single()?;
            (
                loss::analytical_kl_divergence_loss(p, q, v).map_err(err)?,
                true,
            )
        }
        "vi_regularization" => (
            loss::vi_regularization(&p_refs, &q_refs, &values, loss::elbo_loss).map_err(err)?,
            false,
        ),
        "vi_loss" => (
            loss::vi_loss(&p_refs, &q_refs, &values, &observed, kl_scaling).map_err(err)?,
            false,
        ),
        "negative_log_prob" => (
            loss::negative_log_prob(&p_refs, &values).map_err(err)?,
            false,
        ),
        other => return Err(Outcome::Unsupported(format!("loss function {other:?}"))),
    };
    if let Some(want) = expect.get("loss") {
        let want = want
            .as_f64()
            .ok_or_else(|| fail("expected loss is not a number".into()))?;
        if !matches(result.value(), want, TOL, dec) {
            return Err(fail(format!(
                "loss: got {:e}, want {want:e}",
                result.value()
            )));
        }
    }
    result.backward();
    if let Some(grads) = expect.get("grad").and_then(Value::as_object) {
        for (k, want) in grads {
            let want = want
                .as_f64()
                .ok_or_else(|| fail(format!("grad {k} is not a number")))?;
            let (site, param) = k
                .split_once('.')
                .ok_or_else(|| Outcome::Unsupported(format!("gradient key {k:?}")))?;
            let (list, idx) = match (site.split_at(1), single_site) {
                (("p", ""), true) => (&p, 0),
                (("q", ""), true) => (&q, 0),
                (("p", i), false) => (&p, i.parse().map_err(|_| fail(format!("key {k}")))?),
                (("q", i), false) => (&q, i.parse().map_err(|_| fail(format!("key {k}")))?),
                _ => return Err(Outcome::Unsupported(format!("gradient key {k:?}"))),
            };
            let b: &Built<'_> = list
                .get(idx)
                .ok_or_else(|| fail(format!("gradient key {k}: no such site")))?;
            let t = leaf(b, param)
                .ok_or_else(|| Outcome::Unsupported(format!("gradient key {k:?}")))?;
            let got = t.grad().sum();
            if !matches(got, want, TOL, dec) {
                return Err(fail(format!("grad {k}: got {got:e}, want {want:e}")));
            }
        }
    }
    Ok(())
}
