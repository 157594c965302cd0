//! [`CsvError`]: why a Stan CSV file could not be written or read.

/// Why a Stan CSV file could not be written or read.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvError, read_csv};
///
/// let err = read_csv("lp__,x\n-1.5,abc\n".as_bytes()).unwrap_err();
/// assert!(matches!(err, CsvError::InvalidNumber { line: 2, .. }));
/// assert_eq!(err.to_string(), "line 2: cannot parse \"abc\" as a number");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A column name is empty or holds a comma, a quote, `#` or a line break.
    #[error("invalid column name {name:?}")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// A header comment line given to
    /// [`CsvWriter::with_comments`](super::CsvWriter::with_comments) does not start with `#`,
    /// holds a carriage return, or is not ended by a line feed.
    #[error(
        "invalid header comment line {line:?}: it must start with `#` and end with a line feed"
    )]
    InvalidComment {
        /// The offending line.
        line: String,
    },
    /// The first column must be `lp__`: Stan's readers recognise the header by it.
    #[error("the first column must be `lp__`, got {first:?}")]
    FirstColumnNotLp {
        /// The first column given.
        first: Option<String>,
    },
    /// A row to write has the wrong number of values (`row` counts from 0 over the warmup
    /// rows, then the draws).
    #[error("row {row} has {found} values for {expected} columns")]
    RowLength {
        /// Row index.
        row: usize,
        /// Number of columns.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// Warmup draws were given while `save_warmup` is off.
    #[error("warmup draws given but `save_warmup` is false")]
    UnexpectedWarmup,
    /// The file has no header line.
    #[error("no header line (`lp__,…`) found")]
    MissingHeader,
    /// A data line has the wrong number of fields.
    #[error("line {line}: {found} fields, the header has {expected}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Number of columns of the header.
        expected: usize,
        /// Number of fields found.
        found: usize,
    },
    /// A field or comment value is not a number.
    #[error("line {line}: cannot parse {text:?} as a number")]
    InvalidNumber {
        /// 1-based line number.
        line: usize,
        /// The text that failed to parse.
        text: String,
    },
    /// A configuration value has the wrong form (e.g. `thin = abc`).
    #[error("line {line}: invalid value {value:?} for `{key}`")]
    InvalidValue {
        /// 1-based line number.
        line: usize,
        /// The configuration key.
        key: String,
        /// The value found.
        value: String,
    },
    /// The adaptation block is malformed (e.g. the metric line is missing).
    #[error("line {line}: malformed adaptation block")]
    InvalidAdaptation {
        /// 1-based line number.
        line: usize,
    },
    /// Two columns of the header have the same name.
    #[error("line {line}: duplicate column name {name:?}")]
    DuplicateColumn {
        /// 1-based line number of the header.
        line: usize,
        /// The repeated name.
        name: String,
    },
    /// A number is written in range-overflowing form (`1e999`): only `inf`, `-inf`,
    /// `Infinity` and `NaN` stand for non-finite values.
    #[error("line {line}: {text:?} is out of the range of f64")]
    NumberOutOfRange {
        /// 1-based line number.
        line: usize,
        /// The text of the number.
        text: String,
    },
    /// The adapted step size or inverse metric is not valid: a step size that is not finite
    /// and positive, a metric element that is not finite (or not positive on a diagonal), a
    /// dense metric that is not square, or a metric with no elements or more elements per
    /// row than the file has parameter columns (each unconstrained coordinate is recorded in
    /// at least one column).
    #[error("line {line}: invalid adaptation: {reason}")]
    InvalidMetric {
        /// 1-based line number of the block.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The number of draw rows differs from what the configuration declares:
    /// ⌈`num_samples` / `thin`⌉ draws, and with `save_warmup` ⌈`num_warmup` / `thin`⌉ warmup
    /// draws before the adaptation block (a truncated or padded file).
    #[error("{found} {what} rows, the configuration declares {expected}")]
    DrawCount {
        /// `"draw"` or `"warmup draw"`.
        what: &'static str,
        /// The declared number.
        expected: usize,
        /// The number found.
        found: usize,
    },
    /// The file ends before it is complete: the last line has no line break, the
    /// adaptation block or the timing block is cut short, or the adaptation block that the
    /// configuration declares (`engaged = 1` with `num_warmup > 0`) is missing.
    #[error("line {line}: the file is incomplete: {reason}")]
    Truncated {
        /// 1-based line number where the file ends or the missing part was due.
        line: usize,
        /// What is missing.
        reason: &'static str,
    },
}
