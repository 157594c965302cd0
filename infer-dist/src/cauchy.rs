//! The Cauchy distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, FINITE, POSITIVE, finite, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;
use std::f64::consts::PI;

const NAME: &str = "Cauchy";

family! {
    /// The Cauchy distribution with location μ and scale γ:
    ///
    /// ln p(x) = −ln π − ln γ − ln(1 + z²), z = (x − μ)/γ.
    ///
    /// Entropy ln(4πγ); cdf ½ + atan(z)/π; mean NaN and variance ∞ (as PyTorch returns);
    /// pathwise draws x = μ + γ tan(π(u − ½)).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Cauchy, Distribution};
    /// let tape = Tape::new();
    /// let d = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.0)))?;
    /// assert!((lp.to_vec()[0] + std::f64::consts::PI.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Cauchy`.
    pub struct Cauchy / CauchyK {
        params: [loc, scale],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Cauchy<'t> {
    /// A Cauchy distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
    /// and > 0; [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Cauchy::new(tape.var(0.0), tape.var(f64::NAN)).is_err());
    /// ```
    #[inline]
    pub fn new(
        loc: impl crate::IntoParam<'t>,
        scale: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [loc, scale] = crate::param::take_params!(NAME; loc, scale);
        check_param(NAME, "loc", &loc, finite, FINITE)?;
        check_param(NAME, "scale", &scale, positive, POSITIVE)?;
        let batch = util::param_batch(NAME, &[&loc, &scale])?;
        Ok(Cauchy { loc, scale, batch })
    }
}

fn kernel([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let z = (x - m) / s;
    let z2 = z * z;
    // ln(1 + z²) by ln_1p, and with z/(1 + z²) and (z² − 1)/(z² + 1) = 1 − 2/(1 + z²) also
    // when z² overflows (2 ln|z| from the logs, 1/z, 1): the ratios of infinities were NaN
    let (l, gz) = if z2.is_finite() {
        (z2.ln_1p(), z / (1.0 + z2))
    } else {
        (2.0 * (util::ln_abs_diff(x, m) - s.ln()), 1.0 / z)
    };
    (
        -PI.ln() - s.ln() - l,
        [-2.0 * gz / s, 2.0 * gz, 1.0 - 2.0 / (1.0 + z2)],
    )
}

/// [`kernel`] without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar
/// μ and σ: −ln(1 + z²), with ∂/∂σ = (1 − 2/(1 + z²))/σ + 1/σ.
fn data([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let z = (x - m) / s;
    let z2 = z * z;
    let (l, gz) = if z2.is_finite() {
        (z2.ln_1p(), z / (1.0 + z2))
    } else {
        (2.0 * (util::ln_abs_diff(x, m) - s.ln()), 1.0 / z)
    };
    (-l, [-2.0 * gz / s, 2.0 * gz, 2.0 - 2.0 / (1.0 + z2)])
}

/// The parameter-only terms of [`kernel`]: −ln π − ln σ.
fn norm([_, _, s]: [f64; 3]) -> (f64, [f64; 3]) {
    (-PI.ln() - s.ln(), [0.0, 0.0, -1.0])
}

/// The partials of [`kernel`], [`data`] and [`norm`] for μ and σ are in scaled form
/// (times σ: bounded, where the partials overflow for a subnormal σ).
const SCALED: util::Scaled<3> = util::Scaled {
    by: 2,
    pow: [0, 1, 1],
};

impl<'t> Kernel<'t> for CauchyK<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            SCALED.kernel(kernel),
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        util::lp_sum_hoisted(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            kernel,
            data,
            norm,
            SCALED,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let m = util::bvals(self.loc, self.batch);
        let s = util::bvals(self.scale, self.batch);
        let x = (0..u.len())
            .map(|i| m[i] + s[i] * (PI * (u[i] - 0.5)).tan())
            .collect();
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            ((4.0 * PI * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.loc], |_| (f64::NAN, [0.0]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |_| (f64::INFINITY, [0.0]))
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            |[x, m, s]| {
                let z = (x - m) / s;
                let d = 1.0 / (PI * s * (1.0 + z * z));
                // the density times z → 0 as |z| → ∞ (0·∞ at z = ±∞)
                (0.5 + z.atan() / PI, [d, -d, -util::mul0(d, z)])
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }
}

impl<'t> RKernel<'t> for CauchyK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.loc.tape();
        let c = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(|u| (PI * (u - 0.5)).tan())
            .collect();
        let eps = util::constant(tape, self.batch, c)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.loc, self.scale, eps], |_, [m, s, e]| {
                (m + s * e, [1.0, e, 0.0])
            })?,
        )
    }
}
