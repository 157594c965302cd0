//! Gradient clipping by global norm.

use crate::{AdError, ParamStore};

/// Rescales all gradients so that their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`: factor `max_norm / (norm + 1e-6)` when it is below 1). Returns the norm
/// before clipping.
///
/// # Errors
/// [`AdError::InvalidHyperParameter`] when `max_norm` is not positive and finite.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, optim::clip_grad_norm};
/// let mut s = ParamStore::new();
/// let id = s.add("w", ndarray::arr1(&[0.0, 0.0]))?;
/// s.grad_mut(id).assign(&ndarray::arr1(&[3.0, 4.0]).into_dyn());
/// let before = clip_grad_norm(&mut s, 1.0)?;
/// assert_eq!(before, 5.0);
/// assert!((s.grad_norm() - 1.0).abs() < 1e-6);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub fn clip_grad_norm(params: &mut ParamStore, max_norm: f64) -> Result<f64, AdError> {
    if !(max_norm > 0.0 && max_norm.is_finite()) {
        return Err(AdError::InvalidHyperParameter {
            name: "max_norm",
            value: max_norm,
            reason: "must be positive and finite",
        });
    }
    let norm = params.grad_norm();
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        let ids: Vec<_> = params.ids().collect();
        for id in ids {
            params.grad_mut(id).mapv_inplace(|g| g * factor);
        }
    }
    Ok(norm)
}
