//! The pathwise ELBO term of one site: `−(ln p(x) − ln q(x))`.

use crate::LossError;
use infer_ad::{Tensor, Var};
use infer_dist::Distribution;

/// The negative evidence lower bound of one site at one draw,
///
/// −(ln p(x) − ln q(x)),
///
/// summed over the elements of `value`. With `x` a reparameterized draw from `q` (built on
/// the tape, e.g. by [`infer_dist::Reparameterizable::rsample`]) its expectation is
/// KL(q ‖ p) and its gradient is the unbiased reparameterization (pathwise) estimate of
/// ∇ KL(q ‖ p) (Kingma & Welling 2014). This is the default divergence of
/// [`crate::vi_loss`].
///
/// # Errors
/// [`LossError::Dist`] when `value` does not broadcast against a batch shape.
///
/// # Examples
/// The seed's example: `elbo_loss(Cauchy(0, 1), Normal(1, 1), 1)` = 0.9189.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Normal};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let loss = infer_loss::elbo_loss(&p, &q, tape.var(1.0).as_tensor())?;
/// assert!((loss.value() - 0.9189).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
pub fn elbo_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    let lp = p_dist.log_prob_sum(value)?;
    let lq = q_dist.log_prob_sum(value)?;
    Ok(lq - lp)
}
