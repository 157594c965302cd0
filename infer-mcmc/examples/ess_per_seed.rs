//! Per-seed ESS-per-gradient figures on the benchmark models (Stan's figures in BENCHMARKS.md), for our sampler or
//! for Stan CSV files, with the same estimator, so that the two can be compared over many
//! seeds rather than one run.
//!
//! ```text
//! cargo run -p infer-mcmc --release --example ess_per_seed -- [--model M] --seeds N [--start S]
//! cargo run -p infer-mcmc --release --example ess_per_seed -- --csv FILE...
//! ```
//!
//! `--model` is `gauss100` (the default), `corr_gauss`, `logreg` or `eight_schools`: the
//! hand-written models of `infer_mcmc::models`, built from `tests/data/bench/` as in the root
//! `examples/nuts_benchmark.rs` (eight_schools records `mu`, `tau`, `eta[1..8]`, the parameter
//! set of Stan's output). The first form runs one chain per seed (1000 warmup + 1000 draws, diagonal metric, target
//! acceptance 0.8, the defaults); the second reads one chain per Stan CSV file (CmdStan's
//! format, or a bare header plus rows with the `lp__`, `accept_stat__`, `stepsize__`,
//! `treedepth__`, `n_leapfrog__` columns and then the parameters). Both print one line per run
//! — minimum and mean bulk ESS over the parameters ([`ess_bulk`]), leapfrog steps in the
//! sampling iterations, minimum bulk ESS per leapfrog step, step size, mean acceptance
//! statistic, divergences, tree-depth histogram (depths 1–5) — then the means with their
//! standard errors and the median and 10th/90th percentiles of ESS per gradient.

use std::error::Error;
use std::io::BufReader;

use infer_mcmc::csv::read_csv;
use infer_mcmc::diagnostics::ess_bulk;
use infer_mcmc::models::{CorrGauss, EightSchools, Gauss, LogReg};
use infer_mcmc::{LogDensity, Sampler, SamplerSettings};
use ndarray::{Array2, Axis};
use serde_json::Value;

/// The figures of one run.
struct Run {
    label: String,
    min_ess: f64,
    mean_ess: f64,
    n_leapfrog: f64,
    step_size: f64,
    accept: f64,
    divergent: f64,
    depths: [usize; 6],
}

/// Builds a [`Run`] from the draws (rows × parameters) and the per-draw sampler statistics.
fn summarize(
    label: String,
    draws: &Array2<f64>,
    n_leapfrog: &[f64],
    accept: &[f64],
    depth: &[f64],
    divergent: &[f64],
    step_size: f64,
) -> Result<Run, Box<dyn Error>> {
    let mut min_ess = f64::INFINITY;
    let mut sum_ess = 0.0;
    for col in draws.columns() {
        let e = ess_bulk(col.insert_axis(Axis(0)))?;
        min_ess = min_ess.min(e);
        sum_ess += e;
    }
    let mut depths = [0usize; 6];
    for &d in depth {
        depths[(d as usize).min(5)] += 1;
    }
    Ok(Run {
        label,
        min_ess,
        mean_ess: sum_ess / draws.ncols() as f64,
        n_leapfrog: n_leapfrog.iter().sum(),
        step_size,
        accept: accept.iter().sum::<f64>() / accept.len() as f64,
        divergent: divergent.iter().sum(),
        depths,
    })
}

/// A benchmark data file from the workspace's `tests/data/bench/`.
fn data(name: &str) -> Result<Value, Box<dyn Error>> {
    let path = format!("{}/../tests/data/bench/{name}", env!("CARGO_MANIFEST_DIR"));
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// The rows of a JSON matrix.
fn rows(v: &Value) -> Result<Vec<Vec<f64>>, Box<dyn Error>> {
    Ok(serde_json::from_value(v.clone())?)
}

/// The hand-written model called `name`, built from the benchmark data.
fn model(name: &str) -> Result<Box<dyn LogDensity>, Box<dyn Error>> {
    Ok(match name {
        "gauss100" => Box::new(Gauss::new(100)),
        "corr_gauss" => Box::new(CorrGauss::from_rows(&rows(
            &data("corr_gauss.json")?["cov"],
        )?)?),
        "logreg" => {
            let lr = data("logreg.json")?;
            Box::new(LogReg::from_rows(
                &rows(&lr["x"])?,
                serde_json::from_value(lr["y"].clone())?,
            )?)
        }
        "eight_schools" => {
            let es = data("eight_schools.json")?;
            Box::new(EightSchools::new(
                serde_json::from_value(es["y"].clone())?,
                serde_json::from_value(es["sigma"].clone())?,
            )?)
        }
        _ => return Err(format!("unknown model {name}").into()),
    })
}

/// Runs our sampler on `model` with `seed`.
fn ours(model: &mut dyn LogDensity, seed: u64) -> Result<Run, Box<dyn Error>> {
    let settings = SamplerSettings {
        num_chains: 1,
        seed,
        ..SamplerSettings::default()
    };
    let chain = Sampler::new(settings)?.sample_chain(0, model)?;
    let stat = |f: fn(&infer_mcmc::DrawStats) -> f64| chain.stats.iter().map(f).collect::<Vec<_>>();
    summarize(
        format!("seed {seed}"),
        &chain.draws,
        &stat(|s| s.n_leapfrog as f64),
        &stat(|s| s.accept_stat),
        &stat(|s| s.tree_depth as f64),
        &stat(|s| f64::from(u8::from(s.divergent))),
        chain.step_size,
    )
}

/// Reads one Stan CSV file.
fn stan(path: &str) -> Result<Run, Box<dyn Error>> {
    let csv = read_csv(BufReader::new(std::fs::File::open(path)?))?;
    let col = |name: &str| -> Result<Vec<f64>, Box<dyn Error>> {
        let j = csv
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("{path}: no column {name}"))?;
        Ok(csv.draws.iter().map(|r| r[j]).collect())
    };
    let params: Vec<usize> = (0..csv.columns.len())
        .filter(|&j| !csv.columns[j].ends_with("__"))
        .collect();
    let draws = Array2::from_shape_fn((csv.draws.len(), params.len()), |(i, k)| {
        csv.draws[i][params[k]]
    });
    let step_size = col("stepsize__")?.first().copied().unwrap_or(f64::NAN);
    let divergent = col("divergent__").unwrap_or_default();
    summarize(
        path.to_owned(),
        &draws,
        &col("n_leapfrog__")?,
        &col("accept_stat__")?,
        &col("treedepth__")?,
        &divergent,
        step_size,
    )
}

/// Mean and standard error of the mean.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

/// The `q`-quantile of `v` (linear interpolation between order statistics, NumPy's default).
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let h = q * (s.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let runs: Vec<Run> = if let Some(i) = args.iter().position(|a| a == "--csv") {
        args[i + 1..]
            .iter()
            .map(|p| stan(p))
            .collect::<Result<_, _>>()?
    } else {
        let n: u64 = value("--seeds").map_or(Ok(20), |s| s.parse())?;
        let start: u64 = value("--start").map_or(Ok(0), |s| s.parse())?;
        let mut m = model(value("--model").map_or("gauss100", String::as_str))?;
        (start..start + n)
            .map(|seed| ours(m.as_mut(), seed))
            .collect::<Result<_, _>>()?
    };
    println!("run  min_ess  mean_ess  n_leapfrog  ess/grad  step  accept  div  depth[1..=5]");
    for r in &runs {
        println!(
            "{}  {:.1}  {:.1}  {}  {:.4}  {:.4}  {:.4}  {}  {:?}",
            r.label,
            r.min_ess,
            r.mean_ess,
            r.n_leapfrog,
            r.min_ess / r.n_leapfrog,
            r.step_size,
            r.accept,
            r.divergent,
            &r.depths[1..]
        );
    }
    let field = |f: fn(&Run) -> f64| mean_se(&runs.iter().map(f).collect::<Vec<_>>());
    let show = |name: &str, (m, se): (f64, f64)| println!("{name}: {m:.4} ± {se:.4}");
    println!("{} runs, mean ± standard error:", runs.len());
    show("ess/grad", field(|r| r.min_ess / r.n_leapfrog));
    show("min ess", field(|r| r.min_ess));
    show("n_leapfrog", field(|r| r.n_leapfrog));
    show("step size", field(|r| r.step_size));
    show("accept", field(|r| r.accept));
    show("divergent", field(|r| r.divergent));
    let eg: Vec<f64> = runs.iter().map(|r| r.min_ess / r.n_leapfrog).collect();
    println!(
        "ess/grad median {:.4}, 10th percentile {:.4}, 90th percentile {:.4}",
        quantile(&eg, 0.5),
        quantile(&eg, 0.1),
        quantile(&eg, 0.9)
    );
    Ok(())
}
