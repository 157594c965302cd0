//! posteriordb `kidscore_interaction`:
//!
//! Model code: 7 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 5 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.4×).
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

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct KidscoreInteraction {
    /// The design matrix: ones, `mom_hs`, `mom_iq`, `inter`.
    x: Arc<Array2<f64>>,
    kid_score: Array1<f64>,
}

impl KidscoreInteraction {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let mom_iq = d.vector_of("mom_iq", n)?;
        let mom_hs = d.vector_of("mom_hs", n)?;
        let inter = &mom_hs * &mom_iq;
        let cols = [Array1::ones(n), mom_hs, mom_iq, inter];
        Ok(KidscoreInteraction {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            kid_score: d.vector_of("kid_score", n)?,
        })
    }
}

impl Model for KidscoreInteraction {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 4, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(HalfCauchy::new(2.5)?.log_prob_sum(sigma)?
            + Normal::new(mu, sigma)?.log_prob_sum(&self.kid_score)?)
    }
}
