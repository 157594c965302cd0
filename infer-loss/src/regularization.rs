//! The VI regularization term: a divergence summed over sites.

use crate::LossError;
use crate::prior::prior_loss;
use crate::util::{add, check_len, finish, is_delta};
use infer_ad::{Tensor, Var};
use infer_dist::Distribution;

/// A per-site divergence `div_fn(p, q, value)`: [`crate::elbo_loss`],
/// [`crate::elbo_path_derivative_loss`], [`crate::elbo_entropy_loss`],
/// [`crate::analytical_kl_divergence_loss`], [`crate::prior_loss`], … or a function of
/// your own with this signature.
pub type DivFn = for<'t> fn(
    &dyn Distribution<'t>,
    &dyn Distribution<'t>,
    Tensor<'t>,
) -> Result<Var<'t>, LossError>;

/// The regularization term of VI: `Σᵢ div_fn(pᵢ, qᵢ, xᵢ)`, where a site whose q is a
/// `Delta` (a point estimate) contributes its [`crate::prior_loss`] instead.
///
/// # Errors
/// [`LossError::LengthMismatch`] when the lists differ in length; [`LossError::Empty`] for
/// empty lists; whatever `div_fn` returns.
///
/// # Examples
/// The seed's example: five Cauchy(0, 1) priors, five N(0, 1) q's, values 0, …, 4.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, Normal};
/// use infer_loss::{elbo_loss, vi_regularization};
/// let tape = Tape::new();
/// let (zero, one) = (tape.var(0.0), tape.var(1.0));
/// let p = Cauchy::new(zero, one)?;
/// let q = Normal::new(zero, one)?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let q_dists: Vec<&dyn Distribution> = vec![&q; 5];
/// let values: Vec<_> = (0..5).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let loss = vi_regularization(&p_dists, &q_dists, &values, elbo_loss)?;
/// assert!((loss.value() + 6.4327).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vi_regularization<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    div_fn: crate::DivFn,
) -> Result<Var<'t>, LossError> {
    check_len("vi_regularization q_dists", p_dists.len(), q_dists.len())?;
    check_len("vi_regularization values", p_dists.len(), values.len())?;
    let sum = regularization_sum(p_dists, q_dists, values, None, div_fn)?;
    finish(sum, "vi_regularization")
}

/// `Σ div_fn` over the sites with `skip[i] == false` (all when `None`). Lengths must have
/// been checked.
pub(crate) fn regularization_sum<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    skip: Option<&[bool]>,
    div_fn: crate::DivFn,
) -> Result<Option<Var<'t>>, LossError> {
    let mut acc = None;
    for i in 0..p_dists.len() {
        if skip.is_some_and(|s| s[i]) {
            continue;
        }
        let (p, q, x) = (p_dists[i], q_dists[i], values[i]);
        let term = if is_delta(q) {
            prior_loss(p, q, x)?
        } else {
            div_fn(p, q, x)?
        };
        acc = add(acc, term)?;
    }
    Ok(acc)
}
