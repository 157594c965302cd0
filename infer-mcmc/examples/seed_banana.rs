//! The seed's NUTS loop (unit metric, step size adapted toward 0.8) against the [`Sampler`]
//! on a curved posterior, the banana x₁ ~ N(0, 1), x₂ | x₁ ~ N(x₁², σ²) with σ = 0.5, whose
//! exact mean is E[x₁] = 0, E[x₂] = E[x₁²] = 1.
//!
//! The seed's loop counts its divergent transitions with `nuts_step_details`: with a unit
//! metric the step size that gives acceptance 0.8 in the wide part of the banana is too large
//! in its narrow arms, trajectories going there diverge and E[x₂] comes out too small. The
//! `Sampler` adapts a diagonal metric in windows and does much better (though not perfectly:
//! the banana's curvature changes along it, which no constant metric fits).
//!
//! Output (σ = 0.5, 100 seeds):
//! ```text
//! seed loop (nuts_step, unit metric, target 0.8), 100 runs of 1000 + 1000: 3213 of 100000 transitions divergent (3.21%), E[x2] = 0.933 ± 0.048 (median run 0.792)
//! Sampler (windowed diagonal metric, target 0.8), 100 runs of 1000 + 1000: 717 of 100000 transitions divergent (0.72%), E[x2] = 0.977 ± 0.038 (median run 0.902)
//! ```
//!
//! Run: `cargo run --release -p infer-mcmc --example seed_banana [σ] [seeds]`

use infer_ad::{AdError, Bound, ParamStore, Tape};
use infer_mcmc::NutsOptions;
use infer_mcmc::step::{closure, find_reasonable_epsilon, nuts_step_details};
use infer_mcmc::{
    DualAveragingOptions, LogDensity, LogDensityError, Sampler, SamplerSettings, dual_averaging,
};
use rand::SeedableRng;

/// Adaptation and sampling iterations of the seed's loop (as the `Sampler`'s defaults).
const WARMUP: usize = 1000;
const SAMPLES: usize = 1000;

/// Divergent transitions, transitions and the mean of x₂ of one run of the seed's loop.
fn seed_loop(sigma: f64, seed: u64) -> Result<(usize, usize, f64), Box<dyn std::error::Error>> {
    let mut params = ParamStore::new();
    let x = params.add("x", ndarray::arr1(&[0.0, 0.0]))?;
    let inv_var = 1.0 / (sigma * sigma);
    // The loss is −log p = x₁²/2 + (x₂ − x₁²)² / (2σ²).
    let nll = closure(|_: &Tape, p: &Bound<'_>| {
        let (x1, x2) = (p[x].at(&[0])?, p[x].at(&[1])?);
        let r = x2 - x1.square();
        Ok::<_, AdError>(x1.square() * 0.5 + r.square() * (0.5 * inv_var))
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (initial_epsilon, mut epsilon_bar, mut h_bar) =
        find_reasonable_epsilon(&mut params, nll, &mut rng)?;
    let mut epsilon = initial_epsilon;
    let (mut divergent, mut sum_x2) = (0, 0.0);
    for i in 1..=WARMUP + SAMPLES {
        let t = nuts_step_details(epsilon, &mut params, nll, NutsOptions::default(), &mut rng)?;
        if i <= WARMUP {
            (epsilon, epsilon_bar, h_bar) = dual_averaging(
                t.accept_stat,
                i,
                initial_epsilon,
                epsilon_bar,
                h_bar,
                DualAveragingOptions::default(),
            )?;
        } else {
            epsilon = epsilon_bar;
            divergent += usize::from(t.divergent);
            sum_x2 += params.value(x)[1];
        }
    }
    Ok((divergent, SAMPLES, sum_x2 / SAMPLES as f64))
}

/// The same banana for the `Sampler`, with its exact gradient.
#[derive(Clone, Copy)]
struct Banana {
    inv_var: f64,
}

impl LogDensity for Banana {
    fn dim(&self) -> usize {
        2
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        let r = x[1] - x[0] * x[0];
        g[0] = -x[0] + 2.0 * x[0] * r * self.inv_var;
        g[1] = -r * self.inv_var;
        Ok(-0.5 * x[0] * x[0] - 0.5 * r * r * self.inv_var)
    }
}

/// Mean and standard error of the mean over runs, and the median run.
fn mean_se(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    (m, (var / n).sqrt(), sorted[sorted.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sigma: f64 = args.next().map_or(Ok(0.5), |a| a.parse())?;
    let seeds: u64 = args.next().map_or(Ok(100), |a| a.parse())?;
    println!("banana x1 ~ N(0, 1), x2 | x1 ~ N(x1^2, {sigma}^2): E[x2] = 1");

    let (mut div, mut total, mut means) = (0, 0, Vec::new());
    for seed in 0..seeds {
        let (d, n, m) = seed_loop(sigma, seed)?;
        div += d;
        total += n;
        means.push(m);
    }
    let (m, se, median) = mean_se(&means);
    println!(
        "seed loop (nuts_step, unit metric, target 0.8), {seeds} runs of {WARMUP} + {SAMPLES}: \
         {div} of {total} transitions divergent ({:.2}%), E[x2] = {m:.3} ± {se:.3} (median run {median:.3})",
        100.0 * div as f64 / total as f64
    );

    let (mut div, mut total, mut means) = (0, 0, Vec::new());
    for seed in 0..seeds {
        let settings = SamplerSettings {
            num_chains: 1,
            num_warmup: WARMUP,
            num_samples: SAMPLES,
            seed,
            ..SamplerSettings::default()
        };
        let fit = Sampler::new(settings)?.sample(|_| Banana {
            inv_var: 1.0 / (sigma * sigma),
        })?;
        div += fit.num_divergent();
        total += fit.num_draws();
        let x2 = fit.draws_by_name("x[2]")?;
        means.push(x2.mean().unwrap_or(f64::NAN));
    }
    let (m, se, median) = mean_se(&means);
    println!(
        "Sampler (windowed diagonal metric, target 0.8), {seeds} runs of {WARMUP} + {SAMPLES}: \
         {div} of {total} transitions divergent ({:.2}%), E[x2] = {m:.3} ± {se:.3} (median run {median:.3})",
        100.0 * div as f64 / total as f64
    );
    Ok(())
}
