//! Continuing chains where they stopped: [`Sampler::extend`] from a finished [`Fit`], and the
//! one chain continuation that [`Checkpoint`](crate::checkpoint::Checkpoint)s resume with.

use std::time::Instant;

use ndarray::Array2;

use super::chain::Phase0;
use super::recorder::Recorder;
use crate::density::Counted;
use crate::density::LogDensity;
use crate::error::McmcError;
use crate::fit::{Chain, ChainState, Fit};
use crate::hamiltonian::Position;
use crate::hmc::StaticHmc;
use crate::metric::Metric;
use crate::model::{Model, tape_models};
use crate::nuts::Nuts;
use crate::observer::Observer;
use crate::sampler::Sampler;
use crate::settings::{Algorithm, SamplerSettings};

impl<O: Observer> Sampler<O> {
    /// Continues every chain of `fit` for `num_samples` more sampling iterations from where it
    /// stopped — its RNG streams, position, step size and metric ([`Chain::state`]) — with a
    /// model instance per chain from `make_model(chain)`. The result holds the old draws
    /// followed by the new ones, exactly the draws of one uninterrupted run with
    /// `num_samples` more sampling iterations (same seed, settings and model). The run's
    /// settings are `fit`'s (this sampler's observer reports the new iterations); restarting
    /// costs one gradient per chain, counted in its sampling gradients.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 300, seed: 4,
    ///                                  ..SamplerSettings::default() };
    /// let short = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
    /// let extended = Sampler::new(settings)?.extend(&short, 200, |_| Gauss::new(2))?;
    /// let long = Sampler::new(SamplerSettings { num_samples: 500, ..settings })?
    ///     .sample(|_| Gauss::new(2))?;
    /// assert_eq!(extended.chains[1].draws, long.chains[1].draws);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] when the total number of samples overflows; otherwise as
    /// [`Sampler::sample`].
    pub fn extend<M, F>(
        &self,
        fit: &Fit,
        num_samples: usize,
        make_model: F,
    ) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        let total = fit.settings.num_samples.checked_add(num_samples);
        let settings = SamplerSettings {
            num_samples: total.unwrap_or(usize::MAX),
            num_chains: fit.chains.len().max(1),
            ..fit.settings
        };
        settings.validate()?;
        let continuation = self.continuation(settings);
        let new = continuation.fit_chains(make_model, |c, model| {
            continuation.continue_chain(&fit.chains[c], num_samples, model)
        })?;
        Ok(Fit {
            wall_seconds: fit.wall_seconds + new.wall_seconds,
            init_gradient_evals: fit.init_gradient_evals,
            ..new
        })
    }

    /// [`Sampler::extend`] for a [`Model`], as [`Sampler::sample_model`] samples one.
    ///
    /// # Errors
    ///
    /// As [`Sampler::extend`] and [`Sampler::sample_model`].
    pub fn extend_model<M: Model + Sync>(
        &self,
        fit: &Fit,
        num_samples: usize,
        model: &M,
    ) -> Result<Fit, McmcError> {
        self.extend(fit, num_samples, tape_models(model)?)
    }

    /// One chain of [`Sampler::extend`].
    fn continue_chain<M: LogDensity + ?Sized>(
        &self,
        old: &Chain,
        num_samples: usize,
        model: &mut M,
    ) -> Result<Chain, McmcError> {
        let resume = Resume {
            chain: old.chain,
            rng_seed: old.rng_seed,
            state: &old.state,
            metric: &old.metric,
            step_size: old.step_size,
            columns: old.draws.ncols(),
        };
        let new = self.resume_chain(&resume, num_samples, model)?;
        let join = |a: &Array2<f64>, b: &Array2<f64>| {
            ndarray::concatenate(ndarray::Axis(0), &[a.view(), b.view()]).map_err(|_| {
                McmcError::DimensionMismatch {
                    name: "recorded draws",
                    expected: a.ncols(),
                    found: b.ncols(),
                }
            })
        };
        let mut all_stats = old.stats.clone();
        all_stats.extend(new.stats);
        Ok(Chain {
            draws: join(&old.draws, &new.draws)?,
            stats: all_stats,
            sampling_seconds: old.sampling_seconds + new.sampling_seconds,
            sampling_gradient_evals: old.sampling_gradient_evals + new.sampling_gradient_evals,
            state: new.state,
            // the rest as it was (not `..old.clone()`, which would copy the old draws too)
            chain: old.chain,
            rng_seed: old.rng_seed,
            warmup_draws: old.warmup_draws.clone(),
            warmup_stats: old.warmup_stats.clone(),
            step_size: old.step_size,
            metric: old.metric.clone(),
            init: old.init.clone(),
            warmup_seconds: old.warmup_seconds,
            warmup_gradient_evals: old.warmup_gradient_evals,
        })
    }

    /// A sampler with `settings` (already validated) reporting to this one's observer, to
    /// continue chains.
    pub(crate) fn continuation(&self, settings: SamplerSettings) -> Sampler<&O> {
        Sampler {
            settings,
            inits: None,
            adapted: None,
            observer: &self.observer,
        }
    }

    /// `num_samples` sampling iterations of one chain continued from `resume`: a chain holding
    /// only the new draws (no warmup; its `init` is the position it continued from).
    pub(crate) fn resume_chain<M: LogDensity + ?Sized>(
        &self,
        resume: &Resume<'_>,
        num_samples: usize,
        model: &mut M,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let mut model = Counted::new(model);
        let model = &mut model;
        let state = resume.state;
        let mut pos = Position::new(model, state.q.clone())?;
        let mut rng = state.rng.clone();
        let mut rec = Recorder::new(
            &SamplerSettings {
                num_samples,
                save_warmup: false,
                ..*s
            },
            resume.columns,
            resume.rng_seed,
        )?;
        rec.gq_rng = state.gq_rng.clone();
        let t_sampling = Instant::now();
        let mut phase = Phase0 {
            kernel: &mut (),
            model,
            pos: &mut pos,
            rng: &mut rng,
            rec: &mut rec,
        };
        let (chain, start) = (resume.chain, state.sampling_iterations);
        let (metric, step_size) = (resume.metric.clone(), resume.step_size);
        match s.algorithm {
            Algorithm::Nuts => {
                let mut kernel = Nuts::new(metric, step_size, s.nuts_options())?;
                self.sample_phase(&mut phase.with(&mut kernel), chain, start, num_samples)?;
            }
            Algorithm::StaticHmc { num_steps } => {
                let mut kernel = StaticHmc::new(metric, step_size, num_steps, s.max_delta_h)?;
                self.sample_phase(&mut phase.with(&mut kernel), chain, start, num_samples)?;
            }
        }
        let seconds = t_sampling.elapsed().as_secs_f64();
        let (draws, stats, _, _, gq_rng) = rec.finish()?;
        Ok(Chain {
            chain: resume.chain,
            rng_seed: resume.rng_seed,
            draws,
            stats,
            warmup_draws: Array2::zeros((0, resume.columns)),
            warmup_stats: Vec::new(),
            step_size: resume.step_size,
            metric: resume.metric.clone(),
            init: state.q.clone(),
            warmup_seconds: 0.0,
            sampling_seconds: seconds,
            warmup_gradient_evals: 0,
            sampling_gradient_evals: model.evals,
            state: ChainState {
                rng,
                gq_rng,
                q: pos.q().to_vec(),
                sampling_iterations: state.sampling_iterations + num_samples,
            },
        })
    }
}

/// Where a chain continues from: [`Sampler::extend`] takes it from a [`Chain`], a
/// [`Checkpoint`](crate::checkpoint::Checkpoint) from its saved state.
pub(crate) struct Resume<'a> {
    pub(crate) chain: usize,
    pub(crate) rng_seed: u64,
    pub(crate) state: &'a ChainState,
    pub(crate) metric: &'a Metric,
    pub(crate) step_size: f64,
    /// The width of a recorded row.
    pub(crate) columns: usize,
}
