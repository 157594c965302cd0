//! The log-density adjustment for a change of variables onto unconstrained space.

use crate::LossError;
use crate::util::{add, check_len, check_site, finish};
use infer_ad::{Tensor, Var};
use infer_dist::{Bijector, Distribution};

/// `ln |det J|` of the bijection from unconstrained space onto p's support, at the
/// unconstrained point that maps to `value`, summed over the elements:
///
/// ln |det ∂f/∂y| at y = f⁻¹(x),  f = the support's bijector (`exp` for positive supports,
/// a scaled sigmoid for intervals, …; see [`infer_dist::Bijector`]).
///
/// Adding it to ln p(x) gives the log density of the unconstrained variable y. For the
/// elementwise bijectors (real, positive, lower-bounded, interval) the result is
/// differentiable in `value`; for the simplex and Cholesky transforms it is evaluated at
/// the value and carries no gradient.
///
/// # Errors
/// [`LossError::NoBijector`] for a discrete support; [`LossError::Dist`] when `value` is
/// outside a simplex or Cholesky support.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::Gamma;
/// let tape = Tape::new();
/// let p = Gamma::new(tape.var(1.0), tape.var(1.0))?;
/// let adj = infer_loss::volume_adjustment(&p, tape.var(1.0).as_tensor())?;
/// assert_eq!(adj.value(), 0.0); // ln 1
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn volume_adjustment<'t>(
    p_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    // p enters only through its support, so no tape operation would notice a p on another tape.
    check_site("volume_adjustment", &[p_dist], value)?;
    let Some(b) = p_dist.support().bijector() else {
        return Err(LossError::NoBijector {
            dist: p_dist.name(),
        });
    };
    let tape = value.tape();
    Ok(match b {
        Bijector::Identity => tape.var(0.0),
        // y = ln(x − low), ln|J| = y.
        Bijector::Exp => value.ln().sum(),
        Bijector::ShiftedExp { low } => value.add_scalar(-low).ln().sum(),
        // u = (x − low)/(high − low) = σ(y): ln|J| = ln(high − low) + ln u + ln(1 − u).
        Bijector::ScaledSigmoid { low, high } => interval(value, low, high)?,
        Bijector::Sigmoid => interval(value, 0.0, 1.0)?,
        other => {
            let y = other.inverse(&value.to_vec())?;
            let y = tape.tensor_from_slice(&[y.len()], &y)?.detach();
            other.log_abs_det_jacobian(y)?
        }
    })
}

/// `Σ ln((x − low)(high − x)/(high − low))`, differentiable in `x`.
fn interval<'t>(value: Tensor<'t>, low: f64, high: f64) -> Result<Var<'t>, LossError> {
    let ln_w = (high - low).ln();
    Ok(value.tape().fused_sum([value], |_, [x]| {
        let (a, b) = (x - low, high - x);
        (a.ln() + b.ln() - ln_w, [1.0 / a - 1.0 / b])
    })?)
}

/// `Σᵢ volume_adjustment(pᵢ, xᵢ)`: the adjustment of a log joint evaluated in unconstrained
/// space.
///
/// # Errors
/// [`LossError::LengthMismatch`] when the lists differ in length; [`LossError::Empty`] for
/// empty lists; as [`volume_adjustment`].
///
/// # Examples
/// The seed's example: five Gamma(2, 2) at 1, …, 5 give ln 120 = 4.7875.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Gamma};
/// let tape = Tape::new();
/// let p = Gamma::new(tape.var(2.0), tape.var(2.0))?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let values: Vec<_> = (1..6).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let adj = infer_loss::log_prob_volume_adjustment(&p_dists, &values)?;
/// assert!((adj.value() - 4.7875).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_prob_volume_adjustment<'t>(
    p_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
) -> Result<Var<'t>, LossError> {
    check_len(
        "log_prob_volume_adjustment values",
        p_dists.len(),
        values.len(),
    )?;
    let mut acc = None;
    for (p, &x) in p_dists.iter().zip(values) {
        acc = add(acc, volume_adjustment(*p, x)?)?;
    }
    finish(acc, "log_prob_volume_adjustment")
}
