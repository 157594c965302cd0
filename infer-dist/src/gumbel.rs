//! The Gumbel (type-I extreme value) distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, FINITE, POSITIVE, finite, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;
use std::f64::consts::PI;

const NAME: &str = "Gumbel";

/// The Euler–Mascheroni constant γ.
pub(crate) const EULER: f64 = 0.577_215_664_901_532_9;

family! {
    /// The Gumbel distribution with location μ and scale β:
    ///
    /// ln p(x) = −z − e^{−z} − ln β, z = (x − μ)/β.
    ///
    /// Entropy ln β + 1 + γ; mean μ + βγ; variance π²β²/6; cdf exp(−e^{−z}); pathwise draws
    /// μ − β ln(−ln u).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Gumbel};
    /// let tape = Tape::new();
    /// let d = Gumbel::new(tape.var(0.0), tape.var(1.0))?;
    /// let c = d.cdf(tape.constant(&ndarray::arr0(0.0)))?;
    /// assert!((c.to_vec()[0] - (-1.0f64).exp()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Gumbel`.
    pub struct Gumbel / GumbelK {
        params: [loc, scale],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Gumbel<'t> {
    /// A Gumbel distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
    /// and > 0; [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Gumbel::new(tape.var(f64::INFINITY), tape.var(1.0)).is_err());
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
        Ok(Gumbel { loc, scale, batch })
    }
}

fn kernel([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let z = (x - m) / s;
    let e = (-z).exp();
    if e.is_infinite() {
        return util::neg_inf();
    }
    let dz = e - 1.0;
    (-z - e - s.ln(), [dz / s, -dz, -dz * z - 1.0])
}

/// [`kernel`] without its parameter-only term ([`norm`]), for `log_prob_sum` with scalar
/// μ and β.
fn data([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let z = (x - m) / s;
    let e = (-z).exp();
    if e.is_infinite() {
        return util::neg_inf();
    }
    let dz = e - 1.0;
    (-z - e, [dz / s, -dz, -dz * z])
}

/// The parameter-only term of [`kernel`]: −ln β.
fn norm([_, _, s]: [f64; 3]) -> (f64, [f64; 3]) {
    (-s.ln(), [0.0, 0.0, -1.0])
}

/// The partials of [`kernel`], [`data`] and [`norm`] for μ and σ are in scaled form
/// (times σ: 1 − e^(−z) ≤ 1 and z(1 − e^(−z)) − 1 ≥ −1, of one sign where they overflow).
const SCALED: util::Scaled<3> = util::Scaled {
    by: 2,
    pow: [0, 1, 1],
};

impl<'t> Kernel<'t> for GumbelK<'t> {
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
        let e = noise(rng, self.batch.numel());
        let m = util::bvals(self.loc, self.batch);
        let s = util::bvals(self.scale, self.batch);
        util::draws(
            NAME,
            self.batch,
            (0..e.len()).map(|i| m[i] + s[i] * e[i]).collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            (s.ln() + 1.0 + EULER, [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.loc, self.scale], |[m, s]| {
            (m + s * EULER, [1.0, EULER])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let c = PI * PI / 6.0;
        param_map(self.batch, [self.scale], move |[s]| {
            (c * s * s, [2.0 * c * s])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            |[x, m, s]| {
                let z = (x - m) / s;
                let e = (-z).exp();
                let c = (-e).exp();
                let d = c * e / s;
                if !d.is_finite() {
                    return (c, [0.0; 3]);
                }
                (c, [d, -d, -util::mul0(d, z)])
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }
}

/// Standard Gumbel noise −ln(−ln u).
fn noise(rng: &mut dyn rand::RngCore, n: usize) -> Vec<f64> {
    util::uniforms(rng, n)
        .into_iter()
        .map(|u| -(-u.ln()).ln())
        .collect()
}

impl<'t> RKernel<'t> for GumbelK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.loc.tape();
        let eps = util::constant(tape, self.batch, noise(rng, self.batch.numel()))?;
        util::rdraws(
            NAME,
            tape.fused_map([self.loc, self.scale, eps], |_, [m, s, e]| {
                (m + s * e, [1.0, e, 0.0])
            })?,
        )
    }
}
