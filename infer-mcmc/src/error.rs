//! Error types of the crate: the log-density contract and the sampler's failures.

use std::error::Error as StdError;

use crate::panic::PanicLocation;

/// A boxed error carried by a fatal log-density failure.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure reported by a [`LogDensity`](crate::LogDensity) evaluation.
///
/// The distinction matters inside a Hamiltonian trajectory: a *recoverable* failure (a
/// proposal outside the support, an overflow in a region of negligible mass) ends the
/// trajectory as a divergence and the chain goes on; a *fatal* failure (a bug, an
/// inconsistent model) stops the chain and is returned to the caller.
///
/// # Examples
///
/// ```
/// use infer_mcmc::LogDensityError;
///
/// let soft = LogDensityError::recoverable("scale must be positive");
/// assert!(soft.is_recoverable());
/// let hard = LogDensityError::fatal(std::io::Error::other("tape corrupted"));
/// assert!(!hard.is_recoverable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogDensityError {
    /// The point cannot be evaluated but the chain may continue: inside a trajectory this is
    /// a divergence; at the initial point another initial point is tried.
    #[error("log density not available at this point: {reason}")]
    Recoverable {
        /// Why the point was rejected (static, so that reporting it allocates nothing).
        reason: &'static str,
    },
    /// The model is broken; the chain stops with this error.
    #[error("fatal log-density failure: {source}")]
    Fatal {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl LogDensityError {
    /// A recoverable failure with a static reason.
    #[must_use]
    pub fn recoverable(reason: &'static str) -> Self {
        Self::Recoverable { reason }
    }

    /// A fatal failure wrapping any error.
    #[must_use]
    pub fn fatal(source: impl Into<BoxError>) -> Self {
        Self::Fatal {
            source: source.into(),
        }
    }

    /// Whether the failure is recoverable (a divergence inside a trajectory).
    #[must_use]
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::Recoverable { .. })
    }
}

/// Errors of the samplers, the adaptation and the models of this crate.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{McmcError, SamplerSettings, Sampler};
///
/// let settings = SamplerSettings { target_accept: 1.5, ..SamplerSettings::default() };
/// let err = Sampler::new(settings).unwrap_err();
/// assert!(matches!(err, McmcError::InvalidSetting { name: "target_accept", .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McmcError {
    /// A model declares a parameter the sampler cannot work with.
    #[error("model parameter `{param}`: {reason}")]
    InvalidModel {
        /// The parameter's name.
        param: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A numeric setting or argument is outside its domain (NaN included).
    #[error("invalid value for `{name}`: {value} ({expected})")]
    InvalidSetting {
        /// Name of the setting or argument.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A vector or matrix has the wrong length.
    #[error("`{name}` has length {found}, expected {expected}")]
    DimensionMismatch {
        /// Name of the argument.
        name: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A model of dimension zero cannot be sampled.
    #[error("the log density has dimension 0")]
    ZeroDimension,
    /// The log density (or its gradient) is not finite at a point where it must be: the
    /// starting point of a transition or a user-supplied initial value.
    #[error("log density is not finite at the starting point (log p = {logp})")]
    NonFiniteStart {
        /// The log density found there (NaN, ±∞, or finite with a non-finite gradient).
        logp: f64,
    },
    /// No initial point with a finite log density and gradient was found.
    #[error(
        "chain {chain}: no finite initial point in {tries} tries of Uniform(-{radius}, {radius})"
    )]
    NoFiniteInit {
        /// The chain.
        chain: usize,
        /// How many random points were tried.
        tries: usize,
        /// Half-width of the uniform initialization box.
        radius: f64,
    },
    /// The step-size heuristic left the range (0, 1e7): the posterior is improper or not
    /// continuous.
    #[error(
        "step-size search failed at step size {step_size}: the posterior looks improper or discontinuous"
    )]
    StepSizeSearch {
        /// The step size at which the search stopped.
        step_size: f64,
    },
    /// A matrix that must be symmetric positive definite is not (Cholesky failed).
    #[error("`{name}` is not symmetric positive definite (pivot {index} is {pivot})")]
    NotPositiveDefinite {
        /// Name of the matrix.
        name: &'static str,
        /// Row of the failing pivot.
        index: usize,
        /// The non-positive pivot.
        pivot: f64,
    },
    /// The estimated metric during warmup is not finite.
    #[error("chain {chain}: the adapted metric is not finite")]
    NonFiniteMetric {
        /// The chain.
        chain: usize,
    },
    /// An entry of a user-given inverse metric is invalid: not finite, not positive on the
    /// diagonal, or breaking the symmetry of a dense matrix (beyond the tolerance stated at
    /// [`Metric::dense`](crate::Metric::dense)).
    #[error("inverse metric entry ({row}, {col}) = {value}: {reason}")]
    InvalidMetric {
        /// Row of the entry (0-based).
        row: usize,
        /// Column of the entry (0-based; equal to `row` for a diagonal metric).
        col: usize,
        /// The offending value.
        value: f64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A setting asks for more output than this process can allocate (the draws of
    /// `num_samples`, the saved warmup of `num_warmup`, or the per-chain results of
    /// `num_chains`).
    #[error("`{name}` = {value} needs more memory than can be allocated for the output")]
    OutputTooLarge {
        /// Name of the setting.
        name: &'static str,
        /// Its value.
        value: usize,
    },
    /// [`Fit::draws_by_name`](crate::Fit::draws_by_name): no recorded value has this name.
    #[error("no recorded value named `{name}`: {hint}")]
    UnknownName {
        /// The name asked for.
        name: String,
        /// What the valid names are (for an indexed name, the valid 1-based index range).
        hint: String,
    },
    /// The diagnostics of a recorded value could not be computed (e.g. a non-finite draw),
    /// when a stopping rule needed them ([`Sampler::sample_until`](crate::Sampler::sample_until)).
    #[error("diagnostics of `{name}`: {source}")]
    Diagnostics {
        /// The recorded value's name (`theta[2]`).
        name: String,
        /// Why.
        source: crate::diagnostics::DiagnosticsError,
    },
    /// The model's declarations or inits are invalid (see [`ModelError`](crate::model::ModelError)).
    #[error("model: {0}")]
    Model(#[from] crate::model::ModelError),
    /// A fatal log-density failure.
    #[error("log density failed: {0}")]
    LogDensity(#[from] LogDensityError),
    /// The approximation that was to give the chains' initial points
    /// ([`InitStrategy::Pathfinder`](crate::settings::InitStrategy::Pathfinder)) or their
    /// warmup's initial metric
    /// ([`InitStrategy::PathfinderMetric`](crate::settings::InitStrategy::PathfinderMetric))
    /// failed.
    #[error("Pathfinder inits failed: {source}")]
    InitApproximation {
        /// Pathfinder's error.
        #[source]
        source: Box<crate::approx::ApproxError>,
    },
    /// A chain stopped with an error.
    #[error("chain {chain} failed at iteration {iteration}: {source}")]
    Chain {
        /// The chain.
        chain: usize,
        /// The iteration (warmup first, counted from 0).
        iteration: usize,
        /// What went wrong.
        #[source]
        source: Box<McmcError>,
    },
    /// Code of the model panicked while a chain ran (building the model, evaluating its log
    /// density or recording a draw): an operator on shapes that do not broadcast, an index
    /// out of range, an `expect`… The panic's message and the source location it names are
    /// kept (see [`crate::panic`]); the other chains are not affected by it.
    #[error("chain {chain}: the model panicked{}: {message}", location.as_ref().map_or_else(String::new, |l| format!(" at {l}")))]
    ChainPanicked {
        /// The chain.
        chain: usize,
        /// The panic's message (e.g. `add: shapes [3] and [2] do not broadcast`).
        message: String,
        /// Where the panic happened (for `infer-ad`'s `#[track_caller]` operators, the line
        /// of the model that applied them); `None` if another panic hook replaced the one
        /// this crate installs.
        location: Option<PanicLocation>,
    },
}

/// Defines `check(ok, name, value, expected)` for an error type with an `InvalidSetting`
/// variant: `Ok(())` if `ok`, else that error for the setting `name` = `value`, which should be
/// `expected`; after a `;`, the checks of the initialization settings named
/// (`check_init_radius`, `check_max_init_tries`), written once for every settings type.
macro_rules! setting_check {
    ($vis:vis $err:ident $(; $($rule:ident),+)?) => {
        $crate::error::setting_check!(@check $vis $err);
        $($($crate::error::setting_check!(@$rule $vis $err);)+)?
    };
    (@init_radius $vis:vis $err:ident) => {
        /// Checks `init_radius`: finite and ≥ 0.
        $vis fn check_init_radius(init_radius: f64) -> Result<(), $err> {
            check(
                init_radius >= 0.0 && init_radius.is_finite(),
                "init_radius",
                init_radius,
                "finite and >= 0",
            )
        }
    };
    (@max_init_tries $vis:vis $err:ident) => {
        /// Checks `max_init_tries`: 1 ..= [`MAX_INIT_TRIES`](crate::settings::MAX_INIT_TRIES).
        $vis fn check_max_init_tries(max_init_tries: usize) -> Result<(), $err> {
            check(
                (1..=crate::settings::MAX_INIT_TRIES).contains(&max_init_tries),
                "max_init_tries",
                max_init_tries as f64,
                "an integer in 1..=1000000",
            )
        }
    };
    (@check $vis:vis $err:ident) => {
        #[doc = concat!("Returns an [`", stringify!($err), "::InvalidSetting`] unless `ok`.")]
        $vis fn check(
            ok: bool,
            name: &'static str,
            value: f64,
            expected: &'static str,
        ) -> Result<(), $err> {
            if ok {
                Ok(())
            } else {
                Err($err::InvalidSetting {
                    name,
                    value,
                    expected,
                })
            }
        }
    };
}
pub(crate) use setting_check;

setting_check!(pub(crate) McmcError; init_radius, max_init_tries);
