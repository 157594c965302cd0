//! One chain: its initial point, its kernel and warmup, and its sampling transitions.

use std::time::Instant;

use rand::SeedableRng;

use crate::adapt::{FisherWarmup, LowRankWarmup, StanWarmup, Warmup};
use crate::density::{Counted, LogDensity};
use crate::error::{LogDensityError, McmcError};
use crate::fit::{Chain, ChainRng, ChainState};
use crate::hamiltonian::Position;
use crate::hmc::StaticHmc;
use crate::init::{named_init, random_init};
use crate::kernel::Kernel;
use crate::metric::{Metric, MetricKind};
use crate::nuts::Nuts;
use crate::observer::{AdaptStage, DrawEvent, Observer, Phase};
use crate::settings::{Adaptation, Algorithm};

use super::recorder::Recorder;
use super::{InitSource, Sampler, chain_seed};

impl<O: Observer> Sampler<O> {
    /// [`Sampler::sample_chain`] without catching panics: the initial point, then the
    /// chosen kernel driven by [`Sampler::run_kernel`]. `inverse_metric` (from
    /// [`InitStrategy::PathfinderMetric`](crate::settings::InitStrategy::PathfinderMetric))
    /// is the warmup's initial inverse metric when there is a warmup and no metric was given
    /// with [`Sampler::with_adapted`].
    pub(super) fn run_chain<M: LogDensity + ?Sized>(
        &self,
        chain: usize,
        model: &mut M,
        inits: Option<&InitSource>,
        inverse_metric: Option<&[f64]>,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let dim = model.dim();
        if dim == 0 {
            return Err(McmcError::ZeroDimension);
        }
        let rng_seed = chain_seed(s.seed, chain);
        let mut rng = ChainRng::seed_from_u64(rng_seed);
        // Every gradient evaluation of the chain is counted, whatever asked for it.
        let mut model = Counted::new(model);
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
        let initial_metric = match inverse_metric {
            Some(v) if self.adapted.is_none() && s.num_warmup > 0 => {
                if v.len() != dim {
                    return Err(McmcError::DimensionMismatch {
                        name: "metric",
                        expected: dim,
                        found: v.len(),
                    });
                }
                Some(v.to_vec())
            }
            _ => None,
        };
        let run = ChainRun {
            chain,
            rng_seed,
            rng,
            model,
            pos,
            initial_metric,
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
        mut kernel: K,
    ) -> Result<Chain, McmcError> {
        let s = &self.settings;
        let dim = run.pos.dim();
        let initial = run.initial_metric.clone();
        match s.adaptation {
            Adaptation::Stan => {
                let warmup = StanWarmup::new(s, dim, run.chain)?;
                if let Some(v) = initial {
                    // Stan's warmup starts from the kernel's metric: its step-size
                    // heuristic and its fast iterations before the first window use it
                    kernel
                        .integrator_mut()
                        .set_metric(metric_of_kind(v, s.metric)?)?;
                }
                self.run_kernel(run, kernel, warmup)
            }
            Adaptation::FisherDiagonal => {
                let mut warmup = FisherWarmup::new(s, dim, run.chain)?;
                if let Some(v) = initial {
                    warmup = warmup.with_initial_metric(v);
                }
                self.run_kernel(run, kernel, warmup)
            }
            Adaptation::FisherLowRank => {
                let mut warmup = LowRankWarmup::new(s, dim, run.chain)?;
                if let Some(v) = initial {
                    warmup = warmup.with_initial_metric(v);
                }
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
            initial_metric: _,
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
    pub(super) fn sample_phase<M: LogDensity + ?Sized, K: Kernel>(
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
pub(super) struct Phase0<'a, 'm, M: ?Sized, K> {
    pub(super) kernel: &'a mut K,
    pub(super) model: &'a mut Counted<'m, M>,
    pub(super) pos: &'a mut Position,
    pub(super) rng: &'a mut ChainRng,
    pub(super) rec: &'a mut Recorder,
}

impl<'m, M: ?Sized, K> Phase0<'_, 'm, M, K> {
    /// The same parts with `kernel`.
    pub(super) fn with<'b, J>(&'b mut self, kernel: &'b mut J) -> Phase0<'b, 'm, M, J> {
        Phase0 {
            kernel,
            model: self.model,
            pos: self.pos,
            rng: self.rng,
            rec: self.rec,
        }
    }
}

/// A chain ready to run: its number, seed, RNG, counted model, initial position and the
/// warmup's initial inverse metric (diagonal), if not the strategy's own.
struct ChainRun<'m, M: ?Sized> {
    chain: usize,
    rng_seed: u64,
    rng: ChainRng,
    model: Counted<'m, M>,
    pos: Position,
    initial_metric: Option<Vec<f64>>,
}

/// The metric of `kind` with inverse diagonal `inverse_diagonal`: diagonal, dense with that
/// diagonal, or low rank with D = it and rank 0.
fn metric_of_kind(inverse_diagonal: Vec<f64>, kind: MetricKind) -> Result<Metric, McmcError> {
    match kind {
        MetricKind::Dense => {
            let n = inverse_diagonal.len();
            let mut m = vec![0.0; n * n];
            for (i, v) in inverse_diagonal.into_iter().enumerate() {
                m[i * n + i] = v;
            }
            Metric::dense(m, n)
        }
        MetricKind::LowRank => Metric::low_rank(inverse_diagonal, Vec::new(), Vec::new()),
        MetricKind::Diagonal => Metric::diagonal(inverse_diagonal),
    }
}
