//! The content of a Stan CSV file as plain data: configuration, columns, draws, adaptation
//! and timing.

use std::io::{BufRead, Write};

use super::{CsvError, CsvWriter, NUTS_COLUMNS, read_csv};

/// The sampling engine recorded in the configuration.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvMetadata, Engine};
///
/// assert_eq!(CsvMetadata::default().engine, Engine::Nuts { max_depth: 10 });
/// ```
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

/// The kind of metric (mass matrix) recorded in the configuration: the sampler's
/// [`MetricKind`](crate::MetricKind) (diagonal or dense, converted by `From`) and the unit
/// metric of files written by CmdStan (`unit_e`), which the sampler does not adapt.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::MetricKind;
///
/// assert_eq!(MetricKind::from(infer_mcmc::MetricKind::Dense), MetricKind::Dense);
/// assert_ne!(MetricKind::Unit, MetricKind::Diagonal);
/// ```
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
    /// CmdStan's name, as in `metric = diag_e`.
    pub(super) fn stan_name(self) -> &'static str {
        match self {
            Self::Unit => "unit_e",
            Self::Diagonal => "diag_e",
            Self::Dense => "dense_e",
        }
    }

    /// The kind CmdStan's name stands for.
    pub(super) fn from_stan_name(name: &str) -> Option<Self> {
        match name {
            "unit_e" => Some(Self::Unit),
            "diag_e" => Some(Self::Diagonal),
            "dense_e" => Some(Self::Dense),
            _ => None,
        }
    }
}

impl From<crate::metric::MetricKind> for MetricKind {
    fn from(kind: crate::metric::MetricKind) -> Self {
        match kind {
            crate::metric::MetricKind::Diagonal => Self::Diagonal,
            crate::metric::MetricKind::Dense => Self::Dense,
            // CmdStan has no low-rank metric: the file declares `diag_e` and its adaptation
            // block holds the diagonal of M⁻¹, then the factors (`InverseMetric::LowRank`).
            crate::metric::MetricKind::LowRank => Self::Diagonal,
        }
    }
}

/// The run configuration written as comments at the top of the file. `Default` gives
/// CmdStan's defaults.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvMetadata, MetricKind};
///
/// let m = CsvMetadata { num_samples: 500, seed: 7, ..CsvMetadata::default() };
/// assert_eq!((m.num_warmup, m.thin, m.metric), (1000, 1, MetricKind::Diagonal));
/// ```
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
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{Adaptation, CsvMetadata, CsvWriter, InverseMetric, StanCsv};
///
/// let columns = StanCsv::nuts_columns(&["a", "b"]);
/// let mut w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &columns)?;
/// let dense = InverseMetric::Dense(vec![vec![1.0, 0.5], vec![0.5, 2.0]]);
/// w.write_adaptation(&Adaptation { step_size: 0.5, inverse_metric: dense })?;
/// let text = String::from_utf8(w.finish(None)?).unwrap();
/// assert!(text.ends_with("# Elements of inverse mass matrix:\n# 1, 0.5\n# 0.5, 2\n"));
/// # Ok::<(), infer_mcmc::csv::CsvError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum InverseMetric {
    /// Unit metric: CmdStan writes `No free parameters for unit metric`.
    Unit,
    /// The diagonal of a diagonal inverse metric.
    Diagonal(Vec<f64>),
    /// A dense inverse metric, row by row.
    Dense(Vec<Vec<f64>>),
    /// A diagonal-plus-low-rank inverse metric D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}
    /// ([`Metric::low_rank`](crate::Metric::low_rank)). Written as CmdStan's diagonal block
    /// with the diagonal of the whole M⁻¹ (what CmdStan's and ArviZ's readers take), then
    /// comment lines `Low-rank factors of the metric …`, `D: …`, `lambda: …` and one
    /// `uⱼ: …` per eigenvector, which those readers pass over; read back as written.
    ///
    /// ```
    /// use infer_mcmc::csv::{Adaptation, CsvMetadata, CsvWriter, InverseMetric, StanCsv};
    /// use infer_mcmc::metric::LowRankFactors;
    ///
    /// let f = LowRankFactors { diagonal: vec![4.0, 1.0], eigenvalues: vec![3.0],
    ///                          eigenvectors: vec![vec![1.0, 0.0]] };
    /// let meta = CsvMetadata { num_samples: 0, ..CsvMetadata::default() };
    /// let mut w = CsvWriter::new(Vec::new(), &meta, &StanCsv::nuts_columns(&["a", "b"]))?;
    /// w.write_adaptation(&Adaptation { step_size: 0.5, inverse_metric: InverseMetric::LowRank(f) })?;
    /// let text = String::from_utf8(w.finish(None)?).unwrap();
    /// // diag(M⁻¹) = D ⊙ (1 + (λ − 1) u²) = (4 · 3, 1 · 1)
    /// assert!(text.contains("# Diagonal elements of inverse mass matrix:\n# 12, 1\n"));
    /// assert!(text.ends_with("# D: 4, 1\n# lambda: 3\n# u1: 1, 0\n"));
    /// let back = infer_mcmc::csv::read_csv(text.as_bytes())?;
    /// assert!(matches!(back.adaptation.unwrap().inverse_metric, InverseMetric::LowRank(g) if g.eigenvalues == [3.0]));
    /// # Ok::<(), infer_mcmc::csv::CsvError>(())
    /// ```
    LowRank(crate::metric::LowRankFactors),
}

/// The adaptation results written after warmup.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{Adaptation, InverseMetric};
///
/// let a = Adaptation { step_size: 0.8, inverse_metric: InverseMetric::Diagonal(vec![1.0]) };
/// assert_eq!(a.clone(), a);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adaptation {
    /// The adapted step size.
    pub step_size: f64,
    /// The adapted inverse metric.
    pub inverse_metric: InverseMetric,
}

/// Wall-clock times written at the end of the file (the total is their sum).
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvMetadata, CsvWriter, StanCsv, Timing};
///
/// let w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &StanCsv::nuts_columns(&["x"]))?;
/// let timing = Timing { warmup_seconds: 0.25, sampling_seconds: 0.5 };
/// let text = String::from_utf8(w.finish(Some(&timing))?).unwrap();
/// assert!(text.contains("#                0.75 seconds (Total)\n"));
/// # Ok::<(), infer_mcmc::csv::CsvError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Seconds spent in warmup.
    pub warmup_seconds: f64,
    /// Seconds spent sampling.
    pub sampling_seconds: f64,
}

/// The whole content of one chain's Stan CSV file, as plain data.
///
/// # Examples
///
/// See [the module documentation](crate::csv) for a whole file; the smallest one:
///
/// ```
/// use infer_mcmc::csv::{CsvMetadata, StanCsv};
///
/// let csv = StanCsv {
///     metadata: CsvMetadata { num_samples: 1, num_warmup: 0, ..CsvMetadata::default() },
///     columns: vec!["lp__".to_owned()],
///     warmup_draws: vec![],
///     adaptation: None,
///     draws: vec![vec![-0.5]],
///     timing: None,
/// };
/// let mut text = Vec::new();
/// csv.write(&mut text)?;
/// assert_eq!(StanCsv::read(text.as_slice())?, csv);
/// # Ok::<(), infer_mcmc::csv::CsvError>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::StanCsv;
    ///
    /// let columns = StanCsv::nuts_columns(&["mu", "theta.1"]);
    /// assert_eq!(columns.len(), 9);
    /// assert_eq!((columns[0].as_str(), columns[7].as_str()), ("lp__", "mu"));
    /// ```
    pub fn nuts_columns<S: AsRef<str>>(columns: &[S]) -> Vec<String> {
        NUTS_COLUMNS
            .iter()
            .map(|s| (*s).to_owned())
            .chain(columns.iter().map(|n| n.as_ref().to_owned()))
            .collect()
    }

    /// Writes the file to `out` through a [`CsvWriter`]: configuration, header, warmup
    /// draws, adaptation block, draws, timing block.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{CsvError, CsvMetadata, StanCsv};
    ///
    /// let mut csv = StanCsv {
    ///     metadata: CsvMetadata { num_samples: 1, adapt_engaged: false, ..CsvMetadata::default() },
    ///     columns: StanCsv::nuts_columns(&["x"]),
    ///     warmup_draws: vec![],
    ///     adaptation: None,
    ///     draws: vec![vec![-0.5, 1.0, 0.9, 1.0, 1.0, 0.0, 0.6, 0.3]],
    ///     timing: None,
    /// };
    /// let mut text = Vec::new();
    /// csv.write(&mut text)?;
    /// assert!(String::from_utf8_lossy(&text).ends_with("\n-0.5,1,0.9,1,1,0,0.6,0.3\n"));
    /// csv.draws[0].pop();
    /// assert!(matches!(csv.write(Vec::new()), Err(CsvError::RowLength { row: 0, .. })));
    /// # Ok::<(), CsvError>(())
    /// ```
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
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::StanCsv;
    ///
    /// let csv = StanCsv::read("# num_samples = 1\nlp__,x\n-0.5,2\n".as_bytes())?;
    /// assert_eq!((csv.columns.len(), csv.draws[0][1]), (2, 2.0));
    /// # Ok::<(), infer_mcmc::csv::CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`read_csv`].
    pub fn read<R: BufRead>(input: R) -> Result<Self, CsvError> {
        read_csv(input)
    }
}
