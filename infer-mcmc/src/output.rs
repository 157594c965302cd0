//! From a [`Fit`] to its outputs: the summary table and CmdStan CSV files, one per chain.
//!
//! [`Fit::summary`] summarizes the constrained draws of every recorded value with the run's
//! divergences and tree-depth hits; [`Fit::to_stan_csv`] builds one chain's Stan CSV content
//! (configuration comments, adaptation block, draws with Stan's per-draw statistics, timing),
//! [`Fit::write_cmdstan_csv`] writes it and [`Fit::write_cmdstan_csvs`] writes every chain
//! to `<prefix>_1.csv`, `<prefix>_2.csv`, … as CmdStan names them.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::{Sampler, SamplerSettings, models::EightSchools};
//! use infer_mcmc::csv::read_csv;
//!
//! let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 100,
//!                                  target_accept: 0.9, ..SamplerSettings::default() };
//! let fit = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
//! println!("{}", fit.summary()?);
//!
//! let mut text = Vec::new();
//! fit.write_cmdstan_csv(1, &mut text, "eight_schools")?;
//! let csv = read_csv(text.as_slice())?;
//! assert_eq!(csv.metadata.chain_id, 2);
//! assert_eq!(csv.columns[7], "mu");
//! assert_eq!(csv.draws.len(), 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ndarray::Array3;

use crate::csv::{Adaptation, CsvError, CsvMetadata, Engine, InverseMetric, StanCsv, Timing};
use crate::fit::{Chain, DrawStats, Fit, STAT_NAMES};
use crate::metric::{Metric, MetricKind};
use crate::settings::Algorithm;
use crate::summary::{ChainReport, Summary, SummaryError};

/// Why a fit could not be written as CmdStan CSV.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{OutputError, Sampler, SamplerSettings, models::Gauss};
///
/// let settings = SamplerSettings { num_chains: 1, num_warmup: 20, num_samples: 10,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(1))?;
/// let err = fit.write_cmdstan_csv(3, Vec::new(), "gauss").unwrap_err();
/// assert!(matches!(err, OutputError::NoSuchChain { chain: 3, chains: 1 }));
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The chain index is not below the number of chains.
    #[error("no chain {chain}: the fit has {chains} chains")]
    NoSuchChain {
        /// The index asked for (0-based).
        chain: usize,
        /// The number of chains of the fit.
        chains: usize,
    },
    /// The model name is empty or holds a line break (it is written on a comment line).
    #[error("invalid model name {name:?}: it must be non-empty and on one line")]
    InvalidModelName {
        /// The offending name.
        name: String,
    },
    /// Writing the CSV failed (I/O, or an invalid parameter name).
    #[error(transparent)]
    Csv(#[from] CsvError),
}

impl Fit {
    /// The posterior summary of every recorded value (constrained scale, sampling draws of
    /// every chain) as `stansummary` prints it: the sampler's statistics (`lp__`,
    /// `accept_stat__`, `stepsize__`, `treedepth__`, `n_leapfrog__`, `divergent__`,
    /// `energy__`) as rows above the parameters, the warmup and sampling times per chain, and
    /// a per-chain table of divergences, tree-depth hits (NUTS) and gradient evaluations with
    /// their totals and the run's wall time. The divergences and — for NUTS — the transitions
    /// that hit `max_depth` are also reported by [`Summary::warnings`].
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 200,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
    /// let summary = fit.summary()?;
    /// assert_eq!(summary.rows().len(), 2);
    /// assert!(summary.get("x[1]").is_some_and(|r| r.diagnostics.mean.abs() < 0.5));
    /// assert_eq!(summary.sampler_rows()[0].name, "lp__");
    /// assert!(summary.get("accept_stat__").is_some_and(|r| r.diagnostics.mean > 0.5));
    /// assert_eq!(summary.chain_reports().len(), 2);
    /// assert_eq!(summary.gradient_evals(), fit.gradient_evals());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SummaryError::Diagnostics`] when a value has fewer than 4 draws per chain or a
    /// non-finite draw.
    pub fn summary(&self) -> Result<Summary, SummaryError> {
        let (chains, draws, params) = (self.num_chains(), self.num_draws(), self.layout.len());
        let values = Array3::from_shape_fn((chains, draws, params), |(c, i, p)| {
            self.chains[c].draws[[i, p]]
        });
        let stats: Vec<ndarray::Array2<f64>> = STAT_NAMES
            .iter()
            .filter_map(|name| self.stat_draws(name))
            .collect();
        let stat_views: Vec<_> = stats.iter().map(|a| a.view()).collect();
        let nuts = self.settings.algorithm == Algorithm::Nuts;
        let reports = self
            .chains
            .iter()
            .map(|c| ChainReport {
                id: c.chain + 1,
                draws: c.draws.nrows(),
                divergent: c.num_divergent() as u64,
                max_treedepth_hits: if nuts {
                    c.num_max_depth(self.settings.max_depth) as u64
                } else {
                    0
                },
                gradient_evals: c.gradient_evals(),
                warmup_seconds: c.warmup_seconds,
                sampling_seconds: c.sampling_seconds,
            })
            .collect();
        let mut summary = Summary::new(self.param_names(), values.view())?
            .with_sampler_rows(&STAT_NAMES, &stat_views)?
            .with_chain_reports(reports)
            .with_wall_time(self.wall_seconds)
            .with_divergences(self.num_divergent() as u64);
        if nuts {
            let max_depth = u32::try_from(self.settings.max_depth).unwrap_or(u32::MAX);
            summary = summary.with_treedepth_hits(self.num_max_depth() as u64, max_depth);
        }
        Ok(summary)
    }

    /// The configuration comments of chain `chain` (0-based) as CmdStan writes them: model
    /// name, `num_samples` (before thinning), `num_warmup`, `save_warmup`, `thin`, the `adapt`
    /// block (engaged when there is warmup, δ and the dual-averaging and window constants),
    /// the engine (`nuts` with `max_depth`, or `static` with `int_time` = steps × adapted step
    /// size), the metric, the initial step size, `id` = `chain + 1`, the init radius and the
    /// run's seed (shared by every chain, as in CmdStan).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 100, num_samples: 50,
    ///                                  seed: 9, ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
    /// let meta = fit.csv_metadata(1, "gauss")?;
    /// assert_eq!((meta.chain_id, meta.seed, meta.num_warmup), (2, 9, 100));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`OutputError::NoSuchChain`]; [`OutputError::InvalidModelName`] for an empty name or
    /// one with a line break.
    pub fn csv_metadata(&self, chain: usize, model: &str) -> Result<CsvMetadata, OutputError> {
        let c = self.chain(chain)?;
        if model.is_empty() || model.contains(['\n', '\r']) {
            return Err(OutputError::InvalidModelName {
                name: model.to_owned(),
            });
        }
        let s = &self.settings;
        let engine = match s.algorithm {
            Algorithm::StaticHmc { num_steps } => Engine::Static {
                int_time: num_steps as f64 * c.step_size,
            },
            Algorithm::Nuts => Engine::Nuts {
                max_depth: u32::try_from(s.max_depth).unwrap_or(u32::MAX),
            },
        };
        Ok(CsvMetadata {
            model: model.to_owned(),
            num_samples: s.num_samples,
            num_warmup: s.num_warmup,
            save_warmup: s.save_warmup,
            thin: s.thin,
            adapt_engaged: s.num_warmup > 0,
            adapt_gamma: s.adapt.gamma,
            adapt_delta: s.target_accept,
            adapt_kappa: s.adapt.kappa,
            adapt_t0: s.adapt.t0,
            adapt_init_buffer: s.adapt.init_buffer,
            adapt_term_buffer: s.adapt.term_buffer,
            adapt_window: s.adapt.base_window,
            engine,
            metric: c.metric.kind().into(),
            stepsize: s.initial_step_size,
            stepsize_jitter: 0.0,
            chain_id: chain + 1,
            seed: s.seed,
            init_radius: s.init_radius,
        })
    }

    /// The whole Stan CSV content of chain `chain` (0-based): [`Fit::csv_metadata`], the
    /// columns `lp__, accept_stat__, stepsize__, treedepth__, n_leapfrog__, divergent__,
    /// energy__` then the recorded values in CmdStan's form (`theta[1]` → `theta.1`) and order
    /// (the elements of a matrix or array column-major, `a.1.1, a.2.1, a.1.2, …`, as Stan
    /// flattens them; [`Fit::summary`] and the chains' draws keep the row-major order), the
    /// saved warmup draws (with `save_warmup`; every `thin`-th one, as CmdStan keeps them), the
    /// adaptation block (adapted step size and the diagonal of the inverse metric or its rows,
    /// in the sampler's unconstrained coordinates; only when there was warmup), the draws and
    /// the warmup and sampling times. Edit the returned value to change the metadata before
    /// [`StanCsv::write`].
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    /// use infer_mcmc::csv::InverseMetric;
    ///
    /// let settings = SamplerSettings { num_chains: 1, num_warmup: 150, num_samples: 20,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(3))?;
    /// let csv = fit.to_stan_csv(0, "gauss")?;
    /// assert_eq!(csv.columns[7..], ["x.1", "x.2", "x.3"]);
    /// let adaptation = csv.adaptation.expect("there was warmup");
    /// assert_eq!(adaptation.step_size, fit.chains[0].step_size);
    /// assert!(matches!(adaptation.inverse_metric, InverseMetric::Diagonal(ref d) if d.len() == 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Fit::csv_metadata`].
    pub fn to_stan_csv(&self, chain: usize, model: &str) -> Result<StanCsv, OutputError> {
        let metadata = self.csv_metadata(chain, model)?;
        let c = self.chain(chain)?;
        let adaptation = metadata.adapt_engaged.then(|| Adaptation {
            step_size: c.step_size,
            inverse_metric: inverse_metric(&c.metric),
        });
        let order = self.layout.cmdstan_order();
        let names = self.layout.cmdstan_names();
        Ok(StanCsv {
            metadata,
            columns: StanCsv::nuts_columns(&names),
            warmup_draws: rows(&c.warmup_stats, &c.warmup_draws, &order)
                .into_iter()
                .step_by(self.settings.thin.max(1))
                .collect(),
            adaptation,
            draws: rows(&c.stats, &c.draws, &order),
            timing: Some(Timing {
                warmup_seconds: c.warmup_seconds,
                sampling_seconds: c.sampling_seconds,
            }),
        })
    }

    /// Writes chain `chain` (0-based) as a CmdStan CSV file to `out`; see
    /// [`Fit::to_stan_csv`] for the content. The file is read by CmdStan's `stansummary`,
    /// ArviZ's `from_cmdstan` and [`read_csv`](crate::csv::read_csv).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 1, num_warmup: 150, num_samples: 10,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
    /// let mut out = Vec::new();
    /// fit.write_cmdstan_csv(0, &mut out, "gauss")?;
    /// let text = String::from_utf8(out)?;
    /// assert!(text.starts_with("# model = gauss\n"));
    /// assert!(text.contains("\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1,x.2\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Fit::csv_metadata`], and [`OutputError::Csv`] when writing fails or a recorded
    /// value's name cannot be a CSV column (empty, or holding `,`, `"`, `#` or a line break).
    pub fn write_cmdstan_csv<W: Write>(
        &self,
        chain: usize,
        out: W,
        model: &str,
    ) -> Result<(), OutputError> {
        self.to_stan_csv(chain, model)?.write(out)?;
        Ok(())
    }

    /// Writes every chain to its own file `<prefix>_<id>.csv`, `id` = 1, 2, … as CmdStan
    /// names the files of a multi-chain run, creating the parent directory if needed, and
    /// returns the paths in chain order. The model name is the prefix's file name.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::EightSchools};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 150, num_samples: 20,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
    /// let dir = std::env::temp_dir().join(format!("infer-doc-{}", std::process::id()));
    /// let paths = fit.write_cmdstan_csvs(dir.join("eight_schools"))?;
    /// assert!(paths[1].ends_with("eight_schools_2.csv"));
    /// std::fs::remove_dir_all(dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`OutputError::InvalidModelName`] when the prefix has no file name;
    /// [`OutputError::Csv`] for a failure to create or write a file.
    pub fn write_cmdstan_csvs(
        &self,
        prefix: impl AsRef<Path>,
    ) -> Result<Vec<PathBuf>, OutputError> {
        let prefix = prefix.as_ref();
        let model = prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if model.is_empty() {
            return Err(OutputError::InvalidModelName { name: model });
        }
        if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(CsvError::from)?;
        }
        let mut paths = Vec::with_capacity(self.num_chains());
        for chain in 0..self.num_chains() {
            let mut name = prefix.as_os_str().to_owned();
            name.push(format!("_{}.csv", chain + 1));
            let path = PathBuf::from(name);
            let file = File::create(&path).map_err(CsvError::from)?;
            self.write_cmdstan_csv(chain, BufWriter::new(file), &model)?;
            paths.push(path);
        }
        Ok(paths)
    }

    fn chain(&self, chain: usize) -> Result<&Chain, OutputError> {
        self.chains.get(chain).ok_or(OutputError::NoSuchChain {
            chain,
            chains: self.num_chains(),
        })
    }
}

fn inverse_metric(metric: &Metric) -> InverseMetric {
    match metric.kind() {
        MetricKind::Dense => {
            let n = metric.dim();
            let m = metric.inverse_matrix();
            InverseMetric::Dense(m.chunks(n.max(1)).map(<[f64]>::to_vec).collect())
        }
        MetricKind::Diagonal => InverseMetric::Diagonal(metric.inverse_diagonal()),
        MetricKind::LowRank => match metric.low_rank_factors() {
            Some(f) => InverseMetric::LowRank(f),
            None => InverseMetric::Diagonal(metric.inverse_diagonal()),
        },
    }
}

/// One CSV row per draw: the statistics in [`STAT_NAMES`](crate::STAT_NAMES) order, then the
/// recorded values in the column order `order` (indices into a draw).
fn rows(stats: &[DrawStats], draws: &ndarray::Array2<f64>, order: &[usize]) -> Vec<Vec<f64>> {
    stats
        .iter()
        .zip(draws.rows())
        .map(|(s, d)| {
            s.to_array()
                .iter()
                .copied()
                .chain(order.iter().map(|&j| d[j]))
                .collect()
        })
        .collect()
}
