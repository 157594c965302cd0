//! The crate's error type.

/// Errors raised by `infer-mean-teacher`.
///
/// # Examples
/// ```
/// use infer_mean_teacher::{EmaSettings, MeanTeacherError};
/// let err = EmaSettings { alpha_max: 1.0, ..EmaSettings::default() }.validate().unwrap_err();
/// assert!(matches!(err, MeanTeacherError::InvalidAlpha { value, .. } if value == 1.0));
/// # Ok::<(), MeanTeacherError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeanTeacherError {
    /// An EMA decay outside `[0, 1)` (NaN included).
    #[error("invalid {name}: {value} (must be in [0, 1))")]
    InvalidAlpha {
        /// Which setting (`alpha_max`).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// An integer setting outside its valid range (e.g. `update_every == 0`).
    #[error("invalid {name}: {value} ({reason})")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: u64,
        /// What is expected.
        reason: &'static str,
    },
    /// Student and teacher hold different numbers of parameters.
    #[error("student has {student} parameters, teacher has {teacher}")]
    CountMismatch {
        /// Number of parameters of the student.
        student: usize,
        /// Number of parameters of the teacher.
        teacher: usize,
    },
    /// The parameter at position `index` has different names in student and teacher.
    #[error("parameter {index} is named {student:?} in the student but {teacher:?} in the teacher")]
    NameMismatch {
        /// Position of the parameter.
        index: usize,
        /// Its name in the student.
        student: String,
        /// Its name in the teacher.
        teacher: String,
    },
    /// A parameter has different shapes in student and teacher.
    #[error(
        "parameter {name:?} has shape {student:?} in the student but {teacher:?} in the teacher"
    )]
    ShapeMismatch {
        /// The parameter's name.
        name: String,
        /// Its shape in the student.
        student: Vec<usize>,
        /// Its shape in the teacher.
        teacher: Vec<usize>,
    },
    /// A saved state could not be read: bad magic bytes, an impossible value, or a file cut
    /// short.
    #[error("corrupt mean-teacher state: {what} ({detail})")]
    Corrupt {
        /// The field being read.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A saved state in a format version that this build does not read: a binary header
    /// declaring a version other than 1, or a JSON state declaring one other than 2.
    #[error(
        "mean-teacher state format version {found} is not supported (this build reads version {supported} in this encoding)"
    )]
    UnsupportedVersion {
        /// The version the state declares (`u32::MAX` for a larger JSON version).
        found: u32,
        /// The version this build reads in the state's encoding: 1 for the binary encoding,
        /// 2 (the version it writes) for JSON.
        supported: u32,
    },
    /// Student and teacher logits for a consistency loss are not two matrices of the same
    /// shape (batch × classes).
    #[error(
        "consistency loss needs batch × classes logits of one shape, got student {student:?} and teacher {teacher:?}"
    )]
    LogitShape {
        /// Shape of the student's logits.
        student: Vec<usize>,
        /// Shape of the teacher's logits.
        teacher: Vec<usize>,
    },
    /// A ramp length that is negative or NaN.
    #[error("invalid ramp length {name}: {value} (must be ≥ 0)")]
    InvalidRamp {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A step counter is at its maximum (`u64::MAX`), so recording one more optimizer step
    /// would wrap it around to 0. Reachable only from a state restored with such a counter.
    #[error(
        "mean-teacher {counter} counter is at its maximum {value}; no further step can be recorded"
    )]
    CounterExhausted {
        /// Which counter (`step` or `ema_updates`).
        counter: &'static str,
        /// Its value.
        value: u64,
    },
    /// A perturbation size (noise sd, ξ or ε) that is negative, zero where it must be positive,
    /// or not finite.
    #[error("invalid perturbation {name}: {value} (must be finite and {reason})")]
    InvalidPerturbation {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is expected.
        reason: &'static str,
    },
    /// A perturbation whose shape differs from its input's.
    #[error("perturbation of shape {perturbation:?} for an input of shape {input:?}")]
    InputShape {
        /// The input's shape.
        input: Vec<usize>,
        /// The perturbation's shape.
        perturbation: Vec<usize>,
    },
    /// Labels and logits disagree (length, or a class index out of range).
    #[error("labels do not match the logits: {detail}")]
    LabelMismatch {
        /// What is wrong.
        detail: String,
    },
    /// An operation on the tape failed.
    #[error(transparent)]
    Ad(#[from] infer_ad::AdError),
    /// Reading or writing a state failed.
    #[error("i/o error while saving or restoring a mean-teacher state: {0}")]
    Io(#[from] std::io::Error),
}
