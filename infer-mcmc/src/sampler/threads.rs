//! The chains on scoped threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::McmcError;
use std::time::Instant;

use crate::density::LogDensity;
use crate::fit::{Chain, Fit};
use crate::layout::Layout;
use crate::observer::Observer;
use crate::panic::catch_model_panic;

use super::Sampler;

/// A chain's output with the model's layout, or its error.
type ChainResult = Result<(Chain, Layout), McmcError>;

impl<O: Observer> Sampler<O> {
    /// Runs `run(chain, model)` for every chain, each on its own model from
    /// `make_model(chain)`, on the threads of [`Sampler::run_chains`]: the fit with this
    /// sampler's settings, its wall time and no init gradients.
    pub(crate) fn fit_chains<M, F, R>(&self, make_model: F, run: R) -> Result<Fit, McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
        R: Fn(usize, &mut M) -> Result<Chain, McmcError> + Sync,
    {
        let t_wall = Instant::now();
        let (chains, layout) = self.run_chains(|c| {
            let mut model = make_model(c);
            let chain = run(c, &mut model)?;
            Ok((chain, model.layout()))
        })?;
        Ok(Fit {
            layout,
            chains,
            settings: self.settings,
            wall_seconds: t_wall.elapsed().as_secs_f64(),
            init_gradient_evals: 0,
        })
    }

    /// Runs `run(chain)` for every chain on `num_threads` scoped threads (panics caught as
    /// the chain's error) and returns the chains in order with the model's layout, or the
    /// first chain's error.
    fn run_chains<R>(&self, run: R) -> Result<(Vec<Chain>, Layout), McmcError>
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
}
