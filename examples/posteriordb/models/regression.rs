//! The normal linear regression shared by the posteriors whose Stan programs differ only in
//! their data: `earn_height`, `kidscore_interaction`, `kidscore_mom_work`, `kidscore_momhsiq`,
//! `logearn_interaction_z`, `logmesquite_logvash`, `mesquite` and `nes`. Each of their files
//! holds its Stan program and reads the outcome and the predictors (with the program's
//! transformed data); the parameters and model blocks they share are
//! ```stan
//! parameters {
//!   vector[K] beta; real<lower=0> sigma;
//! }
//! model {
//!   sigma ~ cauchy(0, scale); // in some programs only
//!   y ~ normal(beta[1] + beta[2] * x_1 + ... + beta[K] * x_(K-1), sigma);
//! }
//! ```
//!
//! Model code: 12 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted).

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

/// `y ~ normal(X * beta, sigma)` with a flat prior on `beta` and a flat or half-Cauchy prior on
/// `sigma`.
pub struct LinearRegression {
    /// The design matrix: a column of ones, then the predictors in the order of `beta`.
    x: Arc<Array2<f64>>,
    y: Array1<f64>,
    /// The scale of `sigma ~ cauchy(0, scale)`; `None` where the program has no such statement.
    sigma_cauchy_scale: Option<f64>,
}

impl LinearRegression {
    /// The regression of `y` on an intercept (`beta[1]`) and `predictors` (`beta[2]`, ...),
    /// each of the length of `y`, with a flat prior on `sigma`.
    pub fn new(y: Array1<f64>, predictors: &[Array1<f64>]) -> Self {
        let x = Array2::from_shape_fn((y.len(), predictors.len() + 1), |(i, j)| match j {
            0 => 1.0,
            _ => predictors[j - 1][i],
        });
        LinearRegression {
            x: Arc::new(x),
            y,
            sigma_cauchy_scale: None,
        }
    }

    /// Adds the prior `sigma ~ cauchy(0, scale)` (half-Cauchy, as `sigma` is positive).
    pub fn sigma_cauchy(self, scale: f64) -> Self {
        LinearRegression {
            sigma_cauchy_scale: Some(scale),
            ..self
        }
    }
}

/// The regression of the data vector `y` on the data vectors `predictors`, all of length `N`.
pub fn read(d: &StanData, y: &str, predictors: &[&str]) -> Result<LinearRegression, StanDataError> {
    let n = d.usize("N")?;
    let x = predictors
        .iter()
        .map(|name| d.vector_of(name, n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LinearRegression::new(d.vector_of(y, n)?, &x))
}

/// Stan's `v == k` for each element of an integer array, as a vector of 0s and 1s.
pub fn indicator(v: &[i64], k: i64) -> Array1<f64> {
    v.iter().map(|&a| f64::from(u8::from(a == k))).collect()
}

impl Model for LinearRegression {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", self.x.ncols(), Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(match self.sigma_cauchy_scale {
            Some(scale) => {
                HalfCauchy::new(scale)?.log_prob_sum(sigma)?
                    + Normal::new(mu, sigma)?.log_prob_sum(&self.y)?
            }
            None => Normal::new(mu, sigma)?.log_prob_sum(&self.y)?,
        })
    }
}
