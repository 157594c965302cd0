//! The inverse-gamma distribution.

use crate::elementwise::prelude::*;
use crate::gamma::{
    gamma_entropy_shape, gamma_ln_density, ln_gamma_with_grad, ln_standard_gamma, std_gamma_pdf,
};
use crate::gamma::gamma_norm;
use crate::special::{gamma_p_da, gamma_q};
use infer_ad::scalar::{digamma, lgamma, trigamma};

family! {
    /// The inverse-gamma distribution: 1/G for G ~ Gamma(α, rate β),
    ///
    /// ln p(x) = α ln β − ln Γ(α) − (α + 1) ln x − β/x, x > 0.
    ///
    /// Entropy α + ln β + ln Γ(α) − (1 + α)ψ(α); mean β/(α − 1) for α > 1 (∞ otherwise);
    /// variance β²/((α − 1)²(α − 2)) for α > 2 (∞ otherwise); cdf Q(α, β/x). Reparameterizable
    /// through the Gamma's implicit gradients.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, InverseGamma};
    /// let tape = Tape::new();
    /// let d = InverseGamma::new(tape.var(3.0), tape.var(4.0))?;
    /// assert_eq!(d.mean()?.to_vec(), vec![2.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.InverseGamma`.
    pub struct InverseGamma / InverseGammaK: Reparameterizable {
        /// An inverse-gamma distribution with shape `concentration` and scale `rate` (the rate of
        /// the underlying Gamma).
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::InverseGamma::new(tape.var(1.0), tape.var(0.0)).is_err());
        /// ```
        new(concentration: Check::POSITIVE, rate: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for InverseGammaK<'t> {
    fn density([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let lx = x.ln();
        // b/x, not b·(1/x): 1/x overflows for a subnormal x where b/x does not
        let bx = b / x;
        // a ln b − (a + 1) ln x − b/x − ln Γ(a) is the Gamma(a, b) log density of 1/x (in the
        // saddle-point form for a large a, see `gamma_ln_density`) minus 2 ln x
        (
            gamma_ln_density(a, b.ln(), -lx, bx) - 2.0 * lx,
            [
                (bx - (a + 1.0)) / x,
                b.ln() - digamma(a) - lx,
                // a/b − 1/x as (a − b/x)/b, here times b: for a tiny b and x both quotients
                // overflowed (∞ − ∞)
                a - bx,
            ],
        )
    }

    const DOMAIN: Domain = Domain::Positive;

    /// The partial of the density, [`data`] and `norm` for the rate b is in scaled form (times
    /// b).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 0, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar a
    /// and b: −(a + 1) ln x − b/x, with the partials −ln x for a and −b/x for b (times b).
    fn data([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let lx = x.ln();
        let bx = b / x;
        (-(a + 1.0) * lx - bx, [(bx - (a + 1.0)) / x, -lx, -bx])
    }

    /// The parameter-only terms of the density, a ln b − ln Γ(a) (below the saddle-point
    /// shape): the Gamma(a, b) density's ([`gamma_norm`]).
    fn norm(a: [f64; 3]) -> (f64, [f64; 3]) {
        gamma_norm(a)
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, a, b]: [f64; 3]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 3]);
            }
            let y = b / x;
            let p = std_gamma_pdf(a, y);
            // p·b/x² as (p·y)/x: x² underflows to 0 for a tiny x (0/0)
            (
                gamma_q(a, y),
                [util::mul0(p, y) / x, -gamma_p_da(a, y), -p / x],
            )
        })
    }

    fn draw([_, a, b]: [f64; 3], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        Ok(b * (-ln_standard_gamma(rng, a, NAME)?).exp())
    }

    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        // x = β / G: store 1/G and −(d ln G/dα)/G.
        let [inv, dinv] = implicit(self, rng, |[_, a, _], rng| {
            let (l, d) = ln_gamma_with_grad(rng, a, NAME)?;
            let r = (-l).exp();
            Ok([r, -util::mul0(r, d)])
        })?;
        util::rdraws(
            NAME,
            self.rate.tape().fused_map(
                [self.concentration, self.rate, inv, dinv],
                |_, [_, b, r, dr]| (b * r, [b * dr, r, 0.0, 0.0]),
            )?,
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
            (
                // a + ln b + ln Γ(a) − (1 + a)ψ(a); for a ≥ 20 as the Gamma(a, 1) entropy
                // (stable for a huge a) + ln b − 2ψ(a)
                if a < 20.0 {
                    a + b.ln() + lgamma(a) - (1.0 + a) * digamma(a)
                } else {
                    gamma_entropy_shape(a) + b.ln() - 2.0 * digamma(a)
                },
                [1.0 - (1.0 + a) * trigamma(a), 1.0 / b],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
            util::finite_if(a > 1.0, || {
                let r = 1.0 / (a - 1.0);
                (b * r, [-b * r * r, r])
            })
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
            util::finite_if(a > 2.0, || {
                // b²/((a − 1)²(a − 2)) as r · r/(a − 2) with r = b/(a − 1): b² and the
                // denominator overflow separately (∞/∞ = NaN) for a huge a and b whose
                // variance is finite. ∂/∂a = −V (2/(a − 1) + 1/(a − 2)),
                // ∂/∂b = 2 (r/(a − 1))/(a − 2).
                let r = b / (a - 1.0);
                let v = r * (r / (a - 2.0));
                (
                    v,
                    [
                        -v * (2.0 / (a - 1.0) + 1.0 / (a - 2.0)),
                        2.0 * (r / (a - 1.0)) / (a - 2.0),
                    ],
                )
            })
        })
    }
}

