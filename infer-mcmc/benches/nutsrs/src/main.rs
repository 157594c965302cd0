//! infer's NUTS against nuts-rs 0.19.1 (nutpie's engine) on the same log densities (issue 17).
//!
//! Both samplers evaluate the same infer object (`LogDensity`: the hand-written gradients of
//! `infer_mcmc::models` for the four benchmark models, the infer-ad tape (`TapeModel`) for the
//! posteriordb models), wrapped in one counter, so "gradient evaluations" means the same
//! thing on both sides: every call, warmup, sampling and initial point. Strategies: nutpie's
//! gradient-informed diagonal (infer `Adaptation::FisherDiagonal`, nuts-rs
//! `DiagNutsSettings`) and its diagonal plus low rank (`Adaptation::FisherLowRank`,
//! `LowRankNutsSettings`), each otherwise with its crate's defaults; the same warmup length,
//! draws, target acceptance and maximum tree depth for both. One chain per seed; nuts-rs starts
//! from infer's initial point of the same seed, and the two run back to back per seed (the
//! machine's load hits both alike). Each chain's draws are mapped to the recorded quantities
//! by the density's `write_draw` (inside the timed span for both) and scored with infer's
//! `ess_bulk`.
//!
//! Per model, strategy and sampler, medians over the seeds of: total gradient evaluations,
//! minimum bulk ESS per sampling gradient, that ESS per second of total wall time, the step
//! size after adaptation and the leapfrog steps per sampling draw; the divergences summed over
//! the seeds; then the ratios infer ÷ nuts-rs of these medians.
//!
//! ```text
//! cargo run --release --manifest-path infer-mcmc/benches/nutsrs/Cargo.toml -- \
//!     [--seeds N] [--repeat R] [--warmup W] [--draws D] [--strategy diag|lowrank] [--bench] [--posteriordb]
//!     [--nutsrs-jitter J] [--nutsrs-growth G] [--nutsrs-update-freq N] [NAME ...]
//! ```
//!
//! `--repeat R` runs each chain R times (both samplers in turn) and keeps its fastest wall
//! time. `--bench` runs the four benchmark models (gauss100, corr_gauss, logreg, eight_schools),
//! `--posteriordb` the twenty posteriordb posteriors (target acceptance and tree depth of
//! their reference runs); neither flag: both. `NAME`s restrict the run to those models.
//! The `--nutsrs-*` flags change nuts-rs's step-size jitter (0: none), late-window growth
//! factor and metric refit interval, to see which of its differences from infer matter.

#[path = "../../../../examples/posteriordb/models/mod.rs"]
#[allow(dead_code, missing_docs)]
mod models;

mod engines;

use engines::{Config, NutsRsTweaks, Run, Strategy, run_infer, run_nutsrs};
use infer::mcmc::LogDensity;
use infer::mcmc::model::TapeModel;
use infer::mcmc::models::{CorrGauss, EightSchools, Gauss, LogReg};
use infer::mcmc::stan_data::StanData;
use serde_json::Value;
use std::error::Error;
use std::path::{Path, PathBuf};

struct Options {
    seeds: u64,
    repeat: usize,
    warmup: usize,
    draws: usize,
    strategies: Vec<Strategy>,
    bench: bool,
    posteriordb: bool,
    names: Vec<String>,
    tweaks: NutsRsTweaks,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut o = Options {
        seeds: 5,
        repeat: 1,
        warmup: 400,
        draws: 1000,
        strategies: vec![Strategy::Diagonal, Strategy::LowRank],
        bench: false,
        posteriordb: false,
        names: Vec::new(),
        tweaks: NutsRsTweaks::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--seeds" => o.seeds = value("--seeds")?.parse()?,
            "--repeat" => o.repeat = value("--repeat")?.parse()?,
            "--warmup" => o.warmup = value("--warmup")?.parse()?,
            "--draws" => o.draws = value("--draws")?.parse()?,
            "--strategy" => {
                o.strategies = vec![match value("--strategy")?.as_str() {
                    "diag" => Strategy::Diagonal,
                    "lowrank" => Strategy::LowRank,
                    other => return Err(format!("unknown strategy {other} (diag, lowrank)").into()),
                }]
            }
            "--nutsrs-jitter" => o.tweaks.jitter = Some(value("--nutsrs-jitter")?.parse()?),
            "--nutsrs-growth" => {
                o.tweaks.window_growth = Some(value("--nutsrs-growth")?.parse()?);
            }
            "--nutsrs-update-freq" => {
                o.tweaks.update_freq = Some(value("--nutsrs-update-freq")?.parse()?);
            }
            "--bench" => o.bench = true,
            "--posteriordb" => o.posteriordb = true,
            "-h" | "--help" => {
                println!(
                    "usage: nutsrs-bench [--seeds N] [--repeat R] [--warmup W] [--draws D] [--strategy diag|lowrank] [--bench] [--posteriordb] [--nutsrs-jitter J] [--nutsrs-growth G] [--nutsrs-update-freq N] [NAME ...]"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            name => o.names.push(name.to_owned()),
        }
    }
    if !o.bench && !o.posteriordb {
        (o.bench, o.posteriordb) = (true, true);
    }
    Ok(o)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn read_json(path: &Path) -> Result<Value, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The ratios infer ÷ nuts-rs of ESS per gradient and per second, for the closing summary.
struct Ratios {
    per_grad: f64,
    per_sec: f64,
}

/// Runs both samplers with every strategy over the seeds on fresh instances from `make` and
/// prints their rows and ratios.
fn compare<D: LogDensity>(
    name: &str,
    make: &dyn Fn() -> Result<D, Box<dyn Error>>,
    cfg: &Config,
    o: &Options,
    summary: &mut Vec<(String, Strategy, Ratios)>,
) -> Result<(), Box<dyn Error>> {
    for &strategy in &o.strategies {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for seed in 0..o.seeds {
            // the draws do not depend on the repeat: each repeat only times the same chain
            // again, and the fastest wall time is kept (the machine's load only adds time)
            let mut a = run_infer(make()?, cfg, strategy, seed)?;
            let mut b = run_nutsrs(make()?, make()?, cfg, strategy, seed, &a.init)?;
            for _ in 1..o.repeat {
                a.wall = a.wall.min(run_infer(make()?, cfg, strategy, seed)?.wall);
                b.wall = b
                    .wall
                    .min(run_nutsrs(make()?, make()?, cfg, strategy, seed, &a.init)?.wall);
            }
            ours.push(a);
            theirs.push(b);
        }
        let med = |runs: &[Run], f: &dyn Fn(&Run) -> f64| median(runs.iter().map(f).collect());
        let figures = |runs: &[Run]| {
            [
                med(runs, &|r| r.grads as f64),
                med(runs, &Run::ess_per_grad),
                med(runs, &Run::ess_per_sec),
                med(runs, &|r| r.step_size),
                med(runs, &|r| r.leapfrogs_per_draw(cfg.draws)),
            ]
        };
        let (fa, fb) = (figures(&ours), figures(&theirs));
        for (engine, f, runs) in [("infer", fa, &ours), ("nuts-rs", fb, &theirs)] {
            println!(
                "{name:<38} {:<7} {engine:<8} {:>9.0} {:>9.4} {:>9.0} {:>7.3} {:>7.1} {:>4}",
                strategy.label(),
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                runs.iter().map(|r| r.divergent).sum::<usize>(),
            );
        }
        println!(
            "{name:<38} {:<7} {:<8} {:>9.2} {:>9.2} {:>9.2} {:>7.2} {:>7.2}",
            strategy.label(),
            "ratio",
            fa[0] / fb[0],
            fa[1] / fb[1],
            fa[2] / fb[2],
            fa[3] / fb[3],
            fa[4] / fb[4],
        );
        summary.push((
            name.to_owned(),
            strategy,
            Ratios {
                per_grad: fa[1] / fb[1],
                per_sec: fa[2] / fb[2],
            },
        ));
    }
    Ok(())
}

fn bench_data(name: &str) -> Result<Value, Box<dyn Error>> {
    read_json(&root().join("tests/data/bench").join(name))
}

fn rows(v: &Value) -> Result<Vec<Vec<f64>>, Box<dyn Error>> {
    Ok(serde_json::from_value(v.clone())?)
}

fn run_bench(
    o: &Options,
    summary: &mut Vec<(String, Strategy, Ratios)>,
) -> Result<(), Box<dyn Error>> {
    let cfg = Config {
        warmup: o.warmup,
        draws: o.draws,
        target_accept: 0.8,
        max_depth: 10,
        nutsrs: o.tweaks,
    };
    let corr = CorrGauss::from_rows(&rows(&bench_data("corr_gauss.json")?["cov"])?)?;
    let lr = bench_data("logreg.json")?;
    let logreg = LogReg::from_rows(&rows(&lr["x"])?, serde_json::from_value(lr["y"].clone())?)?;
    let es = bench_data("eight_schools.json")?;
    let schools = EightSchools::new(
        serde_json::from_value(es["y"].clone())?,
        serde_json::from_value(es["sigma"].clone())?,
    )?;
    let wanted = |n: &str| o.names.is_empty() || o.names.iter().any(|x| x == n);
    if wanted("gauss100") {
        compare("gauss100", &|| Ok(Gauss::new(100)), &cfg, o, summary)?;
    }
    if wanted("corr_gauss") {
        compare("corr_gauss", &|| Ok(corr.clone()), &cfg, o, summary)?;
    }
    if wanted("logreg") {
        compare("logreg", &|| Ok(logreg.clone()), &cfg, o, summary)?;
    }
    if wanted("eight_schools") {
        compare("eight_schools", &|| Ok(schools.clone()), &cfg, o, summary)?;
    }
    Ok(())
}

fn run_posteriordb(
    o: &Options,
    summary: &mut Vec<(String, Strategy, Ratios)>,
) -> Result<(), Box<dyn Error>> {
    let dir = root().join("tests/data/posteriordb");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("info.json").is_file())
        .collect();
    folders.sort();
    for folder in folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        if !o.names.is_empty() && !o.names.contains(&name) {
            continue;
        }
        let info = read_json(&folder.join("info.json"))?;
        let model_name = info["model_name"]
            .as_str()
            .ok_or_else(|| format!("{}: info.json has no model_name", folder.display()))?;
        let data = StanData::from_path(folder.join("data.json"))?;
        let Some(built) = models::build(model_name, &data) else {
            println!("{name:<38} unsupported (model {model_name} is not implemented)");
            continue;
        };
        let built = built?;
        let cfg = Config {
            warmup: o.warmup,
            draws: o.draws,
            target_accept: info["adapt_delta"].as_f64().unwrap_or(0.8),
            max_depth: info["max_treedepth"]
                .as_u64()
                .map_or(10, |d| usize::try_from(d).unwrap_or(10)),
            nutsrs: o.tweaks,
        };
        // a sampler's error on one posterior is reported and the others still run
        if let Err(e) = compare(&name, &|| Ok(TapeModel::new(&*built)?), &cfg, o, summary) {
            println!("{name:<38} error: {e}");
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let o = options()?;
    println!(
        "infer vs nuts-rs 0.19.1: one chain, {} warmup + {} draws; medians over seeds 0..{}",
        o.warmup, o.draws, o.seeds
    );
    println!(
        "{:<38} {:<7} {:<8} {:>9} {:>9} {:>9} {:>7} {:>7} {:>4}",
        "model", "adapt", "sampler", "grads", "ESS/grad", "ESS/s", "step", "lf/draw", "div"
    );
    let mut summary = Vec::new();
    if o.bench {
        run_bench(&o, &mut summary)?;
    }
    if o.posteriordb {
        run_posteriordb(&o, &mut summary)?;
    }
    for &strategy in &o.strategies {
        let picked: Vec<&Ratios> = summary
            .iter()
            .filter(|(_, s, _)| *s == strategy)
            .map(|(_, _, r)| r)
            .collect();
        if picked.is_empty() {
            continue;
        }
        let geo = |f: fn(&Ratios) -> f64| {
            (picked.iter().map(|r| f(r).ln()).sum::<f64>() / picked.len() as f64).exp()
        };
        let behind = |f: fn(&Ratios) -> f64| picked.iter().filter(|r| f(r) < 1.0).count();
        println!(
            "{}: {} models; geometric mean infer ÷ nuts-rs: ESS/grad {:.2} (below 1 on {}), ESS/s {:.2} (below 1 on {})",
            strategy.label(),
            picked.len(),
            geo(|r| r.per_grad),
            behind(|r| r.per_grad),
            geo(|r| r.per_sec),
            behind(|r| r.per_sec),
        );
    }
    Ok(())
}
