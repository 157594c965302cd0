//! posteriordb `low_dim_gauss_mix`: a two-component normal mixture with ordered means.
//!
//! Model code: 10 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 10 lines of the Stan program's parameters, transformed parameters and
//! model blocks (1.0×).
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] y;
//! }
//! parameters {
//!   ordered[2] mu; array[2] real<lower=0> sigma; real<lower=0, upper=1> theta;
//! }
//! model {
//!   sigma ~ normal(0, 2);
//!   mu ~ normal(0, 2);
//!   theta ~ beta(5, 5);
//!   for (n in 1 : N) {
//!     target += log_mix(theta, normal_lpdf(y[n] | mu[1], sigma[1]),
//!                       normal_lpdf(y[n] | mu[2], sigma[2]));
//!   }
//! }
//! ```

use infer::prelude::*;
use ndarray::Array1;

pub struct LowDimGaussMix {
    y: Array1<f64>,
}

impl LowDimGaussMix {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        Ok(LowDimGaussMix {
            y: d.vector_of("y", n)?,
        })
    }
}

impl Model for LowDimGaussMix {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu = p.vector("mu", 2, Constraint::Ordered)?;
        let sigma = p.vector("sigma", 2, Constraint::Positive)?;
        let theta = p.scalar("theta", bounds(0.0, 1.0))?;
        let lp = |k: usize| Normal::new(mu.at(&[k])?, sigma.at(&[k])?)?.log_prob(&self.y);
        Ok(HalfNormal::new(2.0)?.log_prob_sum(sigma)?
            + Normal::new(0.0, 2.0)?.log_prob_sum(mu)?
            + Beta::new(5.0, 5.0)?.log_prob_sum(theta)?
            + log_mix(theta, lp(0)?, lp(1)?)?.sum())
    }
}
