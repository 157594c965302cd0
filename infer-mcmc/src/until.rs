//! Sampling until convergence targets are met: every parameter's bulk and tail ESS and its
//! R̂, checked every `check_every` draws per chain, with a cap on the draws.
//!
//! [`Sampler::sample_until`] runs the sampler's settings (warmup and `num_samples` draws),
//! then continues the chains with [`Sampler::extend`] `check_every` draws at a time until the
//! [`SamplingTarget`] holds or `max_samples` is reached. Because `extend` continues each chain
//! exactly where it stopped, the result is the run an uninterrupted sampler would have given
//! with the final number of draws: stopping early changes how long the chains are, never
//! their draws. (A stopping rule based on the draws does select the length from the draws; the
//! targets are the diagnostics' own thresholds, so a run stopped this way is one whose
//! diagnostics pass — it does not make them pass.)
//!
//! This is what users of Stan and cmdstanr have asked for (cmdstanr#426): sample until bulk
//! and tail ESS reach a target (Vehtari et al. 2021 recommend ≥ 100 per chain, 400 in all for
//! 4 chains) and R̂ ≤ 1.01.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
//! use infer_mcmc::until::SamplingTarget;
//!
//! let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 100,
//!                                  seed: 3, ..SamplerSettings::default() };
//! let target = SamplingTarget { ess_bulk: 600.0, ess_tail: 400.0, ..SamplingTarget::default() };
//! let (fit, report) = Sampler::new(settings)?.sample_until(&target, |_| Gauss::new(3))?;
//! assert!(report.met);
//! assert_eq!(fit.num_draws(), report.num_samples);
//! assert!(report.worst_ess_bulk >= 600.0 && report.worst_rhat <= 1.01);
//! # Ok::<(), infer_mcmc::McmcError>(())
//! ```
//!
//! # References
//!
//! - Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), *Rank-normalization, folding, and
//!   localization: an improved R̂ for assessing convergence of MCMC*, Bayesian Analysis 16(2):
//!   the bulk/tail ESS and R̂ used here and their recommended thresholds.

use crate::density::LogDensity;
use crate::diagnostics::{ess_bulk, ess_tail, rhat};
use crate::error::McmcError;
use crate::fit::Fit;
use crate::layout::Block;
use crate::model::{Model, tape_models};
use crate::observer::Observer;
use crate::sampler::Sampler;

/// When [`Sampler::sample_until`] may stop: every parameter (the `parameters` block of the
/// layout, element by element) has bulk ESS ≥ `ess_bulk`, tail ESS ≥ `ess_tail` and R̂ ≤
/// `max_rhat` (R̂ is not checked with one chain, where it is undefined).
///
/// # Examples
///
/// ```
/// use infer_mcmc::until::SamplingTarget;
///
/// let t = SamplingTarget::default();
/// assert_eq!((t.ess_bulk, t.ess_tail, t.max_rhat), (400.0, 400.0, 1.01));
/// assert_eq!((t.check_every, t.max_samples), (100, 10_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplingTarget {
    /// Minimum bulk ESS of every parameter element, over all chains (default 400).
    pub ess_bulk: f64,
    /// Minimum tail ESS (default 400).
    pub ess_tail: f64,
    /// Maximum rank-normalized split R̂ (default 1.01); `f64::INFINITY` for no R̂ target
    /// (stop on ESS alone, e.g. to keep R̂ as an independent check of the result).
    pub max_rhat: f64,
    /// Sampling draws per chain added between checks (default 100).
    pub check_every: usize,
    /// The cap on the sampling draws per chain (default 10 000); the run stops there even if
    /// the targets are not met ([`TargetReport::met`] is then false).
    pub max_samples: usize,
}

impl Default for SamplingTarget {
    fn default() -> Self {
        Self {
            ess_bulk: 400.0,
            ess_tail: 400.0,
            max_rhat: 1.01,
            check_every: 100,
            max_samples: 10_000,
        }
    }
}

impl SamplingTarget {
    /// Checks the target against the sampler's first `num_samples`.
    fn validate(&self, num_samples: usize) -> Result<(), McmcError> {
        let bad = |name, value: f64, expected| {
            Err(McmcError::InvalidSetting {
                name,
                value,
                expected,
            })
        };
        if !(self.ess_bulk.is_finite() && self.ess_bulk > 0.0) {
            return bad("ess_bulk", self.ess_bulk, "a finite number > 0");
        }
        if !(self.ess_tail.is_finite() && self.ess_tail > 0.0) {
            return bad("ess_tail", self.ess_tail, "a finite number > 0");
        }
        if !(self.max_rhat >= 1.0) {
            return bad("max_rhat", self.max_rhat, "a number ≥ 1 (∞: no R̂ target)");
        }
        if self.check_every == 0 {
            return bad("check_every", 0.0, "at least 1 draw");
        }
        if self.max_samples < num_samples.max(4) {
            return bad(
                "max_samples",
                self.max_samples as f64,
                "at least the sampler's num_samples (and 4)",
            );
        }
        Ok(())
    }
}

/// What [`Sampler::sample_until`] found at its last check.
///
/// # Examples
///
/// See [the module documentation](crate::until).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TargetReport {
    /// Whether every target holds for the returned draws.
    pub met: bool,
    /// Sampling draws per chain of the returned fit.
    pub num_samples: usize,
    /// How many times the targets were checked.
    pub checks: usize,
    /// The smallest bulk ESS over the parameters, and whose it is.
    pub worst_ess_bulk: f64,
    /// The smallest tail ESS.
    pub worst_ess_tail: f64,
    /// The largest R̂ (`NaN` with one chain).
    pub worst_rhat: f64,
    /// The parameter element with the smallest bulk ESS (Stan's name, `theta[2]`).
    pub worst_name: String,
}

impl<O: Observer> Sampler<O> {
    /// Samples with this sampler's settings, then continues the chains `check_every` draws
    /// at a time until `target` holds or `max_samples` draws per chain are reached; see
    /// [the module documentation](crate::until). The draws are those of one uninterrupted run
    /// of the returned length.
    ///
    /// # Examples
    ///
    /// See [the module documentation](crate::until).
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for a target that is not finite and positive, an R̂ bound
    /// below 1, `check_every` = 0 or `max_samples` below the settings' `num_samples`;
    /// otherwise as [`Sampler::sample`] and [`Sampler::extend`].
    pub fn sample_until<M, F>(
        &self,
        target: &SamplingTarget,
        make_model: F,
    ) -> Result<(Fit, TargetReport), McmcError>
    where
        M: LogDensity,
        F: Fn(usize) -> M + Sync,
    {
        target.validate(self.settings().num_samples)?;
        let mut fit = self.sample(&make_model)?;
        let mut checks = 0;
        loop {
            checks += 1;
            let report = check(&fit, target, checks)?;
            let done = fit.settings.num_samples;
            if report.met || done >= target.max_samples {
                return Ok((fit, report));
            }
            let more = target.check_every.min(target.max_samples - done);
            fit = self.extend(&fit, more, &make_model)?;
        }
    }

    /// [`Sampler::sample_until`] for a [`Model`], as [`Sampler::sample_model`] samples one.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Sampler, SamplerSettings};
    /// use infer_dist::Constraint;
    /// use infer_mcmc::LogDensityError;
    /// use infer_mcmc::model::{Model, Params};
    /// use infer_mcmc::until::SamplingTarget;
    /// use infer_ad::Var;
    ///
    /// struct Std;
    /// impl Model for Std {
    ///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
    ///         let x = p.scalar("x", Constraint::Real)?;
    ///         Ok(-0.5 * x * x)
    ///     }
    /// }
    /// let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 100,
    ///                                  ..SamplerSettings::default() };
    /// let (fit, report) = Sampler::new(settings)?
    ///     .sample_model_until(&SamplingTarget::default(), &Std)?;
    /// assert!(report.met && report.worst_name == "x");
    /// assert_eq!(fit.num_draws(), report.num_samples);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Sampler::sample_until`] and [`Sampler::sample_model`].
    pub fn sample_model_until<M: Model + Sync>(
        &self,
        target: &SamplingTarget,
        model: &M,
    ) -> Result<(Fit, TargetReport), McmcError> {
        self.sample_until(target, tape_models(model)?)
    }
}

/// The diagnostics of every parameter element of `fit` against `target`.
fn check(fit: &Fit, target: &SamplingTarget, checks: usize) -> Result<TargetReport, McmcError> {
    let mut report = TargetReport {
        met: true,
        num_samples: fit.num_draws(),
        checks,
        worst_ess_bulk: f64::INFINITY,
        worst_ess_tail: f64::INFINITY,
        worst_rhat: if fit.num_chains() > 1 { 1.0 } else { f64::NAN },
        worst_name: String::new(),
    };
    let names = fit.param_names();
    let diagnostics_error = |name: &str, source| McmcError::Diagnostics {
        name: name.to_owned(),
        source,
    };
    for entry in fit.layout.entries() {
        if entry.block != Block::Parameter {
            continue;
        }
        for column in entry.columns() {
            let name = &names[column];
            let Some(draws) = fit.param_draws(column) else {
                continue;
            };
            let bulk = ess_bulk(draws.view()).map_err(|e| diagnostics_error(name, e))?;
            let tail = ess_tail(draws.view()).map_err(|e| diagnostics_error(name, e))?;
            // NaN (a constant column) fails every comparison below: the target is not met.
            report.met &= bulk >= target.ess_bulk && tail >= target.ess_tail;
            if fit.num_chains() > 1 {
                let r = rhat(draws.view()).map_err(|e| diagnostics_error(name, e))?;
                report.met &= r <= target.max_rhat;
                if !(r <= report.worst_rhat) {
                    report.worst_rhat = r;
                }
            }
            if !(bulk >= report.worst_ess_bulk) {
                report.worst_ess_bulk = bulk;
                report.worst_name.clone_from(name);
            }
            if !(tail >= report.worst_ess_tail) {
                report.worst_ess_tail = tail;
            }
        }
    }
    Ok(report)
}
