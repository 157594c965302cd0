//! Gradient clipping by global norm.

use super::check_finite_grads;
use crate::{AdError, ParamStore};

/// Rescales all gradients so that their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`: factor `max_norm / (norm + 1e-6)` when it is below 1). Returns the norm
/// before clipping. The norm is computed without overflow or underflow of the squares
/// (see [`ParamStore::grad_norm`]), so huge finite gradients are clipped correctly; it is
/// returned as ∞ when it exceeds `f64::MAX`, and the clipped gradients are still finite.
///
/// # Errors
/// [`AdError::InvalidHyperParameter`] when `max_norm` is not positive and finite;
/// [`AdError::NonFinite`] naming the first parameter (and element) whose gradient is NaN or
/// ±∞ — the gradients are left unchanged.
///
/// # Examples
/// ```
/// use infer_ad::{AdError, ParamStore, optim::clip_grad_norm};
/// let mut s = ParamStore::new();
/// let id = s.add("w", ndarray::arr1(&[0.0, 0.0]))?;
/// s.grad_mut(id).assign(&ndarray::arr1(&[3.0, 4.0]).into_dyn());
/// let before = clip_grad_norm(&mut s, 1.0)?;
/// assert_eq!(before, 5.0);
/// assert!((s.grad_norm() - 1.0).abs() < 1e-6);
/// s.grad_mut(id)[0] = f64::INFINITY;
/// assert!(matches!(clip_grad_norm(&mut s, 1.0), Err(AdError::NonFinite { .. })));
/// # Ok::<(), AdError>(())
/// ```
pub fn clip_grad_norm(params: &mut ParamStore, max_norm: f64) -> Result<f64, AdError> {
    if !(max_norm > 0.0 && max_norm.is_finite()) {
        return Err(AdError::InvalidHyperParameter {
            name: "max_norm",
            value: max_norm,
            reason: "must be positive and finite",
        });
    }
    check_finite_grads(params)?;
    // norm = scaled / scale with `scale` a power of two (1 unless the gradients are huge or
    // tiny), and factor = max_norm / (norm + 1e-6) = scale · max_norm / (scaled + 1e-6 · scale):
    // the gradients are multiplied by `scale` (exact) and then by `f`, so nothing overflows.
    let (scaled, scale) = params.scaled_grad_norm();
    let f = max_norm / (scaled + 1e-6 * scale);
    // factor < 1  ⇔  f · scale < 1  ⇔  f < 1 / scale (exact: a power of two)
    if f < 1.0 / scale {
        let ids: Vec<_> = params.ids().collect();
        for id in ids {
            params.grad_mut(id).mapv_inplace(|g| (g * scale) * f);
        }
    }
    Ok(scaled / scale)
}
