//! posteriordb `gp_pois_regr`: a latent Gaussian process with a squared-exponential kernel,
//! non-centred through the Cholesky factor of its covariance, and a Poisson likelihood.
//!
//! Model code: 13 lines from `fn log_density` to its closing brace (blank and comment lines not
//! counted), against 14 lines of the Stan program's parameters, transformed parameters and
//! model blocks (0.93×).
//! ```stan
//! data {
//!   int<lower=1> N; array[N] real x; array[N] int k;
//! }
//! parameters {
//!   real<lower=0> rho; real<lower=0> alpha; vector[N] f_tilde;
//! }
//! transformed parameters {
//!   vector[N] f;
//!   {
//!     matrix[N, N] cov = gp_exp_quad_cov(x, alpha, rho)
//!                        + diag_matrix(rep_vector(1e-10, N));
//!     matrix[N, N] L_cov = cholesky_decompose(cov);
//!     f = L_cov * f_tilde;
//!   }
//! }
//! model {
//!   rho ~ gamma(25, 4); alpha ~ normal(0, 2); f_tilde ~ normal(0, 1);
//!   k ~ poisson_log(f);
//! }
//! ```

use infer::prelude::*;
use ndarray::{Array1, Array2};

pub struct GpPoisRegr {
    n: usize,
    /// −½ (xᵢ − xⱼ)², the data part of `gp_exp_quad_cov`'s exponent.
    half_sq_dist: Array2<f64>,
    /// The jitter 1e-10 on the diagonal.
    jitter: Array2<f64>,
    k: Array1<f64>,
}

impl GpPoisRegr {
    pub fn new(d: &StanData) -> Result<Self, StanDataError> {
        let n = d.usize("N")?;
        let x = d.vector_of("x", n)?;
        let k = d.ints_of("k", n)?;
        Ok(GpPoisRegr {
            n,
            half_sq_dist: Array2::from_shape_fn((n, n), |(i, j)| -0.5 * (x[i] - x[j]).powi(2)),
            jitter: Array2::eye(n) * 1e-10,
            k: k.iter().map(|&v| v as f64).collect(),
        })
    }
}

impl Model for GpPoisRegr {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let rho = p.scalar("rho", Constraint::Positive)?;
        let alpha = p.scalar("alpha", Constraint::Positive)?;
        let f_tilde = p.vector("f_tilde", self.n, Constraint::Real)?;
        // gp_exp_quad_cov(x, α, ρ) = α² exp(−(xᵢ − xⱼ)²/(2ρ²))
        let cov = (tape.constant(&self.half_sq_dist) / (rho * rho)).exp() * (alpha * alpha)
            + &self.jitter;
        let f = p.transformed("f", cov.cholesky()?.matvec(f_tilde)?)?;
        Ok(Gamma::new(25.0, 4.0)?.log_prob_sum(rho)?
            + HalfNormal::new(2.0)?.log_prob_sum(alpha)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(f_tilde)?
            + Poisson::new(f.exp())?.log_prob_sum(&self.k)?)
    }
}
