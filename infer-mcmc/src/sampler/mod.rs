//! The production sampler: warmup as Stan, several chains on threads, reproducible seeds.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ndarray::Array2;

use rand::SeedableRng;

use crate::adapt::{FisherWarmup, LowRankWarmup, StanWarmup, Warmup};
use crate::density::{Counted, LogDensity};
use crate::error::{LogDensityError, McmcError};
use crate::fit::{Chain, ChainRng, ChainState, DrawStats, Fit};
use crate::hamiltonian::Position;
use crate::hmc::StaticHmc;
use crate::init::{Inits, named_init, random_init};
use crate::kernel::Kernel;
use crate::layout::Layout;
use crate::metric::Metric;
use crate::model::{Model, TapeModel};
use crate::nuts::Nuts;
use crate::observer::{AdaptStage, DrawEvent, NoObserver, Observer, Phase};
use crate::panic::catch_model_panic;
use crate::settings::{Adaptation, Algorithm, InitStrategy, SamplerSettings};
use crate::transition::Transition;

mod continuation;
pub(crate) use continuation::Resume;

/// Mixed into the run's seed for the Pathfinder run of [`InitStrategy::Pathfinder`].
const PATHFINDER_STREAM: u64 = 0x7066_696e_6974_7321;

/// The error of the Pathfinder run of [`InitStrategy::Pathfinder`].
fn init_error(e: crate::approx::ApproxError) -> McmcError {
    McmcError::InitApproximation {
        source: Box::new(e),
    }
}

/// Mixed into a chain's seed for the RNG of its generated quantities.
const GQ_STREAM: u64 = 0x6765_6e65_7261_7465;

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

/// An empty vector with room for `rows × cols` values, reserved fallibly.
fn reserve<T>(
    rows: usize,
    cols: usize,
    name: &'static str,
    value: usize,
) -> Result<Vec<T>, McmcError> {
    let too_large = McmcError::OutputTooLarge { name, value };
    let n = rows.checked_mul(cols).ok_or(too_large)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| McmcError::OutputTooLarge { name, value })?;
    Ok(v)
}

/// A chain's output with the model's layout, or its error.
pub(crate) type ChainResult = Result<(Chain, Layout), McmcError>;

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
            let inits = approx
                .unconstrained
                .rows()
                .into_iter()
                .take(self.settings.num_chains)
                .map(|r| r.to_vec())
                .collect();
            let inits = InitSource::Unconstrained(inits);
            let mut fit = self.sample_from(make_model, Some(&inits))?;
            fit.init_gradient_evals = approx.gradient_evals;
            fit.wall_seconds = t_wall.elapsed().as_secs_f64();
            return Ok(fit);
        }
        self.sample_from(make_model, self.inits.as_ref())
    }

    /// [`Sampler::sample`] with the chains' inits `inits` (the user's, or Pathfinder's).
    fn sample_from<M, F>(&self, make_model: F, inits: Option<&InitSource>) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        let s = &self.settings;
        let n_chains = s.num_chains;
        if let Some(inits) = inits
            && inits.len() != 1
            && inits.len() != n_chains
        {
            return Err(McmcError::DimensionMismatch {
                name: "inits",
                expected: n_chains,
                found: inits.len(),
            });
        }
        if let Some(a) = &self.adapted
            && a.len() != 1
            && a.len() != n_chains
        {
            return Err(McmcError::DimensionMismatch {
                name: "adapted",
                expected: n_chains,
                found: a.len(),
            });
        }
        let t_wall = Instant::now();
        let (chains, layout) = self.run_chains(|chain| {
            let mut model = make_model(chain);
            let chain_out = self.run_chain(chain, &mut model, inits)?;
            Ok((chain_out, model.layout()))
        })?;
        Ok(Fit {
            layout,
            chains,
            settings: self.settings,
            wall_seconds: t_wall.elapsed().as_secs_f64(),
            init_gradient_evals: 0,
        })
    }

    /// The Pathfinder settings of [`InitStrategy::Pathfinder`] (with the run's seed, mixed
    /// with a stream of its own, and thread count) when the chains start from it: no inits
    /// were given.
    fn pathfinder_init(&self) -> Option<crate::approx::PathfinderSettings> {
        match self.settings.init {
            InitStrategy::Pathfinder(p) if self.inits.is_none() => {
                Some(crate::approx::PathfinderSettings {
                    seed: splitmix64(self.settings.seed ^ PATHFINDER_STREAM),
                    num_threads: self.settings.num_threads,
                    ..p
                })
            }
            _ => None,
        }
    }

    /// Runs `run(chain)` for every chain on `num_threads` scoped threads (panics caught as
    /// the chain's error) and returns the chains in order with the model's layout, or the
    /// first chain's error.
    pub(crate) fn run_chains<R>(&self, run: R) -> Result<(Vec<Chain>, Layout), McmcError>
    where
        R: Fn(usize) -> ChainResult + Sync,
    {
        let n_chains = self.settings.num_chains;
        let available = std::thread::available_parallelism().map_or(1, usize::from);
        let n_threads = match self.settings.num_threads {
            0 => available.min(n_chains),
            t => t.min(n_chains),
        };
        let run = |chain: usize| -> ChainResult { catch_model_panic(chain, || run(chain)) };
        let too_large = || McmcError::OutputTooLarge {
            name: "num_chains",
            value: n_chains,
        };
        let mut results: Vec<Option<ChainResult>> = Vec::new();
        results
            .try_reserve_exact(n_chains)
            .map_err(|_| too_large())?;
        results.resize_with(n_chains, || None);
        if n_threads <= 1 {
            for (c, slot) in results.iter_mut().enumerate() {
                *slot = Some(run(c));
            }
        } else {
            let next = AtomicUsize::new(0);
            let mut slots: Vec<Mutex<Option<_>>> = Vec::new();
            slots.try_reserve_exact(n_chains).map_err(|_| too_large())?;
            slots.resize_with(n_chains, || Mutex::new(None));
            std::thread::scope(|scope| {
                for _ in 0..n_threads {
                    scope.spawn(|| {
                        loop {
                            let c = next.fetch_add(1, Ordering::Relaxed);
                            if c >= n_chains {
                                break;
                            }
                            let r = run(c);
                            let mut slot = slots[c].lock().unwrap_or_else(|e| e.into_inner());
                            *slot = Some(r);
                        }
                    });
                }
            });
            for (slot, m) in results.iter_mut().zip(slots) {
                *slot = m.into_inner().unwrap_or_else(|e| e.into_inner());
            }
        }
        let mut chains = Vec::new();
        chains
            .try_reserve_exact(n_chains)
            .map_err(|_| too_large())?;
        let mut layout = None;
        for (c, r) in results.into_iter().enumerate() {
            let (chain, n) = r.unwrap_or_else(|| {
                Err(McmcError::ChainPanicked {
                    chain: c,
                    message: "the chain's thread ended without a result".to_owned(),
                    location: None,
                })
            })?;
            chains.push(chain);
            layout = Some(n);
        }
        let layout = layout.ok_or(McmcError::DimensionMismatch {
            name: "num_chains",
            expected: 1,
            found: 0,
        })?;
        Ok((chains, layout))
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
    /// [`TapeModel`] (with its own tape) of the shared model.
    ///
    /// # Examples
    /// See the [`model`](crate::model) module.
    ///
    /// # Errors
    ///
    /// [`McmcError::Model`] for invalid declarations (see [`TapeModel::new`]); otherwise as
    /// [`Sampler::sample`].
    pub fn sample_model<M: Model + Sync>(&self, model: &M) -> Result<Fit, McmcError> {
        // Learning the layout runs the model: a panic there is reported as one of chain 0.
        let (layout, order) = catch_model_panic(0, || TapeModel::new(model))?.parts();
        self.sample(|_| TapeModel::with_parts(model, layout.clone(), order.clone()))
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
            let init = approx
                .unconstrained
                .rows()
                .into_iter()
                .nth(chain)
                .map(|r| r.to_vec())
                .ok_or(McmcError::DimensionMismatch {
                    name: "inits",
                    expected: chain + 1,
                    found: approx.num_draws(),
                })?;
            let inits = InitSource::Unconstrained(vec![init]);
            return catch_model_panic(chain, || self.run_chain(chain, model, Some(&inits)));
        }
        catch_model_panic(chain, || self.run_chain(chain, model, self.inits.as_ref()))
    }

    /// [`Sampler::sample_chain`] without catching panics: the initial point, then the
    /// chosen kernel driven by [`Sampler::run_kernel`].
    fn run_chain<M: LogDensity + ?Sized>(
        &self,
        chain: usize,
        model: &mut M,
        inits: Option<&InitSource>,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let dim = model.dim();
        if dim == 0 {
            return Err(McmcError::ZeroDimension);
        }
        let rng_seed = chain_seed(s.seed, chain);
        let mut rng = ChainRng::seed_from_u64(rng_seed);
        // Every gradient evaluation of the chain is counted, whatever asked for it.
        let mut model = Counted {
            inner: model,
            evals: 0,
        };
        let pos = self.initial_position(chain, &mut model, &mut rng, inits)?;
        let (metric, step_size) = match &self.adapted {
            Some(a) => {
                let (m, eps) = &a[if a.len() == 1 { 0 } else { chain }];
                if m.dim() != dim {
                    return Err(McmcError::DimensionMismatch {
                        name: "metric",
                        expected: dim,
                        found: m.dim(),
                    });
                }
                (m.clone(), *eps)
            }
            None => (Metric::identity(dim, s.metric), s.initial_step_size),
        };
        let run = ChainRun {
            chain,
            rng_seed,
            rng,
            model,
            pos,
        };
        match s.algorithm {
            Algorithm::Nuts => {
                let kernel = Nuts::new(metric, step_size, s.nuts_options())?;
                self.run_with_warmup(run, kernel)
            }
            Algorithm::StaticHmc { num_steps } => {
                let kernel = StaticHmc::new(metric, step_size, num_steps, s.max_delta_h)?;
                self.run_with_warmup(run, kernel)
            }
        }
    }

    /// [`Sampler::run_kernel`] with the warmup strategy of the settings.
    fn run_with_warmup<M: LogDensity + ?Sized, K: Kernel>(
        &self,
        run: ChainRun<'_, M>,
        kernel: K,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let dim = run.pos.dim();
        match s.adaptation {
            Adaptation::Stan => {
                let warmup = StanWarmup::new(s, dim, run.chain)?;
                self.run_kernel(run, kernel, warmup)
            }
            Adaptation::FisherDiagonal => {
                let warmup = FisherWarmup::new(s, dim, run.chain)?;
                self.run_kernel(run, kernel, warmup)
            }
            Adaptation::FisherLowRank => {
                let warmup = LowRankWarmup::new(s, dim, run.chain)?;
                self.run_kernel(run, kernel, warmup)
            }
        }
    }

    /// The chain's initial point: the user's inits (unconstrained, or named and completed
    /// by random draws) or random inits.
    fn initial_position<M: LogDensity + ?Sized>(
        &self,
        chain: usize,
        model: &mut M,
        rng: &mut ChainRng,
        inits: Option<&InitSource>,
    ) -> Result<Position, McmcError> {
        let s = &self.settings;
        let pick = |n: usize| -> Result<usize, McmcError> {
            if n == 1 {
                Ok(0)
            } else if chain < n {
                Ok(chain)
            } else {
                Err(McmcError::DimensionMismatch {
                    name: "inits",
                    expected: s.num_chains,
                    found: n,
                })
            }
        };
        match inits {
            Some(InitSource::Unconstrained(inits)) => {
                Position::new(model, inits[pick(inits.len())?].clone())
            }
            Some(InitSource::Named(inits)) => named_init(
                model,
                &inits[pick(inits.len())?],
                s.init_radius,
                s.max_init_tries,
                chain,
                rng,
            ),
            None => random_init(model, s.init_radius, s.max_init_tries, chain, rng),
        }
    }

    /// Warms up and samples one chain with `kernel`: `num_warmup` transitions tuned by
    /// `warmup`, then `num_samples` transitions at the adapted step size and metric, each kept
    /// draw recorded on the constrained scale with its generated quantities.
    fn run_kernel<M: LogDensity + ?Sized, K: Kernel, W: Warmup>(
        &self,
        run: ChainRun<'_, M>,
        mut kernel: K,
        mut warmup: W,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let ChainRun {
            chain,
            rng_seed,
            mut rng,
            mut model,
            mut pos,
        } = run;
        let model = &mut model;
        let at = |iteration: usize| {
            move |e: McmcError| McmcError::Chain {
                chain,
                iteration,
                source: Box::new(e),
            }
        };
        let init = pos.q().to_vec();
        let mut rec = Recorder::new(s, model.layout().len(), rng_seed)?;

        // Warm up.
        let t_warmup = Instant::now();
        if s.num_warmup > 0 {
            warmup
                .start(kernel.integrator_mut(), model, &pos, &mut rng)
                .map_err(at(0))?;
        }
        let mut divergences = 0;
        for it in 0..s.num_warmup {
            let t = kernel
                .transition(model, &mut pos, &mut rng)
                .map_err(at(it))?;
            divergences += usize::from(t.divergent);
            if s.save_warmup {
                rec.record(Phase::Warmup, model, &pos, &t)
                    .map_err(|e| at(it)(e.into()))?;
            }
            warmup
                .adapt(it, &t, &pos, kernel.integrator_mut(), model, &mut rng)
                .map_err(at(it))?;
            self.observer.on_draw(&DrawEvent {
                chain,
                iteration: it,
                phase: Phase::Warmup,
                phase_len: s.num_warmup,
                divergences,
                divergent: t.divergent,
                step_size: t.step_size,
                stage: warmup.stage(it),
            });
        }
        if s.num_warmup > 0 {
            warmup
                .finish(kernel.integrator_mut())
                .map_err(at(s.num_warmup))?;
        }
        let warmup_seconds = t_warmup.elapsed().as_secs_f64();
        let warmup_gradient_evals = model.evals;

        // Sample.
        let t_sampling = Instant::now();
        self.sample_phase(
            &mut Phase0 {
                kernel: &mut kernel,
                model,
                pos: &mut pos,
                rng: &mut rng,
                rec: &mut rec,
            },
            chain,
            0,
            s.num_samples,
        )?;
        let sampling_seconds = t_sampling.elapsed().as_secs_f64();
        let sampling_gradient_evals = model.evals - warmup_gradient_evals;

        // Record.
        let (draws, stats, warmup_draws, warmup_stats, gq_rng) = rec.finish()?;
        Ok(Chain {
            chain,
            rng_seed,
            draws,
            stats,
            warmup_draws,
            warmup_stats,
            step_size: kernel.step_size(),
            metric: kernel.metric().clone(),
            init,
            warmup_seconds,
            sampling_seconds,
            warmup_gradient_evals,
            sampling_gradient_evals,
            state: ChainState {
                rng,
                gq_rng,
                q: pos.q().to_vec(),
                sampling_iterations: s.num_samples,
            },
        })
    }

    /// `n` sampling transitions numbered from `start` (their place in the whole sampling
    /// phase, which sets the thinning and the reported iteration), each kept draw recorded.
    fn sample_phase<M: LogDensity + ?Sized, K: Kernel>(
        &self,
        p: &mut Phase0<'_, '_, M, K>,
        chain: usize,
        start: usize,
        n: usize,
    ) -> Result<(), McmcError> {
        let s = &self.settings;
        let mut divergences = 0;
        for k in 0..n {
            let it = start.saturating_add(k);
            // the chain's iteration counting warmup, for errors
            let iteration = s.num_warmup.saturating_add(it);
            let at = |e: McmcError| McmcError::Chain {
                chain,
                iteration,
                source: Box::new(e),
            };
            let t = p.kernel.transition(p.model, p.pos, p.rng).map_err(at)?;
            divergences += usize::from(t.divergent);
            if it % s.thin == 0 {
                p.rec
                    .record(Phase::Sampling, p.model, p.pos, &t)
                    .map_err(|e: LogDensityError| at(e.into()))?;
            }
            self.observer.on_draw(&DrawEvent {
                chain,
                iteration: k,
                phase: Phase::Sampling,
                phase_len: n,
                divergences,
                divergent: t.divergent,
                step_size: t.step_size,
                stage: AdaptStage::None,
            });
        }
        Ok(())
    }
}

/// The mutable parts of a chain's sampling phase.
struct Phase0<'a, 'm, M: ?Sized, K> {
    kernel: &'a mut K,
    model: &'a mut Counted<'m, M>,
    pos: &'a mut Position,
    rng: &'a mut ChainRng,
    rec: &'a mut Recorder,
}

impl<'m, M: ?Sized, K> Phase0<'_, 'm, M, K> {
    /// The same parts with `kernel`.
    fn with<'b, J>(&'b mut self, kernel: &'b mut J) -> Phase0<'b, 'm, M, J> {
        Phase0 {
            kernel,
            model: self.model,
            pos: self.pos,
            rng: self.rng,
            rec: self.rec,
        }
    }
}

/// A chain ready to run: its number, seed, RNG, counted model and initial position.
struct ChainRun<'m, M: ?Sized> {
    chain: usize,
    rng_seed: u64,
    rng: ChainRng,
    model: Counted<'m, M>,
    pos: Position,
}

/// A chain's output buffers, reserved before the first iteration (fallibly: a setting asking
/// for more than can be allocated is an error, not an abort hours later), and the RNG of its
/// generated quantities.
struct Recorder {
    /// Generated quantities draw from a stream of their own: adding one to a model does not
    /// change its draws.
    gq_rng: ChainRng,
    row: Vec<f64>,
    draws: Vec<f64>,
    stats: Vec<DrawStats>,
    warmup_draws: Vec<f64>,
    warmup_stats: Vec<DrawStats>,
}

impl Recorder {
    fn new(s: &SamplerSettings, n_out: usize, rng_seed: u64) -> Result<Self, McmcError> {
        let n_keep = s.num_samples.div_ceil(s.thin);
        let n_warm = if s.save_warmup { s.num_warmup } else { 0 };
        Ok(Self {
            gq_rng: ChainRng::seed_from_u64(splitmix64(rng_seed ^ GQ_STREAM)),
            row: vec![0.0; n_out],
            draws: reserve(n_keep, n_out, "num_samples", s.num_samples)?,
            stats: reserve(n_keep, 1, "num_samples", s.num_samples)?,
            warmup_draws: reserve(n_warm, n_out, "num_warmup", s.num_warmup)?,
            warmup_stats: reserve(n_warm, 1, "num_warmup", s.num_warmup)?,
        })
    }

    /// Records the constrained draw (with its generated quantities) at `pos` and the
    /// transition's statistics, as a warmup or a sampling draw.
    fn record<M: LogDensity + ?Sized>(
        &mut self,
        phase: Phase,
        model: &mut Counted<'_, M>,
        pos: &Position,
        t: &Transition,
    ) -> Result<(), LogDensityError> {
        model
            .inner
            .write_draw(pos.q(), &mut self.gq_rng, &mut self.row)?;
        let (draws, stats) = match phase {
            Phase::Warmup => (&mut self.warmup_draws, &mut self.warmup_stats),
            _ => (&mut self.draws, &mut self.stats),
        };
        draws.extend_from_slice(&self.row);
        stats.push(DrawStats::from_transition(t));
        Ok(())
    }

    /// The draws and warmup draws as (rows × outputs) arrays, with their statistics, and the
    /// generated quantities' RNG where it stopped.
    #[allow(clippy::type_complexity)]
    fn finish(
        self,
    ) -> Result<
        (
            Array2<f64>,
            Vec<DrawStats>,
            Array2<f64>,
            Vec<DrawStats>,
            ChainRng,
        ),
        McmcError,
    > {
        let n_out = self.row.len();
        let to_array = |v: Vec<f64>, rows: usize| {
            Array2::from_shape_vec((rows, n_out), v).map_err(|_| McmcError::DimensionMismatch {
                name: "recorded draws",
                expected: rows * n_out,
                found: 0,
            })
        };
        let (n_draws, n_warm) = (self.stats.len(), self.warmup_stats.len());
        Ok((
            to_array(self.draws, n_draws)?,
            self.stats,
            to_array(self.warmup_draws, n_warm)?,
            self.warmup_stats,
            self.gq_rng,
        ))
    }
}
