//! Checkpoints: the state of every chain of a finished run, written to disk and read back to
//! continue the run later — in another process — exactly where it stopped.
//!
//! [`Fit::checkpoint`] takes, per chain, its RNG streams (transitions and generated
//! quantities), its last position, the sampling iterations done, its adapted step size and
//! metric; [`Checkpoint::write_json`] and [`Checkpoint::read_json`] save and load it (JSON
//! through `serde`, with a format version). [`Sampler::resume`] then runs more sampling
//! iterations: the draws are bit for bit those an uninterrupted run would have made after the
//! checkpoint, with the same settings and model. [`Checkpoint::adapted`] gives the step sizes
//! and metrics alone, for a new run without warmup ([`Sampler::with_adapted`]).
//!
//! A checkpoint is taken after sampling; a run interrupted during warmup restarts its warmup.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
//! use infer_mcmc::checkpoint::Checkpoint;
//!
//! let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 100,
//!                                  seed: 8, ..SamplerSettings::default() };
//! let first = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
//! let mut file = Vec::new();
//! first.checkpoint().write_json(&mut file)?;
//!
//! // later, in another process
//! let checkpoint = Checkpoint::read_json(file.as_slice())?;
//! let more = Sampler::new(settings)?.resume(&checkpoint, 50, |_| Gauss::new(2))?;
//! assert_eq!(more.num_draws(), 50);
//!
//! // the same draws as one run of 150
//! let long = Sampler::new(SamplerSettings { num_samples: 150, ..settings })?
//!     .sample(|_| Gauss::new(2))?;
//! assert_eq!(more.chains[1].draws, long.chains[1].draws.slice(ndarray::s![100.., ..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::density::LogDensity;
use crate::error::McmcError;
use crate::fit::{ChainRng, ChainState, Fit};
use crate::metric::{Metric, MetricKind};
use crate::model::{Model, tape_models};
use crate::observer::Observer;
use crate::sampler::{Resume, Sampler};
use crate::settings::SamplerSettings;

/// The format version written by this crate; [`Checkpoint::read_json`] refuses others.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Why a checkpoint could not be written or read.
///
/// # Examples
///
/// ```
/// use infer_mcmc::checkpoint::{Checkpoint, CheckpointError};
///
/// let err = Checkpoint::read_json(r#"{"version": 99}"#.as_bytes()).unwrap_err();
/// assert!(matches!(err, CheckpointError::Version { found: 99, expected: 1 }));
/// let err = Checkpoint::read_json(r#"{"version": 1}"#.as_bytes()).unwrap_err();
/// assert!(matches!(err, CheckpointError::Format(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The text is not a checkpoint of this format.
    #[error("not a checkpoint of this format: {0}")]
    Format(#[from] serde_json::Error),
    /// The checkpoint was written by a different format version.
    #[error("checkpoint format version {found}, this crate reads version {expected}")]
    Version {
        /// The version in the file.
        found: u32,
        /// [`CHECKPOINT_VERSION`].
        expected: u32,
    },
    /// A saved metric is invalid (not finite and positive, or not symmetric positive
    /// definite).
    #[error("chain {chain}: saved metric: {source}")]
    Metric {
        /// The chain (0-based).
        chain: usize,
        /// Why.
        source: Box<McmcError>,
    },
}

/// A saved inverse metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SavedMetric {
    Diagonal {
        inverse: Vec<f64>,
    },
    Dense {
        dim: usize,
        inverse: Vec<f64>,
    },
    LowRank {
        diagonal: Vec<f64>,
        eigenvalues: Vec<f64>,
        eigenvectors: Vec<Vec<f64>>,
    },
}

impl SavedMetric {
    fn new(m: &Metric) -> Self {
        match m.kind() {
            MetricKind::Diagonal => Self::Diagonal {
                inverse: m.inverse_diagonal(),
            },
            MetricKind::Dense => Self::Dense {
                dim: m.dim(),
                inverse: m.inverse_matrix(),
            },
            MetricKind::LowRank => match m.low_rank_factors() {
                Some(f) => Self::LowRank {
                    diagonal: f.diagonal,
                    eigenvalues: f.eigenvalues,
                    eigenvectors: f.eigenvectors,
                },
                // a low-rank kind always has factors; the diagonal is the metric otherwise
                None => Self::Diagonal {
                    inverse: m.inverse_diagonal(),
                },
            },
        }
    }

    fn metric(&self) -> Result<Metric, McmcError> {
        match self {
            Self::Diagonal { inverse } => Metric::diagonal(inverse.clone()),
            Self::Dense { dim, inverse } => Metric::dense(inverse.clone(), *dim),
            Self::LowRank {
                diagonal,
                eigenvalues,
                eigenvectors,
            } => Metric::low_rank(diagonal.clone(), eigenvalues.clone(), eigenvectors.clone()),
        }
    }
}

/// One chain of a [`Checkpoint`].
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedChain {
    chain: usize,
    rng_seed: u64,
    step_size: f64,
    metric: SavedMetric,
    rng: ChainRng,
    gq_rng: ChainRng,
    position: Vec<f64>,
    sampling_iterations: usize,
    /// The width of a recorded row (parameters, transformed parameters, generated
    /// quantities).
    columns: usize,
}

/// The state of every chain of a finished run; see [the module documentation](self).
///
/// # Examples
///
/// See [the module documentation](self).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    version: u32,
    /// The run's seed and thinning, checked by [`Sampler::resume`].
    seed: u64,
    thin: usize,
    chains: Vec<SavedChain>,
}

impl Fit {
    /// The state of every chain, to continue the run later with [`Sampler::resume`].
    ///
    /// # Examples
    ///
    /// See [the module documentation](crate::checkpoint).
    #[must_use]
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            seed: self.settings.seed,
            thin: self.settings.thin,
            chains: self
                .chains
                .iter()
                .map(|c| SavedChain {
                    chain: c.chain,
                    rng_seed: c.rng_seed,
                    step_size: c.step_size,
                    metric: SavedMetric::new(&c.metric),
                    rng: c.state.rng.clone(),
                    gq_rng: c.state.gq_rng.clone(),
                    position: c.state.q.clone(),
                    sampling_iterations: c.state.sampling_iterations,
                    columns: c.draws.ncols(),
                })
                .collect(),
        }
    }
}

impl Checkpoint {
    /// Number of chains.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 3, num_warmup: 50, num_samples: 10,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(1))?;
    /// assert_eq!(fit.checkpoint().num_chains(), 3);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn num_chains(&self) -> usize {
        self.chains.len()
    }

    /// Writes the checkpoint as JSON (numbers round-trip exactly).
    ///
    /// # Examples
    ///
    /// See [the module documentation](crate::checkpoint).
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Io`] or [`CheckpointError::Format`] when writing fails.
    pub fn write_json<W: Write>(&self, out: W) -> Result<(), CheckpointError> {
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer(&mut out, self)?;
        out.flush()?;
        Ok(())
    }

    /// Reads a checkpoint written by [`Checkpoint::write_json`].
    ///
    /// # Examples
    ///
    /// See [the module documentation](crate::checkpoint).
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Format`] for text that is not a checkpoint,
    /// [`CheckpointError::Version`] for another format version, [`CheckpointError::Metric`]
    /// for a saved metric that is not valid.
    pub fn read_json<R: BufRead>(input: R) -> Result<Self, CheckpointError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let value: serde_json::Value = serde_json::from_reader(input)?;
        let Version { version } = serde_json::from_value(value.clone())?;
        if version != CHECKPOINT_VERSION {
            return Err(CheckpointError::Version {
                found: version,
                expected: CHECKPOINT_VERSION,
            });
        }
        let checkpoint: Self = serde_json::from_value(value)?;
        for c in &checkpoint.chains {
            c.metric.metric().map_err(|e| CheckpointError::Metric {
                chain: c.chain,
                source: Box::new(e),
            })?;
        }
        Ok(checkpoint)
    }

    /// The adapted metric and step size of every chain, to start a new run without warmup
    /// ([`Sampler::with_adapted`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 300, num_samples: 10,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
    /// let adapted = fit.checkpoint().adapted()?;
    /// let no_warmup = SamplerSettings { num_warmup: 0, seed: 1, ..settings };
    /// let next = Sampler::new(no_warmup)?.with_adapted(adapted).sample(|_| Gauss::new(2))?;
    /// assert_eq!(next.chains[0].step_size, fit.chains[0].step_size);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidMetric`] or [`McmcError::NotPositiveDefinite`] for a saved metric
    /// that is not valid.
    pub fn adapted(&self) -> Result<Vec<(Metric, f64)>, McmcError> {
        self.chains
            .iter()
            .map(|c| Ok((c.metric.metric()?, c.step_size)))
            .collect()
    }
}

impl<O: Observer> Sampler<O> {
    /// Continues the run saved in `checkpoint` for `num_samples` more sampling iterations per
    /// chain, with a model instance per chain from `make_model(chain)`. The returned fit holds
    /// the new draws only — bit for bit the draws an uninterrupted run with the same settings
    /// and model would have made after the checkpoint. This sampler's settings must be the
    /// run's (its `seed` and `thin` are checked; `num_samples` and `num_warmup` are not used).
    ///
    /// # Examples
    ///
    /// See [the module documentation](crate::checkpoint).
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] when the settings' seed or thinning differ from the
    /// checkpoint's, [`McmcError::DimensionMismatch`] when a saved position does not fit the
    /// model; otherwise as [`Sampler::sample`].
    pub fn resume<M, F>(
        &self,
        checkpoint: &Checkpoint,
        num_samples: usize,
        make_model: F,
    ) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        let s = self.settings();
        for (name, saved, ours) in [
            ("seed", checkpoint.seed, s.seed),
            ("thin", checkpoint.thin as u64, s.thin as u64),
        ] {
            if saved != ours {
                return Err(McmcError::InvalidSetting {
                    name,
                    value: ours as f64,
                    expected: "the value of the run that wrote the checkpoint",
                });
            }
        }
        let settings = SamplerSettings {
            num_samples,
            num_chains: checkpoint.chains.len().max(1),
            ..*s
        };
        settings.validate()?;
        let continuation = self.continuation(settings);
        // the inits were found by the run that wrote the checkpoint: no init gradients
        continuation.fit_chains(make_model, |c, model| {
            let saved = &checkpoint.chains[c];
            if saved.position.len() != model.dim() {
                return Err(McmcError::DimensionMismatch {
                    name: "checkpoint position",
                    expected: model.dim(),
                    found: saved.position.len(),
                });
            }
            let metric = saved.metric.metric()?;
            let state = ChainState {
                rng: saved.rng.clone(),
                gq_rng: saved.gq_rng.clone(),
                q: saved.position.clone(),
                sampling_iterations: saved.sampling_iterations,
            };
            let resume = Resume {
                chain: saved.chain,
                rng_seed: saved.rng_seed,
                state: &state,
                metric: &metric,
                step_size: saved.step_size,
                columns: saved.columns,
            };
            continuation.resume_chain(&resume, num_samples, model)
        })
    }

    /// [`Sampler::resume`] for a [`Model`], as [`Sampler::sample_model`] samples one.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_ad::Var;
    /// use infer_dist::Constraint;
    /// use infer_mcmc::{LogDensityError, Sampler, SamplerSettings};
    /// use infer_mcmc::model::{Model, Params};
    ///
    /// struct Std;
    /// impl Model for Std {
    ///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
    ///         let x = p.scalar("x", Constraint::Real)?;
    ///         Ok(-0.5 * x * x)
    ///     }
    /// }
    /// let settings = SamplerSettings { num_chains: 1, num_warmup: 100, num_samples: 20,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample_model(&Std)?;
    /// let more = Sampler::new(settings)?.resume_model(&fit.checkpoint(), 30, &Std)?;
    /// assert_eq!((more.num_draws(), more.param_names()[0].as_str()), (30, "x"));
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Sampler::resume`] and [`Sampler::sample_model`].
    pub fn resume_model<M: Model + Sync>(
        &self,
        checkpoint: &Checkpoint,
        num_samples: usize,
        model: &M,
    ) -> Result<Fit, McmcError> {
        self.resume(checkpoint, num_samples, tape_models(model)?)
    }
}
