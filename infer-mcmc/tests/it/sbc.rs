//! Simulation-based calibration (Talts et al. 2018) of the sampler on a small hierarchical
//! model.
//!
//! For each of `REPLICATIONS` replications: draw (μ, τ, θ) from the prior and y from the
//! likelihood, run one chain (200 warmup iterations, then `L` = 99 draws kept out of
//! `L × THIN`), and record the rank of every true value among its `L` draws. If the sampler
//! draws from the exact posterior, each rank is uniform on {0, …, L} (the prior is the
//! average of the posteriors over prior-predictive data), so the ranks, grouped in `BINS`
//! equal bins, pass a chi-square test of uniformity.
//!
//! The calibration runs once per warmup strategy (Stan's; nutpie's Fisher diagonal; its
//! low-rank extension): the strategy must not change the posterior the chain samples.
//!
//! Every p-value must exceed `ALPHA` = 0.001. The test is deterministic (seeds derived from
//! the replication index, results independent of the number of threads); over seed choices,
//! a correct sampler fails one strategy's test with probability at most 6 × 0.001 = 0.6%
//! (Bonferroni over the six parameters; 1.8% for the three strategies together), plus the small bias of the chi-square approximation and of the residual
//! autocorrelation of the thinned draws. A deliberately under-dispersed sampler (draws shrunk
//! by 30% about their mean) must fail, so the test has power.
//!
//! Run with `cargo test -p infer-mcmc --release sbc -- --nocapture` to see the p-values.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use infer_mcmc::layout::{Block, EntrySpec, Layout};
use infer_mcmc::{Adaptation, LogDensity, LogDensityError, Sampler, SamplerSettings};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use special::Gamma;

use super::common::runs;

/// Groups of the hierarchical model.
const J: usize = 4;
/// Replications.
const REPLICATIONS: usize = 1000;
/// Draws kept per replication; ranks take L + 1 values.
const L: usize = 99;
/// Thinning of the sampling iterations (L × THIN iterations per replication).
const THIN: usize = 10;
/// Rank bins of the chi-square test; (L + 1) / BINS ranks per bin, REPLICATIONS / BINS
/// expected per bin.
const BINS: usize = 20;
/// Significance level of each uniformity test.
const ALPHA: f64 = 0.001;

/// μ ~ N(0, 1), τ ~ HalfNormal(1), ηⱼ ~ N(0, 1), θⱼ = μ + τ ηⱼ, yⱼ ~ N(θⱼ, 1), sampled on
/// (μ, log τ, η₁, …, η_J) with the log-Jacobian log τ; records μ, τ and θ.
#[derive(Clone, Debug)]
struct Hierarchical {
    y: Vec<f64>,
}

impl LogDensity for Hierarchical {
    fn dim(&self) -> usize {
        self.y.len() + 2
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let (mu, log_tau) = (x[0], x[1]);
        let tau = log_tau.exp();
        // log N(μ | 0, 1) + log HalfNormal(τ | 1) + log |dτ/d log τ|, constants dropped.
        let mut lp = -0.5 * mu * mu - 0.5 * tau * tau + log_tau;
        let (mut d_mu, mut d_tau) = (-mu, -tau);
        for (j, &y) in self.y.iter().enumerate() {
            let eta = x[2 + j];
            let r = y - mu - tau * eta;
            lp += -0.5 * eta * eta - 0.5 * r * r;
            d_mu += r;
            d_tau += r * eta;
            grad[2 + j] = -eta + r * tau;
        }
        grad[0] = d_mu;
        grad[1] = d_tau * tau + 1.0;
        Ok(lp)
    }

    fn layout(&self) -> Layout {
        let j = self.y.len();
        Layout::new(vec![
            EntrySpec::parameter("mu", &[], 1, None),
            EntrySpec::parameter("tau", &[], 1, None),
            EntrySpec::parameter("eta", &[j], j, None),
            EntrySpec::new("theta", &[j], Block::TransformedParameter),
        ])
        .expect("valid layout")
    }

    fn write_draw(
        &mut self,
        x: &[f64],
        _rng: &mut dyn rand::RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        let j = self.y.len();
        let tau = x[1].exp();
        out[..j + 2].copy_from_slice(x);
        out[1] = tau;
        for k in 0..j {
            out[j + 2 + k] = x[0] + tau * x[2 + k];
        }
        Ok(())
    }
}

/// The recorded columns whose ranks are checked: μ, τ and θ₁, …, θ_J (not the η).
fn checked_columns() -> Vec<usize> {
    [0, 1].into_iter().chain(J + 2..2 * J + 2).collect()
}

/// Draws the true values (μ, τ, θ₁, …, θ_J) from the prior and data from the likelihood.
fn simulate(rng: &mut StdRng) -> (Vec<f64>, Hierarchical) {
    let mu: f64 = rng.sample(StandardNormal);
    let tau = rng.sample::<f64, _>(StandardNormal).abs();
    let mut truth = vec![mu, tau];
    let mut y = Vec::with_capacity(J);
    for _ in 0..J {
        let theta = mu + tau * rng.sample::<f64, _>(StandardNormal);
        truth.push(theta);
        y.push(theta + rng.sample::<f64, _>(StandardNormal));
    }
    (truth, Hierarchical { y })
}

/// Chi-square survival function: P(X ≥ x) for X ~ χ²(dof) = 1 − P(dof/2, x/2), with P the
/// regularized lower incomplete gamma function.
fn chi_square_sf(x: f64, dof: usize) -> f64 {
    1.0 - (0.5 * x).inc_gamma(0.5 * dof as f64)
}

/// The p-value of the chi-square test that ranks in {0, …, L} are uniform, over `BINS` bins.
fn uniformity_p_value(ranks: &[usize]) -> (f64, [usize; BINS]) {
    let mut counts = [0usize; BINS];
    for &r in ranks {
        counts[r * BINS / (L + 1)] += 1;
    }
    let expected = ranks.len() as f64 / BINS as f64;
    let stat: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    (chi_square_sf(stat, BINS - 1), counts)
}

/// The rank of `truth` among `draws`: how many draws are below it.
fn rank(draws: impl Iterator<Item = f64>, truth: f64) -> usize {
    draws.filter(|&v| v < truth).count()
}

/// One replication's outcome.
struct Replication {
    /// Rank of every true value among its L draws.
    ranks: Vec<usize>,
    /// Rank of the true μ among the μ draws shrunk by 30% about their mean.
    shrunk_mu_rank: usize,
    divergences: usize,
}

fn replicate(r: usize, adaptation: Adaptation) -> Replication {
    let mut rng = StdRng::seed_from_u64(0x5BC0_0000 + r as u64);
    let (truth, mut model) = simulate(&mut rng);
    let settings = SamplerSettings {
        thin: THIN,
        seed: 1_000_003 * r as u64 + 7,
        adaptation,
        ..runs(1, 200, L * THIN)
    };
    let chain = Sampler::new(settings)
        .expect("valid settings")
        .sample_chain(0, &mut model)
        .unwrap_or_else(|e| panic!("replication {r}: {e}"));
    assert_eq!(chain.draws.dim(), (L, 2 * J + 2));
    let ranks = checked_columns()
        .iter()
        .enumerate()
        .map(|(p, &c)| rank(chain.draws.column(c).iter().copied(), truth[p]))
        .collect();
    let mu = chain.draws.column(0);
    let mean = mu.mean().expect("L > 0 draws");
    let shrunk_mu_rank = rank(mu.iter().map(|&v| mean + 0.7 * (v - mean)), truth[0]);
    Replication {
        ranks,
        shrunk_mu_rank,
        divergences: chain.num_divergent(),
    }
}

/// Runs every replication on a few threads; the results do not depend on their number.
fn replications(adaptation: Adaptation) -> Vec<Replication> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Replication>>> =
        (0..REPLICATIONS).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let r = next.fetch_add(1, Ordering::Relaxed);
                    if r >= REPLICATIONS {
                        break;
                    }
                    let out = replicate(r, adaptation);
                    *slots[r].lock().unwrap() = Some(out);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.into_inner().unwrap().expect("every replication ran"))
        .collect()
}

#[test]
fn chi_square_survival_function() {
    // Critical values of χ²(19), χ²(9) and χ²(1) from the standard tables.
    assert!((chi_square_sf(43.820, 19) - 0.001).abs() < 2e-6);
    assert!((chi_square_sf(30.144, 19) - 0.05).abs() < 2e-5);
    assert!((chi_square_sf(27.877, 9) - 0.001).abs() < 2e-6);
    assert!((chi_square_sf(16.919, 9) - 0.05).abs() < 2e-5);
    assert!((chi_square_sf(3.8415, 1) - 0.05).abs() < 2e-5);
    assert_eq!(chi_square_sf(0.0, 9), 1.0);
}

#[test]
fn hierarchical_gradient_matches_central_differences() {
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..20 {
        let (_, mut model) = simulate(&mut rng);
        let x: Vec<f64> = (0..J + 2).map(|_| rng.random_range(-2.0..2.0)).collect();
        let mut grad = vec![0.0; J + 2];
        model.logp_and_grad(&x, &mut grad).unwrap();
        let mut scratch = vec![0.0; J + 2];
        for i in 0..J + 2 {
            let h = 1e-6;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (model.logp_and_grad(&up, &mut scratch).unwrap()
                - model.logp_and_grad(&down, &mut scratch).unwrap())
                / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() <= 1e-6 * (1.0 + grad[i].abs()),
                "coordinate {i} at {x:?}: analytic {} vs central difference {fd}",
                grad[i]
            );
        }
    }
}

/// SBC with Stan's warmup (the default).
#[test]
fn simulation_based_calibration() {
    calibrate(Adaptation::Stan);
}

/// SBC with nutpie's gradient-informed diagonal warmup.
#[test]
fn simulation_based_calibration_fisher() {
    calibrate(Adaptation::FisherDiagonal);
}

/// SBC with the Fisher diagonal plus low rank.
#[test]
fn simulation_based_calibration_low_rank() {
    calibrate(Adaptation::FisherLowRank);
}

fn calibrate(adaptation: Adaptation) {
    let start = Instant::now();
    let reps = replications(adaptation);
    let layout = Hierarchical { y: vec![0.0; J] }.layout();
    let names: Vec<&str> = checked_columns()
        .iter()
        .map(|&c| layout.names()[c].as_str())
        .collect();
    let divergences: usize = reps.iter().map(|r| r.divergences).sum();
    println!(
        "SBC ({adaptation:?}): {REPLICATIONS} replications × {L} draws (thin {THIN}), {BINS} bins, {divergences} divergences in {} transitions, {:.1} s",
        REPLICATIONS * L * THIN,
        start.elapsed().as_secs_f64()
    );
    let mut failures = Vec::new();
    for (p, name) in names.iter().enumerate() {
        let ranks: Vec<usize> = reps.iter().map(|r| r.ranks[p]).collect();
        let (p_value, counts) = uniformity_p_value(&ranks);
        println!("  {name:<9} p = {p_value:.4}  bins {counts:?}");
        if !(p_value > ALPHA) {
            failures.push(format!("{name}: p = {p_value:.2e}, bins {counts:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "rank histograms not uniform:\n{}",
        failures.join("\n")
    );

    // Power: a sampler whose draws are 30% too narrow must be caught.
    let shrunk: Vec<usize> = reps.iter().map(|r| r.shrunk_mu_rank).collect();
    let (p_shrunk, counts) = uniformity_p_value(&shrunk);
    println!("  mu shrunk by 30%: p = {p_shrunk:.2e}  bins {counts:?}");
    assert!(
        p_shrunk < ALPHA,
        "the test cannot tell an under-dispersed sampler"
    );
}
