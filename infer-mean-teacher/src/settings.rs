//! [`EmaSettings`]: the immutable configuration of a teacher's exponential moving average.

use crate::error::MeanTeacherError;

/// Settings of the teacher's exponential moving average (Tarvainen & Valpola 2017).
///
/// After every optimizer step of the student, [`MeanTeacher::update`](crate::MeanTeacher::update)
/// counts the step and, when the schedule says so, applies
/// `θ' ← α θ' + (1 − α) θ` with `α = min(1 − 1/(t + 1), alpha_max)`, `t` the number of EMA
/// updates applied so far including this one (so the first uses `α = 1/2`).
///
/// # Examples
/// ```
/// use infer_mean_teacher::EmaSettings;
/// let s = EmaSettings { alpha_max: 0.999, update_every: 2, ..EmaSettings::default() };
/// s.validate()?;
/// assert!(EmaSettings { alpha_max: f64::NAN, ..s }.validate().is_err());
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models: weight-averaged
/// consistency targets improve semi-supervised deep learning results. NeurIPS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmaSettings {
    /// Upper bound of the decay α, in `[0, 1)`. Default `0.99` (the paper's value during the
    /// consistency ramp-up; it switches to `0.999` afterwards, see
    /// [`MeanTeacher::set_alpha_max`](crate::MeanTeacher::set_alpha_max)). `0` makes the
    /// teacher a copy of the student.
    pub alpha_max: f64,
    /// Divide the average by `1 − Π αᵢ` (the product of the decays used so far; `1 − αᵗ` for a
    /// constant α, as optax's `ema(debias=True)`), with the average started from zero. A
    /// constant student then gives exactly that constant from the first update, and the
    /// initial teacher weights are forgotten at the first update. It is folded into the
    /// update's weight, `(1 − α)/(1 − Π αᵢ)`: no extra buffer, no extra pass. Default `false`.
    pub bias_correction: bool,
    /// Apply the EMA every this many optimizer steps (≥ 1). Default `1`.
    pub update_every: u64,
    /// Number of optimizer steps before the EMA starts; until then every update copies the
    /// student into the teacher (as timm's `update_after_step`). Default `0`.
    pub start_after: u64,
}

impl Default for EmaSettings {
    fn default() -> Self {
        EmaSettings {
            alpha_max: 0.99,
            bias_correction: false,
            update_every: 1,
            start_after: 0,
        }
    }
}

impl EmaSettings {
    /// Checks every field.
    ///
    /// # Errors
    /// [`MeanTeacherError::InvalidAlpha`] when `alpha_max` is outside `[0, 1)` or NaN;
    /// [`MeanTeacherError::InvalidSetting`] when `update_every` is 0.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::EmaSettings;
    /// EmaSettings::default().validate()?;
    /// assert!(EmaSettings { update_every: 0, ..EmaSettings::default() }.validate().is_err());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn validate(&self) -> Result<(), MeanTeacherError> {
        check_alpha("alpha_max", self.alpha_max)?;
        if self.update_every == 0 {
            return Err(MeanTeacherError::InvalidSetting {
                name: "update_every",
                value: 0,
                reason: "must be at least 1",
            });
        }
        Ok(())
    }
}

/// `Ok` when `value` is in `[0, 1)`.
pub(crate) fn check_alpha(name: &'static str, value: f64) -> Result<(), MeanTeacherError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(MeanTeacherError::InvalidAlpha { name, value })
    }
}

/// The paper's EMA decay for the `step`-th update (1-based): `min(1 − 1/(step + 1), alpha_max)`.
///
/// Step 0 (no update yet) gives 0.
///
/// # Examples
/// ```
/// use infer_mean_teacher::ema_alpha;
/// assert_eq!(ema_alpha(1, 0.99), 0.5);
/// assert_eq!(ema_alpha(3, 0.99), 0.75);
/// assert_eq!(ema_alpha(1000, 0.99), 0.99);
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS.
pub fn ema_alpha(step: u64, alpha_max: f64) -> f64 {
    let ramp = 1.0 - 1.0 / (step as f64 + 1.0);
    ramp.min(alpha_max)
}
