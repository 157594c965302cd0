//! posteriordb `arma11`: ARMA(1, 1), the errors computed by a recursion.
//!
//! Model code: 20 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 17 lines of the Stan program's parameters, transformed parameters and
//! model blocks (1.2×).
//! ```stan
//! data {
//!   int<lower=1> T; array[T] real y;
//! }
//! parameters {
//!   real mu; real phi; real theta; real<lower=0> sigma;
//! }
//! model {
//!   vector[T] nu;
//!   vector[T] err;
//!   mu ~ normal(0, 10);
//!   phi ~ normal(0, 2);
//!   theta ~ normal(0, 2);
//!   sigma ~ cauchy(0, 2.5);
//!   nu[1] = mu + phi * mu; // assume err[0] == 0
//!   err[1] = y[1] - nu[1];
//!   for (t in 2 : T) {
//!     nu[t] = mu + phi * y[t - 1] + theta * err[t - 1];
//!     err[t] = y[t] - nu[t];
//!   }
//!   err ~ normal(0, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::Array1;

pub struct Arma11 {
    y: Array1<f64>,
}

impl Arma11 {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let t = d.usize("T")?;
        Ok(Arma11 {
            y: d.vector_of("y", t)?,
        })
    }
}

impl Model for Arma11 {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu = p.scalar("mu", Constraint::Real)?;
        let phi = p.scalar("phi", Constraint::Real)?;
        let theta = p.scalar("theta", Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let y = &self.y;
        let mut err = Vec::with_capacity(y.len());
        if let Some(&y0) = y.first() {
            err.push(y0 - (mu + phi * mu));
        }
        for t in 1..y.len() {
            err.push(y[t] - (mu + phi * y[t - 1] + theta * err[t - 1]));
        }
        let err = p.tape().stack_vars(&err)?;
        Ok(Normal::new(0.0, 10.0)?.log_prob_sum(mu)?
            + Normal::new(0.0, 2.0)?.log_prob_sum(phi)?
            + Normal::new(0.0, 2.0)?.log_prob_sum(theta)?
            + HalfCauchy::new(2.5)?.log_prob_sum(sigma)?
            + Normal::new(0.0, sigma)?.log_prob_sum(err)?)
    }
}
