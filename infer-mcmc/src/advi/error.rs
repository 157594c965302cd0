//! ADVI's error type.

use crate::error::{LogDensityError, McmcError};

/// Why an ADVI fit failed.
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{advi, AdviError, AdviSettings};
/// use infer_mcmc::FnDensity;
/// use rand::SeedableRng;
///
/// // log p is −∞ everywhere: no starting point.
/// let mut flat = FnDensity::new(1, |_: &[f64], g: &mut [f64]| {
///     g[0] = 0.0;
///     Ok(f64::NEG_INFINITY)
/// });
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let err = advi(&mut flat, &AdviSettings::default(), &mut rng).unwrap_err();
/// assert!(matches!(err, AdviError::NoFiniteInit { tries: 100, .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdviError {
    /// A setting is outside its domain (NaN included).
    #[error("invalid value for `{name}`: {value} ({expected})")]
    InvalidSetting {
        /// Name of the setting.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// The given `init` has the wrong number of coordinates.
    #[error("`init` has {found} coordinates, the log density has dimension {expected}")]
    InitDimension {
        /// The density's dimension.
        expected: usize,
        /// Coordinates given.
        found: usize,
    },
    /// The log density or its gradient is not finite at the given `init`.
    #[error("log density is not finite at `init` (log p = {logp})")]
    NonFiniteInit {
        /// The value found there (NaN, ±∞, or finite with a non-finite gradient).
        logp: f64,
    },
    /// No random starting point with a finite log density and gradient was found.
    #[error("no finite initial point in {tries} tries of Uniform(-{radius}, {radius})")]
    NoFiniteInit {
        /// Points tried.
        tries: usize,
        /// Half-width of the box.
        radius: f64,
    },
    /// The log density has dimension 0.
    #[error("the log density has dimension 0")]
    ZeroDimension,
    /// Every draw of an estimate had a non-finite (or failing) log density: the guide put
    /// its mass where the model cannot be evaluated. `what` is `"gradient"` (after
    /// 10 × `grad_samples` dropped draws, Stan's limit) or `"ELBO"` (after `elbo_samples`).
    #[error(
        "iteration {iteration}: {dropped} draws of the {what} estimate dropped (log density not finite); the model may be ill-conditioned or misspecified"
    )]
    DroppedDraws {
        /// `"gradient"` or `"ELBO"`.
        what: &'static str,
        /// The iteration (0 for the ELBO at the start).
        iteration: usize,
        /// Draws dropped.
        dropped: usize,
    },
    /// The fit diverged: the ELBO, its gradient or a guide parameter became NaN or ±∞ (or a
    /// scale under- or overflowed).
    #[error("iteration {iteration}: the fit diverged ({what} = {value})")]
    Diverged {
        /// The iteration.
        iteration: usize,
        /// What became non-finite: `"ELBO"`, `"gradient"`, `"guide scale"`.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// Stan's step-size search: every η of 100, 10, 1, 0.1, 0.01 ended with an ELBO no better
    /// than the initial one.
    #[error(
        "every step size tried (eta = 100, 10, 1, 0.1, 0.01) failed to improve the initial ELBO {initial_elbo}"
    )]
    EtaAdaptation {
        /// The ELBO of the initial guide.
        initial_elbo: f64,
    },
    /// A fatal log-density failure (a bug or an inconsistent model), or a failure to map an
    /// output draw to its recorded values.
    #[error("log density failed: {0}")]
    LogDensity(#[from] LogDensityError),
    /// The density's code panicked (an operator on shapes that do not broadcast, an index out
    /// of range…): the panic's message and the source location it names, as
    /// [`McmcError::ChainPanicked`] reports a chain's.
    #[error("the model panicked{}: {message}", location.as_ref().map_or_else(String::new, |l| format!(" at {l}")))]
    ModelPanicked {
        /// The panic's message.
        message: String,
        /// Where it happened, if the crate's panic hook recorded it.
        location: Option<crate::panic::PanicLocation>,
    },
    /// Wrapping a [`Model`](crate::model::Model) failed (invalid declarations).
    #[error(transparent)]
    Model(#[from] McmcError),
    /// The guide could not be recorded on its tape (an internal error: shapes are fixed by
    /// the dimension).
    #[error("recording the guide: {0}")]
    Loss(#[from] infer_loss::LossError),
    /// [`AdviFit::draws_of`](super::AdviFit::draws_of): no recorded value has this
    /// name.
    #[error("no recorded value named `{name}`")]
    UnknownName {
        /// The name asked for.
        name: String,
    },
}
