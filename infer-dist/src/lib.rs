//! # infer-dist: probability distributions differentiable through the `infer-ad` tape
//!
//! Every family implements [`Distribution`]: an elementwise `log_prob` recorded on the tape as
//! a single fused node (its partial derivatives written by hand and computed in the forward
//! pass), a `log_prob_sum` fast path for N observations, seeded `sample`, and `entropy`,
//! `mean`, `variance` and `cdf` exactly where PyTorch defines them. Parameters are scalars or
//! arrays that broadcast. Constructors validate and return a typed [`DistError`] naming the
//! parameter and the value. Outside the support `log_prob` is −∞ (never NaN) with gradient 0.
//!
//! Optional capabilities are discoverable through `&dyn Distribution`:
//! [`Distribution::as_reparameterizable`] ([`Reparameterizable::rsample`], pathwise draws whose
//! gradients flow to the parameters — including Gamma, Beta, Dirichlet, Chi2, StudentT and
//! InverseGamma through implicit reparameterization gradients) and [`Distribution::family`]
//! (the concrete type, for the closed-form KL registry).
//!
//! ```
//! use infer_ad::Tape;
//! use infer_dist::{Distribution, Gamma, Normal, Reparameterizable};
//! use rand::SeedableRng;
//!
//! let tape = Tape::new();
//! let (loc, scale) = (tape.var(0.5), tape.var(1.5));
//! let prior = Normal::new(loc, scale)?;
//! let data = tape.constant(&ndarray::array![0.1, 1.2, -0.3]);
//! let ll = prior.log_prob_sum(data)?;
//! ll.backward();
//! assert!(loc.grad().is_finite() && scale.grad().is_finite());
//!
//! // a pathwise Gamma draw: the gradient reaches the shape parameter
//! let alpha = tape.var(3.0);
//! let g = Gamma::new(alpha, tape.var(2.0))?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! g.rsample(&mut rng)?.sum().backward();
//! assert!(alpha.grad() > 0.0);
//! # Ok::<(), infer_dist::DistError>(())
//! ```
// One audited exception: the calls of the AVX2/AVX-512 instances of the GLM kernels after
// the CPU check (`glm::glm_dispatch`, `glm::affine::dispatch`, through
// `infer_ad::with_target_features!`), documented with its safety argument.
#![deny(unsafe_code)]

mod bind;
pub mod param;
mod util;

mod bernoulli;
mod beta;
pub mod bijector;
mod binomial;
mod categorical;
mod cauchy;
mod chi2;
mod constraint;
mod delta;
mod dirichlet;
mod dirichlet_multinomial;
mod distribution;
mod error;
mod exponential;
mod gamma;
mod geometric;
mod glm;
mod gumbel;
mod half_cauchy;
mod half_normal;
mod inverse_gamma;
pub mod kl;
mod kumaraswamy;
mod laplace;
mod lkj_cholesky;
mod log_normal;
mod mixture;
mod multinomial;
mod multivariate_normal;
mod negative_binomial;
mod normal;
mod pareto;
mod poisson;
pub mod special;
mod student_t;
mod uniform;
mod weibull;

pub use bernoulli::Bernoulli;
pub use beta::Beta;
pub use bijector::{Bijector, bounded, unbounded};
pub use binomial::Binomial;
pub use categorical::Categorical;
pub use cauchy::Cauchy;
pub use chi2::Chi2;
pub use constraint::Constraint;
pub use delta::Delta;
pub use dirichlet::Dirichlet;
pub use dirichlet_multinomial::DirichletMultinomial;
pub use distribution::{Distribution, Family, Reparameterizable};
pub use error::DistError;
pub use exponential::Exponential;
pub use gamma::Gamma;
pub use geometric::Geometric;
pub use glm::{
    BernoulliLogitGlm, BernoulliLogitGlmDist, GlmDesign, NormalIdGlmDist, PoissonLogGlmDist,
};
pub use gumbel::Gumbel;
pub use half_cauchy::HalfCauchy;
pub use half_normal::HalfNormal;
pub use inverse_gamma::InverseGamma;
pub use kl::{KL_PAIRS, KlDivergence, has_closed_form_kl, kl_divergence};
pub use kumaraswamy::Kumaraswamy;
pub use laplace::Laplace;
pub use lkj_cholesky::LkjCholesky;
pub use log_normal::LogNormal;
pub use mixture::Mixture;
pub use multinomial::Multinomial;
pub use multivariate_normal::MultivariateNormal;
pub use negative_binomial::NegativeBinomial;
pub use normal::Normal;
pub use param::{IntoParam, IntoValue, Param};
pub use pareto::Pareto;
pub use poisson::Poisson;
pub use student_t::StudentT;
pub use uniform::Uniform;
pub use weibull::Weibull;

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        Bernoulli, BernoulliLogitGlm, BernoulliLogitGlmDist, Beta, Bijector, Binomial, Categorical,
        Cauchy, Chi2, Constraint, Delta, Dirichlet, DirichletMultinomial, DistError, Distribution,
        Exponential, Family, Gamma, Geometric, GlmDesign, Gumbel, HalfCauchy, HalfNormal,
        IntoParam, IntoValue, InverseGamma, KlDivergence, Kumaraswamy, Laplace, LkjCholesky,
        LogNormal, Mixture, Multinomial, MultivariateNormal, NegativeBinomial, Normal,
        NormalIdGlmDist, Param, Pareto, Poisson, PoissonLogGlmDist, Reparameterizable, StudentT,
        Uniform, Weibull, bounded, unbounded,
    };
}
