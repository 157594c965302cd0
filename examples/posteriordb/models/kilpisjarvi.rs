//! posteriordb `kilpisjarvi`:
//!
//! Model code: 10 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 6 lines of the Stan program's parameters, transformed parameters and model
//! blocks (1.7×).
//! ```stan
//! data {
//!   int<lower=0> N; vector[N] x; vector[N] y; real xpred;
//!   real pmualpha; real psalpha; real pmubeta; real psbeta;
//! }
//! parameters {
//!   real alpha; real beta; real<lower=0> sigma;
//! }
//! model {
//!   alpha ~ normal(pmualpha, psalpha);
//!   beta ~ normal(pmubeta, psbeta);
//!   y ~ normal(alpha + beta * x, sigma);
//! }
//! ```
//! (`xpred` is used only by the program's generated quantities, not in the reference.)

use infer::prelude::*;
use ndarray::Array1;

pub struct Kilpisjarvi {
    x: Array1<f64>,
    y: Array1<f64>,
    pmualpha: f64,
    psalpha: f64,
    pmubeta: f64,
    psbeta: f64,
}

impl Kilpisjarvi {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        Ok(Kilpisjarvi {
            x: d.vector_of("x", n)?,
            y: d.vector_of("y", n)?,
            pmualpha: d.real("pmualpha")?,
            psalpha: d.real("psalpha")?,
            pmubeta: d.real("pmubeta")?,
            psbeta: d.real("psbeta")?,
        })
    }
}

impl Model for Kilpisjarvi {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let alpha = p.scalar("alpha", Constraint::Real)?;
        let beta = p.scalar("beta", Constraint::Real)?;
        let sigma = p.scalar("sigma", Constraint::Positive)?;
        Ok(
            Normal::new(self.pmualpha, self.psalpha)?.log_prob_sum(alpha)?
                + Normal::new(self.pmubeta, self.psbeta)?.log_prob_sum(beta)?
                + Normal::new(beta * &self.x + alpha, sigma)?.log_prob_sum(&self.y)?,
        )
    }
}
