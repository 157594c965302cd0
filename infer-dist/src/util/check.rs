//! The constructors' checks of parameters: elementwise tests with the reason an element fails
//! ([`Check`]), the broadcast batch shape, and the last-axis (event) parameters of the vector
//! families.

use crate::DistError;
use infer_ad::{Shape, Tensor};

/// Checks every element of `t` with `ok`; the first failure is reported with its value.
#[inline]
pub(crate) fn check(
    dist: &'static str,
    param: &'static str,
    t: Tensor<'_>,
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    let n = t.numel();
    if n == 1 {
        // A scalar parameter: read it directly (the common case, e.g. `Normal::new(0, 5)`).
        let v = t.flat(0)?.value();
        return if ok(v) {
            Ok(())
        } else {
            Err(invalid(dist, param, v, reason))
        };
    }
    // Small arrays are read into a stack buffer (no allocation per construction).
    const CHUNK: usize = 16;
    if n <= CHUNK {
        let mut stack = [0.0f64; CHUNK];
        t.value_into(&mut stack[..n]);
        return check_values(dist, param, &stack[..n], ok, reason);
    }
    check_values(dist, param, &t.to_vec(), ok, reason)
}

/// The one parameter of a family built from probabilities (finite and ≥ 0, checked as `probs`)
/// or, with `logits`, from log-probabilities (finite, checked as `logits`).
///
/// # Errors
/// [`DistError::InvalidParameter`] for the first element that fails its check.
pub(crate) fn probs_or_logits<'t>(
    dist: &'static str,
    param: impl crate::IntoParam<'t>,
    logits: bool,
) -> Result<crate::Param<'t>, DistError> {
    let [param] = crate::param::take_params!(dist; param);
    let (name, c) = if logits {
        ("logits", Check::FINITE)
    } else {
        ("probs", Check::NON_NEGATIVE)
    };
    check_param(dist, name, &param, c.ok, c.reason)?;
    Ok(param)
}

/// [`check`] for a parameter that may be a constant.
#[inline(always)]
pub(crate) fn check_param(
    dist: &'static str,
    param: &'static str,
    p: &crate::Param<'_>,
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    match p {
        crate::Param::Tensor(t) => check(dist, param, *t, ok, reason),
        crate::Param::Scalar(v) => {
            if ok(*v) {
                Ok(())
            } else {
                Err(invalid(dist, param, *v, reason))
            }
        }
        crate::Param::Array(a) => match a.iter().find(|&&v| !ok(v)) {
            None => Ok(()),
            Some(&v) => Err(invalid(dist, param, v, reason)),
        },
    }
}

/// The broadcast shape of parameters that may be constants (their tapes were checked by
/// [`crate::param::bind_eager`]).
///
/// # Errors
/// [`DistError::ShapeMismatch`] when the shapes do not broadcast; [`DistError::Ad`] for a data
/// array with too many dimensions.
#[inline(always)]
pub(crate) fn param_batch(
    dist: &'static str,
    params: &[&crate::Param<'_>],
) -> Result<Shape, DistError> {
    let mut shape = Shape::SCALAR;
    for p in params {
        let s = p.shape()?;
        shape = shape.broadcast(&s).map_err(|_| DistError::ShapeMismatch {
            dist,
            what: "parameters",
            left: shape,
            right: s,
        })?;
    }
    Ok(shape)
}

#[inline(always)]
fn check_values(
    dist: &'static str,
    param: &'static str,
    vals: &[f64],
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    match vals.iter().find(|&&v| !ok(v)) {
        None => Ok(()),
        Some(&v) => Err(invalid(dist, param, v, reason)),
    }
}

/// The batch shape and the length K of the last axis of a parameter whose last axis holds an
/// event (K categories or components).
///
/// # Errors
/// [`DistError::ShapeMismatch`] naming `what` for a 0-d parameter or an empty last axis;
/// [`DistError::Ad`] for a data array with too many dimensions.
pub(crate) fn split_last(
    dist: &'static str,
    param: &crate::Param<'_>,
    what: &'static str,
) -> Result<(Shape, usize), DistError> {
    let shape = param.shape()?;
    let d = shape.dims();
    if d.is_empty() || d[d.len() - 1] == 0 {
        return Err(DistError::ShapeMismatch {
            dist,
            what,
            left: shape,
            right: Shape::vector(1),
        });
    }
    Ok((Shape::new(&d[..d.len() - 1])?, d[d.len() - 1]))
}

/// [`split_last`] of the parameter of a family over K categories, probabilities or (`logits`)
/// log-probabilities (up to a constant) along the last axis; the probabilities' rows must have
/// a finite positive sum ([`check_row_sums`]).
///
/// # Errors
/// As [`split_last`] and [`check_row_sums`].
pub(crate) fn split_categories(
    dist: &'static str,
    param: &crate::Param<'_>,
    logits: bool,
    what: &'static str,
) -> Result<(Shape, usize), DistError> {
    let (batch, k) = split_last(dist, param, what)?;
    if !logits {
        check_row_sums(dist, "probs", param, k, positive, ROW_SUMS)?;
    }
    Ok((batch, k))
}

/// Checks the sum of every row of `k` elements of `p` (its last axis) with `ok`.
///
/// # Errors
/// [`DistError::InvalidParameter`] with the first sum that fails and `reason`.
pub(crate) fn check_row_sums(
    dist: &'static str,
    param: &'static str,
    p: &crate::Param<'_>,
    k: usize,
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    for row in p.to_vec().chunks(k) {
        let s: f64 = row.iter().sum();
        if !ok(s) {
            return Err(invalid(dist, param, s, reason));
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn invalid(dist: &'static str, param: &'static str, value: f64, reason: &'static str) -> DistError {
    DistError::InvalidParameter {
        dist,
        param,
        value,
        reason,
    }
}

/// A finite, strictly positive number.
pub(crate) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

/// A finite number.
pub(crate) fn finite(x: f64) -> bool {
    x.is_finite()
}

/// A probability in [0, 1].
pub(crate) fn prob(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

pub(crate) const POSITIVE: &str = "must be finite and > 0";
pub(crate) const FINITE: &str = "must be finite";
pub(crate) const PROB: &str = "must be a probability in [0, 1]";
/// Unnormalized probabilities ([`check_row_sums`] with [`positive`]).
const ROW_SUMS: &str = "each row must have a finite positive sum";
/// Concentrations ([`check_row_sums`] with [`finite`]).
pub(crate) const ROW_TOTALS: &str = "the sum of each row must be finite";

/// A constructor's check of one parameter: the test every element must pass, and the reason
/// [`DistError::InvalidParameter`] gives for the first element that fails.
#[derive(Clone, Copy)]
pub(crate) struct Check {
    /// The test of one element.
    pub ok: fn(f64) -> bool,
    /// Why an element failed.
    pub reason: &'static str,
}

impl Check {
    /// Finite.
    pub(crate) const FINITE: Check = Check {
        ok: finite,
        reason: FINITE,
    };
    /// Finite and > 0.
    pub(crate) const POSITIVE: Check = Check {
        ok: positive,
        reason: POSITIVE,
    };
    /// A probability in [0, 1].
    pub(crate) const PROB: Check = Check {
        ok: prob,
        reason: PROB,
    };
    /// Finite and ≥ 0 (a Poisson rate, where 0 is the point mass at 0; an unnormalized
    /// probability).
    pub(crate) const NON_NEGATIVE: Check = Check {
        ok: |x| x >= 0.0 && x.is_finite(),
        reason: "must be finite and >= 0",
    };
}
