//! The crate's error type.

use crate::shape::Shape;

/// Errors raised by `infer-ad` functions that take user data.
///
/// Operator overloads (`+`, `-`, `*`, `/`) never return this type: they panic on a shape
/// mismatch instead, naming both shapes (documented on each operator).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdError {
    /// Two shapes are incompatible for the operation `op`.
    #[error("shape mismatch in {op}: {left} vs {right}")]
    ShapeMismatch {
        /// The operation that was attempted.
        op: &'static str,
        /// Shape of the left operand.
        left: Shape,
        /// Shape of the right operand.
        right: Shape,
    },
    /// The data length does not match the number of elements of the requested shape.
    #[error("data of length {len} does not fill shape {shape}")]
    LengthMismatch {
        /// Requested shape.
        shape: Shape,
        /// Length of the data supplied.
        len: usize,
    },
    /// More dimensions than [`crate::MAX_NDIM`].
    #[error("{ndim} dimensions requested, at most {max} are supported")]
    TooManyDims {
        /// Dimensions requested.
        ndim: usize,
        /// The maximum, [`crate::MAX_NDIM`].
        max: usize,
    },
    /// An axis outside `0..ndim`.
    #[error("axis {axis} out of range for shape {shape}")]
    AxisOutOfRange {
        /// The axis given.
        axis: usize,
        /// The tensor's shape.
        shape: Shape,
    },
    /// An index or range outside the tensor.
    #[error("index {index} out of bounds for axis of length {len}")]
    IndexOutOfBounds {
        /// The index given (for a range, its end).
        index: usize,
        /// Length of the axis.
        len: usize,
    },
    /// The operation needs a tensor of a particular rank.
    #[error("{op} needs a tensor of rank {expected}, got shape {shape}")]
    WrongRank {
        /// The operation.
        op: &'static str,
        /// Rank it needs.
        expected: usize,
        /// Shape supplied.
        shape: Shape,
    },
    /// The operation needs at least one input.
    #[error("{op} needs at least one input")]
    Empty {
        /// The operation.
        op: &'static str,
    },
    /// A parameter name that is not in the store.
    #[error("no parameter named {name:?}")]
    UnknownParameter {
        /// The name looked up.
        name: String,
    },
    /// A parameter name that is already in the store.
    #[error("parameter {name:?} already exists")]
    DuplicateParameter {
        /// The duplicated name.
        name: String,
    },
    /// A hyper-parameter outside its valid range.
    #[error("invalid {name}: {value} ({reason})")]
    InvalidHyperParameter {
        /// The hyper-parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is expected.
        reason: &'static str,
    },
    /// A matrix with a zero on the diagonal was passed to a triangular solve.
    #[error("triangular matrix is singular: diagonal element {index} is {value}")]
    Singular {
        /// Row of the zero diagonal element.
        index: usize,
        /// Its value.
        value: f64,
    },
}
