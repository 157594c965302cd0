//! Private helpers: list-length checks, sums of optional terms, Delta detection.

use crate::LossError;
use infer_ad::Var;
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

/// `acc + v`, where a missing accumulator is 0.
#[inline]
pub(crate) fn add<'t>(acc: Option<Var<'t>>, v: Var<'t>) -> Option<Var<'t>> {
    Some(match acc {
        Some(a) => a + v,
        None => v,
    })
}

/// `a + b` over optional terms.
#[inline]
pub(crate) fn add_opt<'t>(a: Option<Var<'t>>, b: Option<Var<'t>>) -> Option<Var<'t>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
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
