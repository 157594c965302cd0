//! The chi-squared distribution.

use crate::elementwise::prelude::*;
use crate::gamma::{SADDLE_POINT_SHAPE, dx_power, gamma_cdf, gamma_entropy, gamma_ln_density, ln_gamma_with_grad, ln_standard_gamma, shape_partial, xlogy_l};
use crate::util::positive;
use infer_ad::scalar::{digamma, lgamma};
use std::f64::consts::LN_2;

family! {
    /// The chi-squared distribution with ν degrees of freedom: Gamma(ν/2, rate ½),
    ///
    /// ln p(x) = −(ν/2) ln 2 + (ν/2 − 1) ln x − x/2 − ln Γ(ν/2), x ≥ 0.
    ///
    /// Entropy, cdf and the implicit reparameterization gradient are the Gamma's at α = ν/2,
    /// β = ½; mean ν; variance 2ν.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Chi2, Distribution};
    /// let tape = Tape::new();
    /// let d = Chi2::new(tape.var(2.0))?; // Exponential(½)
    /// let c = d.cdf(tape.constant(&ndarray::arr0(2.0)))?;
    /// assert!((c.to_vec()[0] - (1.0 - (-1.0f64).exp())).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Chi2`.
    pub struct Chi2 / Chi2K: Reparameterizable {
        /// A chi-squared distribution with `df` degrees of freedom (any positive real).
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when `df` is not finite and > 0, or is the one subnormal
        /// (5e-324) whose half underflows to 0.
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Chi2::new(tape.var(0.0)).is_err());
        /// ```
        new(df: Check::HALF_POSITIVE),
    }
}

impl Check {
    /// Chi2(ν) is Gamma(ν/2, ½): ν/2 must not underflow to 0, which it does for the one value
    /// ν = 5e-324 (the smallest subnormal).
    const HALF_POSITIVE: Check = Check {
        ok: |v| positive(v) && 0.5 * v > 0.0,
        reason: "must be finite and > 0, with df/2 > 0 (df ≥ 1e-323)",
    };
}

impl<'t> Elementwise<'t> for Chi2K<'t> {
    fn density([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
        let a = 0.5 * v;
        (
            // the Gamma(ν/2, ½) log density, in its stable form for a large ν
            gamma_ln_density(a, -LN_2, x.ln(), 0.5 * x),
            [dx_power(a, x) - 0.5, 0.5 * shape_partial(-LN_2, x.ln(), a)],
        )
    }

    const DOMAIN: Domain = Domain::NonNegative;

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar
    /// ν: (ν/2 − 1) ln x − x/2, with the partial ½ ln x for ν.
    fn data([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
        let a = 0.5 * v;
        let lx = x.ln();
        (
            xlogy_l(a - 1.0, lx) - 0.5 * x,
            [dx_power(a, x) - 0.5, 0.5 * lx],
        )
    }

    /// The parameter-only terms of the density, −(ν/2) ln 2 − ln Γ(ν/2), while ν/2 is below the size
    /// where [`gamma_ln_density`] takes the saddle-point form (NaN beyond: `log_prob_sum` then
    /// sums the kernel).
    fn norm([_, v]: [f64; 2]) -> (f64, [f64; 2]) {
        let a = 0.5 * v;
        if a >= SADDLE_POINT_SHAPE {
            return (f64::NAN, [0.0; 2]);
        }
        (-a * LN_2 - lgamma(a), [0.0, 0.5 * (-LN_2 - digamma(a))])
    }

    fn cdf() -> Option<impl Formula<[f64; 2]>> {
        Some(|[x, v]: [f64; 2]| {
            let (c, [dx, da, _]) = gamma_cdf(x, 0.5 * v, 0.5);
            (c, [dx, 0.5 * da])
        })
    }

    fn draw([_, v]: [f64; 2], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        Ok(2.0 * ln_standard_gamma(rng, 0.5 * v, NAME)?.exp())
    }

    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let [x, dx] = implicit(self, rng, |[_, v], rng| {
            let (l, d) = ln_gamma_with_grad(rng, 0.5 * v, NAME)?;
            let x = 2.0 * l.exp();
            // 0 · ∞ = 0: a draw that underflowed to 0 does not move with ν
            Ok([x, 0.5 * util::mul0(x, d)])
        })?;
        util::rdraws(
            NAME,
            self.df
                .tape()
                .fused_map([self.df, x, dx], |_, [_, x, dx]| (x, [dx, 0.0, 0.0]))?,
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[v]| {
            let (h, [da, _]) = gamma_entropy(0.5 * v, 0.5);
            (h, [0.5 * da])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.df.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.df.scale(2.0).broadcast_to(self.batch)?)
    }
}
