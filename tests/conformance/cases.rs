//! Dispatch of conformance cases by kind, and the shared comparison rule.

use crate::Outcome;
use serde_json::Value;

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
