//! posteriordb `eight_schools_noncentered`:
//!
//! Model code: 10 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 9 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.1×).
//! ```stan
//! data {
//!   int<lower=0> J; array[J] real y; array[J] real<lower=0> sigma;
//! }
//! parameters {
//!   vector[J] theta_trans; real mu; real<lower=0> tau;
//! }
//! transformed parameters {
//!   vector[J] theta = theta_trans * tau + mu;
//! }
//! model {
//!   theta_trans ~ normal(0, 1);
//!   y ~ normal(theta, sigma);
//!   mu ~ normal(0, 5);
//!   tau ~ cauchy(0, 5);
//! }
//! ```

use infer::prelude::*;
use ndarray::Array1;

pub struct EightSchoolsNoncentered {
    j: usize,
    y: Array1<f64>,
    sigma: Array1<f64>,
}

impl EightSchoolsNoncentered {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let j = d.usize("J")?;
        Ok(EightSchoolsNoncentered {
            j,
            y: d.vector_of("y", j)?,
            sigma: d.vector_of("sigma", j)?,
        })
    }
}

impl Model for EightSchoolsNoncentered {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let theta_trans = p.vector("theta_trans", self.j, Constraint::Real)?;
        let mu = p.scalar("mu", Constraint::Real)?;
        let tau = p.scalar("tau", Constraint::Positive)?;
        let theta = p.transformed("theta", theta_trans * tau + mu)?;
        Ok(Normal::new(0.0, 1.0)?.log_prob_sum(theta_trans)?
            + Normal::new(theta, &self.sigma)?.log_prob_sum(&self.y)?
            + Normal::new(0.0, 5.0)?.log_prob_sum(mu)?
            + HalfCauchy::new(5.0)?.log_prob_sum(tau)?)
    }
}
