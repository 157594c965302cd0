//! Constraints: the sets a distribution's values (its support) live in.
//!
//! Each continuous constraint maps onto ℝⁿ by a bijection (see the `bijector` module), which
//! is how MCMC and VI work in unconstrained space. The names follow
//! `torch.distributions.constraints`.

use crate::Bijector;

/// The support of a distribution, or the domain of a parameter.
///
/// # Examples
/// ```
/// use infer_dist::Constraint;
/// assert!(Constraint::Positive.check(2.0));
/// assert!(!Constraint::Positive.check(0.0));
/// assert!(Constraint::Interval { low: 0.0, high: 1.0 }.check(0.5));
/// assert!(Constraint::Simplex.check_event(&[0.25, 0.75]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Constraint {
    /// The real line ℝ (infinite values excluded).
    Real,
    /// (0, ∞).
    Positive,
    /// (lower, ∞).
    GreaterThan(f64),
    /// [lower, ∞).
    GreaterThanEq(f64),
    /// [low, high]. For a batch whose bounds differ per element, the hull of the bounds.
    Interval {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// [0, 1].
    UnitInterval,
    /// The probability simplex: non-negative entries summing to 1 (|Σ − 1| < 1e-6, as PyTorch).
    Simplex,
    /// Lower-triangular matrices with a positive diagonal.
    LowerCholesky,
    /// {0, 1, 2, …}.
    NonNegativeInteger,
    /// {low, low + 1, …, high}. For a batch whose bounds differ, the hull.
    IntegerInterval {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// {0, 1}.
    Boolean,
    /// ℝⁿ (a vector-valued event).
    RealVector,
}

impl Constraint {
    /// Whether one element `x` satisfies the elementwise part of the constraint. For the
    /// vector constraints ([`Constraint::Simplex`], [`Constraint::LowerCholesky`],
    /// [`Constraint::RealVector`]) this checks the element only (in [0, 1], finite, finite);
    /// use [`Constraint::check_event`] for the whole event.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Constraint;
    /// assert!(Constraint::NonNegativeInteger.check(3.0));
    /// assert!(!Constraint::NonNegativeInteger.check(2.5));
    /// assert!(!Constraint::Real.check(f64::NAN));
    /// ```
    pub fn check(&self, x: f64) -> bool {
        let int = x.fract() == 0.0;
        match *self {
            Constraint::Real | Constraint::RealVector | Constraint::LowerCholesky => x.is_finite(),
            Constraint::Positive => x > 0.0 && x.is_finite(),
            Constraint::GreaterThan(l) => x > l && x.is_finite(),
            Constraint::GreaterThanEq(l) => x >= l && x.is_finite(),
            Constraint::Interval { low, high } => x >= low && x <= high,
            Constraint::UnitInterval | Constraint::Simplex => (0.0..=1.0).contains(&x),
            Constraint::NonNegativeInteger => x >= 0.0 && int && x.is_finite(),
            Constraint::IntegerInterval { low, high } => x >= low && x <= high && int,
            Constraint::Boolean => x == 0.0 || x == 1.0,
        }
    }

    /// Whether a whole event satisfies the constraint: every element passes
    /// [`Constraint::check`], a simplex sums to 1 within 1e-6, and a lower-Cholesky factor
    /// (row-major, n×n) is lower-triangular with a positive diagonal.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Constraint;
    /// assert!(!Constraint::Simplex.check_event(&[0.5, 0.6]));
    /// assert!(Constraint::LowerCholesky.check_event(&[1.0, 0.0, 0.3, 2.0]));
    /// assert!(!Constraint::LowerCholesky.check_event(&[1.0, 0.1, 0.3, 2.0]));
    /// ```
    pub fn check_event(&self, xs: &[f64]) -> bool {
        if !xs.iter().all(|&x| self.check(x)) {
            return false;
        }
        match *self {
            Constraint::Simplex => (xs.iter().sum::<f64>() - 1.0).abs() < 1e-6,
            Constraint::LowerCholesky => {
                let n = (xs.len() as f64).sqrt().round() as usize;
                if n * n != xs.len() {
                    return false;
                }
                (0..n).all(|i| xs[i * n + i] > 0.0 && (i + 1..n).all(|j| xs[i * n + j] == 0.0))
            }
            _ => true,
        }
    }

    /// The bijection from unconstrained ℝⁿ onto this set, for the continuous constraints:
    /// `Real`, `RealVector` → [`Bijector::Identity`]; `Positive` → [`Bijector::Exp`];
    /// `GreaterThan(c)`, `GreaterThanEq(c)` → [`Bijector::ShiftedExp`]; `Interval` →
    /// [`Bijector::ScaledSigmoid`]; `UnitInterval` → [`Bijector::Sigmoid`]; `Simplex` →
    /// [`Bijector::StickBreaking`]; `LowerCholesky` → [`Bijector::LowerCholesky`]. `None` for
    /// the discrete constraints. (Closed bounds map onto their interior.)
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Bijector, Constraint};
    /// assert_eq!(Constraint::Positive.bijector(), Some(Bijector::Exp));
    /// assert_eq!(Constraint::Simplex.bijector(), Some(Bijector::StickBreaking));
    /// assert_eq!(Constraint::Boolean.bijector(), None);
    /// ```
    pub fn bijector(&self) -> Option<Bijector> {
        match *self {
            Constraint::Real | Constraint::RealVector => Some(Bijector::Identity),
            Constraint::Positive => Some(Bijector::Exp),
            Constraint::GreaterThan(low) | Constraint::GreaterThanEq(low) => {
                Some(Bijector::ShiftedExp { low })
            }
            Constraint::Interval { low, high } => Some(Bijector::ScaledSigmoid { low, high }),
            Constraint::UnitInterval => Some(Bijector::Sigmoid),
            Constraint::Simplex => Some(Bijector::StickBreaking),
            Constraint::LowerCholesky => Some(Bijector::LowerCholesky),
            Constraint::NonNegativeInteger
            | Constraint::IntegerInterval { .. }
            | Constraint::Boolean => None,
        }
    }

    /// Whether the constraint is a set of integers (the family is discrete).
    ///
    /// # Examples
    /// ```
    /// assert!(infer_dist::Constraint::Boolean.is_discrete());
    /// assert!(!infer_dist::Constraint::Positive.is_discrete());
    /// ```
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Constraint::NonNegativeInteger
                | Constraint::IntegerInterval { .. }
                | Constraint::Boolean
        )
    }
}
