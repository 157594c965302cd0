//! posteriordb `nes`:
//!
//! Model code: 6 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 6 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.0×).
//! ```stan
//! data {
//!   int<lower=0> N;
//!   vector[N] partyid7; vector[N] real_ideo; vector[N] race_adj; vector[N] educ1;
//!   vector[N] gender; vector[N] income; array[N] int age_discrete;
//! }
//! transformed data {
//!   vector[N] age30_44; vector[N] age45_64; vector[N] age65up;
//!   for (n in 1 : N) {
//!     age30_44[n] = age_discrete[n] == 2;
//!     age45_64[n] = age_discrete[n] == 3;
//!     age65up[n] = age_discrete[n] == 4;
//!   }
//! }
//! parameters {
//!   vector[9] beta; real<lower=0> sigma;
//! }
//! model {
//!   partyid7 ~ normal(beta[1] + beta[2] * real_ideo + beta[3] * race_adj
//!                     + beta[4] * age30_44 + beta[5] * age45_64
//!                     + beta[6] * age65up + beta[7] * educ1 + beta[8] * gender
//!                     + beta[9] * income, sigma);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub struct Nes {
    /// The design matrix: ones and the eight predictors in the order of `beta`.
    x: Arc<Array2<f64>>,
    partyid7: Array1<f64>,
}

impl Nes {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let age = d.ints_of("age_discrete", n)?;
        let age_is = |k: i64| age.iter().map(|&a| f64::from(u8::from(a == k))).collect();
        let cols: [Array1<f64>; 9] = [
            Array1::ones(n),
            d.vector_of("real_ideo", n)?,
            d.vector_of("race_adj", n)?,
            age_is(2),
            age_is(3),
            age_is(4),
            d.vector_of("educ1", n)?,
            d.vector_of("gender", n)?,
            d.vector_of("income", n)?,
        ];
        Ok(Nes {
            x: Arc::new(Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i])),
            partyid7: d.vector_of("partyid7", n)?,
        })
    }
}

impl Model for Nes {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let beta = p.vector("beta", 9, Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        let mu = p.tape().data_matvec(&self.x, beta)?;
        Ok(Normal::new(mu, sigma)?.log_prob_sum(&self.partyid7)?)
    }
}
