//! Schedules for the consistency weight (and learning rate): the paper's sigmoid-shaped
//! ramp-up and cosine ramp-down.

use crate::error::MeanTeacherError;

fn check_length(name: &'static str, length: f64) -> Result<(), MeanTeacherError> {
    if length >= 0.0 {
        Ok(())
    } else {
        Err(MeanTeacherError::InvalidRamp {
            name,
            value: length,
        })
    }
}

/// The mean teacher's consistency-weight ramp-up: `exp(−5 (1 − t/T)²)` with `t` clipped to
/// `[0, T]`; it rises from `e⁻⁵ ≈ 0.0067` at `t = 0` to 1 at `t = T` and stays at 1. A length
/// of 0 gives 1 everywhere. `t` and `T` are in any common unit (steps or epochs).
///
/// # Errors
/// [`MeanTeacherError::InvalidRamp`] when `length` is negative or NaN.
///
/// # Examples
/// ```
/// use infer_mean_teacher::sigmoid_rampup;
/// assert_eq!(sigmoid_rampup(0.0, 100.0)?, (-5.0f64).exp());
/// assert_eq!(sigmoid_rampup(50.0, 100.0)?, (-1.25f64).exp());
/// assert_eq!(sigmoid_rampup(250.0, 100.0)?, 1.0);
/// assert_eq!(sigmoid_rampup(3.0, 0.0)?, 1.0);
/// assert!(sigmoid_rampup(3.0, -1.0).is_err());
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS
/// (after Laine & Aila 2017, temporal ensembling).
pub fn sigmoid_rampup(t: f64, length: f64) -> Result<f64, MeanTeacherError> {
    check_length("rampup length", length)?;
    if length == 0.0 {
        return Ok(1.0);
    }
    let phase = 1.0 - t.clamp(0.0, length) / length;
    Ok((-5.0 * phase * phase).exp())
}

/// A cosine ramp-down from 1 to 0 over `[0, T]`: `(cos(π t/T) + 1)/2` with `t` clipped to
/// `[0, T]` (the paper's code anneals the learning rate with it). A length of 0 gives 0
/// everywhere (already ramped down).
///
/// # Errors
/// [`MeanTeacherError::InvalidRamp`] when `length` is negative or NaN.
///
/// # Examples
/// ```
/// use infer_mean_teacher::cosine_rampdown;
/// assert_eq!(cosine_rampdown(0.0, 10.0)?, 1.0);
/// assert!((cosine_rampdown(5.0, 10.0)? - 0.5).abs() < 1e-15);
/// assert_eq!(cosine_rampdown(10.0, 10.0)?, 0.0);
/// assert_eq!(cosine_rampdown(20.0, 10.0)?, 0.0);
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS;
/// Loshchilov, I. & Hutter, F. (2017). SGDR: stochastic gradient descent with warm restarts.
/// ICLR.
pub fn cosine_rampdown(t: f64, length: f64) -> Result<f64, MeanTeacherError> {
    check_length("rampdown length", length)?;
    if length == 0.0 {
        return Ok(0.0);
    }
    let x = t.clamp(0.0, length) / length;
    // At x = 1, cos(π) + 1 is 0 up to rounding; pin it.
    if x >= 1.0 {
        return Ok(0.0);
    }
    Ok(0.5 * ((std::f64::consts::PI * x).cos() + 1.0))
}

/// A linear ramp-up `t/T` clipped to `[0, 1]` (the paper's learning-rate warm-up). A length
/// of 0 gives 1 everywhere.
///
/// # Errors
/// [`MeanTeacherError::InvalidRamp`] when `length` is negative or NaN.
///
/// # Examples
/// ```
/// use infer_mean_teacher::linear_rampup;
/// assert_eq!(linear_rampup(5.0, 10.0)?, 0.5);
/// assert_eq!(linear_rampup(15.0, 10.0)?, 1.0);
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS.
pub fn linear_rampup(t: f64, length: f64) -> Result<f64, MeanTeacherError> {
    check_length("rampup length", length)?;
    if length == 0.0 {
        return Ok(1.0);
    }
    Ok(t.clamp(0.0, length) / length)
}
