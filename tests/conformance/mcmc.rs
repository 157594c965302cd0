//! The `dual_averaging` and `hard_negative_mining` kinds (the seed's MCMC step-size
//! adaptation and its loss-masking helper).

use crate::Outcome;
use crate::cases::matches;
use infer::mcmc::{DualAveragingOptions, dual_averaging};
use ndarray::Array2;
use serde_json::Value;

/// Checks a `dual_averaging` case: from `epsilon_bar = 1`, `h_bar = 0`, every step's output.
pub fn check_dual_averaging(case: &Value) -> Outcome {
    let Some(eps0) = case["initial_epsilon"].as_f64() else {
        return Outcome::Fail("initial_epsilon is not a number".into());
    };
    let mut opts = DualAveragingOptions::default();
    if let Some(map) = case["options"].as_object() {
        for (k, v) in map {
            let Some(x) = v.as_f64() else {
                return Outcome::Fail(format!("option {k} is not a number"));
            };
            match k.as_str() {
                "delta" => opts.delta = x,
                "gamma" => opts.gamma = x,
                "t0" => opts.t0 = x,
                "kappa" => opts.kappa = x,
                other => return Outcome::Unsupported(format!("dual_averaging option {other:?}")),
            }
        }
    }
    let Some(steps) = case["steps"].as_array() else {
        return Outcome::Fail("steps is not an array".into());
    };
    let (mut eps_bar, mut h_bar) = (1.0, 0.0);
    for (k, s) in steps.iter().enumerate() {
        let (Some(a), Some(m)) = (s["accept_prob"].as_f64(), s["m"].as_u64()) else {
            return Outcome::Fail(format!("step {k}: accept_prob or m missing"));
        };
        let (eps, eb, hb) = match dual_averaging(a, m as usize, eps0, eps_bar, h_bar, opts) {
            Ok(v) => v,
            Err(e) => return Outcome::Fail(format!("step {k}: {e}")),
        };
        for (name, got) in [("epsilon", eps), ("epsilon_bar", eb), ("h_bar", hb)] {
            let Some(want) = s[name].as_f64() else {
                return Outcome::Fail(format!("step {k}: {name} missing"));
            };
            if !matches(got, want, 1e-8, None) {
                return Outcome::Fail(format!("step {k}: {name} got {got}, want {want}"));
            }
        }
        (eps_bar, h_bar) = (eb, hb);
    }
    Outcome::Pass
}

fn matrix(v: &Value) -> Result<Array2<f64>, String> {
    let rows = v.as_array().ok_or("not an array of rows")?;
    let cols = rows.first().and_then(Value::as_array).map_or(0, Vec::len);
    let mut data = Vec::with_capacity(rows.len() * cols);
    for row in rows {
        let row = row.as_array().ok_or("row is not an array")?;
        if row.len() != cols {
            return Err("ragged rows".into());
        }
        for x in row {
            data.push(x.as_f64().ok_or("not a number")?);
        }
    }
    Array2::from_shape_vec((rows.len(), cols), data).map_err(|e| e.to_string())
}

/// Checks a `hard_negative_mining` case: the mask, and that the losses are not modified.
pub fn check_hard_negative_mining(case: &Value) -> Outcome {
    let (losses, labels) = match (matrix(&case["losses"]), matrix(&case["labels"])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Outcome::Fail(e),
    };
    let Some(ratio) = case["neg_pos_ratio"].as_f64() else {
        return Outcome::Fail("neg_pos_ratio is not a number".into());
    };
    let before = losses.clone();
    let mask = match infer::loss::hard_negative_mining(losses.view(), labels.view(), ratio) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    if losses != before {
        return Outcome::Fail("the input losses were modified".into());
    }
    let Some(want) = case["expect"]["mask"].as_array() else {
        return Outcome::Fail("expect.mask is not an array".into());
    };
    for (i, row) in want.iter().enumerate() {
        for (j, w) in row.as_array().into_iter().flatten().enumerate() {
            if mask.get((i, j)).copied() != w.as_bool() {
                return Outcome::Fail(format!("mask[{i}][{j}] differs"));
            }
        }
    }
    Outcome::Pass
}
