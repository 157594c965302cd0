//! Scalar variables: `Copy` handles into a [`Tape`] with operator overloading, and the
//! tape's scalar entry points ([`Tape::var`], [`Tape::backward`]). The elementwise functions
//! (`exp`, `ln`, …) are generated in `unary.rs`, from the list they share with [`Tensor`].

use crate::error::AdError;
use crate::scalar as s;
use crate::tape::{Tape, check_same_tape};
use crate::tensor::Tensor;
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A scalar value recorded on a [`Tape`]: an index plus a reference to the tape (and a copy
/// of the value, so that chained operations do not read it back from the tape), so it is
/// `Copy` and `a * b + c` reads like maths. Operations record one node each; `f64` operands
/// are constants and are not recorded.
///
/// # Panics
/// The operators `+ - * /` between two `Var`s (or a `Var` and a [`Tensor`]) from different
/// tapes panic, naming the operation, at the caller's line. (Operators with `f64` constants
/// never panic.) The methods that take two handles ([`Var::pow`], [`Var::min`],
/// [`Var::max`]) return [`AdError::DifferentTapes`] instead.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// let tape = Tape::new();
/// let x = tape.var(0.5);
/// let y = (x * x + 1.0).ln() - 2.0 * x.exp();
/// y.backward();
/// let expect = 2.0 * 0.5 / (0.25 + 1.0) - 2.0 * 0.5f64.exp();
/// assert!((x.grad() - expect).abs() < 1e-15);
/// ```
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) idx: u32,
    pub(crate) val: f64,
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var({} @ {})", self.value(), self.idx)
    }
}

impl Tape {
    /// A new scalar leaf with value `x`.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(1.5);
    /// assert_eq!(x.value(), 1.5);
    /// ```
    #[inline]
    pub fn var(&self, x: f64) -> Var<'_> {
        Var {
            tape: self,
            idx: self.inner_raw().push_leaf(x),
            val: x,
        }
    }

    /// Runs the backward pass from `root`: afterwards [`Var::grad`] and [`crate::Tensor::grad`]
    /// return ∂root/∂(that value) for every value recorded before `root`. A later call with
    /// another root replaces the gradients. [`Var::backward`] is the same without the check
    /// (a variable's own tape).
    ///
    /// # Errors
    /// [`crate::AdError::DifferentTapes`] when `root` belongs to another tape;
    /// [`crate::AdError::OutOfMemory`] when the adjoint vector (one `f64` per slot) cannot be
    /// allocated. Tensor operations reserve the adjoints' capacity as they record, so this
    /// can only happen on a tape grown by scalar operations to near the memory's size.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(3.0);
    /// tape.backward(x * x)?;
    /// assert_eq!(x.grad(), 6.0);
    /// let other = infer_ad::Tape::new();
    /// assert!(other.backward(x).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn backward(&self, root: Var<'_>) -> Result<(), crate::AdError> {
        check_same_tape("backward", self, root.tape)?;
        self.inner_raw().backward(root.idx)
    }

    /// The backward pass from a root known to live on this tape.
    ///
    /// # Panics
    /// When the adjoints cannot be allocated (see [`Var::backward`]).
    pub(crate) fn backward_own(&self, root: Var<'_>) {
        debug_assert!(std::ptr::eq(self, root.tape));
        let r = self.inner_raw().backward(root.idx);
        if let Err(e) = r {
            panic!("{e}");
        }
    }
}

impl<'t> Var<'t> {
    /// The tape this variable lives on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The slot index on the tape (stable until [`Tape::clear`]).
    pub fn index(&self) -> usize {
        self.idx as usize
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> f64 {
        self.val
    }

    /// ∂root/∂self after the last [`Tape::backward`] (0 if `self` does not influence the root
    /// or no backward pass has run).
    #[inline]
    pub fn grad(&self) -> f64 {
        self.tape.grad_at(self.idx)
    }

    /// Runs the backward pass from this variable; see [`Tape::backward`].
    ///
    /// # Panics
    /// When the adjoint vector cannot be allocated, with the message of
    /// [`AdError::OutOfMemory`](crate::AdError::OutOfMemory); [`Tape::backward`] returns
    /// that error instead. Tensor operations reserve the adjoints as they record, so only a
    /// tape grown by scalar operations to near the memory's size can reach this.
    pub fn backward(self) {
        self.tape.backward_own(self);
    }

    /// A copy of the value as a new leaf: gradients do not flow through it (stop-gradient).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(3.0);
    /// let y = x * x.detach();
    /// y.backward();
    /// assert_eq!(x.grad(), 3.0);
    /// ```
    pub fn detach(self) -> Var<'t> {
        self.tape.var(self.value())
    }

    /// This scalar as a 0-dimensional tensor (same slot, no copy).
    pub fn as_tensor(self) -> Tensor<'t> {
        Tensor::from_slot(self.tape, self.idx, crate::Shape::SCALAR, true)
    }

    /// Records `f(self)` where `f` returns `(value, derivative)`: the building block for
    /// custom scalar functions.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(2.0);
    /// let cube = x.map_with_derivative(|v| (v * v * v, 3.0 * v * v));
    /// cube.backward();
    /// assert_eq!(x.grad(), 12.0);
    /// ```
    #[inline]
    pub fn map_with_derivative(self, f: impl FnOnce(f64) -> (f64, f64)) -> Var<'t> {
        self.unary(f)
    }

    #[inline]
    pub(crate) fn unary(self, f: impl FnOnce(f64) -> (f64, f64)) -> Var<'t> {
        let (v, d) = f(self.val);
        let (idx, val) = self.tape.inner_raw().push1(v, self.idx, d);
        Var {
            tape: self.tape,
            idx,
            val,
        }
    }

    /// A binary operation for an operator: panics (at the caller's line) when the operands
    /// live on different tapes.
    #[inline]
    #[track_caller]
    pub(crate) fn binary_op(
        self,
        o: Var<'t>,
        op: &'static str,
        f: impl FnOnce(f64, f64) -> (f64, f64, f64),
    ) -> Var<'t> {
        if !std::ptr::eq(self.tape, o.tape) {
            different_tapes(op);
        }
        self.binary_same_tape(o, f)
    }

    /// A binary operation for a method: [`AdError::DifferentTapes`] when the operands live on
    /// different tapes.
    #[inline]
    pub(crate) fn binary(
        self,
        o: Var<'t>,
        op: &'static str,
        f: impl FnOnce(f64, f64) -> (f64, f64, f64),
    ) -> Result<Var<'t>, AdError> {
        check_same_tape(op, self.tape, o.tape)?;
        Ok(self.binary_same_tape(o, f))
    }

    /// Records a binary operation of two variables on the same tape (checked by the callers).
    #[inline(always)]
    fn binary_same_tape(self, o: Var<'t>, f: impl FnOnce(f64, f64) -> (f64, f64, f64)) -> Var<'t> {
        debug_assert!(std::ptr::eq(self.tape, o.tape));
        let (v, da, db) = f(self.val, o.val);
        let (idx, val) = self.tape.inner_raw().push2(v, self.idx, o.idx, da, db);
        Var {
            tape: self.tape,
            idx,
            val,
        }
    }

    /// xⁿ for an integer power.
    #[inline]
    pub fn powi(self, n: i32) -> Var<'t> {
        self.unary(|x| s::d_powi(x, n))
    }

    /// xᵖ for a constant real power.
    #[inline]
    pub fn powf(self, p: f64) -> Var<'t> {
        self.unary(|x| s::d_powf(x, p))
    }

    /// xʸ with both base and exponent on the tape.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `y` lives on another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let (x, y) = (tape.var(2.0), tape.var(3.0));
    /// assert_eq!(x.pow(y)?.value(), 8.0);
    /// let other = infer_ad::Tape::new();
    /// assert!(x.pow(other.var(3.0)).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn pow(self, y: Var<'t>) -> Result<Var<'t>, AdError> {
        self.binary(y, "pow", s::d_pow)
    }

    /// The smaller of two variables (ties: the gradient goes to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `o` lives on another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert_eq!(tape.var(2.0).min(tape.var(3.0))?.value(), 2.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn min(self, o: Var<'t>) -> Result<Var<'t>, AdError> {
        self.binary(o, "min", s::d_min)
    }

    /// The larger of two variables (ties: the gradient goes to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `o` lives on another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert_eq!(tape.var(2.0).max(tape.var(3.0))?.value(), 3.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn max(self, o: Var<'t>) -> Result<Var<'t>, AdError> {
        self.binary(o, "max", s::d_max)
    }

    /// Clamps to `[lo, hi]`; the gradient is 0 outside.
    #[inline]
    pub fn clamp(self, lo: f64, hi: f64) -> Var<'t> {
        self.unary(|x| s::d_clamp(x, lo, hi))
    }
}

/// The operators' panic for operands from different tapes (cold, out of line: the check on
/// the hot path is one pointer comparison and a not-taken branch).
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn different_tapes(op: &'static str) -> ! {
    panic!("{}", AdError::DifferentTapes { op })
}

macro_rules! binop {
    ($tr:ident, $m:ident, $d:path, $vc:expr, $cv:expr) => {
        impl<'t> $tr<Var<'t>> for Var<'t> {
            type Output = Var<'t>;
            /// # Panics
            /// When the operands live on different tapes (at the caller's line).
            #[inline]
            #[track_caller]
            fn $m(self, o: Var<'t>) -> Var<'t> {
                self.binary_op(o, stringify!($m), $d)
            }
        }
        impl<'t> $tr<f64> for Var<'t> {
            type Output = Var<'t>;
            #[inline]
            fn $m(self, c: f64) -> Var<'t> {
                let f: fn(f64, f64) -> (f64, f64) = $vc;
                self.unary(|x| f(x, c))
            }
        }
        impl<'t> $tr<Var<'t>> for f64 {
            type Output = Var<'t>;
            #[inline]
            fn $m(self, v: Var<'t>) -> Var<'t> {
                let f: fn(f64, f64) -> (f64, f64) = $cv;
                v.unary(|x| f(self, x))
            }
        }
    };
}

binop!(Add, add, s::d_add, |x, c| (x + c, 1.0), |c, x| (c + x, 1.0));
binop!(Sub, sub, s::d_sub, |x, c| (x - c, 1.0), |c, x| (
    c - x,
    -1.0
));
binop!(Mul, mul, s::d_mul, |x, c| (x * c, c), |c, x| (c * x, c));
binop!(Div, div, s::d_div, |x, c| (x / c, 1.0 / c), |c, x| {
    let r = 1.0 / x;
    (c * r, -c * r * r)
});

impl<'t> Neg for Var<'t> {
    type Output = Var<'t>;
    #[inline]
    fn neg(self) -> Var<'t> {
        self.unary(s::d_neg)
    }
}

/// `None` for an empty iterator, otherwise the sum (recorded as a chain of additions).
///
/// # Panics
/// When the variables live on different tapes (as `+`).
impl<'t> std::iter::Sum<Var<'t>> for Option<Var<'t>> {
    fn sum<I: Iterator<Item = Var<'t>>>(mut iter: I) -> Self {
        let mut acc = iter.next()?;
        for v in iter {
            acc = acc + v;
        }
        Some(acc)
    }
}
