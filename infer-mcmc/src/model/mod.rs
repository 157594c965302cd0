//! Models written as Stan programs are: declare each quantity once, where it is used.
//!
//! A [`Model`] is one function, [`Model::log_density`], that declares its parameters as it
//! goes — [`Params::scalar`], [`Params::vector`], [`Params::matrix`], [`Params::array`], each
//! with its support, bounds possibly depending on earlier parameters — records transformed
//! parameters ([`Params::transformed`]) and generated quantities ([`Params::generated`], run
//! with an RNG once per saved draw, never per gradient) and returns log p up to a constant.
//! The names are written once: [`TapeModel::new`] runs the function once to learn the
//! [`Layout`] (names, shapes, blocks, supports), and every later evaluation takes the k-th
//! declaration as the k-th entry of that layout, with no lookup by name. As in Stan, the
//! declarations — their names, shapes and supports — must not depend on parameter values.
//!
//! [`TapeModel`] is the model as a [`LogDensity`] on the unconstrained space ℝⁿ: each
//! parameter's support maps to a bijection of `infer-dist` (positive → exp, interval → scaled
//! sigmoid, simplex → stick-breaking, …), the log |Jacobian| is added, and saved draws record
//! the parameters on the constrained scale, then the transformed parameters, then the
//! generated quantities, under Stan's names.
//!
//! # Examples
//! Eight schools, non-centered, with the school effects as a transformed parameter and a
//! posterior-predictive replicate as a generated quantity:
//! ```
//! use infer_ad::{Tape, Var};
//! use infer_dist::{Constraint, Distribution, HalfCauchy, Normal};
//! use infer_mcmc::model::{Model, Params};
//! use infer_mcmc::{LogDensityError, Sampler, SamplerSettings};
//!
//! struct EightSchools { y: ndarray::Array1<f64>, sigma: ndarray::Array1<f64> }
//!
//! impl Model for EightSchools {
//!     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
//!         let t = p.tape();
//!         let mu = p.scalar("mu", Constraint::Real)?;
//!         let tau = p.scalar("tau", Constraint::Positive)?;
//!         let eta = p.vector("eta", 8, Constraint::Real)?;
//!         let theta = p.transformed("theta", mu + tau * eta)?;
//!         let sigma = t.constant(&self.sigma);
//!         p.generated("y_rep", |rng| Normal::new(theta, sigma)?.sample(rng))?;
//!         Ok(Normal::new(t.scalar(0.0), t.scalar(5.0))?.log_prob_sum(mu.as_tensor())?
//!             + HalfCauchy::new(t.scalar(5.0))?.log_prob_sum(tau.as_tensor())?
//!             + Normal::new(t.scalar(0.0), t.scalar(1.0))?.log_prob_sum(eta)?
//!             + Normal::new(theta, sigma)?.log_prob_sum(t.constant(&self.y))?)
//!     }
//! }
//!
//! let model = EightSchools {
//!     y: ndarray::arr1(&[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
//!     sigma: ndarray::arr1(&[15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
//! };
//! let settings = SamplerSettings { num_chains: 1, num_warmup: 200, num_samples: 200, ..SamplerSettings::default() };
//! let fit = Sampler::new(settings)?.sample_model(&model)?;
//! assert!(fit.draws_by_name("tau")?.iter().all(|&t| t > 0.0));
//! assert_eq!(fit.param_names()[10], "theta[1]"); // mu, tau, eta[1..8], then theta
//! assert!(fit.draws_by_name("y_rep[8]").is_ok());
//! assert!(fit.draws_by_name("eta[0]").is_err()); // 1-based: the error names eta[1] ..= eta[8]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Layout`]: crate::layout::Layout
//! [`LogDensity`]: crate::density::LogDensity

mod error;
mod params;
mod support;
mod tape_model;

pub use error::ModelError;
pub use params::{GeneratedValue, Params, TapeValue};
pub use support::{Bound, Support, bounds, lower, upper};
pub use tape_model::TapeModel;
pub(crate) use tape_model::tape_models;

use crate::error::LogDensityError;
use infer_ad::Var;

/// A log density over declared, constrained parameters; see the module docs.
pub trait Model {
    /// Declares the parameters (with `p`), records transformed parameters and generated
    /// quantities, and returns log p(θ) up to a constant at the constrained values it was
    /// given. Return [`LogDensityError::Recoverable`] for points the model cannot evaluate
    /// but the chain may continue from (a divergence); `?` on an `infer-dist` error converts
    /// invalid distribution parameters into recoverable errors and everything else into
    /// fatal ones.
    ///
    /// # Errors
    /// As above.
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError>;
}

impl<M: Model + ?Sized> Model for &M {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        (**self).log_density(p)
    }
}
