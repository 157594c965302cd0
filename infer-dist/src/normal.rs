//! The normal (Gaussian) distribution.

use crate::elementwise::prelude::*;
use crate::special::{LN_SQRT_2PI, normal_cdf};
use infer_ad::fastmath;

family! {
    /// The normal distribution N(loc, scale²):
    ///
    /// ln p(x) = −(x − μ)²/(2σ²) − ln σ − ln √(2π).
    ///
    /// Entropy ½ + ln √(2π) + ln σ; cdf Φ((x − μ)/σ); pathwise draws x = μ + σ ε.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Normal};
    /// let tape = Tape::new();
    /// let (loc, scale) = (tape.var(1.0), tape.var(2.0));
    /// let d = Normal::new(loc, scale)?;
    /// let lp = d.log_prob_sum(tape.constant(&ndarray::array![1.0, 3.0]))?;
    /// lp.backward();
    /// assert!((loc.grad() - 0.5).abs() < 1e-15); // Σ (x − μ)/σ²
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// Observed data is read in place, not copied (see [`crate::param`]): `log_prob_sum(&y)`
    /// records a few slots whatever the length of `y`, with the same result to the bit as
    /// `log_prob_sum(tape.constant(&y))`.
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Normal;
    /// let tape = Tape::new();
    /// let y = vec![1.0; 1000];
    /// let d = Normal::new(tape.var(1.0), tape.var(2.0))?;
    /// let before = tape.len();
    /// let lp = d.log_prob_sum(&y)?;
    /// assert!(tape.len() - before < 10);
    /// let want = -1000.0 * (2f64.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln());
    /// assert!((lp.value() - want).abs() < 1e-10);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Normal`.
    pub struct Normal / NormalK: Reparameterizable {
        /// A normal distribution with mean `loc` and standard deviation `scale` (scalars or arrays
        /// that broadcast).
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
        /// and > 0; [`DistError::ShapeMismatch`] when the shapes do not broadcast.
        ///
        /// # Examples
        /// ```
        /// use infer_ad::Tape;
        /// let tape = Tape::new();
        /// assert!(infer_dist::Normal::new(tape.var(0.0), tape.var(0.0)).is_err());
        /// let d = infer_dist::Normal::new(tape.var(0.0), tape.var(1.0))?;
        /// assert_eq!(d.scale().to_vec(), vec![1.0]);
        /// # Ok::<(), infer_dist::DistError>(())
        /// ```
        new(loc: Check::FINITE, scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for NormalK<'t> {
    #[inline]
    fn density([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let lp = |z: f64| -0.5 * z * z - fastmath::ln(s) - LN_SQRT_2PI;
        let r = 1.0 / s;
        if r.is_finite() {
            // The usual case: one division, then products.
            let z = (x - m) * r;
            (lp(z), [-z * r, x - m, z * z - 1.0])
        } else {
            // A subnormal σ: 1/σ is +∞ and (x − μ)·(1/σ) would be 0·∞ = NaN at x = μ, where the
            // density is finite; divide instead.
            let z = (x - m) / s;
            (lp(z), [-z / s, x - m, z * z - 1.0])
        }
    }

    const DOMAIN: Domain = Domain::Finite;

    /// The partials of the density are in scaled form: for μ times σ² (x − μ), for σ times σ
    /// (z² − 1).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 2, 1]));

    fn log_prob_sum_fast(&self, value: Operand<'_, 't>) -> Result<Option<Var<'t>>, DistError> {
        if self.loc.numel() != 1 || self.scale.numel() != 1 {
            return Ok(None);
        }
        // Scalar parameters: Σᵢ log N(xᵢ | μ, σ) = −½ Σᵢ (xᵢ − μ)² / σ² − n (ln σ + ln √(2π)).
        // The data term is one vectorized reduction node that stores nothing per element
        // (`Tensor::sum_sq_dev`, which also carries the gradient for μ); the rest is one
        // node with its partials for that sum and for σ.
        util::value_shape(NAME, value.shape(), self.batch)?;
        let s = self.scale.item()?.value();
        // The hoisted factor ∂/∂Σ(x − μ)² = −1/(2σ²) must be representable: for
        // σ ≲ 1e-154, σ² underflows (and 1/σ² overflows), and the chain rule through the
        // sum, 0 · ∞ at x = μ, would give NaN. Such scales take the elementwise kernel.
        // Divide by σ twice rather than by σ²: σ² overflows for σ ≳ 1.3e154 while
        // Σ(x − μ)²/σ² is of ordinary size (σ = 3.7e154, x − μ = 1e154).
        let d_ssd = -0.5 / s / s;
        if d_ssd.is_finite() {
            let ssd = value.sum_sq_dev(self.loc.item()?)?;
            let q = ssd.value();
            if q.is_finite() {
                let n = value.numel() as f64;
                let qs2 = q / s / s;
                let lp = -0.5 * qs2 - n * (fastmath::ln(s) + LN_SQRT_2PI);
                // ∂/∂σ = (Σ(x − μ)²/σ² − n)/σ
                let d_scale = (qs2 - n) / s;
                return Ok(Some(self.scale.tape().scalar_with_gradients(
                    lp,
                    &[(ssd.as_tensor(), &[d_ssd]), (self.scale, &[d_scale])],
                )?));
            }
        }
        // A value of ±∞ or NaN (or an overflowing square): the elementwise kernel gives
        // −∞ or NaN exactly as documented.
        Ok(None)
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, m, s]: [f64; 3]| {
            let z = (x - m) / s;
            let d = (-0.5 * z * z - LN_SQRT_2PI).exp() / s;
            // φ(z)·z → 0 as |z| → ∞; at z = ±∞ the product would be 0·∞
            let dz = util::mul0(d, z);
            (normal_cdf(z), [d, -d, -dz])
        })
    }

    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((util::normal, |[e, m, s]: [f64; 3]| (m + s * e, [0.0, 1.0, e])))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            (0.5 + LN_SQRT_2PI + s.ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.loc.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| (s * s, [2.0 * s]))
    }
}

