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

mod adaptation;
mod config;
mod error;
mod reader;
mod types;
mod writer;

pub use error::CsvError;
pub use reader::read_csv;
pub use types::{Adaptation, CsvMetadata, Engine, InverseMetric, MetricKind, StanCsv, Timing};
pub use writer::CsvWriter;

/// The sampler columns CmdStan writes before the parameters for NUTS, in order: the crate's
/// one list, [`STAT_NAMES`](crate::STAT_NAMES), under this module's name for it.
pub use crate::fit::STAT_NAMES as NUTS_COLUMNS;

/// A `csv` reader's or writer's error as the [`CsvError::Io`] it is: with quoting off and
/// flexible records, reading or writing records fails only on I/O.
fn io_error(e: ::csv::Error) -> CsvError {
    if !e.is_io_error() {
        return CsvError::Io(std::io::Error::other(e));
    }
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => CsvError::Io(e),
        kind => CsvError::Io(std::io::Error::other(format!("{kind:?}"))),
    }
}
