//! posteriordb `mesquite`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 11 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 5 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] weight; vector[N] diam1; vector[N] diam2; vector[N] canopy_height;
//!   vector[N] total_height; vector[N] density; vector[N] group;
//! }
//! parameters {
//!   vector[7] beta; real<lower=0> sigma;
//! }
//! model {
//!   weight ~ normal(beta[1] + beta[2] * diam1 + beta[3] * diam2
//!                   + beta[4] * canopy_height + beta[5] * total_height
//!                   + beta[6] * density + beta[7] * group, sigma);
//! }
//! ```

use super::regression::{self, LinearRegression};
use infer::prelude::*;

/// `weight` on the six predictors in the order of `beta`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let predictors = [
        "diam1",
        "diam2",
        "canopy_height",
        "total_height",
        "density",
        "group",
    ];
    regression::read(d, "weight", &predictors)
}
