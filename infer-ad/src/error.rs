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
    /// Two handles recorded on different tapes were combined. Every operation that takes
    /// two or more handles checks this (see [`crate::check_same_tape`]); the operator
    /// overloads panic instead, as documented on each.
    #[error("{op}: operands are recorded on different tapes")]
    DifferentTapes {
        /// The operation that was attempted.
        op: &'static str,
    },
    /// A shape whose number of elements does not fit: the product of its non-zero dimensions
    /// exceeds `isize::MAX` (the bound of Rust's and ndarray's allocations), or an operation's
    /// result would take the tape past `u32::MAX` value slots (its index space) or past the
    /// limit set with [`crate::Tape::set_max_slots`]. Every shape
    /// is checked where it is built (constructors, reshape, broadcasting, products,
    /// concatenation), so an element count never wraps around.
    #[error("shape {dims:?} has too many elements (the product of its dimensions overflows)")]
    TooManyElements {
        /// The dimensions requested.
        dims: Vec<usize>,
    },
    /// A parameter's value or gradient handed to an optimizer or to gradient clipping is not
    /// finite (NaN or ±∞), or its weight-decayed gradient `g + λθ` overflows.
    #[error("{what} of parameter {name:?} at element {index} is {value}")]
    NonFinite {
        /// Which quantity: `"gradient"`, `"value"` or `"weight-decayed gradient"`.
        what: &'static str,
        /// The parameter's name in its store.
        name: String,
        /// The element's flat (row-major) index within the parameter.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A [`crate::Bound`] passed to [`crate::ParamStore::accumulate_grads`] of a store that
    /// did not make it, or after parameters were added to the store.
    #[error("binding does not match the store: {reason}")]
    ForeignBinding {
        /// What does not match.
        reason: &'static str,
    },
    /// An argument outside the domain of an operation: a mixing proportion outside [0, 1]
    /// ([`crate::log_mix`]), weights that are not a simplex ([`crate::log_mix_weights`]).
    #[error("{op}: invalid {name} = {value} ({reason})")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// The argument, with its element index where it has one (`weights[2]`).
        name: String,
        /// The value given.
        value: f64,
        /// What is expected.
        reason: &'static str,
    },
    /// An allocation for an operation's result was refused: its element count is legal (the
    /// shape checks and the tape's slot limit pass) but the memory is not available. Nothing
    /// is recorded. See [`crate::Tape::set_max_slots`] for bounding a tape's size up front.
    #[error("{op}: cannot allocate {elements} elements (out of memory)")]
    OutOfMemory {
        /// The operation (`"backward"` for the backward pass's adjoints).
        op: &'static str,
        /// The number of elements (values, partials or indices) it needed.
        elements: usize,
    },
    /// An ODE problem that cannot be posed ([`crate::ode::ode_solve`]): output times not
    /// increasing after t0, a tolerance that is not finite and > 0.
    #[error("ODE: {reason} (got {value})")]
    OdeInvalid {
        /// What is wrong.
        reason: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The ODE's state, parameters or solution are not finite at this point.
    #[error("ODE: {what} is not finite ({value}) at t = {t}")]
    OdeNotFinite {
        /// The initial state and parameters, or the solution.
        what: &'static str,
        /// The time.
        t: f64,
        /// The offending value.
        value: f64,
    },
    /// The ODE solver used its step budget before the last output time (a stiff or exploding
    /// system at these parameters).
    #[error("ODE: {steps} steps did not reach the last output time (stopped at t = {t})")]
    OdeTooManySteps {
        /// Where it stopped.
        t: f64,
        /// The budget.
        steps: usize,
    },
    /// The ODE solver's step size fell below the resolution of t.
    #[error("ODE: step size {h} underflows at t = {t}")]
    OdeStepSizeUnderflow {
        /// Where.
        t: f64,
        /// The step size.
        h: f64,
    },
    /// A matrix passed to a Cholesky decomposition is not (numerically) positive definite:
    /// the pivot of this row is ≤ 0 or not finite.
    #[error("matrix is not positive definite: pivot {index} is {value}")]
    NotPositiveDefinite {
        /// Row of the failing pivot (0-based).
        index: usize,
        /// The pivot's value (the diagonal before its square root).
        value: f64,
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

impl AdError {
    /// [`AdError::ShapeMismatch`]: the cold path of every shape check.
    #[cold]
    #[inline(never)]
    pub(crate) fn mismatch(op: &'static str, left: Shape, right: Shape) -> AdError {
        AdError::ShapeMismatch { op, left, right }
    }

    /// [`AdError::WrongRank`]: the cold path of every rank check.
    #[cold]
    #[inline(never)]
    pub(crate) fn wrong_rank(op: &'static str, expected: usize, shape: Shape) -> AdError {
        AdError::WrongRank {
            op,
            expected,
            shape,
        }
    }
}
