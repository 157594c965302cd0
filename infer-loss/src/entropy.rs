//! The ELBO of one site with q's entropy in closed form: `−(ln p(x) + H[q])`.

use crate::LossError;
use crate::util::reject_delta;
use infer_ad::{Tensor, Var, check_same_tape};
use infer_dist::Distribution;

/// The negative ELBO of one site with the entropy of q in closed form,
///
/// −(ln p(x) + H\[q\]),
///
/// summed over the elements of `value` and of q's batch. E_q\[−ln q\] = H\[q\], so its
/// expectation equals that of [`crate::elbo_loss`]; the q-part of its gradient has no
/// Monte Carlo noise.
///
/// # Errors
/// [`LossError::DeltaNotSupported`] for a `Delta` p or q; [`LossError::Dist`] when q does not
/// define its entropy or `value` does not broadcast against p's batch shape.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Normal};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let loss = infer_loss::elbo_entropy_loss(&p, &q, tape.var(1.0).as_tensor())?;
/// // ln(2π) − (½ + ½ ln 2π)
/// let want = (2.0 * std::f64::consts::PI).ln() * 0.5 - 0.5;
/// assert!((loss.value() - want).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn elbo_entropy_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    reject_delta("elbo_entropy_loss", p_dist, q_dist)?;
    let lp = p_dist.log_prob_sum(value)?;
    let h = q_dist.entropy()?.sum();
    // The only combination of p's and q's terms not made by a checked tape operation.
    check_same_tape("elbo_entropy_loss", lp.tape(), h.tape())?;
    Ok(-(lp + h))
}
