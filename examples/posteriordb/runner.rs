//! Sampling one posteriordb posterior and comparing it with its reference: shared by the
//! runner (`main.rs`) and the CI test of a fast subset (`tests/it/posteriordb.rs`).

use crate::models;
use infer::mcmc::diagnostics::{Diagnostics, mcse_sd, pareto_khat};
use infer::mcmc::until::SamplingTarget;
use infer::mcmc::{DrawEvent, Observer, Phase};
use infer::prelude::*;
use serde_json::Value;
use std::error::Error;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts the divergent warmup transitions of every chain, as the sampler reports them to
/// its observer: the draws (and their random streams) are those of a run without it.
#[derive(Default)]
struct WarmupDivergences(AtomicUsize);

impl Observer for WarmupDivergences {
    fn on_draw(&self, event: &DrawEvent) {
        if event.phase == Phase::Warmup && event.divergent {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The thresholds of the comparison (see the runner's documentation).
pub const MAX_Z: f64 = 4.0;
/// R-hat above this fails.
pub const MAX_RHAT: f64 = 1.01;
/// A mean is compared only when its draws' Pareto k̂ is below this: its Monte Carlo error
/// needs a finite variance (1/k̂ moments are finite).
pub const MAX_KHAT_MEAN: f64 = 0.5;
/// An sd is compared only when k̂ is below this: the MCSE of an sd is the error of a
/// variance, which needs a finite fourth moment.
pub const MAX_KHAT_SD: f64 = 0.25;

/// One reference quantity.
pub struct Reference {
    pub name: String,
    pub mean: f64,
    pub sd: f64,
    pub ess_bulk: f64,
}

/// The comparison of one quantity.
pub struct Row {
    pub name: String,
    pub mean: f64,
    pub ref_mean: f64,
    pub z: f64,
    pub sd: f64,
    pub ref_sd: f64,
    pub z_sd: f64,
    pub rhat: f64,
    pub ess_bulk: f64,
    /// The Pareto k̂ of the draws (both tails); NaN when it could not be fitted.
    pub khat: f64,
}

impl Row {
    /// Whether the mean is compared: k̂ < ½ (or a tail too flat to fit, as for constant draws).
    fn mean_tested(&self) -> bool {
        !(self.khat >= MAX_KHAT_MEAN)
    }
    /// Whether the sd is compared: k̂ < ¼.
    fn sd_tested(&self) -> bool {
        !(self.khat >= MAX_KHAT_SD)
    }
    fn failed(&self) -> bool {
        (self.mean_tested() && self.z > MAX_Z)
            || (self.sd_tested() && self.z_sd > MAX_Z)
            || self.rhat > MAX_RHAT
    }
}

/// The outcome of one posterior.
pub enum Outcome {
    /// Its `model_name` is not implemented.
    Unsupported(String),
    /// Sampled and compared.
    Ran {
        rows: Vec<Row>,
        unusable: Vec<String>,
        divergent: usize,
        /// Divergent warmup transitions, all chains.
        warmup_divergent: usize,
        /// Sampling draws per chain (more than asked for when sampled to an ESS target).
        draws: usize,
        gradients: u64,
        /// Gradient evaluations before sampling: the chains' warmups (and the Pathfinder
        /// run of Pathfinder inits).
        warmup_gradients: u64,
        seconds: f64,
    },
}

impl Outcome {
    /// Whether every quantity passed (an unsupported posterior has not passed).
    pub fn passed(&self) -> bool {
        match self {
            Outcome::Unsupported(_) => false,
            Outcome::Ran { rows, unusable, .. } => {
                unusable.is_empty() && !rows.iter().any(Row::failed)
            }
        }
    }

    /// The one-line summary: verdict, quantities, wall time, gradient evaluations, min bulk
    /// ESS, ESS per gradient, max |z| of the means and of the sds, the range of sd ÷
    /// reference sd, max R-hat, divergent transitions (sampling, and warmup in parentheses).
    pub fn line(&self, name: &str) -> String {
        match self {
            Outcome::Unsupported(m) => {
                format!("{name:<45} unsupported (model {m} is not implemented)")
            }
            Outcome::Ran {
                rows,
                unusable,
                divergent,
                warmup_divergent,
                draws,
                gradients,
                warmup_gradients,
                seconds,
            } => {
                let fold = |f: fn(&Row) -> f64, init: f64, pick: fn(f64, f64) -> f64| {
                    rows.iter().map(f).fold(init, pick)
                };
                let min_ess = fold(|r| r.ess_bulk, f64::INFINITY, f64::min);
                let ratio = |r: &Row| r.sd / r.ref_sd;
                let tested = |on: fn(&Row) -> bool, f: fn(&Row) -> f64| {
                    rows.iter().filter(|r| on(r)).map(f).fold(0.0, f64::max)
                };
                let untested = rows.iter().filter(|r| !r.sd_tested()).count();
                format!(
                    "{name:<45} {} {:>3} qty {seconds:7.2} s {draws:>5} draws {gradients:>9} grads ({warmup_gradients} before sampling)  min ESS {min_ess:7.0}  ESS/grad {:.4}  max|z| {:5.2}  max|z_sd| {:5.2}  sd/ref {:.2}–{:.2}  R-hat ≤ {:.4}  div {divergent} (warmup {warmup_divergent})  max k̂ {:.2}{}",
                    if self.passed() { "PASS" } else { "FAIL" },
                    rows.len() + unusable.len(),
                    min_ess / *gradients as f64,
                    tested(Row::mean_tested, |r| r.z),
                    tested(Row::sd_tested, |r| r.z_sd),
                    rows.iter()
                        .filter(|r| r.sd_tested())
                        .map(ratio)
                        .fold(f64::INFINITY, f64::min),
                    tested(Row::sd_tested, ratio),
                    fold(|r| r.rhat, 0.0, f64::max),
                    rows.iter()
                        .map(|r| r.khat)
                        .filter(|k| !k.is_nan())
                        .fold(f64::NEG_INFINITY, f64::max),
                    if untested > 0 {
                        format!("  ({untested} heavy-tailed: see below)")
                    } else {
                        String::new()
                    },
                )
            }
        }
    }

    /// One line per failing, heavy-tailed (a comparison left out) or unusable quantity.
    pub fn details(&self) -> Vec<String> {
        let Outcome::Ran { rows, unusable, .. } = self else {
            return Vec::new();
        };
        rows.iter()
            .filter(|r| r.failed() || !r.sd_tested())
            .map(|r| {
                let left_out = match (r.mean_tested(), r.sd_tested()) {
                    (true, true) => String::new(),
                    (true, false) => format!(
                        "  sd not compared: Pareto k̂ {:.2} ≥ {MAX_KHAT_SD} (no finite 4th moment)",
                        r.khat
                    ),
                    _ => format!(
                        "  mean and sd not compared: Pareto k̂ {:.2} ≥ {MAX_KHAT_MEAN} (no finite variance)",
                        r.khat
                    ),
                };
                format!(
                    "    {:<20} mean {:12.5} ref {:12.5} z {:5.2}  sd {:10.4} ref {:10.4} z_sd {:5.2}  R-hat {:.4}{left_out}",
                    r.name, r.mean, r.ref_mean, r.z, r.sd, r.ref_sd, r.z_sd, r.rhat
                )
            })
            .chain(unusable.iter().map(|m| format!("    {m}")))
            .collect()
    }
}

pub fn read_json(path: &Path) -> Result<Value, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

pub fn references(path: &Path) -> Result<Vec<Reference>, Box<dyn Error>> {
    let v = read_json(path)?;
    let qs = v["quantities"]
        .as_array()
        .ok_or_else(|| format!("{}: no `quantities` array", path.display()))?;
    qs.iter()
        .map(|q| {
            let num = |k: &str| {
                q[k].as_f64()
                    .ok_or_else(|| format!("{}: quantity without `{k}`", path.display()))
            };
            Ok(Reference {
                name: q["name"]
                    .as_str()
                    .ok_or_else(|| format!("{}: quantity without a name", path.display()))?
                    .to_owned(),
                mean: num("mean")?,
                sd: num("sd")?,
                ess_bulk: num("ess_bulk")?,
            })
        })
        .collect()
}

/// Samples the posterior in `folder` (its model found by `model_name`) with the reference
/// run's `adapt_delta` and `max_treedepth`, `chains` × (1000 warmup + `draws`), and compares every
/// reference quantity. With `csv`, the chains are written to `<csv><folder name>_<chain>.csv`.
///
/// # Errors
/// Unreadable files, data the model rejects, a sampler error.
/// Samples the posterior in `folder` with the settings `base` (chains, warmup, draws, seed,
/// adaptation) and the reference run's `adapt_delta` and `max_treedepth`, and compares it.
///
/// With `min_ess`, the chains are continued after the `base` draws ([`Sampler::sample_model_until`],
/// 100 draws per chain at a time, at most 10 000 per chain) until every parameter's bulk and tail
/// ESS reach it; R-hat is not a stopping target, so the R-hat check stays a check.
pub fn run(
    folder: &Path,
    base: &SamplerSettings,
    csv: Option<&str>,
    min_ess: Option<f64>,
) -> Result<Outcome, Box<dyn Error>> {
    let info = read_json(&folder.join("info.json"))?;
    let model_name = info["model_name"]
        .as_str()
        .ok_or_else(|| format!("{}: info.json has no model_name", folder.display()))?;
    let data = StanData::from_path(folder.join("data.json"))?;
    let Some(model) = models::build(model_name, &data) else {
        return Ok(Outcome::Unsupported(model_name.to_owned()));
    };
    let model = model?;
    let refs = references(&folder.join("reference.json"))?;
    let settings = SamplerSettings {
        target_accept: info["adapt_delta"].as_f64().unwrap_or(0.8),
        max_depth: info["max_treedepth"]
            .as_u64()
            .map_or(10, |d| usize::try_from(d).unwrap_or(10)),
        ..*base
    };
    let start = Instant::now();
    let warmup_divergent = WarmupDivergences::default();
    let sampler = Sampler::new(settings)?.with_observer(&warmup_divergent);
    let fit = match min_ess {
        None => sampler.sample_model(&&*model)?,
        Some(ess) => {
            let target = SamplingTarget {
                ess_bulk: ess,
                ess_tail: ess,
                max_rhat: f64::INFINITY,
                max_samples: settings.num_samples.max(10_000),
                ..SamplingTarget::default()
            };
            sampler.sample_model_until(&target, &&*model)?.0
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    if let Some(prefix) = csv {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        fit.write_cmdstan_csvs(format!("{prefix}{name}"))?;
    }
    let mut rows = Vec::new();
    let mut unusable = Vec::new();
    for r in refs {
        let Ok(draws) = fit.draws_by_name(&r.name) else {
            unusable.push(format!("{}: missing from the fit", r.name));
            continue;
        };
        // non-finite draws (or too few) make the quantity fail, with the reason
        let d = match Diagnostics::new(draws.view()) {
            Ok(d) => d,
            Err(e) => {
                unusable.push(format!("{}: {e}", r.name));
                continue;
            }
        };
        let (mean, sd, m_err) = (d.mean, d.sd, d.mcse_mean);
        // a quantity constant in every draw has no MCSE of its sd (ArviZ gives NaN): 0, so
        // that any difference from the reference fails
        let s_err = mcse_sd(draws.view()).unwrap_or(0.0);
        let z = (mean - r.mean).abs() / (m_err * m_err + r.sd * r.sd / r.ess_bulk).sqrt();
        let z_sd = (sd - r.sd).abs() / (s_err * s_err + r.sd * r.sd / (2.0 * r.ess_bulk)).sqrt();
        rows.push(Row {
            name: r.name,
            mean,
            ref_mean: r.mean,
            // 0/0 (the inputs are finite): a constant quantity equal to its constant reference
            z: if z.is_nan() { 0.0 } else { z },
            sd,
            ref_sd: r.sd,
            z_sd: if z_sd.is_nan() { 0.0 } else { z_sd },
            // NaN with one chain: not comparable, not a failure
            rhat: if d.rhat.is_nan() { 1.0 } else { d.rhat },
            ess_bulk: d.ess_bulk,
            // constant draws or a constant tail have no Pareto shape: NaN, both compared
            khat: pareto_khat(draws.view()).unwrap_or(f64::NAN),
        });
    }
    Ok(Outcome::Ran {
        rows,
        unusable,
        divergent: fit.num_divergent(),
        warmup_divergent: warmup_divergent.0.into_inner(),
        draws: fit.num_draws(),
        gradients: fit.gradient_evals(),
        warmup_gradients: fit.init_gradient_evals
            + fit
                .chains
                .iter()
                .map(|c| c.warmup_gradient_evals)
                .sum::<u64>(),
        seconds,
    })
}
