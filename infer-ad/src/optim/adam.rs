//! Adam (Kingma & Ba 2015) with PyTorch's defaults and update rule, optional AMSGrad.

use super::{Optimizer, check_hp};
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
    /// Added to the denominator. Default `1e-8`.
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
    t: i32,
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    vmax: Vec<Vec<f64>>,
}

impl Adam {
    /// A new optimizer.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a negative or non-finite `lr`, betas outside
    /// `[0, 1)`, `eps < 0` or negative `weight_decay`.
    pub fn new(cfg: AdamConfig) -> Result<Self, AdError> {
        check_hp(
            "lr",
            cfg.lr,
            cfg.lr >= 0.0 && cfg.lr.is_finite(),
            "must be ≥ 0 and finite",
        )?;
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
            cfg.eps >= 0.0 && cfg.eps.is_finite(),
            "must be ≥ 0",
        )?;
        check_hp(
            "weight_decay",
            cfg.weight_decay,
            cfg.weight_decay >= 0.0 && cfg.weight_decay.is_finite(),
            "must be ≥ 0",
        )?;
        Ok(Adam {
            cfg,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
            vmax: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// Changes the learning rate (for schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }

    /// Number of steps taken.
    pub fn steps(&self) -> i32 {
        self.t
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut ParamStore) {
        self.t += 1;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powi(self.t);
        let bc2_sqrt = (1.0 - c.beta2.powi(self.t)).sqrt();
        let step_size = c.lr / bc1;
        for i in 0..params.len() {
            let (val, grad) = params.value_and_grad_mut(i);
            if self.m.len() <= i {
                self.m.push(Vec::new());
                self.v.push(Vec::new());
                self.vmax.push(Vec::new());
            }
            if self.m[i].len() != val.len() {
                // new parameter, or one whose shape changed: its moments restart from zero
                self.m[i] = vec![0.0; val.len()];
                self.v[i] = vec![0.0; val.len()];
                self.vmax[i] = if c.amsgrad {
                    vec![0.0; val.len()]
                } else {
                    Vec::new()
                };
            }
            let m = &mut self.m[i];
            let v = &mut self.v[i];
            for j in 0..val.len() {
                let g = grad[j] + c.weight_decay * val[j];
                m[j] = c.beta1 * m[j] + (1.0 - c.beta1) * g;
                v[j] = c.beta2 * v[j] + (1.0 - c.beta2) * g * g;
            }
            if c.amsgrad {
                let vmax = &mut self.vmax[i];
                for j in 0..val.len() {
                    vmax[j] = vmax[j].max(v[j]);
                    val[j] -= step_size * m[j] / (vmax[j].sqrt() / bc2_sqrt + c.eps);
                }
            } else {
                for j in 0..val.len() {
                    val[j] -= step_size * m[j] / (v[j].sqrt() / bc2_sqrt + c.eps);
                }
            }
        }
    }
}
