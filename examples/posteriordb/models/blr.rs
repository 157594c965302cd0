//! posteriordb `blr`:
//!
//! Model code: 8 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 5 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.6×).
//! ```stan
//! data {
//!   int<lower=0> N; int<lower=0> D; matrix[N, D] X; vector[N] y;
//! }
//! parameters {
//!   vector[D] beta; real<lower=0> sigma;
//! }
//! model {
//!   target += normal_lpdf(beta | 0, 10);
//!   target += normal_lpdf(sigma | 0, 10);
//!   target += normal_lpdf(y | X * beta, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct Blr {
    d: usize,
    x: Arc<Array2<f64>>,
    y: Array1<f64>,
}

impl Blr {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let (n, k) = (d.usize("N")?, d.usize("D")?);
        let x = d.matrix("X")?;
        if x.dim() != (n, k) {
            return Err(StanDataError::Shape {
                name: "X".into(),
                expected: format!("{n} × {k}"),
                found: format!("{} × {}", x.nrows(), x.ncols()),
            });
        }
        Ok(Blr {
            d: k,
            x: Arc::new(x),
            y: d.vector_of("y", n)?,
        })
    }
}

impl Model for Blr {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", self.d, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(0.0, 10.0)?.log_prob_sum(beta)?
            + HalfNormal::new(10.0)?.log_prob_sum(sigma)?
            + Normal::new(mu, sigma)?.log_prob_sum(&self.y)?)
    }
}
