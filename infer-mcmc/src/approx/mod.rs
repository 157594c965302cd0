//! Fast approximations of the posterior a [`LogDensity`](crate::LogDensity) (or a
//! [`Model`](crate::model::Model)) defines: the mode by
//! L-BFGS (MAP), the Laplace approximation at the mode, and Pathfinder (single- and
//! multi-path), each returned as an [`Approximation`] — the same names, summary, draws by
//! name and CmdStan CSV as a [`Fit`](crate::Fit) of the sampler.
//!
//! - [`Lbfgs`]: limited-memory BFGS on −log p with a strong-Wolfe line search (Nocedal &
//!   Wright 2006, Algorithms 7.4, 3.5 and 3.6), CmdStan's stopping rules and defaults.
//! - [`optimize`]: the mode; [`laplace`]: draws from N(mode, H⁻¹) with H the Hessian of −log p
//!   by central finite differences of the gradient.
//! - [`pathfinder`]: Zhang, Carpenter, Gelman & Vehtari (2022): along the L-BFGS path, a normal
//!   approximation whose covariance is the diagonal-plus-low-rank inverse-Hessian estimate of
//!   the last (5) correction pairs; the one with the largest ELBO (estimated with 25 draws)
//!   gives 1000 draws. With several paths (4 by default) the draws of all paths are
//!   importance-resampled with Pareto-smoothed importance sampling ([`psis`]), whose Pareto k̂
//!   is reported.
//!
//! **The Jacobian.** These functions approximate the density they are given. A
//! [`TapeModel`](crate::model::TapeModel) includes the log |Jacobian| of its parameters'
//! transforms by default (the posterior of the unconstrained coordinates, what Pathfinder and
//! Laplace approximate); [`TapeModel::with_jacobian(false)`](crate::model::TapeModel::with_jacobian)
//! leaves it out, as Stan's `jacobian=0`: the mode of [`optimize`] is then the mode of the
//! density of the constrained parameters (Stan's default for `optimize`).
//! [`OptimizeSettings::jacobian`] (also in [`LaplaceSettings::optimize`]) chooses it for the
//! `*_model` entry points.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::approx::{PathfinderSettings, pathfinder};
//! use infer_mcmc::models::Gauss;
//!
//! let approx = pathfinder(&PathfinderSettings::default(), |_| Gauss::new(3))?;
//! assert_eq!(approx.num_draws(), 1000);
//! let x1 = approx.draws_by_name("x[1]")?;
//! assert!(x1.mean().is_some_and(|m| m.abs() < 0.2));
//! assert!(approx.pareto_k.is_some_and(|k| k < 0.7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//!
//! - Zhang, L., Carpenter, B., Gelman, A. & Vehtari, A. (2022). Pathfinder: Parallel
//!   quasi-Newton variational inference. *JMLR* 23(306), 1–49.
//! - Nocedal, J. & Wright, S. J. (2006). *Numerical Optimization*, 2nd ed. Springer.
//! - Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
//!   importance sampling. *JMLR* 25(72), 1–58.

mod dense;
mod laplace;
mod lbfgs;
mod linesearch;
mod multi;
mod normal;
mod pathfinder;
mod psis;
mod result;
#[cfg(test)]
mod tests;

pub use laplace::{
    LaplaceSettings, OptimizeSettings, Optimum, hessian, laplace, laplace_model, optimize,
    optimize_model,
};
pub use lbfgs::{Convergence, Lbfgs, LbfgsOptions};
pub use multi::{pathfinder, pathfinder_model, pathfinder_on};
pub use pathfinder::{PathResult, PathfinderSettings, single_path};
pub use psis::{Psis, psis};
pub use result::{APPROX_COLUMNS, Approximation};

use crate::error::{LogDensityError, McmcError};

/// The method an [`Approximation`] comes from.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::Method;
///
/// assert_eq!(Method::MultiPathfinder.cmdstan_name(), "pathfinder");
/// assert_eq!(Method::AdviFullRank.cmdstan_name(), "variational");
/// assert_eq!(Method::Laplace.to_string(), "laplace");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Single-path Pathfinder.
    Pathfinder,
    /// Multi-path Pathfinder with importance resampling.
    MultiPathfinder,
    /// The Laplace approximation at the mode.
    Laplace,
    /// ADVI with a mean-field Gaussian on the unconstrained space.
    AdviMeanField,
    /// ADVI with a full-rank Gaussian on the unconstrained space.
    AdviFullRank,
}

impl Method {
    /// The method's name in CmdStan (`# method = …` of its CSV files).
    #[must_use]
    pub fn cmdstan_name(self) -> &'static str {
        match self {
            Method::Pathfinder | Method::MultiPathfinder => "pathfinder",
            Method::Laplace => "laplace",
            Method::AdviMeanField | Method::AdviFullRank => "variational",
        }
    }

    /// The name used on the command line of the posteriordb runner and in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Method::Pathfinder => "pathfinder",
            Method::MultiPathfinder => "pathfinder-multi",
            Method::Laplace => "laplace",
            Method::AdviMeanField => "advi-meanfield",
            Method::AdviFullRank => "advi-fullrank",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an approximation failed.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{ApproxError, Lbfgs, LbfgsOptions};
/// use infer_mcmc::FnDensity;
///
/// // log p = −∞ at the starting point.
/// let mut flat = FnDensity::new(1, |_: &[f64], g: &mut [f64]| { g[0] = 0.0; Ok(f64::NEG_INFINITY) });
/// let err = Lbfgs::new(&mut flat, vec![0.0], LbfgsOptions::default()).unwrap_err();
/// assert!(matches!(err, ApproxError::NonFiniteInit { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApproxError {
    /// A setting is outside its domain (NaN included).
    #[error("invalid value for `{name}`: {value} ({expected})")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// The log density or its gradient is not finite at the point an optimization starts
    /// from.
    #[error("log density not finite at the initial point (log p = {logp}){}", reason.map_or_else(String::new, |r| format!(": {r}")))]
    NonFiniteInit {
        /// The log density there (NaN when it could not be evaluated at all).
        logp: f64,
        /// The density's reason, when it rejected the point.
        reason: Option<&'static str>,
    },
    /// The line search found no step satisfying the strong Wolfe conditions, even from a
    /// steepest-descent direction.
    #[error("L-BFGS line search failed at iteration {iteration}: {reason} (last step {step})")]
    LineSearch {
        /// The L-BFGS iteration (1-based).
        iteration: usize,
        /// Why it stopped.
        reason: &'static str,
        /// The last step length tried.
        step: f64,
    },
    /// A matrix that must be symmetric positive definite is not (a Cholesky pivot ≤ 0).
    #[error("`{name}` is not positive definite (pivot {index} is {pivot})")]
    NotPositiveDefinite {
        /// The matrix (`negative Hessian` for Laplace).
        name: &'static str,
        /// The row of the failing pivot.
        index: usize,
        /// The pivot.
        pivot: f64,
    },
    /// A Pathfinder path produced no normal approximation with a finite ELBO.
    #[error(
        "Pathfinder path {path}: no iterate gave a finite ELBO ({iterations} L-BFGS iterations)"
    )]
    NoApproximation {
        /// The path (0-based).
        path: usize,
        /// The L-BFGS iterations it ran.
        iterations: usize,
    },
    /// Every path of multi-path Pathfinder failed; the first path's error.
    #[error("all {paths} Pathfinder paths failed; path 0: {first}")]
    AllPathsFailed {
        /// The number of paths.
        paths: usize,
        /// The error of path 0.
        first: Box<ApproxError>,
    },
    /// Arrays given to [`Approximation::new`] disagree in size.
    #[error("`{name}` has length {found}, expected {expected}")]
    DimensionMismatch {
        /// The argument.
        name: &'static str,
        /// The expected length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A draw could not be recorded (its constrained values, transformed parameters or
    /// generated quantities).
    #[error("draw {index} could not be recorded: {source}")]
    Draw {
        /// The draw (0-based).
        index: usize,
        /// The density's error.
        #[source]
        source: LogDensityError,
    },
    /// The Hessian has a non-finite entry: the gradient is not finite at a point of the
    /// finite differences.
    #[error("the finite-difference Hessian is not finite in row {row}")]
    HessianNotFinite {
        /// The coordinate whose difference failed (0-based).
        row: usize,
    },
    /// A fatal log-density failure.
    #[error(transparent)]
    LogDensity(#[from] LogDensityError),
    /// An error of the sampler's machinery: no finite random initial point, a model whose
    /// declarations are invalid, a panic in the model.
    #[error(transparent)]
    Mcmc(#[from] McmcError),
}

impl ApproxError {
    /// Whether the error belongs to one path of multi-path Pathfinder (which then goes on
    /// without it, as Stan's does), rather than to the model or the settings.
    fn is_path_failure(&self) -> bool {
        matches!(
            self,
            ApproxError::NonFiniteInit { .. }
                | ApproxError::LineSearch { .. }
                | ApproxError::NoApproximation { .. }
                | ApproxError::Mcmc(McmcError::NoFiniteInit { .. })
        )
    }
}

crate::error::setting_check!(pub(crate) ApproxError; init_radius, max_init_tries);

/// Evaluates log p and its gradient at `x`: `Ok(Some(log p))` when both are finite,
/// `Ok(None)` for a point the density rejects (a recoverable error, a non-finite value or
/// gradient), the error for a fatal failure.
pub(crate) fn try_eval<M: crate::LogDensity + ?Sized>(
    density: &mut M,
    x: &[f64],
    grad: &mut [f64],
) -> Result<Option<f64>, ApproxError> {
    match density.logp_and_grad(x, grad) {
        Ok(lp) if lp.is_finite() && grad.iter().all(|g| g.is_finite()) => Ok(Some(lp)),
        Ok(_) | Err(LogDensityError::Recoverable { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Runs `f`, a panic of the model code in it returned as
/// [`McmcError::ChainPanicked`] for chain (path) `id`, with the panic's message and location
/// ([`crate::panic`]).
pub(crate) fn catch_panic<T>(
    id: usize,
    f: impl FnOnce() -> Result<T, ApproxError>,
) -> Result<T, ApproxError> {
    crate::panic::catch_model_panic(id, || {
        f().map_err(|e| match e {
            ApproxError::Mcmc(m) => m,
            other => McmcError::LogDensity(LogDensityError::fatal(Carried(other))),
        })
    })
    .map_err(|e| match e {
        McmcError::LogDensity(LogDensityError::Fatal { source }) => {
            match source.downcast::<Carried>() {
                Ok(c) => c.0,
                Err(source) => ApproxError::LogDensity(LogDensityError::Fatal { source }),
            }
        }
        other => ApproxError::Mcmc(other),
    })
}

/// An [`ApproxError`] carried through `catch_model_panic`, which speaks `McmcError`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Carried(ApproxError);
