//! posteriordb `logearn_interaction_z`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 4 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.5×).
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] earn; vector[N] height; vector[N] male;
//! }
//! transformed data {
//!   vector[N] log_earn = log(earn);
//!   vector[N] z_height = (height - mean(height)) / sd(height);
//!   vector[N] inter = z_height .* male;
//! }
//! parameters {
//!   vector[4] beta; real<lower=0> sigma;
//! }
//! model {
//!   log_earn ~ normal(beta[1] + beta[2] * z_height + beta[3] * male
//!                     + beta[4] * inter, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct LogearnInteractionZ {
    /// The design matrix: ones, `z_height`, `male`, `inter`.
    x: Arc<Array2<f64>>,
    log_earn: Array1<f64>,
}

impl LogearnInteractionZ {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let height = d.vector_of("height", n)?;
        let male = d.vector_of("male", n)?;
        // Stan's `sd` is the sample standard deviation (divisor N − 1)
        let mean = height.sum() / n as f64;
        let sd = (height.mapv(|h| (h - mean).powi(2)).sum() / (n as f64 - 1.0)).sqrt();
        let z_height = (height - mean) / sd;
        let inter = &z_height * &male;
        let cols = [Array1::ones(n), z_height, male, inter];
        Ok(LogearnInteractionZ {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            log_earn: d.vector_of("earn", n)?.ln(),
        })
    }
}

impl Model for LogearnInteractionZ {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 4, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.log_earn)?)
    }
}
