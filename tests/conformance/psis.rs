//! The `psis` kind: Pareto-smoothed importance sampling against ArviZ's `psislw`.

use crate::Outcome;
use crate::cases::matches;
use infer::mcmc::approx::psis;
use serde_json::Value;

/// Tolerance of the `psis` kind (the README's default rule).
const TOL: f64 = 1e-8;

/// Checks one `psis` case: `log_ratios` and `r_eff` against `expect.pareto_k` and
/// `expect.log_weights` (the smoothed, normalized log weights in input order), each within
/// `1e-8 · max(1, |want|)`. An expected key it does not know makes the case unsupported.
pub fn check(case: &Value) -> Outcome {
    let numbers = |v: &Value, what: &str| -> Result<Vec<f64>, String> {
        v.as_array()
            .ok_or(format!("`{what}` is not an array"))?
            .iter()
            .map(|x| x.as_f64().ok_or(format!("`{what}` holds a non-number")))
            .collect()
    };
    let ratios = match numbers(&case["log_ratios"], "log_ratios") {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(e),
    };
    let Some(r_eff) = case["r_eff"].as_f64() else {
        return Outcome::Fail("`r_eff` is not a number".into());
    };
    let got = match psis(&ratios, r_eff) {
        Ok(g) => g,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let Some(expect) = case["expect"].as_object() else {
        return Outcome::Fail("`expect` is not an object".into());
    };
    let mut failures = Vec::new();
    for (key, want) in expect {
        match key.as_str() {
            "pareto_k" => {
                let Some(want) = want.as_f64() else {
                    return Outcome::Fail("expect.pareto_k is not a number".into());
                };
                if !matches(got.pareto_k, want, TOL, None) {
                    failures.push(format!("pareto_k: got {}, want {want}", got.pareto_k));
                }
            }
            "log_weights" => {
                let want = match numbers(want, "expect.log_weights") {
                    Ok(w) => w,
                    Err(e) => return Outcome::Fail(e),
                };
                if want.len() != got.log_weights.len() {
                    return Outcome::Fail(format!(
                        "log_weights: {} values, want {}",
                        got.log_weights.len(),
                        want.len()
                    ));
                }
                if let Some((i, (g, w))) = got
                    .log_weights
                    .iter()
                    .zip(&want)
                    .enumerate()
                    .find(|(_, (g, w))| !matches(**g, **w, TOL, None))
                {
                    failures.push(format!("log_weights[{i}]: got {g}, want {w}"));
                }
            }
            other => return Outcome::Unsupported(format!("psis expectation `{other}`")),
        }
    }
    if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failures.join("; "))
    }
}
