//! The production sampler: warmup as Stan, several chains on threads, reproducible seeds.

use std::time::Instant;

use crate::density::LogDensity;
use crate::error::McmcError;
use crate::fit::{Chain, Fit};
use crate::init::Inits;
use crate::metric::Metric;
use crate::model::{Model, tape_models};
use crate::observer::{NoObserver, Observer};
use crate::panic::catch_model_panic;
#[cfg(doc)]
use crate::settings::InitStrategy;
use crate::settings::SamplerSettings;

mod chain;
mod continuation;
mod recorder;
mod threads;
pub(crate) use continuation::Resume;

/// Mixed into the run's seed for the Pathfinder run of [`InitStrategy::Pathfinder`].
const PATHFINDER_STREAM: u64 = 0x7066_696e_6974_7321;

/// The error of the Pathfinder run of [`InitStrategy::Pathfinder`].
fn init_error(e: crate::approx::ApproxError) -> McmcError {
    McmcError::InitApproximation {
        source: Box::new(e),
    }
}

/// SplitMix64 finalizer (Steele, Lea & Flood 2014).
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG seed of chain `chain` in a run seeded with `seed`: two SplitMix64 rounds over the
/// seed and the chain index, so that neighbouring seeds and chains get unrelated streams.
///
/// # Examples
///
/// ```
/// use infer_mcmc::chain_seed;
///
/// assert_ne!(chain_seed(0, 0), chain_seed(0, 1));
/// assert_eq!(chain_seed(42, 3), chain_seed(42, 3));
/// ```
#[must_use]
pub fn chain_seed(seed: u64, chain: usize) -> u64 {
    splitmix64(splitmix64(seed) ^ splitmix64(chain as u64 ^ 0xD1B5_4A32_D192_ED03))
}
/// Checks that `given` values (if any) are one shared by every chain or one per chain.
fn one_or_per_chain(
    name: &'static str,
    given: Option<usize>,
    n_chains: usize,
) -> Result<(), McmcError> {
    match given {
        Some(n) if n != 1 && n != n_chains => Err(McmcError::DimensionMismatch {
            name,
            expected: n_chains,
            found: n,
        }),
        _ => Ok(()),
    }
}

/// Runs NUTS (or static HMC) with Stan's warmup on one or more chains.
///
/// Per chain: an initial point (user-given or Uniform(−2, 2) with up to 100 tries), Stan's
/// step-size heuristic, then `num_warmup` iterations adapting the step size by dual averaging
/// toward `target_accept` and the metric in windows 75 / 25·2ᵏ / 50 (after each metric update
/// the heuristic is rerun and dual averaging restarts with μ = ln(10 ε)), then `num_samples`
/// iterations with the averaged step size. Chains run on `num_threads` scoped threads, each
/// with its own model instance (from the factory, called on the chain's thread) and its own
/// RNG seeded by [`chain_seed`]; the draws are identical whatever the number of threads.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
///
/// let settings = SamplerSettings { num_warmup: 200, num_samples: 200, num_chains: 2, seed: 1,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?.sample(|_chain| Gauss::new(3))?;
/// assert_eq!(fit.num_chains(), 2);
/// assert_eq!(fit.chains[0].draws.dim(), (200, 3));
/// assert_eq!(fit.param_names()[0], "x[1]");
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// Stan Development Team, *Stan Reference Manual*, "MCMC Sampling"; Hoffman & Gelman (2014);
/// Betancourt (2017).
#[derive(Debug, Clone)]
pub struct Sampler<O = NoObserver> {
    settings: SamplerSettings,
    inits: Option<InitSource>,
    /// Per-chain (or shared) metric and step size to start from instead of the identity and
    /// `initial_step_size`.
    adapted: Option<Vec<(Metric, f64)>>,
    observer: O,
}

/// User inits: unconstrained vectors or named constrained values; one shared by every chain
/// or one per chain.
#[derive(Debug, Clone)]
enum InitSource {
    Unconstrained(Vec<Vec<f64>>),
    Named(Vec<Inits>),
}

impl InitSource {
    fn len(&self) -> usize {
        match self {
            InitSource::Unconstrained(v) => v.len(),
            InitSource::Named(v) => v.len(),
        }
    }
}

impl Sampler<NoObserver> {
    /// A sampler with validated settings and no observer.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming the first invalid field.
    pub fn new(settings: SamplerSettings) -> Result<Self, McmcError> {
        settings.validate()?;
        Ok(Self {
            settings,
            inits: None,
            adapted: None,
            observer: NoObserver,
        })
    }
}

impl<O: Observer> Sampler<O> {
    /// Starts the chains from user inits on the unconstrained scale: one vector shared by
    /// every chain, or one per chain.
    #[must_use]
    pub fn with_inits(mut self, inits: Vec<Vec<f64>>) -> Self {
        self.inits = Some(InitSource::Unconstrained(inits));
        self
    }

    /// Starts the chains from named values on the constrained scale (one [`Inits`] shared by
    /// every chain, or one per chain); parameters not named are drawn as Stan draws them,
    /// uniformly from (−`init_radius`, `init_radius`) on the unconstrained scale.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, init::Inits, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 1, num_warmup: 0, num_samples: 1,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?
    ///     .with_named_inits(vec![Inits::new().set("x", vec![0.25, -0.5])])
    ///     .sample(|_| Gauss::new(2))?;
    /// assert_eq!(fit.chains[0].init, [0.25, -0.5]);
    /// let bad = Sampler::new(settings)?
    ///     .with_named_inits(vec![Inits::new().set("y", 1.0)])
    ///     .sample(|_| Gauss::new(2));
    /// assert!(bad.unwrap_err().to_string().contains("`y`"));
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_named_inits(mut self, inits: Vec<Inits>) -> Self {
        self.inits = Some(InitSource::Named(inits));
        self
    }

    /// Starts each chain's kernel from a saved metric and step size — one pair shared by every
    /// chain, or one per chain, e.g. `fit.chains.iter().map(|c| (c.metric.clone(),
    /// c.step_size))` of an earlier run — instead of the identity metric and
    /// `initial_step_size`. With `num_warmup = 0` the run samples at once with them; with a
    /// warmup they are its starting point. A pair's metric must have the model's dimension.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 300, num_samples: 100,
    ///                                  ..SamplerSettings::default() };
    /// let first = Sampler::new(settings)?.sample(|_| Gauss::new(3))?;
    /// let saved: Vec<_> = first.chains.iter().map(|c| (c.metric.clone(), c.step_size)).collect();
    /// let again = Sampler::new(SamplerSettings { num_warmup: 0, seed: 1, ..settings })?
    ///     .with_adapted(saved)
    ///     .sample(|_| Gauss::new(3))?;
    /// assert_eq!(again.chains[1].step_size, first.chains[1].step_size);
    /// assert_eq!(again.chains[1].warmup_draws.nrows(), 0);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_adapted(mut self, adapted: Vec<(Metric, f64)>) -> Self {
        self.adapted = Some(adapted);
        self
    }

    /// Reports every iteration to `observer`.
    pub fn with_observer<P: Observer>(self, observer: P) -> Sampler<P> {
        Sampler {
            settings: self.settings,
            inits: self.inits,
            adapted: self.adapted,
            observer,
        }
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// Samples every chain, with a model instance per chain from `make_model(chain)`.
    ///
    /// # Errors
    ///
    /// The first failing chain's error, wrapped in [`McmcError::Chain`] when it happened
    /// during an iteration; [`McmcError::ChainPanicked`] with the panic's message and
    /// location (the model's file and line) if the factory or the model panicked;
    /// [`McmcError::DimensionMismatch`] for inits of the wrong number or length;
    /// [`McmcError::InitApproximation`] when the Pathfinder run of
    /// [`InitStrategy::Pathfinder`] fails.
    pub fn sample<M, F>(&self, make_model: F) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        if let Some(pf) = self.pathfinder_init() {
            let t_wall = Instant::now();
            let approx = crate::approx::pathfinder(&pf, &make_model).map_err(init_error)?;
            let start = self.pathfinder_start(&approx, None);
            let mut fit = self.sample_from(
                make_model,
                start.inits.as_ref().or(self.inits.as_ref()),
                start.inverse_metric.as_deref(),
            )?;
            fit.init_gradient_evals = approx.gradient_evals;
            fit.wall_seconds = t_wall.elapsed().as_secs_f64();
            return Ok(fit);
        }
        self.sample_from(make_model, self.inits.as_ref(), None)
    }

    /// [`Sampler::sample`] with the chains' inits `inits` (the user's, or Pathfinder's) and
    /// the warmup's initial inverse metric `inverse_metric` (Pathfinder's, or `None`).
    fn sample_from<M, F>(
        &self,
        make_model: F,
        inits: Option<&InitSource>,
        inverse_metric: Option<&[f64]>,
    ) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        let s = &self.settings;
        let n_chains = s.num_chains;
        one_or_per_chain("inits", inits.map(InitSource::len), n_chains)?;
        one_or_per_chain("adapted", self.adapted.as_ref().map(Vec::len), n_chains)?;
        self.fit_chains(make_model, |chain, model| {
            self.run_chain(chain, model, inits, inverse_metric)
        })
    }

    /// The Pathfinder settings of [`InitStrategy::Pathfinder`] and
    /// [`InitStrategy::PathfinderMetric`] (with the run's seed, mixed with a stream of its
    /// own, and thread count) when the chains need the run: for their positions (no inits
    /// were given) or, with [`InitStrategy::PathfinderMetric`], for their metric (no metric
    /// was given with [`Sampler::with_adapted`]).
    fn pathfinder_init(&self) -> Option<crate::approx::PathfinderSettings> {
        let s = &self.settings;
        let p = s.init.pathfinder()?;
        let needed = self.inits.is_none() || (s.init.uses_metric() && self.adapted.is_none());
        needed.then(|| crate::approx::PathfinderSettings {
            seed: splitmix64(s.seed ^ PATHFINDER_STREAM),
            num_threads: s.num_threads,
            ..*p
        })
    }

    /// What the Pathfinder run `approx` gives the chains: their positions (draw c for chain
    /// c, or only chain `only`'s draw, unless inits were given) and, with
    /// [`InitStrategy::PathfinderMetric`] and no metric given, the warmup's initial inverse
    /// metric ([`draws_inverse_metric`](crate::init::draws_inverse_metric) of its draws).
    fn pathfinder_start(
        &self,
        approx: &crate::approx::Approximation,
        only: Option<usize>,
    ) -> PathfinderStart {
        let s = &self.settings;
        let rows = approx.unconstrained.rows().into_iter().map(|r| r.to_vec());
        let inits = self.inits.is_none().then(|| {
            InitSource::Unconstrained(match only {
                Some(chain) => rows.skip(chain).take(1).collect(),
                None => rows.take(s.num_chains).collect(),
            })
        });
        let inverse_metric = (s.init.uses_metric() && self.adapted.is_none())
            .then(|| crate::init::draws_inverse_metric(approx.unconstrained.view()));
        PathfinderStart {
            inits,
            inverse_metric,
        }
    }

    /// Samples every chain from clones of one model.
    ///
    /// # Errors
    ///
    /// As [`Sampler::sample`].
    pub fn sample_cloned<M: LogDensity + Clone + Sync>(&self, model: &M) -> Result<Fit, McmcError> {
        self.sample(|_| model.clone())
    }

    /// Samples a [`Model`]: its layout is learned once, then each chain evaluates its own
    /// [`TapeModel`](crate::model::TapeModel) (with its own tape) of the shared model.
    ///
    /// # Examples
    /// See the [`model`](crate::model) module.
    ///
    /// # Errors
    ///
    /// [`McmcError::Model`] for invalid declarations (see
    /// [`TapeModel::new`](crate::model::TapeModel::new)); otherwise as [`Sampler::sample`].
    pub fn sample_model<M: Model + Sync>(&self, model: &M) -> Result<Fit, McmcError> {
        // Learning the layout runs the model: a panic there is reported as one of chain 0.
        self.sample(tape_models(model)?)
    }

    /// Runs chain number `chain` alone on the current thread, with the same seed and output
    /// as inside [`Sampler::sample`].
    ///
    /// # Errors
    ///
    /// As [`Sampler::sample`]; a panic of the model is returned as
    /// [`McmcError::ChainPanicked`].
    pub fn sample_chain<M: LogDensity + ?Sized>(
        &self,
        chain: usize,
        model: &mut M,
    ) -> Result<Chain, McmcError> {
        if let Some(pf) = self.pathfinder_init() {
            // the same approximation as in `sample` (its draws do not depend on the threads
            // or on the density instance), the paths run here in turn
            let approx = crate::approx::pathfinder_on(model, &pf).map_err(init_error)?;
            let start = self.pathfinder_start(&approx, Some(chain));
            if let Some(InitSource::Unconstrained(rows)) = &start.inits
                && rows.is_empty()
            {
                return Err(McmcError::DimensionMismatch {
                    name: "inits",
                    expected: chain + 1,
                    found: approx.num_draws(),
                });
            }
            let inits = start.inits.as_ref().or(self.inits.as_ref());
            let metric = start.inverse_metric.as_deref();
            return catch_model_panic(chain, || self.run_chain(chain, model, inits, metric));
        }
        catch_model_panic(chain, || {
            self.run_chain(chain, model, self.inits.as_ref(), None)
        })
    }
}

/// What a Pathfinder run gives the chains ([`Sampler::pathfinder_start`]).
struct PathfinderStart {
    /// The chains' positions, `None` when the user's inits are used.
    inits: Option<InitSource>,
    /// The warmup's initial inverse metric, `None` when not asked for or given by the user.
    inverse_metric: Option<Vec<f64>>,
}

#[cfg(test)]
mod pathfinder_tests;
