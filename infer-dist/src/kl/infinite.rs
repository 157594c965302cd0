//! Pairs whose KL divergence is +∞ for every parameter value because the support of p is not
//! contained in that of q (PyTorch `_kl_normal_infinity`, `_kl_laplace_infinity`,
//! `_kl_gumbel_infinity`, `_kl_exponential_infinity`, `_kl_gamma_infinity`,
//! `_kl_beta_infinity`, `_kl_pareto_infinity`, `_kl_poisson_infinity`).

use super::kl;
use crate::DistError;
#[allow(unused_imports)]
use crate::Distribution as _;
#[allow(unused_imports)]
use crate::bind::Kernel as _;
use infer_ad::{Shape, Tape, Tensor};

/// +∞ over the broadcast batch shape of p and q, on `tape` (a constant: gradient 0).
fn infinite<'t>(
    (p, ps): (&'static str, Shape),
    (q, qs): (&'static str, Shape),
    tape: &'t Tape,
) -> Result<Tensor<'t>, DistError> {
    let shape = ps.broadcast(&qs).map_err(|_| DistError::ShapeMismatch {
        dist: p,
        what: "KL divergence: batch shapes of p and q",
        left: ps,
        right: qs,
    })?;
    let _ = q;
    let inf = ndarray::ArrayD::from_elem(ndarray::IxDyn(shape.dims()), f64::INFINITY);
    Ok(tape.constant(&inf))
}

macro_rules! infinite_pairs {
    ($($p:ident => [$($q:ident),*];)*) => {$($(
        kl!(
            /// +∞: the support of p is not contained in that of q (PyTorch's `_infinite_like`).
            $p, $q, |p, q, tape| infinite((p.name(), p.batch_shape()), (q.name(), q.batch_shape()), tape)
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
