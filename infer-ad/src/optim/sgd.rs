//! Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's
//! update rule).

use super::{Optimizer, check_hp, check_lr, check_step_input, saturate};
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
/// The settings are validated by [`Sgd::new`] and [`Sgd::set_lr`]; a step checks its input
/// (see [`Optimizer::step`]). The momentum buffer saturates at ±`f64::MAX` rather than
/// overflowing, so finite input never gives NaN parameters.
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
        check_lr(cfg.lr)?;
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

    /// The settings.
    pub fn config(&self) -> &SgdConfig {
        &self.cfg
    }

    /// Changes the learning rate.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a negative or non-finite `lr` (as
    /// [`Sgd::new`]); the learning rate is then unchanged.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::optim::{Sgd, SgdConfig};
    /// let mut sgd = Sgd::new(SgdConfig::default())?;
    /// sgd.set_lr(0.5)?;
    /// assert!(sgd.set_lr(-1.0).is_err());
    /// assert!(sgd.set_lr(f64::INFINITY).is_err());
    /// assert_eq!(sgd.config().lr, 0.5);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn set_lr(&mut self, lr: f64) -> Result<(), AdError> {
        check_lr(lr)?;
        self.cfg.lr = lr;
        Ok(())
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut ParamStore) -> Result<(), AdError> {
        let c = self.cfg;
        check_step_input(params, c.weight_decay)?;
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
                    saturate(c.momentum * b[j] + (1.0 - c.dampening) * g)
                };
                let step = if c.nesterov {
                    saturate(g + c.momentum * b[j])
                } else {
                    b[j]
                };
                val[j] -= c.lr * step;
            }
        }
        Ok(())
    }
}
