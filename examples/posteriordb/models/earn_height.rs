//! posteriordb `earn_height`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 3 lines of the Stan program's parameters, transformed parameters and model
//! blocks (2.0×).
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] earn; vector[N] height;
//! }
//! parameters {
//!   vector[2] beta; real<lower=0> sigma;
//! }
//! model {
//!   earn ~ normal(beta[1] + beta[2] * height, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct EarnHeight {
    /// The design matrix: a column of ones and `height`.
    x: Arc<Array2<f64>>,
    earn: Array1<f64>,
}

impl EarnHeight {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let cols = [Array1::ones(n), d.vector_of("height", n)?];
        Ok(EarnHeight {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            earn: d.vector_of("earn", n)?,
        })
    }
}

impl Model for EarnHeight {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 2, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.earn)?)
    }
}
