//! posteriordb `logearn_interaction_z`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 11 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 4 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] earn; vector[N] height; vector[N] male;
//! }
//! transformed data {
//!   vector[N] log_earn = log(earn);
//!   vector[N] z_height = (height - mean(height)) / sd(height);
//!   vector[N] inter = z_height .* male;
//! }
//! parameters {
//!   vector[4] beta; real<lower=0> sigma;
//! }
//! model {
//!   log_earn ~ normal(beta[1] + beta[2] * z_height + beta[3] * male
//!                     + beta[4] * inter, sigma);
//! }
//! ```

use super::regression::LinearRegression;
use infer::prelude::*;

/// `log_earn` on `z_height`, `male` and `inter`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let height = d.vector_of("height", n)?;
    let male = d.vector_of("male", n)?;
    // Stan's `sd` is the sample standard deviation (divisor N − 1)
    let mean = height.sum() / n as f64;
    let sd = (height.mapv(|h| (h - mean).powi(2)).sum() / (n as f64 - 1.0)).sqrt();
    let z_height = (height - mean) / sd;
    let inter = &z_height * &male;
    let log_earn = d.vector_of("earn", n)?.ln();
    Ok(LinearRegression::new(log_earn, &[z_height, male, inter]))
}
