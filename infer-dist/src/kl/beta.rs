//! KL divergences from the Beta family (against Normal, the gamma family, Beta and Uniform)
//! and between Dirichlet distributions.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_beta_normal`, `_kl_beta_exponential`,
//! `_kl_beta_gamma`, `_kl_beta_beta`, `_kl_beta_uniform`, `_kl_dirichlet_dirichlet`). Each
//! cross-family form is −H(p) − E_p[ln q(X)] with E_p[X] = α/(α+β),
//! Var_p[X] = E(1 − E)/(α+β+1) and E_p[ln X] = ψ(α) − ψ(α+β).

use super::gamma::AsGamma;
use super::uniform::ln_beta;
use super::{inf_where, joint_shape, kl, mask, to_shape};
use crate::DistError;
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{AdError, Tensor};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// −H(Beta(α, β)) = −ln B(α, β) + (α − 1)ψ(α) + (β − 1)ψ(β) − (α + β − 2)ψ(α + β).
fn neg_entropy<'t>(a: Tensor<'t>, b: Tensor<'t>) -> Tensor<'t> {
    let s = a + b;
    s.lgamma() - a.lgamma() - b.lgamma() + (a - 1.0) * a.digamma() + (b - 1.0) * b.digamma()
        - (s - 2.0) * s.digamma()
}

kl!(
    /// KL(Beta(α, β) ‖ Normal(m, σ)) = −H(p) + ½ ln(2πσ²) + (Var_p + (E_p − m)²)/(2σ²)
    /// (PyTorch `_kl_beta_normal`).
    Beta, Normal, |p, q| {
        let (a, b, m, s) = (p.concentration1(), p.concentration0(), q.loc(), q.scale());
        let shape = joint_shape("Beta", "Normal", &[a, b, m, s])?;
        let total = a + b;
        let e = a / total;
        let var = e * (1.0 - e) / (total + 1.0);
        let second = var + (e - m).square();
        let kl = neg_entropy(a, b) + s.ln() + HALF_LN_2PI + second / (s.square() * 2.0);
        to_shape(kl, shape)
    }
);

/// KL(Beta(α, β) ‖ Gamma(αq, βq)) = −H(p) + ln Γ(αq) − αq ln βq − (αq − 1)(ψ(α) − ψ(α+β)) +
/// βq α/(α+β), with the two (· − 1) ψ(α) terms merged into (α − αq) ψ(α) (each is ≈ −1/α for
/// a small α, and they cancel when αq ≈ α) and ln B(α, β) by [`ln_beta`]; one fused node.
fn beta_gamma_kl(a: f64, b: f64, aq: f64, rq: f64) -> (f64, [f64; 4]) {
    let s = a + b;
    let (psi_a, psi_b, psi_s) = (digamma(a), digamma(b), digamma(s));
    let v = (a - aq) * psi_a + (b - 1.0) * psi_b - (s - 1.0 - aq) * psi_s - ln_beta(a, b)
        + lgamma(aq)
        - aq * rq.ln()
        + rq * (a / s);
    let tri_s = trigamma(s);
    let s2 = s * s;
    (
        v,
        [
            (a - aq) * trigamma(a) - (s - 1.0 - aq) * tri_s + rq * (b / s2),
            (b - 1.0) * trigamma(b) - (s - 1.0 - aq) * tri_s - rq * (a / s2),
            psi_s - psi_a + digamma(aq) - rq.ln(),
            a / s - aq / rq,
        ],
    )
}

fn beta_gamma<'t>(
    q_name: &'static str,
    a: Tensor<'t>,
    b: Tensor<'t>,
    aq: Tensor<'t>,
    rq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape("Beta", q_name, &[a, b, aq, rq])?;
    let kl = a.tape().fused_map([a, b, aq, rq], |_, [a, b, aq, rq]| {
        beta_gamma_kl(a, b, aq, rq)
    })?;
    to_shape(kl, shape)
}

macro_rules! beta_gamma_pairs {
    ($($q:ident),*) => {$(
        kl!(
            /// KL(Beta ‖ gamma-family q), q written as Gamma(αq, βq) (PyTorch `_kl_beta_gamma`,
            /// `_kl_beta_exponential`).
            Beta, $q, |p, q| {
                let (aq, rq) = q.as_gamma();
                beta_gamma(stringify!($q), p.concentration1(), p.concentration0(), aq, rq)
            }
        );
    )*};
}

beta_gamma_pairs!(Exponential, Gamma, Chi2);

/// KL(Beta(αp, βp) ‖ Beta(αq, βq)) and its partials in (αp, βp, αq, βq); the two ln B are
/// each formed by [`ln_beta`] (Stirling differences for large arguments), so identical
/// distributions give exactly 0 and β = 1e8 keeps its digits.
fn beta_beta_kl(ap: f64, bp: f64, aq: f64, bq: f64) -> (f64, [f64; 4]) {
    let (sp, sq) = (ap + bp, aq + bq);
    let (psi_a, psi_b, psi_s) = (digamma(ap), digamma(bp), digamma(sp));
    let v = ln_beta(aq, bq) - ln_beta(ap, bp)
        + (ap - aq) * psi_a
        + (bp - bq) * psi_b
        + (sq - sp) * psi_s;
    let tri_s = trigamma(sp);
    let psi_sq = digamma(sq);
    (
        v,
        [
            (ap - aq) * trigamma(ap) + (sq - sp) * tri_s,
            (bp - bq) * trigamma(bp) + (sq - sp) * tri_s,
            digamma(aq) - psi_sq - psi_a + psi_s,
            digamma(bq) - psi_sq - psi_b + psi_s,
        ],
    )
}

kl!(
    /// KL(Beta(αp, βp) ‖ Beta(αq, βq)) = ln B(αq, βq) − ln B(αp, βp) + (αp − αq)ψ(αp) +
    /// (βp − βq)ψ(βp) + (αq + βq − αp − βp)ψ(αp + βp) (PyTorch `_kl_beta_beta`).
    Beta, Beta, |p, q| {
        let (ap, bp, aq, bq) = (
            p.concentration1(),
            p.concentration0(),
            q.concentration1(),
            q.concentration0(),
        );
        let shape = joint_shape("Beta", "Beta", &[ap, bp, aq, bq])?;
        let kl = ap
            .tape()
            .fused_map([ap, bp, aq, bq], |_, [ap, bp, aq, bq]| beta_beta_kl(ap, bp, aq, bq))?;
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Beta ‖ Uniform(a, b)) = −H(p) + ln(b − a), and +∞ unless [0, 1] ⊆ [a, b] (PyTorch
    /// `_kl_beta_uniform`).
    Beta, Uniform, |p, q| {
        let (a, b, lo, hi) = (p.concentration1(), p.concentration0(), q.low(), q.high());
        let shape = joint_shape("Beta", "Uniform", &[a, b, lo, hi])?;
        let kl = neg_entropy(a, b) + (hi - lo).ln();
        let out = mask([lo, hi], |[lo, hi]| lo > 0.0 || hi < 1.0)?;
        to_shape(inf_where(kl, out)?, shape)
    }
);

kl!(
    /// KL(Dirichlet(αp) ‖ Dirichlet(αq)) = ln Γ(Σαp) − ln Γ(Σαq) − Σ(ln Γ(αp) − ln Γ(αq)) +
    /// Σ(αp − αq)(ψ(αp) − ψ(Σαp)), sums over the last (event) axis (PyTorch
    /// `_kl_dirichlet_dirichlet`).
    Dirichlet, Dirichlet, |p, q| {
        let (ap, aq) = (p.concentration(), q.concentration());
        let k = ap.dims().last().copied().unwrap_or(0);
        if ap.ndim() == 0 || aq.ndim() == 0 || aq.dims().last() != Some(&k) {
            return Err(DistError::ShapeMismatch {
                dist: "Dirichlet",
                what: "KL divergence: event sizes of p and q",
                left: ap.shape(),
                right: aq.shape(),
            });
        }
        joint_shape("Dirichlet", "Dirichlet", &[ap, aq])?;
        let last = |t: Tensor<'t>| t.ndim() - 1;
        let (sp, sq) = (ap.sum_axis(last(ap))?, aq.sum_axis(last(aq))?);
        let mut keep = sp.dims().to_vec();
        keep.push(1);
        let sp_keep = sp.reshape(&keep)?;
        let lg = ap.lgamma() - aq.lgamma();
        let cross = (ap - aq) * (ap.digamma() - sp_keep.digamma());
        let sum_last = |t: Tensor<'t>| -> Result<Tensor<'t>, AdError> { t.sum_axis(t.ndim() - 1) };
        let kl = sp.lgamma() - sq.lgamma() - sum_last(lg)? + sum_last(cross)?;
        Ok(kl)
    }
);
