//! The `diagnostics` kind: rank-normalized split R-hat, bulk and tail ESS and the MCSE of the
//! mean against ArviZ.

use crate::Outcome;
use infer::mcmc::diagnostics::Diagnostics;
use ndarray::Array2;
use serde_json::Value;

/// Relative tolerance of the `diagnostics` kind (see the conformance README).
const REL_TOL: f64 = 1e-6;

/// Checks one `diagnostics` case: `draws` (chains × draws) against `expect.rhat`,
/// `expect.ess_bulk`, `expect.ess_tail` and `expect.mcse_mean`, each to a relative `1e-6`
/// (`|got − want| ≤ 1e-6 |want|`). An expected key it does not know makes the case
/// unsupported, never silently skipped.
///
/// Self-contained (serde_json, ndarray, `infer_mcmc::diagnostics::Diagnostics`) so that it can
/// move into the workspace-wide conformance runner as is.
pub fn check(case: &Value) -> Outcome {
    let draws = match parse_draws(&case["draws"]) {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    let got = match Diagnostics::new(draws.view()) {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let Some(expect) = case["expect"].as_object() else {
        return Outcome::Fail("`expect` is not an object".into());
    };
    let mut failures = Vec::new();
    for (key, want) in expect {
        let Some(want) = want.as_f64() else {
            return Outcome::Fail(format!("expect.{key} is not a number"));
        };
        let got = match key.as_str() {
            "rhat" => got.rhat,
            "ess_bulk" => got.ess_bulk,
            "ess_tail" => got.ess_tail,
            "mcse_mean" => got.mcse_mean,
            other => return Outcome::Unsupported(format!("diagnostics expectation `{other}`")),
        };
        if !((got - want).abs() <= REL_TOL * want.abs()) {
            failures.push(format!("{key}: got {got}, want {want}"));
        }
    }
    if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failures.join("; "))
    }
}

/// `draws`: an array of chains, each an array of numbers, all of one length.
fn parse_draws(value: &Value) -> Result<Array2<f64>, String> {
    let rows = value
        .as_array()
        .ok_or("`draws` is not an array of chains")?;
    let draws = rows.first().and_then(Value::as_array).map_or(0, Vec::len);
    let mut data = Vec::with_capacity(rows.len() * draws);
    for (c, row) in rows.iter().enumerate() {
        let row = row.as_array().ok_or(format!("chain {c} is not an array"))?;
        if row.len() != draws {
            return Err(format!(
                "chain {c} has {} draws, chain 0 has {draws}",
                row.len()
            ));
        }
        for (i, v) in row.iter().enumerate() {
            data.push(
                v.as_f64()
                    .ok_or(format!("draw {i} of chain {c} is not a number"))?,
            );
        }
    }
    Array2::from_shape_vec((rows.len(), draws), data).map_err(|e| e.to_string())
}
