//! posteriordb `earn_height`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 3 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 3 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] earn; vector[N] height;
//! }
//! parameters {
//!   vector[2] beta; real<lower=0> sigma;
//! }
//! model {
//!   earn ~ normal(beta[1] + beta[2] * height, sigma);
//! }
//! ```

use super::regression::{self, LinearRegression};
use infer::prelude::*;

/// `earn ~ normal(beta[1] + beta[2] * height, sigma)`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    regression::read(d, "earn", &["height"])
}
