//! The Pareto (type I) distribution.

use crate::elementwise::prelude::*;

family! {
    /// The Pareto distribution with scale s (the minimum) and shape α:
    ///
    /// ln p(x) = ln α + α ln s − (α + 1) ln x, x ≥ s.
    ///
    /// Entropy ln(s/α) + 1/α + 1; mean αs/(α − 1) for α > 1 (∞ otherwise); variance
    /// s²α/((α − 1)²(α − 2)) for α > 2 (∞ otherwise); cdf 1 − (s/x)^α; pathwise draws s e^{E/α},
    /// E ~ Exp(1).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Pareto};
    /// let tape = Tape::new();
    /// let d = Pareto::new(tape.var(1.0), tape.var(3.0))?;
    /// assert!((d.mean()?.to_vec()[0] - 1.5).abs() < 1e-15);
    /// assert_eq!(d.log_prob(tape.constant(&ndarray::arr0(0.5)))?.to_vec()[0], f64::NEG_INFINITY);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Pareto`.
    pub struct Pareto / ParetoK: Reparameterizable {
        /// A Pareto distribution with minimum `scale` and shape `alpha`.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Pareto::new(tape.var(1.0), tape.var(f64::NAN)).is_err());
        /// ```
        new(scale: Check::POSITIVE, alpha: Check::POSITIVE),
        support: |k| Constraint::GreaterThanEq(util::lowest(k.scale)),
    }
}

impl<'t> Elementwise<'t> for ParetoK<'t> {
    fn density([x, s, a]: [f64; 3]) -> (f64, [f64; 3]) {
        if !(x >= s) || x.is_infinite() {
            return util::off_support(x);
        }
        let (lx, ls) = (x.ln(), s.ln());
        (
            // a (ln s − ln x) − ln x: a ln s − (a + 1) ln x is ∞ − ∞ for a huge a
            a.ln() + a * (ls - lx) - lx,
            [-(a + 1.0) / x, a / s, 1.0 / a + ls - lx],
        )
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, s, a]: [f64; 3]| {
            if !(x > s) {
                return (0.0, [0.0; 3]);
            }
            let l = (s / x).ln();
            let r = (a * l).exp();
            // (s/x)^a ln(s/x) → 0 as x → ∞ (0·∞ at x = ∞)
            (
                -(a * l).exp_m1(),
                [a * r / x, -a * r / s, -util::mul0(r, l)],
            )
        })
    }

    /// x = s e^{E/α}, E = −ln u.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| -util::uniform(rng).ln(),
            |[e, s, a]: [f64; 3]| {
                let w = (e / a).exp();
                let x = s * w;
                // ∂x/∂α = −x e/α² as −(x · (e/α))/α: α² and x·e overflow separately
                // (α = 1e200, x = f64::MAX: ∞/∞) while the partial is ~1e-92
                (x, [0.0, w, -(x * (e / a)) / a])
            },
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[s, a]| {
            (
                (s / a).ln() + 1.0 / a + 1.0,
                [1.0 / s, -1.0 / a - 1.0 / (a * a)],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[s, a]| {
            util::finite_if(a > 1.0, || {
                let r = 1.0 / (a - 1.0);
                (a * s * r, [a * r, -s * r * r])
            })
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[s, a]| {
            util::finite_if(a > 2.0, || {
                // v = s² a/((a − 1)²(a − 2)) as a product of ratios ((a − 1)²(a − 2) overflows
                // for a ≳ 5e102, and the partials were then ∞/∞);
                // ∂v/∂a = v (1/a − 2/(a − 1) − 1/(a − 2))
                let r = s / (a - 1.0);
                let v = r * r * (a / (a - 2.0));
                (
                    v,
                    [
                        2.0 * r * (a / (a - 1.0)) / (a - 2.0),
                        v * (1.0 / a - 2.0 / (a - 1.0) - 1.0 / (a - 2.0)),
                    ],
                )
            })
        })
    }
}

