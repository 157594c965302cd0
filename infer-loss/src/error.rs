//! The crate's error type.

use infer_ad::AdError;
use infer_dist::DistError;

/// Errors of the loss functions.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Normal};
/// use infer_loss::{LossError, negative_log_prob};
/// let tape = Tape::new();
/// let p = Normal::new(tape.var(0.0), tape.var(1.0))?;
/// let x = tape.var(0.5).as_tensor();
/// let err = negative_log_prob(&[&p, &p], &[x]).unwrap_err();
/// assert!(matches!(err, LossError::LengthMismatch { expected: 2, got: 1, .. }));
/// # Ok::<(), infer_dist::DistError>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LossError {
    /// Two inputs that must have the same shape do not.
    #[error("{what}: shape {left:?} vs {right:?}")]
    ShapeMismatch {
        /// What was compared.
        what: &'static str,
        /// Shape of the first input.
        left: Vec<usize>,
        /// Shape of the second input.
        right: Vec<usize>,
    },
    /// A numeric argument outside its domain.
    #[error("invalid {name}: {value} ({expected})")]
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is expected.
        expected: &'static str,
    },
    /// Lists that must have one entry per site (distributions, values, `observed` flags)
    /// have different lengths.
    #[error("{what}: expected {expected} entries, got {got}")]
    LengthMismatch {
        /// Which list is too short or too long.
        what: &'static str,
        /// The length of the first list (`p_dists`).
        expected: usize,
        /// The length of the offending list.
        got: usize,
    },
    /// The function was given no site at all, so there is nothing to sum and no tape to put
    /// the result on.
    #[error("{function}: no sites given")]
    Empty {
        /// The function.
        function: &'static str,
    },
    /// The function does not accept a `Delta` distribution (it has no density to score).
    #[error("{function} does not support Delta distributions")]
    DeltaNotSupported {
        /// The function.
        function: &'static str,
    },
    /// The Rao–Blackwellized estimator needs at least this many sub-samples (its
    /// leave-one-out control-variate coefficients need two other sub-samples each).
    #[error("elbo_rb_score_function: {got} sub-samples given, at least {need} needed")]
    TooFewSubSamples {
        /// Sub-samples given.
        got: usize,
        /// Sub-samples needed.
        need: usize,
    },
    /// The support of a distribution has no bijection onto unconstrained space (a discrete
    /// family), so a volume adjustment is not defined.
    #[error("{dist}: its support has no bijection onto unconstrained space")]
    NoBijector {
        /// The family.
        dist: &'static str,
    },
    /// The loss of an optimization step ([`crate::Svi::step`]) is NaN or ±∞: the guide
    /// diverged (or the model's density is not finite at the guide's draws). Nothing was
    /// updated.
    #[error("the loss at optimization step {step} is {value}; nothing was updated")]
    NonFiniteLoss {
        /// The step (0 for the first).
        step: u64,
        /// The loss.
        value: f64,
    },
    /// A distribution failed (shape mismatch, entropy not defined, …).
    #[error(transparent)]
    Dist(#[from] DistError),
    /// The tape failed (shape mismatch, …). Every loss function checks that the parameters
    /// of its distributions, its values and the terms it sums over sites all live on one
    /// tape, and returns [`AdError::DifferentTapes`] here when they do not.
    #[error(transparent)]
    Ad(#[from] AdError),
}
