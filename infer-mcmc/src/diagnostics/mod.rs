//! MCMC convergence diagnostics of one scalar quantity: rank-normalized split R̂, bulk and tail
//! effective sample sizes, the Monte Carlo standard error of the mean, and quantiles.
//!
//! Every function takes the draws as a chains × draws [`ArrayView2`] and follows ArviZ
//! (`arviz.rhat`, `arviz.ess`, `arviz.mcse`), which implements Vehtari et al. (2021); the
//! workspace conformance cases check agreement to a relative 1e-6. Autocovariances are
//! computed by FFT, so 4 chains × 25,000 draws take milliseconds.
//!
//! Inputs must have at least one chain, at least 4 draws per chain and only finite values;
//! anything else is a [`DiagnosticsError`]. Degenerate but valid inputs give the values ArviZ
//! gives: constant draws have `NaN` R̂, an ESS equal to the number of draws and an MCSE of 0;
//! a single chain has `NaN` R̂.
//!
//! # Examples
//!
//! ```
//! use ndarray::Array2;
//! use infer_mcmc::diagnostics::Diagnostics;
//!
//! let draws = Array2::from_shape_fn((4, 500), |(c, i)| ((i * 7919 + c * 104_729) % 1000) as f64);
//! let d = Diagnostics::new(draws.view())?;
//! assert!(d.rhat < 1.01);
//! assert!(d.ess_bulk > 1000.0);
//! # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
//! ```
//!
//! # References
//!
//! - Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021).
//!   Rank-normalization, folding, and localization: an improved R̂ for assessing convergence of
//!   MCMC. *Bayesian Analysis* 16(2), 667–718.
//! - Geyer, C. J. (1992). Practical Markov chain Monte Carlo. *Statistical Science* 7(4),
//!   473–483.

mod autocov;
mod chains;
mod ess;
mod mcse;
mod pareto;
mod quantile;
mod rank;
mod rhat;

use ndarray::ArrayView2;

pub use ess::{ess_bulk, ess_mean, ess_quantile, ess_tail};
pub use mcse::{mcse_mean, mcse_sd};
pub use pareto::{GpdFit, gpd_fit, pareto_khat};
pub use quantile::{quantile, quantiles};
pub use rhat::rhat;

use chains::{Chains, mean, variance};

/// Why the diagnostics of a set of draws could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DiagnosticsError {
    /// There are no chains, or the chains have no draws.
    #[error("no draws to diagnose ({chains} chains × {draws} draws)")]
    Empty {
        /// Number of chains given.
        chains: usize,
        /// Number of draws per chain given.
        draws: usize,
    },
    /// Each chain must have at least 4 draws (2 per half after the split).
    #[error("diagnostics need at least 4 draws per chain, got {draws}")]
    TooFewDraws {
        /// Number of draws per chain given.
        draws: usize,
    },
    /// A draw is NaN or infinite.
    #[error("draw {draw} of chain {chain} is not finite: {value}")]
    NonFinite {
        /// Chain index (0-based).
        chain: usize,
        /// Draw index within the chain (0-based).
        draw: usize,
        /// The offending value.
        value: f64,
    },
    /// Every draw is the same number: a spread (the MCSE of the sd) is not defined.
    #[error("all draws are equal: the Monte Carlo error of the sd is not defined")]
    Constant,
    /// A quantile probability is outside `[0, 1]` (or NaN).
    #[error("quantile probability must be in [0, 1], got {prob}")]
    InvalidProbability {
        /// The offending probability.
        prob: f64,
    },
}

/// All diagnostics of one scalar quantity, computed together (one validation, one sort, shared
/// split chains).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Diagnostics {
    /// Mean of all draws.
    pub mean: f64,
    /// Standard deviation of all draws (divisor `S − 1`).
    pub sd: f64,
    /// Monte Carlo standard error of the mean, [`mcse_mean`].
    pub mcse_mean: f64,
    /// 5% quantile of the pooled draws (type 7).
    pub q5: f64,
    /// Median of the pooled draws.
    pub q50: f64,
    /// 95% quantile of the pooled draws (type 7).
    pub q95: f64,
    /// Bulk effective sample size, [`ess_bulk`].
    pub ess_bulk: f64,
    /// Tail effective sample size, [`ess_tail`].
    pub ess_tail: f64,
    /// Classic split-chain effective sample size of the mean, [`ess_mean`].
    pub ess_mean: f64,
    /// Rank-normalized split R̂, [`rhat`] (`NaN` with one chain).
    pub rhat: f64,
    /// Number of chains.
    pub chains: usize,
    /// Number of draws per chain.
    pub draws: usize,
}

impl Diagnostics {
    /// Computes every diagnostic of the draws (chains × draws).
    ///
    /// # Errors
    ///
    /// [`DiagnosticsError`] when the draws are empty, have fewer than 4 draws per chain or hold
    /// a non-finite value.
    pub fn new(draws: ArrayView2<'_, f64>) -> Result<Self, DiagnosticsError> {
        let chains = Chains::from_view(draws)?;
        let sorted = quantile::sorted(chains.values());
        let split = chains.split();
        let z_split = rank::z_scale(&split);
        let ess_mean = ess::geyer_ess(&split);
        let sd = variance(chains.values(), 1).sqrt();
        Ok(Self {
            mean: mean(chains.values()),
            sd,
            mcse_mean: sd / ess_mean.sqrt(),
            q5: quantile::sorted_quantile(&sorted, 0.05),
            q50: quantile::sorted_quantile(&sorted, 0.5),
            q95: quantile::sorted_quantile(&sorted, 0.95),
            ess_bulk: ess::geyer_ess(&z_split),
            ess_tail: ess::tail(&chains, &sorted),
            ess_mean,
            rhat: rhat::from_split(&split, &z_split),
            chains: chains.chains(),
            draws: chains.draws(),
        })
    }
}
