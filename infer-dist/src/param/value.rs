//! [`IntoValue`]: the values at which the families' `log_prob`, `log_prob_sum` and `cdf` are
//! evaluated, observed data among them read in place (see the [parent module](super)).

use super::Param;
use crate::DistError;
use infer_ad::{DataView, Operand, Shape, Tape, Tensor, Var};
use ndarray::{ArrayBase, ArrayD, Data, Dimension};
use std::sync::Arc;

/// A value at which a family's `log_prob`, `log_prob_sum` or `cdf` is evaluated: a [`Tensor`],
/// a scalar [`Var`], a number, a [`Param`], or observed data (`&y` for an ndarray, a slice or a
/// `Vec`, an `Arc<ArrayD>`). Data is read in place for the call ([`IntoValue::with_value`];
/// see the [module docs](crate::param)), not copied onto the tape; where a method needs the
/// value on the tape ([`IntoValue::value_on`]) it is recorded as an untracked constant (one
/// copy, as `tape.constant(&y)` makes).
///
/// # Examples
/// ```
/// use infer_dist::{Normal, Param};
/// let tape = infer_ad::Tape::new();
/// let mu = tape.var(0.0);
/// let y = vec![0.5, -0.5];
/// let a = Normal::new(mu, 1.0)?.log_prob_sum(&y)?;
/// let b = Normal::new(mu, 1.0)?.log_prob_sum(tape.constant(&ndarray::arr1(&y)))?;
/// assert_eq!(a.value(), b.value());
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub trait IntoValue<'t> {
    /// The tape of a tensor value; `None` for data (the default).
    #[inline(always)]
    fn value_tape(&self) -> Option<&'t Tape> {
        None
    }
    /// The value on `tape`.
    ///
    /// # Errors
    /// [`DistError::Ad`] with [`infer_ad::AdError::DifferentTapes`] for a tensor on another
    /// tape; [`DistError::Ad`] for data with more dimensions than a tensor may have.
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError>;

    /// `f` of the value as an [`Operand`] for `tape`: data read in place for the duration
    /// of the call ([`Operand::Data`], not copied onto the tape), a tape handle or a number as
    /// [`IntoValue::value_on`] gives it (the default).
    ///
    /// # Errors
    /// As [`IntoValue::value_on`]; the error of `f`.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::IntoValue;
    /// let tape = infer_ad::Tape::new();
    /// let y = ndarray::array![1.0, 2.0, 3.0];
    /// let n = (&y).with_value(&tape, |v| Ok(v.numel()))?;
    /// assert_eq!((n, tape.len()), (3, 0)); // read in place: nothing on the tape
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    #[inline(always)]
    fn with_value<R>(
        self,
        tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError>
    where
        Self: Sized,
    {
        f(Operand::Tensor(self.value_on(tape)?))
    }
}

/// `f` of row-major `values` of dimensions `dims` as [`Operand::Data`].
#[inline(always)]
fn with_data<'t, R>(
    values: &[f64],
    dims: &[usize],
    f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
) -> Result<R, DistError> {
    f(Operand::Data(DataView::new(values, dims)?))
}

impl<'t> IntoValue<'t> for Tensor<'t> {
    #[inline(always)]
    fn value_tape(&self) -> Option<&'t Tape> {
        Some(self.tape())
    }
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        infer_ad::check_same_tape("distribution value", tape, self.tape())?;
        Ok(self)
    }
}

impl<'t> IntoValue<'t> for Var<'t> {
    #[inline(always)]
    fn value_tape(&self) -> Option<&'t Tape> {
        Some(self.tape())
    }
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        self.as_tensor().value_on(tape)
    }
}

impl<'t> IntoValue<'t> for f64 {
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        Ok(tape.scalar(self))
    }
}

impl<'t> IntoValue<'t> for Param<'t> {
    #[inline(always)]
    fn value_tape(&self) -> Option<&'t Tape> {
        self.tape()
    }
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        self.on(tape)
    }
    #[inline(always)]
    fn with_value<R>(
        self,
        tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError> {
        match &self {
            Param::Array(a) => a.as_ref().with_value(tape, f),
            _ => f(Operand::Tensor(self.on(tape)?)),
        }
    }
}

impl<'t, S: Data<Elem = f64>, D: Dimension> IntoValue<'t> for &ArrayBase<S, D> {
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        Shape::new(self.shape())?;
        Ok(tape.constant(self))
    }
    #[inline(always)]
    fn with_value<R>(
        self,
        _tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError> {
        match self.as_slice() {
            Some(values) => with_data(values, self.shape(), f),
            // a view that is not row-major contiguous (a column, a transpose): its values in
            // row-major order, in a buffer of the call (still not on the tape)
            None => {
                let values: Vec<f64> = self.iter().copied().collect();
                with_data(&values, self.shape(), f)
            }
        }
    }
}

impl<'t> IntoValue<'t> for &[f64] {
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        Ok(tape.constant_from_slice(&[self.len()], self)?)
    }
    #[inline(always)]
    fn with_value<R>(
        self,
        _tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError> {
        with_data(self, &[self.len()], f)
    }
}

impl<'t> IntoValue<'t> for &Vec<f64> {
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        self.as_slice().value_on(tape)
    }
    #[inline(always)]
    fn with_value<R>(
        self,
        tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError> {
        self.as_slice().with_value(tape, f)
    }
}

impl<'t> IntoValue<'t> for Arc<ArrayD<f64>> {
    #[inline(always)]
    fn value_on(self, tape: &'t Tape) -> Result<Tensor<'t>, DistError> {
        self.as_ref().value_on(tape)
    }
    #[inline(always)]
    fn with_value<R>(
        self,
        tape: &'t Tape,
        f: impl for<'a> FnOnce(Operand<'a, 't>) -> Result<R, DistError>,
    ) -> Result<R, DistError> {
        self.as_ref().with_value(tape, f)
    }
}
