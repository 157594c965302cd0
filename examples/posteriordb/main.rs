//! Samples posteriordb posteriors and compares every reference quantity.
//!
//! ```text
//! cargo run --release --example posteriordb -- [--dir DIR] [--chains N] [--draws D]
//!     [--warmup W] [--adaptation stan|fisher|lowrank]
//!     [--init random|pathfinder|pathfinder-metric] [--seed S] [--csv PREFIX] [--min-ess E]
//!     [--method nuts|advi-meanfield|advi-fullrank|pathfinder|pathfinder-multi|laplace]
//!     [NAME ...]
//! ```
//!
//! `DIR` (default: the repository's `tests/data/posteriordb`) holds one folder per posterior
//! in posteriordb's layout (`info.json`, `model.stan`, `data.json`, `reference.json`; see the
//! README there); `NAME`s select folders (default: all). The model is found by the folder's
//! `model_name` (`models/`), so any folder of this layout whose model is implemented runs; the
//! others are reported as unsupported. Each posterior is sampled with the reference run's
//! `adapt_delta` and `max_treedepth`, `N` chains (default 4) × `W` warmup (default: the strategy's, 1000 for Stan's, 400 for
//! nutpie's) +
//! `D` draws (default 1000), with Stan's warmup, nutpie's gradient-informed diagonal
//! (`--adaptation fisher`) or its diagonal plus low rank (`--adaptation lowrank`), and every
//! reference quantity (parameters and transformed parameters, Stan's names) is compared:
//!
//! - mean: z = |mean − ref_mean| / √(mcse² + ref_sd²/ref_ess_bulk) ≤ 4, when the draws'
//!   Pareto k̂ < ½;
//! - sd: z_sd = |sd − ref_sd| / √(mcse_sd² + ref_sd²/(2 ref_ess_bulk)) ≤ 4, with the MCSE of
//!   the sd as ArviZ's `mcse(method="sd")` and the reference's by the normal approximation,
//!   when the draws' Pareto k̂ < ¼;
//! - rank-normalized split R-hat ≤ 1.01; a quantity missing from the fit fails.
//!
//! One row per posterior: verdict, number of reference quantities, wall time, gradient
//! evaluations (warmup and sampling, all chains), the smallest bulk ESS of the reference
//! quantities and that ESS per gradient, max |z| of the means and of the sds and the range of
//! sd ÷ reference sd (of the compared quantities), max R-hat, the divergent transitions (of
//! sampling, and in parentheses of warmup, counted by an observer of the sampler, so the draws
//! are those of a run without it) and the largest Pareto k̂; then one line per failing or
//! heavy-tailed quantity, and last `posteriordb: N passed, M failed, K unsupported`. With
//! `--csv PREFIX` each posterior's chains are also written as CmdStan CSV files
//! `PREFIX<name>_<chain>.csv`.
//!
//! **Approximations.** With `--method` other than `nuts` (the default) each posterior is
//! approximated instead — single-path Pathfinder, multi-path Pathfinder (4 paths, PSIS
//! resampling) or Laplace (at the mode of the unconstrained density, Jacobian included), all
//! with CmdStan's defaults and the `--seed` — and one line per posterior gives the gradient
//! evaluations, the wall time, max |mean − ref_mean| / ref_sd over the reference quantities,
//! the range of sd ÷ reference sd, and the Pareto k̂ (of the resampling weights for
//! multi-path, of the draws' importance ratios log p − log q otherwise), then the quantities
//! more than 0.3 reference sds off; the last line is
//! `posteriordb approx: N within 0.3 sd, M not, K unsupported`. The ADVI methods are
//! unsupported until ADVI lands. A method that fails on a posterior (its error printed) counts
//! as not within. The exit status is 1 only for errors of the runner (unreadable files, data
//! the model rejects), not for approximations that are off or failed. With `--csv PREFIX` the draws
//! are written to `PREFIX<name>_<method>.csv` (CmdStan's Pathfinder/Laplace layout).
//! `--init pathfinder` starts the NUTS chains from multi-path Pathfinder draws;
//! `--init pathfinder-metric` also starts their warmup from the variances of those draws as
//! the inverse metric (`InitStrategy::PathfinderMetric`).
//!
//! **Heavy tails.** Both Monte Carlo errors are moment-based: the MCSE of a mean needs a
//! finite variance, that of an sd (the error of a variance) a finite fourth moment. The
//! Pareto k̂ of the draws (`diagnostics::pareto_khat`, as the R package `posterior` defines it:
//! a generalized Pareto fit to each tail, 1/k̂ moments finite; Vehtari et al. 2024) tells
//! which hold. Where k̂ ≥ ¼ the sd is not compared, where k̂ ≥ ½ neither is the mean: the
//! error bars would be too small and the comparison a lottery (`K_m`, `V_m` of
//! one_comp_mm_elim_abs: along the ridge V_m ∝ K_m the two half-Cauchy priors leave a tail
//! ∝ x⁻³, whose variance diverges; 4000 draws gave sd ÷ reference 0.57 on one seed and
//! 1.01–1.16 with 10,000 draws per chain). Such quantities are listed under their posterior's
//! row with their k̂, and the row's maxima of |z| and |z_sd| cover the compared ones only.
//!
//! **False failures.** For a correct sampler each z is approximately |N(0, 1)|, so one
//! comparison exceeds 4 with probability 6.3e-5. The twenty posteriors here have 143 reference
//! quantities, 286 comparisons of mean and sd: a correct sampler fails one of them in about
//! 1.8 % of full runs (1 − (1 − 6.3e-5)^286). R-hat's own noise depends on the ESS, not on
//! the number of draws: with m = 8 split chains, split R̂² ≈ 1 − 1/n + (m/ESS)·χ²ₘ₋₁/(m − 1)
//! for a stationary chain (n draws per split chain, ESS over all chains), so a correct
//! sampler exceeds 1.01 on a quantity with bulk ESS 440 about 30 % of the time, with ESS 1000
//! about 1 %, with ESS 2000 practically never (checked by simulation: 4 stationary AR(1) chains
//! of 1000 draws, ArviZ's rank-normalized R-hat, 1000 runs each: 33 % at a median ESS of 452,
//! 0.7 % at 1013, none at 2026). Stan's warmup gives every posterior here a min
//! ESS of 600–4000 in 4 × 1000 draws; a strategy that takes many fewer gradients per draw but
//! gives fewer effective draws per draw (the low-rank metric on gp_pois_regr: ≈ 0.1) fails the
//! R-hat check by this noise alone. `--min-ess E` continues the chains (100 draws per chain at
//! a time, `Sampler::sample_model_until`, at most 10 000 per chain) until every parameter's
//! bulk and tail ESS reach `E`; R-hat is not a stopping target, so it stays a check (the rule
//! picks the length from the draws, which favours a pass only through the weak dependence of
//! R-hat on the ESS estimate). The row then shows the draws per chain. The exit status is 1
//! when any posterior fails.

mod approx;
mod models;
mod runner;

use infer::mcmc::approx::{Method, PathfinderSettings};
use infer::mcmc::{Adaptation, InitStrategy, SamplerSettings};
use std::error::Error;
use std::path::{Path, PathBuf};

struct Options {
    dir: PathBuf,
    chains: usize,
    draws: usize,
    seed: u64,
    /// `None`: the strategy's own warmup length (`Adaptation::default_num_warmup`).
    warmup: Option<usize>,
    adaptation: Adaptation,
    init: InitStrategy,
    /// `None` for NUTS.
    method: Option<Method>,
    csv: Option<String>,
    /// `--min-ess`: continue the chains until every parameter's bulk and tail ESS reach it.
    min_ess: Option<f64>,
    names: Vec<String>,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut o = Options {
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/posteriordb"),
        chains: 4,
        draws: 1000,
        seed: 20261203,
        warmup: None,
        adaptation: Adaptation::Stan,
        init: InitStrategy::Random,
        method: None,
        csv: None,
        min_ess: None,
        names: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--dir" => o.dir = PathBuf::from(value("--dir")?),
            "--chains" => o.chains = value("--chains")?.parse()?,
            "--seed" => o.seed = value("--seed")?.parse()?,
            "--draws" => o.draws = value("--draws")?.parse()?,
            "--warmup" => o.warmup = Some(value("--warmup")?.parse()?),
            "--adaptation" => {
                o.adaptation = match value("--adaptation")?.as_str() {
                    "stan" => Adaptation::Stan,
                    "fisher" => Adaptation::FisherDiagonal,
                    "lowrank" => Adaptation::FisherLowRank,
                    other => {
                        return Err(
                            format!("unknown adaptation {other} (stan, fisher, lowrank)").into(),
                        );
                    }
                }
            }
            "--init" => {
                o.init = match value("--init")?.as_str() {
                    "random" => InitStrategy::Random,
                    "pathfinder" => InitStrategy::Pathfinder(PathfinderSettings::default()),
                    "pathfinder-metric" => {
                        InitStrategy::PathfinderMetric(PathfinderSettings::default())
                    }
                    other => {
                        return Err(format!(
                            "unknown init {other} (random, pathfinder, pathfinder-metric)"
                        )
                        .into());
                    }
                }
            }
            "--method" => {
                let m = value("--method")?;
                o.method = match m.as_str() {
                    "nuts" => None,
                    other => Some(approx::parse_method(other).ok_or_else(|| {
                        format!(
                            "unknown method {other} (nuts, advi-meanfield, advi-fullrank, pathfinder, pathfinder-multi, laplace)"
                        )
                    })?),
                }
            }
            "--csv" => o.csv = Some(value("--csv")?),
            "--min-ess" => o.min_ess = Some(value("--min-ess")?.parse()?),
            "-h" | "--help" => {
                println!(
                    "usage: posteriordb [--dir DIR] [--chains N] [--draws D] [--warmup W] [--adaptation stan|fisher|lowrank] [--init random|pathfinder|pathfinder-metric] [--seed S] [--csv PREFIX] [--min-ess E] [--method nuts|advi-meanfield|advi-fullrank|pathfinder|pathfinder-multi|laplace] [NAME ...]"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            name => o.names.push(name.to_owned()),
        }
    }
    Ok(o)
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
    if let Some(method) = o.method {
        return run_approximations(&folders, method, &o);
    }
    let (mut passed, mut failed, mut unsupported) = (0, 0, 0);
    for folder in &folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        let base = SamplerSettings {
            num_chains: o.chains,
            num_warmup: o.warmup.unwrap_or(o.adaptation.default_num_warmup()),
            num_samples: o.draws,
            seed: o.seed,
            adaptation: o.adaptation,
            init: o.init,
            ..SamplerSettings::default()
        };
        match runner::run(folder, &base, o.csv.as_deref(), o.min_ess) {
            Ok(outcome) => {
                match &outcome {
                    runner::Outcome::Unsupported(_) => unsupported += 1,
                    _ if outcome.passed() => passed += 1,
                    _ => failed += 1,
                }
                println!("{}", outcome.line(&name));
                for d in outcome.details() {
                    println!("{d}");
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

/// `--method` other than `nuts`: approximates every posterior and prints the comparison;
/// exits with 1 only when a posterior could not be approximated.
fn run_approximations(
    folders: &[PathBuf],
    method: Method,
    o: &Options,
) -> Result<(), Box<dyn Error>> {
    let (mut within, mut not, mut unsupported, mut errors) = (0, 0, 0, 0);
    for folder in folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        match approx::run(folder, method, o.seed, o.csv.as_deref()) {
            Ok(outcome) => {
                match &outcome {
                    approx::ApproxOutcome::Unsupported(_) => unsupported += 1,
                    _ if outcome.within() => within += 1,
                    _ => not += 1,
                }
                println!("{}", outcome.line(&name, method));
                for d in outcome.details() {
                    println!("{d}");
                }
            }
            Err(e) => {
                errors += 1;
                not += 1;
                println!("{name:<45} {method} ERROR: {e}");
            }
        }
    }
    println!(
        "posteriordb approx: {within} within {} sd, {not} not, {unsupported} unsupported",
        approx::WITHIN_SD
    );
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
