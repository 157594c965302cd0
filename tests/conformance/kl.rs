//! The `kl` kind: the closed-form KL(p ‖ q) of two distributions and its gradient with respect
//! to the parameters of both (`expect.grad` keyed `p.<param>` / `q.<param>`).

use crate::Outcome;
use crate::build::{Built, build};
use crate::cases::{compare, expected, outcome};
use infer::ad::Tape;
use infer::dist::{DistError, kl_divergence};
use serde_json::Value;

/// Tolerance of the `kl` kind (see the conformance README).
const TOL: f64 = 1e-8;
const KNOWN: [&str; 2] = ["kl", "grad"];

/// Checks one `kl` case: builds `p` and `q` with every parameter a tracked leaf, computes
/// KL(p ‖ q) through the run-time registry, and compares the value and the gradient of its
/// sum. A pair without a closed form, or a gradient key naming an unknown side or parameter,
/// makes the case unsupported.
pub fn check(case: &Value) -> Outcome {
    outcome(run(case))
}

fn run(case: &Value) -> Result<(), Outcome> {
    let expect = expected(case, &KNOWN)?;
    let dec = case["decimals"].as_i64().map(|d| d as i32);
    let tape = Tape::new();
    let p = build(&tape, &case["p"])?;
    let q = build(&tape, &case["q"])?;
    let kl = match kl_divergence(p.dist.as_ref(), q.dist.as_ref()) {
        Ok(kl) => kl,
        Err(e @ DistError::NoClosedForm { .. }) => return Err(Outcome::Unsupported(e.to_string())),
        Err(e) => return Err(Outcome::Fail(format!("kl_divergence: {e}"))),
    };
    if let Some(want) = expect.get("kl") {
        compare("kl", &kl.to_vec(), want, TOL, dec).map_err(Outcome::Fail)?;
    }
    kl.sum().backward();
    if let Some(grads) = expect.get("grad") {
        let grads = grads
            .as_object()
            .ok_or_else(|| Outcome::Fail("expect.grad is not an object".into()))?;
        for (key, want) in grads {
            let side: &Built<'_> = match key.split_once('.') {
                Some(("p", _)) => &p,
                Some(("q", _)) => &q,
                _ => return Err(Outcome::Unsupported(format!("gradient key {key:?}"))),
            };
            let name = key.split_once('.').map_or("", |(_, n)| n);
            let leaf = side
                .leaves
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| *t)
                .ok_or_else(|| Outcome::Unsupported(format!("gradient for {key:?}")))?;
            let got: Vec<f64> = leaf.grad().iter().copied().collect();
            compare(&format!("grad[{key}]"), &got, want, TOL, dec).map_err(Outcome::Fail)?;
        }
    }
    Ok(())
}
