//! The warmup strategies side by side on the four benchmark models (hand-written gradients of
//! `infer_mcmc::models`): Stan's windowed diagonal (`stan`, 1000 warmup draws), nutpie's
//! Fisher diagonal (`fisher`, 400) and its diagonal plus low rank (`lowrank`, 400 by default).
//!
//! One chain, 1000 sampling draws, target acceptance 0.8, seeds 0..N. Per model and strategy,
//! medians over the seeds of: total gradient evaluations (warmup + sampling), the minimum
//! bulk ESS over the parameters per sampling gradient, that ESS per second of total wall time
//! (warmup + sampling), and the ESS per gradient as a ratio to Stan's median; then the wall
//! time and the number of low-rank directions of the final metric.
//!
//! Run: `cargo run --release --example adaptation_benchmark -- [--seeds N] [--only MODEL]
//! [--lowrank-warmup W] [--fisher-warmup W] [--repeat R] [--strategy NAME]`. With `--repeat R` each run is
//! repeated R times and its wall time is the fastest of them (the draws are the same; the
//! machine's noise only ever adds time).

#[path = "common/bench.rs"]
mod bench;

use bench::{data, min_ess_bulk};
use infer::mcmc::models::{CorrGauss, EightSchools, Gauss, LogReg};
use infer::mcmc::settings::Adaptation;
use infer::mcmc::{LogDensity, Sampler, SamplerSettings};
use serde_json::Value;
use std::error::Error;
use std::time::Instant;

fn rows(v: &Value) -> Result<Vec<Vec<f64>>, Box<dyn Error>> {
    Ok(serde_json::from_value(v.clone())?)
}

/// One run's figures.
struct Run {
    wall: f64,
    grads: u64,
    ess_per_grad: f64,
    ess_per_sec: f64,
    rank: usize,
}

fn run<M: LogDensity>(
    model: &mut M,
    adaptation: Adaptation,
    num_warmup: usize,
    seed: u64,
    repeat: usize,
) -> Result<Run, Box<dyn Error>> {
    let sampler = Sampler::new(SamplerSettings {
        num_chains: 1,
        num_warmup,
        adaptation,
        seed,
        ..SamplerSettings::default()
    })?;
    let mut wall = f64::INFINITY;
    let mut chain = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        chain = Some(sampler.sample_chain(0, model)?);
        wall = wall.min(start.elapsed().as_secs_f64());
    }
    let chain = chain.ok_or("no run")?;
    let min_ess = min_ess_bulk(&chain.draws)?;
    Ok(Run {
        wall,
        grads: chain.gradient_evals(),
        ess_per_grad: min_ess / chain.sampling_gradient_evals as f64,
        ess_per_sec: min_ess / wall,
        rank: chain
            .metric
            .low_rank_factors()
            .map_or(0, |f| f.eigenvalues.len()),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| bench::flag(&args, name);
    let seeds: u64 = flag("--seeds").map_or(Ok(10), |s| s.parse())?;
    let only = flag("--only").cloned();
    let lowrank_warmup: usize = flag("--lowrank-warmup").map_or(Ok(400), |s| s.parse())?;
    let fisher_warmup: usize = flag("--fisher-warmup").map_or(Ok(400), |s| s.parse())?;
    let repeat: usize = flag("--repeat").map_or(Ok(1), |s| s.parse())?;
    let strategy = flag("--strategy").cloned();

    let corr = CorrGauss::from_rows(&rows(&data("corr_gauss.json")?["cov"])?)?;
    let lr = data("logreg.json")?;
    let logreg = LogReg::from_rows(&rows(&lr["x"])?, serde_json::from_value(lr["y"].clone())?)?;
    let es = data("eight_schools.json")?;
    let schools = EightSchools::new(
        serde_json::from_value(es["y"].clone())?,
        serde_json::from_value(es["sigma"].clone())?,
    )?;

    println!("one chain, 1000 draws, target 0.8; medians over {seeds} seeds (0..{seeds})");
    println!(
        "{:<14} {:<8} {:>6} {:>9} {:>9} {:>8} {:>9} {:>8} {:>5}",
        "model", "strategy", "warmup", "grads", "ESS/grad", "÷ stan", "ESS/s", "wall s", "rank"
    );
    let strategies = [
        ("stan", Adaptation::Stan, 1000),
        ("fisher", Adaptation::FisherDiagonal, fisher_warmup),
        ("lowrank", Adaptation::FisherLowRank, lowrank_warmup),
    ];
    for name in ["gauss100", "corr_gauss", "logreg", "eight_schools"] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut stan_eg = f64::NAN;
        for (label, adaptation, warmup) in strategies {
            if strategy.as_deref().is_some_and(|s| s != label) {
                continue;
            }
            let mut runs = Vec::new();
            for seed in 0..seeds {
                runs.push(match name {
                    "gauss100" => run(&mut Gauss::new(100), adaptation, warmup, seed, repeat)?,
                    "corr_gauss" => run(&mut corr.clone(), adaptation, warmup, seed, repeat)?,
                    "logreg" => run(&mut logreg.clone(), adaptation, warmup, seed, repeat)?,
                    _ => run(&mut schools.clone(), adaptation, warmup, seed, repeat)?,
                });
            }
            let med = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
            let eg = med(|r| r.ess_per_grad);
            if adaptation == Adaptation::Stan {
                stan_eg = eg;
            }
            println!(
                "{name:<14} {label:<8} {warmup:>6} {:>9.0} {eg:>9.4} {:>8.2} {:>9.0} {:>8.4} {:>5.0}",
                med(|r| r.grads as f64),
                eg / stan_eg,
                med(|r| r.ess_per_sec),
                med(|r| r.wall),
                med(|r| r.rank as f64),
            );
        }
    }
    Ok(())
}
