//! Shared helpers: loading the benchmark data and checking moments against references.

use std::path::PathBuf;

use infer_ad::Var;
use infer_mcmc::Fit;
use infer_mcmc::LogDensityError;
use infer_mcmc::diagnostics::{ess_bulk, mcse_mean};
use infer_mcmc::model::{Model, Params, bounds};
use infer_mcmc::models::{CorrGauss, EightSchools, LogReg};
use serde_json::Value;

/// `tests/data` of the workspace.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

pub fn read_json(rel: &str) -> Value {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn rows_f64(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array of rows")
        .iter()
        .map(vec_f64)
        .collect()
}

pub fn corr_gauss() -> CorrGauss {
    let d = read_json("bench/corr_gauss.json");
    CorrGauss::from_rows(&rows_f64(&d["cov"])).expect("valid covariance")
}

pub fn logreg() -> LogReg {
    let d = read_json("bench/logreg.json");
    LogReg::from_rows(&rows_f64(&d["x"]), vec_f64(&d["y"])).expect("valid logreg data")
}

pub fn eight_schools() -> EightSchools {
    let d = read_json("bench/eight_schools.json");
    EightSchools::new(vec_f64(&d["y"]), vec_f64(&d["sigma"])).expect("valid data")
}

/// Reference (mean, sd) of every parameter of a model in `reference_posteriors.json`.
pub fn reference(model: &str) -> Vec<(String, f64, f64)> {
    let d = read_json("bench/reference_posteriors.json");
    d[model]
        .as_object()
        .expect("model entry")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["mean"].as_f64().expect("mean"),
                v["sd"].as_f64().expect("sd"),
            )
        })
        .collect()
}

/// Checks, for each `(name, mean, sd)`: |mean − m̂| ≤ 4 MCSE and |ŝd/sd − 1| ≤ `sd_tol`.
/// Returns a description of every failure.
pub fn check_moments(fit: &Fit, expected: &[(String, f64, f64)], sd_tol: f64) -> Vec<String> {
    let mut failures = Vec::new();
    let (mut max_z, mut max_sd_dev, mut min_ess) = (0.0f64, 0.0f64, f64::INFINITY);
    for (name, mean, sd) in expected {
        let draws = fit
            .draws_by_name(name)
            .unwrap_or_else(|e| panic!("no parameter {name}: {e}"));
        let n = draws.len() as f64;
        let m = draws.mean().expect("non-empty");
        let s = (draws.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
        let mcse = mcse_mean(draws.view()).expect("diagnosable draws");
        let ess = ess_bulk(draws.view()).expect("diagnosable draws");
        let z = (m - mean) / mcse;
        max_z = max_z.max(z.abs());
        max_sd_dev = max_sd_dev.max((s / sd - 1.0).abs());
        min_ess = min_ess.min(ess);
        if !(z.abs() <= 4.0) || !((s / sd - 1.0).abs() <= sd_tol) {
            failures.push(format!(
                "{name}: mean {m:.4} (want {mean:.4}, z = {z:.2}, mcse {mcse:.4}, ess {ess:.0}), sd {s:.4} (want {sd:.4}, ratio {:.3})",
                s / sd
            ));
        }
    }
    println!(
        "{} parameters: max |z| = {max_z:.2}, max |sd ratio − 1| = {max_sd_dev:.3}, min bulk ESS = {min_ess:.0}, divergences = {}",
        expected.len(),
        fit.num_divergent()
    );
    failures
}

/// For the continuation tests (extend, checkpoints): a bounded parameter, a dependent bound
/// and a generated quantity drawing from its RNG.
pub struct Triangle;

impl Model for Triangle {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let alpha = p.scalar("alpha", bounds(0.0, 1.0))?;
        let beta = p.scalar("beta", bounds(0.0, 1.0 - alpha))?;
        p.generated("coin", |rng| {
            Ok::<_, LogDensityError>(rand::Rng::random::<f64>(rng))
        })?;
        Ok(alpha * 0.5 + beta)
    }
}
