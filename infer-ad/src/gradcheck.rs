//! A central-difference gradient checker for any function recorded on a tape.
//!
//! The numerical derivative of input element `x` is the Richardson extrapolation of two
//! central differences, `(4·D(h/2) − D(h))/3` with `D(h) = (f(x+h) − f(x−h))/(2h)` and
//! `h = step · max(1, |x|)`; its truncation error is O(h⁴). An analytic gradient `a` agrees
//! with the numerical `n` when
//!
//! `|a − n| ≤ atol + rtol · max(|a|, |n|)`
//!
//! with defaults `step = 1e-4`, `atol = 1e-6`, `rtol = 1e-5`. Inputs must lie at least `h` away
//! from the boundary of the function's domain and from kinks (|x|, min/max, clamp).

use crate::error::AdError;
use crate::tape::Tape;
use crate::tensor::Tensor;
use crate::var::Var;
use ndarray::ArrayD;

/// Settings of [`check_gradient`]; see the module documentation for the tolerance rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheckConfig {
    /// Relative finite-difference step. Default `1e-4`.
    pub step: f64,
    /// Absolute tolerance. Default `1e-6`.
    pub atol: f64,
    /// Relative tolerance. Default `1e-5`.
    pub rtol: f64,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        GradCheckConfig {
            step: 1e-4,
            atol: 1e-6,
            rtol: 1e-5,
        }
    }
}

/// What a successful check measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheckReport {
    /// Number of input elements checked.
    pub checked: usize,
    /// Largest |analytic − numeric|.
    pub max_abs_error: f64,
    /// Largest |analytic − numeric| / max(|analytic|, |numeric|, 1e-300).
    pub max_rel_error: f64,
}

/// Why a gradient check failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GradCheckError {
    /// The analytic and numerical derivatives disagree beyond the tolerance.
    #[error(
        "gradient mismatch at input {input}, element {element}: analytic {analytic}, numeric {numeric} (tolerance {tolerance})"
    )]
    Mismatch {
        /// Which input array.
        input: usize,
        /// Flat element index within it.
        element: usize,
        /// Tape gradient.
        analytic: f64,
        /// Finite-difference estimate.
        numeric: f64,
        /// The tolerance that was exceeded.
        tolerance: f64,
    },
    /// The function or a derivative was not finite at the point.
    #[error(
        "non-finite value at input {input}, element {element}: analytic {analytic}, numeric {numeric}"
    )]
    NonFinite {
        /// Which input array.
        input: usize,
        /// Flat element index within it.
        element: usize,
        /// Tape gradient.
        analytic: f64,
        /// Finite-difference estimate.
        numeric: f64,
    },
    /// The function itself failed.
    #[error(transparent)]
    Ad(#[from] AdError),
}

/// Checks the tape gradient of `f` (a scalar function of several arrays) against central
/// differences at `inputs`.
///
/// # Errors
/// [`GradCheckError::Mismatch`] naming the first element out of tolerance;
/// [`GradCheckError::NonFinite`]; [`GradCheckError::Ad`] when `f` fails.
///
/// # Examples
/// ```
/// use infer_ad::gradcheck::{check_gradient, GradCheckConfig};
/// let x = ndarray::arr1(&[0.3, 1.2, -0.7]).into_dyn();
/// let report = check_gradient(&[x], |_tape, t| Ok(t[0].exp().sin().sum()), &GradCheckConfig::default())?;
/// assert_eq!(report.checked, 3);
/// # Ok::<(), infer_ad::gradcheck::GradCheckError>(())
/// ```
pub fn check_gradient<F>(
    inputs: &[ArrayD<f64>],
    f: F,
    cfg: &GradCheckConfig,
) -> Result<GradCheckReport, GradCheckError>
where
    F: for<'t> Fn(&'t Tape, &[Tensor<'t>]) -> Result<Var<'t>, AdError>,
{
    // Work on standard-layout copies, so that flat element k means the same element for the
    // tape (row-major leaves), the perturbation and the comparison.
    let mut xs: Vec<ArrayD<f64>> = inputs
        .iter()
        .map(|x| x.as_standard_layout().into_owned())
        .collect();
    let mut tape = Tape::new();
    let analytic: Vec<Vec<f64>> = {
        let leaves: Vec<Tensor<'_>> = xs.iter().map(|x| tape.tensor(x)).collect();
        let y = f(&tape, &leaves)?;
        y.backward();
        leaves
            .iter()
            .map(|t| {
                let mut g = vec![0.0; t.numel()];
                t.grad_into(&mut g);
                g
            })
            .collect()
    };
    let mut eval = |xs: &[ArrayD<f64>]| -> Result<f64, AdError> {
        tape.clear();
        let leaves: Vec<Tensor<'_>> = xs.iter().map(|x| tape.tensor(x)).collect();
        Ok(f(&tape, &leaves)?.value())
    };
    let mut report = GradCheckReport {
        checked: 0,
        max_abs_error: 0.0,
        max_rel_error: 0.0,
    };
    for input in 0..xs.len() {
        for element in 0..xs[input].len() {
            let x0 = flat(&mut xs[input])[element];
            let h = cfg.step * x0.abs().max(1.0);
            let mut central = |h: f64| -> Result<f64, AdError> {
                set(&mut xs[input], element, x0 + h);
                let fp = eval(&xs)?;
                set(&mut xs[input], element, x0 - h);
                let fm = eval(&xs)?;
                set(&mut xs[input], element, x0);
                Ok((fp - fm) / (2.0 * h))
            };
            let d1 = central(h)?;
            let d2 = central(h / 2.0)?;
            let numeric = (4.0 * d2 - d1) / 3.0;
            let a = analytic[input][element];
            if !a.is_finite() || !numeric.is_finite() {
                return Err(GradCheckError::NonFinite {
                    input,
                    element,
                    analytic: a,
                    numeric,
                });
            }
            let err = (a - numeric).abs();
            let scale = a.abs().max(numeric.abs());
            let tolerance = cfg.atol + cfg.rtol * scale;
            if err > tolerance {
                return Err(GradCheckError::Mismatch {
                    input,
                    element,
                    analytic: a,
                    numeric,
                    tolerance,
                });
            }
            report.checked += 1;
            report.max_abs_error = report.max_abs_error.max(err);
            report.max_rel_error = report.max_rel_error.max(err / scale.max(1e-300));
        }
    }
    Ok(report)
}

/// [`check_gradient`] for a function of scalar variables.
///
/// # Errors
/// As [`check_gradient`].
///
/// # Examples
/// ```
/// use infer_ad::gradcheck::{check_gradient_scalar, GradCheckConfig};
/// let r = check_gradient_scalar(&[0.5, 2.0], |_t, v| v[0].pow(v[1]).expect("one tape") * v[1].lgamma(), &GradCheckConfig::default())?;
/// assert_eq!(r.checked, 2);
/// # Ok::<(), infer_ad::gradcheck::GradCheckError>(())
/// ```
pub fn check_gradient_scalar<F>(
    x: &[f64],
    f: F,
    cfg: &GradCheckConfig,
) -> Result<GradCheckReport, GradCheckError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let arr = ndarray::Array1::from(x.to_vec()).into_dyn();
    check_gradient(
        &[arr],
        |tape, t| {
            let vars: Vec<Var<'_>> = (0..t[0].numel()).map(|i| t[0].var_at(i)).collect();
            Ok(f(tape, &vars))
        },
        cfg,
    )
}

fn set(a: &mut ArrayD<f64>, i: usize, v: f64) {
    flat(a)[i] = v;
}

/// The elements of a standard-layout array as a row-major slice.
fn flat(a: &mut ArrayD<f64>) -> &mut [f64] {
    a.as_slice_mut()
        .unwrap_or_else(|| unreachable!("inputs are copied into standard layout"))
}
