//! Optimizers over a [`crate::ParamStore`] (SGD with momentum/Nesterov/weight decay, Adam with
//! optional AMSGrad) and gradient clipping.

mod adam;
mod clip;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use clip::clip_grad_norm;
pub use sgd::{Sgd, SgdConfig};

use crate::ParamStore;

/// An optimizer updates parameter values from their accumulated gradients.
pub trait Optimizer {
    /// One update of every parameter in `params` from `params`' gradients.
    fn step(&mut self, params: &mut ParamStore);
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
