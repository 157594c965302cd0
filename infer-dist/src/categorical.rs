//! The categorical distribution over {0, …, K − 1}, parameterized by probabilities or logits.

use crate::bind::{Kernel, family};
use crate::util;
use crate::{Constraint, DistError};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

family! {
    /// The categorical distribution: P(k) = p_k / Σⱼ p_j (probabilities need not be normalized,
    /// as in PyTorch) or P(k) = softmax(l)_k. The last axis of the parameter indexes the K
    /// categories; the rest is the batch shape. A value is a category index (as f64); anything
    /// else has log mass −∞.
    ///
    /// Entropy −Σ P(k) ln P(k). No mean or variance (as PyTorch). Not reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Categorical, Distribution};
    /// let tape = Tape::new();
    /// let probs = tape.tensor(&ndarray::array![1.0, 3.0]);
    /// let d = Categorical::from_probs(probs)?;
    /// let lp = d.log_prob_sum(tape.constant(&ndarray::array![1.0, 1.0, 0.0]))?;
    /// assert!((lp.value() - (2.0 * 0.75f64.ln() + 0.25f64.ln())).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Categorical`.
    pub struct Categorical / CategoricalK {
        params: [param],
        extra: {logits: bool, k: usize},
        names: |d| [if d.logits { "logits" } else { "probs" }],
        support: |k| Constraint::IntegerInterval {
            low: 0.0,
            high: (k.k - 1) as f64,
        },
    }
}

impl<'t> Categorical<'t> {
    /// A categorical distribution with (unnormalized) probabilities along the last axis.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a negative, NaN or infinite probability, or a row
    /// summing to 0; [`DistError::ShapeMismatch`] for a 0-d parameter.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Categorical::from_probs(tape.tensor(&ndarray::array![0.5, -0.5])).is_err());
    /// ```
    pub fn from_probs(probs: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        Self::build(probs, false)
    }

    /// A categorical distribution with log-probabilities (up to a constant) along the last
    /// axis.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite logit; [`DistError::ShapeMismatch`] for
    /// a 0-d parameter.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Categorical::from_logits(tape.tensor(&ndarray::array![0.0, 0.0]))?;
    /// assert_eq!(d.num_categories(), 2);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn from_logits(logits: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        Self::build(logits, true)
    }

    /// The distribution from its parameter, probabilities or (`logits`) log-probabilities,
    /// checked elementwise ([`util::probs_or_logits`]) and by rows here.
    fn build(param: impl crate::IntoParam<'t>, logits: bool) -> Result<Self, DistError> {
        let param = util::probs_or_logits(NAME, param, logits)?;
        let what = "parameter (needs a non-empty last axis of categories)";
        let (batch, k) = util::split_categories(NAME, &param, logits, what)?;
        Ok(Categorical {
            param,
            logits,
            batch,
            k,
        })
    }

    /// The number of categories K.
    pub fn num_categories(&self) -> usize {
        self.k
    }

    /// Whether the distribution was built from logits.
    pub fn is_logits(&self) -> bool {
        self.logits
    }

    /// The normalized log-probabilities on the parameter's tape, shape `batch ++ [K]` (one
    /// normalizing node).
    ///
    /// # Errors
    /// [`DistError::Unbound`] when the parameter is a constant (no tape to put the result on;
    /// see [`Categorical::param`] for the value as given, or [`Categorical::on`]).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Categorical::from_probs(tape.tensor(&ndarray::array![1.0, 3.0]))?;
    /// let lp = d.log_probs()?.to_vec();
    /// assert!((lp[1] - 0.75f64.ln()).abs() < 1e-15);
    /// assert!(infer_dist::Categorical::from_probs(&[1.0, 3.0][..])?.log_probs().is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_probs(&self) -> Result<Tensor<'t>, DistError> {
        self.bound("log_probs")?.log_probs()
    }

    /// The normalized log-probabilities (PyTorch's `logits`) on the parameter's tape, shape
    /// `batch ++ [K]`; see [`Categorical::log_probs`].
    ///
    /// # Errors
    /// [`DistError::Unbound`] when the parameter is a constant.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Categorical::from_logits(tape.tensor(&ndarray::array![0.0, 0.0]))?;
    /// assert!((d.logits()?.to_vec()[0] + 2f64.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn logits(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.bound("logits")?.logits())
    }

    /// The normalized probabilities on the parameter's tape, shape `batch ++ [K]`.
    ///
    /// # Errors
    /// [`DistError::Unbound`] when the parameter is a constant.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Categorical::from_probs(tape.tensor(&ndarray::array![1.0, 3.0]))?;
    /// let p = d.probs()?.to_vec();
    /// assert!((p[0] - 0.25).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn probs(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.bound("probs")?.probs())
    }
}

impl<'t> CategoricalK<'t> {
    /// The normalized log-probabilities, shape `batch ++ [K]` (one normalizing node).
    pub(crate) fn log_probs(&self) -> Result<Tensor<'t>, DistError> {
        let axis = self.param.ndim() - 1;
        let mut keep: Vec<usize> = self.batch.dims().to_vec();
        keep.push(1);
        if self.logits {
            let lse = self.param.logsumexp_axis(axis)?.reshape(&keep)?;
            Ok(self
                .param
                .tape()
                .fused_map([self.param, lse], |_, [l, m]| (l - m, [1.0, -1.0]))?)
        } else {
            // ∂ ln(pᵢ/s)/∂pᵢ = 1/pᵢ − 1/s arrives as two terms (one through the sum): for a row
            // whose sum is below ~5.6e-309 both overflow and meet as ∞ − ∞ (probs
            // [5e-324, 0, 0]: the exact partial is 0). Such rows are first scaled by 2⁶⁰⁰
            // (exact for these magnitudes; the log-probabilities do not change), so that 1/p
            // stays finite for every nonzero p.
            let tape = self.param.tape();
            let v = self.param.to_vec();
            let tiny = |row: &[f64]| !(1.0 / row.iter().sum::<f64>()).is_finite();
            let p = if v.chunks(self.k).any(tiny) {
                let scale: Vec<f64> = v
                    .chunks(self.k)
                    .flat_map(|row| {
                        let c = if tiny(row) { 2f64.powi(600) } else { 1.0 };
                        std::iter::repeat_n(c, row.len())
                    })
                    .collect();
                let scale = util::constant(tape, self.param.shape(), scale)?;
                tape.fused_map([self.param, scale], |_, [p, c]| (p * c, [c, 0.0]))?
            } else {
                self.param
            };
            let s = p.sum_axis(axis)?.reshape(&keep)?;
            Ok(tape.fused_map([p, s], |_, [p, s]| (p.ln() - s.ln(), [1.0 / p, -1.0 / s]))?)
        }
    }

    /// The normalized log-probabilities (PyTorch's `logits`), shape `batch ++ [K]`.
    pub(crate) fn logits(&self) -> Tensor<'t> {
        // log_probs cannot fail: the axis and shapes were checked at construction.
        self.log_probs().unwrap_or(self.param)
    }

    /// The normalized probabilities, shape `batch ++ [K]`.
    pub(crate) fn probs(&self) -> Tensor<'t> {
        self.logits().exp()
    }

    /// For each element of the broadcast value: the flat index into `log_probs` (or `None`
    /// for a value outside {0, …, K − 1}), and the output shape.
    fn indices(&self, value: Tensor<'t>) -> Result<(Vec<Option<usize>>, Shape), DistError> {
        util::same_tape(NAME, &[value, self.param])?;
        let out = util::value_shape(NAME, value.shape(), self.batch)?;
        let vals = util::bvals(value, out);
        let nb = self.batch.numel();
        // the batch row of each output element: broadcast row ids
        let rows: Vec<f64> = (0..nb).map(|r| r as f64).collect();
        let row = util::broadcast_slice(&rows, self.batch, out);
        let idx = vals
            .iter()
            .zip(&row)
            .map(|(&v, &r)| {
                if v >= 0.0 && v.fract() == 0.0 && v < self.k as f64 {
                    Some(r as usize * self.k + v as usize)
                } else {
                    None
                }
            })
            .collect();
        Ok((idx, out))
    }
}

impl<'t> Kernel<'t> for CategoricalK<'t> {

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let (idx, out) = self.indices(value)?;
        let lp = self.log_probs()?;
        let tape = lp.tape();
        let vars: Vec<Var<'t>> = idx
            .iter()
            .map(|i| lp.flat(i.unwrap_or(0)))
            .collect::<Result<_, _>>()?;
        let picked = tape.stack_vars(&vars)?.reshape(out.dims())?;
        let valid: Vec<f64> = idx
            .iter()
            .map(|i| f64::from(u8::from(i.is_some())))
            .collect();
        let valid = util::constant(tape, out, valid)?;
        Ok(tape.fused_map([picked, valid], |_, [l, ok]| {
            if ok == 1.0 {
                (l, [1.0, 0.0])
            } else {
                (f64::NEG_INFINITY, [0.0; 2])
            }
        })?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let (idx, _) = self.indices(value)?;
        let lp = self.log_probs()?;
        let tape = lp.tape();
        let mut counts = vec![0.0; lp.numel()];
        for i in &idx {
            match i {
                Some(i) => counts[*i] += 1.0,
                None => return Ok(util::scalar(tape, f64::NEG_INFINITY).sum()),
            }
        }
        let counts = util::constant(tape, lp.shape(), counts)?;
        Ok(tape.fused_sum([lp, counts], |_, [l, c]| {
            if c == 0.0 {
                (0.0, [0.0; 2])
            } else {
                (c * l, [c, 0.0])
            }
        })?)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let nb = self.batch.numel();
        let u = util::uniforms(rng, nb);
        let v = self.param.to_vec();
        let mut x = Vec::with_capacity(nb);
        for (r, row) in v.chunks(self.k).enumerate() {
            let w: Vec<f64> = if self.logits {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.iter().map(|l| (l - m).exp()).collect()
            } else {
                row.to_vec()
            };
            let total: f64 = w.iter().sum();
            let target = u[r] * total;
            let mut acc = 0.0;
            let mut pick = self.k - 1;
            for (j, wj) in w.iter().enumerate() {
                acc += wj;
                if target < acc && *wj > 0.0 {
                    pick = j;
                    break;
                }
            }
            // never pick a zero-probability category at the end
            while w[pick] == 0.0 && pick > 0 {
                pick -= 1;
            }
            x.push(pick as f64);
        }
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        let lp = self.log_probs()?;
        let terms = lp.map_with_derivative(|l| {
            if l == f64::NEG_INFINITY {
                (0.0, 0.0)
            } else {
                let p = l.exp();
                (-p * l, -p * (l + 1.0))
            }
        });
        Ok(terms.sum_axis(lp.ndim() - 1)?)
    }
}
