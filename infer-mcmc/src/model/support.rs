//! Parameter supports: fixed constraints or bounds that may depend on other parameters, and
//! the transform each one gives at an evaluation.

use infer_ad::{Tape, Tensor, Var};
use infer_dist::{Bijector, Constraint, DistError};

use super::ModelError;
use crate::error::LogDensityError;
use crate::layout::ParamSupport;

/// One bound of a parameter: a number, or a value computed from other parameters.
///
/// # Examples
/// ```
/// use infer_mcmc::model::Bound;
/// let tape = infer_ad::Tape::new();
/// let a = tape.var(0.3);
/// assert!(matches!(Bound::from(1.0), Bound::Value(v) if v == 1.0));
/// assert!(matches!(Bound::from(1.0 - a), Bound::Tensor(_)));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Bound<'t> {
    /// A fixed number.
    Value(f64),
    /// A value on the tape (a scalar, or one bound per element).
    Tensor(Tensor<'t>),
}

impl<'t> Bound<'t> {
    /// The bound as a tensor on `tape` (a number becomes a 0-d constant).
    fn on(self, tape: &'t Tape) -> Tensor<'t> {
        match self {
            Bound::Value(v) => tape.scalar(v),
            Bound::Tensor(t) => t,
        }
    }
}

impl From<f64> for Bound<'_> {
    fn from(v: f64) -> Self {
        Bound::Value(v)
    }
}

impl<'t> From<Var<'t>> for Bound<'t> {
    fn from(v: Var<'t>) -> Self {
        Bound::Tensor(v.as_tensor())
    }
}

impl<'t> From<Tensor<'t>> for Bound<'t> {
    fn from(v: Tensor<'t>) -> Self {
        Bound::Tensor(v)
    }
}

/// The support of a declared parameter: a fixed [`Constraint`] or bounds that may depend on
/// other parameters (Stan's `real<lower=0, upper=1 - alpha1> beta1`).
///
/// # Examples
/// ```
/// use infer_dist::Constraint;
/// use infer_mcmc::model::{Support, bounds, lower, upper};
/// let _ = Support::from(Constraint::Simplex);
/// let tape = infer_ad::Tape::new();
/// let alpha = tape.var(0.4);
/// let _ = bounds(0.0, 1.0 - alpha);
/// let _ = lower(alpha);
/// let _ = upper(0.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Support<'t> {
    /// A support fixed in advance.
    Constraint(Constraint),
    /// Lower and/or upper bounds, evaluated at each point; the transform is Stan's (`L + eʸ`,
    /// `U − eʸ`, `L + (U − L) σ(y)`), its log |Jacobian| included, with gradients flowing
    /// into the bounds.
    Bounds {
        /// The lower bound, if any.
        lower: Option<Bound<'t>>,
        /// The upper bound, if any.
        upper: Option<Bound<'t>>,
    },
}

impl From<Constraint> for Support<'_> {
    fn from(c: Constraint) -> Self {
        Support::Constraint(c)
    }
}

/// `lower < x`, the bound a number or an expression of other parameters.
pub fn lower<'t>(l: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: Some(l.into()),
        upper: None,
    }
}

/// `x < upper`, the bound a number or an expression of other parameters.
pub fn upper<'t>(u: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: None,
        upper: Some(u.into()),
    }
}

/// `lower < x < upper`, each bound a number or an expression of other parameters.
pub fn bounds<'t>(l: impl Into<Bound<'t>>, u: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: Some(l.into()),
        upper: Some(u.into()),
    }
}

/// A parameter's transform at one evaluation: a fixed bijector or bounds on the tape.
pub(super) struct Transform<'t> {
    pub(super) kind: ParamSupport,
    bijector: Option<Bijector>,
    lower: Option<Bound<'t>>,
    upper: Option<Bound<'t>>,
    pub(super) unconstrained_len: usize,
}

impl<'t> Transform<'t> {
    pub(super) fn new(name: &str, support: Support<'t>, numel: usize) -> Result<Self, ModelError> {
        let err = |reason| ModelError::Support {
            name: name.to_owned(),
            reason,
        };
        match support {
            Support::Constraint(c) => {
                let bijector = c.bijector().ok_or_else(|| {
                    err("its support has no bijection onto the real line (discrete?)")
                })?;
                let len = bijector
                    .unconstrained_len(numel)
                    .map_err(|_| err("its shape does not fit its support"))?;
                Ok(Transform {
                    kind: ParamSupport::Fixed(c),
                    bijector: Some(bijector),
                    lower: None,
                    upper: None,
                    unconstrained_len: len,
                })
            }
            Support::Bounds { lower, upper } => {
                let kind = ParamSupport::Bounds {
                    lower: lower.is_some(),
                    upper: upper.is_some(),
                };
                // Fixed numbers where a fixed constraint exists: the bijector of that support.
                let fixed = match (lower, upper) {
                    (None, None) => Some(Constraint::Real),
                    (Some(Bound::Value(l)), None) => Some(Constraint::GreaterThan(l)),
                    (Some(Bound::Value(low)), Some(Bound::Value(high))) => {
                        Some(Constraint::Interval { low, high })
                    }
                    _ => None,
                };
                if let Some(c) = fixed {
                    if let Constraint::Interval { low, high } = c
                        && !(low < high)
                    {
                        return Err(err("its lower bound is not below its upper bound"));
                    }
                    let bijector = c
                        .bijector()
                        .ok_or_else(|| err("no bijection for these bounds"))?;
                    return Ok(Transform {
                        kind,
                        bijector: Some(bijector),
                        lower: None,
                        upper: None,
                        unconstrained_len: numel,
                    });
                }
                Ok(Transform {
                    kind,
                    bijector: None,
                    lower,
                    upper,
                    unconstrained_len: numel,
                })
            }
        }
    }

    pub(super) fn forward(
        &self,
        u: Tensor<'t>,
        jacobian: bool,
    ) -> Result<(Tensor<'t>, Option<Var<'t>>), LogDensityError> {
        match self.bijector {
            Some(b) => {
                let x = b.forward(u)?;
                let lj = if jacobian && b != Bijector::Identity {
                    Some(b.log_abs_det_jacobian(u)?)
                } else {
                    None
                };
                Ok((x, lj))
            }
            None => {
                let tape = u.tape();
                let l = self.lower.map(|b| b.on(tape));
                let h = self.upper.map(|b| b.on(tape));
                let (x, lj) = infer_dist::bounded(u, l, h)?;
                Ok((x, jacobian.then_some(lj)))
            }
        }
    }

    pub(super) fn inverse(&self, tape: &'t Tape, x: &[f64]) -> Result<Vec<f64>, DistError> {
        match self.bijector {
            Some(b) => b.inverse(x),
            None => {
                let l = self.lower.map(|b| b.on(tape).to_vec());
                let h = self.upper.map(|b| b.on(tape).to_vec());
                infer_dist::unbounded(x, l.as_deref(), h.as_deref())
            }
        }
    }
}
