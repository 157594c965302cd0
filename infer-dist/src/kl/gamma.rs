//! KL divergences from the gamma family: Gamma(α, β), Exponential(λ) = Gamma(1, λ),
//! Chi2(k) = Gamma(k/2, 1/2), and InverseGamma (the image of a Gamma under x ↦ 1/x).
//!
//! Every member is written as a `(concentration, rate)` pair, so Exponential–Gamma,
//! Gamma–Chi2, … are all the Gamma–Gamma formula (PyTorch `_kl_gamma_gamma`; its
//! `_kl_exponential_exponential`, `_kl_exponential_gamma` and `_kl_gamma_exponential` are the
//! same function at α = 1, and Chi2 is a subclass of Gamma there). Against Normal and Gumbel:
//! PyTorch `_kl_gamma_normal`, `_kl_gamma_gumbel` (and their Exponential specialisations).

use super::{constant, joint_shape, kl, to_shape};
use crate::{Chi2, DistError, Exponential, Gamma};
use infer_ad::Tensor;
use infer_ad::scalar::{digamma, lgamma, trigamma};

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
        (self.df() * 0.5, constant(self.df(), 0.5))
    }
}

/// KL(Gamma(αp, βp) ‖ Gamma(αq, βq)) = αq ln(βp/βq) + ln Γ(αq) − ln Γ(αp) +
/// (αp − αq) ψ(αp) + (βq − βp) αp/βp, as one fused node.
pub(crate) fn gamma_gamma<'t>(
    names: (&'static str, &'static str),
    ap: Tensor<'t>,
    rp: Tensor<'t>,
    aq: Tensor<'t>,
    rq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(names.0, names.1, &[ap, rp, aq, rq])?;
    let kl = ap
        .tape()
        .fused_map([ap, rp, aq, rq], |_, [ap, rp, aq, rq]| {
            let psi_p = digamma(ap);
            let v = aq * (rp / rq).ln() + lgamma(aq) - lgamma(ap)
                + (ap - aq) * psi_p
                + (rq - rp) * ap / rp;
            (
                v,
                [
                    (ap - aq) * trigamma(ap) + rq / rp - 1.0,
                    aq / rp - ap * rq / (rp * rp),
                    (rp / rq).ln() + digamma(aq) - psi_p,
                    ap / rp - aq / rq,
                ],
            )
        })?;
    to_shape(kl, shape)
}

/// −H(Gamma(α, β)) = −α + ln β − ln Γ(α) + (α − 1) ψ(α).
pub(crate) fn neg_entropy<'t>(a: Tensor<'t>, r: Tensor<'t>) -> Tensor<'t> {
    r.ln() - a - a.lgamma() + (a - 1.0) * a.digamma()
}

/// KL(Gamma(α, β) ‖ Normal(m, σ)) = −H(p) + ½ ln(2πσ²) + (α/β² + (α/β − m)²)/(2σ²).
fn gamma_normal<'t>(
    names: (&'static str, &'static str),
    a: Tensor<'t>,
    r: Tensor<'t>,
    m: Tensor<'t>,
    s: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(names.0, names.1, &[a, r, m, s])?;
    let mean = a / r;
    let second = a / r.square() + (mean - m).square();
    let kl = neg_entropy(a, r) + s.ln() + HALF_LN_2PI + second / (s.square() * 2.0);
    to_shape(kl, shape)
}

/// KL(Gamma(α, β) ‖ Gumbel(m, b)) = (α − 1)ψ(α) − ln Γ(α) − α + ln(βb) + α/(βb) +
/// exp(m/b − α ln(1 + 1/(βb))) − m/b.
fn gamma_gumbel<'t>(
    names: (&'static str, &'static str),
    a: Tensor<'t>,
    r: Tensor<'t>,
    m: Tensor<'t>,
    b: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(names.0, names.1, &[a, r, m, b])?;
    let rb = r * b;
    let u = m / b;
    let t1 = (a - 1.0) * a.digamma() - a.lgamma() - a;
    let t2 = rb.ln() + a / rb;
    let t3 = (u - a * rb.recip().ln_1p()).exp() - u;
    to_shape(t1 + t2 + t3, shape)
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
                gamma_normal((<$p<'t> as AsGamma<'t>>::NAME, "Normal"), a, r, q.loc(), q.scale())
            }
        );
        kl!(
            /// KL(p ‖ Gumbel), with p written as Gamma(α, β) (PyTorch `_kl_gamma_gumbel`).
            $p, Gumbel, |p, q| {
                let (a, r) = p.as_gamma();
                gamma_gumbel((<$p<'t> as AsGamma<'t>>::NAME, "Gumbel"), a, r, q.loc(), q.scale())
            }
        );
    )*};
    (@q $p:ident, $($q:ident),*) => {$(
        kl!(
            /// The Gamma–Gamma formula with both sides written as Gamma(α, β) (PyTorch
            /// `_kl_gamma_gamma`).
            $p, $q, |p, q| {
                let ((ap, rp), (aq, rq)) = (p.as_gamma(), q.as_gamma());
                gamma_gamma(
                    (<$p<'t> as AsGamma<'t>>::NAME, <$q<'t> as AsGamma<'t>>::NAME),
                    ap, rp, aq, rq,
                )
            }
        );
    )*};
}

gamma_pairs!(Exponential, Gamma, Chi2);

kl!(
    /// KL(InverseGamma(αp, βp) ‖ InverseGamma(αq, βq)) = KL(Gamma(αp, βp) ‖ Gamma(αq, βq)): both
    /// are the image of the Gamma under x ↦ 1/x (PyTorch `_kl_transformed_transformed`).
    InverseGamma, InverseGamma, |p, q| gamma_gamma(
        ("InverseGamma", "InverseGamma"),
        p.concentration(),
        p.rate(),
        q.concentration(),
        q.rate(),
    )
);
