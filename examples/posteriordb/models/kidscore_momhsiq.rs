//! posteriordb `kidscore_momhsiq`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 3 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 4 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector<lower=0, upper=200>[N] kid_score;
//!   vector<lower=0, upper=200>[N] mom_iq;
//!   vector<lower=0, upper=1>[N] mom_hs;
//! }
//! parameters {
//!   vector[3] beta; real<lower=0> sigma;
//! }
//! model {
//!   sigma ~ cauchy(0, 2.5);
//!   kid_score ~ normal(beta[1] + beta[2] * mom_hs + beta[3] * mom_iq, sigma);
//! }
//! ```

use super::regression::{self, LinearRegression};
use infer::prelude::*;

/// `kid_score` on `mom_hs` and `mom_iq`, with `sigma ~ cauchy(0, 2.5)`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    Ok(regression::read(d, "kid_score", &["mom_hs", "mom_iq"])?.sigma_cauchy(2.5))
}
