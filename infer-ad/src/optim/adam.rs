//! Adam (Kingma & Ba 2015) with PyTorch's defaults and update rule, optional AMSGrad.

use super::{Optimizer, check_hp, check_lr, check_step_input, saturate};
use crate::{AdError, ParamStore};

/// Adam's settings. Defaults are PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate. Default `1e-3`.
    pub lr: f64,
    /// Decay of the first moment. Default `0.9`.
    pub beta1: f64,
    /// Decay of the second moment. Default `0.999`.
    pub beta2: f64,
    /// Added to the denominator; must be positive (with 0, a zero gradient would give
    /// 0 / 0). Default `1e-8`.
    pub eps: f64,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`). Default `0`.
    pub weight_decay: f64,
    /// Use the AMSGrad variant (Reddi et al. 2018). Default `false`.
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// The Adam optimizer. The update is PyTorch's:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)` (AMSGrad uses the running max of `v`).
///
/// It is computed without overflow: the state keeps `√v`, updated as
/// `hypot(√β₂·√v, √(1−β₂)·|g|)` (so a gradient of 1e200 does not square to ∞), and the update
/// as `lr · (m/(1−β₁ᵗ)) / (√v/√(1−β₂ᵗ) + ε)`, whose two bias-corrected moments are weighted
/// averages of the gradients and so stay in the finite range. The settings are validated by
/// [`Adam::new`] and [`Adam::set_lr`]; a step checks its input (see [`Optimizer::step`]).
/// Finite input never gives NaN parameters.
///
/// # Examples
/// ```
/// use infer_ad::optim::{Adam, AdamConfig};
/// let adam = Adam::new(AdamConfig::default())?;
/// assert!(Adam::new(AdamConfig { lr: -1.0, ..AdamConfig::default() }).is_err());
/// # Ok::<(), infer_ad::AdError>(())
/// ```
///
/// # References
/// Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
#[derive(Debug, Clone)]
pub struct Adam {
    cfg: AdamConfig,
    t: u64,
    m: Vec<Vec<f64>>,
    /// √v, the root of the second moment (see the type's docs).
    s: Vec<Vec<f64>>,
    /// AMSGrad: the running maximum of √v.
    smax: Vec<Vec<f64>>,
}

impl Adam {
    /// A new optimizer.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a negative or non-finite `lr`, betas outside
    /// `[0, 1)`, `eps` not positive and finite, or a negative or non-finite `weight_decay`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig};
    /// assert!(Adam::new(AdamConfig { eps: 0.0, ..AdamConfig::default() }).is_err());
    /// assert!(Adam::new(AdamConfig { beta2: f64::NAN, ..AdamConfig::default() }).is_err());
    /// ```
    pub fn new(cfg: AdamConfig) -> Result<Self, AdError> {
        check_lr(cfg.lr)?;
        check_hp(
            "beta1",
            cfg.beta1,
            (0.0..1.0).contains(&cfg.beta1),
            "must be in [0, 1)",
        )?;
        check_hp(
            "beta2",
            cfg.beta2,
            (0.0..1.0).contains(&cfg.beta2),
            "must be in [0, 1)",
        )?;
        check_hp(
            "eps",
            cfg.eps,
            cfg.eps > 0.0 && cfg.eps.is_finite(),
            "must be > 0 and finite",
        )?;
        check_hp(
            "weight_decay",
            cfg.weight_decay,
            cfg.weight_decay >= 0.0 && cfg.weight_decay.is_finite(),
            "must be ≥ 0 and finite",
        )?;
        Ok(Adam {
            cfg,
            t: 0,
            m: Vec::new(),
            s: Vec::new(),
            smax: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// Changes the learning rate (for schedules).
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a negative or non-finite `lr` (as
    /// [`Adam::new`]); the learning rate is then unchanged.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Adam, AdamConfig};
    /// let mut adam = Adam::new(AdamConfig::default())?;
    /// adam.set_lr(0.0)?; // warm-up
    /// assert!(adam.set_lr(f64::NAN).is_err());
    /// assert_eq!(adam.config().lr, 0.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn set_lr(&mut self, lr: f64) -> Result<(), AdError> {
        check_lr(lr)?;
        self.cfg.lr = lr;
        Ok(())
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut ParamStore) -> Result<(), AdError> {
        let c = self.cfg;
        check_step_input(params, c.weight_decay)?;
        self.t = self.t.saturating_add(1);
        // β^t as a real power (as PyTorch computes it); both corrections lie in (0, 1].
        let t = self.t as f64;
        let bc1 = 1.0 - c.beta1.powf(t);
        let bc2_sqrt = (1.0 - c.beta2.powf(t)).sqrt();
        let (sqrt_b2, sqrt_1mb2) = (c.beta2.sqrt(), (1.0 - c.beta2).sqrt());
        for i in 0..params.len() {
            let (val, grad) = params.value_and_grad_mut(i);
            if self.m.len() <= i {
                self.m.push(Vec::new());
                self.s.push(Vec::new());
                self.smax.push(Vec::new());
            }
            if self.m[i].len() != val.len() {
                // new parameter, or one whose shape changed: its moments restart from zero
                self.m[i] = vec![0.0; val.len()];
                self.s[i] = vec![0.0; val.len()];
                self.smax[i] = if c.amsgrad {
                    vec![0.0; val.len()]
                } else {
                    Vec::new()
                };
            }
            let m = &mut self.m[i];
            let s = &mut self.s[i];
            for j in 0..val.len() {
                let g = grad[j] + c.weight_decay * val[j];
                m[j] = saturate(c.beta1 * m[j] + (1.0 - c.beta1) * g);
                s[j] = saturate((sqrt_b2 * s[j]).hypot(sqrt_1mb2 * g));
            }
            let smax = &mut self.smax[i];
            for j in 0..val.len() {
                let root_v = if c.amsgrad {
                    smax[j] = smax[j].max(s[j]);
                    smax[j]
                } else {
                    s[j]
                };
                // m̂ and √v̂ are weighted averages of (squared) gradients: finite but for
                // rounding; the denominator is ≥ ε > 0, so the ratio is never 0/0 or ∞/∞.
                let m_hat = saturate(m[j] / bc1);
                let ratio = saturate(m_hat / (saturate(root_v / bc2_sqrt) + c.eps));
                val[j] -= c.lr * ratio;
            }
        }
        Ok(())
    }
}
