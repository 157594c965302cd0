//! The Pareto (type I) distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, lp_sum, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Pareto";

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
    pub struct Pareto / ParetoK {
        params: [scale, alpha],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Pareto<'t> {
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
    #[inline]
    pub fn new(
        scale: impl crate::IntoParam<'t>,
        alpha: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [scale, alpha] = crate::param::take_params!(NAME; scale, alpha);
        check_param(NAME, "scale", &scale, positive, POSITIVE)?;
        check_param(NAME, "alpha", &alpha, positive, POSITIVE)?;
        let batch = util::param_batch(NAME, &[&scale, &alpha])?;
        Ok(Pareto {
            scale,
            alpha,
            batch,
        })
    }
}

fn kernel([x, s, a]: [f64; 3]) -> (f64, [f64; 3]) {
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

impl<'t> Kernel<'t> for ParetoK<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.scale, self.alpha], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(NAME, self.batch, [value, self.scale, self.alpha], kernel)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let s = util::bvals(self.scale, self.batch);
        let a = util::bvals(self.alpha, self.batch);
        util::draws(
            NAME,
            self.batch,
            (0..u.len())
                .map(|i| s[i] * (-u[i].ln() / a[i]).exp())
                .collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.alpha], |[s, a]| {
            (
                (s / a).ln() + 1.0 / a + 1.0,
                [1.0 / s, -1.0 / a - 1.0 / (a * a)],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.alpha], |[s, a]| {
            if a > 1.0 {
                let r = 1.0 / (a - 1.0);
                (a * s * r, [a * r, -s * r * r])
            } else {
                (f64::INFINITY, [0.0; 2])
            }
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.alpha], |[s, a]| {
            if a > 2.0 {
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
            } else {
                (f64::INFINITY, [0.0; 2])
            }
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.scale, self.alpha],
            |[x, s, a]| {
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
            },
        )
    }

    fn support(&self) -> Constraint {
        let low = self
            .scale
            .to_vec()
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        Constraint::GreaterThanEq(low)
    }
}

impl<'t> RKernel<'t> for ParetoK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.scale.tape();
        let e = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(|u| -u.ln())
            .collect();
        let e = util::constant(tape, self.batch, e)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.scale, self.alpha, e], |_, [s, a, e]| {
                let w = (e / a).exp();
                let x = s * w;
                // ∂x/∂α = −x e/α² as −(x · (e/α))/α: α² and x·e overflow separately
                // (α = 1e200, x = f64::MAX: ∞/∞) while the partial is ~1e-92
                (x, [w, -(x * (e / a)) / a, 0.0])
            })?,
        )
    }
}
