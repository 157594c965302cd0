//! Optimizers over a [`crate::ParamStore`] (SGD with momentum/Nesterov/weight decay, Adam with
//! optional AMSGrad), gradient clipping, and learning-rate schedules ([`StepLr`],
//! [`ExponentialLr`], [`CosineAnnealingLr`]).
//!
//! Every hyper-parameter is validated where it is set (constructors and setters), and every
//! step checks that the values and gradients it reads are finite before it changes anything:
//! an optimizer never turns finite input into NaN parameters.

mod adam;
mod clip;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use clip::clip_grad_norm;
pub use schedule::{CosineAnnealingLr, ExponentialLr, LrSchedule, StepLr};
pub use sgd::{Sgd, SgdConfig};

use crate::{AdError, ParamStore};

/// An optimizer updates parameter values from their accumulated gradients.
pub trait Optimizer {
    /// One update of every parameter in `params` from `params`' gradients.
    ///
    /// # Errors
    /// [`AdError::NonFinite`] naming the first parameter (and element) whose value or
    /// gradient is NaN or ±∞, or whose weight-decayed gradient `g + λθ` overflows; nothing
    /// is updated then (neither the parameters nor the optimizer's state).
    fn step(&mut self, params: &mut ParamStore) -> Result<(), AdError>;
}

/// An optimizer whose learning rate can be set between steps: what a learning-rate schedule
/// ([`LrSchedule`]) drives, by hand or through `infer_loss::Svi::with_schedule`.
///
/// # Examples
/// ```
/// use infer_ad::optim::{Adam, AdamConfig, LearningRate, LrSchedule, StepLr};
/// fn apply(opt: &mut impl LearningRate, s: &impl LrSchedule, epoch: u64) -> Result<(), infer_ad::AdError> {
///     opt.set_learning_rate(s.lr_at(epoch))
/// }
/// let mut adam = Adam::new(AdamConfig::default())?;
/// apply(&mut adam, &StepLr::new(0.1, 10, 0.5)?, 25)?;
/// assert_eq!(adam.config().lr, 0.025);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub trait LearningRate {
    /// Sets the learning rate for the following steps.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a negative or non-finite `lr`; the rate is then
    /// unchanged.
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), AdError>;
}

impl LearningRate for Adam {
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), AdError> {
        self.set_lr(lr)
    }
}

impl LearningRate for Sgd {
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), AdError> {
        self.set_lr(lr)
    }
}

pub(crate) fn check_hp(
    name: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), crate::AdError> {
    if ok {
        Ok(())
    } else {
        Err(crate::AdError::InvalidHyperParameter {
            name,
            value,
            reason,
        })
    }
}

/// A learning rate: finite and ≥ 0 (0 is allowed: warm-up schedules start there).
pub(crate) fn check_lr(lr: f64) -> Result<(), AdError> {
    check_hp(
        "lr",
        lr,
        lr >= 0.0 && lr.is_finite(),
        "must be ≥ 0 and finite",
    )
}

fn non_finite(what: &'static str, params: &ParamStore, i: usize, k: usize, v: f64) -> AdError {
    AdError::NonFinite {
        what,
        name: params.name(crate::ParamId(i)).to_owned(),
        index: k,
        value: v,
    }
}

/// [`AdError::NonFinite`] for the first gradient element that is NaN or ±∞.
pub(crate) fn check_finite_grads(params: &ParamStore) -> Result<(), AdError> {
    for id in params.ids() {
        if let Some((k, &v)) = params
            .grad(id)
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(non_finite("gradient", params, id.index(), k, v));
        }
    }
    Ok(())
}

/// Before an update: every value, gradient and weight-decayed gradient `g + λθ` is finite
/// (else [`AdError::NonFinite`] naming the first offender). Normalizes every parameter's
/// layout on the way (see [`ParamStore::value_and_grad_mut`]).
pub(crate) fn check_step_input(params: &mut ParamStore, weight_decay: f64) -> Result<(), AdError> {
    for i in 0..params.len() {
        let (val, grad) = params.value_and_grad_mut(i);
        let bad = val.iter().zip(grad).enumerate().find_map(|(k, (&v, &g))| {
            if !v.is_finite() {
                Some(("value", k, v))
            } else if !g.is_finite() {
                Some(("gradient", k, g))
            } else if !(g + weight_decay * v).is_finite() {
                Some(("weight-decayed gradient", k, g + weight_decay * v))
            } else {
                None
            }
        });
        if let Some((what, k, v)) = bad {
            return Err(non_finite(what, params, i, k, v));
        }
    }
    Ok(())
}

/// Clamps to the finite range. The optimizers' updates combine finite numbers with weights
/// whose sum is at most one, so the exact result is finite and only rounding can push it one
/// step past `f64::MAX`; a momentum buffer, which can legitimately outgrow the range,
/// saturates instead of becoming ∞ (so that a zero learning rate still leaves the parameters
/// unchanged, and no ∞ − ∞ arises).
#[inline(always)]
pub(crate) fn saturate(x: f64) -> f64 {
    x.clamp(-f64::MAX, f64::MAX)
}
