//! The crate's error type.

use infer_ad::{AdError, Shape};

/// Errors raised by `infer-dist`: invalid parameters, mismatched shapes, quantities a family does
/// not define, and errors of the underlying tape.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{DistError, Normal};
/// let tape = Tape::new();
/// let err = Normal::new(tape.var(0.0), tape.var(-1.0)).unwrap_err();
/// assert!(matches!(err, DistError::InvalidParameter { param: "scale", value, .. } if value == -1.0));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// A parameter element is outside the family's parameter space (for example a scale that is
    /// 0, negative, NaN or infinite, or a probability outside [0, 1]).
    #[error("{dist}: invalid {param} = {value} ({reason})")]
    InvalidParameter {
        /// The family (PyTorch's class name).
        dist: &'static str,
        /// The parameter (PyTorch's name).
        param: &'static str,
        /// The offending element.
        value: f64,
        /// What is required of it.
        reason: &'static str,
    },
    /// Two shapes that must broadcast (parameters among themselves, or a value against the
    /// batch shape) do not, or a parameter has the wrong rank.
    #[error("{dist}: shape mismatch for {what}: {left} vs {right}")]
    ShapeMismatch {
        /// The family.
        dist: &'static str,
        /// What was being combined.
        what: &'static str,
        /// The first shape.
        left: Shape,
        /// The second shape.
        right: Shape,
    },
    /// The family does not define this quantity (for example the cdf of a Beta, or the entropy
    /// of a Poisson, following PyTorch).
    #[error("{dist}: {what} is not defined for this family")]
    NotDefined {
        /// The family.
        dist: &'static str,
        /// The quantity: `"entropy"`, `"mean"`, `"variance"`, `"cdf"`, `"rsample"`, ….
        what: &'static str,
    },
    /// The quantity is a tensor on a tape, but every parameter of the distribution is a constant
    /// (a number or a data array) and no value supplies a tape: bind the distribution first
    /// with its `on(&tape)` method.
    #[error(
        "{dist}: {what} needs a tape, but every parameter is a constant; bind it with `.on(&tape)`"
    )]
    Unbound {
        /// The family.
        dist: &'static str,
        /// The quantity: `"entropy"`, `"mean"`, `"variance"`, `"rsample"`, `"log_prob"`, ….
        what: &'static str,
    },
    /// No closed-form KL divergence is known for this pair of families.
    #[error("no closed-form KL divergence for KL({p} ‖ {q})")]
    NoClosedForm {
        /// The family of p.
        p: &'static str,
        /// The family of q.
        q: &'static str,
    },
    /// A sampler could not draw with these parameters (for example a Poisson rate beyond the
    /// range of `rand_distr`'s sampler).
    #[error("{dist}: cannot sample: {reason}")]
    Sampling {
        /// The family.
        dist: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A value handed to a bijector's inverse lies outside the (open) constrained set, e.g.
    /// `x ≤ 0` for the `Exp` bijector or a vector that is not on the simplex.
    #[error("{what}: {value} is outside the support ({reason})")]
    OutsideSupport {
        /// The bijector (or function) that rejected the value.
        what: &'static str,
        /// The offending element (for a simplex sum, the sum).
        value: f64,
        /// What is required of it.
        reason: &'static str,
    },
    /// A vector whose length does not fit the transform (an empty simplex, an n×n matrix whose
    /// length is not a square, a Cholesky vector whose length is not n(n+1)/2).
    #[error("{what}: invalid length {len} ({reason})")]
    InvalidLength {
        /// What the length is of.
        what: &'static str,
        /// The length given.
        len: usize,
        /// What is required of it.
        reason: &'static str,
    },
    /// An error of the autodiff tape.
    #[error(transparent)]
    Ad(#[from] AdError),
}

impl DistError {
    /// [`DistError::NotDefined`]: the default of every quantity a family may leave out.
    pub(crate) fn not_defined(dist: &'static str, what: &'static str) -> DistError {
        DistError::NotDefined { dist, what }
    }
}
