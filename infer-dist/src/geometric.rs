//! The geometric distribution (failures before the first success).

use crate::elementwise::prelude::*;

family! {
    /// The geometric distribution: the number of failures before the first success in Bernoulli(p)
    /// trials,
    ///
    /// ln P(k) = k ln(1 − p) + ln p, k ∈ {0, 1, …}; −∞ elsewhere.
    ///
    /// Entropy −(p ln p + (1 − p) ln(1 − p))/p; mean (1 − p)/p; variance (1 − p)/p². Not
    /// reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Geometric};
    /// let tape = Tape::new();
    /// let d = Geometric::new(tape.var(0.5))?;
    /// assert_eq!(d.mean()?.to_vec(), vec![1.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Geometric`.
    pub struct Geometric / GeometricK {
        /// A geometric distribution with success probability `probs` ∈ (0, 1].
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a probability outside (0, 1] (or NaN).
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Geometric::new(tape.var(0.0)).is_err());
        /// ```
        new(probs: Check::ABOVE_ZERO),
    }
}

impl Check {
    /// A success probability above 0 (at p = 0 the first success never comes).
    const ABOVE_ZERO: Check = Check {
        ok: |p| p > 0.0 && p <= 1.0,
        reason: "must be a probability in (0, 1]",
    };
}

impl<'t> Elementwise<'t> for GeometricK<'t> {
    fn density([k, p]: [f64; 2]) -> (f64, [f64; 2]) {
        if k == 0.0 {
            return (p.ln(), [0.0, 1.0 / p]);
        }
        (k * (-p).ln_1p() + p.ln(), [0.0, -k / (1.0 - p) + 1.0 / p])
    }

    const DOMAIN: Domain = Domain::Count;

    /// Inversion, K = ⌊ln U / ln(1 − p)⌋ with ln(1 − p) by ln_1p: P(K ≥ k) = P(U ≤ (1 − p)ᵏ)
    /// = (1 − p)ᵏ. rand_distr's Geometric loops forever when 1 − p rounds to 1
    /// (p ≲ 1e-17); this is one draw and exact for every p in (0, 1]. U is in (0, 1), so
    /// ln U < 0 and p = 1 gives ln(1 − p) = −∞, K = 0.
    fn draw([_, p]: [f64; 2], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        Ok((util::uniform(rng).ln() / (-p).ln_1p()).floor())
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        // H = (−p ln p − q ln q)/p = −ln p − q ln(1 − p)/p with ln(1 − p) by ln_1p (for
        // p ≲ 1e-16, q = 1 − p rounds to 1 and the textbook form drops the 1 of
        // H ≈ 1 − ln p); dH/dp = ln(1 − p)/p².
        self.map_params(|[p]| {
            let q = 1.0 - p;
            let l1 = (-p).ln_1p();
            let t = if q == 0.0 { 0.0 } else { q * l1 / p };
            (-p.ln() - t, [l1 / p / p])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[p]| {
            (1.0 / p - 1.0, [-1.0 / p / p])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        // d/dp (1 − p)/p² = (p − 2)/p³, one term (the difference of two would be ∞ − ∞ for a
        // tiny p)
        self.map_params(|[p]| {
            ((1.0 - p) / p / p, [(p - 2.0) / p / p / p])
        })
    }
}

