//! The closed-form KL(q ‖ p) of one site, with a Monte Carlo fallback.

use crate::elbo::elbo_loss;
use crate::util::check_site;
use crate::{DivFn, LossError};
use infer_ad::{Tensor, Var};
use infer_dist::{Distribution, has_closed_form_kl, kl_divergence};

/// The KL divergence from the approximating distribution to the prior,
///
/// KL(q ‖ p) = E_q[ln q(x) − ln p(x)],
///
/// in closed form (summed over the batch) when `infer_dist` has one for the pair and it is
/// finite; otherwise [`crate::elbo_loss`] at `value`, its Monte Carlo estimate. See
/// [`analytical_kl_divergence_loss_with`] to choose the fallback.
///
/// This is the direction of the seed's formula and the one the ELBO needs; the Python
/// original computes KL(p ‖ q) instead (a deliberate correction).
///
/// # Errors
/// [`LossError::Dist`] from the closed form or the fallback.
///
/// # Examples
/// The seed's example: KL(N(1, 1) ‖ N(0, 1)) = 0.5.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::Normal;
/// let tape = Tape::new();
/// let p = Normal::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let kl = infer_loss::analytical_kl_divergence_loss(&p, &q, tape.var(1.0).as_tensor())?;
/// assert!((kl.value() - 0.5).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analytical_kl_divergence_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    analytical_kl_divergence_loss_with(p_dist, q_dist, value, elbo_loss)
}

/// [`analytical_kl_divergence_loss`] with the fallback `backup_loss_fn(p, q, value)` used
/// when the pair has no closed form or it is not finite.
///
/// # Errors
/// [`LossError::Dist`] from the closed form; whatever the fallback returns.
///
/// # Examples
/// Normal–Cauchy has no closed form, so the fallback runs:
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Normal};
/// use infer_loss::{analytical_kl_divergence_loss_with, prior_loss};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let x = tape.var(1.0).as_tensor();
/// let loss = analytical_kl_divergence_loss_with(&p, &q, x, prior_loss)?;
/// assert!((loss.value() - (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analytical_kl_divergence_loss_with<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
    backup_loss_fn: DivFn,
) -> Result<Var<'t>, LossError> {
    check_site(
        "analytical_kl_divergence_loss_with",
        &[p_dist, q_dist],
        value,
    )?;
    if has_closed_form_kl(q_dist, p_dist) {
        let kl = kl_divergence(q_dist, p_dist)?.sum();
        if kl.value().is_finite() {
            return Ok(kl);
        }
    }
    backup_loss_fn(p_dist, q_dist, value)
}
