//! The tape's tensor leaves: tracked ([`Tape::tensor`], [`Tape::tensor_from_slice`]) and
//! untracked ([`Tape::constant`], [`Tape::scalar`]) copies of data, and a vector stacked from
//! scalar variables ([`Tape::stack_vars`]).

use super::Tensor;
use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::{Node, Tape, check_same_tape};
use crate::var::Var;
use ndarray::{ArrayBase, Data, Dimension};

impl Tape {
    /// A tracked tensor leaf holding a copy of `array` (any ndarray array or view).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.dims(), &[2, 2]);
    /// ```
    ///
    /// # Panics
    /// If the array has more than [`crate::MAX_NDIM`] dimensions, or when the tape cannot
    /// hold it (the tape's slot limit, [`Tape::set_max_slots`], or memory refused);
    /// [`Tape::tensor_from_slice`] returns these as errors.
    pub fn tensor<S: Data<Elem = f64>, D: Dimension>(&self, array: &ArrayBase<S, D>) -> Tensor<'_> {
        self.push_array(array, true)
    }

    /// An untracked tensor (data): no gradient is computed for it, and operations among
    /// untracked tensors record nothing.
    ///
    /// # Panics
    /// If the array has more than [`crate::MAX_NDIM`] dimensions, or when the tape cannot
    /// hold it (the tape's slot limit, [`Tape::set_max_slots`], or memory refused);
    /// [`Tape::constant_from_slice`] returns these as errors.
    pub fn constant<S: Data<Elem = f64>, D: Dimension>(
        &self,
        array: &ArrayBase<S, D>,
    ) -> Tensor<'_> {
        self.push_array(array, false)
    }

    /// An untracked 0-dimensional constant (no allocation; cheaper than
    /// `constant(&ndarray::arr0(x))`).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let c = tape.scalar(2.5);
    /// assert_eq!(c.dims(), &[] as &[usize]);
    /// assert!(!c.is_tracked());
    /// ```
    #[inline]
    pub fn scalar(&self, x: f64) -> Tensor<'_> {
        Tensor {
            tape: self,
            start: self.inner_raw().push_leaf(x),
            shape: Shape::SCALAR,
            tracked: false,
        }
    }

    /// A tracked tensor leaf from a shape and row-major data.
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when `data.len()` is not the product of `dims`;
    /// [`AdError::TooManyDims`]; [`AdError::TooManyElements`] when the product of `dims`
    /// overflows (it is checked, so it never wraps around to match a short `data`) or the
    /// data would take the tape past its slot limit ([`Tape::set_max_slots`]);
    /// [`AdError::OutOfMemory`] when the tape cannot grow to hold it.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor_from_slice(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// assert_eq!(t.numel(), 6);
    /// assert!(tape.tensor_from_slice(&[2, 2], &[1.0]).is_err());
    /// assert!(tape.tensor_from_slice(&[1 << 32, 1 << 32], &[]).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn tensor_from_slice(&self, dims: &[usize], data: &[f64]) -> Result<Tensor<'_>, AdError> {
        let shape = Shape::new(dims)?;
        if shape.numel() != data.len() {
            return Err(AdError::LengthMismatch {
                shape,
                len: data.len(),
            });
        }
        let mut g = self.inner_raw();
        g.reserve("tensor_from_slice", data.len(), 0, 0, shape.dims())?;
        let start = g.next_slot();
        g.vals.extend_from_slice(data);
        Ok(Tensor {
            tape: self,
            start,
            shape,
            tracked: true,
        })
    }

    /// An untracked tensor (data) from a shape and row-major data, without building an
    /// ndarray array first.
    ///
    /// # Errors
    /// As [`Tape::tensor_from_slice`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let c = tape.constant_from_slice(&[2], &[1.0, 2.0])?;
    /// assert!(!c.is_tracked());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn constant_from_slice(&self, dims: &[usize], data: &[f64]) -> Result<Tensor<'_>, AdError> {
        let t = self.tensor_from_slice(dims, data)?;
        Ok(t.detach())
    }

    /// Builds a 1-d tensor from scalar variables (one gather node).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when a variable belongs to another tape;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the result.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let (a, b) = (tape.var(1.0), tape.var(2.0));
    /// let v = tape.stack_vars(&[a, b, a])?;
    /// v.sum().backward();
    /// assert_eq!(a.grad(), 2.0);
    /// let other = infer_ad::Tape::new();
    /// assert!(other.stack_vars(&[a]).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn stack_vars<'t>(&'t self, vars: &[Var<'t>]) -> Result<Tensor<'t>, AdError> {
        for v in vars {
            check_same_tape("stack_vars", self, v.tape)?;
        }
        let mut g = self.inner_mut();
        g.reserve("stack_vars", vars.len(), 0, vars.len(), &[vars.len()])?;
        let start = g.next_slot();
        let idx = g.u.len() as u32;
        for v in vars {
            let x = g.vals[v.idx as usize];
            g.vals.push(x);
            g.u.push(v.idx);
        }
        g.push_node(Node::Gather {
            out: start,
            n: vars.len() as u32,
            idx,
        });
        Ok(Tensor {
            tape: self,
            start,
            shape: Shape::vector(vars.len()),
            tracked: true,
        })
    }

    fn push_array<S: Data<Elem = f64>, D: Dimension>(
        &self,
        array: &ArrayBase<S, D>,
        tracked: bool,
    ) -> Tensor<'_> {
        let shape = match Shape::new(array.shape()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut g = self.inner_raw();
        let op = if tracked { "tensor" } else { "constant" };
        if let Err(e) = g.reserve(op, shape.numel(), 0, 0, shape.dims()) {
            panic!("{e}");
        }
        let start = g.next_slot();
        match array.as_slice() {
            Some(sl) => g.vals.extend_from_slice(sl),
            None => g.vals.extend(array.iter().copied()),
        }
        Tensor {
            tape: self,
            start,
            shape,
            tracked,
        }
    }
}
