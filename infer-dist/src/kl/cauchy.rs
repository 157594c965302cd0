//! KL divergences between Cauchy distributions (and half-Cauchy ones, which reduce to Cauchy
//! distributions centred at 0).
//!
//! KL(Cauchy(μp, γp) ‖ Cauchy(μq, γq)) = ln(((γp + γq)² + (μp − μq)²) / (4 γp γq))
//! (Chyzak & Nielsen 2019, arXiv:1905.10965; PyTorch `_kl_cauchy_cauchy`). The same formula
//! with both locations 0 gives the half-Cauchy divergence: both are the image of a Cauchy
//! centred at 0 under x ↦ |x| (PyTorch `_kl_transformed_transformed`).

use super::{joint_shape, kl, to_shape};
use crate::DistError;
use infer_ad::Tensor;

/// ln(((γp + γq)² + (μp − μq)²) / (4 γp γq)) as one fused node.
fn cauchy_cauchy<'t>(
    p_name: &'static str,
    mp: Tensor<'t>,
    sp: Tensor<'t>,
    mq: Tensor<'t>,
    sq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(p_name, p_name, &[mp, sp, mq, sq])?;
    let kl = mp
        .tape()
        .fused_map([mp, sp, mq, sq], |_, [mp, sp, mq, sq]| {
            let d = mp - mq;
            let s = sp + sq;
            let num = s * s + d * d;
            let v = (num / (4.0 * sp * sq)).ln();
            let ds = 2.0 * s / num;
            let dd = 2.0 * d / num;
            (v, [dd, ds - 1.0 / sp, -dd, ds - 1.0 / sq])
        })?;
    to_shape(kl, shape)
}

kl!(
    /// KL(Cauchy ‖ Cauchy) = ln(((γp + γq)² + (μp − μq)²) / (4 γp γq)) (Chyzak & Nielsen 2019).
    Cauchy, Cauchy, |p, q| cauchy_cauchy("Cauchy", p.loc(), p.scale(), q.loc(), q.scale())
);

kl!(
    /// KL(HalfCauchy(γp) ‖ HalfCauchy(γq)) = ln((γp + γq)² / (4 γp γq)).
    HalfCauchy, HalfCauchy, |p, q| {
        let zero = super::constant(p.scale(), 0.0);
        cauchy_cauchy("HalfCauchy", zero, p.scale(), zero, q.scale())
    }
);
