//! The names, checks and lengths of the bijectors: which transforms act elementwise, and the
//! unconstrained length of a constrained one and back.

use super::{Bijector, cholesky, square_root, sum_to_zero, triangular_root};
use crate::DistError;

/// The pattern of the bijectors that keep the length: the elementwise ones and the ordered
/// vectors.
macro_rules! same_length {
    () => {
        Bijector::Identity
            | Bijector::Exp
            | Bijector::ShiftedExp { .. }
            | Bijector::ScaledSigmoid { .. }
            | Bijector::Sigmoid
            | Bijector::Ordered
            | Bijector::PositiveOrdered
    };
}

impl Bijector {
    /// A short name, e.g. `"StickBreaking"`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infer_dist::Bijector::Exp.name(), "Exp");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Bijector::Identity => "Identity",
            Bijector::Exp => "Exp",
            Bijector::ShiftedExp { .. } => "ShiftedExp",
            Bijector::ScaledSigmoid { .. } => "ScaledSigmoid",
            Bijector::Sigmoid => "Sigmoid",
            Bijector::StickBreaking => "StickBreaking",
            Bijector::LowerCholesky => "LowerCholesky",
            Bijector::Ordered => "Ordered",
            Bijector::PositiveOrdered => "PositiveOrdered",
            Bijector::CholeskyFactorCorr => "CholeskyFactorCorr",
            Bijector::CholeskyFactorCov { .. } => "CholeskyFactorCov",
            Bijector::SumToZero => "SumToZero",
        }
    }

    /// Checks the bounds of `ShiftedExp` and `ScaledSigmoid` (finite, `low < high`) and the
    /// shape of `CholeskyFactorCov` (`rows ≥ cols ≥ 1`).
    pub(super) fn validate(&self) -> Result<(), DistError> {
        let bad = |param: &'static str, value: f64, reason: &'static str| {
            Err(DistError::InvalidParameter {
                dist: self.name(),
                param,
                value,
                reason,
            })
        };
        match *self {
            Bijector::ShiftedExp { low } if !low.is_finite() => bad("low", low, "must be finite"),
            Bijector::ScaledSigmoid { low, .. } if !low.is_finite() => {
                bad("low", low, "must be finite")
            }
            Bijector::ScaledSigmoid { low, high } if !(high > low && high.is_finite()) => {
                bad("high", high, "must be finite and > low")
            }
            Bijector::CholeskyFactorCov { cols: 0, .. } => bad("cols", 0.0, "must be at least 1"),
            Bijector::CholeskyFactorCov { rows, cols } if rows < cols => {
                bad("rows", rows as f64, "must be at least cols")
            }
            _ => Ok(()),
        }
    }

    /// Whether the transform acts elementwise (any tensor shape, lengths preserved).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert!(Bijector::Exp.is_elementwise());
    /// assert!(!Bijector::StickBreaking.is_elementwise());
    /// ```
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Bijector::Identity
                | Bijector::Exp
                | Bijector::ShiftedExp { .. }
                | Bijector::ScaledSigmoid { .. }
                | Bijector::Sigmoid
        )
    }

    /// Number of unconstrained coordinates for a constrained value of `constrained_len`
    /// elements: the same for elementwise transforms and the ordered vectors, `K − 1` for a
    /// K-simplex and a sum-to-zero K-vector, `n(n+1)/2` for an n×n Cholesky factor
    /// (`constrained_len = n²`), `K(K−1)/2` for a K×K correlation Cholesky factor,
    /// `c(c+1)/2 + (r−c)c` for `CholeskyFactorCov { rows: r, cols: c }`.
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] for an empty simplex, sum-to-zero vector or correlation
    /// factor, a length that is not a square, or a `CholeskyFactorCov` length other than
    /// `rows · cols`; [`DistError::InvalidParameter`] for a `CholeskyFactorCov` shape with
    /// `rows < cols` or `cols = 0`.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert_eq!(Bijector::StickBreaking.unconstrained_len(4)?, 3);
    /// assert_eq!(Bijector::LowerCholesky.unconstrained_len(9)?, 6);
    /// assert!(Bijector::LowerCholesky.unconstrained_len(8).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn unconstrained_len(&self, constrained_len: usize) -> Result<usize, DistError> {
        match self {
            Bijector::StickBreaking => {
                constrained_len
                    .checked_sub(1)
                    .ok_or(DistError::InvalidLength {
                        what: "simplex (constrained) length",
                        len: constrained_len,
                        reason: "a simplex has at least one element",
                    })
            }
            Bijector::LowerCholesky => square_root(constrained_len).map(|n| n * (n + 1) / 2).ok_or(
                DistError::InvalidLength {
                    what: "Cholesky factor (constrained) length",
                    len: constrained_len,
                    reason: "an n×n matrix has n² elements",
                },
            ),
            Bijector::SumToZero => sum_to_zero::unconstrained_len(constrained_len),
            Bijector::CholeskyFactorCorr => cholesky::corr_unconstrained_len(constrained_len),
            Bijector::CholeskyFactorCov { rows, cols } => {
                self.validate()?;
                cholesky::cov_unconstrained_len(*rows, *cols, constrained_len)
            }
            same_length!() => Ok(constrained_len),
        }
    }

    /// Number of constrained elements produced from `unconstrained_len` coordinates: the
    /// inverse of [`Bijector::unconstrained_len`].
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] when `unconstrained_len` is not a triangular number
    /// (`LowerCholesky`, `CholeskyFactorCorr`) or not the length of the `CholeskyFactorCov`
    /// shape; [`DistError::InvalidParameter`] for an invalid `CholeskyFactorCov` shape.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert_eq!(Bijector::StickBreaking.constrained_len(3)?, 4);
    /// assert_eq!(Bijector::LowerCholesky.constrained_len(6)?, 9);
    /// assert!(Bijector::LowerCholesky.constrained_len(5).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn constrained_len(&self, unconstrained_len: usize) -> Result<usize, DistError> {
        match self {
            Bijector::StickBreaking => Ok(unconstrained_len + 1),
            Bijector::LowerCholesky => {
                triangular_root(unconstrained_len)
                    .map(|n| n * n)
                    .ok_or(DistError::InvalidLength {
                        what: "Cholesky factor (unconstrained) length",
                        len: unconstrained_len,
                        reason: "n(n+1)/2 coordinates fill an n×n lower triangle",
                    })
            }
            Bijector::SumToZero => Ok(unconstrained_len + 1),
            Bijector::CholeskyFactorCorr => cholesky::corr_constrained_len(unconstrained_len),
            Bijector::CholeskyFactorCov { rows, cols } => {
                self.validate()?;
                cholesky::cov_constrained_len(*rows, *cols, unconstrained_len)
            }
            same_length!() => Ok(unconstrained_len),
        }
    }
}
