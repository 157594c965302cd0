//! The prior-only loss of one site: `−ln p(x)`.

use crate::LossError;
use crate::util::check_site;
use infer_ad::{Tensor, Var};
use infer_dist::Distribution;

/// The loss of a site whose approximating distribution contributes nothing,
///
/// −ln p(x),
///
/// summed over the elements of `value`; `q_dist` is ignored (it is there so that the
/// function has the signature of a divergence, [`crate::DivFn`]). It is what a `Delta` q
/// (a point estimate) contributes in [`crate::vi_regularization`] and [`crate::vi_loss`]:
/// maximum a posteriori for that site.
///
/// # Errors
/// [`LossError::Dist`] when `value` does not broadcast against p's batch shape.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Normal};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let loss = infer_loss::prior_loss(&p, &q, tape.var(1.0).as_tensor())?;
/// assert!((loss.value() - 1.8379).abs() < 1e-4); // ln(2π)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prior_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    check_site("prior_loss", &[p_dist, q_dist], value)?;
    let _ = q_dist;
    Ok(-p_dist.log_prob_sum(value)?)
}
