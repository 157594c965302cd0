//! A two-component normal mixture with ordered means (Stan's `ordered[2] mu`, which removes
//! the label switching) and the likelihood marginalized over the component with `log_mix`.
//!
//! The Stan program (its parameters, model and generated quantities blocks: 13 lines):
//! ```stan
//! parameters {
//!   real<lower=0, upper=1> theta;  ordered[2] mu;  vector<lower=0>[2] sigma;
//! }
//! model {
//!   theta ~ beta(2, 2);  mu ~ normal(0, 5);  sigma ~ normal(0, 2);
//!   for (n in 1:N)
//!     target += log_mix(theta, normal_lpdf(y[n] | mu[1], sigma[1]),
//!                              normal_lpdf(y[n] | mu[2], sigma[2]));
//! }
//! generated quantities {
//!   real y_rep = bernoulli_rng(theta) ? normal_rng(mu[1], sigma[1])
//!                                     : normal_rng(mu[2], sigma[2]);
//! }
//! ```
//! The model below is 14 lines from `fn log_density` to its closing brace (1.08 × the Stan blocks).
//!
//! Data: N = 300 draws simulated with a fixed seed from 0.3 N(−2, 0.7) + 0.7 N(1.5, 1).
//! The run prints the summary and writes CmdStan CSV files to `out/mixture_*.csv`.
//!
//! Run: `cargo run --release --example mixture`

use infer::prelude::*;
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_distr::Distribution as _;
use std::error::Error;

/// The observations.
struct Mixture {
    y: Array1<f64>,
}

impl Model for Mixture {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let theta = p.scalar("theta", Constraint::UnitInterval)?;
        let mu = p.vector("mu", 2, Constraint::Ordered)?;
        let sigma = p.vector("sigma", 2, Constraint::Positive)?;
        let component = |k: usize| Normal::new(mu.at(&[k])?, sigma.at(&[k])?);
        p.generated("y_rep", |rng| {
            component(usize::from(!rng.random_bool(theta.value())))?.sample(rng)
        })?;
        let prior = Beta::new(2.0, 2.0)?.log_prob_sum(theta)?
            + Normal::new(0.0, 5.0)?.log_prob_sum(mu)?
            + HalfNormal::new(2.0)?.log_prob_sum(sigma)?;
        let (c0, c1) = (component(0)?, component(1)?);
        Ok(prior + log_mix(theta, c0.log_prob(&self.y)?, c1.log_prob(&self.y)?)?.sum())
    }
}

/// Simulated data: 300 draws of 0.3 N(−2, 0.7) + 0.7 N(1.5, 1).
fn simulate() -> Mixture {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let std = rand_distr::StandardNormal;
    let y: Vec<f64> = (0..300)
        .map(|_| {
            let e: f64 = std.sample(&mut rng);
            if rng.random_bool(0.3) {
                -2.0 + 0.7 * e
            } else {
                1.5 + e
            }
        })
        .collect();
    Mixture { y: Array1::from(y) }
}

fn main() -> Result<(), Box<dyn Error>> {
    let model = simulate();
    let settings = SamplerSettings {
        num_chains: 4,
        seed: 3,
        ..SamplerSettings::default()
    };
    let fit = Sampler::new(settings)?.sample_model(&model)?;
    println!("{}", fit.summary()?);
    for f in fit.write_cmdstan_csvs("out/mixture")? {
        println!("wrote {}", f.display());
    }
    Ok(())
}
