//! Approximating one posteriordb posterior (Pathfinder, multi-path Pathfinder, Laplace, ADVI
//! mean-field and full-rank) and comparing its draws with the reference: `--method` of the runner.

use crate::models;
use crate::runner::{read_json, references};
use infer::mcmc::approx::{
    ApproxError, Approximation, LaplaceSettings, Method, PathfinderSettings, laplace_model,
    pathfinder_model,
};
use infer::prelude::*;
use rand::SeedableRng;
use std::error::Error;
use std::path::Path;

/// An approximation is "within" when every reference mean is within this many reference
/// sds (issue 18's goal for multi-path Pathfinder).
pub const WITHIN_SD: f64 = 0.3;

/// One reference quantity against the approximation's draws.
pub struct ApproxRow {
    pub name: String,
    pub mean: f64,
    pub ref_mean: f64,
    pub sd: f64,
    pub ref_sd: f64,
}

impl ApproxRow {
    /// |mean − reference mean| / reference sd (0 for a constant quantity equal to its
    /// constant reference).
    fn z(&self) -> f64 {
        let z = (self.mean - self.ref_mean).abs() / self.ref_sd;
        if z.is_nan() { 0.0 } else { z }
    }
}

/// The outcome of one posterior.
pub enum ApproxOutcome {
    /// The model (or the method) is not available.
    Unsupported(String),
    /// The method failed on this posterior (counted as not within): its error.
    Failed(String),
    /// Approximated and compared.
    Ran {
        rows: Vec<ApproxRow>,
        /// Reference quantities missing from the draws, or with non-finite draws.
        unusable: Vec<String>,
        gradients: u64,
        seconds: f64,
        /// Pareto k̂: of the resampling weights (multi-path), else of the draws' importance
        /// ratios log p − log q; NaN when it could not be computed.
        khat: f64,
    },
}

impl ApproxOutcome {
    /// Whether every reference mean is within [`WITHIN_SD`] reference sds.
    pub fn within(&self) -> bool {
        match self {
            ApproxOutcome::Unsupported(_) | ApproxOutcome::Failed(_) => false,
            ApproxOutcome::Ran { rows, unusable, .. } => {
                unusable.is_empty() && rows.iter().all(|r| r.z() <= WITHIN_SD)
            }
        }
    }

    /// The one-line summary: verdict, quantities, gradient evaluations, wall time, max
    /// |mean − ref_mean| / ref_sd, the range of sd / ref_sd, Pareto k̂.
    pub fn line(&self, name: &str, method: Method) -> String {
        match self {
            ApproxOutcome::Unsupported(why) => format!("{name:<45} {method} unsupported: {why}"),
            ApproxOutcome::Failed(why) => format!("{name:<45} {method} NOT    failed: {why}"),
            ApproxOutcome::Ran {
                rows,
                unusable,
                gradients,
                seconds,
                khat,
            } => {
                let max_z = rows.iter().map(ApproxRow::z).fold(0.0, f64::max);
                let ratio = |r: &ApproxRow| r.sd / r.ref_sd;
                let lo = rows.iter().map(ratio).fold(f64::INFINITY, f64::min);
                let hi = rows.iter().map(ratio).fold(0.0, f64::max);
                format!(
                    "{name:<45} {method} {:<6} {:>3} qty {gradients:>8} grads {seconds:8.3} s  max|Δmean|/sd {max_z:6.3}  sd/ref {lo:.2}–{hi:.2}  k̂ {khat:.2}{}",
                    if self.within() { "WITHIN" } else { "NOT" },
                    rows.len() + unusable.len(),
                    if unusable.is_empty() {
                        String::new()
                    } else {
                        format!("  ({} unusable: see below)", unusable.len())
                    }
                )
            }
        }
    }

    /// One line per quantity off by more than [`WITHIN_SD`] sds, and per unusable quantity.
    pub fn details(&self) -> Vec<String> {
        let ApproxOutcome::Ran { rows, unusable, .. } = self else {
            return Vec::new();
        };
        rows.iter()
            .filter(|r| r.z() > WITHIN_SD)
            .map(|r| {
                format!(
                    "    {:<20} mean {:12.5} ref {:12.5} ({:5.2} sd)  sd {:10.4} ref {:10.4}",
                    r.name,
                    r.mean,
                    r.ref_mean,
                    r.z(),
                    r.sd,
                    r.ref_sd
                )
            })
            .chain(unusable.iter().map(|m| format!("    {m}")))
            .collect()
    }
}

/// Parses a `--method` value other than `nuts`.
pub fn parse_method(name: &str) -> Option<Method> {
    Some(match name {
        "pathfinder" => Method::Pathfinder,
        "pathfinder-multi" => Method::MultiPathfinder,
        "laplace" => Method::Laplace,
        "advi-meanfield" => Method::AdviMeanField,
        "advi-fullrank" => Method::AdviFullRank,
        _ => return None,
    })
}

/// Approximates the posterior in `folder` with `method` (CmdStan's defaults, seeded with
/// `seed`) and compares the mean and sd of every reference quantity. With `csv`, the draws
/// are written to `<csv><folder name>_<method>.csv`.
///
/// # Errors
/// Unreadable files, data the model rejects, a failure of the method.
pub fn run(
    folder: &Path,
    method: Method,
    seed: u64,
    csv: Option<&str>,
) -> Result<ApproxOutcome, Box<dyn Error>> {
    let info = read_json(&folder.join("info.json"))?;
    let model_name = info["model_name"]
        .as_str()
        .ok_or_else(|| format!("{}: info.json has no model_name", folder.display()))?;
    let data = StanData::from_path(folder.join("data.json"))?;
    let Some(model) = models::build(model_name, &data) else {
        return Ok(ApproxOutcome::Unsupported(format!(
            "model {model_name} is not implemented"
        )));
    };
    let model = model?;
    let refs = references(&folder.join("reference.json"))?;
    let result: Result<Approximation, ApproxError> = match method {
        Method::Pathfinder | Method::MultiPathfinder => {
            let settings = PathfinderSettings {
                num_paths: if method == Method::Pathfinder { 1 } else { 4 },
                seed,
                ..PathfinderSettings::default()
            };
            pathfinder_model(&&*model, &settings)
        }
        Method::Laplace => {
            let mut settings = LaplaceSettings::default();
            settings.optimize.seed = seed;
            laplace_model(&&*model, &settings)
        }
        Method::AdviMeanField | Method::AdviFullRank => {
            let settings = AdviSettings {
                family: if method == Method::AdviMeanField {
                    AdviFamily::MeanField
                } else {
                    AdviFamily::FullRank
                },
                ..AdviSettings::default()
            };
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            match advi_model(&*model, &settings, &mut rng) {
                Ok(fit) => Ok(fit.approximation()),
                Err(e) => return Ok(ApproxOutcome::Failed(e.to_string())),
            }
        }
        other => return Ok(ApproxOutcome::Unsupported(format!("method {other}"))),
    };
    let approx = match result {
        Ok(a) => a,
        // the method's failure on this posterior is a result, not an error of the runner
        Err(e) => return Ok(ApproxOutcome::Failed(e.to_string())),
    };
    if let Some(prefix) = csv {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        let path = format!("{prefix}{name}_{}.csv", method.name());
        let file = std::fs::File::create(&path).map_err(|e| format!("{path}: {e}"))?;
        approx.write_cmdstan_csv(std::io::BufWriter::new(file), &name)?;
    }
    let mut rows = Vec::new();
    let mut unusable = Vec::new();
    for r in refs {
        let Ok(draws) = approx.draws_by_name(&r.name) else {
            unusable.push(format!("{}: missing from the draws", r.name));
            continue;
        };
        if let Some(bad) = draws.iter().find(|v| !v.is_finite()) {
            unusable.push(format!("{}: a draw is {bad}", r.name));
            continue;
        }
        let n = draws.len() as f64;
        let mean = draws.sum() / n;
        let sd = (draws.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        rows.push(ApproxRow {
            name: r.name,
            mean,
            ref_mean: r.mean,
            sd,
            ref_sd: r.sd,
        });
    }
    let khat = approx
        .pareto_k
        .or_else(|| approx.importance_khat().ok())
        .unwrap_or(f64::NAN);
    Ok(ApproxOutcome::Ran {
        rows,
        unusable,
        gradients: approx.gradient_evals,
        seconds: approx.wall_seconds,
        khat,
    })
}
