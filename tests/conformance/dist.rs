//! The `dist` kind: one distribution at one value — log_prob (scalar or elementwise), the
//! gradient of Σ log_prob with respect to each parameter and (continuous families) the value,
//! entropy / mean / variance / cdf where present, and the reparameterization capability.

use crate::Outcome;
use crate::build::{build, json_array};
use crate::cases::{compare, expected, matches, outcome};
use infer::ad::{Tape, Tensor, Var};
use serde_json::Value;

const TOL: f64 = 1e-8;
const CDF_TOL: f64 = 1e-7;
const KNOWN: [&str; 6] = ["log_prob", "grad", "entropy", "mean", "variance", "cdf"];

/// Checks one `dist` case.
pub fn check(case: &Value) -> Outcome {
    outcome(run(case))
}

fn run(case: &Value) -> Result<(), Outcome> {
    let expect = expected(case, &KNOWN)?;
    let dec = case["decimals"].as_i64().map(|d| d as i32);
    let fail = |e: String| Outcome::Fail(e);
    let value = json_array(&case["value"]).ok_or_else(|| fail("value is not numeric".into()))?;

    // Two passes: the elementwise log_prob summed on the tape, and the fused log_prob_sum;
    // both must give the expected value and gradients.
    for fused in [false, true] {
        let tape = Tape::new();
        let built = build(&tape, case)?;
        let d = &built.dist;
        let x = tape.tensor(&value);
        let total: Var<'_> = if fused {
            d.log_prob_sum(x)
                .map_err(|e| fail(format!("log_prob_sum: {e}")))?
        } else {
            let lp = d.log_prob(x).map_err(|e| fail(format!("log_prob: {e}")))?;
            if let Some(want) = expect.get("log_prob") {
                compare("log_prob", &lp.to_vec(), want, TOL, dec).map_err(fail)?;
            }
            lp.sum()
        };
        if let Some(want) = expect.get("log_prob") {
            let want_sum: f64 = json_array(want).map_or(f64::NAN, |a| a.sum());
            if fused && !matches(total.value(), want_sum, TOL, dec) {
                return Err(fail(format!(
                    "log_prob_sum: got {:e}, want {want_sum:e}",
                    total.value()
                )));
            }
        }
        total.backward();
        if let Some(grads) = expect.get("grad").and_then(Value::as_object) {
            for (k, want) in grads {
                let leaf: Tensor<'_> = if k == "value" {
                    x
                } else {
                    built
                        .leaves
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, t)| *t)
                        .ok_or_else(|| Outcome::Unsupported(format!("gradient for {k:?}")))?
                };
                let tag = if fused { "log_prob_sum" } else { "log_prob" };
                compare(
                    &format!("grad[{k}] ({tag})"),
                    &leaf.grad().iter().copied().collect::<Vec<_>>(),
                    want,
                    TOL,
                    dec,
                )
                .map_err(fail)?;
            }
        }
        if fused {
            continue;
        }
        for (what, tol) in [("entropy", TOL), ("mean", TOL), ("variance", TOL)] {
            if let Some(want) = expect.get(what) {
                let got = match what {
                    "entropy" => d.entropy(),
                    "mean" => d.mean(),
                    _ => d.variance(),
                }
                .map_err(|e| fail(format!("{what}: {e}")))?;
                compare(what, &got.to_vec(), want, tol, dec).map_err(fail)?;
            }
        }
        if let Some(want) = expect.get("cdf") {
            let c = d
                .cdf(tape.constant(&value))
                .map_err(|e| fail(format!("cdf: {e}")))?;
            compare("cdf", &c.to_vec(), want, CDF_TOL, dec).map_err(fail)?;
        }
        let want_r = case["reparameterized"]
            .as_bool()
            .ok_or_else(|| fail("no reparameterized flag".into()))?;
        if d.as_reparameterizable().is_some() != want_r {
            return Err(fail(format!(
                "reparameterizable: infer says {}, expected {want_r}",
                d.as_reparameterizable().is_some()
            )));
        }
    }
    Ok(())
}
