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
    /// Strictly increasing vectors (Stan's `ordered`).
    Ordered,
    /// Strictly increasing vectors of positive numbers (Stan's `positive_ordered`).
    PositiveOrdered,
    /// Cholesky factors of K×K correlation matrices (Stan's `cholesky_factor_corr[K]`),
    /// row-major: lower triangular, positive diagonal, every row of unit Euclidean norm
    /// (within 1e-8).
    CholeskyFactorCorr,
    /// `rows`×`cols` (rows ≥ cols) lower-trapezoidal matrices with a positive diagonal, row-major
    /// (Stan's `cholesky_factor_cov[rows, cols]`): the top `cols`×`cols` block is lower
    /// triangular with a positive diagonal, the bottom rows are free.
    CholeskyFactorCov {
        /// Number of rows M.
        rows: usize,
        /// Number of columns N (≤ M).
        cols: usize,
    },
    /// Vectors summing to 0 (Stan's `sum_to_zero_vector`), within `1e-8 · len · max|x|`.
    SumToZero,
}

impl Constraint {
    /// Whether one element `x` satisfies the elementwise part of the constraint. For the
    /// vector constraints ([`Constraint::Simplex`], [`Constraint::LowerCholesky`],
    /// [`Constraint::RealVector`], [`Constraint::Ordered`], [`Constraint::PositiveOrdered`],
    /// [`Constraint::CholeskyFactorCorr`], [`Constraint::CholeskyFactorCov`],
    /// [`Constraint::SumToZero`]) this checks the element only (in [0, 1], finite, finite,
    /// finite, positive and finite, in [−1, 1], finite, finite); use
    /// [`Constraint::check_event`] for the whole event.
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
            Constraint::Real
            | Constraint::RealVector
            | Constraint::LowerCholesky
            | Constraint::Ordered
            | Constraint::CholeskyFactorCov { .. }
            | Constraint::SumToZero => x.is_finite(),
            Constraint::Positive | Constraint::PositiveOrdered => x > 0.0 && x.is_finite(),
            Constraint::CholeskyFactorCorr => (-1.0..=1.0).contains(&x),
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
    /// [`Constraint::check`], a simplex sums to 1 within 1e-6, a lower-Cholesky factor
    /// (row-major, n×n) is lower-triangular with a positive diagonal, an ordered vector is
    /// strictly increasing, a correlation Cholesky factor (K×K) is lower triangular with a
    /// positive diagonal and rows of unit norm (within 1e-8), a `CholeskyFactorCov` matrix
    /// has `rows · cols` elements and a lower-triangular top block with a positive diagonal,
    /// and a sum-to-zero vector is non-empty and sums to 0 within `1e-8 · len · max|x|`.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Constraint;
    /// assert!(!Constraint::Simplex.check_event(&[0.5, 0.6]));
    /// assert!(Constraint::LowerCholesky.check_event(&[1.0, 0.0, 0.3, 2.0]));
    /// assert!(!Constraint::LowerCholesky.check_event(&[1.0, 0.1, 0.3, 2.0]));
    /// assert!(Constraint::Ordered.check_event(&[-1.0, 0.0, 3.0]));
    /// assert!(!Constraint::PositiveOrdered.check_event(&[1.0, 1.0]));
    /// assert!(Constraint::CholeskyFactorCorr.check_event(&[1.0, 0.0, 0.6, 0.8]));
    /// assert!(!Constraint::CholeskyFactorCorr.check_event(&[1.0, 0.0, 0.6, 0.7]));
    /// let cov = Constraint::CholeskyFactorCov { rows: 3, cols: 2 };
    /// assert!(cov.check_event(&[1.0, 0.0, 0.5, 2.0, -7.0, 3.0]));
    /// assert!(Constraint::SumToZero.check_event(&[0.5, -0.25, -0.25]));
    /// assert!(!Constraint::SumToZero.check_event(&[0.5, 0.25]));
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
            Constraint::Ordered | Constraint::PositiveOrdered => xs.windows(2).all(|w| w[1] > w[0]),
            // The bijectors' inverses check exactly these sets (and nothing else can fail for
            // a finite input: the inverses' arithmetic cannot overflow there).
            Constraint::CholeskyFactorCorr => Bijector::CholeskyFactorCorr.inverse(xs).is_ok(),
            Constraint::CholeskyFactorCov { rows, cols } => {
                Bijector::CholeskyFactorCov { rows, cols }
                    .inverse(xs)
                    .is_ok()
            }
            Constraint::SumToZero => crate::bijector::sums_to_zero(xs),
            Constraint::Real
            | Constraint::Positive
            | Constraint::GreaterThan(_)
            | Constraint::GreaterThanEq(_)
            | Constraint::Interval { .. }
            | Constraint::UnitInterval
            | Constraint::NonNegativeInteger
            | Constraint::IntegerInterval { .. }
            | Constraint::Boolean
            | Constraint::RealVector => true,
        }
    }

    /// The bijection from unconstrained ℝⁿ onto this set, for the continuous constraints:
    /// `Real`, `RealVector` → [`Bijector::Identity`]; `Positive` → [`Bijector::Exp`];
    /// `GreaterThan(c)`, `GreaterThanEq(c)` → [`Bijector::ShiftedExp`]; `Interval` →
    /// [`Bijector::ScaledSigmoid`]; `UnitInterval` → [`Bijector::Sigmoid`]; `Simplex` →
    /// [`Bijector::StickBreaking`]; `LowerCholesky` → [`Bijector::LowerCholesky`]; `Ordered`,
    /// `PositiveOrdered`, `CholeskyFactorCorr`, `CholeskyFactorCov { rows, cols }` and
    /// `SumToZero` → the bijector of the same name. `None` for the discrete constraints.
    /// (Closed bounds map onto their interior.)
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
            Constraint::Ordered => Some(Bijector::Ordered),
            Constraint::PositiveOrdered => Some(Bijector::PositiveOrdered),
            Constraint::CholeskyFactorCorr => Some(Bijector::CholeskyFactorCorr),
            Constraint::CholeskyFactorCov { rows, cols } => {
                Some(Bijector::CholeskyFactorCov { rows, cols })
            }
            Constraint::SumToZero => Some(Bijector::SumToZero),
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
