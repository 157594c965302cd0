//! # infer: Bayesian inference in Rust
//!
//! Differentiable distributions, variational-inference losses, a NUTS sampler and mean-teacher
//! weight smoothing, on an in-house reverse-mode autodiff tape. This facade re-exports the
//! workspace's crates:
//!
//! * [`ad`] — the autodiff tape, tensors, parameters, optimizers, gradient checking;
//! * [`dist`] — probability distributions;
//! * [`loss`] — VI and likelihood losses;
//! * [`mcmc`] — HMC / NUTS;
//! * [`mean_teacher`] — exponential moving averages of parameter sets.
//!
//! ```
//! use infer::prelude::*;
//!
//! let tape = Tape::new();
//! let x = tape.var(1.0);
//! let y = (x * x).exp();
//! y.backward();
//! assert!((x.grad() - 2.0 * 1f64.exp()).abs() < 1e-12);
//! ```

#![forbid(unsafe_code)]

pub use infer_ad as ad;
pub use infer_dist as dist;
pub use infer_loss as loss;
pub use infer_mcmc as mcmc;
pub use infer_mean_teacher as mean_teacher;

/// The names most programs need: with `use infer::prelude::*;` a model can be written and
/// sampled (tape types, every distribution family and [`Constraint`](infer_dist::Constraint),
/// `log_sum_exp` / `log_mix`, the [`Model`](infer_mcmc::model::Model) interface with its
/// bounds, the sampler, its settings and named inits), fitted by ADVI
/// ([`advi_model`](infer_mcmc::advi::advi_model)) and a VI loop run (parameters and
/// optimizers).
///
/// ```
/// use infer::prelude::*;
///
/// struct Coin { heads: f64, flips: f64 }
/// impl Model for Coin {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let theta = p.scalar("theta", bounds(0.0, 1.0))?;
///         Ok(theta.ln() * self.heads + (1.0 - theta).ln() * (self.flips - self.heads)
///             + Beta::new(2.0, 2.0)?.log_prob_sum(theta)?)
///     }
/// }
/// let settings = SamplerSettings { num_chains: 1, num_warmup: 200, num_samples: 200,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?
///     .with_named_inits(vec![Inits::new().set("theta", 0.5)])
///     .sample_model(&Coin { heads: 7.0, flips: 10.0 })?;
/// assert!(fit.draws_by_name("theta")?.iter().all(|&t| 0.0 < t && t < 1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    pub use infer_ad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
    pub use infer_ad::{
        AdError, ParamId, ParamStore, Shape, Tape, Tensor, Var, log_mix, log_mix_weights,
        log_sum_exp,
    };
    pub use infer_dist::prelude::*;
    pub use infer_mcmc::advi::{AdviFamily, AdviFit, AdviSettings, advi, advi_model};
    pub use infer_mcmc::init::Inits;
    pub use infer_mcmc::model::{Model, Params, bounds, lower, upper};
    pub use infer_mcmc::stan_data::{StanData, StanDataError};
    pub use infer_mcmc::{
        Fit, LogDensity, LogDensityError, McmcError, ProgressBars, Sampler, SamplerSettings,
    };
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
