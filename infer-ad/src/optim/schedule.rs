//! Learning-rate schedules: step decay, exponential decay and cosine annealing, in the closed
//! forms of PyTorch's `StepLR`, `ExponentialLR` and `CosineAnnealingLR`
//! (`torch.optim.lr_scheduler`, the formulas of their documentation and of their
//! `_get_closed_form_lr`).
//!
//! A schedule is a pure function of the epoch (the number of optimizer steps taken so far, 0
//! for the first step, as PyTorch's `last_epoch` after `scheduler.step()` calls); set it
//! before each step through the optimizer's `set_lr` ([`super::Adam::set_lr`],
//! [`super::Sgd::set_lr`]):
//!
//! ```
//! use infer_ad::optim::{Adam, AdamConfig, CosineAnnealingLr, LrSchedule, Optimizer};
//! use infer_ad::{ParamStore, Tape};
//! let mut store = ParamStore::new();
//! let w = store.add("w", ndarray::arr1(&[3.0]))?;
//! let schedule = CosineAnnealingLr::new(0.1, 300, 0.0)?;
//! let mut adam = Adam::new(AdamConfig::default())?;
//! let mut tape = Tape::new();
//! for epoch in 0..300 {
//!     adam.set_lr(schedule.lr_at(epoch))?;
//!     tape.clear();
//!     let p = store.bind(&tape);
//!     (p[w] - 1.0).square().sum().backward();
//!     store.zero_grads();
//!     store.accumulate_grads(&p)?;
//!     adam.step(&mut store)?;
//! }
//! assert!((store.value(w)[0] - 1.0).abs() < 1e-2);
//! # Ok::<(), infer_ad::AdError>(())
//! ```

use super::{check_hp, check_lr};
use crate::AdError;

/// A learning rate as a function of the epoch.
///
/// # Examples
/// Any schedule, behind a trait object:
/// ```
/// use infer_ad::optim::{CosineAnnealingLr, ExponentialLr, LrSchedule, Sgd, SgdConfig, StepLr};
/// let schedules: Vec<Box<dyn LrSchedule>> = vec![
///     Box::new(StepLr::new(0.1, 10, 0.5)?),
///     Box::new(ExponentialLr::new(0.1, 0.99)?),
///     Box::new(CosineAnnealingLr::new(0.1, 100, 0.0)?),
/// ];
/// let mut sgd = Sgd::new(SgdConfig::default())?;
/// for s in &schedules {
///     assert!((s.lr_at(0) - 0.1).abs() < 1e-15);
///     sgd.set_lr(s.lr_at(50))?;
/// }
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub trait LrSchedule {
    /// The learning rate for epoch `epoch` (0 for the first optimizer step). With settings
    /// accepted by the schedule's constructor, the result is finite and ≥ 0, so the
    /// optimizers' `set_lr` accepts it.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{LrSchedule, StepLr};
    /// assert_eq!(StepLr::new(0.1, 10, 0.5)?.lr_at(25), 0.025);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    fn lr_at(&self, epoch: u64) -> f64;
}

/// `gamma`: in (0, 1] (a decay).
fn check_gamma(gamma: f64) -> Result<(), AdError> {
    check_hp(
        "gamma",
        gamma,
        gamma > 0.0 && gamma <= 1.0,
        "a decay factor must be in (0, 1]",
    )
}

/// A count of epochs (`step_size`, `t_max`): at least 1.
fn check_epochs(name: &'static str, n: u64) -> Result<(), AdError> {
    check_hp(name, n as f64, n >= 1, "must be at least 1")
}

/// `γᵏ` for a count `k`, without the `i32` range of `powi`.
fn pow(gamma: f64, k: u64) -> f64 {
    match i32::try_from(k) {
        Ok(k) => gamma.powi(k),
        // γ ∈ (0, 1]: beyond 2³¹ steps the power is 0 unless γ = 1
        Err(_) => gamma.powf(k as f64),
    }
}

/// Step decay (PyTorch's `StepLR`): `lr = base_lr · γ^⌊epoch / step_size⌋`, the rate
/// multiplied by γ every `step_size` epochs.
///
/// # Examples
/// ```
/// use infer_ad::optim::{LrSchedule, StepLr};
/// let s = StepLr::new(0.1, 30, 0.1)?;
/// assert_eq!(s.lr_at(29), 0.1);
/// assert!((s.lr_at(30) - 0.01).abs() < 1e-17);
/// assert!(StepLr::new(0.1, 0, 0.1).is_err());
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// A step decay from `base_lr`, by `gamma` every `step_size` epochs.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] naming `lr` (negative or not finite), `step_size`
    /// (0) or `gamma` (outside (0, 1]).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::StepLr;
    /// assert!(StepLr::new(0.1, 10, 0.5).is_ok());
    /// assert!(StepLr::new(0.1, 10, 1.5).is_err());
    /// assert!(StepLr::new(f64::NAN, 10, 0.5).is_err());
    /// ```
    pub fn new(base_lr: f64, step_size: u64, gamma: f64) -> Result<Self, AdError> {
        check_lr(base_lr)?;
        check_epochs("step_size", step_size)?;
        check_gamma(gamma)?;
        Ok(StepLr {
            base_lr,
            step_size,
            gamma,
        })
    }
}

impl LrSchedule for StepLr {
    fn lr_at(&self, epoch: u64) -> f64 {
        self.base_lr * pow(self.gamma, epoch / self.step_size)
    }
}

/// Exponential decay (PyTorch's `ExponentialLR`): `lr = base_lr · γ^epoch`.
///
/// # Examples
/// ```
/// use infer_ad::optim::{ExponentialLr, LrSchedule};
/// let s = ExponentialLr::new(0.1, 0.5)?;
/// assert_eq!(s.lr_at(0), 0.1);
/// assert_eq!(s.lr_at(3), 0.1 * 0.125);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// An exponential decay from `base_lr` by `gamma` per epoch.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] naming `lr` (negative or not finite) or `gamma`
    /// (outside (0, 1]).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::ExponentialLr;
    /// assert!(ExponentialLr::new(0.1, 0.0).is_err());
    /// assert!(ExponentialLr::new(-0.1, 0.9).is_err());
    /// ```
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self, AdError> {
        check_lr(base_lr)?;
        check_gamma(gamma)?;
        Ok(ExponentialLr { base_lr, gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr_at(&self, epoch: u64) -> f64 {
        self.base_lr * pow(self.gamma, epoch)
    }
}

/// Cosine annealing (PyTorch's `CosineAnnealingLR`; Loshchilov & Hutter 2017, SGDR, eq. 5
/// without restarts): `lr = η_min + (base_lr − η_min) · (1 + cos(π · epoch / t_max)) / 2`,
/// from `base_lr` at epoch 0 down to `η_min` at epoch `t_max`.
///
/// As PyTorch's closed form, the formula is applied beyond `t_max` too, where the rate rises
/// again (a period of `2·t_max`); stop at `t_max`, or pass `epoch.min(t_max)`, to hold it at
/// `η_min`.
///
/// # Examples
/// ```
/// use infer_ad::optim::{CosineAnnealingLr, LrSchedule};
/// let s = CosineAnnealingLr::new(0.1, 100, 0.001)?;
/// assert!((s.lr_at(0) - 0.1).abs() < 1e-15);
/// assert!((s.lr_at(50) - 0.0505).abs() < 1e-15);
/// assert!((s.lr_at(100) - 0.001).abs() < 1e-15);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
///
/// # References
/// Loshchilov, I. & Hutter, F. (2017). SGDR: Stochastic gradient descent with warm
/// restarts. ICLR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// A cosine annealing from `base_lr` to `eta_min` over `t_max` epochs.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] naming `lr` or `eta_min` (negative or not finite)
    /// or `t_max` (0).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::CosineAnnealingLr;
    /// assert!(CosineAnnealingLr::new(0.1, 0, 0.0).is_err());
    /// assert!(CosineAnnealingLr::new(0.1, 10, -1e-3).is_err());
    /// ```
    pub fn new(base_lr: f64, t_max: u64, eta_min: f64) -> Result<Self, AdError> {
        check_lr(base_lr)?;
        check_epochs("t_max", t_max)?;
        check_hp(
            "eta_min",
            eta_min,
            eta_min >= 0.0 && eta_min.is_finite(),
            "must be ≥ 0 and finite",
        )?;
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        })
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr_at(&self, epoch: u64) -> f64 {
        // cos is 2π-periodic: reduce the phase to [0, 2·t_max) first, so that a huge epoch
        // loses no precision in epoch / t_max
        let period = self.t_max.saturating_mul(2);
        let phase = (epoch % period) as f64 / self.t_max as f64;
        let lr = self.eta_min
            + (self.base_lr - self.eta_min) * (1.0 + (std::f64::consts::PI * phase).cos()) / 2.0;
        // rounding of the cosine cannot take it below the smaller end
        lr.max(0.0)
    }
}
