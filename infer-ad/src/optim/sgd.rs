//! Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's
//! update rule).

use super::{Optimizer, check_hp};
use crate::{AdError, ParamStore};

/// SGD settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate. Default `1e-3` (PyTorch requires it explicitly).
    pub lr: f64,
    /// Momentum factor. Default `0`.
    pub momentum: f64,
    /// Dampening of the momentum. Default `0`.
    pub dampening: f64,
    /// L2 penalty added to the gradient. Default `0`.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`). Default `false`.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// SGD: `g ← g + λθ`; with momentum `b ← μb + (1−τ)g` (`b = g` on the first step), then
/// `g ← g + μb` (Nesterov) or `g ← b`; finally `θ ← θ − lr·g`.
///
/// # Examples
/// ```
/// use infer_ad::optim::{Sgd, SgdConfig};
/// let sgd = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() })?;
/// assert!(Sgd::new(SgdConfig { nesterov: true, ..SgdConfig::default() }).is_err());
/// # Ok::<(), infer_ad::AdError>(())
/// ```
///
/// # References
/// Sutskever, I. et al. (2013). On the importance of initialization and momentum in deep
/// learning. ICML.
#[derive(Debug, Clone)]
pub struct Sgd {
    cfg: SgdConfig,
    buf: Vec<Option<Vec<f64>>>,
}

impl Sgd {
    /// A new optimizer.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for negative or non-finite values, or Nesterov
    /// without momentum or with dampening.
    pub fn new(cfg: SgdConfig) -> Result<Self, AdError> {
        check_hp(
            "lr",
            cfg.lr,
            cfg.lr >= 0.0 && cfg.lr.is_finite(),
            "must be ≥ 0 and finite",
        )?;
        check_hp(
            "momentum",
            cfg.momentum,
            cfg.momentum >= 0.0 && cfg.momentum.is_finite(),
            "must be ≥ 0",
        )?;
        check_hp(
            "dampening",
            cfg.dampening,
            (0.0..=1.0).contains(&cfg.dampening),
            "must be in [0, 1]",
        )?;
        check_hp(
            "weight_decay",
            cfg.weight_decay,
            cfg.weight_decay >= 0.0 && cfg.weight_decay.is_finite(),
            "must be ≥ 0",
        )?;
        if cfg.nesterov {
            check_hp(
                "momentum",
                cfg.momentum,
                cfg.momentum > 0.0,
                "Nesterov needs momentum > 0",
            )?;
            check_hp(
                "dampening",
                cfg.dampening,
                cfg.dampening == 0.0,
                "Nesterov needs dampening 0",
            )?;
        }
        Ok(Sgd {
            cfg,
            buf: Vec::new(),
        })
    }

    /// Changes the learning rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut ParamStore) {
        let c = self.cfg;
        for i in 0..params.len() {
            if self.buf.len() <= i {
                self.buf.push(None);
            }
            let (val, grad) = params.value_and_grad_mut(i);
            if c.momentum == 0.0 {
                for j in 0..val.len() {
                    val[j] -= c.lr * (grad[j] + c.weight_decay * val[j]);
                }
                continue;
            }
            if self.buf[i].as_ref().is_some_and(|b| b.len() != val.len()) {
                self.buf[i] = None; // the parameter's shape changed: momentum restarts
            }
            let first = self.buf[i].is_none();
            let b = self.buf[i].get_or_insert_with(|| vec![0.0; val.len()]);
            for j in 0..val.len() {
                let g = grad[j] + c.weight_decay * val[j];
                b[j] = if first {
                    g
                } else {
                    c.momentum * b[j] + (1.0 - c.dampening) * g
                };
                let step = if c.nesterov {
                    g + c.momentum * b[j]
                } else {
                    b[j]
                };
                val[j] -= c.lr * step;
            }
        }
    }
}
