//! posteriordb `nes`:
//!
//! Model code: the shared normal linear regression `regression::LinearRegression` (its
//! `fn log_density` is 12 lines) and 17 lines here from `fn new` to its closing brace
//! reading the data (blank and comment lines not counted), against 6 lines of the Stan
//! program's parameters, transformed parameters and model blocks.
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] partyid7; vector[N] real_ideo; vector[N] race_adj; vector[N] educ1;
//!   vector[N] gender; vector[N] income; array[N] int age_discrete;
//! }
//! transformed data {
//!   vector[N] age30_44; vector[N] age45_64; vector[N] age65up;
//!   for (n in 1 : N) {
//!     age30_44[n] = age_discrete[n] == 2;
//!     age45_64[n] = age_discrete[n] == 3;
//!     age65up[n] = age_discrete[n] == 4;
//!   }
//! }
//! parameters {
//!   vector[9] beta; real<lower=0> sigma;
//! }
//! model {
//!   partyid7 ~ normal(beta[1] + beta[2] * real_ideo + beta[3] * race_adj
//!                     + beta[4] * age30_44 + beta[5] * age45_64
//!                     + beta[6] * age65up + beta[7] * educ1 + beta[8] * gender
//!                     + beta[9] * income, sigma);
//! }
//! ```

use super::regression::{self, LinearRegression};
use infer::prelude::*;

/// `partyid7` on the eight predictors in the order of `beta`.
pub fn new(d: &StanData) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let age = d.ints_of("age_discrete", n)?;
    let age_is = |k| regression::indicator(&age, k);
    let v = |name| d.vector_of(name, n);
    let predictors = [
        v("real_ideo")?,
        v("race_adj")?,
        age_is(2),
        age_is(3),
        age_is(4),
        v("educ1")?,
        v("gender")?,
        v("income")?,
    ];
    Ok(LinearRegression::new(v("partyid7")?, &predictors))
}
