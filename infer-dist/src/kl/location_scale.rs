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

use super::stable::{add_overflowed, clamp_rounding, phi};
use super::{EULER_GAMMA, constant, kl, kl_map, ln_ratio, scaled_diff};
use crate::DistError;
use crate::util::{ln_abs_diff, mul0};
use infer_ad::Tensor;
use infer_ad::scalar::{digamma, erf, lgamma};
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
    kl_map("Normal", "Normal", [mp, sp, mq, sq], |[mp, sp, mq, sq]| {
        let z = scaled_diff(mp, mq, sq);
        let two_ln_r = 2.0 * ln_ratio(sp, sq);
        let v = 0.5 * phi(two_ln_r) + 0.5 * (z * z);
        // r² − 1 and z/σq; the partials ∂/∂σp = (r² − 1)/σp, ∂/∂σq = (1 − r² − z²)/σq.
        let r2m1 = two_ln_r.exp_m1();
        let z_s = z / sq;
        (v, [z_s, r2m1 / sp, -z_s, (-r2m1 - z * z) / sq])
    })
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

/// KL(Normal(μ, σ) ‖ Laplace(m, b)) and its partials in (μ, σ, m, b).
///
/// With ρ = σ/b, t = |μ − m|/σ and F(t) = √(2/π) e^{−t²/2} + t erf(t/√2) (so that
/// E|X − m| = σF(t) ≥ σ max(t, √(2/π))), the form −½ ln(2πeσ²) + ln(2b) + ρF(t) equals
///
/// KL = φ(ln ρ + ln F(t)) + ln F(t) + ½ + ln 2 − ½ ln 2π,
///
/// φ(s) = eˢ − 1 − s ≥ 0: ln ρ and ln F are taken from logarithms (ln F(t) = ln t for t ≥ 10,
/// where the omitted part is below 1e-20 relative), so subnormal scales and locations at
/// ±f64::MAX give a finite value or +∞, never ∞ − ∞ or 0 · ∞.
fn normal_laplace_kl([mp, sp, mq, bq]: [f64; 4]) -> (f64, [f64; 4]) {
    let c = (2.0 / PI).sqrt();
    let ln_rho = ln_ratio(sp, bq);
    let t = scaled_diff(mp, mq, sp).abs();
    let (ln_f, e, g) = if t < 10.0 {
        let e = erf(t / SQRT_2);
        let g = (-0.5 * t * t).exp();
        ((c * g + t * e).ln(), e, g)
    } else if t.is_finite() {
        (t.ln(), 1.0, 0.0)
    } else {
        (ln_abs_diff(mp, mq) - sp.ln(), 1.0, 0.0)
    };
    let x = ln_rho + ln_f;
    let v = phi(x) + ln_f + (0.5 + std::f64::consts::LN_2 - HALF_LN_2PI);
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // ∂/∂μ = sgn(μ − m) erf(t/√2)/b, ∂/∂σ = (ρ√(2/π)e^{−t²/2} − 1)/σ, ∂/∂b = (1 − ρF)/b.
    let sgn = if mp == mq { 0.0 } else { (mp - mq).signum() };
    let dm = sgn * e / bq;
    let rho = ln_rho.exp();
    (
        v,
        [dm, (mul0(rho, c * g) - 1.0) / sp, -dm, -x.exp_m1() / bq],
    )
}

kl!(
    /// KL(Normal(μ, σ) ‖ Laplace(m, b)) = −½ ln(2πe σ²) + ln(2b) + E|X − m|/b with
    /// E|X − m| = σ√(2/π) e^{−δ²/(2σ²)} + δ erf(δ/(σ√2)), δ = μ − m, evaluated in the
    /// regrouped form of `normal_laplace_kl` (one fused node).
    Normal, Laplace, [loc, scale], [loc, scale], normal_laplace_kl
);

/// KL(Normal(μ, σ) ‖ Gumbel(m, β)) and its partials in (μ, σ, m, β).
///
/// With u = (μ − m)/β, r = σ/β and w = r²/2 − u, the form −ln r + u + e^w − ½(1 + ln 2π)
/// equals φ(w) + ½ φ(2 ln r) + 1 − ½ ln 2π (φ(s) = eˢ − 1 − s ≥ 0): two non-negative terms
/// and a positive constant. r² and u are formed from logarithms and halves, and where both
/// overflow their difference takes the sign of the larger (from their logarithms).
fn normal_gumbel_kl([mp, sp, mq, bq]: [f64; 4]) -> (f64, [f64; 4]) {
    let ln_r = ln_ratio(sp, bq);
    let u = scaled_diff(mp, mq, bq);
    let ln_half_r2 = 2.0 * ln_r - std::f64::consts::LN_2;
    // r²/2 from the quotient where it is a normal number (so that w = r²/2 − u keeps the
    // digits of a cancellation), else from logarithms.
    let r = sp / bq;
    let half_r2 = if (r * r).is_normal() {
        0.5 * (r * r)
    } else {
        ln_half_r2.exp()
    };
    let w = add_overflowed(half_r2, -u, ln_half_r2, ln_abs_diff(mp, mq) - bq.ln());
    let v = phi(w) + 0.5 * phi(2.0 * ln_r) + (1.0 - HALF_LN_2PI);
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // ∂/∂μ = (1 − e^w)/β, ∂/∂σ = (r² e^w − 1)/σ, ∂/∂β = (1 − u + e^w (u − r²))/β.
    let ew = w.exp();
    let r2 = 2.0 * half_r2;
    let dm = -w.exp_m1() / bq;
    (
        v,
        [
            dm,
            (mul0(r2, ew) - 1.0) / sp,
            -dm,
            (1.0 - u + mul0(ew, u - r2)) / bq,
        ],
    )
}

kl!(
    /// KL(Normal(μ, σ) ‖ Gumbel(m, β)) = −ln(σ/β) + (μ − m)/β + exp(−(μ − m)/β + σ²/(2β²))
    /// − ½(1 + ln 2π) (PyTorch `_kl_normal_gumbel`), evaluated in the regrouped form of
    /// `normal_gumbel_kl` (one fused node).
    Normal, Gumbel, [loc, scale], [loc, scale], normal_gumbel_kl
);

/// KL(Laplace(μ, b) ‖ Normal(m, σ)) and its partials, as ½ φ(2 ln(b/σ) + ln 2) + ½ z² +
/// ½(ln π − 1) with z = (μ − m)/σ and φ(s) = eˢ − 1 − s ≥ 0 (the same expression regrouped:
/// ln(σ/b) + b²/σ² = ½(φ(2 ln(b/σ) + ln 2) + 1 + ln 2)), so no 0 · ∞ or ∞ − ∞ arises for
/// subnormal scales or locations at ±f64::MAX.
fn laplace_normal_kl([mp, bp, mq, sq]: [f64; 4]) -> (f64, [f64; 4]) {
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
    Laplace, Normal, [loc, scale], [loc, scale], laplace_normal_kl
);

/// KL(Laplace(μp, bp) ‖ Laplace(μq, bq)) and its partials, as φ(ln r) + (u + r(e^{−t} − 1))
/// with r = bp/bq (from logarithms), t = |μp − μq|/bp, u = |μp − μq|/bq = r t and
/// φ(s) = eˢ − 1 − s: two non-negative terms (the second is r(e^{−t} − 1 + t)), so
/// subnormal scales and locations at ±f64::MAX give a finite value or +∞, never ∞ − ∞.
fn laplace_laplace_kl([mp, bp, mq, bq]: [f64; 4]) -> (f64, [f64; 4]) {
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
    Laplace, Laplace, [loc, scale], [loc, scale], laplace_laplace_kl
);

/// ln(π²/6).
const LN_PI2_6: f64 = 0.497_700_302_470_745_3;

/// KL(Gumbel(μ, β) ‖ Normal(m, σ)) and its partials in (μ, β, m, σ).
///
/// With r = β/σ, s = ln(π²r²/6) and z = (μ + βγ − m)/σ, the form −ln r + ½ ln 2π +
/// π²r²/12 + ½z² − (γ + 1) equals ½ φ(s) + ½ z² + ½(1 + ln(π²/6)) + ½ ln 2π − γ − 1 (the
/// constant is ≈ 0.0906 > 0): no difference of large terms; s from logarithms, z from
/// quarters where μ − m + βγ overflows.
fn gumbel_normal_kl([mp, bp, mq, sq]: [f64; 4]) -> (f64, [f64; 4]) {
    let ln_r = ln_ratio(bp, sq);
    let s = 2.0 * ln_r + LN_PI2_6;
    let num = (mp - mq) + EULER_GAMMA * bp;
    let z = if num.is_finite() {
        num / sq
    } else {
        (0.25 * mp - 0.25 * mq + 0.25 * EULER_GAMMA * bp) / sq * 4.0
    };
    let c = 0.5 * (1.0 + LN_PI2_6) + HALF_LN_2PI - EULER_GAMMA - 1.0;
    let v = 0.5 * phi(s) + 0.5 * (z * z) + c;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // ∂/∂β = (e^s − 1 + γ z r)/β, ∂/∂σ = (1 − e^s − z²)/σ.
    let em1 = s.exp_m1();
    let r = ln_r.exp();
    let z_s = z / sq;
    (
        v,
        [
            z_s,
            (em1 + EULER_GAMMA * mul0(z, r)) / bp,
            -z_s,
            (-em1 - z * z) / sq,
        ],
    )
}

kl!(
    /// KL(Gumbel(μ, β) ‖ Normal(m, σ)) = −ln(β/σ) + ½ ln 2π + π²β²/(12σ²) +
    /// ½((μ + βγ − m)/σ)² − (γ + 1) (PyTorch `_kl_gumbel_normal`), evaluated in the regrouped
    /// form of `gumbel_normal_kl` (one fused node).
    Gumbel, Normal, [loc, scale], [loc, scale], gumbel_normal_kl
);

/// KL(Gumbel(μp, βp) ‖ Gumbel(μq, βq)) and its partials in (μp, βp, μq, βq).
///
/// With r = βp/βq, u = (μp − μq)/βq and w = ln Γ(1 + r) − u, the form u − ln r + rγ + e^w
/// − (1 + γ) equals φ(w) + g(r), g(r) = ln Γ(r) + γ(r − 1) ≥ 0 (convex, 0 at r = 1; φ(s) =
/// eˢ − 1 − s ≥ 0): g is +∞ only where ln Γ(r) overflows (r ≳ 2.5e305), and r is taken from
/// logarithms (ln Γ(r) = −ln r below 1e-300, where γr is below 1e-300).
fn gumbel_gumbel_kl([mp, bp, mq, bq]: [f64; 4]) -> (f64, [f64; 4]) {
    let ln_r = ln_ratio(bp, bq);
    let r = match bp / bq {
        r if r.is_normal() => r,
        _ => ln_r.exp(),
    };
    let (lg_r, lg_1r) = if r < 1e-300 {
        (-ln_r, -EULER_GAMMA * r)
    } else {
        (lgamma(r), lgamma(1.0 + r))
    };
    // g ≥ 0; near r = 1 its two terms cancel to rounding (|g| ≲ 1e-16), clamped.
    let g = (lg_r + EULER_GAMMA * (r - 1.0)).max(0.0);
    if !g.is_finite() {
        return (f64::INFINITY, [0.0; 4]);
    }
    let u = scaled_diff(mp, mq, bq);
    let w = lg_1r - u;
    let v = phi(w) + g;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // ∂/∂r = −1/r + γ + e^w ψ(1 + r), ∂/∂u = 1 − e^w; ∂r/∂βp = 1/βq, ∂r/∂βq = −r/βq,
    // ∂u/∂βq = −u/βq.
    let ew = w.exp();
    let r_dr = -1.0 + r * EULER_GAMMA + mul0(r * ew, digamma(1.0 + r));
    let du = -w.exp_m1();
    let dm = du / bq;
    (v, [dm, r_dr / bp, -dm, -(r_dr + mul0(u, du)) / bq])
}

kl!(
    /// KL(Gumbel(μp, βp) ‖ Gumbel(μq, βq)) = −ln(βp/βq) + (μp − μq)/βq + (βp/βq)γ +
    /// exp((μq − μp)/βq + ln Γ(1 + βp/βq)) − (1 + γ) (PyTorch `_kl_gumbel_gumbel`), evaluated
    /// in the regrouped form of `gumbel_gumbel_kl` (one fused node).
    Gumbel, Gumbel, [loc, scale], [loc, scale], gumbel_gumbel_kl
);
