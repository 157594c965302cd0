//! posteriordb `arK`: an autoregression of order K.
//!
//! Model code: 10 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 14 lines of the Stan program's parameters, transformed parameters and
//! model blocks (0.71×).
//! ```stan
//! data {
//!   int<lower=0> K; int<lower=0> T; array[T] real y;
//! }
//! parameters {
//!   real alpha; array[K] real beta; real<lower=0> sigma;
//! }
//! model {
//!   alpha ~ normal(0, 10);
//!   beta ~ normal(0, 10);
//!   sigma ~ cauchy(0, 2.5);
//!   for (t in (K + 1) : T) {
//!     real mu;
//!     mu = alpha;
//!     for (k in 1 : K) {
//!       mu = mu + beta[k] * y[t - k];
//!     }
//!     y[t] ~ normal(mu, sigma);
//!   }
//! }
//! ```
//! The inner loop is a product with the lag matrix `lags[t - K - 1, k - 1] = y[t - k]`
//! (rows t = K + 1, …, T).

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct ArK {
    k: usize,
    /// `y[K + 1 ..= T]`, the modelled observations.
    y_next: Array1<f64>,
    /// Row t − K − 1 holds `y[t − 1], …, y[t − K]`.
    lags: Arc<Array2<f64>>,
}

impl ArK {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let k = d.usize("K")?;
        let t = d.usize("T")?;
        let y = d.vector_of("y", t)?;
        let rows = t.saturating_sub(k);
        let lags = Array2::from_shape_fn((rows, k), |(i, j)| y[i + k - j - 1]);
        Ok(ArK {
            k,
            y_next: y.slice(ndarray::s![t - rows..]).to_owned(),
            lags: Arc::new(lags),
        })
    }
}

impl Model for ArK {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let alpha = p.scalar("alpha", Constraint::Real)?;
        let beta = p.vector("beta", self.k, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.lags, beta)? + alpha;
        Ok(Normal::new(0.0, 10.0)?.log_prob_sum(alpha)?
            + Normal::new(0.0, 10.0)?.log_prob_sum(beta)?
            + HalfCauchy::new(2.5)?.log_prob_sum(sigma)?
            + Normal::new(mu, sigma)?.log_prob_sum(&self.y_next)?)
    }
}
