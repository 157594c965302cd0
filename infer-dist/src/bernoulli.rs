//! The Bernoulli distribution, parameterized by probabilities or logits.

use crate::bind::{Kernel, family};
use crate::util::{self, FINITE, PROB, check_param, finite, lp_map, lp_sum, param_map, prob};
use crate::{Constraint, DistError};
use infer_ad::scalar::{sigmoid, softplus_and_sigmoid};
use infer_ad::{Operand, Tensor, Var};
use ndarray::ArrayD;

family! {
    /// The Bernoulli distribution on {0, 1} with success probability p (or logit l = ln(p/(1 − p))):
    ///
    /// ln P(x) = x ln p + (1 − x) ln(1 − p) = x l − softplus(l), x ∈ {0, 1};
    /// any other value has log mass −∞.
    ///
    /// Entropy −p ln p − (1 − p) ln(1 − p); mean p; variance p(1 − p). Not reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Bernoulli, Distribution};
    /// let tape = Tape::new();
    /// let p = tape.var(0.25);
    /// let d = Bernoulli::from_probs(p)?;
    /// let lp = d.log_prob_sum(tape.constant(&ndarray::array![1.0, 0.0]))?;
    /// lp.backward();
    /// assert!((p.grad() - (4.0 - 1.0 / 0.75)).abs() < 1e-12);
    /// let l = Bernoulli::from_logits(tape.var(0.0))?;
    /// assert_eq!(l.mean()?.to_vec(), vec![0.5]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Bernoulli`.
    pub struct Bernoulli / BernoulliK {
        params: [param],
        extra: {logits: bool},
        names: |d| [if d.logits { "logits" } else { "probs" }],
        support: |_| Constraint::Boolean,
    }
}

impl<'t> Bernoulli<'t> {
    /// A Bernoulli distribution with success probabilities `probs`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a probability outside [0, 1] (or NaN).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Bernoulli::from_probs(tape.var(1.5)).is_err());
    /// ```
    pub fn from_probs(probs: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [param] = crate::param::take_params!(NAME; probs);
        check_param(NAME, "probs", &param, prob, PROB)?;
        Self::build(param, false)
    }

    /// A Bernoulli distribution with success log-odds `logits`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite logit.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Bernoulli::from_logits(tape.var(f64::NAN)).is_err());
    /// ```
    pub fn from_logits(logits: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [param] = crate::param::take_params!(NAME; logits);
        // logits recorded as a deferred `data_matvec(x, β) (+ α)` whose values are provably
        // finite need not be computed to be checked (crate::glm's affine module)
        let proven = matches!(param, crate::Param::Tensor(t) if crate::glm::deferred_logits_finite(t));
        if !proven {
            check_param(NAME, "logits", &param, finite, FINITE)?;
        }
        Self::build(param, true)
    }

    /// The distribution from its checked parameter, probabilities or (`logits`) log-odds.
    fn build(param: crate::Param<'t>, logits: bool) -> Result<Self, DistError> {
        let batch = param.shape()?;
        Ok(Bernoulli {
            param,
            logits,
            batch,
        })
    }

    /// The success probabilities on the parameter's tape (computed there as σ(logits) when
    /// built from logits).
    ///
    /// # Errors
    /// [`DistError::Unbound`] when the parameter is a constant (no tape to put the result on;
    /// see [`Bernoulli::param`] for the value as given, or [`Bernoulli::on`]).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Bernoulli::from_logits(tape.var(0.0))?;
    /// assert_eq!(d.probs()?.to_vec(), vec![0.5]);
    /// assert!(infer_dist::Bernoulli::from_probs(0.5)?.probs().is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn probs(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.bound("probs")?.probs())
    }

    /// The log-odds on the parameter's tape (computed there as ln p − ln(1 − p) when built from
    /// probabilities).
    ///
    /// # Errors
    /// [`DistError::Unbound`] when the parameter is a constant.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let d = infer_dist::Bernoulli::from_probs(tape.var(0.5))?;
    /// assert_eq!(d.logits()?.to_vec(), vec![0.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn logits(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.bound("logits")?.logits())
    }

    /// Whether the distribution was built from logits.
    pub fn is_logits(&self) -> bool {
        self.logits
    }
}

impl<'t> BernoulliK<'t> {
    /// The success probabilities (σ(logits) when built from logits).
    pub(crate) fn probs(&self) -> Tensor<'t> {
        if self.logits {
            self.param.sigmoid()
        } else {
            self.param
        }
    }

    /// The log-odds (ln p − ln(1 − p) when built from probabilities).
    pub(crate) fn logits(&self) -> Tensor<'t> {
        if self.logits {
            self.param
        } else {
            self.param
                .map_with_derivative(|p| ((p / (1.0 - p)).ln(), 1.0 / (p * (1.0 - p))))
        }
    }
}

fn kernel_probs([x, p]: [f64; 2]) -> (f64, [f64; 2]) {
    if x == 1.0 {
        (p.ln(), [0.0, 1.0 / p])
    } else if x == 0.0 {
        ((-p).ln_1p(), [0.0, -1.0 / (1.0 - p)])
    } else if x.is_nan() {
        (f64::NAN, [0.0; 2])
    } else {
        util::neg_inf()
    }
}

/// ln P(x | l) = −softplus(∓l) with ∂/∂l = ±σ(∓l) (upper signs for x = 1): one exponential
/// and one logarithm per element through [`softplus_and_sigmoid`].
fn kernel_logits([x, l]: [f64; 2]) -> (f64, [f64; 2]) {
    if x == 1.0 {
        let (sp, s) = softplus_and_sigmoid(-l);
        (-sp, [0.0, s])
    } else if x == 0.0 {
        let (sp, s) = softplus_and_sigmoid(l);
        (-sp, [0.0, -s])
    } else if x.is_nan() {
        (f64::NAN, [0.0; 2])
    } else {
        util::neg_inf()
    }
}

/// Binary entropy of p with dH/dp.
fn binary_entropy(p: f64) -> (f64, f64) {
    let xl = |q: f64| if q == 0.0 { 0.0 } else { q * q.ln() };
    let d = if p == 0.0 || p == 1.0 {
        0.0
    } else {
        ((1.0 - p) / p).ln()
    };
    (-xl(p) - xl(1.0 - p), d)
}

impl<'t> Kernel<'t> for BernoulliK<'t> {

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        self.log_prob_at(Operand::Tensor(value))
    }

    fn log_prob_at(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        let ops = [value, Operand::Tensor(self.param)];
        if self.logits {
            lp_map(NAME, self.batch, ops, kernel_logits)
        } else {
            lp_map(NAME, self.batch, ops, kernel_probs)
        }
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        self.log_prob_sum_at(Operand::Tensor(value))
    }

    fn log_prob_sum_at(&self, value: Operand<'_, 't>) -> Result<Var<'t>, DistError> {
        let ops = [value, Operand::Tensor(self.param)];
        if self.logits {
            // logits recorded as `data_matvec(x, β) (+ α)`: the GLM fast path, which forms
            // the gradient in β and α in its forward pass (crate::glm's affine module)
            if let Some(lp) = crate::glm::logit_affine_sum(self.param, value) {
                return Ok(lp);
            }
            lp_sum(NAME, self.batch, ops, kernel_logits)
        } else {
            lp_sum(NAME, self.batch, ops, kernel_probs)
        }
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let q = util::bvals(self.param, self.batch);
        let x = (0..u.len())
            .map(|i| {
                let p = if self.logits { sigmoid(q[i]) } else { q[i] };
                if u[i] < p { 1.0 } else { 0.0 }
            })
            .collect();
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        let logits = self.logits;
        param_map(self.batch, [self.param], move |[q]| {
            if logits {
                let p = sigmoid(q);
                let (h, d) = binary_entropy(p);
                (h, [d * p * (1.0 - p)])
            } else {
                let (h, d) = binary_entropy(q);
                (h, [d])
            }
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.probs().broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let p = self.probs();
        param_map(self.batch, [p], |[p]| (p * (1.0 - p), [1.0 - 2.0 * p]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infer_ad::Tape;

    #[test]
    fn logits_log_prob_sum_and_gradient() {
        let tape = Tape::new();
        let ls = [-30.0, -2.5, -0.1, 0.0, 0.7, 4.0, 35.0];
        let xs = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        let l = tape.tensor(&ndarray::arr1(&ls));
        let lp = Bernoulli::from_logits(l)
            .and_then(|d| d.log_prob_sum(tape.constant(&ndarray::arr1(&xs))))
            .expect("valid");
        lp.backward();
        let g = l.grad();
        let mut want = 0.0;
        for (i, (&li, &xi)) in ls.iter().zip(&xs).enumerate() {
            // ln σ(l) = −ln(1 + e^−l), ln(1 − σ(l)) = −ln(1 + e^l), by libm.
            let p = 1.0 / (1.0 + (-li).exp());
            want -= if xi == 1.0 {
                (-li).exp().ln_1p()
            } else {
                li.exp().ln_1p()
            };
            let dwant = xi - p;
            assert!(
                (g[i] - dwant).abs() <= 1e-15,
                "grad at {li}: {} vs {dwant}",
                g[i]
            );
        }
        assert!(
            (lp.value() - want).abs() <= 1e-13 * want.abs(),
            "{} vs {want}",
            lp.value()
        );
    }
}
