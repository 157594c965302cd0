//! Log likelihoods (and their negatives) of lists of distributions at values.

use crate::LossError;
use crate::util::{add, check_len, finish};
use infer_ad::{Tensor, Var};
use infer_dist::Distribution;

/// `Σ ln p(value)` over the elements of `value`: the log likelihood of one site.
///
/// # Errors
/// [`LossError::Dist`] when `value` does not broadcast against p's batch shape.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::Normal;
/// let tape = Tape::new();
/// let p = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let lp = infer_loss::log_prob_loss(&p, tape.var(0.0).as_tensor())?;
/// assert!((lp.value() + 1.4189).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_prob_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    Ok(p_dist.log_prob_sum(value)?)
}

/// `−Σ ln p(value)`: the negative log likelihood of one site.
///
/// # Errors
/// [`LossError::Dist`] when `value` does not broadcast against p's batch shape.
///
/// # Examples
/// The seed's example: `negative_log_prob_loss(Normal(1, 1), 0)` = 1.4189.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::Normal;
/// let tape = Tape::new();
/// let p = Normal::new(tape.var(1.0), tape.var(1.0))?;
/// let nll = infer_loss::negative_log_prob_loss(&p, tape.var(0.0).as_tensor())?;
/// assert!((nll.value() - 1.4189).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negative_log_prob_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    Ok(-p_dist.log_prob_sum(value)?)
}

/// `Σᵢ Σ ln pᵢ(xᵢ)`: the log joint of several sites. With observed values only it is the
/// log likelihood (maximum likelihood); with the latent values too, the log posterior up to
/// a constant (maximum a posteriori).
///
/// # Errors
/// [`LossError::LengthMismatch`] when the lists differ in length; [`LossError::Empty`] for
/// empty lists; [`LossError::Dist`] as [`Distribution::log_prob_sum`].
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(2.0), tape.var(2.0))?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let values: Vec<_> = (1..6).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let lp = infer_loss::log_prob(&p_dists, &values)?;
/// assert!((lp.value() + 11.5075).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_prob<'t>(
    p_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
) -> Result<Var<'t>, LossError> {
    check_len("log_prob values", p_dists.len(), values.len())?;
    finish(log_prob_sum(p_dists, values, None)?, "log_prob")
}

/// `−Σᵢ Σ ln pᵢ(xᵢ)`: the negative log joint of several sites.
///
/// # Errors
/// As [`log_prob`].
///
/// # Examples
/// The seed's example: five Cauchy(2, 2) at 1, …, 5 give 11.5075.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution};
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(2.0), tape.var(2.0))?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let values: Vec<_> = (1..6).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let nll = infer_loss::negative_log_prob(&p_dists, &values)?;
/// assert!((nll.value() - 11.5075).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negative_log_prob<'t>(
    p_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
) -> Result<Var<'t>, LossError> {
    check_len("negative_log_prob values", p_dists.len(), values.len())?;
    let lp = finish(log_prob_sum(p_dists, values, None)?, "negative_log_prob")?;
    Ok(-lp)
}

/// `Σ ln pᵢ(xᵢ)` over the sites with `only[i] == true` (all when `None`). Lengths must have
/// been checked.
pub(crate) fn log_prob_sum<'t>(
    p_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    only: Option<&[bool]>,
) -> Result<Option<Var<'t>>, LossError> {
    let mut acc = None;
    for i in 0..p_dists.len() {
        if only.is_some_and(|o| !o[i]) {
            continue;
        }
        acc = add(acc, p_dists[i].log_prob_sum(values[i])?)?;
    }
    Ok(acc)
}
