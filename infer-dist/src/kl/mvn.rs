//! KL divergence between multivariate normal distributions given by their Cholesky factors.
//!
//! KL(N(μp, LpLpᵀ) ‖ N(μq, LqLqᵀ)) = Σ ln diag(Lq) − Σ ln diag(Lp) +
//! ½(‖Lq⁻¹Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − n)
//! (PyTorch `_kl_multivariatenormal_multivariatenormal`; the triangular solves are single
//! tape nodes). As in PyTorch, `Lq⁻¹Lp` reads the whole of `Lp` (so the gradient of the zero
//! upper triangle of `Lp` is reported, as autograd does) and only the lower triangle of `Lq`.

use super::kl;
use crate::DistError;
use infer_ad::{Shape, Tensor, Var};

/// The divergence for one (unbatched) pair.
fn single<'t>(
    mp: Tensor<'t>,
    lp: Tensor<'t>,
    mq: Tensor<'t>,
    lq: Tensor<'t>,
) -> Result<Var<'t>, DistError> {
    let n = mp.numel() as f64;
    let half_logdet = lq.diag()?.ln().sum() - lp.diag()?.ln().sum();
    let m = lq.tri_solve(lp, true)?;
    let v = lq.tri_solve(mq - mp, true)?;
    Ok(half_logdet + (m.square().sum() + v.square().sum() - n) * 0.5)
}

/// Element `i` of the batch `batch` of a tensor whose trailing `event` dimensions are the
/// event (broadcast first).
fn batch_item<'t>(
    t: Tensor<'t>,
    batch: Shape,
    event: &[usize],
    i: usize,
) -> Result<Tensor<'t>, DistError> {
    let mut full = batch.dims().to_vec();
    full.extend_from_slice(event);
    let b = t.broadcast_to(Shape::new(&full)?)?;
    let mut flat = vec![batch.numel()];
    flat.extend_from_slice(event);
    Ok(b.reshape(&flat)?.index_axis(0, i)?)
}

kl!(
    /// KL(MultivariateNormal ‖ MultivariateNormal) from the Cholesky factors (PyTorch
    /// `_kl_multivariatenormal_multivariatenormal`); batches broadcast.
    MultivariateNormal, MultivariateNormal, |p, q| {
        let (mp, lp, mq, lq) = (p.loc(), p.scale_tril(), q.loc(), q.scale_tril());
        let n = mp.dims().last().copied().unwrap_or(0);
        let event_ok = mp.ndim() >= 1
            && mq.dims().last() == Some(&n)
            && lp.ndim() >= 2
            && lq.ndim() >= 2
            && lp.dims()[lp.ndim() - 2..] == [n, n]
            && lq.dims()[lq.ndim() - 2..] == [n, n];
        if !event_ok {
            return Err(DistError::ShapeMismatch {
                dist: "MultivariateNormal",
                what: "KL divergence: event shapes of p and q",
                left: lp.shape(),
                right: lq.shape(),
            });
        }
        if mp.ndim() == 1 && mq.ndim() == 1 && lp.ndim() == 2 && lq.ndim() == 2 {
            return Ok(single(mp, lp, mq, lq)?.as_tensor());
        }
        let drop = |t: Tensor<'t>, k: usize| Shape::new(&t.dims()[..t.ndim() - k]);
        let mut batch = Shape::SCALAR;
        for s in [drop(mp, 1)?, drop(mq, 1)?, drop(lp, 2)?, drop(lq, 2)?] {
            batch = batch.broadcast(&s).map_err(|_| DistError::ShapeMismatch {
                dist: "MultivariateNormal",
                what: "KL divergence: batch shapes of p and q",
                left: batch,
                right: s,
            })?;
        }
        let tape = mp.tape();
        let mut out = Vec::with_capacity(batch.numel());
        for i in 0..batch.numel() {
            out.push(single(
                batch_item(mp, batch, &[n], i)?,
                batch_item(lp, batch, &[n, n], i)?,
                batch_item(mq, batch, &[n], i)?,
                batch_item(lq, batch, &[n, n], i)?,
            )?);
        }
        Ok(tape.stack_vars(&out)?.reshape(batch.dims())?)
    }
);
