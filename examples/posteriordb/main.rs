//! Samples posteriordb posteriors and compares every reference quantity.
//!
//! ```text
//! cargo run --release --example posteriordb -- [--dir DIR] [--chains N] [--seed S]
//!                                               [--csv PREFIX] [NAME ...]
//! ```
//!
//! `DIR` (default: the repository's `tests/data/posteriordb`) holds one folder per posterior
//! in posteriordb's layout (`info.json`, `model.stan`, `data.json`, `reference.json`; see the
//! README there); `NAME`s select folders (default: all). The model is found by the folder's
//! `model_name` (`models/`), so any folder of this layout whose model is implemented runs; the
//! others are reported as unsupported. Each posterior is sampled with the reference run's
//! `adapt_delta` and `max_treedepth`, `N` chains (default 4) × 1000 warmup + 1000 draws, and
//! every reference quantity (parameters and transformed parameters, Stan's names) is compared:
//!
//! - mean: z = |mean − ref_mean| / √(mcse² + ref_sd²/ref_ess_bulk) ≤ 4;
//! - sd: z_sd = |sd − ref_sd| / √(mcse_sd² + ref_sd²/(2 ref_ess_bulk)) ≤ 4, with the MCSE of
//!   the sd as ArviZ's `mcse(method="sd")` and the reference's by the normal approximation;
//! - rank-normalized split R-hat ≤ 1.01; a quantity missing from the fit fails.
//!
//! Divergent transitions are reported. With `--csv PREFIX` each posterior's chains are also
//! written as CmdStan CSV files `PREFIX<name>_<chain>.csv`.
//!
//! **False failures.** For a correct sampler each z is approximately |N(0, 1)|, so one
//! comparison exceeds 4 with probability 6.3e-5. The twenty posteriors here have 143 reference
//! quantities, 286 comparisons of mean and sd: a correct sampler fails one of them in about
//! 1.8 % of full runs (1 − (1 − 6.3e-5)^286), plus the rarer R-hat exceedances of 4 × 1000
//! well-mixed draws. The exit status is 1 when any posterior fails.

mod models;

use infer::mcmc::diagnostics::{mcse_mean, mcse_sd, rhat};
use infer::prelude::*;
use serde_json::Value;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One reference quantity.
struct Reference {
    name: String,
    mean: f64,
    sd: f64,
    ess_bulk: f64,
}

/// The comparison of one quantity.
struct Row {
    name: String,
    mean: f64,
    ref_mean: f64,
    z: f64,
    sd: f64,
    ref_sd: f64,
    z_sd: f64,
    rhat: f64,
}

/// The outcome of one posterior.
enum Outcome {
    Unsupported(String),
    Ran {
        rows: Vec<Row>,
        missing: Vec<String>,
        divergent: usize,
        seconds: f64,
    },
}

struct Options {
    dir: PathBuf,
    chains: usize,
    seed: u64,
    csv: Option<String>,
    names: Vec<String>,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut o = Options {
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/posteriordb"),
        chains: 4,
        seed: 20261203,
        csv: None,
        names: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--dir" => o.dir = PathBuf::from(value("--dir")?),
            "--chains" => o.chains = value("--chains")?.parse()?,
            "--seed" => o.seed = value("--seed")?.parse()?,
            "--csv" => o.csv = Some(value("--csv")?),
            "-h" | "--help" => {
                println!(
                    "usage: posteriordb [--dir DIR] [--chains N] [--seed S] [--csv PREFIX] [NAME ...]"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            name => o.names.push(name.to_owned()),
        }
    }
    Ok(o)
}

fn read_json(path: &Path) -> Result<Value, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn references(path: &Path) -> Result<Vec<Reference>, Box<dyn Error>> {
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

fn run(folder: &Path, o: &Options) -> Result<Outcome, Box<dyn Error>> {
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
        num_chains: o.chains,
        seed: o.seed,
        target_accept: info["adapt_delta"].as_f64().unwrap_or(0.8),
        max_depth: info["max_treedepth"].as_u64().unwrap_or(10) as usize,
        ..SamplerSettings::default()
    };
    let start = Instant::now();
    let fit = Sampler::new(settings)?.sample_model(&&*model)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(prefix) = &o.csv {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        fit.write_cmdstan_csvs(format!("{prefix}{name}"))?;
    }
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for r in refs {
        let Ok(draws) = fit.draws_by_name(&r.name) else {
            missing.push(r.name);
            continue;
        };
        let n = draws.len() as f64;
        let mean = draws.sum() / n;
        let sd = (draws.mapv(|x| (x - mean) * (x - mean)).sum() / (n - 1.0)).sqrt();
        // a quantity constant in every draw has no MCSE (ArviZ gives NaN); then any
        // difference from the reference fails
        let m_err = mcse_mean(draws.view()).unwrap_or(0.0);
        let s_err = mcse_sd(draws.view()).unwrap_or(0.0);
        let z = (mean - r.mean).abs() / (m_err * m_err + r.sd * r.sd / r.ess_bulk).sqrt();
        let z_sd = (sd - r.sd).abs() / (s_err * s_err + r.sd * r.sd / (2.0 * r.ess_bulk)).sqrt();
        rows.push(Row {
            name: r.name,
            mean,
            ref_mean: r.mean,
            z: if z.is_nan() { 0.0 } else { z },
            sd,
            ref_sd: r.sd,
            z_sd: if z_sd.is_nan() { 0.0 } else { z_sd },
            rhat: rhat(draws.view()).unwrap_or(1.0),
        });
    }
    Ok(Outcome::Ran {
        rows,
        missing,
        divergent: fit.num_divergent(),
        seconds,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let o = options()?;
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&o.dir)
        .map_err(|e| format!("cannot read {}: {e}", o.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("info.json").is_file())
        .collect();
    folders.sort();
    if !o.names.is_empty() {
        for n in &o.names {
            if !folders
                .iter()
                .any(|f| f.file_name().is_some_and(|x| x == n.as_str()))
            {
                return Err(format!("no posterior {n} in {}", o.dir.display()).into());
            }
        }
        folders.retain(|f| {
            f.file_name()
                .is_some_and(|x| o.names.iter().any(|n| x == n.as_str()))
        });
    }
    let (mut passed, mut failed, mut unsupported) = (0, 0, 0);
    for folder in &folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        match run(folder, &o) {
            Ok(Outcome::Unsupported(m)) => {
                unsupported += 1;
                println!("{name:<45} unsupported (model {m} is not implemented)");
            }
            Ok(Outcome::Ran {
                rows,
                missing,
                divergent,
                seconds,
            }) => {
                let max = |f: fn(&Row) -> f64| rows.iter().map(f).fold(0.0, f64::max);
                let (z, z_sd, rh) = (max(|r| r.z), max(|r| r.z_sd), max(|r| r.rhat));
                let ok = missing.is_empty() && z <= 4.0 && z_sd <= 4.0 && rh <= 1.01;
                if ok {
                    passed += 1;
                } else {
                    failed += 1;
                }
                println!(
                    "{name:<45} {} {:>3} quantities  max z {z:5.2}  max z_sd {z_sd:5.2}  max R-hat {rh:.4}  divergent {divergent:>3}  {seconds:6.2} s",
                    if ok { "PASS" } else { "FAIL" },
                    rows.len() + missing.len(),
                );
                for r in rows
                    .iter()
                    .filter(|r| r.z > 4.0 || r.z_sd > 4.0 || r.rhat > 1.01)
                {
                    println!(
                        "    {:<20} mean {:12.5} ref {:12.5} z {:5.2}  sd {:10.4} ref {:10.4} z_sd {:5.2}  R-hat {:.4}",
                        r.name, r.mean, r.ref_mean, r.z, r.sd, r.ref_sd, r.z_sd, r.rhat
                    );
                }
                for m in &missing {
                    println!("    {m:<20} missing from the fit");
                }
            }
            Err(e) => {
                failed += 1;
                println!("{name:<45} FAIL: {e}");
            }
        }
    }
    println!("posteriordb: {passed} passed, {failed} failed, {unsupported} unsupported");
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
