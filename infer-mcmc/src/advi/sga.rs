//! Stochastic gradient ascent on the ELBO: one gradient step (infer-loss's estimator on the
//! tape, Adam), Stan's ELBO estimate, its step-size search (`adapt_eta`) and its main loop
//! with the relative-change convergence test (`stochastic_gradient_ascent`), after
//! `stan/variational/advi.hpp` (Stan 2.3x).

use std::collections::VecDeque;

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{AdError, Tape, Var};
use rand::Rng;

use super::error::AdviError;
use super::fit::ElboEval;
use super::guide::{Frozen, Guide};
use super::settings::{AdviFamily, AdviSettings, ETA_SEQUENCE, ElboGradient};
use super::target::Target;
use crate::density::LogDensity;

/// Adam's constants that make its step Stan's (see [`AdviSettings`]'s "Optimizer"): no
/// momentum, Stan's decay 0.9 of the squared gradients, and τ = 1 added to their root.
const BETA1: f64 = 0.0;
const BETA2: f64 = 0.9;
const TAU: f64 = 1.0;

/// Stan's limit on dropped draws of one gradient estimate, per draw asked for.
const GRAD_RETRIES: usize = 10;

/// Why a gradient step did not happen. The step-size search skips such a step, as Stan
/// zeroes the gradient of a failed estimate; the main loop stops with the error.
pub(crate) enum StepFailure {
    /// The guide or the estimate left the finite range.
    Diverged(&'static str, f64),
    /// Every draw of the estimate was dropped.
    Dropped(usize),
    /// A fatal error: returned by both.
    Fatal(AdviError),
}

impl StepFailure {
    fn into_error(self, iteration: usize) -> AdviError {
        match self {
            StepFailure::Diverged(what, value) => AdviError::Diverged {
                iteration,
                what,
                value,
            },
            StepFailure::Dropped(dropped) => AdviError::DroppedDraws {
                what: "gradient",
                iteration,
                dropped,
            },
            StepFailure::Fatal(e) => e,
        }
    }
}

impl From<AdviError> for StepFailure {
    fn from(e: AdviError) -> Self {
        StepFailure::Fatal(e)
    }
}

/// The state of one fit: the density, the settings, the random stream, the guide's tape.
pub(crate) struct Sga<'a, 'd, D: ?Sized, R: ?Sized> {
    pub(crate) target: &'a Target<'d, D>,
    pub(crate) settings: &'a AdviSettings,
    pub(crate) rng: &'a mut R,
    pub(crate) tape: Tape,
    /// The guide's starting point μ₀.
    pub(crate) init: Vec<f64>,
}

/// What the main loop leaves: the fitted guide, the ELBO trace, the iterations run and
/// whether the convergence test passed.
pub(crate) struct Ascent {
    pub(crate) guide: Guide,
    pub(crate) trace: Vec<ElboEval>,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

impl<D: LogDensity + ?Sized, R: Rng + ?Sized> Sga<'_, '_, D, R> {
    fn family(&self) -> AdviFamily {
        self.settings.family
    }

    /// One step of Adam at learning rate `lr` along the estimate of ∇ELBO (the mean of
    /// `grad_samples` per-draw estimates; a draw whose log density fails is dropped and
    /// drawn again, at most 10 × `grad_samples` times, as Stan does).
    pub(crate) fn step(
        &mut self,
        guide: &mut Guide,
        adam: &mut Adam,
        lr: f64,
    ) -> Result<(), StepFailure> {
        self.tape.clear();
        let Sga {
            target,
            settings,
            rng,
            tape,
            ..
        } = self;
        let tape: &Tape = tape;
        let bound = guide.bind(tape);
        let q = match guide.record(tape, &bound)? {
            Ok(q) => q,
            Err(v) => return Err(StepFailure::Diverged("guide scale", v)),
        };
        let m = settings.grad_samples;
        let mut total: Option<Var<'_>> = None;
        let mut dropped = 0;
        for _ in 0..m {
            loop {
                let mut r = &mut **rng;
                let z = q.rsample(&mut r).map_err(|e| AdviError::Loss(e.into()))?;
                let loss = match settings.gradient {
                    ElboGradient::Reparameterized => infer_loss::elbo_loss(*target, &*q, z),
                    ElboGradient::PathDerivative => {
                        infer_loss::elbo_path_derivative_loss(*target, &*q, z)
                    }
                }
                .map_err(AdviError::Loss)?;
                if let Some(e) = target.take_fatal() {
                    return Err(AdviError::LogDensity(e).into());
                }
                if loss.value().is_finite() {
                    total = Some(total.map_or(loss, |t| t + loss));
                    break;
                }
                dropped += 1;
                if dropped >= GRAD_RETRIES * m {
                    return Err(StepFailure::Dropped(dropped));
                }
            }
        }
        let Some(total) = total else {
            return Err(StepFailure::Dropped(dropped));
        };
        let loss = total * (1.0 / m as f64);
        loss.backward();
        let store = guide.store_mut();
        store.zero_grads();
        let ad = |e: AdError| StepFailure::Fatal(AdviError::Loss(e.into()));
        store.accumulate_grads(&bound).map_err(ad)?;
        adam.set_lr(lr).map_err(ad)?;
        match adam.step(store) {
            Ok(()) => Ok(()),
            Err(AdError::NonFinite { value, .. }) => Err(StepFailure::Diverged("gradient", value)),
            Err(e) => Err(ad(e)),
        }
    }

    /// Stan's ELBO estimate: the mean of log p over `elbo_samples` draws of the guide plus
    /// its entropy in closed form. A draw whose log density fails is dropped; `None` after
    /// `elbo_samples` dropped draws.
    pub(crate) fn elbo(&mut self, guide: &Guide) -> Result<Option<f64>, AdviError> {
        let n = self.settings.elbo_samples;
        let mut frozen = Frozen::new(guide);
        let mut z = vec![0.0; guide.mean().len()];
        let (mut sum, mut kept, mut dropped) = (0.0, 0, 0);
        while kept < n {
            frozen.draw(&mut *self.rng, &mut z);
            match self.target.logp(&z) {
                Some(lp) => {
                    sum += lp;
                    kept += 1;
                }
                None => {
                    if let Some(e) = self.target.take_fatal() {
                        return Err(e.into());
                    }
                    dropped += 1;
                    if dropped >= n {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(sum / n as f64 + guide.entropy()))
    }

    fn adam() -> Result<Adam, AdviError> {
        Adam::new(AdamConfig {
            beta1: BETA1,
            beta2: BETA2,
            eps: TAU,
            ..AdamConfig::default()
        })
        .map_err(|e| AdviError::Loss(e.into()))
    }

    /// Stan's `adapt_eta`: from the initial guide, each η of 100, 10, 1, 0.1, 0.01 in turn
    /// runs `adapt_iter` steps (a failed step is skipped) and is scored by the ELBO after
    /// them (−f64::MAX if it cannot be estimated or is not finite). The search stops at the
    /// first η scoring worse than the previous one, if that one beat the initial ELBO, and
    /// returns the previous η; after the last η it returns 0.01 if it beat the initial ELBO.
    ///
    /// # Errors
    /// [`AdviError::DroppedDraws`] or [`AdviError::Diverged`] when the initial ELBO cannot
    /// be estimated or is not finite;
    /// [`AdviError::EtaAdaptation`] when no η improved on it; fatal errors.
    pub(crate) fn adapt_eta(&mut self) -> Result<f64, AdviError> {
        let init = Guide::new(self.family(), &self.init)?;
        let elbo_init = self.elbo(&init)?.ok_or(AdviError::DroppedDraws {
            what: "ELBO",
            iteration: 0,
            dropped: self.settings.elbo_samples,
        })?;
        if !elbo_init.is_finite() {
            return Err(AdviError::Diverged {
                iteration: 0,
                what: "ELBO",
                value: elbo_init,
            });
        }
        let mut elbo_best = -f64::MAX;
        let mut eta_best = 0.0;
        for (idx, &eta) in ETA_SEQUENCE.iter().enumerate() {
            let mut guide = Guide::new(self.family(), &self.init)?;
            let mut adam = Self::adam()?;
            for k in 1..=self.settings.adapt_iter {
                match self.step(&mut guide, &mut adam, eta / (k as f64).sqrt()) {
                    Ok(()) | Err(StepFailure::Diverged(..)) | Err(StepFailure::Dropped(_)) => {}
                    Err(StepFailure::Fatal(e)) => return Err(e),
                }
            }
            let elbo = match self.elbo(&guide)? {
                Some(e) if e.is_finite() => e,
                _ => -f64::MAX,
            };
            if elbo < elbo_best && elbo_best > elbo_init {
                return Ok(eta_best);
            }
            if idx + 1 < ETA_SEQUENCE.len() {
                elbo_best = elbo;
                eta_best = eta;
            } else if elbo > elbo_init {
                return Ok(eta);
            }
        }
        Err(AdviError::EtaAdaptation {
            initial_elbo: elbo_init,
        })
    }

    /// Stan's `stochastic_gradient_ascent` from the initial guide with step-size scale
    /// `eta`: every `eval_elbo` iterations the ELBO is estimated and its relative change
    /// |(ELBOₚᵣₑᵥ − ELBO) / ELBO| (ELBOₚᵣₑᵥ = 0 before the first estimate, so the first change
    /// is 1) enters a circular buffer of the last max(⌊0.1 · `max_iterations` /
    /// `eval_elbo`⌋, 2) changes; the fit has converged when their mean or their median
    /// (the upper median for an even count) is below `tol_rel_obj`. It stops there or after
    /// `max_iterations`.
    ///
    /// # Errors
    /// [`AdviError::Diverged`] for a non-finite gradient, guide scale or ELBO;
    /// [`AdviError::DroppedDraws`]; fatal errors.
    pub(crate) fn ascend(&mut self, eta: f64) -> Result<Ascent, AdviError> {
        let s = self.settings;
        let mut guide = Guide::new(self.family(), &self.init)?;
        let mut adam = Self::adam()?;
        let cb_size = (0.1 * s.max_iterations as f64 / s.eval_elbo as f64).max(2.0) as usize;
        let mut changes: VecDeque<f64> = VecDeque::with_capacity(cb_size);
        let mut trace = Vec::new();
        let mut elbo = 0.0;
        for iteration in 1..=s.max_iterations {
            self.step(&mut guide, &mut adam, eta / (iteration as f64).sqrt())
                .map_err(|f| f.into_error(iteration))?;
            if iteration % s.eval_elbo != 0 {
                continue;
            }
            let prev = elbo;
            elbo = self.elbo(&guide)?.ok_or(AdviError::DroppedDraws {
                what: "ELBO",
                iteration,
                dropped: s.elbo_samples,
            })?;
            if !elbo.is_finite() {
                return Err(AdviError::Diverged {
                    iteration,
                    what: "ELBO",
                    value: elbo,
                });
            }
            if changes.len() == cb_size {
                changes.pop_front();
            }
            changes.push_back(((prev - elbo) / elbo).abs());
            let mean = changes.iter().sum::<f64>() / changes.len() as f64;
            let median = upper_median(&changes);
            trace.push(ElboEval {
                iteration,
                elbo,
                rel_change_mean: mean,
                rel_change_median: median,
            });
            if mean < s.tol_rel_obj || median < s.tol_rel_obj {
                return Ok(Ascent {
                    guide,
                    trace,
                    iterations: iteration,
                    converged: true,
                });
            }
        }
        Ok(Ascent {
            guide,
            trace,
            iterations: s.max_iterations,
            converged: false,
        })
    }
}

/// The element of rank ⌊n/2⌋ (0-based) of the values, as Stan's `circ_buff_median`
/// (`nth_element` at n/2): the median for odd n, the upper median for even n. NaNs sort
/// last.
fn upper_median(values: &VecDeque<f64>) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_median_as_stan() {
        let odd: VecDeque<f64> = [0.5, 0.1, 0.3].into_iter().collect();
        assert_eq!(upper_median(&odd), 0.3);
        let even: VecDeque<f64> = [0.4, 0.1, 0.3, 0.2].into_iter().collect();
        assert_eq!(upper_median(&even), 0.3);
    }
}
