//! The multinomial distribution: counts of `total_count` categorical trials over K categories.

use crate::bind::Kernel;
use crate::util;
use crate::{Constraint, DistError};
use infer_ad::scalar::lgamma;
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

/// The largest total count accepted: every count up to it is an exact `f64`.
pub(crate) const MAX_TOTAL_COUNT: u64 = 1 << 53;

crate::bind::family! {
    /// The multinomial distribution with `total_count` = n trials and category probabilities p
    /// (or logits l; p = softmax(l)) along the last axis:
    ///
    /// ln P(x) = ln n! − Σₖ ln xₖ! + Σₖ xₖ ln pₖ,
    ///
    /// for x a vector of non-negative integers with Σₖ xₖ = n; −∞ elsewhere (PyTorch raises there
    /// when validating its arguments). Probabilities need not be normalized (they are divided by
    /// their sum, as in PyTorch); a zero probability with a zero count contributes nothing
    /// (0 · ln 0 = 0, PyTorch's convention), with a positive count the log mass is −∞.
    ///
    /// The value is a count vector (event shape `[K]`), so `log_prob` has the broadcast of the
    /// value's batch part and the batch shape (the parameter's shape without its last axis).
    /// Gradients flow to the probabilities or logits, not to the (discrete) value. Mean n p,
    /// variance n p (1 − p). No entropy (PyTorch enumerates the support for it). Sampling: one
    /// binomial per category, conditioned on the earlier ones (x₁ ~ Bin(n, p₁),
    /// x₂ ~ Bin(n − x₁, p₂/(1 − p₁)), …), exact for any n.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Multinomial};
    /// let tape = Tape::new();
    /// let p = tape.tensor(&ndarray::array![0.2, 0.3, 0.5]);
    /// let d = Multinomial::from_probs(4, p)?;
    /// let lp = d.log_prob(tape.constant(&ndarray::array![1.0, 1.0, 2.0]))?;
    /// // 4!/(1! 1! 2!) · 0.2 · 0.3 · 0.5²
    /// let expect = (12.0f64 * 0.2 * 0.3 * 0.25).ln();
    /// assert!((lp.to_vec()[0] - expect).abs() < 1e-14);
    /// // counts that do not add up to n are outside the support
    /// let off = d.log_prob(tape.constant(&ndarray::array![1.0, 1.0, 1.0]))?;
    /// assert_eq!(off.to_vec()[0], f64::NEG_INFINITY);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Multinomial` (log mass and moments); the sequential
    /// binomial sampler is the standard conditional decomposition (e.g. NumPy's `multinomial`).
    pub struct Multinomial / MultinomialK {
        params: [param],
        extra: {total_count: u64, logits: bool, k: usize},
        names: |d| [if d.logits { "logits" } else { "probs" }],
        support: |k| Constraint::IntegerInterval {
            low: 0.0,
            high: k.total_count as f64,
        },
    }
}

/// Checks a total count: at most 2⁵³ (exact in f64).
pub(crate) fn check_total_count(dist: &'static str, n: u64) -> Result<(), DistError> {
    if n > MAX_TOTAL_COUNT {
        return Err(DistError::InvalidParameter {
            dist,
            param: "total_count",
            value: n as f64,
            reason: "must be at most 2^53 (exact in f64)",
        });
    }
    Ok(())
}

/// For a count-vector family: the broadcast shape of value and parameter (`full`, ending in
/// K), the output shape (`full` without its last axis), and whether each row is a vector of
/// non-negative integers summing to `n`.
pub(crate) fn count_rows(
    dist: &'static str,
    value: Tensor<'_>,
    param: Tensor<'_>,
    k: usize,
    n: u64,
) -> Result<(Shape, Shape, Vec<bool>), DistError> {
    util::same_tape(dist, &[value, param])?;
    let full = util::value_shape(dist, value.shape(), param.shape())?;
    let d = full.dims();
    if value.ndim() == 0 || d[d.len() - 1] != k {
        return Err(DistError::ShapeMismatch {
            dist,
            what: "value (last axis must hold the K counts)",
            left: value.shape(),
            right: param.shape(),
        });
    }
    let out = Shape::new(&d[..d.len() - 1])?;
    let x = util::bvals(value, full);
    let ok = x
        .chunks(k)
        .map(|r| r.iter().all(|&v| util::is_count(v)) && r.iter().sum::<f64>() == n as f64)
        .collect();
    Ok((full, out, ok))
}

/// Draws counts of `n` trials over the categories with probabilities `q` (normalized or not)
/// by sequential binomials, appending them to `out`.
pub(crate) fn sample_counts(
    rng: &mut dyn rand::RngCore,
    dist: &'static str,
    n: u64,
    q: &[f64],
    out: &mut Vec<f64>,
) -> Result<(), DistError> {
    use rand::Rng;
    let k = q.len();
    // suffix sums: the conditional probability of category j given j, …, K − 1 is
    // q_j / Σ_{i ≥ j} q_i (no running 1 − Σ that could go negative)
    let mut tail = vec![0.0; k + 1];
    for j in (0..k).rev() {
        tail[j] = tail[j + 1] + q[j];
    }
    let mut left = n;
    for j in 0..k {
        if j == k - 1 || left == 0 {
            out.push(if j == k - 1 { left as f64 } else { 0.0 });
            continue;
        }
        let p = if tail[j] > 0.0 {
            (q[j] / tail[j]).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let b = rand_distr::Binomial::new(left, p).map_err(|_| DistError::Sampling {
            dist,
            reason: "invalid binomial probability",
        })?;
        let x: u64 = rng.sample(b);
        out.push(x as f64);
        left -= x;
    }
    Ok(())
}

impl<'t> Multinomial<'t> {
    /// A multinomial distribution of `total_count` trials with (unnormalized) probabilities
    /// along the last axis of `probs`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a negative, NaN or infinite probability, a row
    /// summing to 0 (or overflowing), or `total_count` above 2⁵³;
    /// [`DistError::ShapeMismatch`] for a 0-d parameter or an empty last axis.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let bad = tape.tensor(&ndarray::array![0.5, -0.5]);
    /// assert!(infer_dist::Multinomial::from_probs(3, bad).is_err());
    /// ```
    pub fn from_probs(
        total_count: u64,
        probs: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        Self::build(total_count, probs, false)
    }

    /// A multinomial distribution of `total_count` trials with log-probabilities (up to a
    /// constant) along the last axis of `logits`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite logit or `total_count` above 2⁵³;
    /// [`DistError::ShapeMismatch`] for a 0-d parameter or an empty last axis.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Multinomial::from_logits(10, tape.tensor(&ndarray::array![0.0, 1.0]))?;
    /// assert_eq!((d.total_count(), d.num_categories()), (10, 2));
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn from_logits(
        total_count: u64,
        logits: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        Self::build(total_count, logits, true)
    }

    /// The distribution of `total_count` trials from its parameter, probabilities or
    /// (`logits`) log-probabilities, checked elementwise ([`util::probs_or_logits`]) and by
    /// rows here.
    fn build(
        total_count: u64,
        param: impl crate::IntoParam<'t>,
        logits: bool,
    ) -> Result<Self, DistError> {
        // a single parameter binds without error: the order of the checks is total_count, then
        // the elements, then the rows
        check_total_count(NAME, total_count)?;
        let param = util::probs_or_logits(NAME, param, logits)?;
        let what = if logits {
            "logits (needs a non-empty last axis)"
        } else {
            "probs (needs a non-empty last axis)"
        };
        let (batch, k) = util::split_categories(NAME, &param, logits, what)?;
        Ok(Multinomial {
            total_count,
            param,
            logits,
            batch,
            k,
        })
    }

    /// The number of trials n.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }

    /// The number of categories K.
    pub fn num_categories(&self) -> usize {
        self.k
    }

    /// Whether the distribution was built from logits.
    pub fn is_logits(&self) -> bool {
        self.logits
    }
}

impl<'t> MultinomialK<'t> {
    /// Each row's normalizer, shape `batch ++ [1]`: ln Σ exp(logits) or Σ probs.
    fn norm(&self) -> Result<Tensor<'t>, DistError> {
        let axis = self.param.ndim() - 1;
        let mut keep = self.batch.dims().to_vec();
        keep.push(1);
        let m = if self.logits {
            self.param.logsumexp_axis(axis)?
        } else {
            self.param.sum_axis(axis)?
        };
        Ok(m.reshape(&keep)?)
    }

    /// The per-category term xₖ ln pₖ − ln xₖ! and its partials (value, parameter, row
    /// normalizer).
    fn term(&self) -> impl Fn([f64; 3]) -> (f64, [f64; 3]) + use<> {
        let logits = self.logits;
        move |[x, p, m]| {
            if x == 0.0 || !util::is_count(x) {
                // a zero count contributes nothing (also for p = 0); a row with an invalid
                // count is masked to −∞ afterwards
                return (0.0, [0.0; 3]);
            }
            let lf = lgamma(x + 1.0);
            if logits {
                (x * (p - m) - lf, [0.0, x, -x])
            } else if p == 0.0 {
                (f64::NEG_INFINITY, [0.0; 3])
            } else {
                (x * (p.ln() - m.ln()) - lf, [0.0, x / p, -x / m])
            }
        }
    }

    /// The normalized probabilities times `n`, and their derivative per unit n, as a map over
    /// (parameter, normalizer).
    fn scaled(&self, f: impl Fn(f64) -> (f64, f64)) -> Result<Tensor<'t>, DistError> {
        let logits = self.logits;
        let t = self.param.tape();
        Ok(t.fused_map([self.param, self.norm()?], |_, [p, m]| {
            // q and its partials ∂q/∂p, ∂q/∂m
            let (q, dq_p, dq_m) = if logits {
                let q = (p - m).exp();
                (q, q, -q)
            } else {
                (p / m, 1.0 / m, -p / (m * m))
            };
            let (v, dv) = f(q);
            (v, [dv * dq_p, dv * dq_m])
        })?)
    }
}

impl<'t> Kernel<'t> for MultinomialK<'t> {

    fn event_shape(&self) -> Shape {
        Shape::vector(self.k)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let (full, out, ok) = count_rows(NAME, value, self.param, self.k, self.total_count)?;
        let tape = value.tape();
        let term = self.term();
        let terms = tape.fused_map([value, self.param, self.norm()?], |_, a| term(a))?;
        let sums = terms.sum_axis(full.ndim() - 1)?;
        let lfact_n = lgamma(self.total_count as f64 + 1.0);
        let ok = util::constant(
            tape,
            out,
            ok.iter().map(|&b| f64::from(u8::from(b))).collect(),
        )?;
        Ok(tape.fused_map([sums, ok], |_, [s, ok]| {
            if ok == 1.0 {
                (s + lfact_n, [1.0, 0.0])
            } else {
                (f64::NEG_INFINITY, [0.0; 2])
            }
        })?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let (_, out, ok) = count_rows(NAME, value, self.param, self.k, self.total_count)?;
        let tape = value.tape();
        if ok.iter().any(|b| !b) {
            return Ok(util::scalar(tape, f64::NEG_INFINITY).sum());
        }
        let term = self.term();
        let s = tape.fused_sum([value, self.param, self.norm()?], |_, a| term(a))?;
        Ok(s + out.numel() as f64 * lgamma(self.total_count as f64 + 1.0))
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let v = self.param.to_vec();
        let mut x = Vec::with_capacity(v.len());
        for row in v.chunks(self.k) {
            let q: Vec<f64> = if self.logits {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.iter().map(|l| (l - m).exp()).collect()
            } else {
                row.to_vec()
            };
            sample_counts(rng, NAME, self.total_count, &q, &mut x)?;
        }
        util::draws(NAME, self.param.shape(), x)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let n = self.total_count as f64;
        self.scaled(|q| (n * q, n))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let n = self.total_count as f64;
        self.scaled(|q| (n * q * (1.0 - q), n * (1.0 - 2.0 * q)))
    }
}
