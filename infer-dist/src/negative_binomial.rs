//! The negative binomial distribution (PyTorch's convention).

use crate::elementwise::prelude::*;
use crate::binomial::{bd0, stirlerr};
use crate::gamma::{ln_standard_gamma, xlogy};
use crate::poisson::poisson_draw;
use infer_ad::scalar::lgamma;

family! {
    /// The negative binomial distribution as PyTorch defines it: the number of successes before
    /// r = `total_count` failures, each trial succeeding with probability p = `probs`:
    ///
    /// ln P(k) = ln Γ(r + k) − ln k! − ln Γ(r) + r ln(1 − p) + k ln p, k ∈ {0, 1, …}.
    ///
    /// Mean rp/(1 − p); variance rp/(1 − p)²; no entropy (as PyTorch). Gradients flow to `probs`
    /// and to the (real) `total_count`. Sampled as a Gamma–Poisson mixture. Not reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, NegativeBinomial};
    /// let tape = Tape::new();
    /// let d = NegativeBinomial::new(tape.var(3.0), tape.var(0.25))?;
    /// assert!((d.mean()?.to_vec()[0] - 1.0).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.NegativeBinomial`.
    pub struct NegativeBinomial / NegativeBinomialK {
        /// A negative binomial distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a `total_count` that is not finite and > 0 or a
        /// probability outside [0, 1); [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::NegativeBinomial::new(tape.var(2.0), tape.var(1.0)).is_err());
        /// ```
        new(total_count: Check::POSITIVE, probs: Check::BELOW_ONE),
    }
}

impl Check {
    /// A success probability below 1 (at p = 1 there is no failure to wait for).
    const BELOW_ONE: Check = Check {
        ok: |p| (0.0..1.0).contains(&p),
        reason: "must be a probability in [0, 1)",
    };
}

impl<'t> Elementwise<'t> for NegativeBinomialK<'t> {
    fn density([k, r, p]: [f64; 3]) -> (f64, [f64; 3]) {
        if p == 0.0 {
            // the point mass at 0 (ln C(k + r − 1, k) + k ln 0 is ∞ − ∞ for huge k and r)
            return if k == 0.0 {
                (0.0, [0.0, 0.0, -r])
            } else {
                util::neg_inf()
            };
        }
        let l1p = (-p).ln_1p();
        let mut dp = (if k == 0.0 { 0.0 } else { k / p }) - r / (1.0 - p);
        if dp.is_nan() {
            // k/p and r/(1 − p) both overflow (k = f64::MAX, p = 1 − 2⁻⁵³): one quotient,
            // (k(1 − p) − rp)/(p(1 − p)), whose numerator cannot overflow
            let q = 1.0 - p;
            dp = (k * q - r * p) / p / q;
        }
        // for r, k ≥ 1e10 the whole log probability in Loader's form (the terms k ln p and
        // r ln(1 − p) are of size k, r and cancel against the ln Γs); else ln C(k + r − 1, k) =
        // ln Γ(r + k) − ln Γ(k + 1) − ln Γ(r), the difference of the two ln Γs of the larger
        // argument by Stirling's difference (∞ − ∞ for an argument ≳ 1e305, and cancelling
        // before), plus the power terms
        let lp = if r.min(k) >= 1e10 {
            ln_pmf_large(k, r, p)
        } else {
            let lc = if r >= k {
                special::lgamma_diff(r, k) - lgamma(k + 1.0)
            } else {
                special::lgamma_diff(k + 1.0, r - 1.0) - lgamma(r)
            };
            lc + r * l1p + xlogy(k, p)
        };
        (lp, [0.0, special::digamma_diff(r, k) + l1p, dp])
    }

    const DOMAIN: Domain = Domain::Count;

    fn draw([_, r, p]: [f64; 3], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        if p == 0.0 {
            return Ok(0.0);
        }
        // λ ~ Gamma(r, scale p/(1 − p)), k ~ Poisson(λ)
        let lam = (ln_standard_gamma(rng, r, NAME)? + p.ln() - (-p).ln_1p()).exp();
        poisson_draw(rng, lam, NAME)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[r, p]| {
            let q = 1.0 - p;
            (r * p / q, [p / q, r / (q * q)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[r, p]| {
            let q = 1.0 - p;
            (r * p / (q * q), [p / (q * q), r * (1.0 + p) / (q * q * q)])
        })
    }
}

/// ln P(K = k) for r, k ≥ 1e10 and 0 < p < 1, from f = r/(k + r) · C(k + r, k) pᵏ (1 − p)ʳ
/// with the binomial factor in Loader's saddle-point form (see [`crate::binomial`]): with
/// n = k + r, ln f = ln(r/n) + δ(n) − δ(k) − δ(r) − bd0(k, np) − bd0(r, nq) − ½ ln(2πkr/n).
/// The terms k ln p, r ln(1 − p) and the ln Γs are each ~1e308 at r, k ~ 1e308 and cancel to
/// a result of a few hundred; n, np and the bd0 terms are taken by halves (n overflows).
fn ln_pmf_large(k: f64, r: f64, p: f64) -> f64 {
    let (hk, hr) = (0.5 * k, 0.5 * r);
    let hn = hk + hr;
    let ln_n = hn.ln() + std::f64::consts::LN_2;
    let d = hk - hn * p;
    let bd = 2.0 * (bd0(hk, hn * p, d) + bd0(hr, hn * (1.0 - p), -d));
    r.ln() - ln_n + stirlerr(2.0 * hn)
        - stirlerr(k)
        - stirlerr(r)
        - bd
        - 0.5 * ((2.0 * std::f64::consts::PI).ln() + k.ln() + r.ln() - ln_n)
}

