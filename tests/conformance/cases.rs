//! Dispatch of conformance cases by kind, and the shared comparison rule.

use crate::Outcome;
use crate::build::json_array;
use serde_json::{Map, Value};

/// Checks one case.
pub fn check(case: &Value) -> Outcome {
    match case["kind"].as_str() {
        Some("dist") => crate::dist::check(case),
        Some("kl") => crate::kl::check(case),
        Some("diagnostics") => crate::diagnostics::check(case),
        Some("psis") => crate::psis::check(case),
        Some("loss" | "doc") => crate::loss::check(case),
        Some("dual_averaging") => crate::mcmc::check_dual_averaging(case),
        Some("hard_negative_mining") => crate::mcmc::check_hard_negative_mining(case),
        Some(other) => Outcome::Unsupported(format!("case kind {other:?}")),
        None => Outcome::Unsupported("case without a kind".into()),
    }
}

/// The README's rule: `|got − want| ≤ tol · max(1, |want|)`, or equality after rounding to
/// `decimals` when the case gives them.
pub fn matches(got: f64, want: f64, tol: f64, decimals: Option<i32>) -> bool {
    if let Some(d) = decimals {
        let k = 10f64.powi(d);
        return (got * k).round() == (want * k).round();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// Compares every element of `got` with the (nested) JSON `want` by [`matches`].
pub fn compare(
    what: &str,
    got: &[f64],
    want: &Value,
    tol: f64,
    dec: Option<i32>,
) -> Result<(), String> {
    let want = json_array(want).ok_or_else(|| format!("{what}: expected value is not numeric"))?;
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} values, expected {}",
            got.len(),
            want.len()
        ));
    }
    for (i, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
        if !matches(g, w, tol, dec) {
            return Err(format!("{what}[{i}]: got {g:e}, want {w:e}"));
        }
    }
    Ok(())
}

/// A case's `expect` object; a quantity not in `known` makes the case unsupported.
pub fn expected<'a>(case: &'a Value, known: &[&str]) -> Result<&'a Map<String, Value>, Outcome> {
    let expect = case["expect"]
        .as_object()
        .ok_or_else(|| Outcome::Fail("no expect object".into()))?;
    if let Some(k) = expect.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Outcome::Unsupported(format!("expected quantity {k:?}")));
    }
    Ok(expect)
}

/// The outcome of a case's check.
pub fn outcome(run: Result<(), Outcome>) -> Outcome {
    match run {
        Ok(()) => Outcome::Pass,
        Err(o) => o,
    }
}
