//! A hierarchical (varying-intercept) regression with group indices: Stan's `a[g]` is a
//! gather, and the group intercepts `a` are a transformed parameter recorded with every draw.
//!
//! The Stan program (its parameters, transformed parameters, model and generated quantities blocks: 13 lines):
//! ```stan
//! parameters {
//!   real mu_a;  real<lower=0> sigma_a;  vector[J] a_raw;
//!   real b;  real<lower=0> sigma_y;
//! }
//! transformed parameters {
//!   vector[J] a = mu_a + sigma_a * a_raw;
//! }
//! model {
//!   mu_a ~ normal(0, 5);  sigma_a ~ normal(0, 2);  a_raw ~ std_normal();
//!   b ~ normal(0, 2);  sigma_y ~ normal(0, 2);
//!   y ~ normal(a[g] + b * x, sigma_y);
//! }
//! generated quantities { array[N] real y_rep = normal_rng(a[g] + b * x, sigma_y); }
//! ```
//! The model below is 16 lines from `fn log_density` to its closing brace (1.23 × the Stan blocks).
//!
//! Data: J = 8 groups, N = 80 observations simulated with a fixed seed from
//! μ_a = 1, σ_a = 0.8, b = 0.5, σ_y = 0.6 (`examples/common/hierarchical.rs`, shared with
//! `examples/advi.rs`). The run prints the summary (parameters, the
//! transformed parameter `a`, the generated quantity `y_rep`) and writes CmdStan CSV files to
//! `out/hierarchical_*.csv`.
//!
//! Run: `cargo run --release --example hierarchical`

use infer::prelude::*;
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
        p.generated("y_rep", |rng| Normal::new(mean, sigma_y)?.sample(rng))?;
        Ok(Normal::new(0.0, 5.0)?.log_prob_sum(mu_a)?
            + HalfNormal::new(2.0)?.log_prob_sum(sigma_a)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(a_raw)?
            + Normal::new(0.0, 2.0)?.log_prob_sum(b)?
            + HalfNormal::new(2.0)?.log_prob_sum(sigma_y)?
            + Normal::new(mean, sigma_y)?.log_prob_sum(&self.y)?)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let model = simulate();
    let settings = SamplerSettings {
        num_chains: 4,
        seed: 11,
        ..SamplerSettings::default()
    };
    let fit = Sampler::new(settings)?.sample_model(&model)?;
    // The summary of every recorded value; y_rep has one row per observation.
    let summary = fit.summary()?;
    println!("{summary}");
    for f in fit.write_cmdstan_csvs("out/hierarchical")? {
        println!("wrote {}", f.display());
    }
    Ok(())
}
