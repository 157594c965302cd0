//! Variational inference of a model written for NUTS: ADVI (Stan's `variational` method) in
//! three lines, its means and sds printed next to NUTS's.
//!
//! The model is the varying-intercept regression of `examples/hierarchical.rs`, written once
//! as a [`Model`]; nothing about it changes for VI. `advi_model` fits a Gaussian on the
//! unconstrained space (the bijectors of `sigma_a`, `sigma_y` and their Jacobians come from
//! the model's declarations) with Stan's defaults, and records every draw as NUTS does:
//! parameters on the constrained scale, the transformed parameter `a`, the generated
//! quantities.
//!
//! ADVI costs a few thousand gradient evaluations against NUTS's ~180,000 here, and is rough:
//! the means are near NUTS's, but mean-field's sds of `mu_a` and `sigma_a` (correlated with
//! the `a_raw` in the posterior) come out at a quarter of NUTS's, as theory says of a
//! factorized approximation (it matches the conditional, not the marginal, spread); full rank
//! has room for the correlations. Both stop on Stan's relative-ELBO tolerance and return the
//! last iterate, which carries Monte Carlo noise: look at several seeds before trusting a
//! digit.
//!
//! Run: `cargo run --release --example advi`

use infer::mcmc::layout::Block;
use infer::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::error::Error;

#[path = "common/hierarchical.rs"]
mod data;

use data::{Hierarchical, simulate};

impl Model for Hierarchical {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu_a = p.scalar("mu_a", Constraint::Real)?;
        let sigma_a = p.scalar("sigma_a", Constraint::Positive)?;
        let a_raw = p.vector("a_raw", self.j, Constraint::Real)?;
        let b = p.scalar("b", Constraint::Real)?;
        let sigma_y = p.scalar("sigma_y", Constraint::Positive)?;
        let a = p.transformed("a", mu_a + sigma_a * a_raw)?;
        let mean = a.gather(&self.g)? + b * &self.x;
        Ok(Normal::new(0.0, 5.0)?.log_prob_sum(mu_a)?
            + HalfNormal::new(2.0)?.log_prob_sum(sigma_a)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(a_raw)?
            + Normal::new(0.0, 2.0)?.log_prob_sum(b)?
            + HalfNormal::new(2.0)?.log_prob_sum(sigma_y)?
            + Normal::new(mean, sigma_y)?.log_prob_sum(&self.y)?)
    }
}

/// Mean and sd of a column of draws.
fn mean_sd<'a>(draws: impl ExactSizeIterator<Item = &'a f64> + Clone) -> (f64, f64) {
    let n = draws.len() as f64;
    let mean = draws.clone().sum::<f64>() / n;
    let var = draws.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn main() -> Result<(), Box<dyn Error>> {
    let model = simulate();

    // The VI fit of the model: three lines.
    let mut rng = StdRng::seed_from_u64(1);
    let vi = advi_model(&model, &AdviSettings::default(), &mut rng)?;
    println!(
        "mean-field ADVI: {} iterations (converged: {}), eta {}, {} gradient evaluations, {:.3} s",
        vi.iterations,
        vi.converged,
        vi.eta,
        vi.gradient_evals,
        vi.wall_time.as_secs_f64()
    );

    let full = AdviSettings {
        family: AdviFamily::FullRank,
        ..AdviSettings::default()
    };
    let fr = advi_model(&model, &full, &mut rng)?;
    println!(
        "full-rank ADVI:  {} iterations (converged: {}), eta {}, {} gradient evaluations, {:.3} s",
        fr.iterations,
        fr.converged,
        fr.eta,
        fr.gradient_evals,
        fr.wall_time.as_secs_f64()
    );

    let settings = SamplerSettings {
        num_chains: 4,
        seed: 11,
        ..SamplerSettings::default()
    };
    let nuts = Sampler::new(settings)?.sample_model(&model)?;
    println!(
        "NUTS: 4 × 1000 draws, {} gradient evaluations\n",
        nuts.gradient_evals()
    );

    println!(
        "{:<12} {:>15} {:>15} {:>15}",
        "", "NUTS", "ADVI mean-field", "ADVI full-rank"
    );
    println!(
        "{:<12} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "", "mean", "sd", "mean", "sd", "mean", "sd"
    );
    // The layout is the one source of the names: the same for every fit of this model.
    let names = vi.layout.names();
    for e in vi
        .layout
        .entries()
        .iter()
        .filter(|e| e.block != Block::GeneratedQuantity)
    {
        for k in e.columns() {
            let (nm, ns) = mean_sd(nuts.draws_by_name(&names[k])?.iter());
            let (vm, vs) = mean_sd(vi.values.column(k).iter());
            let (fm, fs) = mean_sd(fr.values.column(k).iter());
            println!(
                "{:<12} {nm:>7.3} {ns:>7.3} {vm:>7.3} {vs:>7.3} {fm:>7.3} {fs:>7.3}",
                names[k]
            );
        }
    }
    Ok(())
}
