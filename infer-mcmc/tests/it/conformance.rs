//! The `dual_averaging` cases of the workspace conformance file `mcmc.json`.
//!
//! The file is looked up in `$INFER_CONFORMANCE_DIR` if set, else in the workspace's
//! `tests/data/conformance/`, else in `tests/data/conformance-all/`.

use std::path::PathBuf;

use infer_mcmc::{DualAveragingOptions, dual_averaging};
use serde_json::Value;

use crate::common::data_dir;

fn mcmc_cases() -> Value {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("INFER_CONFORMANCE_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(data_dir().join("conformance"));
    dirs.push(data_dir().join("conformance-all"));
    for d in &dirs {
        let path = d.join("mcmc.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()));
        }
    }
    panic!("no mcmc.json in any of {dirs:?}");
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-8 * want.abs().max(1.0)
}

#[test]
fn dual_averaging_conformance() {
    let file = mcmc_cases();
    let mut passed = 0;
    let mut failed = Vec::new();
    for case in file["cases"].as_array().expect("cases") {
        if case["kind"] != "dual_averaging" {
            continue;
        }
        let id = case["id"].as_str().unwrap_or("?");
        let mut options = DualAveragingOptions::default();
        let opts = &case["options"];
        let get = |k: &str, d: f64| opts.get(k).and_then(Value::as_f64).unwrap_or(d);
        options.delta = get("delta", options.delta);
        options.gamma = get("gamma", options.gamma);
        options.t0 = get("t0", options.t0);
        options.kappa = get("kappa", options.kappa);
        let eps0 = case["initial_epsilon"].as_f64().expect("initial_epsilon");
        let (mut eps_bar, mut h_bar) = (1.0, 0.0);
        let mut ok = true;
        for (k, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
            let a = step["accept_prob"].as_f64().expect("accept_prob");
            let m = step["m"].as_u64().expect("m") as usize;
            let (eps, eb, hb) = dual_averaging(a, m, eps0, eps_bar, h_bar, options);
            let want = |k: &str| step[k].as_f64().expect("expected value");
            if !(close(eps, want("epsilon"))
                && close(eb, want("epsilon_bar"))
                && close(hb, want("h_bar")))
            {
                failed.push(format!(
                    "{id} step {k}: got ({eps}, {eb}, {hb}), want ({}, {}, {})",
                    want("epsilon"),
                    want("epsilon_bar"),
                    want("h_bar")
                ));
                ok = false;
                break;
            }
            eps_bar = eb;
            h_bar = hb;
        }
        if ok {
            passed += 1;
        }
    }
    assert!(passed >= 1, "no dual_averaging cases found");
    assert!(failed.is_empty(), "{failed:#?}");
}
