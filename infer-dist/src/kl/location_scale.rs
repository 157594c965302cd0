//! KL divergences from the normal, Laplace and Gumbel families (and from LogNormal and
//! HalfNormal, which reduce to Normal–Normal because both distributions are the same
//! bijective transform of normals).
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_normal_normal`, `_kl_normal_gumbel`,
//! `_kl_laplace_normal`, `_kl_laplace_laplace`, `_kl_gumbel_normal`, `_kl_gumbel_gumbel`,
//! `_kl_transformed_transformed`, `_kl_halfnormal_halfnormal`). Normal–Laplace keeps the
//! location term that PyTorch's early form dropped:
//! `KL = −½ ln(2πe σ²) + ln(2b) + E|X − m| / b` with
//! `E|X − m| = σ √(2/π) e^{−δ²/(2σ²)} + δ erf(δ/(σ√2))`, `δ = μ − m`.

use super::{EULER_GAMMA, constant, joint_shape, kl, to_shape};
use crate::DistError;
use infer_ad::Tensor;
use infer_ad::scalar::erf;
use std::f64::consts::{PI, SQRT_2};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// KL(N(μp, σp²) ‖ N(μq, σq²)) = ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½, as one fused node.
pub(crate) fn normal_normal<'t>(
    mp: Tensor<'t>,
    sp: Tensor<'t>,
    mq: Tensor<'t>,
    sq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape("Normal", "Normal", &[mp, sp, mq, sq])?;
    let kl = mp
        .tape()
        .fused_map([mp, sp, mq, sq], |_, [mp, sp, mq, sq]| {
            let d = mp - mq;
            let r2 = 1.0 / (sq * sq);
            let num = sp * sp + d * d;
            let v = (sq / sp).ln() + 0.5 * num * r2 - 0.5;
            (
                v,
                [
                    d * r2,
                    sp * r2 - 1.0 / sp,
                    -d * r2,
                    1.0 / sq - num * r2 / sq,
                ],
            )
        })?;
    to_shape(kl, shape)
}

kl!(
    /// KL(Normal ‖ Normal) = ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½ (PyTorch
    /// `_kl_normal_normal`).
    Normal, Normal, |p, q| normal_normal(p.loc(), p.scale(), q.loc(), q.scale())
);

kl!(
    /// KL(LogNormal ‖ LogNormal) = KL of the underlying normals (the same `exp` transform on
    /// both sides; PyTorch `_kl_transformed_transformed`).
    LogNormal, LogNormal, |p, q| normal_normal(p.loc(), p.scale(), q.loc(), q.scale())
);

kl!(
    /// KL(HalfNormal ‖ HalfNormal) = KL(N(0, σp²) ‖ N(0, σq²)) = ln(σq/σp) + σp²/(2σq²) − ½
    /// (PyTorch `_kl_halfnormal_halfnormal`).
    HalfNormal, HalfNormal, |p, q| {
        let zero = constant(p.scale(), 0.0);
        normal_normal(zero, p.scale(), zero, q.scale())
    }
);

kl!(
    /// KL(Normal(μ, σ) ‖ Laplace(m, b)) = −½ ln(2πe σ²) + ln(2b) + E|X − m|/b with
    /// E|X − m| = σ√(2/π) e^{−δ²/(2σ²)} + δ erf(δ/(σ√2)), δ = μ − m (one fused node).
    Normal, Laplace, |p, q| {
        let (mp, sp, mq, bq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Normal", "Laplace", &[mp, sp, mq, bq])?;
        let c = (2.0 / PI).sqrt();
        let const_term = -0.5 - HALF_LN_2PI + 2f64.ln();
        let kl = mp.tape().fused_map([mp, sp, mq, bq], |_, [mp, sp, mq, bq]| {
            let d = mp - mq;
            let z = d / (sp * SQRT_2);
            let g = (-z * z).exp();
            let e = erf(z);
            let abs_mean = sp * c * g + d * e;
            let v = const_term - sp.ln() + bq.ln() + abs_mean / bq;
            (v, [e / bq, c * g / bq - 1.0 / sp, -e / bq, 1.0 / bq - abs_mean / (bq * bq)])
        })?;
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Normal(μ, σ) ‖ Gumbel(m, β)) = −ln(σ/β) + (μ − m)/β + exp(−(μ − m)/β + σ²/(2β²))
    /// − ½(1 + ln 2π) (PyTorch `_kl_normal_gumbel`).
    Normal, Gumbel, |p, q| {
        let (mp, sp, mq, bq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Normal", "Gumbel", &[mp, sp, mq, bq])?;
        let u = (mp - mq) / bq;
        let r = sp / bq;
        let kl = u - r.ln() + (r.square() * 0.5 - u).exp() - (0.5 + HALF_LN_2PI);
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Laplace(μ, b) ‖ Normal(m, σ)) = −1 − ln(2b) + ½ ln(2πσ²) + (2b² + (μ − m)²)/(2σ²)
    /// (PyTorch `_kl_laplace_normal`).
    Laplace, Normal, |p, q| {
        let (mp, bp, mq, sq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Laplace", "Normal", &[mp, bp, mq, sq])?;
        let second = bp.square() * 2.0 + (mp - mq).square();
        let kl = sq.ln() - bp.ln() + second / (sq.square() * 2.0) + (HALF_LN_2PI - 1.0 - 2f64.ln());
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Laplace(μp, bp) ‖ Laplace(μq, bq)) = −ln(bp/bq) + |μp − μq|/bq +
    /// (bp/bq) e^{−|μp − μq|/bp} − 1 (Gil 2011; PyTorch `_kl_laplace_laplace`).
    Laplace, Laplace, |p, q| {
        let (mp, bp, mq, bq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Laplace", "Laplace", &[mp, bp, mq, bq])?;
        let r = bp / bq;
        let d = (mp - mq).abs();
        let kl = d / bq - r.ln() + r * (-(d / bp)).exp() - 1.0;
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Gumbel(μ, β) ‖ Normal(m, σ)) = −ln(β/σ) + ½ ln 2π + π²β²/(12σ²) +
    /// ½((μ + βγ − m)/σ)² − (γ + 1) (PyTorch `_kl_gumbel_normal`).
    Gumbel, Normal, |p, q| {
        let (mp, bp, mq, sq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Gumbel", "Normal", &[mp, bp, mq, sq])?;
        let r = bp / sq;
        let z = (mp + bp * EULER_GAMMA - mq) / sq;
        let kl = r.square() * (PI * PI / 12.0) - r.ln() + z.square() * 0.5
            + (HALF_LN_2PI - EULER_GAMMA - 1.0);
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Gumbel(μp, βp) ‖ Gumbel(μq, βq)) = −ln(βp/βq) + (μp − μq)/βq + (βp/βq)γ +
    /// exp((μq − μp)/βq + ln Γ(1 + βp/βq)) − (1 + γ) (PyTorch `_kl_gumbel_gumbel`).
    Gumbel, Gumbel, |p, q| {
        let (mp, bp, mq, bq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Gumbel", "Gumbel", &[mp, bp, mq, bq])?;
        let r = bp / bq;
        let u = (mp - mq) / bq;
        let kl = u - r.ln() + r * EULER_GAMMA + ((r + 1.0).lgamma() - u).exp()
            - (1.0 + EULER_GAMMA);
        to_shape(kl, shape)
    }
);
