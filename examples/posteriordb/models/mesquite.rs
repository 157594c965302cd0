//! posteriordb `mesquite`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 5 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.2×).
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] weight; vector[N] diam1; vector[N] diam2; vector[N] canopy_height;
//!   vector[N] total_height; vector[N] density; vector[N] group;
//! }
//! parameters {
//!   vector[7] beta; real<lower=0> sigma;
//! }
//! model {
//!   weight ~ normal(beta[1] + beta[2] * diam1 + beta[3] * diam2
//!                   + beta[4] * canopy_height + beta[5] * total_height
//!                   + beta[6] * density + beta[7] * group, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct Mesquite {
    /// The design matrix: ones and the six predictors in the order of `beta`.
    x: Arc<Array2<f64>>,
    weight: Array1<f64>,
}

impl Mesquite {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let cols = [
            Array1::ones(n),
            d.vector_of("diam1", n)?,
            d.vector_of("diam2", n)?,
            d.vector_of("canopy_height", n)?,
            d.vector_of("total_height", n)?,
            d.vector_of("density", n)?,
            d.vector_of("group", n)?,
        ];
        Ok(Mesquite {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            weight: d.vector_of("weight", n)?,
        })
    }
}

impl Model for Mesquite {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 7, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.weight)?)
    }
}
