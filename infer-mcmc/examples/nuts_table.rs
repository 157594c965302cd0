//! Benchmark table: one chain, 1000 warmup + 1000 draws, NUTS with a diagonal metric and
//! target acceptance 0.8, on the four benchmark models, next to Stan's figures (BENCHMARKS.md).
//!
//! ```text
//! cargo run -p infer-mcmc --release --example nuts_table -- [--seeds N] [--model NAME] [--progress]
//! ```
//!
//! `--progress` draws a live progress bar of each run on stderr ([`ProgressBars`]); its
//! drawing time is then part of the wall times.
//!
//! For each model and seed: wall time of warmup + sampling, leapfrog steps (gradient
//! evaluations) in the 1000 sampling iterations, the minimum bulk ESS over the parameters
//! and that minimum per gradient. The averages over the seeds are printed with Stan's anchors.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use infer_mcmc::diagnostics::ess_bulk;
use infer_mcmc::models::{CorrGauss, EightSchools, Gauss, LogReg};
use infer_mcmc::{LogDensity, ProgressBars, Sampler, SamplerSettings};
use serde_json::Value;

fn data(name: &str) -> Result<Value, Box<dyn Error>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/bench")
        .join(name);
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_f64).collect())
}

fn rows_f64(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .map_or_else(Vec::new, |a| a.iter().map(vec_f64).collect())
}

struct Row {
    wall: f64,
    n_leapfrog: usize,
    min_ess: f64,
    divergent: usize,
    step_size: f64,
    accept: f64,
}

fn run<M: LogDensity>(model: &mut M, seed: u64, progress: bool) -> Result<Row, Box<dyn Error>> {
    let settings = SamplerSettings {
        num_chains: 1,
        seed,
        ..SamplerSettings::default()
    };
    let sampler = Sampler::new(settings)?;
    let start = Instant::now();
    let chain = if progress {
        sampler
            .with_observer(ProgressBars::for_settings(&settings)?)
            .sample_chain(0, model)?
    } else {
        sampler.sample_chain(0, model)?
    };
    let wall = start.elapsed().as_secs_f64();
    let mut min_ess = f64::INFINITY;
    for j in 0..chain.draws.ncols() {
        let col = chain
            .draws
            .column(j)
            .insert_axis(ndarray::Axis(0))
            .to_owned();
        min_ess = min_ess.min(ess_bulk(col.view())?);
    }
    Ok(Row {
        wall,
        n_leapfrog: chain.num_leapfrog(),
        min_ess,
        divergent: chain.num_divergent(),
        step_size: chain.step_size,
        accept: chain.stats.iter().map(|s| s.accept_stat).sum::<f64>() / chain.stats.len() as f64,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n_seeds: u64 = args
        .iter()
        .position(|a| a == "--seeds")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(5), |s| s.parse())?;
    let only = args
        .iter()
        .position(|a| a == "--model")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let progress = args.iter().any(|a| a == "--progress");

    let cg = data("corr_gauss.json")?;
    let lr = data("logreg.json")?;
    let es = data("eight_schools.json")?;
    let corr = CorrGauss::from_rows(&rows_f64(&cg["cov"]))?;
    let logreg = LogReg::from_rows(&rows_f64(&lr["x"]), vec_f64(&lr["y"]))?;
    let schools = EightSchools::new(vec_f64(&es["y"]), vec_f64(&es["sigma"]))?;

    // (name, Stan ESS/grad, Stan wall s)
    let anchors = [
        ("gauss100", 0.125, 0.49),
        ("corr_gauss", 0.023, 1.24),
        ("logreg", 0.203, 0.90),
        ("eight_schools", 0.051, 0.14),
    ];
    println!(
        "one chain, 1000 warmup + 1000 draws, diag metric, target 0.8; mean over {n_seeds} seeds (min..max)"
    );
    println!(
        "{:<14} {:>9} {:>9} {:>7} {:>10} {:>9} {:>16} {:>9} {:>7} {:>5}",
        "model",
        "wall s",
        "Stan s",
        "ratio",
        "leapfrog",
        "min ESS",
        "ESS/grad",
        "Stan",
        "ratio",
        "div"
    );
    for (name, stan_eg, stan_wall) in anchors {
        if only.as_deref().is_some_and(|m| m != name) {
            continue;
        }
        let mut rows = Vec::new();
        for seed in 0..n_seeds {
            let row = match name {
                "gauss100" => run(&mut Gauss::new(100), seed, progress)?,
                "corr_gauss" => run(&mut corr.clone(), seed, progress)?,
                "logreg" => run(&mut logreg.clone(), seed, progress)?,
                _ => run(&mut schools.clone(), seed, progress)?,
            };
            rows.push(row);
        }
        let k = rows.len() as f64;
        let wall = rows.iter().map(|r| r.wall).sum::<f64>() / k;
        let lf = rows.iter().map(|r| r.n_leapfrog as f64).sum::<f64>() / k;
        let ess = rows.iter().map(|r| r.min_ess).sum::<f64>() / k;
        let eg: Vec<f64> = rows
            .iter()
            .map(|r| r.min_ess / r.n_leapfrog as f64)
            .collect();
        let eg_mean = eg.iter().sum::<f64>() / k;
        let eg_min = eg.iter().copied().fold(f64::INFINITY, f64::min);
        let eg_max = eg.iter().copied().fold(0.0, f64::max);
        let div: usize = rows.iter().map(|r| r.divergent).sum();
        let eps = rows.iter().map(|r| r.step_size).sum::<f64>() / k;
        let accept = rows.iter().map(|r| r.accept).sum::<f64>() / k;
        println!(
            "{name:<14} {wall:>9.4} {stan_wall:>9.2} {:>7.3} {lf:>10.0} {ess:>9.0} {eg_mean:>6.3} ({eg_min:.3}..{eg_max:.3}) {stan_eg:>9.3} {:>7.2} {div:>5}   eps {eps:.3} accept {accept:.3}",
            wall / stan_wall,
            eg_mean / stan_eg
        );
    }
    Ok(())
}
