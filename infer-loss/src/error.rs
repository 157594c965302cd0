//! The crate's error type.

/// Errors of the loss functions.
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
}
