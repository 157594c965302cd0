//! The Laplace distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, FINITE, POSITIVE, finite, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Laplace";

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

family! {
    /// The Laplace (double-exponential) distribution with location μ and scale b:
    ///
    /// ln p(x) = −ln(2b) − |x − μ|/b.
    ///
    /// Entropy 1 + ln(2b); mean μ; variance 2b²; cdf ½ − ½ sgn(x − μ)(e^{−|x − μ|/b} − 1);
    /// pathwise draws μ − b sgn(u) ln(1 − |u|), u ~ U(−1, 1). The derivative of |·| at 0 is 0.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Laplace};
    /// let tape = Tape::new();
    /// let d = Laplace::new(tape.var(0.0), tape.var(1.0))?;
    /// assert_eq!(d.variance()?.to_vec(), vec![2.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Laplace`.
    pub struct Laplace / LaplaceK {
        params: [loc, scale],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Laplace<'t> {
    /// A Laplace distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
    /// and > 0; [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Laplace::new(tape.var(0.0), tape.var(0.0)).is_err());
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
        Ok(Laplace { loc, scale, batch })
    }
}

fn kernel([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let d = x - m;
    let g = sign(d) / s;
    let r = d.abs() / s;
    // ∂/∂s = (|d|/s − 1)/s, here times s: s² underflows to 0 for a tiny scale, and
    // −1/s + |d|/s² was then −1/s + 0/0 (NaN at x = loc); ln 2s as ln 2 + ln s (2s overflows)
    (-std::f64::consts::LN_2 - s.ln() - r, [-g, sign(d), r - 1.0])
}

/// The partials of [`kernel`] for μ and σ are in scaled form (times σ).
const SCALED: util::Scaled<3> = util::Scaled {
    by: 2,
    pow: [0, 1, 1],
};

impl<'t> Kernel<'t> for LaplaceK<'t> {
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
        util::lp_sum_scaled(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            kernel,
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
            (1.0 + (2.0 * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.loc.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| (2.0 * s * s, [4.0 * s]))
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.loc, self.scale],
            |[x, m, s]| {
                let d = x - m;
                let e = (-d.abs() / s).exp();
                let p = 0.5 * e / s;
                (
                    0.5 - 0.5 * sign(d) * (-d.abs() / s).exp_m1(),
                    [p, -p, -util::mul0(p, d / s)],
                )
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }
}

/// Standard Laplace noise −sgn(u) ln(1 − |u|), u ~ U(−1, 1).
fn noise(rng: &mut dyn rand::RngCore, n: usize) -> Vec<f64> {
    util::uniforms(rng, n)
        .into_iter()
        .map(|u| {
            let u = 2.0 * u - 1.0;
            -sign(u) * (-u.abs()).ln_1p()
        })
        .collect()
}

impl<'t> RKernel<'t> for LaplaceK<'t> {
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
