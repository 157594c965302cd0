//! KL divergences from the Uniform and Pareto families.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_uniform_normal`, `_kl_uniform_gamma`,
//! `_kl_uniform_exponetial`, `_kl_uniform_uniform`, `_kl_uniform_gumbel`, `_kl_uniform_pareto`,
//! `_kl_uniform_beta`, `_kl_pareto_normal`, `_kl_pareto_exponential`, `_kl_pareto_gamma`,
//! `_kl_pareto_pareto`). Over U(a, b), E[ln X] = (b ln b − a ln a − (b − a))/(b − a).
//! The divergence is +∞ where the support of p is not inside that of q, and where it diverges
//! (Pareto with α ≤ 1, or α ≤ 2 against a Normal): the parameters of those elements are
//! replaced by harmless values before the formula runs, so no NaN reaches value or gradient.

use super::gamma::AsGamma;
use super::{guard, inf_where, joint_shape, kl, mask, to_shape, x_ln_x};
use crate::DistError;
use infer_ad::Tensor;

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// E[ln X] for X ~ U(a, b) (0 < a), with width `c = b − a`.
fn mean_ln<'t>(a: Tensor<'t>, b: Tensor<'t>, c: Tensor<'t>) -> Tensor<'t> {
    (x_ln_x(b) - x_ln_x(a) - c) / c
}

kl!(
    /// KL(Uniform(a, b) ‖ Normal(m, σ)) = ln(√(2π) σ/(b − a)) + ((b − a)²/12 +
    /// ((a + b)/2 − m)²)/(2σ²) (PyTorch `_kl_uniform_normal`).
    Uniform, Normal, |p, q| {
        let (a, b, m, s) = (p.low(), p.high(), q.loc(), q.scale());
        let shape = joint_shape("Uniform", "Normal", &[a, b, m, s])?;
        let c = b - a;
        let mid = (a + b) * 0.5;
        let kl = s.ln() - c.ln() + HALF_LN_2PI
            + (c.square() * (1.0 / 12.0) + (mid - m).square()) / (s.square() * 2.0);
        to_shape(kl, shape)
    }
);

/// KL(Uniform(a, b) ‖ Gamma(α, β)) = −ln(b − a) + ln Γ(α) − α ln β + (1 − α) E[ln X] +
/// β(a + b)/2, and +∞ where a < 0.
fn uniform_gamma<'t>(
    q_name: &'static str,
    a: Tensor<'t>,
    b: Tensor<'t>,
    aq: Tensor<'t>,
    rq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape("Uniform", q_name, &[a, b, aq, rq])?;
    let c = b - a;
    let kl =
        aq.lgamma() - c.ln() - aq * rq.ln() + (1.0 - aq) * mean_ln(a, b, c) + rq * (a + b) * 0.5;
    let out = mask([a], |[a]| a < 0.0)?;
    to_shape(inf_where(kl, out)?, shape)
}

macro_rules! uniform_gamma_pairs {
    ($($q:ident),*) => {$(
        kl!(
            /// KL(Uniform ‖ gamma-family q), q written as Gamma(α, β); +∞ where `low < 0`
            /// (PyTorch `_kl_uniform_gamma`, `_kl_uniform_exponetial`).
            Uniform, $q, |p, q| {
                let (aq, rq) = q.as_gamma();
                uniform_gamma(stringify!($q), p.low(), p.high(), aq, rq)
            }
        );
    )*};
}

uniform_gamma_pairs!(Exponential, Gamma, Chi2);

kl!(
    /// KL(Uniform(ap, bp) ‖ Uniform(aq, bq)) = ln((bq − aq)/(bp − ap)), +∞ unless
    /// [ap, bp] ⊆ [aq, bq] (PyTorch `_kl_uniform_uniform`).
    Uniform, Uniform, |p, q| {
        let (ap, bp, aq, bq) = (p.low(), p.high(), q.low(), q.high());
        let shape = joint_shape("Uniform", "Uniform", &[ap, bp, aq, bq])?;
        let kl = (bq - aq).ln() - (bp - ap).ln();
        let out = mask([ap, bp, aq, bq], |[ap, bp, aq, bq]| aq > ap || bq < bp)?;
        to_shape(inf_where(kl, out)?, shape)
    }
);

kl!(
    /// KL(Uniform(a, b) ‖ Gumbel(m, β)) = ln(β/(b − a)) + ½(h + l) − β/(b − a)(e^{−h} − e^{−l})
    /// with h = (b − m)/β, l = (a − m)/β (PyTorch `_kl_uniform_gumbel`).
    Uniform, Gumbel, |p, q| {
        let (a, b, m, s) = (p.low(), p.high(), q.loc(), q.scale());
        let shape = joint_shape("Uniform", "Gumbel", &[a, b, m, s])?;
        let ct = s / (b - a);
        let hd = (b - m) / s;
        let ld = (a - m) / s;
        let kl = ct.ln() + (hd + ld) * 0.5 - ct * ((-hd).exp() - (-ld).exp());
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Uniform(a, b) ‖ Pareto(s, α)) = (α + 1) E[ln X] − ln(α s^α (b − a)), +∞ where a < s
    /// (PyTorch `_kl_uniform_pareto`).
    Uniform, Pareto, |p, q| {
        let (a, b, sq, aq) = (p.low(), p.high(), q.scale(), q.alpha());
        let shape = joint_shape("Uniform", "Pareto", &[a, b, sq, aq])?;
        let c = b - a;
        let kl = (aq + 1.0) * mean_ln(a, b, c) - aq.ln() - aq * sq.ln() - c.ln();
        let out = mask([a, sq], |[a, s]| a < s)?;
        to_shape(inf_where(kl, out)?, shape)
    }
);

kl!(
    /// KL(Uniform(a, b) ‖ Beta(α, β)) = −ln(b − a) − (α − 1) E[ln X] − (β − 1) E[ln(1 − X)] +
    /// ln B(α, β), +∞ unless [a, b] ⊆ [0, 1] (PyTorch `_kl_uniform_beta`).
    Uniform, Beta, |p, q| {
        let (a, b, aq, bq) = (p.low(), p.high(), q.concentration1(), q.concentration0());
        let shape = joint_shape("Uniform", "Beta", &[a, b, aq, bq])?;
        let c = b - a;
        let mean_ln_1m = (x_ln_x(1.0 - a) - x_ln_x(1.0 - b) - c) / c;
        let ln_beta = aq.lgamma() + bq.lgamma() - (aq + bq).lgamma();
        let kl = ln_beta - c.ln() - (aq - 1.0) * mean_ln(a, b, c) - (bq - 1.0) * mean_ln_1m;
        let out = mask([a, b], |[a, b]| a < 0.0 || b > 1.0)?;
        to_shape(inf_where(kl, out)?, shape)
    }
);

kl!(
    /// KL(Pareto(s, α) ‖ Normal(m, σ)) = ln(√(2π) σ α/s) − 1/α + (Var_p + (E_p − m)²)/(2σ²) − 1
    /// with E_p = αs/(α − 1), Var_p = α s²/((α − 1)²(α − 2)); +∞ where α ≤ 2 (PyTorch
    /// `_kl_pareto_normal`).
    Pareto, Normal, |p, q| {
        let (sp, ap, m, s) = (p.scale(), p.alpha(), q.loc(), q.scale());
        let shape = joint_shape("Pareto", "Normal", &[sp, ap, m, s])?;
        let out = mask([ap], |[a]| !(a > 2.0))?;
        let ap = guard(ap, out, 3.0)?;
        let ct = sp / (ap - 1.0);
        let var = ap * ct.square() / (ap - 2.0);
        let kl = s.ln() + ap.ln() - sp.ln() + HALF_LN_2PI - ap.recip()
            + (var + (ap * ct - m).square()) / (s.square() * 2.0)
            - 1.0;
        to_shape(inf_where(kl, out)?, shape)
    }
);

/// KL(Pareto(s, α) ‖ Gamma(αq, βq)) = ln α − (ln s + 1/α) + ln Γ(αq) − αq ln βq +
/// (1 − αq)(ln s + 1/α) + βq α s/(α − 1) − 1; +∞ where α ≤ 1.
fn pareto_gamma<'t>(
    q_name: &'static str,
    sp: Tensor<'t>,
    ap: Tensor<'t>,
    aq: Tensor<'t>,
    rq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape("Pareto", q_name, &[sp, ap, aq, rq])?;
    let out = mask([ap], |[a]| !(a > 1.0))?;
    let ap = guard(ap, out, 2.0)?;
    let e_ln_x = sp.ln() + ap.recip();
    let kl = ap.ln() - e_ln_x + aq.lgamma() - aq * rq.ln()
        + (1.0 - aq) * e_ln_x
        + rq * ap * sp / (ap - 1.0)
        - 1.0;
    to_shape(inf_where(kl, out)?, shape)
}

macro_rules! pareto_gamma_pairs {
    ($($q:ident),*) => {$(
        kl!(
            /// KL(Pareto ‖ gamma-family q), q written as Gamma(α, β); +∞ where α ≤ 1 (PyTorch
            /// `_kl_pareto_gamma`, `_kl_pareto_exponential`).
            Pareto, $q, |p, q| {
                let (aq, rq) = q.as_gamma();
                pareto_gamma(stringify!($q), p.scale(), p.alpha(), aq, rq)
            }
        );
    )*};
}

pareto_gamma_pairs!(Exponential, Gamma, Chi2);

kl!(
    /// KL(Pareto(sp, αp) ‖ Pareto(sq, αq)) = αq ln(sp/sq) − ln(αq/αp) + αq/αp − 1, +∞ where
    /// sp < sq (Gil 2011; PyTorch `_kl_pareto_pareto`).
    Pareto, Pareto, |p, q| {
        let (sp, ap, sq, aq) = (p.scale(), p.alpha(), q.scale(), q.alpha());
        let shape = joint_shape("Pareto", "Pareto", &[sp, ap, sq, aq])?;
        let ratio = aq / ap;
        let kl = aq * (sp / sq).ln() - ratio.ln() + ratio - 1.0;
        let out = mask([sp, sq], |[sp, sq]| sp < sq)?;
        to_shape(inf_where(kl, out)?, shape)
    }
);
