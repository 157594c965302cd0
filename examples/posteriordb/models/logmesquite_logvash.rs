//! posteriordb `logmesquite_logvash`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 15 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 6 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] weight; vector[N] diam1; vector[N] diam2; vector[N] canopy_height;
//!   vector[N] total_height; vector[N] group;
//! }
//! transformed data {
//!   vector[N] log_weight = log(weight);
//!   vector[N] log_canopy_volume = log(diam1 .* diam2 .* canopy_height);
//!   vector[N] log_canopy_area = log(diam1 .* diam2);
//!   vector[N] log_canopy_shape = log(diam1 ./ diam2);
//!   vector[N] log_total_height = log(total_height);
//! }
//! parameters {
//!   vector[6] beta; real<lower=0> sigma;
//! }
//! model {
//!   log_weight ~ normal(beta[1] + beta[2] * log_canopy_volume
//!                       + beta[3] * log_canopy_area
//!                       + beta[4] * log_canopy_shape
//!                       + beta[5] * log_total_height + beta[6] * group, sigma);
//! }
//! ```

use super::regression::LinearRegression;
use infer::prelude::*;

/// `log_weight` on the five predictors in the order of `beta`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let diam1 = d.vector_of("diam1", n)?;
    let diam2 = d.vector_of("diam2", n)?;
    let canopy_height = d.vector_of("canopy_height", n)?;
    let predictors = [
        (&diam1 * &diam2 * &canopy_height).ln(),
        (&diam1 * &diam2).ln(),
        (&diam1 / &diam2).ln(),
        d.vector_of("total_height", n)?.ln(),
        d.vector_of("group", n)?,
    ];
    let log_weight = d.vector_of("weight", n)?.ln();
    Ok(LinearRegression::new(log_weight, &predictors))
}
