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
// Audited exceptions, each documented with its safety argument: the calls of the AVX2/AVX-512
// instances of the GLM kernels after the CPU check (`glm::kernel::glm_dispatch`,
// `glm::affine::dispatch`, through `infer_ad::with_target_features!`), and the AVX-512
// instance of the StudentT kernel (`student_t::kernel::avx512`: its call after the CPU check,
// and the unaligned vector loads and stores of its block within bounds-checked arrays).
#![deny(unsafe_code)]

/// The registry of the families: `module::Type`, one line a family. Each entry declares the
/// module, re-exports the type at the crate root and in the [`prelude`], and gives it its variant
/// of [`Family`]. A new family is its file and its line here.
macro_rules! for_each_family {
    ($m:ident) => {
        $m! {
            normal::Normal,
            cauchy::Cauchy,
            log_normal::LogNormal,
            half_normal::HalfNormal,
            half_cauchy::HalfCauchy,
            exponential::Exponential,
            gamma::Gamma,
            inverse_gamma::InverseGamma,
            beta::Beta,
            student_t::StudentT,
            laplace::Laplace,
            uniform::Uniform,
            gumbel::Gumbel,
            weibull::Weibull,
            chi2::Chi2,
            pareto::Pareto,
            kumaraswamy::Kumaraswamy,
            bernoulli::Bernoulli,
            binomial::Binomial,
            poisson::Poisson,
            geometric::Geometric,
            negative_binomial::NegativeBinomial,
            categorical::Categorical,
            dirichlet::Dirichlet,
            multivariate_normal::MultivariateNormal,
            delta::Delta,
            multinomial::Multinomial,
            dirichlet_multinomial::DirichletMultinomial,
            lkj_cholesky::LkjCholesky,
        }
    };
}

/// The modules and root re-exports of the registered families.
macro_rules! declare_families {
    ($($module:ident::$ty:ident),* $(,)?) => {
        $(
            mod $module;
            pub use $module::$ty;
        )*
    };
}

mod bind;
pub mod param;
mod util;

pub mod bijector;
mod constraint;
mod distribution;
mod elementwise;
mod error;
mod glm;
pub mod kl;
mod mixture;
pub mod special;

for_each_family!(declare_families);

pub use bijector::{Bijector, bounded, unbounded};
pub use constraint::Constraint;
pub use distribution::{Distribution, Family, Reparameterizable};
pub use error::DistError;
pub use glm::{
    BernoulliLogitGlm, BernoulliLogitGlmDist, GlmDesign, NormalIdGlmDist, PoissonLogGlmDist,
};
pub use kl::{KL_PAIRS, KlDivergence, has_closed_form_kl, kl_divergence};
pub use mixture::Mixture;
pub use param::{IntoParam, IntoValue, Param};

/// The prelude's re-exports of the registered families.
macro_rules! prelude_families {
    ($($module:ident::$ty:ident),* $(,)?) => {
        pub use crate::{$($ty),*};
    };
}

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        BernoulliLogitGlm, BernoulliLogitGlmDist, Bijector, Constraint, DistError, Distribution,
        Family, GlmDesign, IntoParam, IntoValue, KlDivergence, Mixture, NormalIdGlmDist, Param,
        PoissonLogGlmDist, Reparameterizable, bounded, unbounded,
    };
    for_each_family!(prelude_families);
}
