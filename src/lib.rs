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

/// The names most programs need.
pub mod prelude {
    pub use infer_ad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
    pub use infer_ad::{AdError, ParamId, ParamStore, Shape, Tape, Tensor, Var};
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
