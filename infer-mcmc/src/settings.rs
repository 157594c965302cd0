//! Immutable sampler settings, every default as in CmdStan.

use crate::adapt::DualAveragingOptions;
use crate::error::{McmcError, check};
use crate::metric::MetricKind;
use crate::nuts::NutsOptions;

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
        }
    }
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
    /// Random inits tried before giving up. Default 100.
    pub max_init_tries: usize,
    /// Warmup constants. Default [`AdaptSettings::default`].
    pub adapt: AdaptSettings,
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
        }
    }
}

impl SamplerSettings {
    /// Checks every field.
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
        check(self.thin >= 1, "thin", self.thin as f64, ">= 1")?;
        check(
            self.max_init_tries >= 1,
            "max_init_tries",
            self.max_init_tries as f64,
            ">= 1",
        )?;
        check(
            self.init_radius >= 0.0 && self.init_radius.is_finite(),
            "init_radius",
            self.init_radius,
            "finite and >= 0",
        )?;
        crate::nuts::check_step_size(self.initial_step_size).map_err(|_| {
            McmcError::InvalidSetting {
                name: "initial_step_size",
                value: self.initial_step_size,
                expected: "finite and > 0",
            }
        })?;
        check(
            self.target_accept > 0.0 && self.target_accept < 1.0,
            "target_accept",
            self.target_accept,
            "in (0, 1)",
        )?;
        self.nuts_options().validate()?;
        self.dual_averaging_options().validate()?;
        if let Algorithm::StaticHmc { num_steps } = self.algorithm {
            check(num_steps >= 1, "num_steps", num_steps as f64, ">= 1")?;
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
