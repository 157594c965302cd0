//! The AR(1) stochastic-volatility model of the Stan User's Guide (§ "Stochastic volatility
//! models"): latent log volatilities `h` are a transformed parameter (non-centered, from
//! `h_std`), the posterior-predictive replicate `y_rep` is a generated quantity.
//!
//! The Stan program (its parameters, transformed parameters, model and generated quantities blocks: 17 lines):
//! ```stan
//! parameters {
//!   real mu;  real<lower=-1, upper=1> phi;  real<lower=0> sigma;  vector[T] h_std;
//! }
//! transformed parameters {
//!   vector[T] h = h_std * sigma;
//!   h[1] /= sqrt(1 - phi * phi);
//!   h += mu;
//!   for (t in 2:T) h[t] += phi * (h[t - 1] - mu);
//! }
//! model {
//!   sigma ~ cauchy(0, 5);  mu ~ cauchy(0, 10);  h_std ~ std_normal();
//!   y ~ normal(0, exp(h / 2));
//! }
//! generated quantities {
//!   vector[T] y_rep;
//!   for (t in 1:T) y_rep[t] = normal_rng(0, exp(h[t] / 2));
//! }
//! ```
//! The model below is 18 lines from `fn log_density` to its closing brace (1.06 × the Stan blocks).
//!
//! Data: T = 100 returns simulated with a fixed seed from μ = −1, φ = 0.9, σ = 0.3. The run
//! prints the summary and writes CmdStan CSV files to `out/stochastic_volatility_*.csv`.
//!
//! Run: `cargo run --release --example stochastic_volatility`

use infer::prelude::*;
use ndarray::Array1;
use rand::SeedableRng;
use rand_distr::Distribution as _;
use std::error::Error;

/// The returns.
struct StochasticVolatility {
    y: Array1<f64>,
}

impl Model for StochasticVolatility {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let t = p.tape();
        let mu = p.scalar("mu", Constraint::Real)?;
        let phi = p.scalar("phi", bounds(-1.0, 1.0))?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let h_std = p.vector("h_std", self.y.len(), Constraint::Real)?;
        let mut h = vec![mu + sigma * h_std.at(&[0])? / (1.0 - phi * phi).sqrt()];
        for i in 1..self.y.len() {
            h.push(mu + phi * (h[i - 1] - mu) + sigma * h_std.at(&[i])?);
        }
        let h = p.transformed("h", t.stack_vars(&h)?)?;
        let scale = (h * 0.5).exp();
        p.generated("y_rep", |rng| Normal::new(0.0, scale)?.sample(rng))?;
        Ok(HalfCauchy::new(5.0)?.log_prob_sum(sigma)?
            + Cauchy::new(0.0, 10.0)?.log_prob_sum(mu)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(h_std)?
            + Normal::new(0.0, scale)?.log_prob_sum(&self.y)?)
    }
}

/// Simulated returns: T = 100 from μ = −1, φ = 0.9, σ = 0.3.
fn simulate() -> StochasticVolatility {
    let (mu, phi, sigma) = (-1.0, 0.9, 0.3);
    let mut rng = rand::rngs::StdRng::seed_from_u64(100);
    let std = rand_distr::StandardNormal;
    let z0: f64 = std.sample(&mut rng);
    let mut h = mu + sigma / (1.0f64 - phi * phi).sqrt() * z0;
    let y: Vec<f64> = (0..100)
        .map(|_| {
            let e: f64 = std.sample(&mut rng);
            let r = (h / 2.0).exp() * e;
            let z: f64 = std.sample(&mut rng);
            h = mu + phi * (h - mu) + sigma * z;
            r
        })
        .collect();
    StochasticVolatility { y: Array1::from(y) }
}

fn main() -> Result<(), Box<dyn Error>> {
    let model = simulate();
    let settings = SamplerSettings {
        num_chains: 4,
        seed: 5,
        ..SamplerSettings::default()
    };
    let fit = Sampler::new(settings)?.sample_model(&model)?;
    println!("{}", fit.summary()?);
    for f in fit.write_cmdstan_csvs("out/stochastic_volatility")? {
        println!("wrote {}", f.display());
    }
    Ok(())
}
