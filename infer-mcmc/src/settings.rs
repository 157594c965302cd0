//! Immutable sampler settings, every default as in CmdStan.

use crate::adapt::{DualAveragingOptions, LowRankOptions};
use crate::error::{McmcError, check, check_init_radius, check_max_init_tries};
use crate::metric::MetricKind;
use crate::nuts::NutsOptions;

/// How warmup adapts the metric (the step size is dual-averaged by every strategy).
///
/// # Examples
///
/// ```
/// use infer_mcmc::SamplerSettings;
/// use infer_mcmc::settings::Adaptation;
///
/// let s = SamplerSettings { adaptation: Adaptation::FisherDiagonal, num_warmup: 400,
///                           ..SamplerSettings::default() };
/// assert!(s.validate().is_ok());
/// assert_eq!(SamplerSettings::default().adaptation, Adaptation::Stan);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Adaptation {
    /// Stan's windowed adaptation of a diagonal or dense metric from the draws' variances
    /// ([`StanWarmup`](crate::adapt::StanWarmup)). The default.
    #[default]
    Stan,
    /// nutpie's gradient-informed diagonal, √(Var(x) / Var(∇ log p)), updated every draw
    /// ([`FisherWarmup`](crate::adapt::FisherWarmup)); needs a diagonal metric. nutpie
    /// warms up for 400 draws with it.
    FisherDiagonal,
    /// nutpie's diagonal plus low rank: the Fisher diagonal, then the covariance that
    /// minimizes the sample Fisher divergence within the span of the window's draws and
    /// gradients, its eigenvalues outside (1/c, c) kept
    /// ([`LowRankWarmup`](crate::adapt::LowRankWarmup); c and the regularization γ are
    /// [`AdaptSettings::low_rank`], by default nuts-rs's c = 2 and γ = 10⁻⁵).
    /// Needs [`MetricKind::Diagonal`] (the default) or
    /// [`MetricKind::LowRank`] in [`SamplerSettings::metric`]; the result is a
    /// [`MetricKind::LowRank`] metric. nuts-rs warms up for 800 draws with it.
    ///
    /// ```
    /// use infer_mcmc::{MetricKind, SamplerSettings, settings::Adaptation};
    ///
    /// let s = SamplerSettings { adaptation: Adaptation::FisherLowRank, ..SamplerSettings::default() };
    /// assert!(s.validate().is_ok());
    /// let dense = SamplerSettings { metric: MetricKind::Dense, ..s };
    /// assert!(dense.validate().is_err());
    /// ```
    FisherLowRank,
}

impl Adaptation {
    /// The warmup length the strategy is designed for: Stan's 1000 iterations, nutpie's 400
    /// for the Fisher diagonal and its low-rank extension. [`SamplerSettings::with_adaptation`] sets it.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::settings::Adaptation;
    ///
    /// assert_eq!(Adaptation::Stan.default_num_warmup(), 1000);
    /// assert_eq!(Adaptation::FisherDiagonal.default_num_warmup(), 400);
    /// assert_eq!(Adaptation::FisherLowRank.default_num_warmup(), 400);
    /// ```
    #[must_use]
    pub fn default_num_warmup(self) -> usize {
        match self {
            Self::Stan => 1000,
            Self::FisherDiagonal | Self::FisherLowRank => 400,
        }
    }
}

/// How each chain's initial point is chosen (unless inits are given with
/// [`Sampler::with_inits`](crate::Sampler::with_inits) or
/// [`Sampler::with_named_inits`](crate::Sampler::with_named_inits), which take precedence).
///
/// # Examples
///
/// ```
/// use infer_mcmc::{SamplerSettings, Sampler, models::EightSchools};
/// use infer_mcmc::approx::PathfinderSettings;
/// use infer_mcmc::settings::InitStrategy;
///
/// let settings = SamplerSettings {
///     num_chains: 2, num_warmup: 200, num_samples: 100,
///     init: InitStrategy::Pathfinder(PathfinderSettings::default()),
///     ..SamplerSettings::default()
/// };
/// let fit = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
/// assert!(fit.init_gradient_evals > 0); // Pathfinder's evaluations
/// assert_eq!(SamplerSettings::default().init, InitStrategy::Random);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum InitStrategy {
    /// Stan's: Uniform(−`init_radius`, `init_radius`) per unconstrained coordinate, the
    /// first of up to `max_init_tries` points with a finite log density. The default.
    #[default]
    Random,
    /// Chain c starts at draw c of a Pathfinder approximation
    /// ([`approx::pathfinder`](crate::approx::pathfinder), multi-path with importance
    /// resampling by default: independent draws of the PSIS-weighted pooled paths, nearer the
    /// typical set than random points). The settings' `seed` and `num_threads` are replaced
    /// by the sampler's (the seed mixed with a stream of its own), so the inits depend on the
    /// run's seed only; its evaluations are counted in
    /// [`Fit::init_gradient_evals`](crate::Fit::init_gradient_evals).
    Pathfinder(crate::approx::PathfinderSettings),
    /// As [`InitStrategy::Pathfinder`], and each chain's warmup also starts from the
    /// approximation's scales: the inverse metric is the variance of the Pathfinder draws
    /// per unconstrained coordinate
    /// ([`draws_inverse_metric`](crate::init::draws_inverse_metric), clamped to
    /// [`INIT_METRIC_RANGE`](crate::init::INIT_METRIC_RANGE)) instead of the unit metric
    /// (Stan's warmup, until the end of its first metric window) or 1/|∇ log p| at the
    /// initial point (the Fisher warmups, until their first estimate), and the first step
    /// size is Stan's heuristic under that metric. Zhang et al. (2022) propose Pathfinder
    /// for initializing MCMC; BlackJAX's `pathfinder_adaptation` starts HMC from a Pathfinder
    /// draw with the approximation's inverse mass matrix, and CmdStan's `metric_file` starts
    /// Stan's warmup from a given metric.
    ///
    /// Inits given with [`Sampler::with_inits`](crate::Sampler::with_inits) (or named ones)
    /// replace the Pathfinder positions and a metric given with
    /// [`Sampler::with_adapted`](crate::Sampler::with_adapted) replaces its metric; Pathfinder
    /// runs unless both are given. Without warmup (`num_warmup = 0`) the metric is not used.
    ///
    /// ```
    /// use infer_mcmc::{SamplerSettings, Sampler, models::EightSchools};
    /// use infer_mcmc::approx::PathfinderSettings;
    /// use infer_mcmc::settings::InitStrategy;
    ///
    /// let settings = SamplerSettings {
    ///     num_chains: 2, num_warmup: 200, num_samples: 100,
    ///     init: InitStrategy::PathfinderMetric(PathfinderSettings::default()),
    ///     ..SamplerSettings::default()
    /// };
    /// let fit = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
    /// assert!(fit.init_gradient_evals > 0);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    ///
    /// # References
    ///
    /// Zhang, L., Carpenter, B., Gelman, A. & Vehtari, A. (2022), *Pathfinder: Parallel
    /// quasi-Newton variational inference*, JMLR 23(306).
    PathfinderMetric(crate::approx::PathfinderSettings),
}

impl InitStrategy {
    /// The Pathfinder settings of the Pathfinder strategies, `None` for random inits.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::PathfinderSettings;
    /// use infer_mcmc::settings::InitStrategy;
    ///
    /// let p = PathfinderSettings { num_paths: 2, ..PathfinderSettings::default() };
    /// assert_eq!(InitStrategy::PathfinderMetric(p).pathfinder(), Some(&p));
    /// assert_eq!(InitStrategy::Random.pathfinder(), None);
    /// ```
    #[must_use]
    pub fn pathfinder(&self) -> Option<&crate::approx::PathfinderSettings> {
        match self {
            Self::Random => None,
            Self::Pathfinder(p) | Self::PathfinderMetric(p) => Some(p),
        }
    }

    /// Whether the warmup starts from the Pathfinder metric
    /// ([`InitStrategy::PathfinderMetric`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::PathfinderSettings;
    /// use infer_mcmc::settings::InitStrategy;
    ///
    /// assert!(InitStrategy::PathfinderMetric(PathfinderSettings::default()).uses_metric());
    /// assert!(!InitStrategy::Pathfinder(PathfinderSettings::default()).uses_metric());
    /// ```
    #[must_use]
    pub fn uses_metric(&self) -> bool {
        matches!(self, Self::PathfinderMetric(_))
    }
}

/// Which transition kernel the sampler runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// Multinomial NUTS (default).
    #[default]
    Nuts,
    /// Static HMC with a fixed number of leapfrog steps per transition.
    StaticHmc {
        /// Leapfrog steps per transition.
        num_steps: usize,
    },
}

/// Warmup (adaptation) constants; the defaults are Stan's.
///
/// # Examples
///
/// ```
/// use infer_mcmc::AdaptSettings;
///
/// let a = AdaptSettings::default();
/// assert_eq!((a.init_buffer, a.base_window, a.term_buffer), (75, 25, 50));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptSettings {
    /// Dual-averaging shrinkage γ. Default 0.05.
    pub gamma: f64,
    /// Dual-averaging decay exponent κ. Default 0.75.
    pub kappa: f64,
    /// Dual-averaging iteration offset t₀. Default 10.
    pub t0: f64,
    /// Fast (step-size only) iterations before the first metric window. Default 75.
    pub init_buffer: usize,
    /// Fast iterations after the last metric window. Default 50.
    pub term_buffer: usize,
    /// Length of the first metric window; each next window doubles. Default 25.
    pub base_window: usize,
    /// The low-rank fit's regularization γ and eigenvalue cutoff c, used by
    /// [`Adaptation::FisherLowRank`]. Default nuts-rs's (γ = 10⁻⁵, c = 2).
    ///
    /// ```
    /// use infer_mcmc::{AdaptSettings, SamplerSettings, settings::Adaptation};
    /// use infer_mcmc::adapt::LowRankOptions;
    ///
    /// let adapt = AdaptSettings {
    ///     low_rank: LowRankOptions { cutoff: 1.5, ..LowRankOptions::default() },
    ///     ..AdaptSettings::default()
    /// };
    /// let s = SamplerSettings { adaptation: Adaptation::FisherLowRank, adapt,
    ///                           ..SamplerSettings::default() };
    /// assert!(s.validate().is_ok());
    /// ```
    pub low_rank: LowRankOptions,
}

impl AdaptSettings {
    /// Checks the dual-averaging constants (γ finite and > 0, t₀ finite and ≥ 0,
    /// 0 < κ ≤ 1), `base_window ≥ 1`, that `init_buffer + base_window + term_buffer` does
    /// not overflow, and the low-rank options ([`LowRankOptions::validate`]). A schedule longer than the warmup is valid: as in Stan, the buffers then
    /// become 15% and 10% of the warmup (see [`WarmupWindows`](crate::adapt::WarmupWindows)).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{AdaptSettings, McmcError};
    ///
    /// assert!(AdaptSettings::default().validate().is_ok());
    /// let bad = AdaptSettings { init_buffer: usize::MAX, ..AdaptSettings::default() };
    /// assert!(matches!(bad.validate(), Err(McmcError::InvalidSetting { name: "init_buffer", .. })));
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), McmcError> {
        DualAveragingOptions {
            gamma: self.gamma,
            kappa: self.kappa,
            t0: self.t0,
            ..DualAveragingOptions::default()
        }
        .validate()?;
        check(
            self.base_window >= 1,
            "base_window",
            self.base_window as f64,
            ">= 1",
        )?;
        check(
            self.init_buffer
                .checked_add(self.base_window)
                .and_then(|s| s.checked_add(self.term_buffer))
                .is_some(),
            "init_buffer",
            self.init_buffer as f64,
            "init_buffer + base_window + term_buffer must not overflow usize",
        )?;
        self.low_rank.validate()
    }
}

impl Default for AdaptSettings {
    fn default() -> Self {
        Self {
            gamma: 0.05,
            kappa: 0.75,
            t0: 10.0,
            init_buffer: 75,
            term_buffer: 50,
            base_window: 25,
            low_rank: LowRankOptions::default(),
        }
    }
}

/// The largest output, in bytes, that [`SamplerSettings::validate`] lets a setting ask for
/// per chain (`isize::MAX`, the most a Rust allocation can hold). Whether the memory is
/// actually available is found out when it is reserved.
///
/// # Examples
///
/// ```
/// use infer_mcmc::settings::MAX_OUTPUT_BYTES;
///
/// assert_eq!(MAX_OUTPUT_BYTES, isize::MAX as usize);
/// ```
pub const MAX_OUTPUT_BYTES: usize = isize::MAX as usize;

/// The most random initial points a chain tries ([`SamplerSettings::max_init_tries`]): 10⁶
/// (each try evaluates the log density once; an uncapped count turned a model that is −∞
/// everywhere into a run that does not end).
///
/// # Examples
///
/// ```
/// use infer_mcmc::SamplerSettings;
/// use infer_mcmc::settings::MAX_INIT_TRIES;
///
/// let s = SamplerSettings { max_init_tries: MAX_INIT_TRIES + 1, ..SamplerSettings::default() };
/// assert!(s.validate().is_err());
/// ```
pub const MAX_INIT_TRIES: usize = 1_000_000;

/// Most leapfrog steps of a static HMC transition (the most a NUTS tree of depth 30 takes).
const MAX_STATIC_STEPS: usize = 1 << 30;

/// Whether `count` items of `size` bytes fit in one allocation.
fn fits(count: usize, size: usize) -> bool {
    count
        .checked_mul(size)
        .is_some_and(|bytes| bytes <= MAX_OUTPUT_BYTES)
}

/// Settings of a [`Sampler`](crate::Sampler) run. `Copy`; every default is CmdStan's except
/// where noted.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{MetricKind, SamplerSettings};
///
/// let s = SamplerSettings { metric: MetricKind::Dense, seed: 7, ..SamplerSettings::default() };
/// assert_eq!((s.num_warmup, s.num_samples, s.num_chains), (1000, 1000, 4));
/// assert!(s.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerSettings {
    /// Warmup (adaptation) iterations per chain. Default 1000.
    pub num_warmup: usize,
    /// Sampling iterations per chain (before thinning). Default 1000.
    pub num_samples: usize,
    /// Number of chains. Default 4.
    pub num_chains: usize,
    /// Worker threads; 0 means one per chain up to the available parallelism. The draws do not
    /// depend on it. Default 0.
    pub num_threads: usize,
    /// Seed from which every chain's RNG seed is derived. Default 0 (CmdStan draws a random
    /// seed; here runs are reproducible unless the seed is changed).
    pub seed: u64,
    /// Transition kernel. Default [`Algorithm::Nuts`].
    pub algorithm: Algorithm,
    /// Maximum NUTS tree depth. Default 10.
    pub max_depth: usize,
    /// Divergence threshold on H − H₀. Default 1000.
    pub max_delta_h: f64,
    /// Target acceptance statistic of step-size adaptation (`adapt_delta`). Default 0.8.
    pub target_accept: f64,
    /// Metric adapted during warmup. Default [`MetricKind::Diagonal`].
    pub metric: MetricKind,
    /// Step size before adaptation (and the seed of μ = ln(10 ε) in the first adaptation
    /// phase, as in Stan). Default 1.
    pub initial_step_size: f64,
    /// Keep every `thin`-th sampling draw. Default 1.
    pub thin: usize,
    /// Also record the warmup draws. Default `false`.
    pub save_warmup: bool,
    /// Random inits are Uniform(−`init_radius`, `init_radius`) per unconstrained coordinate;
    /// 0 starts at the origin. Default 2.
    pub init_radius: f64,
    /// Random inits tried before giving up: 1 ..= [`MAX_INIT_TRIES`]. Default 100.
    pub max_init_tries: usize,
    /// Warmup constants. Default [`AdaptSettings::default`].
    pub adapt: AdaptSettings,
    /// The warmup strategy. Default [`Adaptation::Stan`].
    pub adaptation: Adaptation,
    /// How the chains' initial points are chosen. Default [`InitStrategy::Random`].
    pub init: InitStrategy,
}

impl Default for SamplerSettings {
    fn default() -> Self {
        Self {
            num_warmup: 1000,
            num_samples: 1000,
            num_chains: 4,
            num_threads: 0,
            seed: 0,
            algorithm: Algorithm::Nuts,
            max_depth: 10,
            max_delta_h: 1000.0,
            target_accept: 0.8,
            metric: MetricKind::Diagonal,
            initial_step_size: 1.0,
            thin: 1,
            save_warmup: false,
            init_radius: 2.0,
            max_init_tries: 100,
            adapt: AdaptSettings::default(),
            adaptation: Adaptation::Stan,
            init: InitStrategy::Random,
        }
    }
}

impl SamplerSettings {
    /// These settings with warmup strategy `adaptation` and the warmup length it is designed
    /// for ([`Adaptation::default_num_warmup`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::SamplerSettings;
    /// use infer_mcmc::settings::Adaptation;
    ///
    /// let s = SamplerSettings::default().with_adaptation(Adaptation::FisherDiagonal);
    /// assert_eq!((s.adaptation, s.num_warmup), (Adaptation::FisherDiagonal, 400));
    /// ```
    #[must_use]
    pub fn with_adaptation(self, adaptation: Adaptation) -> Self {
        Self {
            adaptation,
            num_warmup: adaptation.default_num_warmup(),
            ..self
        }
    }

    /// Checks every field: counts in range (`num_chains`, `thin` ≥ 1; `max_init_tries` in
    /// 1 ..= [`MAX_INIT_TRIES`]; the Pathfinder settings of [`InitStrategy::Pathfinder`] and
    /// [`InitStrategy::PathfinderMetric`],
    /// whose draws must number at least `num_chains`;
    /// `num_warmup + num_samples` and the per-chain output representable: at most
    /// [`MAX_OUTPUT_BYTES`] of statistics per chain and per run), `init_radius` finite and
    /// ≥ 0, `initial_step_size` finite and > 0 with 10·ε finite (dual averaging starts at
    /// μ = ln 10ε), `target_accept` in (0, 1), the NUTS options, the static HMC step count
    /// (1 ..= 2³⁰, the most leapfrog steps NUTS takes) and the [`AdaptSettings`]. NaN fails
    /// every check.
    ///
    /// The size of a draw depends on the model, so [`Sampler::sample`](crate::Sampler::sample)
    /// also reserves the draws fallibly and reports [`McmcError::OutputTooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, SamplerSettings};
    ///
    /// let huge = SamplerSettings { num_samples: usize::MAX, ..SamplerSettings::default() };
    /// assert!(matches!(huge.validate(), Err(McmcError::InvalidSetting { name: "num_samples", .. })));
    /// let wide = SamplerSettings { init_radius: 1e308, ..SamplerSettings::default() };
    /// assert!(wide.validate().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), McmcError> {
        check(
            self.num_chains >= 1,
            "num_chains",
            self.num_chains as f64,
            ">= 1",
        )?;
        check(
            fits(self.num_chains, size_of::<crate::Chain>()),
            "num_chains",
            self.num_chains as f64,
            "num_chains results must fit in memory",
        )?;
        check(self.thin >= 1, "thin", self.thin as f64, ">= 1")?;
        check(
            self.num_warmup.checked_add(self.num_samples).is_some(),
            "num_samples",
            self.num_samples as f64,
            "num_warmup + num_samples must not overflow usize",
        )?;
        check(
            fits(
                self.num_samples.div_ceil(self.thin),
                size_of::<crate::DrawStats>(),
            ),
            "num_samples",
            self.num_samples as f64,
            "the statistics of num_samples / thin draws must fit in memory",
        )?;
        check(
            !self.save_warmup || fits(self.num_warmup, size_of::<crate::DrawStats>()),
            "num_warmup",
            self.num_warmup as f64,
            "the statistics of the saved warmup draws must fit in memory",
        )?;
        check_max_init_tries(self.max_init_tries)?;
        check_init_radius(self.init_radius)?;
        check(
            self.initial_step_size > 0.0 && (10.0 * self.initial_step_size).is_finite(),
            "initial_step_size",
            self.initial_step_size,
            "finite and > 0, with 10 × initial_step_size finite",
        )?;
        check(
            self.target_accept > 0.0 && self.target_accept < 1.0,
            "target_accept",
            self.target_accept,
            "in (0, 1)",
        )?;
        self.nuts_options().validate()?;
        self.adapt.validate()?;
        check(
            self.adaptation != Adaptation::FisherDiagonal || self.metric == MetricKind::Diagonal,
            "metric",
            1.0,
            "the diagonal metric with Adaptation::FisherDiagonal",
        )?;
        check(
            self.adaptation != Adaptation::FisherLowRank
                || matches!(self.metric, MetricKind::Diagonal | MetricKind::LowRank),
            "metric",
            1.0,
            "the diagonal (default) or low-rank metric with Adaptation::FisherLowRank (value: 1 = dense)",
        )?;
        check(
            self.adaptation != Adaptation::Stan || self.metric != MetricKind::LowRank,
            "metric",
            2.0,
            "the diagonal or dense metric with Adaptation::Stan (value: 2 = low rank, which Adaptation::FisherLowRank adapts)",
        )?;
        self.dual_averaging_options().validate()?;
        if let Some(p) = self.init.pathfinder() {
            p.validate().map_err(|e| match e {
                crate::approx::ApproxError::InvalidSetting {
                    name,
                    value,
                    expected,
                } => McmcError::InvalidSetting {
                    name,
                    value,
                    expected,
                },
                other => McmcError::InitApproximation {
                    source: Box::new(other),
                },
            })?;
            check(
                p.output_draws() >= self.num_chains,
                "num_chains",
                self.num_chains as f64,
                "at most the number of Pathfinder draws (num_psis_draws, or num_draws for one path)",
            )?;
        }
        if let Algorithm::StaticHmc { num_steps } = self.algorithm {
            check(
                (1..=MAX_STATIC_STEPS).contains(&num_steps),
                "num_steps",
                num_steps as f64,
                "an integer in 1..=2^30",
            )?;
        }
        Ok(())
    }

    /// The NUTS options implied by these settings.
    #[must_use]
    pub fn nuts_options(&self) -> NutsOptions {
        NutsOptions {
            max_depth: self.max_depth,
            max_delta_h: self.max_delta_h,
        }
    }

    /// The dual-averaging options implied by these settings.
    #[must_use]
    pub fn dual_averaging_options(&self) -> DualAveragingOptions {
        DualAveragingOptions {
            delta: self.target_accept,
            gamma: self.adapt.gamma,
            t0: self.adapt.t0,
            kappa: self.adapt.kappa,
        }
    }
}
