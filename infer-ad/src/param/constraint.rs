//! Declared constraints of [`crate::ParamStore`] parameters: the value is stored and optimized
//! on the unconstrained scale and read on the constrained scale (Pyro's
//! `pyro.param(name, init, constraint=...)`).

use crate::error::AdError;
use crate::scalar::{d_exp, d_sigmoid, d_softplus};

/// How a positive quantity is made from an unconstrained one: `softplus(u) = ln(1 + eᵘ)` or
/// `exp(u)`.
///
/// Softplus is close to the identity for large values (an optimizer step moves a large
/// scale by about the step, not by a factor), exp is the log-scale parameterization (a
/// step moves the value by a factor e^step).
///
/// # Examples
/// ```
/// use infer_ad::{ParamConstraint, PositiveMap};
/// let c = ParamConstraint::GreaterThan { lower: 0.0, map: PositiveMap::Exp };
/// assert_eq!(c, ParamConstraint::positive_exp());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositiveMap {
    /// `ln(1 + eᵘ)`; inverse `x + ln(−expm1(−x))`.
    #[default]
    Softplus,
    /// `eᵘ`; inverse `ln x`.
    Exp,
}

/// The domain a [`crate::ParamStore`] parameter is declared to live in
/// ([`crate::ParamStore::add_constrained`]).
///
/// The store keeps the unconstrained value `u` (what optimizers update, what
/// [`crate::ParamStore::value`] and [`crate::ParamStore::to_flat`] return), and
/// [`crate::ParamStore::bind`] records the constrained value `x = T(u)` on the tape as one
/// elementwise node, so the loss's gradient flows back to `u` by the chain rule and no step,
/// however large, can take `x` out of its domain:
///
/// | constraint | `x = T(u)` | domain |
/// |---|---|---|
/// | `Real` | `u` | ℝ |
/// | `GreaterThan { lower, map: Softplus }` | `lower + ln(1 + eᵘ)` | (lower, ∞) |
/// | `GreaterThan { lower, map: Exp }` | `lower + eᵘ` | (lower, ∞) |
/// | `Interval { lower, upper }` | `lower + (upper − lower)·σ(u)` | (lower, upper) |
///
/// These are the transforms of Pyro's `constraints.positive` (which uses exp),
/// `greater_than` and `interval` (`torch.distributions.transform_to`), with softplus offered
/// beside exp as in `SoftplusTransform`. In floating point the open bounds can be reached by
/// rounding: softplus and exp underflow to exactly 0 only for u below about −745, and σ(u)
/// rounds to 1 for u above about 37 (to 0 below about −745), far outside what a loss drives
/// a guide parameter to in practice.
///
/// # Examples
/// ```
/// use infer_ad::{ParamConstraint, ParamStore, Tape};
/// let mut store = ParamStore::new();
/// let scale = store.add_constrained("scale", ndarray::arr1(&[0.5]), ParamConstraint::positive())?;
/// // stored unconstrained: softplus⁻¹(0.5) = ln(e^0.5 − 1)
/// assert!((store.value(scale)[0] - 0.5f64.exp_m1().ln()).abs() < 1e-15);
/// let tape = Tape::new();
/// let bound = store.bind(&tape);
/// assert!((bound[scale].to_vec()[0] - 0.5).abs() < 1e-15); // read constrained
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ParamConstraint {
    /// No constraint: the stored value is the value.
    #[default]
    Real,
    /// `x > lower` through `lower + map(u)`.
    GreaterThan {
        /// The open lower bound (finite).
        lower: f64,
        /// Softplus or exp.
        map: PositiveMap,
    },
    /// `lower < x < upper` through `lower + (upper − lower)·σ(u)`.
    Interval {
        /// The open lower bound (finite).
        lower: f64,
        /// The open upper bound (finite, above `lower`).
        upper: f64,
    },
}

impl ParamConstraint {
    /// `x > 0` through softplus (Pyro's `constraints.positive`, with the softplus map).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamConstraint, PositiveMap};
    /// assert_eq!(
    ///     ParamConstraint::positive(),
    ///     ParamConstraint::GreaterThan { lower: 0.0, map: PositiveMap::Softplus }
    /// );
    /// ```
    pub fn positive() -> Self {
        ParamConstraint::GreaterThan {
            lower: 0.0,
            map: PositiveMap::Softplus,
        }
    }

    /// `x > 0` through exp (Pyro's `constraints.positive` as `transform_to` maps it).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamConstraint, PositiveMap};
    /// assert_eq!(
    ///     ParamConstraint::positive_exp(),
    ///     ParamConstraint::GreaterThan { lower: 0.0, map: PositiveMap::Exp }
    /// );
    /// ```
    pub fn positive_exp() -> Self {
        ParamConstraint::GreaterThan {
            lower: 0.0,
            map: PositiveMap::Exp,
        }
    }

    /// Checks the constraint's own bounds.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] naming `lower` or `upper` when a bound is not
    /// finite, or when `upper ≤ lower` (or `upper − lower` overflows).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::ParamConstraint;
    /// assert!(ParamConstraint::Interval { lower: 0.0, upper: 1.0 }.validate().is_ok());
    /// assert!(ParamConstraint::Interval { lower: 1.0, upper: 1.0 }.validate().is_err());
    /// assert!(ParamConstraint::positive().validate().is_ok());
    /// ```
    pub fn validate(self) -> Result<(), AdError> {
        let bad = |name, value, reason| {
            Err(AdError::InvalidHyperParameter {
                name,
                value,
                reason,
            })
        };
        match self {
            ParamConstraint::Real => Ok(()),
            ParamConstraint::GreaterThan { lower, .. } if !lower.is_finite() => {
                bad("lower", lower, "a constraint's bound must be finite")
            }
            ParamConstraint::GreaterThan { .. } => Ok(()),
            ParamConstraint::Interval { lower, .. } if !lower.is_finite() => {
                bad("lower", lower, "a constraint's bound must be finite")
            }
            ParamConstraint::Interval { lower, upper }
                if !(upper > lower && (upper - lower).is_finite()) =>
            {
                bad(
                    "upper",
                    upper,
                    "an interval's upper bound must be finite and above its lower bound",
                )
            }
            ParamConstraint::Interval { .. } => Ok(()),
        }
    }

    /// Whether this is [`ParamConstraint::Real`].
    pub(crate) fn is_real(self) -> bool {
        self == ParamConstraint::Real
    }

    /// The constrained value and its derivative, `(T(u), T′(u))`. The tape's node and
    /// [`crate::ParamStore::constrained_value`] both call this, so they agree bit for bit.
    #[inline]
    pub(crate) fn forward(self, u: f64) -> (f64, f64) {
        match self {
            ParamConstraint::Real => (u, 1.0),
            ParamConstraint::GreaterThan { lower, map } => {
                let (y, dy) = match map {
                    PositiveMap::Softplus => d_softplus(u),
                    PositiveMap::Exp => d_exp(u),
                };
                (lower + y, dy)
            }
            ParamConstraint::Interval { lower, upper } => {
                let w = upper - lower;
                let (s, _) = d_sigmoid(u);
                // σ(u)·σ(−u) rather than σ(1 − σ): no cancellation for large u
                let (sn, _) = d_sigmoid(-u);
                (lower + w * s, w * s * sn)
            }
        }
    }

    /// The unconstrained value `T⁻¹(x)` (NaN outside the open domain).
    pub(crate) fn inverse(self, x: f64) -> f64 {
        match self {
            ParamConstraint::Real => x,
            ParamConstraint::GreaterThan { lower, map } => {
                let y = x - lower;
                if !(y > 0.0) {
                    return f64::NAN;
                }
                match map {
                    // ln(eʸ − 1) = y + ln(1 − e⁻ʸ), without overflow for large y
                    PositiveMap::Softplus => y + (-(-y).exp_m1()).ln(),
                    PositiveMap::Exp => y.ln(),
                }
            }
            ParamConstraint::Interval { lower, upper } => {
                let p = (x - lower) / (upper - lower);
                if !(p > 0.0 && p < 1.0) {
                    return f64::NAN;
                }
                // logit p = ln p − ln(1 − p)
                p.ln() - (-p).ln_1p()
            }
        }
    }

    /// What a value must satisfy, for error messages.
    pub(crate) fn domain(self) -> &'static str {
        match self {
            ParamConstraint::Real => "must be finite",
            ParamConstraint::GreaterThan { .. } => {
                "must lie above the constraint's lower bound, finitely far from it"
            }
            ParamConstraint::Interval { .. } => {
                "must lie strictly inside the constraint's interval, not rounding onto a bound"
            }
        }
    }
}
