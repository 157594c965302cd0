//! posteriordb `kidscore_mom_work`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 4 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.5×).
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] kid_score; array[N] int mom_work;
//! }
//! transformed data {
//!   vector[N] work2; vector[N] work3; vector[N] work4;
//!   for (i in 1 : N) {
//!     work2[i] = mom_work[i] == 2;
//!     work3[i] = mom_work[i] == 3;
//!     work4[i] = mom_work[i] == 4;
//!   }
//! }
//! parameters {
//!   vector[4] beta; real<lower=0> sigma;
//! }
//! model {
//!   kid_score ~ normal(beta[1] + beta[2] * work2 + beta[3] * work3
//!                      + beta[4] * work4, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct KidscoreMomWork {
    /// The design matrix: ones and the indicators `work2`, `work3`, `work4`.
    x: Arc<Array2<f64>>,
    kid_score: Array1<f64>,
}

impl KidscoreMomWork {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let kid_score = d.vector_of("kid_score", n)?;
        let mom_work = d.ints_of("mom_work", n)?;
        let x = Array2::from_shape_fn((n, 4), |(i, j)| match j {
            0 => 1.0,
            _ => f64::from(u8::from(mom_work[i] == j as i64 + 1)),
        });
        Ok(KidscoreMomWork {
            x: Arc::new(x),
            kid_score,
        })
    }
}

impl Model for KidscoreMomWork {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 4, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.kid_score)?)
    }
}
