//! Convergence on a conjugate model with a known posterior: μ ~ N(0, 2²), yᵢ ~ N(μ, 1),
//! N = 50. The posterior is N(m*, s*²) with 1/s*² = 1/4 + N and m* = s*² Σ yᵢ. A Normal q
//! (scale = exp ρ) is fitted with `vi_loss` and Adam; the reported fit is the Polyak average
//! of the iterates (m and ρ) over the second half of the run, which removes the stochastic
//! fluctuation of the last iterate.
//!
//! Tolerances (from the issue): pathwise — |m − m*| ≤ 2% of s*, |s − s*| ≤ 5% of s*;
//! score function forced (with a moving-average baseline) — both within 10% of s*. Seeds
//! are fixed, so the outcome is deterministic. False-failure rate: over 20 other seeds
//! (`convergence_over_seeds`, ignored by default) the worst errors were 1.1% (mean) and
//! 0.75% (sd) pathwise, 0.24% and 2.3% with the score function, so a correct implementation
//! fails these bounds for well under 1 seed in 20.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{ParamStore, Tape};
use infer_dist::{Distribution, Normal, Reparameterizable};
use infer_loss::{Estimator, ViOptions, vi_loss_with};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, Normal as RNormal};

const N: usize = 50;
const PRIOR_SD: f64 = 2.0;

fn data(seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = RNormal::new(1.5, 1.0).expect("valid");
    (0..N).map(|_| d.sample(&mut rng)).collect()
}

fn exact(y: &[f64]) -> (f64, f64) {
    let prec = 1.0 / (PRIOR_SD * PRIOR_SD) + y.len() as f64;
    let var = 1.0 / prec;
    (var * y.iter().sum::<f64>(), var.sqrt())
}

/// Fits q; returns the averaged (mean, sd).
fn fit(y: &[f64], score: bool, seed: u64) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let mut store = ParamStore::new();
    let m_id = store.add("m", ndarray::arr0(0.0))?;
    let rho_id = store.add("rho", ndarray::arr0(0.0))?;
    let (lr0, lr1, steps) = if score {
        (0.05, 0.003, 8_000)
    } else {
        (0.05, 0.001, 100_000)
    };
    let mut adam = Adam::new(AdamConfig {
        lr: lr0,
        ..AdamConfig::default()
    })?;
    let mut rng = StdRng::seed_from_u64(seed);
    let y_arr = ndarray::Array1::from(y.to_vec());
    let mut tape = Tape::new();
    let mut baseline = None::<f64>;
    let (mut sum_m, mut sum_rho, mut count) = (0.0, 0.0, 0.0);
    for t in 0..steps {
        if t == steps / 4 {
            adam.set_lr(lr1)?;
        }
        tape.clear();
        let bound = store.bind(&tape);
        let q = Normal::new(bound[m_id], bound[rho_id].exp())?;
        let x = if score {
            tape.constant(&q.sample(&mut rng)?)
        } else {
            q.rsample(&mut rng)?
        };
        let prior = Normal::new(tape.var(0.0), tape.var(PRIOR_SD))?;
        let lik = Normal::new(x, tape.var(1.0))?;
        let yt = tape.constant(&y_arr);
        let ps: [&dyn Distribution; 2] = [&prior, &lik];
        let qs: [&dyn Distribution; 2] = [&q, &lik];
        let opts = ViOptions {
            estimator: if score {
                Estimator::ScoreFunction
            } else {
                Estimator::Auto
            },
            baseline: baseline.unwrap_or(0.0),
            ..ViOptions::default()
        };
        let loss = vi_loss_with(&ps, &qs, &[x, yt], &[false, true], &opts)?;
        // A moving-average baseline of past losses (independent of this draw: unbiased).
        baseline = Some(match baseline {
            Some(b) => 0.9 * b + 0.1 * loss.value(),
            None => loss.value(),
        });
        loss.backward();
        store.zero_grads();
        store.accumulate_grads(&bound)?;
        adam.step(&mut store)?;
        if t >= steps / 2 {
            sum_m += store.value(m_id)[[]];
            sum_rho += store.value(rho_id)[[]];
            count += 1.0;
        }
    }
    Ok((sum_m / count, (sum_rho / count).exp()))
}

fn check(score: bool, tol_mean: f64, tol_sd: f64) -> Result<(), Box<dyn std::error::Error>> {
    let y = data(50);
    let (m_star, s_star) = exact(&y);
    let (m, s) = fit(&y, score, 7)?;
    let (em, es) = ((m - m_star).abs() / s_star, (s - s_star).abs() / s_star);
    println!(
        "{}: mean {m:.5} (exact {m_star:.5}, error {:.2}% of sd), sd {s:.5} (exact {s_star:.5}, error {:.2}%)",
        if score { "score function" } else { "pathwise" },
        100.0 * em,
        100.0 * es
    );
    assert!(em <= tol_mean, "mean error {em}");
    assert!(es <= tol_sd, "sd error {es}");
    Ok(())
}

#[test]
fn pathwise_vi_recovers_the_conjugate_posterior() -> Result<(), Box<dyn std::error::Error>> {
    check(false, 0.02, 0.05)
}

#[test]
fn score_function_vi_recovers_the_conjugate_posterior() -> Result<(), Box<dyn std::error::Error>> {
    check(true, 0.10, 0.10)
}

/// Robustness of the tolerances: several seeds (ignored by default; run with
/// `cargo test --release -p infer-loss -- --ignored --nocapture`).
#[test]
#[ignore = "20-seed robustness sweep of the tolerances (slow); run with --ignored"]
fn convergence_over_seeds() -> Result<(), Box<dyn std::error::Error>> {
    let y = data(50);
    let (m_star, s_star) = exact(&y);
    for score in [false, true] {
        let (mut worst_m, mut worst_s) = (0.0f64, 0.0f64);
        for seed in 100..120 {
            let (m, s) = fit(&y, score, seed)?;
            worst_m = worst_m.max((m - m_star).abs() / s_star);
            worst_s = worst_s.max((s - s_star).abs() / s_star);
        }
        println!("score={score}: worst mean error {worst_m:.4} sd, worst sd error {worst_s:.4}");
    }
    Ok(())
}
