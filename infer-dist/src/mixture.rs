//! A finite mixture of distributions of one family, given as a batch of components.

use crate::param::IntoValue;
use crate::util;
use crate::{Constraint, DistError, Distribution, Family, Param};
use infer_ad::{SIMPLEX_TOLERANCE, Shape, Tape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "MixtureSameFamily";

/// A finite mixture p(x) = Σₖ wₖ pₖ(x) of K components of one family (PyTorch's
/// `MixtureSameFamily`). The components are one distribution whose batch shape ends in the
/// K components (e.g. `Normal::new(locs, scales)` with `locs`, `scales` of shape `[K]`); the
/// mixture's batch shape is the components' batch shape without that axis, its event shape
/// theirs. The weights are a simplex along their last axis (shape `[K]`, or the components'
/// batch shape), or logits (weights = softmax(logits)).
///
/// ln p(x) = ln Σₖ exp(ln wₖ + ln pₖ(x)), computed by a max-shifted log-sum-exp over the
/// component axis (one node), so that components whose log density is −∞ or far below the
/// others cost no accuracy. Gradients flow to the weights (or logits), to the components'
/// parameters and, for continuous components, to the value. A zero weight contributes nothing;
/// its gradient is 0 there (the one-sided limit e^{ln pₖ − ln p} is not recorded; use logits
/// when weights may vanish). Mean Σₖ wₖ μₖ; variance Σₖ wₖ (σₖ² + μₖ²) − μ² (where the
/// components define them). Sampling: a component index per batch element from the weights,
/// then that component's draw. Not reparameterizable (the index is discrete).
///
/// The weights (or logits) may be numbers or data arrays (`&w`): with components on a tape
/// they are placed on it at construction; with components built from constants too, the
/// mixture binds to the tape of the value it is asked about, and its mean and variance (which
/// need a tape) return [`DistError::Unbound`]. The components cannot be rebound after
/// construction: with tape weights and constant components, the mean and variance report the
/// components' [`DistError::Unbound`].
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Mixture, Normal};
/// let tape = Tape::new();
/// let comps = Normal::new(
///     tape.tensor(&ndarray::array![-2.0, 1.5]),
///     tape.tensor(&ndarray::array![0.7, 1.0]),
/// )?;
/// let m = Mixture::new(tape.tensor(&ndarray::array![0.3, 0.7]), comps)?;
/// let y = tape.constant(&ndarray::array![0.0, -2.5]);
/// let lp = m.log_prob(y)?.to_vec();
/// let pdf = |x: f64, mu: f64, s: f64| {
///     (-0.5 * ((x - mu) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
/// };
/// let direct = (0.3 * pdf(0.0, -2.0, 0.7) + 0.7 * pdf(0.0, 1.5, 1.0)).ln();
/// assert!((lp[0] - direct).abs() < 1e-13);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.MixtureSameFamily`.
#[derive(Debug)]
pub struct Mixture<'t> {
    param: Param<'t>,
    logits: bool,
    components: Box<dyn Distribution<'t> + 't>,
    batch: Shape,
    k: usize,
}

impl<'t> Mixture<'t> {
    /// A mixture with simplex `weights` (last axis: the K components) of `components`, a
    /// distribution whose batch shape ends in K.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] naming `weights` for an element outside [0, 1] (or NaN),
    /// or, with the sum as the value, a row that does not sum to 1 within
    /// [`infer_ad::SIMPLEX_TOLERANCE`]; [`DistError::ShapeMismatch`] when the components have
    /// no batch axis, or the weights' shape is neither `[K]` nor the components' batch shape;
    /// [`DistError::Ad`] when weights and components live on different tapes.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Mixture, Normal};
    /// let tape = infer_ad::Tape::new();
    /// let comps = Normal::new(tape.tensor(&ndarray::array![0.0, 1.0]), tape.var(1.0))?;
    /// assert!(Mixture::new(tape.tensor(&ndarray::array![0.5, 0.6]), comps).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn new(
        weights: impl crate::IntoParam<'t>,
        components: impl Distribution<'t> + 't,
    ) -> Result<Self, DistError> {
        let w = checked_param("weights", weights, util::prob, util::PROB)?;
        let m = Self::build(w, false, Box::new(components))?;
        util::check_row_sums(
            NAME,
            "weights",
            &m.param,
            m.k,
            |s| !((s - 1.0).abs() > SIMPLEX_TOLERANCE),
            "each row must sum to 1 (within 1e-8)",
        )?;
        Ok(m)
    }

    /// A mixture with weights softmax(`logits`) along the last axis.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite logit; otherwise as [`Mixture::new`].
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Distribution, Mixture, Normal};
    /// let tape = infer_ad::Tape::new();
    /// let comps = Normal::new(tape.tensor(&ndarray::array![0.0, 0.0]), tape.var(1.0))?;
    /// let m = Mixture::from_logits(tape.tensor(&ndarray::array![0.3, -1.0]), comps)?;
    /// let lp = m.log_prob(tape.constant(&ndarray::array![0.0]))?.to_vec()[0];
    /// assert!((lp + 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn from_logits(
        logits: impl crate::IntoParam<'t>,
        components: impl Distribution<'t> + 't,
    ) -> Result<Self, DistError> {
        let l = checked_param("logits", logits, util::finite, util::FINITE)?;
        Self::build(l, true, Box::new(components))
    }

    fn build(
        param: Param<'t>,
        logits: bool,
        components: Box<dyn Distribution<'t> + 't>,
    ) -> Result<Self, DistError> {
        let cb = components.batch_shape();
        let pshape = param.shape()?;
        let mismatch = |what| DistError::ShapeMismatch {
            dist: NAME,
            what,
            left: pshape,
            right: cb,
        };
        if cb.ndim() == 0 || cb.dims()[cb.ndim() - 1] == 0 {
            return Err(mismatch("components (need a batch axis of K components)"));
        }
        let k = cb.dims()[cb.ndim() - 1];
        if pshape.dims() != [k] && pshape != cb {
            return Err(mismatch(
                "weights (shape [K] or the components' batch shape)",
            ));
        }
        // weights and components on one tape: constant weights go on the components' tape
        let param = match components_tape(components.as_ref()) {
            Some(tape) => {
                if let Some(t) = param.tape() {
                    infer_ad::check_same_tape(NAME, tape, t)?;
                }
                Param::Tensor(param.on(tape)?)
            }
            None => param,
        };
        Ok(Mixture {
            param,
            logits,
            components,
            batch: Shape::new(&cb.dims()[..cb.ndim() - 1])?,
            k,
        })
    }

    /// The components (one distribution with the K components as its last batch axis).
    pub fn components(&self) -> &(dyn Distribution<'t> + 't) {
        self.components.as_ref()
    }

    /// The number of components K.
    pub fn num_components(&self) -> usize {
        self.k
    }

    /// The mixing parameter as given (`weights` or `logits`; constants given with components
    /// on a tape are on that tape).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Mixture, Normal, Param};
    /// let comps = Normal::new(&[0.0, 1.0][..], 1.0)?;
    /// let m = Mixture::new(&[0.25, 0.75][..], comps)?;
    /// assert_eq!(m.param().to_vec(), vec![0.25, 0.75]);
    /// assert!(matches!(m.param(), Param::Array(_)));
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn param(&self) -> &Param<'t> {
        &self.param
    }

    /// The tape of the mixing parameter or of the components' parameters, `None` when every
    /// one is a constant.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Mixture, Normal};
    /// let tape = infer_ad::Tape::new();
    /// let comps = Normal::new(tape.tensor(&ndarray::array![0.0, 1.0]), 1.0)?;
    /// assert!(Mixture::new(&[0.5, 0.5][..], comps)?.tape().is_some());
    /// let comps = Normal::new(&[0.0, 1.0][..], 1.0)?;
    /// assert!(Mixture::new(&[0.5, 0.5][..], comps)?.tape().is_none());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn tape(&self) -> Option<&'t Tape> {
        self.param
            .tape()
            .or_else(|| components_tape(self.components.as_ref()))
    }

    /// The value on one tape with the mixture: the value's, else the parameters'.
    fn bind_value(
        &self,
        value: impl IntoValue<'t>,
        what: &'static str,
    ) -> Result<Tensor<'t>, DistError> {
        let tape = value
            .value_tape()
            .or_else(|| self.tape())
            .ok_or(DistError::Unbound { dist: NAME, what })?;
        value.value_on(tape)
    }

    /// Elementwise log density of `value` (a tensor, a scalar `Var`, or observed data such as
    /// `&y`); see [`Distribution::log_prob`].
    ///
    /// # Errors
    /// As [`Distribution::log_prob`]; [`DistError::Unbound`] when neither the value nor any
    /// parameter is on a tape.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Mixture, Normal};
    /// let tape = infer_ad::Tape::new();
    /// let mu = tape.var(0.0);
    /// let m = Mixture::new(&[0.5, 0.5][..], Normal::new(mu, &[1.0, 2.0][..])?)?;
    /// let lp = m.log_prob(&ndarray::array![0.5])?;
    /// assert_eq!(lp.numel(), 1);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_prob(&self, value: impl IntoValue<'t>) -> Result<Tensor<'t>, DistError> {
        let v = self.bind_value(value, "log_prob")?;
        Distribution::log_prob(self, v)
    }

    /// Σ of the log density of `value` (a tensor, a scalar `Var`, or observed data such as
    /// `&y`); see [`Distribution::log_prob_sum`].
    ///
    /// # Errors
    /// As [`Distribution::log_prob_sum`]; [`DistError::Unbound`] when neither the value nor
    /// any parameter is on a tape.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Mixture, Normal};
    /// let tape = infer_ad::Tape::new();
    /// let m = Mixture::new(&[0.5, 0.5][..], Normal::new(&[-1.0, 1.0][..], 1.0)?)?;
    /// let x = tape.var(0.0);
    /// let lp = m.log_prob_sum(x)?;
    /// lp.backward();
    /// assert!(x.grad().abs() < 1e-15); // symmetric about 0
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_prob_sum(&self, value: impl IntoValue<'t>) -> Result<Var<'t>, DistError> {
        let v = self.bind_value(value, "log_prob_sum")?;
        Distribution::log_prob_sum(self, v)
    }

    /// ln wₖ on `tape`, shape of the parameter (a zero weight gives −∞ with a zero partial).
    fn log_weights(&self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        let param = self.param.on(tape)?;
        if self.logits {
            Ok(param.log_softmax(param.ndim() - 1)?)
        } else {
            Ok(param.map_with_derivative(|w| {
                if w > 0.0 {
                    (w.ln(), 1.0 / w)
                } else {
                    (f64::NEG_INFINITY, 0.0)
                }
            }))
        }
    }

    /// The weights on `tape`, shaped to multiply a component moment
    /// (`batch ++ [K] ++ event`).
    fn weights_for_moments(&self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        let param = self.param.on(tape)?;
        let w = if self.logits {
            param.softmax(param.ndim() - 1)?
        } else {
            param
        };
        let mut dims = w.dims().to_vec();
        dims.extend(std::iter::repeat_n(1, self.components.event_shape().ndim()));
        Ok(w.reshape(&dims)?)
    }

    /// The tape for a moment: the parameters' own.
    fn own_tape(&self, what: &'static str) -> Result<&'t Tape, DistError> {
        self.tape().ok_or(DistError::Unbound { dist: NAME, what })
    }
}

/// The tape of the first tensor among the components' parameters.
fn components_tape<'t>(c: &(dyn Distribution<'t> + 't)) -> Option<&'t Tape> {
    c.params().iter().find_map(|(_, p)| p.tape())
}

impl<'t> Distribution<'t> for Mixture<'t> {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> Shape {
        self.batch
    }

    fn event_shape(&self) -> Shape {
        self.components.event_shape()
    }

    fn family(&self) -> Family<'_, 't> {
        Family::Mixture
    }

    fn params(&self) -> Vec<(&'static str, crate::Param<'t>)> {
        let mut p = vec![(
            if self.logits { "logits" } else { "weights" },
            self.param.clone(),
        )];
        p.extend(self.components.params());
        p
    }

    fn is_discrete(&self) -> bool {
        self.components.is_discrete()
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let e = self.components.event_shape();
        let d = value.dims();
        if d.len() < e.ndim() || d[d.len() - e.ndim()..] != *e.dims() {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "value (must end in the event shape)",
                left: value.shape(),
                right: e,
            });
        }
        // the value with a component axis of length 1 before its event dimensions
        let split = d.len() - e.ndim();
        let mut dims = d[..split].to_vec();
        dims.push(1);
        dims.extend_from_slice(&d[split..]);
        let lp = self.components.log_prob(value.reshape(&dims)?)?;
        let t = lp
            .tape()
            .fused_map([lp, self.log_weights(value.tape())?], |_, [l, w]| {
                let s = l + w;
                if s == f64::NEG_INFINITY {
                    (s, [0.0; 2])
                } else {
                    (s, [1.0, 1.0])
                }
            })?;
        Ok(t.logsumexp_axis(t.ndim() - 1)?)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let draws = self.components.sample(rng)?;
        let flat: Vec<f64> = draws.iter().copied().collect();
        let ev = self.components.event_shape().numel();
        let nb = self.batch.numel();
        let p = self.param.to_vec();
        let u = util::uniforms(rng, nb);
        let mut out = Vec::with_capacity(nb * ev);
        for (b, &ub) in u.iter().enumerate() {
            // this element's weights (one row shared by every element for a [K] parameter)
            let row = if p.len() == self.k { 0 } else { b };
            let r = &p[row * self.k..(row + 1) * self.k];
            let w: Vec<f64> = if self.logits {
                let m = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                r.iter().map(|l| (l - m).exp()).collect()
            } else {
                r.to_vec()
            };
            let target = ub * w.iter().sum::<f64>();
            let mut acc = 0.0;
            let mut pick = (0..self.k).rev().find(|&j| w[j] > 0.0).unwrap_or(0);
            for (j, wj) in w.iter().enumerate() {
                acc += wj;
                if target < acc && *wj > 0.0 {
                    pick = j;
                    break;
                }
            }
            let at = (b * self.k + pick) * ev;
            out.extend_from_slice(&flat[at..at + ev]);
        }
        let mut dims = self.batch.dims().to_vec();
        dims.extend_from_slice(self.components.event_shape().dims());
        util::draws(NAME, Shape::new(&dims)?, out)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let w = self.weights_for_moments(self.own_tape("mean")?)?;
        let m = self.components.mean()?;
        Ok((w * m).sum_axis(self.batch.ndim())?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let w = self.weights_for_moments(self.own_tape("variance")?)?;
        let m = self.components.mean()?;
        let v = self.components.variance()?;
        let mu = (w * m).sum_axis(self.batch.ndim())?;
        let second = (w * (v + m * m)).sum_axis(self.batch.ndim())?;
        Ok(second - mu * mu)
    }

    fn support(&self) -> Constraint {
        self.components.support()
    }
}

/// The parameter `p` (named `name`), each element checked by `ok` (`reason` says the rule).
fn checked_param<'t>(
    name: &'static str,
    p: impl crate::IntoParam<'t>,
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<crate::Param<'t>, DistError> {
    let p = crate::IntoParam::into_param(p, None);
    util::check_param(NAME, name, &p, ok, reason)?;
    Ok(p)
}
