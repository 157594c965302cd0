//! posteriordb `hmm_example`: a two-state hidden Markov model with normal emissions,
//! marginalized over the states by the forward algorithm.
//!
//! Model code: 11 lines from `fn log_density` to its closing brace and the 5 lines of the
//! forward algorithm's loop in `hmm::forward`, shared with `hmm_drive_0` (blank and comment
//! lines not counted), against 25 lines of the Stan program's parameters, transformed
//! parameters and model blocks (0.64×).
//! ```stan
//! data {
//!   int<lower=0> N; int<lower=0> K; array[N] real y;
//! }
//! parameters {
//!   simplex[K] theta1; simplex[K] theta2; positive_ordered[K] mu;
//! }
//! transformed parameters {
//!   array[K] simplex[K] theta;
//!   theta[1] = theta1;
//!   theta[2] = theta2;
//! }
//! model {
//!   target += normal_lpdf(mu[1] | 3, 1);
//!   target += normal_lpdf(mu[2] | 10, 1);
//!   {
//!     array[K] real acc;
//!     array[N, K] real gamma;
//!     for (k in 1 : K) {
//!       gamma[1, k] = normal_lpdf(y[1] | mu[k], 1);
//!     }
//!     for (t in 2 : N) {
//!       for (k in 1 : K) {
//!         for (j in 1 : K) {
//!           acc[j] = gamma[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);
//!         }
//!         gamma[t, k] = log_sum_exp(acc);
//!       }
//!     }
//!     target += log_sum_exp(gamma[N]);
//!   }
//! }
//! ```
//! (The generated quantities, a Viterbi path, are left out.) The program needs K = 2: it
//! fills `theta[1]` and `theta[2]` and sets priors on `mu[1]` and `mu[2]`. Each step of the
//! forward algorithm is one tensor operation over (j, k): `gamma[t] = log_sum_exp over j of
//! (gamma[t - 1, j] + log(theta[j, k])) + normal_lpdf(y[t] | mu[k], 1)`.

use super::hmm::{self, K};
use infer::prelude::*;
use ndarray::Array2;

pub struct HmmExample {
    n: usize,
    /// `y` as an N × 1 column, to broadcast against the K states.
    y: Array2<f64>,
}

impl HmmExample {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let k = d.usize("K")?;
        hmm::check_sizes(k, n, "the program sets theta[1], theta[2], mu[1], mu[2]")?;
        let y = d.vector_of("y", n)?;
        Ok(HmmExample {
            n,
            y: y.insert_axis(ndarray::Axis(1)),
        })
    }
}

impl Model for HmmExample {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let t = p.tape();
        let theta1 = p.vector("theta1", K, Constraint::Simplex)?;
        let theta2 = p.vector("theta2", K, Constraint::Simplex)?;
        let mu = p.vector("mu", K, Constraint::PositiveOrdered)?;
        // row j: the transition probabilities out of state j
        let theta = p.transformed("theta", t.stack(&[theta1, theta2], 0)?)?;
        let log_theta = theta.ln();
        // emit[t, k] = normal_lpdf(y[t] | mu[k], 1)
        let emit = Normal::new(mu.reshape(&[1, K])?, 1.0)?.log_prob(&self.y)?;
        let gamma = hmm::forward(emit, log_theta, self.n)?;
        Ok(Normal::new(&[3.0, 10.0][..], 1.0)?.log_prob_sum(mu)? + gamma.log_sum_exp()?)
    }
}
