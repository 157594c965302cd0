//! Hamiltonian Monte Carlo and the No-U-Turn sampler.
//!
//! The sampling engine works against a plain `f64` log-density interface, [`LogDensity`]:
//! log p(x) and its gradient over ℝⁿ. On top of it:
//!
//! - [`Nuts`]: multinomial NUTS exactly as Stan's `base_nuts` (generalized U-turn criterion
//!   with the checks across subtree boundaries, divergence at H − H₀ > 1000, max depth 10),
//!   and [`StaticHmc`]; both expose a single-transition API.
//! - [`adapt`]: dual averaging, Stan's step-size heuristic, windowed metric adaptation, and
//!   nutpie's gradient-informed diagonal and diagonal-plus-low-rank warmups.
//! - [`Sampler`]: Stan's warmup, several chains on threads, reproducible per-chain seeds,
//!   Stan's per-draw statistics, an [`Observer`] for progress.
//! - [`models`]: the benchmark posteriors with exact hand-written gradients.
//! - [`approx`]: fast approximations of the same densities — the mode by L-BFGS (MAP),
//!   Laplace, single- and multi-path Pathfinder — as an [`approx::Approximation`] with the
//!   names, summary and CSV of a [`Fit`]; Pathfinder draws can start the chains
//!   ([`InitStrategy::Pathfinder`]), and their variances the warmup's metric
//!   ([`InitStrategy::PathfinderMetric`]).
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::{Sampler, SamplerSettings, models::EightSchools};
//!
//! let settings = SamplerSettings { num_chains: 2, num_warmup: 300, num_samples: 300,
//!                                  target_accept: 0.9, ..SamplerSettings::default() };
//! let fit = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
//! let tau = fit.draws_by_name("tau").expect("tau is recorded");
//! assert_eq!(tau.dim(), (2, 300));
//! assert!(tau.iter().all(|&t| t > 0.0));
//! # Ok::<(), infer_mcmc::McmcError>(())
//! ```
//!
//! # References
//!
//! - Hoffman & Gelman (2014), *The No-U-Turn Sampler*, JMLR 15(47).
//! - Betancourt (2017), *A Conceptual Introduction to Hamiltonian Monte Carlo*, arXiv:1701.02434.
//! - Stan Development Team, *Stan Reference Manual*, "MCMC Sampling".

#![forbid(unsafe_code)]
pub mod diagnostics;

pub mod adapt;
pub mod advi;
pub mod approx;
pub mod checkpoint;
pub mod density;
pub mod error;
pub mod fit;
pub mod hamiltonian;
pub mod hmc;
pub mod init;
pub mod kernel;
pub mod layout;
mod linalg;
pub mod metric;
pub mod model;
pub mod models;
pub mod nuts;
pub mod observer;
pub mod panic;
pub mod sampler;
pub mod settings;
pub mod stan_data;
pub mod step;
pub mod transition;
pub mod until;

pub use adapt::{DualAveraging, DualAveragingOptions, dual_averaging};
pub use density::{FnDensity, LogDensity};
pub use error::{BoxError, LogDensityError, McmcError};
pub use fit::{Chain, ChainState, DrawStats, Fit, STAT_NAMES};
pub use hamiltonian::{Divergence, LeapfrogOutcome, Position};
pub use hmc::StaticHmc;
pub use init::random_init;
pub use kernel::{Integrator, Kernel};
pub use metric::{Metric, MetricKind};
pub use nuts::{Nuts, NutsOptions};
pub use observer::{AdaptStage, DrawEvent, NoObserver, Observer, Phase};
pub use panic::PanicLocation;
pub use sampler::{Sampler, chain_seed};
pub use settings::{AdaptSettings, Adaptation, Algorithm, InitStrategy, SamplerSettings};
pub use transition::Transition;
pub use until::{SamplingTarget, TargetReport};
pub mod csv;
pub mod output;
pub mod progress;
pub mod summary;
pub use output::OutputError;
pub use progress::{ProgressBars, ProgressStyle};
