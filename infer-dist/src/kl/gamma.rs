//! KL divergences from the gamma family: Gamma(α, β), Exponential(λ) = Gamma(1, λ),
//! Chi2(k) = Gamma(k/2, 1/2), and InverseGamma (the image of a Gamma under x ↦ 1/x).
//!
//! Every member is written as a `(concentration, rate)` pair, so Exponential–Gamma,
//! Gamma–Chi2, … are all the Gamma–Gamma formula (PyTorch `_kl_gamma_gamma`; its
//! `_kl_exponential_exponential`, `_kl_exponential_gamma` and `_kl_gamma_exponential` are the
//! same function at α = 1, and Chi2 is a subclass of Gamma there). Against Normal and Gumbel:
//! PyTorch `_kl_gamma_normal`, `_kl_gamma_gumbel` (and their Exponential specialisations).

use super::stable::{
    add_overflowed, clamp_rounding, digamma_gap, gamma_normal_gap, ln_trigamma, phi, psi1_minus_ln,
    stirling_rest, times_trigamma,
};
use super::{constant, kl, kl_map, ln_ratio, scaled_diff};
use crate::chi2::Chi2K as Chi2;
use crate::exponential::ExponentialK as Exponential;
use crate::gamma::GammaK as Gamma;
use crate::util::mul0;
use infer_ad::Tensor;
use infer_ad::scalar::trigamma;

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// A member of the gamma family as `(concentration, rate)` tensors on the tape.
pub(crate) trait AsGamma<'t> {
    /// The family's name (for error messages).
    const NAME: &'static str;
    /// `(α, β)` with density ∝ x^{α−1} e^{−βx}.
    fn as_gamma(&self) -> (Tensor<'t>, Tensor<'t>);
}

impl<'t> AsGamma<'t> for Gamma<'t> {
    const NAME: &'static str = "Gamma";
    fn as_gamma(&self) -> (Tensor<'t>, Tensor<'t>) {
        (self.concentration(), self.rate())
    }
}

impl<'t> AsGamma<'t> for Exponential<'t> {
    const NAME: &'static str = "Exponential";
    fn as_gamma(&self) -> (Tensor<'t>, Tensor<'t>) {
        (constant(self.rate(), 1.0), self.rate())
    }
}

impl<'t> AsGamma<'t> for Chi2<'t> {
    const NAME: &'static str = "Chi2";
    fn as_gamma(&self) -> (Tensor<'t>, Tensor<'t>) {
        // α = df/2, kept > 0: half the smallest subnormal df rounds (to even) to 0, which is
        // outside the Gamma's parameter space; the nearest valid value is that subnormal.
        let half = self
            .df()
            .map_with_derivative(|d| ((0.5 * d).max(f64::from_bits(1)), 0.5));
        (half, constant(self.df(), 0.5))
    }
}

/// KL(Gamma(αp, βp) ‖ Gamma(αq, βq)) = αq ln(βp/βq) + ln Γ(αq) − ln Γ(αp) +
/// (αp − αq) ψ(αp) + (βq − βp) αp/βp.
///
/// Evaluated for every valid parameter (subnormal to f64::MAX) in the regrouped form
/// αq φ(s) − ½ ln(αq/αp) + R(αq) − R(αp) + (αp − αq)(ψ(αp + 1) − ln αp) + (αq/αp − 1), with
/// s = ln(αp βq/(βp αq)), φ(s) = eˢ − 1 − s ≥ 0 and R Stirling's remainder (see
/// `kl/stable.rs`): substituting ln Γ(a) = (a − ½) ln a − a + ½ ln 2π + R(a) and
/// ψ(a) = ψ(a + 1) − 1/a, the terms of size a ln a cancel analytically, and what remains is
/// one non-negative product plus terms of size O(ln a) (or αq/αp, which is +∞ only when the
/// divergence is). The value and its partials in (αp, βp, αq, βq).
fn gamma_gamma_kl([p, bp, q, bq]: [f64; 4]) -> (f64, [f64; 4]) {
    // ℓ = ln(βq/βp) and ln(αp/αq): each exactly 0 for equal parameters.
    let ell = ln_ratio(bq, bp);
    let ln_pq = ln_ratio(p, q);
    // m = αp βq/βp = E_p[βq X], from logarithms (no spurious overflow of αp · βq/βp).
    let m = match p * ell.exp() {
        m if m.is_finite() => m,
        _ => (p.ln() + ell).exp(),
    };
    let (dq, dp) = (q - m, m - q);
    let q_over_p = q / p;
    // ∂/∂αq = −ℓ + ψ(αq) − ψ(αp); ∂/∂βp = (αq − m)/βp; ∂/∂βq = (m − αq)/βq.
    let g_aq = digamma_gap(q, p) - ell;
    let (g_bp, g_bq) = (dq / bp, dp / bq);
    // ∂/∂αp = (αp − αq)ψ′(αp) + βq/βp − 1 (two overflowing terms of opposite sign are
    // compared in logarithms).
    let g_ap = if p == q {
        ell.exp_m1()
    } else {
        let t = (p - q) * trigamma(p);
        let ln_t = (p - q).abs().ln() + ln_trigamma(p);
        add_overflowed(t, ell.exp_m1(), ln_t, ell)
    };
    let grads = [g_ap, g_bp, g_aq, g_bq];
    if q_over_p.is_infinite() {
        // αq/αp beyond f64: the divergence, ≥ αq/αp − 1 − ln(αq/αp) − O(1), is too.
        return (f64::INFINITY, grads);
    }
    let s = ln_pq + ell;
    let head = q * phi(s);
    let terms = [
        -0.5 * (-ln_pq),
        stirling_rest(q),
        -stirling_rest(p),
        if p == q {
            0.0
        } else {
            (p - q) * psi1_minus_ln(p)
        },
        q_over_p - 1.0,
    ];
    let v = head + terms.iter().sum::<f64>();
    let scale = head + terms.iter().map(|t| t.abs()).sum::<f64>();
    // The terms are each O(ln α) or O(αq/αp) and exact for equal parameters: a negative sum
    // is rounding of a divergence ≈ 0.
    (clamp_rounding(v, scale), grads)
}

/// KL(Gamma(α, β) ‖ Normal(m, σ)) and its partials in (α, β, m, σ).
///
/// Substituting Stirling's form of ln Γ(α) and ψ(α) = ψ(α + 1) − 1/α (see `kl/stable.rs`),
/// −H(p) + ½ ln(2πσ²) + (α/β² + (α/β − m)²)/(2σ²) equals
///
/// KL = ½ φ(v) + ½ z² + h(α),
///
/// v = ln(α/(βσ)²), z = (α/β − m)/σ, φ(s) = eˢ − 1 − s ≥ 0 and h(α) ≥ 0 the divergence from
/// the moment-matched normal (`gamma_normal_gap`): three non-negative terms, each finite or
/// +∞ where the divergence exceeds f64 (v from logarithms, z from logarithms where α/β
/// overflows).
fn gamma_normal_kl([a, r, m, s]: [f64; 4]) -> (f64, [f64; 4]) {
    let (la, lr, ls) = (a.ln(), r.ln(), s.ln());
    // ln(1/(βσ)) and v = ln α − 2 ln(βσ).
    let lk = -(lr + ls);
    let v_ = la + 2.0 * lk;
    let mean = a / r;
    let z = if mean.is_finite() {
        scaled_diff(mean, m, s)
    } else {
        // α/β beyond f64: α/(βσ) − m/σ from logarithms.
        let ln_mo = la + lk;
        add_overflowed(ln_mo.exp(), -(m / s), ln_mo, m.abs().ln() - ls)
    };
    let v = 0.5 * phi(v_) + 0.5 * (z * z) + gamma_normal_gap(a);
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let ev = v_.exp();
    let k = lk.exp();
    // ∂/∂α = (α − 1)ψ′(α) − 1 + k(k/2 + z) with k = 1/(βσ).
    // (α − 1)ψ′(α) and k(k/2 + z) may overflow with opposite signs (α and βσ tiny): the sign
    // of the larger, from their logarithms.
    let (tri, ln_tri) = times_trigamma(a - 1.0, a);
    let kk = mul0(k, 0.5 * k + z);
    let da = add_overflowed(tri, kk, ln_tri, lk + (0.5 * k + z).abs().ln()) - 1.0;
    // ∂/∂β = (1 − e^v)/β − z (α/(βσ))/β.
    let db = (-v_.exp_m1() - mul0(z, (la + lk).exp())) / r;
    (v, [da, db, -z / s, (1.0 - ev - z * z) / s])
}

/// ln G(y) for G(y) = y − ln(1 + y) ≥ 0 (y > 0 given with its logarithm), and ln(1 + y): the series
/// G = y² Σ_{k≥2} (−y)^{k−2}/k below y = 0.1 (24 terms, truncation below 1e-24 relative),
/// y(1 − ln(1 + y)/y) from ln y above e^{700} (where y may overflow).
fn ln_y_minus_ln1p(ln_y: f64, y: f64) -> (f64, f64) {
    if y < 0.1 {
        let mut acc = 0.0;
        for k in (2..=25).rev() {
            acc = 1.0 / f64::from(k) - y * acc;
        }
        (2.0 * ln_y + acc.ln(), y.ln_1p())
    } else if ln_y > 700.0 {
        // ln(1 + y) = ln y + ln(1 + 1/y) ≈ ln y (1/y < 1e-304).
        (ln_y + (-ln_y * (-ln_y).exp()).ln_1p(), ln_y)
    } else {
        let l = y.ln_1p();
        ((y - l).ln(), l)
    }
}

/// KL(Gamma(α, β) ‖ Gumbel(m, b)) and its partials in (α, β, m, b).
///
/// With y = 1/(βb), L = ln(1 + y), u = m/b, w = u − αL and G = y − L ≥ 0, the form
/// (α − 1)ψ(α) − ln Γ(α) − α + ln(βb) + α/(βb) + e^w − u equals (Stirling, as for the
/// Normal q)
///
/// KL = φ(w) + h(α) + ½ − ½ ln 2π + φ(t) + 1 + ½ ln α + ln G − ln y,  t = ln(αG),
///
/// φ(s) = eˢ − 1 − s ≥ 0 and h(α) ≥ 0 (`gamma_normal_gap`): non-negative terms and terms of
/// the size of a logarithm (≤ ~2·10³), so no ∞ − ∞; y, ln G and αL are taken from
/// logarithms.
fn gamma_gumbel_kl([a, r, m, b]: [f64; 4]) -> (f64, [f64; 4]) {
    let (la, lr, lb) = (a.ln(), r.ln(), b.ln());
    // y = 1/(βb) from the product where it is a normal number (w = u − αL cancels when the
    // Gumbel's location is near the Gamma's mean), else from logarithms.
    let ln_y = match (r * b).recip() {
        y if y.is_normal() => y.ln(),
        _ => -(lr + lb),
    };
    let y = match (r * b).recip() {
        y if y.is_normal() => y,
        _ => ln_y.exp(),
    };
    let (ln_g, l1p) = ln_y_minus_ln1p(ln_y, y);
    let u = m / b;
    let al = a * l1p;
    let w = add_overflowed(u, -al, m.abs().ln() - lb, la + l1p.ln());
    let t = la + ln_g;
    let terms = [
        gamma_normal_gap(a),
        0.5 * la,
        ln_g,
        -ln_y,
        1.5 - HALF_LN_2PI,
    ];
    let head = phi(w) + phi(t);
    let v = head + terms.iter().sum::<f64>();
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let scale = head + terms.iter().map(|x| x.abs()).sum::<f64>();
    let v = clamp_rounding(v, scale);
    let ew = w.exp();
    // ∂/∂α = (α − 1)ψ′(α) − 1 + y − e^w L.
    // (α − 1)ψ′(α) and y may overflow with opposite signs (α and βb tiny): the sign of the
    // larger, from their logarithms.
    let (tri, ln_tri) = times_trigamma(a - 1.0, a);
    let da = add_overflowed(tri, y, ln_tri, ln_y) - 1.0 - mul0(ew, l1p);
    // β ∂/∂β = 1 + αy(e^w/(1 + y) − 1) (1/(1 + y) = 0 where y overflows).
    let inv_1py = if y.is_finite() { 1.0 / (1.0 + y) } else { 0.0 };
    let ay = (la + ln_y).exp();
    let c = 1.0 + mul0(ay, ew * inv_1py - 1.0);
    let du = w.exp_m1();
    (v, [da, c / r, du / b, (c - mul0(u, du)) / b])
}

/// Gamma-family p against Gamma-family q, Normal q and Gumbel q.
macro_rules! gamma_pairs {
    ($($p:ident),*) => {$(
        gamma_pairs!(@q $p, Exponential, Gamma, Chi2);
        kl!(
            /// KL(p ‖ Normal) = −H(p) + ½ ln(2πσ²) + E_p[(X − m)²]/(2σ²), with p written as
            /// Gamma(α, β) (PyTorch `_kl_gamma_normal`).
            $p, Normal, |p, q| {
                let (a, r) = p.as_gamma();
                kl_map(<$p<'t> as AsGamma<'t>>::NAME, "Normal", [a, r, q.loc(), q.scale()], gamma_normal_kl)
            }
        );
        kl!(
            /// KL(p ‖ Gumbel), with p written as Gamma(α, β) (PyTorch `_kl_gamma_gumbel`).
            $p, Gumbel, |p, q| {
                let (a, r) = p.as_gamma();
                kl_map(<$p<'t> as AsGamma<'t>>::NAME, "Gumbel", [a, r, q.loc(), q.scale()], gamma_gumbel_kl)
            }
        );
    )*};
    (@q $p:ident, $($q:ident),*) => {$(
        kl!(
            /// The Gamma–Gamma formula with both sides written as Gamma(α, β) (PyTorch
            /// `_kl_gamma_gamma`).
            $p, $q, |p, q| {
                let ((ap, rp), (aq, rq)) = (p.as_gamma(), q.as_gamma());
                let names = (<$p<'t> as AsGamma<'t>>::NAME, <$q<'t> as AsGamma<'t>>::NAME);
                kl_map(names.0, names.1, [ap, rp, aq, rq], gamma_gamma_kl)
            }
        );
    )*};
}

gamma_pairs!(Exponential, Gamma, Chi2);

kl!(
    /// KL(InverseGamma(αp, βp) ‖ InverseGamma(αq, βq)) = KL(Gamma(αp, βp) ‖ Gamma(αq, βq)): both
    /// are the image of the Gamma under x ↦ 1/x (PyTorch `_kl_transformed_transformed`).
    InverseGamma, InverseGamma, [concentration, rate], [concentration, rate], gamma_gamma_kl
);
