//! CmdStan-compatible CSV output ("Stan CSV"): a writer and a reader.
//!
//! The layout is CmdStan's, so that ArviZ's `from_cmdstan`, CmdStan's `stansummary` and the
//! other Stan tools read the files:
//!
//! 1. `#` comment lines with the run configuration (`model`, `method = sample`, `num_samples`,
//!    `num_warmup`, `save_warmup`, `thin`, the `adapt` block, `algorithm = hmc`,
//!    `engine = nuts`, `max_depth`, `metric`, `id`, `seed`, …), booleans written `0`/`1` as
//!    CmdStan's readers parse them;
//! 2. the header `lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,`
//!    then the recorded values in Stan's flattened 1-based form, containers column-major
//!    (`beta.1`, `a.1.1`, `a.2.1`; see
//!    [`Layout::cmdstan_names`](crate::layout::Layout::cmdstan_names));
//! 3. the saved warmup draws, if any;
//! 4. the adaptation block: `# Adaptation terminated`, `# Step size = …`, then
//!    `# Diagonal elements of inverse mass matrix:` and one line, or
//!    `# Elements of inverse mass matrix:` and one line per row (dense metric);
//! 5. one row per draw;
//! 6. the timing block (`#  Elapsed Time: … seconds (Warm-up)`, `(Sampling)`, `(Total)`).
//!
//! Checked against Stan 2.35's own reader (`stan::io::stan_csv_reader` and
//! `stan::mcmc::chains`, what `stansummary` runs) and ArviZ 0.23's `from_cmdstan`: both read
//! the configuration, the header, the adaptation block (diagonal and dense), the draws and the
//! timing block of these files. As with CmdStan's own files, when warmup draws are saved
//! Stan's reader skips the adaptation block (it looks for it right after the header) with a
//! warning, and with `save_warmup` and `thin > 1` both Stan's `chains` (which drops
//! `num_warmup` rows) and ArviZ (`num_warmup / thin` rows, rounded down) miscount the
//! `⌈num_warmup / thin⌉` warmup rows CmdStan and this writer keep.
//!
//! Numbers are written in Rust's shortest round-trip form (scientific notation only for very
//! large or small magnitudes), so writing and reading back is exact; non-finite values are
//! written `NaN`, `inf`, `-inf`.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::csv::{Adaptation, CsvMetadata, InverseMetric, StanCsv, Timing, read_csv};
//!
//! let csv = StanCsv {
//!     metadata: CsvMetadata { num_samples: 2, num_warmup: 10, seed: 42, ..CsvMetadata::default() },
//!     columns: StanCsv::nuts_columns(&["mu", "theta.1", "theta.2"]),
//!     warmup_draws: vec![],
//!     adaptation: Some(Adaptation {
//!         step_size: 0.45,
//!         inverse_metric: InverseMetric::Diagonal(vec![1.0, 0.5, 0.25]),
//!     }),
//!     draws: vec![
//!         vec![-7.1, 0.93, 0.45, 3.0, 7.0, 0.0, 10.2, 1.5, 0.1, -0.3],
//!         vec![-6.8, 0.99, 0.45, 2.0, 3.0, 0.0, 9.1, 1.4, 0.2, -0.2],
//!     ],
//!     timing: Some(Timing { warmup_seconds: 0.05, sampling_seconds: 0.02 }),
//! };
//! let mut text = Vec::new();
//! csv.write(&mut text)?;
//! assert!(String::from_utf8_lossy(&text).contains("\nlp__,accept_stat__,"));
//! assert_eq!(read_csv(text.as_slice())?, csv);
//! # Ok::<(), infer_mcmc::csv::CsvError>(())
//! ```

use std::fmt::Write as _;
use std::io::{BufRead, Write};

/// The sampler columns CmdStan writes before the parameters for NUTS, in order.
pub const NUTS_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

/// Why a Stan CSV file could not be written or read.
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

/// The sampling engine recorded in the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Engine {
    /// No-U-Turn sampler with a tree-depth limit (`engine = nuts`, `max_depth`).
    Nuts {
        /// Maximum tree depth (Stan's default 10).
        max_depth: u32,
    },
    /// Static HMC with a fixed integration time (`engine = static`, `int_time`).
    Static {
        /// Integration time (Stan's default 2π).
        int_time: f64,
    },
}

/// The kind of metric (mass matrix) recorded in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Identity (`unit_e`).
    Unit,
    /// Diagonal (`diag_e`, Stan's default).
    Diagonal,
    /// Dense (`dense_e`).
    Dense,
}

impl MetricKind {
    fn stan_name(self) -> &'static str {
        match self {
            Self::Unit => "unit_e",
            Self::Diagonal => "diag_e",
            Self::Dense => "dense_e",
        }
    }
}

/// The run configuration written as comments at the top of the file. `Default` gives
/// CmdStan's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvMetadata {
    /// Model name (default `"model"`).
    pub model: String,
    /// Post-warmup iterations (default 1000).
    pub num_samples: usize,
    /// Warmup iterations (default 1000).
    pub num_warmup: usize,
    /// Whether warmup draws are in the file (default false).
    pub save_warmup: bool,
    /// Thinning period (default 1).
    pub thin: usize,
    /// Whether adaptation ran (default true).
    pub adapt_engaged: bool,
    /// Dual-averaging regularization scale γ (default 0.05).
    pub adapt_gamma: f64,
    /// Target acceptance statistic δ (default 0.8).
    pub adapt_delta: f64,
    /// Dual-averaging relaxation exponent κ (default 0.75).
    pub adapt_kappa: f64,
    /// Dual-averaging iteration offset t₀ (default 10).
    pub adapt_t0: f64,
    /// Initial fast adaptation interval (default 75).
    pub adapt_init_buffer: usize,
    /// Final fast adaptation interval (default 50).
    pub adapt_term_buffer: usize,
    /// First slow adaptation window (default 25).
    pub adapt_window: usize,
    /// The engine (default NUTS with `max_depth = 10`).
    pub engine: Engine,
    /// The metric kind (default diagonal).
    pub metric: MetricKind,
    /// Initial step size (default 1).
    pub stepsize: f64,
    /// Step-size jitter (default 0).
    pub stepsize_jitter: f64,
    /// Chain identifier, `id` (default 1).
    pub chain_id: usize,
    /// Random seed (default 0). Stan's readers take the seed as a 32-bit unsigned integer: a
    /// larger seed is written as `seed_u64` instead of `seed`, which they ignore.
    pub seed: u64,
    /// Radius of the uniform initialization on the unconstrained scale, `init` (default 2).
    pub init_radius: f64,
}

impl Default for CsvMetadata {
    fn default() -> Self {
        Self {
            model: "model".to_owned(),
            num_samples: 1000,
            num_warmup: 1000,
            save_warmup: false,
            thin: 1,
            adapt_engaged: true,
            adapt_gamma: 0.05,
            adapt_delta: 0.8,
            adapt_kappa: 0.75,
            adapt_t0: 10.0,
            adapt_init_buffer: 75,
            adapt_term_buffer: 50,
            adapt_window: 25,
            engine: Engine::Nuts { max_depth: 10 },
            metric: MetricKind::Diagonal,
            stepsize: 1.0,
            stepsize_jitter: 0.0,
            chain_id: 1,
            seed: 0,
            init_radius: 2.0,
        }
    }
}

/// The inverse metric (inverse mass matrix) at the end of adaptation.
#[derive(Debug, Clone, PartialEq)]
pub enum InverseMetric {
    /// Unit metric: CmdStan writes `No free parameters for unit metric`.
    Unit,
    /// The diagonal of a diagonal inverse metric.
    Diagonal(Vec<f64>),
    /// A dense inverse metric, row by row.
    Dense(Vec<Vec<f64>>),
}

/// The adaptation results written after warmup.
#[derive(Debug, Clone, PartialEq)]
pub struct Adaptation {
    /// The adapted step size.
    pub step_size: f64,
    /// The adapted inverse metric.
    pub inverse_metric: InverseMetric,
}

/// Wall-clock times written at the end of the file (the total is their sum).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Seconds spent in warmup.
    pub warmup_seconds: f64,
    /// Seconds spent sampling.
    pub sampling_seconds: f64,
}

/// The whole content of one chain's Stan CSV file, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct StanCsv {
    /// The configuration comments.
    pub metadata: CsvMetadata,
    /// All column names, sampler columns first (see [`StanCsv::nuts_columns`]), written as
    /// given (a model's are [`Layout::cmdstan_names`](crate::layout::Layout::cmdstan_names)).
    pub columns: Vec<String>,
    /// Saved warmup draws (only with `save_warmup`), one row per draw.
    pub warmup_draws: Vec<Vec<f64>>,
    /// The adaptation block, if adaptation ran.
    pub adaptation: Option<Adaptation>,
    /// Post-warmup draws, one row per draw, one value per column.
    pub draws: Vec<Vec<f64>>,
    /// The timing block, if known.
    pub timing: Option<Timing>,
}

impl StanCsv {
    /// The columns of a NUTS run: [`NUTS_COLUMNS`] then the value columns, already in
    /// CmdStan's form (`theta.1`, as [`Layout::cmdstan_names`](crate::layout::Layout::cmdstan_names)
    /// gives them).
    pub fn nuts_columns<S: AsRef<str>>(columns: &[S]) -> Vec<String> {
        NUTS_COLUMNS
            .iter()
            .map(|s| (*s).to_owned())
            .chain(columns.iter().map(|n| n.as_ref().to_owned()))
            .collect()
    }

    /// Writes the file to `out`.
    ///
    /// # Errors
    ///
    /// [`CsvError::InvalidName`], [`CsvError::FirstColumnNotLp`], [`CsvError::RowLength`],
    /// [`CsvError::UnexpectedWarmup`], or [`CsvError::Io`] from `out`.
    pub fn write<W: Write>(&self, out: W) -> Result<(), CsvError> {
        if !self.metadata.save_warmup && !self.warmup_draws.is_empty() {
            return Err(CsvError::UnexpectedWarmup);
        }
        let mut writer = CsvWriter::new(out, &self.metadata, &self.columns)?;
        for row in &self.warmup_draws {
            writer.write_draw(row)?;
        }
        if let Some(adaptation) = &self.adaptation {
            writer.write_adaptation(adaptation)?;
        }
        for row in &self.draws {
            writer.write_draw(row)?;
        }
        writer.finish(self.timing.as_ref())?;
        Ok(())
    }

    /// Reads a file; see [`read_csv`].
    ///
    /// # Errors
    ///
    /// As [`read_csv`].
    pub fn read<R: BufRead>(input: R) -> Result<Self, CsvError> {
        read_csv(input)
    }
}

/// Writes a Stan CSV file incrementally: configuration and header on creation, then draws,
/// the adaptation block and draws again, then the timing block on [`finish`](Self::finish).
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{Adaptation, CsvMetadata, CsvWriter, InverseMetric, StanCsv};
///
/// let columns = StanCsv::nuts_columns(&["x"]);
/// let mut w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &columns)?;
/// w.write_adaptation(&Adaptation { step_size: 0.9, inverse_metric: InverseMetric::Diagonal(vec![1.2]) })?;
/// w.write_draw(&[-0.5, 1.0, 0.9, 1.0, 1.0, 0.0, 0.6, 0.3])?;
/// let bytes = w.finish(None)?;
/// assert!(String::from_utf8_lossy(&bytes).contains("# Step size = 0.9\n"));
/// # Ok::<(), infer_mcmc::csv::CsvError>(())
/// ```
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
    columns: usize,
    rows: usize,
    line: String,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the configuration comments and the header line.
    ///
    /// # Errors
    ///
    /// [`CsvError::InvalidName`] for an empty name or one holding `,`, `"`, `#` or a line
    /// break; [`CsvError::FirstColumnNotLp`] unless the first column is `lp__`;
    /// [`CsvError::Io`].
    pub fn new<S: AsRef<str>>(
        mut out: W,
        metadata: &CsvMetadata,
        columns: &[S],
    ) -> Result<Self, CsvError> {
        let first = columns.first().map(|c| c.as_ref());
        if first != Some("lp__") {
            return Err(CsvError::FirstColumnNotLp {
                first: first.map(str::to_owned),
            });
        }
        for c in columns {
            let c = c.as_ref();
            if c.is_empty() || c.contains([',', '"', '#', '\n', '\r']) {
                return Err(CsvError::InvalidName { name: c.to_owned() });
            }
        }
        out.write_all(config_comments(metadata).as_bytes())?;
        let header: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
        writeln!(out, "{}", header.join(","))?;
        Ok(Self {
            out,
            columns: columns.len(),
            rows: 0,
            line: String::new(),
        })
    }

    /// Writes one draw (one value per column).
    ///
    /// # Errors
    ///
    /// [`CsvError::RowLength`] when `values` does not have one value per column;
    /// [`CsvError::Io`].
    pub fn write_draw(&mut self, values: &[f64]) -> Result<(), CsvError> {
        if values.len() != self.columns {
            return Err(CsvError::RowLength {
                row: self.rows,
                expected: self.columns,
                found: values.len(),
            });
        }
        self.line.clear();
        push_joined(&mut self.line, values, ",");
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the adaptation block (between the warmup draws and the post-warmup draws).
    ///
    /// # Errors
    ///
    /// [`CsvError::Io`].
    pub fn write_adaptation(&mut self, adaptation: &Adaptation) -> Result<(), CsvError> {
        let mut s = String::from("# Adaptation terminated\n");
        let _ = writeln!(s, "# Step size = {}", Num(adaptation.step_size));
        match &adaptation.inverse_metric {
            InverseMetric::Unit => s.push_str("# No free parameters for unit metric\n"),
            InverseMetric::Diagonal(diag) => {
                s.push_str("# Diagonal elements of inverse mass matrix:\n# ");
                push_joined(&mut s, diag, ", ");
                s.push('\n');
            }
            InverseMetric::Dense(rows) => {
                s.push_str("# Elements of inverse mass matrix:\n");
                for row in rows {
                    s.push_str("# ");
                    push_joined(&mut s, row, ", ");
                    s.push('\n');
                }
            }
        }
        self.out.write_all(s.as_bytes())?;
        Ok(())
    }

    /// Writes the timing block (when given), flushes, and returns the output.
    ///
    /// # Errors
    ///
    /// [`CsvError::Io`].
    pub fn finish(mut self, timing: Option<&Timing>) -> Result<W, CsvError> {
        if let Some(t) = timing {
            let total = t.warmup_seconds + t.sampling_seconds;
            // Column positions as CmdStan writes them: Stan's reader takes the number from
            // character 17 of each line.
            write!(
                self.out,
                "# \n#  Elapsed Time: {} seconds (Warm-up)\n#                {} seconds (Sampling)\n#                {} seconds (Total)\n# \n",
                Num(t.warmup_seconds),
                Num(t.sampling_seconds),
                Num(total)
            )?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Shortest round-trip form; scientific notation outside `[1e-5, 1e16)`.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        let a = x.abs();
        if x.is_nan() {
            f.write_str("NaN")
        } else if a == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&a) {
            write!(f, "{x}")
        } else {
            write!(f, "{x:e}")
        }
    }
}

fn push_joined(s: &mut String, values: &[f64], sep: &str) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{}", Num(*v));
    }
}

fn config_comments(m: &CsvMetadata) -> String {
    let b = |v: bool| u8::from(v);
    let mut s = String::new();
    let _ = writeln!(s, "# model = {}", m.model);
    s.push_str("# method = sample\n#   sample\n");
    let _ = writeln!(s, "#     num_samples = {}", m.num_samples);
    let _ = writeln!(s, "#     num_warmup = {}", m.num_warmup);
    let _ = writeln!(s, "#     save_warmup = {}", b(m.save_warmup));
    let _ = writeln!(s, "#     thin = {}", m.thin);
    s.push_str("#     adapt\n");
    let _ = writeln!(s, "#       engaged = {}", b(m.adapt_engaged));
    let _ = writeln!(s, "#       gamma = {}", Num(m.adapt_gamma));
    let _ = writeln!(s, "#       delta = {}", Num(m.adapt_delta));
    let _ = writeln!(s, "#       kappa = {}", Num(m.adapt_kappa));
    let _ = writeln!(s, "#       t0 = {}", Num(m.adapt_t0));
    let _ = writeln!(s, "#       init_buffer = {}", m.adapt_init_buffer);
    let _ = writeln!(s, "#       term_buffer = {}", m.adapt_term_buffer);
    let _ = writeln!(s, "#       window = {}", m.adapt_window);
    s.push_str("#     algorithm = hmc\n#       hmc\n");
    match m.engine {
        Engine::Nuts { max_depth } => {
            let _ = writeln!(
                s,
                "#         engine = nuts\n#           nuts\n#             max_depth = {max_depth}"
            );
        }
        Engine::Static { int_time } => {
            let _ = writeln!(
                s,
                "#         engine = static\n#           static\n#             int_time = {}",
                Num(int_time)
            );
        }
    }
    let _ = writeln!(s, "#         metric = {}", m.metric.stan_name());
    let _ = writeln!(s, "#         stepsize = {}", Num(m.stepsize));
    let _ = writeln!(s, "#         stepsize_jitter = {}", Num(m.stepsize_jitter));
    let _ = writeln!(s, "# id = {}", m.chain_id);
    let _ = writeln!(s, "# init = {}", Num(m.init_radius));
    s.push_str("# random\n");
    if u32::try_from(m.seed).is_ok() {
        let _ = writeln!(s, "#   seed = {}", m.seed);
    } else {
        let _ = writeln!(s, "#   seed_u64 = {}", m.seed);
    }
    let _ = writeln!(s, "# infer_version = {}", env!("CARGO_PKG_VERSION"));
    s
}

/// Reads a Stan CSV file (one chain): configuration, column names, warmup draws (when
/// `save_warmup` is on), adaptation block, draws and timing. Files written by CmdStan are
/// read too; configuration keys that [`CsvMetadata`] does not hold are ignored, and missing
/// ones keep their defaults.
///
/// Warmup rows are the rows before the adaptation block; without one, and with
/// `save_warmup`, the first `⌈num_warmup / thin⌉` rows.
///
/// # What a complete file is
///
/// Only a complete file is read; a truncated or damaged one is an error. Complete means:
///
/// - the header (after the configuration comments) starts with `lp__` and its column names
///   are non-empty and distinct;
/// - every line that carries data (the header, draws, the adaptation and timing lines) ends
///   with a line break, as CmdStan, cmdstanpy and infer write them: a last line without one
///   may have been cut anywhere (`0.37` of `0.373048`), so it is an error;
/// - when the configuration declares `num_samples`, exactly ⌈`num_samples` / `thin`⌉ draws
///   follow the adaptation block, and with `save_warmup = 1` (in an HMC run) exactly
///   ⌈`num_warmup` / `thin`⌉ warmup draws precede it (`thin` ≥ 1);
/// - when it declares `engaged = 1` and `num_warmup` > 0 for an HMC run (a `stepsize__`
///   column, and not `algorithm = fixed_param`, which has no warmup rows and no adaptation),
///   the adaptation block is present; an adaptation block must be whole: a finite positive
///   step size and a metric line (diagonal: 1 to `P` finite positive values, `P` the number
///   of parameter columns; dense: a square matrix of finite values);
/// - the timing block is optional (a file may end after its last draw), but a timing block
///   that is present has its three lines (warm-up, sampling, total).
///
/// Numbers are read exactly; `inf`, `-inf`, `Infinity` and `NaN` are the non-finite values,
/// and a finite-looking number out of range (`1e999`) is an error.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvError, read_csv};
///
/// let text = "# num_samples = 2\n# num_warmup = 0\nlp__,x\n-1.5,0.25\n-1.25,0.5\n";
/// let csv = read_csv(text.as_bytes())?;
/// assert_eq!(csv.draws.len(), 2);
/// // One draw of the two declared: a truncated file.
/// let cut = &text[..text.len() - "-1.25,0.5\n".len()];
/// assert!(matches!(read_csv(cut.as_bytes()), Err(CsvError::DrawCount { expected: 2, found: 1, .. })));
/// // Cut inside the last draw (no line break): an error too.
/// assert!(matches!(read_csv(&text.as_bytes()[..text.len() - 1]), Err(CsvError::Truncated { .. })));
/// # Ok::<(), CsvError>(())
/// ```
///
/// # Errors
///
/// [`CsvError::MissingHeader`], [`CsvError::FirstColumnNotLp`], [`CsvError::InvalidName`],
/// [`CsvError::DuplicateColumn`], [`CsvError::FieldCount`], [`CsvError::InvalidNumber`],
/// [`CsvError::NumberOutOfRange`], [`CsvError::InvalidValue`] (also `thin = 0`),
/// [`CsvError::InvalidAdaptation`], [`CsvError::InvalidMetric`], [`CsvError::DrawCount`],
/// [`CsvError::Truncated`] (each with its 1-based line number where one applies), or
/// [`CsvError::Io`] (also for text that is not UTF-8).
pub fn read_csv<R: BufRead>(mut input: R) -> Result<StanCsv, CsvError> {
    let mut metadata = CsvMetadata::default();
    let mut declared = Declared::default();
    let mut columns: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut rows_before_adaptation = None;
    let mut adaptation: Option<Adaptation> = None;
    let mut adaptation_line = 0;
    let mut adaptation_state = AdaptationState::None;
    let mut timing: [Option<f64>; 3] = [None; 3];
    let mut timing_line = 0;
    let mut engine_name = String::from("nuts");
    let (mut max_depth, mut int_time) = (10u32, 2.0 * std::f64::consts::PI);
    let mut buf = Vec::new();
    let mut line_no = 0;

    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let terminated = buf.last() == Some(&b'\n');
        let line = std::str::from_utf8(&buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let text = line.trim_end_matches('\n').trim_end_matches('\r');
        if !terminated {
            // The last line, without a line break: it may have been cut anywhere. Only a line
            // that carries nothing (blank, or `#` and blanks) can end a complete file so.
            let blank = text.trim_start_matches('#').trim().is_empty();
            if !blank {
                return Err(CsvError::Truncated {
                    line: line_no,
                    reason: "the last line has no line break",
                });
            }
        }
        if let Some(comment) = text.strip_prefix('#') {
            let comment = comment.trim();
            if columns.is_none() {
                parse_config(
                    comment,
                    line_no,
                    &mut metadata,
                    &mut declared,
                    &mut engine_name,
                    &mut max_depth,
                    &mut int_time,
                )?;
                continue;
            }
            // After the header: adaptation and timing blocks.
            match adaptation_state {
                AdaptationState::StepSize => {
                    let value = comment
                        .strip_prefix("Step size")
                        .and_then(|v| v.trim().strip_prefix('='))
                        .ok_or(CsvError::InvalidAdaptation { line: line_no })?;
                    let step_size = parse_number(value.trim(), line_no)?;
                    adaptation = Some(Adaptation {
                        step_size,
                        inverse_metric: InverseMetric::Unit,
                    });
                    adaptation_state = AdaptationState::MetricTitle;
                    continue;
                }
                AdaptationState::MetricTitle => {
                    adaptation_state = if comment.starts_with("Diagonal elements of inverse") {
                        AdaptationState::DiagonalRow
                    } else if comment.starts_with("Elements of inverse") {
                        set_metric(&mut adaptation, InverseMetric::Dense(Vec::new()));
                        AdaptationState::DenseRows
                    } else if comment.starts_with("No free parameters") {
                        AdaptationState::None
                    } else {
                        return Err(CsvError::InvalidAdaptation { line: line_no });
                    };
                    continue;
                }
                AdaptationState::DiagonalRow => {
                    set_metric(
                        &mut adaptation,
                        InverseMetric::Diagonal(parse_list(comment, line_no)?),
                    );
                    adaptation_state = AdaptationState::None;
                    continue;
                }
                AdaptationState::DenseRows => {
                    let is_row = comment
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit() || "+-.".contains(c) || c == 'N');
                    if is_row {
                        let row = parse_list(comment, line_no)?;
                        if let Some(Adaptation {
                            inverse_metric: InverseMetric::Dense(m),
                            ..
                        }) = &mut adaptation
                        {
                            m.push(row);
                        }
                        continue;
                    }
                    adaptation_state = AdaptationState::None;
                }
                AdaptationState::None => {}
            }
            if comment == "Adaptation terminated" {
                if rows_before_adaptation.is_some() {
                    return Err(CsvError::InvalidAdaptation { line: line_no });
                }
                rows_before_adaptation = Some(rows.len());
                adaptation_line = line_no;
                adaptation_state = AdaptationState::StepSize;
            } else if let Some((seconds, kind)) = parse_timing(comment, line_no)? {
                let k = kind as usize;
                // In order (warm-up, sampling, total), each once.
                if timing[k].is_some() || timing[..k].iter().any(Option::is_none) {
                    return Err(CsvError::Truncated {
                        line: line_no,
                        reason: "the timing block is out of order or repeated",
                    });
                }
                timing[k] = Some(seconds);
                timing_line = line_no;
            } else if comment.starts_with("Elapsed Time") {
                return Err(CsvError::Truncated {
                    line: line_no,
                    reason: "a line of the timing block is cut short",
                });
            }
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        match &columns {
            None => {
                columns = Some(parse_header(text, line_no)?);
            }
            Some(cols) => {
                match adaptation_state {
                    // The rows of a dense metric end at the first draw.
                    AdaptationState::DenseRows => adaptation_state = AdaptationState::None,
                    AdaptationState::None => {}
                    // A draw inside the adaptation block: the block is cut short.
                    _ => return Err(CsvError::InvalidAdaptation { line: line_no }),
                }
                let row = text
                    .split(',')
                    .map(|f| parse_number(f.trim(), line_no))
                    .collect::<Result<Vec<f64>, _>>()?;
                if row.len() != cols.len() {
                    return Err(CsvError::FieldCount {
                        line: line_no,
                        expected: cols.len(),
                        found: row.len(),
                    });
                }
                rows.push(row);
            }
        }
    }
    let end_line = line_no + 1;
    if matches!(
        adaptation_state,
        AdaptationState::StepSize | AdaptationState::MetricTitle | AdaptationState::DiagonalRow
    ) {
        return Err(CsvError::Truncated {
            line: end_line,
            reason: "the adaptation block is cut short",
        });
    }
    let columns = columns.ok_or(CsvError::MissingHeader)?;
    metadata.engine = if engine_name == "static" {
        Engine::Static { int_time }
    } else {
        Engine::Nuts { max_depth }
    };
    // An HMC run (CmdStan runs `fixed_param` instead, without warmup, adaptation or the
    // `stepsize__` column, when asked to or when the model has no parameters).
    let hmc = !declared.fixed_param && columns.iter().any(|c| c == "stepsize__");
    if let Some(a) = &adaptation {
        let params = columns.iter().filter(|c| !c.ends_with("__")).count();
        check_adaptation(a, params, adaptation_line)?;
    } else if hmc && declared.engaged && metadata.adapt_engaged && metadata.num_warmup > 0 {
        return Err(CsvError::Truncated {
            line: end_line,
            reason: "the configuration declares an adaptation block (engaged = 1, num_warmup > 0) and there is none",
        });
    }
    let timing = match timing {
        [Some(warmup_seconds), Some(sampling_seconds), Some(_)] => Some(Timing {
            warmup_seconds,
            sampling_seconds,
        }),
        [None, None, None] => None,
        _ => {
            return Err(CsvError::Truncated {
                line: timing_line + 1,
                reason: "the timing block is cut short",
            });
        }
    };
    // `thin` is at least 1 (checked where it is read).
    let thin = metadata.thin.max(1);
    let expected_warmup = if metadata.save_warmup && hmc {
        metadata.num_warmup.div_ceil(thin)
    } else {
        0
    };
    let warmup_rows = match rows_before_adaptation {
        Some(n) => n,
        None => expected_warmup.min(rows.len()),
    };
    if (declared.num_warmup || declared.save_warmup) && warmup_rows != expected_warmup {
        return Err(CsvError::DrawCount {
            what: "warmup draw",
            expected: expected_warmup,
            found: warmup_rows,
        });
    }
    let draws = rows.split_off(warmup_rows);
    if declared.num_samples {
        let expected = metadata.num_samples.div_ceil(thin);
        if draws.len() != expected {
            return Err(CsvError::DrawCount {
                what: "draw",
                expected,
                found: draws.len(),
            });
        }
    }
    Ok(StanCsv {
        metadata,
        columns,
        warmup_draws: rows,
        adaptation,
        draws,
        timing,
    })
}

/// Which counts the configuration comments declared (the others keep their defaults and are
/// not checked).
#[derive(Debug, Default)]
struct Declared {
    /// `algorithm = fixed_param`: no warmup iterations, no adaptation.
    fixed_param: bool,
    num_samples: bool,
    num_warmup: bool,
    save_warmup: bool,
    engaged: bool,
}

/// The header line: `lp__` first, names non-empty and distinct.
fn parse_header(text: &str, line: usize) -> Result<Vec<String>, CsvError> {
    let names: Vec<String> = text.split(',').map(|c| c.trim().to_owned()).collect();
    if names.first().map(String::as_str) != Some("lp__") {
        return Err(CsvError::FirstColumnNotLp {
            first: names.first().cloned(),
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in &names {
        if n.is_empty() {
            return Err(CsvError::InvalidName { name: n.clone() });
        }
        if !seen.insert(n.as_str()) {
            return Err(CsvError::DuplicateColumn {
                line,
                name: n.clone(),
            });
        }
    }
    Ok(names)
}

/// The adapted step size and metric: finite, positive where they must be, and a shape that
/// `params` parameter columns can hold.
fn check_adaptation(a: &Adaptation, params: usize, line: usize) -> Result<(), CsvError> {
    let fail = |reason: String| Err(CsvError::InvalidMetric { line, reason });
    if !(a.step_size > 0.0 && a.step_size.is_finite()) {
        return fail(format!(
            "step size {} is not finite and positive",
            a.step_size
        ));
    }
    let size_ok = |n: usize| (1..=params).contains(&n);
    match &a.inverse_metric {
        InverseMetric::Unit => Ok(()),
        InverseMetric::Diagonal(d) => {
            if !size_ok(d.len()) {
                return fail(format!(
                    "diagonal metric of length {} for {params} parameter columns (1 ..= {params})",
                    d.len()
                ));
            }
            match d.iter().find(|v| !(**v > 0.0 && v.is_finite())) {
                Some(v) => fail(format!(
                    "diagonal metric element {v} is not finite and positive"
                )),
                None => Ok(()),
            }
        }
        InverseMetric::Dense(rows) => {
            let n = rows.len();
            if !size_ok(n) {
                return fail(format!(
                    "dense metric of {n} rows for {params} parameter columns (1 ..= {params})"
                ));
            }
            if let Some(r) = rows.iter().find(|r| r.len() != n) {
                return fail(format!(
                    "dense metric is not square: a row of {} values in {n} rows",
                    r.len()
                ));
            }
            match rows.iter().flatten().find(|v| !v.is_finite()) {
                Some(v) => fail(format!("dense metric element {v} is not finite")),
                None => Ok(()),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdaptationState {
    None,
    StepSize,
    MetricTitle,
    DiagonalRow,
    DenseRows,
}

#[derive(Clone, Copy)]
enum TimingKind {
    Warmup = 0,
    Sampling = 1,
    Total = 2,
}

fn set_metric(adaptation: &mut Option<Adaptation>, metric: InverseMetric) {
    if let Some(a) = adaptation {
        a.inverse_metric = metric;
    }
}

/// A number as CmdStan writes them; `inf`, `-inf`, `Infinity` and `NaN` (any case) are the
/// only non-finite forms, so `1e999` (which Rust would read as ∞) is out of range.
fn parse_number(text: &str, line: usize) -> Result<f64, CsvError> {
    let x = text.parse::<f64>().map_err(|_| CsvError::InvalidNumber {
        line,
        text: text.to_owned(),
    })?;
    if x.is_infinite() {
        let word = text.trim_start_matches(['+', '-']);
        if !(word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")) {
            return Err(CsvError::NumberOutOfRange {
                line,
                text: text.to_owned(),
            });
        }
    }
    Ok(x)
}

fn parse_list(text: &str, line: usize) -> Result<Vec<f64>, CsvError> {
    text.split(',')
        .map(|v| parse_number(v.trim(), line))
        .collect()
}

/// `Elapsed Time: 0.05 seconds (Warm-up)`, `0.02 seconds (Sampling)`, `… (Total)`.
fn parse_timing(comment: &str, line: usize) -> Result<Option<(f64, TimingKind)>, CsvError> {
    let kind = if comment.ends_with("(Warm-up)") {
        TimingKind::Warmup
    } else if comment.ends_with("(Sampling)") {
        TimingKind::Sampling
    } else if comment.ends_with("(Total)") {
        TimingKind::Total
    } else {
        return Ok(None);
    };
    let body = comment.strip_prefix("Elapsed Time:").unwrap_or(comment);
    let number = body.split_whitespace().next().unwrap_or("");
    Ok(Some((parse_number(number, line)?, kind)))
}

fn parse_config(
    comment: &str,
    line: usize,
    m: &mut CsvMetadata,
    declared: &mut Declared,
    engine: &mut String,
    max_depth: &mut u32,
    int_time: &mut f64,
) -> Result<(), CsvError> {
    let Some((key, value)) = comment.split_once('=') else {
        return Ok(());
    };
    let key = key.trim();
    let value = value.trim();
    let value = value.strip_suffix("(Default)").unwrap_or(value).trim();
    let invalid = || CsvError::InvalidValue {
        line,
        key: key.to_owned(),
        value: value.to_owned(),
    };
    let uint = || value.parse::<usize>().map_err(|_| invalid());
    let float = || parse_number(value, line).map_err(|_| invalid());
    let boolean = || match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(invalid()),
    };
    match key {
        "model" => m.model = value.to_owned(),
        "num_samples" => {
            m.num_samples = uint()?;
            declared.num_samples = true;
        }
        "num_warmup" => {
            m.num_warmup = uint()?;
            declared.num_warmup = true;
        }
        "save_warmup" => {
            m.save_warmup = boolean()?;
            declared.save_warmup = true;
        }
        "thin" => {
            m.thin = uint()?;
            if m.thin == 0 {
                return Err(invalid());
            }
        }
        "engaged" => {
            m.adapt_engaged = boolean()?;
            declared.engaged = true;
        }
        "gamma" => m.adapt_gamma = float()?,
        "delta" => m.adapt_delta = float()?,
        "kappa" => m.adapt_kappa = float()?,
        "t0" => m.adapt_t0 = float()?,
        "init_buffer" => m.adapt_init_buffer = uint()?,
        "term_buffer" => m.adapt_term_buffer = uint()?,
        "window" => m.adapt_window = uint()?,
        "engine" => *engine = value.to_owned(),
        "algorithm" => declared.fixed_param = value == "fixed_param",
        "max_depth" => *max_depth = value.parse().map_err(|_| invalid())?,
        "int_time" => *int_time = float()?,
        "metric" => {
            m.metric = match value {
                "unit_e" => MetricKind::Unit,
                "diag_e" => MetricKind::Diagonal,
                "dense_e" => MetricKind::Dense,
                _ => return Err(invalid()),
            }
        }
        "stepsize" => m.stepsize = float()?,
        "stepsize_jitter" => m.stepsize_jitter = float()?,
        "id" => m.chain_id = uint()?,
        "seed" | "seed_u64" => m.seed = value.parse().map_err(|_| invalid())?,
        // CmdStan writes `init = 2` for the default radius, or a file name.
        "init" => {
            if let Ok(r) = value.parse() {
                m.init_radius = r;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_stay_short() {
        for x in [
            0.0,
            -0.0,
            1.0,
            3.0,
            0.1,
            1e-300,
            5e-324,
            1.7976931348623157e308,
            -2.5e-7,
        ] {
            let s = Num(x).to_string();
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
        }
        assert_eq!(Num(3.0).to_string(), "3");
        assert_eq!(Num(0.45).to_string(), "0.45");
        assert_eq!(Num(1e-300).to_string(), "1e-300");
        assert_eq!(Num(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
    }
}
