//! posteriordb `kidscore_mom_work`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 8 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 4 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] kid_score; array[N] int mom_work;
//! }
//! transformed data {
//!   vector[N] work2; vector[N] work3; vector[N] work4;
//!   for (i in 1 : N) {
//!     work2[i] = mom_work[i] == 2;
//!     work3[i] = mom_work[i] == 3;
//!     work4[i] = mom_work[i] == 4;
//!   }
//! }
//! parameters {
//!   vector[4] beta; real<lower=0> sigma;
//! }
//! model {
//!   kid_score ~ normal(beta[1] + beta[2] * work2 + beta[3] * work3
//!                      + beta[4] * work4, sigma);
//! }
//! ```

use super::regression::{self, LinearRegression};
use infer::prelude::*;

/// `kid_score` on the indicators `work2`, `work3`, `work4`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let kid_score = d.vector_of("kid_score", n)?;
    let mom_work = d.ints_of("mom_work", n)?;
    let work = |k| regression::indicator(&mom_work, k);
    let work234 = [work(2), work(3), work(4)];
    Ok(LinearRegression::new(kid_score, &work234))
}
