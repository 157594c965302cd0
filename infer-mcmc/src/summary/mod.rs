//! The posterior summary table (mean, sd, MCSE, quantiles, bulk/tail ESS, R̂) and its
//! convergence warnings, rendered like CmdStan's `stansummary`: the sampler's per-draw
//! statistics (`lp__`, `accept_stat__`, `stepsize__`, `treedepth__`, `n_leapfrog__`,
//! `divergent__`, `energy__`) summarized as rows of their own above the parameters, the
//! warmup and sampling times per chain, and a per-chain table of divergences, tree-depth hits
//! and gradient evaluations with the run's totals and wall time.

use std::fmt;

use ndarray::{ArrayView2, ArrayView3, Axis};

use crate::diagnostics::{Diagnostics, DiagnosticsError};

mod display;

/// R̂ above this signals chains that have not mixed (Vehtari et al. 2021).
pub const RHAT_THRESHOLD: f64 = 1.01;

/// Bulk or tail ESS below this many draws *per chain* is too low for reliable estimates
/// (Vehtari et al. 2021: 100 per chain, i.e. 400 for 4 chains — the rule of ArviZ and Stan).
pub const MIN_ESS_PER_CHAIN: f64 = 100.0;

/// Why a [`Summary`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// The number of names differs from the number of parameters in the draws.
    #[error("{names} parameter names for {params} parameters")]
    NameCount {
        /// Number of names given.
        names: usize,
        /// Number of parameters in the draws.
        params: usize,
    },
    /// A parameter's draws have a different chains × draws shape than the first parameter's.
    #[error(
        "parameter `{name}` has {chains} chains × {draws} draws, expected {expected_chains} × {expected_draws}"
    )]
    ShapeMismatch {
        /// The parameter's name.
        name: String,
        /// Its number of chains.
        chains: usize,
        /// Its number of draws per chain.
        draws: usize,
        /// Chains of the first parameter.
        expected_chains: usize,
        /// Draws per chain of the first parameter.
        expected_draws: usize,
    },
    /// The diagnostics of one parameter failed (empty, too few draws, non-finite draw).
    #[error("parameter `{name}`: {source}")]
    Diagnostics {
        /// The parameter's name.
        name: String,
        /// What went wrong.
        source: DiagnosticsError,
    },
}

/// What one chain of a run did, for the per-chain table of a [`Summary`]
/// ([`Summary::with_chain_reports`]).
///
/// # Examples
///
/// ```
/// use infer_mcmc::summary::ChainReport;
///
/// let r = ChainReport { id: 1, draws: 1000, divergent: 3, max_treedepth_hits: 0,
///                       gradient_evals: 31_000, warmup_seconds: 0.2, sampling_seconds: 0.3 };
/// assert_eq!(r.id, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainReport {
    /// The chain's id, 1-based as CmdStan numbers chains (chain index + 1).
    pub id: usize,
    /// Its sampling draws (after thinning).
    pub draws: usize,
    /// Divergent transitions among its sampling draws.
    pub divergent: u64,
    /// Sampling draws whose tree reached the maximum depth.
    pub max_treedepth_hits: u64,
    /// Every gradient evaluation of the chain (initialization, step-size searches, warmup and
    /// sampling).
    pub gradient_evals: u64,
    /// Wall time of the warmup, seconds.
    pub warmup_seconds: f64,
    /// Wall time of the sampling, seconds.
    pub sampling_seconds: f64,
}

/// One row of the summary: a parameter's name and its diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSummary {
    /// The parameter's name, as given (e.g. `theta[1]`).
    pub name: String,
    /// Mean, sd, MCSE, quantiles, ESS and R̂ of its draws.
    pub diagnostics: Diagnostics,
}

/// A convergence or sampling problem reported by [`Summary::warnings`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// R̂ above [`RHAT_THRESHOLD`].
    HighRhat {
        /// Parameter name.
        name: String,
        /// Its R̂.
        rhat: f64,
    },
    /// Bulk ESS below [`MIN_ESS_PER_CHAIN`] × chains.
    LowEssBulk {
        /// Parameter name.
        name: String,
        /// Its bulk ESS.
        ess: f64,
        /// The threshold it fell below.
        threshold: f64,
    },
    /// Tail ESS below [`MIN_ESS_PER_CHAIN`] × chains.
    LowEssTail {
        /// Parameter name.
        name: String,
        /// Its tail ESS.
        ess: f64,
        /// The threshold it fell below.
        threshold: f64,
    },
    /// Transitions that ended with a divergence.
    Divergences {
        /// Divergent transitions, all chains together.
        count: u64,
        /// Post-warmup transitions, all chains together.
        transitions: u64,
    },
    /// Transitions that stopped at the maximum tree depth.
    MaxTreedepth {
        /// Transitions that hit the limit, all chains together.
        count: u64,
        /// Post-warmup transitions, all chains together.
        transitions: u64,
        /// The tree-depth limit.
        max_depth: u32,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HighRhat { name, rhat } => write!(
                f,
                "{name}: R-hat {rhat:.3} > {RHAT_THRESHOLD}; the chains have not mixed"
            ),
            Self::LowEssBulk {
                name,
                ess,
                threshold,
            } => write!(
                f,
                "{name}: bulk ESS {ess:.0} < {threshold:.0}; posterior means and medians may be unreliable"
            ),
            Self::LowEssTail {
                name,
                ess,
                threshold,
            } => write!(
                f,
                "{name}: tail ESS {ess:.0} < {threshold:.0}; posterior quantiles may be unreliable"
            ),
            Self::Divergences { count, transitions } => write!(
                f,
                "{count} of {transitions} ({:.1}%) transitions ended with a divergence",
                percent(*count, *transitions)
            ),
            Self::MaxTreedepth {
                count,
                transitions,
                max_depth,
            } => write!(
                f,
                "{count} of {transitions} ({:.1}%) transitions hit the maximum treedepth limit of {max_depth}",
                percent(*count, *transitions)
            ),
        }
    }
}

fn percent(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * count as f64 / total as f64
    }
}

/// Posterior summary of several parameters: one [`ParamSummary`] row each, plus optional
/// sampler counts (divergences, tree-depth hits) for [`warnings`](Summary::warnings).
///
/// `Display` renders a fixed-width table like CmdStan's `stansummary` (three significant
/// digits; ESS rounded; R̂ to three decimals), followed by the warnings.
///
/// # Examples
///
/// ```
/// use ndarray::Array3;
/// use infer_mcmc::summary::Summary;
///
/// // 4 chains × 200 draws × 2 parameters, chains × draws × parameters.
/// let draws = Array3::from_shape_fn((4, 200, 2), |(c, i, p)| {
///     ((i * 7919 + c * 104_729 + p * 31) % 1000) as f64 / 100.0 + p as f64
/// });
/// let summary = Summary::new(&["mu", "tau"], draws.view())?.with_divergences(0);
/// assert_eq!(summary.rows().len(), 2);
/// assert!(summary.get("tau").is_some());
/// println!("{summary}");
/// # Ok::<(), infer_mcmc::summary::SummaryError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    rows: Vec<ParamSummary>,
    sampler_rows: Vec<ParamSummary>,
    chain_reports: Vec<ChainReport>,
    wall_seconds: Option<f64>,
    chains: usize,
    draws: usize,
    divergences: Option<u64>,
    treedepth_hits: Option<(u64, u32)>,
}

impl Summary {
    /// Summarizes draws stored chains × draws × parameters, with one name per parameter.
    ///
    /// # Errors
    ///
    /// [`SummaryError::NameCount`] when `names.len()` differs from the parameter count, and
    /// [`SummaryError::Diagnostics`] naming the first parameter whose draws are invalid (fewer
    /// than 4 draws per chain, no chains, or a non-finite draw).
    pub fn new<S: AsRef<str>>(
        names: &[S],
        draws: ArrayView3<'_, f64>,
    ) -> Result<Self, SummaryError> {
        let params = draws.len_of(Axis(2));
        if names.len() != params {
            return Err(SummaryError::NameCount {
                names: names.len(),
                params,
            });
        }
        let columns: Vec<ArrayView2<'_, f64>> = draws.axis_iter(Axis(2)).collect();
        Self::from_columns(names, &columns)
    }

    /// Summarizes parameters given one chains × draws array each.
    ///
    /// # Errors
    ///
    /// [`SummaryError::NameCount`] when the counts differ, [`SummaryError::ShapeMismatch`] when
    /// a parameter's shape differs from the first one's, and [`SummaryError::Diagnostics`] as
    /// in [`Summary::new`].
    pub fn from_columns<S: AsRef<str>>(
        names: &[S],
        columns: &[ArrayView2<'_, f64>],
    ) -> Result<Self, SummaryError> {
        if names.len() != columns.len() {
            return Err(SummaryError::NameCount {
                names: names.len(),
                params: columns.len(),
            });
        }
        let (chains, draws) = columns.first().map_or((0, 0), |c| c.dim());
        Ok(Self {
            rows: summarize(names, columns, (chains, draws))?,
            sampler_rows: Vec::new(),
            chain_reports: Vec::new(),
            wall_seconds: None,
            chains,
            draws,
            divergences: None,
            treedepth_hits: None,
        })
    }

    /// Adds the rows of the sampler's per-draw statistics (`lp__`, `accept_stat__`, …; see
    /// [`STAT_NAMES`](crate::STAT_NAMES)), one chains × draws array each, shown above the
    /// parameters as `stansummary` shows them. A statistic constant within every chain
    /// (`stepsize__` after adaptation, `divergent__` without divergences) has no
    /// autocorrelation to estimate: its MCSE, ESS and R̂ are `NaN`, printed `NaN` where
    /// `stansummary` prints `nan`. These rows give no ESS or R̂
    /// [`warnings`](Summary::warnings).
    ///
    /// # Examples
    ///
    /// ```
    /// use ndarray::Array2;
    /// use infer_mcmc::summary::Summary;
    ///
    /// let x = Array2::from_shape_fn((2, 100), |(c, i)| ((i * 37 + c * 11) % 100) as f64);
    /// let stepsize = Array2::from_elem((2, 100), 0.5);
    /// let summary = Summary::from_columns(&["x"], &[x.view()])?
    ///     .with_sampler_rows(&["stepsize__"], &[stepsize.view()])?;
    /// let row = summary.get("stepsize__").expect("a sampler row");
    /// assert_eq!((row.diagnostics.mean, row.diagnostics.sd), (0.5, 0.0));
    /// assert!(row.diagnostics.rhat.is_nan());
    /// assert_eq!(summary.rows().len(), 1); // the parameters only
    /// # Ok::<(), infer_mcmc::summary::SummaryError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Summary::from_columns`], the shapes compared with the parameters' (when there are
    /// parameters).
    pub fn with_sampler_rows<S: AsRef<str>>(
        mut self,
        names: &[S],
        columns: &[ArrayView2<'_, f64>],
    ) -> Result<Self, SummaryError> {
        let expected = if self.rows.is_empty() {
            columns.first().map_or((0, 0), |c| c.dim())
        } else {
            (self.chains, self.draws)
        };
        let mut rows = summarize(names, columns, expected)?;
        for (row, column) in rows.iter_mut().zip(columns) {
            let constant_chains = column.rows().into_iter().all(|chain| {
                chain
                    .first()
                    .is_none_or(|&first| chain.iter().all(|&v| v == first))
            });
            if constant_chains {
                let d = &mut row.diagnostics;
                (d.mcse_mean, d.ess_bulk, d.ess_tail, d.ess_mean, d.rhat) =
                    (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN);
            }
        }
        self.sampler_rows = rows;
        if self.rows.is_empty() {
            (self.chains, self.draws) = expected;
        }
        Ok(self)
    }

    /// Adds the per-chain table: draws, divergences, tree-depth hits, gradient evaluations
    /// and the warmup and sampling times of each chain, with their totals, and the
    /// `Warmup took (…) seconds` / `Sampling took (…) seconds` lines of `stansummary`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ndarray::Array2;
    /// use infer_mcmc::summary::{ChainReport, Summary};
    ///
    /// let x = Array2::from_shape_fn((1, 100), |(_, i)| ((i * 37) % 100) as f64);
    /// let report = ChainReport { id: 1, draws: 100, divergent: 2, max_treedepth_hits: 0,
    ///                            gradient_evals: 1500, warmup_seconds: 0.25, sampling_seconds: 0.5 };
    /// let summary = Summary::from_columns(&["x"], &[x.view()])?
    ///     .with_chain_reports(vec![report])
    ///     .with_wall_time(0.8);
    /// assert_eq!(summary.gradient_evals(), 1500);
    /// let text = summary.to_string();
    /// assert!(text.contains("Warmup took (0.250) seconds, 0.250 seconds total"), "{text}");
    /// assert!(text.contains("1500 gradient evaluations"), "{text}");
    /// # Ok::<(), infer_mcmc::summary::SummaryError>(())
    /// ```
    #[must_use]
    pub fn with_chain_reports(mut self, reports: Vec<ChainReport>) -> Self {
        self.chain_reports = reports;
        self
    }

    /// Records the wall time of the whole run, seconds.
    #[must_use]
    pub fn with_wall_time(mut self, seconds: f64) -> Self {
        self.wall_seconds = Some(seconds);
        self
    }

    /// The rows of the sampler's statistics, in the order given.
    pub fn sampler_rows(&self) -> &[ParamSummary] {
        &self.sampler_rows
    }

    /// The per-chain reports, in the order given.
    pub fn chain_reports(&self) -> &[ChainReport] {
        &self.chain_reports
    }

    /// The wall time of the run, if recorded.
    pub fn wall_seconds(&self) -> Option<f64> {
        self.wall_seconds
    }

    /// Gradient evaluations of every chain together (0 without chain reports).
    pub fn gradient_evals(&self) -> u64 {
        self.chain_reports.iter().map(|r| r.gradient_evals).sum()
    }
}

/// One row per column, each column's shape checked against `expected`.
fn summarize<S: AsRef<str>>(
    names: &[S],
    columns: &[ArrayView2<'_, f64>],
    expected: (usize, usize),
) -> Result<Vec<ParamSummary>, SummaryError> {
    if names.len() != columns.len() {
        return Err(SummaryError::NameCount {
            names: names.len(),
            params: columns.len(),
        });
    }
    let (chains, draws) = expected;
    let mut rows = Vec::with_capacity(columns.len());
    for (name, column) in names.iter().zip(columns) {
        let name = name.as_ref().to_owned();
        let (c, d) = column.dim();
        if (c, d) != (chains, draws) {
            return Err(SummaryError::ShapeMismatch {
                name,
                chains: c,
                draws: d,
                expected_chains: chains,
                expected_draws: draws,
            });
        }
        match Diagnostics::new(column.view()) {
            Ok(diagnostics) => rows.push(ParamSummary { name, diagnostics }),
            Err(source) => return Err(SummaryError::Diagnostics { name, source }),
        }
    }
    Ok(rows)
}

impl Summary {
    /// Records the number of divergent post-warmup transitions (all chains together), so that
    /// [`warnings`](Summary::warnings) reports them when non-zero.
    #[must_use]
    pub fn with_divergences(mut self, count: u64) -> Self {
        self.divergences = Some(count);
        self
    }

    /// Records the number of post-warmup transitions that stopped at the tree-depth limit
    /// `max_depth` (all chains together).
    #[must_use]
    pub fn with_treedepth_hits(mut self, count: u64, max_depth: u32) -> Self {
        self.treedepth_hits = Some((count, max_depth));
        self
    }

    /// The rows, in the order of the names given.
    pub fn rows(&self) -> &[ParamSummary] {
        &self.rows
    }

    /// The row called `name`: a parameter's, or a sampler statistic's (`lp__`, …).
    pub fn get(&self, name: &str) -> Option<&ParamSummary> {
        self.rows
            .iter()
            .chain(&self.sampler_rows)
            .find(|r| r.name == name)
    }

    /// Number of chains.
    pub fn chains(&self) -> usize {
        self.chains
    }

    /// Number of draws per chain.
    pub fn draws(&self) -> usize {
        self.draws
    }

    /// Every problem found: divergences and tree-depth hits (when recorded and non-zero), then
    /// per parameter R̂ > [`RHAT_THRESHOLD`] and bulk or tail ESS below
    /// [`MIN_ESS_PER_CHAIN`] × chains. A `NaN` R̂ (one chain, or constant draws) is not
    /// reported.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        let transitions = (self.chains * self.draws) as u64;
        if let Some(count) = self.divergences.filter(|&c| c > 0) {
            out.push(Warning::Divergences { count, transitions });
        }
        if let Some((count, max_depth)) = self.treedepth_hits.filter(|&(c, _)| c > 0) {
            out.push(Warning::MaxTreedepth {
                count,
                transitions,
                max_depth,
            });
        }
        let threshold = MIN_ESS_PER_CHAIN * self.chains as f64;
        for row in &self.rows {
            let d = &row.diagnostics;
            if d.rhat > RHAT_THRESHOLD {
                out.push(Warning::HighRhat {
                    name: row.name.clone(),
                    rhat: d.rhat,
                });
            }
            if d.ess_bulk < threshold {
                out.push(Warning::LowEssBulk {
                    name: row.name.clone(),
                    ess: d.ess_bulk,
                    threshold,
                });
            }
            if d.ess_tail < threshold {
                out.push(Warning::LowEssTail {
                    name: row.name.clone(),
                    ess: d.ess_tail,
                    threshold,
                });
            }
        }
        out
    }
}
