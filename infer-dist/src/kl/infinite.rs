//! Pairs whose KL divergence is +∞ for every parameter value because the support of p is not
//! contained in that of q (PyTorch `_kl_normal_infinity`, `_kl_laplace_infinity`,
//! `_kl_gumbel_infinity`, `_kl_exponential_infinity`, `_kl_gamma_infinity`,
//! `_kl_beta_infinity`, `_kl_pareto_infinity`, `_kl_poisson_infinity`).

use super::kl;
use crate::{DistError, Distribution};
use infer_ad::Tensor;

/// +∞ over the broadcast batch shape of `p` and `q` (a constant: gradient 0).
fn infinite<'t>(
    p: &dyn Distribution<'t>,
    q: &dyn Distribution<'t>,
) -> Result<Tensor<'t>, DistError> {
    let params: Vec<Tensor<'t>> = p
        .params()
        .into_iter()
        .chain(q.params())
        .map(|(_, t)| t)
        .collect();
    let Some(first) = params.first() else {
        return Err(DistError::NoClosedForm {
            p: p.name(),
            q: q.name(),
        });
    };
    let shape =
        p.batch_shape()
            .broadcast(&q.batch_shape())
            .map_err(|_| DistError::ShapeMismatch {
                dist: p.name(),
                what: "KL divergence: batch shapes of p and q",
                left: p.batch_shape(),
                right: q.batch_shape(),
            })?;
    let inf = ndarray::ArrayD::from_elem(ndarray::IxDyn(shape.dims()), f64::INFINITY);
    Ok(first.tape().constant(&inf))
}

macro_rules! infinite_pairs {
    ($($p:ident => [$($q:ident),*];)*) => {$($(
        kl!(
            /// +∞: the support of p is not contained in that of q (PyTorch's `_infinite_like`).
            $p, $q, |p, q| infinite(p, q)
        );
    )*)*};
}

infinite_pairs! {
    Normal => [Exponential, Gamma, Chi2, Beta, Pareto, Uniform];
    Laplace => [Exponential, Gamma, Chi2, Beta, Pareto, Uniform];
    Gumbel => [Exponential, Gamma, Chi2, Beta, Pareto, Uniform];
    Exponential => [Beta, Pareto, Uniform];
    Gamma => [Beta, Pareto, Uniform];
    Chi2 => [Beta, Pareto, Uniform];
    Beta => [Pareto];
    Pareto => [Beta, Uniform];
    Poisson => [Bernoulli, Binomial];
}
