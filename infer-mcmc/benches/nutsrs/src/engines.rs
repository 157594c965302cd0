//! One chain of each sampler on one log density, with the same gradient count, the same ESS
//! estimator and the same wall-time span.

use infer::mcmc::diagnostics::ess_bulk;
use infer::mcmc::init::Inits;
use infer::mcmc::{Adaptation, LogDensity, LogDensityError, Sampler, SamplerSettings};
use ndarray::{Array2, Axis};
use nuts_rs::rand::SeedableRng as _;
use nuts_rs::{CpuLogpFunc, CpuMath, CpuMathError, HasDims, Settings as _};
use rand::SeedableRng as _;
use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The two adaptation strategies compared: nutpie's Fisher diagonal and its diagonal plus
/// low rank (infer's `Adaptation::FisherDiagonal` / `FisherLowRank`, nuts-rs's
/// `DiagNutsSettings` / `LowRankNutsSettings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The gradient-informed diagonal.
    Diagonal,
    /// The diagonal plus low rank.
    LowRank,
}

impl Strategy {
    /// The label printed in the table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Diagonal => "diag",
            Self::LowRank => "lowrank",
        }
    }
}

/// The settings shared by both samplers.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Warmup (tuning) draws.
    pub warmup: usize,
    /// Sampling draws.
    pub draws: usize,
    /// Target acceptance statistic of the step-size adaptation.
    pub target_accept: f64,
    /// Maximum tree depth.
    pub max_depth: usize,
    /// Departures from nuts-rs's defaults, for ablations.
    pub nutsrs: NutsRsTweaks,
}

/// Departures from nuts-rs's default adaptation, to find which of its differences from infer's
/// strategies matter; all `None` (the default) leaves nuts-rs's defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct NutsRsTweaks {
    /// The step-size jitter during sampling (nuts-rs: ±10 %); `Some(0.0)` turns it off.
    pub jitter: Option<f64>,
    /// Growth factor of the late metric windows (nuts-rs: 1.5; infer: 1).
    pub window_growth: Option<f64>,
    /// Draws between metric refits within a window (nuts-rs: 1 diagonal, 20 low rank; infer:
    /// every draw diagonal, only at window switches low rank).
    pub update_freq: Option<u64>,
}

impl NutsRsTweaks {
    fn apply<S: std::fmt::Debug + Default>(&self, o: &mut nuts_rs::EuclideanAdaptOptions<S>) {
        if let Some(j) = self.jitter {
            o.step_size_settings.jitter = (j > 0.0).then_some(j);
        }
        if let Some(g) = self.window_growth {
            o.mass_matrix_window_growth = g;
        }
        if let Some(f) = self.update_freq {
            o.mass_matrix_update_freq = f;
        }
    }
}

/// The figures of one chain.
#[derive(Clone, Debug)]
pub struct Run {
    /// Wall time of warmup and sampling (and of mapping the draws to the recorded values).
    pub wall: f64,
    /// Every gradient evaluation, counted at the density (warmup, sampling, initial point).
    pub grads: u64,
    /// Gradient evaluations of the sampling draws.
    pub sampling_grads: u64,
    /// The smallest bulk ESS over the recorded quantities (infer's `ess_bulk`).
    pub min_ess: f64,
    /// The step size after adaptation (nuts-rs: the mean over the sampling draws of its
    /// jittered step size).
    pub step_size: f64,
    /// Divergent sampling transitions.
    pub divergent: usize,
    /// The initial unconstrained point.
    pub init: Vec<f64>,
}

impl Run {
    /// Minimum bulk ESS per sampling gradient evaluation.
    pub fn ess_per_grad(&self) -> f64 {
        self.min_ess / self.sampling_grads as f64
    }
    /// Minimum bulk ESS per second of total wall time.
    pub fn ess_per_sec(&self) -> f64 {
        self.min_ess / self.wall
    }
    /// Leapfrog steps (gradients) per sampling draw.
    pub fn leapfrogs_per_draw(&self, draws: usize) -> f64 {
        self.sampling_grads as f64 / draws as f64
    }
}

/// A log density whose gradient evaluations are counted; used by both samplers.
pub struct Counted<D> {
    inner: D,
    calls: Arc<AtomicU64>,
}

impl<D> Counted<D> {
    fn new(inner: D) -> Self {
        Self {
            inner,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<D: LogDensity> LogDensity for Counted<D> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.logp_and_grad(x, grad)
    }
    fn layout(&self) -> infer::mcmc::layout::Layout {
        self.inner.layout()
    }
    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn rand::RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        self.inner.write_draw(x, rng, out)
    }
    fn init_point(
        &mut self,
        inits: &Inits,
        radius: f64,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Vec<f64>, LogDensityError> {
        self.inner.init_point(inits, radius, rng)
    }
}

/// infer's log-density error as nuts-rs's: recoverable errors are divergences in both.
#[derive(Debug)]
pub struct DensityError {
    message: String,
    recoverable: bool,
}

impl std::fmt::Display for DensityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for DensityError {}

impl nuts_rs::LogpError for DensityError {
    fn is_recoverable(&self) -> bool {
        self.recoverable
    }
}

impl<D> HasDims for Counted<D>
where
    D: LogDensity,
{
    fn dim_sizes(&self) -> HashMap<String, u64> {
        HashMap::from([(
            "unconstrained_parameter".to_owned(),
            self.inner.dim() as u64,
        )])
    }
}

impl<D: LogDensity> CpuLogpFunc for Counted<D> {
    type LogpError = DensityError;
    type FlowParameters = ();
    type ExpandedVector = Vec<f64>;

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn logp(&mut self, position: &[f64], gradient: &mut [f64]) -> Result<f64, DensityError> {
        LogDensity::logp_and_grad(self, position, gradient).map_err(|e| DensityError {
            message: e.to_string(),
            recoverable: e.is_recoverable(),
        })
    }

    fn expand_vector<R>(&mut self, _rng: &mut R, array: &[f64]) -> Result<Vec<f64>, CpuMathError>
    where
        R: nuts_rs::rand::Rng + ?Sized,
    {
        Ok(array.to_vec())
    }
}

/// The smallest bulk ESS over the columns of `draws` (draws × quantities), leaving out
/// quantities without one (constant columns).
fn min_ess(draws: &Array2<f64>) -> Result<f64, Box<dyn Error>> {
    let mut min = f64::INFINITY;
    for col in draws.columns() {
        let one = col.to_owned().insert_axis(Axis(0));
        if let Ok(e) = ess_bulk(one.view())
            && e.is_finite()
        {
            min = min.min(e);
        }
    }
    if min.is_finite() {
        Ok(min)
    } else {
        Err("no quantity has a finite bulk ESS".into())
    }
}

/// One chain of infer's NUTS with `strategy`, chain 0 of seed `seed`.
pub fn run_infer<D: LogDensity>(
    model: D,
    cfg: &Config,
    strategy: Strategy,
    seed: u64,
) -> Result<Run, Box<dyn Error>> {
    let sampler = Sampler::new(SamplerSettings {
        num_chains: 1,
        num_warmup: cfg.warmup,
        num_samples: cfg.draws,
        target_accept: cfg.target_accept,
        max_depth: cfg.max_depth,
        adaptation: match strategy {
            Strategy::Diagonal => Adaptation::FisherDiagonal,
            Strategy::LowRank => Adaptation::FisherLowRank,
        },
        seed,
        ..SamplerSettings::default()
    })?;
    let mut counted = Counted::new(model);
    let start = Instant::now();
    let chain = sampler.sample_chain(0, &mut counted)?;
    let wall = start.elapsed().as_secs_f64();
    Ok(Run {
        wall,
        grads: counted.calls.load(Ordering::Relaxed),
        sampling_grads: chain.sampling_gradient_evals,
        min_ess: min_ess(&chain.draws)?,
        step_size: chain.step_size,
        divergent: chain.num_divergent(),
        init: chain.init.clone(),
    })
}

/// One chain of nuts-rs with `strategy` from the unconstrained point `init`, its generator
/// seeded with `seed`; `recorder` (a second instance of the density) maps every draw to the
/// recorded quantities, as infer's sampler does, inside the timed span.
pub fn run_nutsrs<D: LogDensity>(
    model: D,
    mut recorder: D,
    cfg: &Config,
    strategy: Strategy,
    seed: u64,
    init: &[f64],
) -> Result<Run, Box<dyn Error>> {
    let counted = Counted::new(model);
    let calls = Arc::clone(&counted.calls);
    let math = CpuMath::new(counted);
    let mut rng = nuts_rs::rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    let (tune, draws) = (cfg.warmup as u64, cfg.draws as u64);
    let start = Instant::now();
    let record = match strategy {
        Strategy::Diagonal => {
            let mut s = nuts_rs::DiagNutsSettings {
                num_tune: tune,
                num_draws: draws,
                maxdepth: cfg.max_depth as u64,
                ..Default::default()
            };
            s.adapt_options.step_size_settings.target_accept = cfg.target_accept;
            cfg.nutsrs.apply(&mut s.adapt_options);
            let mut chain = s.new_chain(0, math, &mut rng)?;
            drive(&mut chain, init, cfg, &calls, &mut recorder, seed)?
        }
        Strategy::LowRank => {
            let mut s = nuts_rs::LowRankNutsSettings {
                num_tune: tune,
                num_draws: draws,
                maxdepth: cfg.max_depth as u64,
                ..Default::default()
            };
            s.adapt_options.step_size_settings.target_accept = cfg.target_accept;
            cfg.nutsrs.apply(&mut s.adapt_options);
            let mut chain = s.new_chain(0, math, &mut rng)?;
            drive(&mut chain, init, cfg, &calls, &mut recorder, seed)?
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let grads = calls.load(Ordering::Relaxed);
    Ok(Run {
        wall,
        grads,
        sampling_grads: grads - record.sampling_start,
        min_ess: min_ess(&record.draws)?,
        step_size: record.step_size,
        divergent: record.divergent,
        init: init.to_vec(),
    })
}

/// What [`drive`] collects from a nuts-rs chain.
struct Record {
    draws: Array2<f64>,
    sampling_start: u64,
    step_size: f64,
    divergent: usize,
}

/// Runs a nuts-rs chain from `init` through `cfg.warmup` tuning and `cfg.draws` sampling
/// draws, mapping each sampling draw to the recorded quantities with `recorder`.
fn drive<M: nuts_rs::Math, C: nuts_rs::Chain<M>, D: LogDensity>(
    chain: &mut C,
    init: &[f64],
    cfg: &Config,
    calls: &AtomicU64,
    recorder: &mut D,
    seed: u64,
) -> Result<Record, Box<dyn Error>> {
    let mut record_rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut rec = Record {
        draws: Array2::zeros((cfg.draws, recorder.layout().len())),
        sampling_start: 0,
        step_size: 0.0,
        divergent: 0,
    };
    chain.set_position(init)?;
    for i in 0..cfg.warmup + cfg.draws {
        if i == cfg.warmup {
            rec.sampling_start = calls.load(Ordering::Relaxed);
        }
        let (x, progress) = chain.draw()?;
        if i < cfg.warmup {
            if !progress.tuning {
                return Err(format!("nuts-rs stopped tuning early, at draw {i}").into());
            }
            continue;
        }
        rec.step_size += progress.step_size / cfg.draws as f64;
        rec.divergent += usize::from(progress.diverging);
        let mut row = rec.draws.row_mut(i - cfg.warmup);
        let row = row.as_slice_mut().ok_or("draws array is not contiguous")?;
        recorder.write_draw(&x, &mut record_rng, row)?;
    }
    Ok(rec)
}
