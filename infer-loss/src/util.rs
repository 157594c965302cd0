//! Private helpers: list-length checks, sums of optional terms, Delta detection.

use crate::LossError;
use infer_ad::{Tensor, Var, check_same_tape};
use infer_dist::{Distribution, Family};

/// `Err(LengthMismatch)` unless `got == expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), LossError> {
    if expected == got {
        Ok(())
    } else {
        Err(LossError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// `acc + v`, where a missing accumulator is 0. Terms of different sites may come from
/// different tapes when a caller mixes them up: that is a typed error, not the operator's
/// panic.
#[inline]
pub(crate) fn add<'t>(acc: Option<Var<'t>>, v: Var<'t>) -> Result<Option<Var<'t>>, LossError> {
    Ok(Some(match acc {
        Some(a) => {
            check_same_tape("loss sum over sites", a.tape(), v.tape())?;
            a + v
        }
        None => v,
    }))
}

/// `a + b` over optional terms, checked like [`add`].
#[inline]
pub(crate) fn add_opt<'t>(
    a: Option<Var<'t>>,
    b: Option<Var<'t>>,
) -> Result<Option<Var<'t>>, LossError> {
    match (a, b) {
        (Some(a), Some(b)) => add(Some(a), b),
        (a, None) => Ok(a),
        (None, b) => Ok(b),
    }
}

/// Checks that the parameters of every distribution of one site live on the tape of its
/// `value`, for the losses that combine terms without going through a log density of the
/// value (`prior_loss`, which ignores q, `volume_adjustment`, which reads only p's support, and the
/// closed-form KL). Every log density checks
/// its own operands through the tape's fused operations, so the other losses need no
/// call here (it would allocate each distribution's parameter list on every step).
pub(crate) fn check_site<'t>(
    function: &'static str,
    dists: &[&dyn Distribution<'t>],
    value: Tensor<'t>,
) -> Result<(), LossError> {
    let tape = value.tape();
    for d in dists {
        for (_, p) in d.params() {
            // constants are bound to the value's tape when the density is evaluated
            if let Some(t) = p.tape() {
                check_same_tape(function, tape, t)?;
            }
        }
    }
    Ok(())
}

/// `c · v`, recording nothing when `c == 1`.
#[inline]
pub(crate) fn scale<'t>(v: Var<'t>, c: f64) -> Var<'t> {
    if c == 1.0 { v } else { v * c }
}

/// The value of an optional term (0 when missing).
#[inline]
pub(crate) fn value_of(v: Option<Var<'_>>) -> f64 {
    v.map_or(0.0, |v| v.value())
}

/// Turns an optional sum into the result, or `Empty` when there was nothing to sum.
pub(crate) fn finish<'t>(
    acc: Option<Var<'t>>,
    function: &'static str,
) -> Result<Var<'t>, LossError> {
    acc.ok_or(LossError::Empty { function })
}

/// Whether `d` is a point mass (`Delta`), which contributes its prior loss only.
#[inline]
pub(crate) fn is_delta(d: &dyn Distribution<'_>) -> bool {
    matches!(d.family(), Family::Delta(_))
}

/// [`LossError::DeltaNotSupported`] naming `function` when `p` or `q` is a Delta.
pub(crate) fn reject_delta(
    function: &'static str,
    p: &dyn Distribution<'_>,
    q: &dyn Distribution<'_>,
) -> Result<(), LossError> {
    if is_delta(p) || is_delta(q) {
        return Err(LossError::DeltaNotSupported { function });
    }
    Ok(())
}

/// Checks a scaling factor: finite and ≥ 0.
pub(crate) fn check_scaling(name: &'static str, value: f64) -> Result<(), LossError> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(LossError::InvalidArgument {
            name,
            value,
            expected: "a finite number ≥ 0",
        })
    }
}
