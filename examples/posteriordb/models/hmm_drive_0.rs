//! posteriordb `hmm_drive_0`: a two-state hidden Markov model of basketball drives with
//! exponential emissions, marginalized over the states by the forward algorithm.
//!
//! Model code: 17 lines from `fn log_density` to its closing brace and the 5 lines of the
//! forward algorithm's loop in `hmm::forward`, shared with `hmm_example` (blank and comment
//! lines not counted), against 33 lines of the Stan program's parameters, transformed
//! parameters and model blocks (0.67×).
//! ```stan
//! data {
//!   int<lower=1> K; // number of states (1 = none, 2 = drive)
//!   int<lower=1> N; // length of process
//!   array[N] real u; // 1/speed
//!   array[N] real v; // hoop distance
//!   matrix<lower=0>[K, K] alpha; // transit prior
//! }
//! parameters {
//!   simplex[K] theta1;
//!   simplex[K] theta2;
//!   positive_ordered[K] phi;
//!   positive_ordered[K] lambda;
//! }
//! transformed parameters {
//!   array[K] simplex[K] theta;
//!   theta[1] = theta1;
//!   theta[2] = theta2;
//! }
//! model {
//!   for (k in 1 : K) {
//!     target += dirichlet_lpdf(theta[k] | alpha[k,  : ]');
//!   }
//!   target += normal_lpdf(phi[1] | 0, 1);
//!   target += normal_lpdf(phi[2] | 3, 1);
//!   target += normal_lpdf(lambda[1] | 0, 1);
//!   target += normal_lpdf(lambda[2] | 3, 1);
//!   {
//!     array[K] real acc;
//!     array[N, K] real gamma;
//!     for (k in 1 : K) {
//!       gamma[1, k] = exponential_lpdf(u[1] | phi[k]) + exponential_lpdf(v[1] | lambda[k]);
//!     }
//!     for (t in 2 : N) {
//!       for (k in 1 : K) {
//!         for (j in 1 : K) {
//!           acc[j] = gamma[t - 1, j] + log(theta[j, k])
//!                    + exponential_lpdf(u[t] | phi[k]) + exponential_lpdf(v[t] | lambda[k]);
//!         }
//!         gamma[t, k] = log_sum_exp(acc);
//!       }
//!     }
//!     target += log_sum_exp(gamma[N]);
//!   }
//! }
//! ```
//! (The generated quantities, a Viterbi path, are left out.) The program needs K = 2: it
//! fills `theta[1]` and `theta[2]` and sets priors on the first two elements of `phi` and
//! `lambda`. Each step of the forward algorithm is one tensor operation over (j, k).

use super::hmm::{self, K};
use infer::prelude::*;
use ndarray::{Array2, Axis};

pub struct HmmDrive0 {
    n: usize,
    /// `u` and `v` as N × 1 columns, to broadcast against the K states.
    u: Array2<f64>,
    v: Array2<f64>,
    alpha: Array2<f64>,
}

impl HmmDrive0 {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let k = d.usize("K")?;
        let n = d.usize("N")?;
        hmm::check_sizes(
            k,
            n,
            "the program sets theta[1], theta[2] and priors on two states",
        )?;
        let alpha = d.matrix("alpha")?;
        if alpha.dim() != (K, K) {
            return Err(StanDataError::Shape {
                name: "alpha".into(),
                expected: format!("[{K}, {K}]"),
                found: format!("{:?}", alpha.shape()),
            });
        }
        Ok(HmmDrive0 {
            n,
            u: d.vector_of("u", n)?.insert_axis(Axis(1)),
            v: d.vector_of("v", n)?.insert_axis(Axis(1)),
            alpha,
        })
    }
}

impl Model for HmmDrive0 {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let t = p.tape();
        let theta1 = p.vector("theta1", K, Constraint::Simplex)?;
        let theta2 = p.vector("theta2", K, Constraint::Simplex)?;
        let phi = p.vector("phi", K, Constraint::PositiveOrdered)?;
        let lambda = p.vector("lambda", K, Constraint::PositiveOrdered)?;
        // row j: the transition probabilities out of state j
        let theta = p.transformed("theta", t.stack(&[theta1, theta2], 0)?)?;
        let log_theta = theta.ln();
        // emit[t, k] = exponential_lpdf(u[t] | phi[k]) + exponential_lpdf(v[t] | lambda[k])
        let emit = Exponential::new(phi.reshape(&[1, K])?)?.log_prob(&self.u)?
            + Exponential::new(lambda.reshape(&[1, K])?)?.log_prob(&self.v)?;
        let gamma = hmm::forward(emit, log_theta, self.n)?;
        let prior_mean: &[f64] = &[0.0, 3.0];
        Ok(Dirichlet::new(&self.alpha)?.log_prob_sum(theta)?
            + Normal::new(prior_mean, 1.0)?.log_prob_sum(phi)?
            + Normal::new(prior_mean, 1.0)?.log_prob_sum(lambda)?
            + gamma.log_sum_exp()?)
    }
}
