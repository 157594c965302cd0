//! The errors of a model's declarations and inits, and how `infer-ad` and `infer-dist` errors
//! become log-density errors.

use crate::error::{LogDensityError, McmcError};
use crate::layout::LayoutError;
use infer_ad::AdError;
use infer_dist::DistError;

/// A model's declarations disagree with its layout, or inits disagree with the declarations.
///
/// # Examples
/// ```
/// use infer_mcmc::model::ModelError;
/// let e = ModelError::UnknownInit { name: "sigm".into() };
/// assert!(e.to_string().contains("sigm"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The layout could not be built (duplicate or invalid names).
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A declaration differs from the one made at the same place when the layout was
    /// learned: the declarations depend on parameter values.
    #[error(
        "declaration {index} is `{found}` but the layout has `{expected}` there: declarations (names, shapes, supports) must not depend on parameter values"
    )]
    Declaration {
        /// The 0-based position of the declaration.
        index: usize,
        /// What the layout holds there (or `(none)`).
        expected: String,
        /// What was declared (or `(none)`: fewer declarations than in the layout).
        found: String,
    },
    /// A parameter's support has no bijection onto ℝⁿ, or its shape does not fit it.
    #[error("parameter `{name}`: {reason}")]
    Support {
        /// The parameter.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A generated quantity or transformed parameter changed shape between draws.
    #[error("`{name}` has {found} values but its declared shape holds {expected}")]
    Shape {
        /// The quantity.
        name: String,
        /// The number of values of the declared shape.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// An init names no parameter of the model.
    #[error("init for `{name}`, which is not a parameter of the model")]
    UnknownInit {
        /// The name given.
        name: String,
    },
    /// An init value is outside its parameter's support.
    #[error("init for `{name}`: {reason}")]
    InitOutsideSupport {
        /// The parameter.
        name: String,
        /// Why (from the bijector's inverse).
        reason: String,
    },
}

impl From<ModelError> for LogDensityError {
    fn from(e: ModelError) -> Self {
        LogDensityError::fatal(e)
    }
}

impl From<AdError> for LogDensityError {
    /// A matrix that is not positive definite (`cholesky`) or singular (`tri_solve`), or an
    /// ODE that cannot be solved (non-finite, too many steps, step-size underflow) at this
    /// point rejects the point, as Stan rejects it (inside a trajectory a divergence); the
    /// structural errors (shapes, tapes, memory, an ill-posed ODE) stop the chain.
    fn from(e: AdError) -> Self {
        match e {
            AdError::NotPositiveDefinite { .. } => {
                LogDensityError::recoverable("matrix not positive definite at this point")
            }
            AdError::Singular { .. } => {
                LogDensityError::recoverable("singular triangular matrix at this point")
            }
            AdError::OdeNotFinite { .. }
            | AdError::OdeTooManySteps { .. }
            | AdError::OdeStepSizeUnderflow { .. } => {
                LogDensityError::recoverable("the ODE cannot be solved at this point")
            }
            other => LogDensityError::fatal(other),
        }
    }
}

impl From<DistError> for LogDensityError {
    fn from(e: DistError) -> Self {
        match e {
            DistError::InvalidParameter { .. } | DistError::OutsideSupport { .. } => {
                LogDensityError::recoverable("invalid distribution parameter at this point")
            }
            other => LogDensityError::fatal(other),
        }
    }
}

impl From<LayoutError> for McmcError {
    fn from(e: LayoutError) -> Self {
        McmcError::Model(e.into())
    }
}
