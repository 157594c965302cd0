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

use super::stable::{clamp_rounding, phi};
use super::{EULER_GAMMA, constant, joint_shape, kl, ln_ratio, scaled_diff, to_shape};
use crate::DistError;
use infer_ad::Tensor;
use infer_ad::scalar::erf;
use std::f64::consts::{PI, SQRT_2};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// KL(N(μp, σp²) ‖ N(μq, σq²)) = ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½, as one fused node.
///
/// Evaluated as ½ φ(2 ln(σp/σq)) + ½ z², φ(s) = eˢ − 1 − s ≥ 0, z = (μp − μq)/σq: a sum of
/// two non-negative terms, with ln(σp/σq) from logarithms where the quotient over- or
/// underflows and z from halves where μp − μq overflows, so every valid parameter (subnormal
/// scales, locations at ±f64::MAX) gives a finite value or +∞ (where the divergence exceeds
/// f64), never 0 · ∞.
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
            let z = scaled_diff(mp, mq, sq);
            let two_ln_r = 2.0 * ln_ratio(sp, sq);
            let v = 0.5 * phi(two_ln_r) + 0.5 * (z * z);
            // r² − 1 and z/σq; the partials ∂/∂σp = (r² − 1)/σp, ∂/∂σq = (1 − r² − z²)/σq.
            let r2m1 = two_ln_r.exp_m1();
            let z_s = z / sq;
            (v, [z_s, r2m1 / sp, -z_s, (-r2m1 - z * z) / sq])
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

/// KL(Laplace(μ, b) ‖ Normal(m, σ)) and its partials, as ½ φ(2 ln(b/σ) + ln 2) + ½ z² +
/// ½(ln π − 1) with z = (μ − m)/σ and φ(s) = eˢ − 1 − s ≥ 0 (the same expression regrouped:
/// ln(σ/b) + b²/σ² = ½(φ(2 ln(b/σ) + ln 2) + 1 + ln 2)), so no 0 · ∞ or ∞ − ∞ arises for
/// subnormal scales or locations at ±f64::MAX.
fn laplace_normal_kl(mp: f64, bp: f64, mq: f64, sq: f64) -> (f64, [f64; 4]) {
    let z = scaled_diff(mp, mq, sq);
    let s = 2.0 * ln_ratio(bp, sq) + std::f64::consts::LN_2;
    let v = 0.5 * phi(s) + 0.5 * (z * z) + 0.5 * (PI.ln() - 1.0);
    // 2b²/σ² − 1 and z/σ.
    let em1 = s.exp_m1();
    let z_s = z / sq;
    (v, [z_s, em1 / bp, -z_s, (-em1 - z * z) / sq])
}

kl!(
    /// KL(Laplace(μ, b) ‖ Normal(m, σ)) = −1 − ln(2b) + ½ ln(2πσ²) + (2b² + (μ − m)²)/(2σ²)
    /// (PyTorch `_kl_laplace_normal`).
    Laplace, Normal, |p, q| {
        let (mp, bp, mq, sq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Laplace", "Normal", &[mp, bp, mq, sq])?;
        let kl = mp
            .tape()
            .fused_map([mp, bp, mq, sq], |_, [mp, bp, mq, sq]| laplace_normal_kl(mp, bp, mq, sq))?;
        to_shape(kl, shape)
    }
);

/// KL(Laplace(μp, bp) ‖ Laplace(μq, bq)) and its partials, as φ(ln r) + (u + r(e^{−t} − 1))
/// with r = bp/bq (from logarithms), t = |μp − μq|/bp, u = |μp − μq|/bq = r t and
/// φ(s) = eˢ − 1 − s: two non-negative terms (the second is r(e^{−t} − 1 + t)), so
/// subnormal scales and locations at ±f64::MAX give a finite value or +∞, never ∞ − ∞.
fn laplace_laplace_kl(mp: f64, bp: f64, mq: f64, bq: f64) -> (f64, [f64; 4]) {
    let ln_r = ln_ratio(bp, bq);
    let head = phi(ln_r);
    if head.is_infinite() {
        return (f64::INFINITY, [0.0; 4]);
    }
    let r = ln_r.exp();
    let (u, t) = if mp == mq {
        (0.0, 0.0)
    } else {
        (scaled_diff(mp, mq, bq).abs(), scaled_diff(mp, mq, bp).abs())
    };
    let tail = if t < 1e-3 {
        // r(e^{−t} − 1 + t) by its series t²/2 − t³/6 + t⁴/24 (relative error < 1e-13).
        r * t * t * (0.5 - t * (1.0 / 6.0 - t / 24.0))
    } else {
        // u − r(1 − e^{−t}): u ≥ r(1 − e^{−t}) since t ≥ 1 − e^{−t}.
        u + r * (-t).exp_m1()
    };
    // u and r(1 − e^{−t}) are formed separately: a negative difference is rounding.
    let v = head + clamp_rounding(tail, u);
    let sgn = if mp == mq { 0.0 } else { (mp - mq).signum() };
    let e = (-t).exp();
    // e^{−t}(1 + t), 0 at t = ∞.
    let e1t = if t.is_infinite() { 0.0 } else { e * (1.0 + t) };
    let dm = sgn * (-(-t).exp_m1()) / bq;
    (v, [dm, (r * e1t - 1.0) / bp, -dm, (1.0 - u - r * e) / bq])
}

kl!(
    /// KL(Laplace(μp, bp) ‖ Laplace(μq, bq)) = −ln(bp/bq) + |μp − μq|/bq +
    /// (bp/bq) e^{−|μp − μq|/bp} − 1 (Gil 2011; PyTorch `_kl_laplace_laplace`).
    Laplace, Laplace, |p, q| {
        let (mp, bp, mq, bq) = (p.loc(), p.scale(), q.loc(), q.scale());
        let shape = joint_shape("Laplace", "Laplace", &[mp, bp, mq, bq])?;
        let kl = mp
            .tape()
            .fused_map([mp, bp, mq, bq], |_, [mp, bp, mq, bq]| laplace_laplace_kl(mp, bp, mq, bq))?;
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
