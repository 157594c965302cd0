//! posteriordb `logmesquite_logvash`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 6 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.0×).
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] weight; vector[N] diam1; vector[N] diam2; vector[N] canopy_height;
//!   vector[N] total_height; vector[N] group;
//! }
//! transformed data {
//!   vector[N] log_weight = log(weight);
//!   vector[N] log_canopy_volume = log(diam1 .* diam2 .* canopy_height);
//!   vector[N] log_canopy_area = log(diam1 .* diam2);
//!   vector[N] log_canopy_shape = log(diam1 ./ diam2);
//!   vector[N] log_total_height = log(total_height);
//! }
//! parameters {
//!   vector[6] beta; real<lower=0> sigma;
//! }
//! model {
//!   log_weight ~ normal(beta[1] + beta[2] * log_canopy_volume
//!                       + beta[3] * log_canopy_area
//!                       + beta[4] * log_canopy_shape
//!                       + beta[5] * log_total_height + beta[6] * group, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct LogmesquiteLogvash {
    /// The design matrix: ones and the five predictors in the order of `beta`.
    x: Arc<Array2<f64>>,
    log_weight: Array1<f64>,
}

impl LogmesquiteLogvash {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let diam1 = d.vector_of("diam1", n)?;
        let diam2 = d.vector_of("diam2", n)?;
        let canopy_height = d.vector_of("canopy_height", n)?;
        let cols = [
            Array1::ones(n),
            (&diam1 * &diam2 * &canopy_height).ln(),
            (&diam1 * &diam2).ln(),
            (&diam1 / &diam2).ln(),
            d.vector_of("total_height", n)?.ln(),
            d.vector_of("group", n)?,
        ];
        Ok(LogmesquiteLogvash {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            log_weight: d.vector_of("weight", n)?.ln(),
        })
    }
}

impl Model for LogmesquiteLogvash {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 6, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.log_weight)?)
    }
}
