//! posteriordb `kidscore_interaction`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 8 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 5 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector<lower=0, upper=200>[N] kid_score;
//!   vector<lower=0, upper=200>[N] mom_iq;
//!   vector<lower=0, upper=1>[N] mom_hs;
//! }
//! transformed data {
//!   vector[N] inter = mom_hs .* mom_iq;
//! }
//! parameters {
//!   vector[4] beta; real<lower=0> sigma;
//! }
//! model {
//!   sigma ~ cauchy(0, 2.5);
//!   kid_score ~ normal(beta[1] + beta[2] * mom_hs + beta[3] * mom_iq
//!                      + beta[4] * inter, sigma);
//! }
//! ```

use super::regression::LinearRegression;
use infer::prelude::*;

/// `kid_score` on `mom_hs`, `mom_iq` and `inter`, with `sigma ~ cauchy(0, 2.5)`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let mom_iq = d.vector_of("mom_iq", n)?;
    let mom_hs = d.vector_of("mom_hs", n)?;
    let inter = &mom_hs * &mom_iq;
    let kid_score = d.vector_of("kid_score", n)?;
    Ok(LinearRegression::new(kid_score, &[mom_hs, mom_iq, inter]).sigma_cauchy(2.5))
}
