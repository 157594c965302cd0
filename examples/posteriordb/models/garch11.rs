//! posteriordb `garch11`: GARCH(1, 1), with `beta1` bounded above by `1 - alpha1`.
//!
//! Model code: 20 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 11 lines of the Stan program's parameters, transformed parameters and
//! model blocks (1.8×).
//! ```stan
//! data {
//!   int<lower=0> T; array[T] real y; real<lower=0> sigma1;
//! }
//! parameters {
//!   real mu;
//!   real<lower=0> alpha0;
//!   real<lower=0, upper=1> alpha1;
//!   real<lower=0, upper=(1 - alpha1)> beta1;
//! }
//! model {
//!   array[T] real sigma;
//!   sigma[1] = sigma1;
//!   for (t in 2 : T) {
//!     sigma[t] = sqrt(alpha0 + alpha1 * square(y[t - 1] - mu)
//!                     + beta1 * square(sigma[t - 1]));
//!   }
//!   y ~ normal(mu, sigma);
//! }
//! ```
//! The priors are flat. The recursion runs on the variances `square(sigma[t])`; `y[1]`, whose
//! scale is the data `sigma1`, is its own term.

use infer::prelude::*;
use ndarray::{Array1, s};

pub struct Garch11 {
    /// `y[1]`.
    y1: f64,
    /// `y[1 ..= T]`.
    y: Array1<f64>,
    /// `y[2 ..= T]`.
    y_rest: Array1<f64>,
    sigma1: f64,
}

impl Garch11 {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let t = d.usize("T")?;
        let y = d.vector_of("y", t)?;
        // the program assigns sigma[1]: T = 0 is an index error in Stan
        let &y1 = y.first().ok_or_else(|| StanDataError::Shape {
            name: "T".into(),
            expected: "at least 1 (the program sets sigma[1])".into(),
            found: "0".into(),
        })?;
        Ok(Garch11 {
            y1,
            y_rest: y.slice(s![1..]).to_owned(),
            y,
            sigma1: d.real("sigma1")?,
        })
    }
}

impl Model for Garch11 {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu = p.scalar("mu", Constraint::Real)?;
        let alpha0 = p.scalar("alpha0", Constraint::Positive)?;
        let alpha1 = p.scalar("alpha1", bounds(0.0, 1.0))?;
        let beta1 = p.scalar("beta1", bounds(0.0, 1.0 - alpha1))?;
        let first = Normal::new(mu, self.sigma1)?.log_prob_sum(self.y1)?;
        // square(sigma[t]) for t = 2, …, T
        let mut var: Vec<Var<'t>> = Vec::with_capacity(self.y_rest.len());
        for t in 1..self.y.len() {
            let shock = alpha0 + alpha1 * (self.y[t - 1] - mu).powi(2);
            var.push(match var.last() {
                Some(&v) => shock + beta1 * v,
                None => shock + beta1 * self.sigma1.powi(2),
            });
        }
        if var.is_empty() {
            return Ok(first);
        }
        let sigma = p.tape().stack_vars(&var)?.sqrt();
        Ok(first + Normal::new(mu, sigma)?.log_prob_sum(&self.y_rest)?)
    }
}
