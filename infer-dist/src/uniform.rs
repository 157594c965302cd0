//! The continuous uniform distribution.

use crate::elementwise::prelude::*;

family! {
    /// The uniform distribution on [low, high):
    ///
    /// ln p(x) = −ln(high − low) for low ≤ x < high, −∞ elsewhere (PyTorch's half-open support).
    ///
    /// Entropy ln(high − low); mean (low + high)/2; variance (high − low)²/12; cdf
    /// clamp((x − low)/(high − low), 0, 1); pathwise draws low + (high − low)u. The value gradient
    /// of log_prob is 0.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Uniform};
    /// let tape = Tape::new();
    /// let d = Uniform::new(tape.var(0.0), tape.var(4.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::array![1.0, 5.0]))?;
    /// assert_eq!(lp.to_vec(), vec![-(4f64.ln()), f64::NEG_INFINITY]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Uniform`.
    pub struct Uniform / UniformK: Reparameterizable {
        params: [low, high],
        support: |k| Constraint::Interval {
            low: util::lowest(k.low),
            high: util::highest(k.high),
        },
    }
}

impl<'t> Elementwise<'t> for UniformK<'t> {
    fn density([x, l, h]: [f64; 3]) -> (f64, [f64; 3]) {
        if !(x >= l && x < h) {
            return util::off_support(x);
        }
        let (ln_w, r) = width(l, h);
        (-ln_w, [0.0, r, -r])
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, l, h]: [f64; 3]| {
            let c = fraction(x, l, h);
            if c <= 0.0 {
                (0.0, [0.0; 3])
            } else if c >= 1.0 {
                (1.0, [0.0; 3])
            } else {
                // ∂c/∂x = 1/w, ∂c/∂l = (c − 1)/w, ∂c/∂h = −c/w
                let (_, r) = width(l, h);
                (c, [r, (c - 1.0) * r, -c * r])
            }
        })
    }

    /// x = low + (high − low) u.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((util::uniform, |[u, l, h]: [f64; 3]| {
            (lerp(l, h, u), [0.0, 1.0 - u, u])
        }))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[l, h]| {
            let (ln_w, r) = width(l, h);
            (ln_w, [-r, r])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[l, h]| {
            // the halves when l + h overflows (l = 1e308, h = 1.7e308)
            let s = l + h;
            let m = if s.is_finite() {
                0.5 * s
            } else {
                0.5 * l + 0.5 * h
            };
            (m, [0.5, 0.5])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[l, h]| {
            let w = h - l;
            (w * w / 12.0, [-w / 6.0, w / 6.0])
        })
    }
}

impl<'t> Uniform<'t> {
    /// A uniform distribution on [low, high).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for non-finite bounds or `high ≤ low` (reported on
    /// `high`); [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Uniform::new(tape.var(1.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        low: impl crate::IntoParam<'t>,
        high: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let d = Self::checked(low, high, [Check::FINITE, Check::FINITE])?;
        let batch = d.batch;
        let (l, h) = (
            util::param_bvals(&d.low, batch),
            util::param_bvals(&d.high, batch),
        );
        for i in 0..l.len() {
            if !(h[i] > l[i]) {
                return Err(DistError::InvalidParameter {
                    dist: NAME,
                    param: "high",
                    value: h[i],
                    reason: "must be > low",
                });
            }
        }
        Ok(d)
    }
}

/// ln(h − l) and 1/(h − l), also when h − l overflows (e.g. l = −1e308, h = 1e308): then
/// from the halves, h/2 − l/2, which cannot overflow (and are exact: no subnormal is
/// involved when h − l is that large).
pub(crate) fn width(l: f64, h: f64) -> (f64, f64) {
    let w = h - l;
    if w.is_finite() {
        (w.ln(), 1.0 / w)
    } else {
        let half = 0.5 * h - 0.5 * l;
        (half.ln() + std::f64::consts::LN_2, 0.5 / half)
    }
}

/// (x − l)/(h − l), also when a difference overflows.
fn fraction(x: f64, l: f64, h: f64) -> f64 {
    let (d, w) = (x - l, h - l);
    if d.is_finite() && w.is_finite() {
        d / w
    } else {
        (0.5 * x - 0.5 * l) / (0.5 * h - 0.5 * l)
    }
}

/// l + (h − l) u, also when h − l overflows: then l (1 − u) + h u (the two terms have
/// opposite signs and cannot overflow).
fn lerp(l: f64, h: f64, u: f64) -> f64 {
    let w = h - l;
    if w.is_finite() {
        l + w * u
    } else {
        l * (1.0 - u) + h * u
    }
}

