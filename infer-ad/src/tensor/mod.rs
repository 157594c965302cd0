//! Tensors: contiguous slot ranges on a [`Tape`] with a shape, and their elementwise
//! operations with NumPy broadcasting.
//!
//! * this file: the [`Tensor`] handle, reading its values and gradients, broadcasting;
//! * `leaves.rs`: the leaves ([`Tape::tensor`], [`Tape::constant`], …);
//! * `elementwise.rs`: elementwise maps and binary operations with broadcasting;
//! * `ops.rs`: the arithmetic operators.
//!
//! The elementwise functions (`exp`, `ln`, …) are generated in `unary.rs`, from the list they
//! share with [`Var`].

mod elementwise;
mod leaves;
mod ops;

pub(crate) use elementwise::fit;

use crate::error::AdError;
use crate::shape::{Shape, broadcast_indices};
use crate::tape::{Inner, Node, Tape};
use crate::var::Var;
use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// An n-dimensional value on a [`Tape`]: a contiguous range of slots (row-major) plus a
/// [`Shape`]. `Copy`, like [`Var`]. Each vector operation records a single fused node whose
/// partials live in the tape's arena, so a vectorized computation costs a small multiple of
/// its plain evaluation.
///
/// A tensor is *tracked* (gradients flow to it) when it is a leaf made by [`Tape::tensor`] or
/// the result of an operation on a tracked input; tensors made by [`Tape::constant`] and
/// [`Tensor::detach`] are untracked, and operations among untracked tensors record no nodes.
///
/// # Panics
/// Arithmetic operators (`+ - * /`) between two tensors, or a tensor and a [`Var`], panic when
/// the shapes do not broadcast, naming both shapes, or when the operands live on different
/// tapes, naming the operation; the panic reports the caller's line. (Operators with `f64`
/// constants never panic.) Every method that takes two handles returns
/// [`AdError::DifferentTapes`] instead.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use ndarray::array;
/// let tape = Tape::new();
/// let x = tape.tensor(&array![1.0, 2.0, 3.0]);
/// let w = tape.tensor(&array![[1.0], [2.0]]); // shape [2, 1] broadcasts against [3]
/// let y = (x * w).exp().sum();
/// y.backward();
/// assert_eq!(x.grad().shape(), &[3]);
/// assert_eq!(w.grad().shape(), &[2, 1]);
/// ```
#[derive(Clone, Copy)]
pub struct Tensor<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) start: u32,
    pub(crate) shape: Shape,
    pub(crate) tracked: bool,
}

impl fmt::Debug for Tensor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor(shape {}, slots {}.., tracked {})",
            self.shape, self.start, self.tracked
        )
    }
}

impl<'t> Tensor<'t> {
    #[inline]
    pub(crate) fn from_slot(tape: &'t Tape, start: u32, shape: Shape, tracked: bool) -> Self {
        Tensor {
            tape,
            start,
            shape,
            tracked,
        }
    }

    /// The tape this tensor lives on.
    #[inline]
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The shape.
    #[inline]
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The dimensions.
    #[inline]
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Number of elements.
    #[inline]
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.ndim()
    }

    /// Whether gradients flow to this tensor.
    #[inline]
    pub fn is_tracked(&self) -> bool {
        self.tracked
    }

    /// First slot index on the tape (the elements are `start..start + numel`).
    #[inline]
    pub fn start_index(&self) -> usize {
        self.start as usize
    }

    /// The values, as an ndarray array.
    pub fn value(&self) -> ArrayD<f64> {
        let g = self.tape.inner_reading(self.start, self.numel());
        let s = self.start as usize;
        let v = g.vals[s..s + self.numel()].to_vec();
        ArrayD::from_shape_vec(IxDyn(self.dims()), v).expect("shape matches numel by construction")
    }

    /// Copies the values into `out` (row-major).
    ///
    /// # Panics
    /// If `out.len() != self.numel()`.
    #[inline]
    pub fn value_into(&self, out: &mut [f64]) {
        let g = self.tape.inner_reading(self.start, self.numel());
        let s = self.start as usize;
        out.copy_from_slice(&g.vals[s..s + self.numel()]);
    }

    /// Copies the values `offset .. offset + out.len()` (row-major) into `out`: a block of a
    /// long tensor read into a stack buffer, for a kernel that streams over it without a
    /// copy of the whole.
    ///
    /// # Panics
    /// If `offset + out.len()` exceeds the number of elements.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.constant(&ndarray::array![1.0, 2.0, 3.0, 4.0]);
    /// let mut buf = [0.0; 2];
    /// t.value_range_into(1, &mut buf);
    /// assert_eq!(buf, [2.0, 3.0]);
    /// ```
    #[inline]
    pub fn value_range_into(&self, offset: usize, out: &mut [f64]) {
        assert!(
            offset + out.len() <= self.numel(),
            "value_range_into: {}..{} out of {} elements",
            offset,
            offset + out.len(),
            self.numel()
        );
        let g = self.tape.inner_reading(self.start, self.numel());
        let s = self.start as usize + offset;
        out.copy_from_slice(&g.vals[s..s + out.len()]);
    }

    /// Whether any value is ±∞, read in place (no copy): the check a sampler makes on every
    /// draw and a log density on every value, so it must not allocate.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// let tape = Tape::new();
    /// assert!(tape.constant(&ndarray::array![1.0, f64::INFINITY]).any_infinite());
    /// assert!(!tape.constant(&ndarray::array![1.0, f64::NAN]).any_infinite());
    /// ```
    #[inline]
    pub fn any_infinite(&self) -> bool {
        let g = self.tape.inner_reading(self.start, self.numel());
        let s = self.start as usize;
        g.vals[s..s + self.numel()].iter().any(|x| x.is_infinite())
    }

    /// The first element (row-major index and value) for which `pred(index, value)` holds,
    /// read in place: a validation on every evaluation (a bijector's check of its input)
    /// without the copy of [`Tensor::to_vec`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.constant(&ndarray::array![1.0, f64::NAN, 3.0]);
    /// assert!(t.find_value(|_, v| v.is_nan()).is_some_and(|(i, _)| i == 1));
    /// assert_eq!(t.find_value(|_, v| v > 5.0), None);
    /// ```
    #[inline]
    pub fn find_value(&self, mut pred: impl FnMut(usize, f64) -> bool) -> Option<(usize, f64)> {
        let g = self.tape.inner_reading(self.start, self.numel());
        let s = self.start as usize;
        g.vals[s..s + self.numel()]
            .iter()
            .enumerate()
            .find(|&(i, &v)| pred(i, v))
            .map(|(i, &v)| (i, v))
    }

    /// `f` of the values (row-major), read in place: no copy, for a kernel that needs the
    /// whole of a long tensor as one slice (a GLM likelihood's outcomes). The tape's values
    /// are moved out while `f` runs, so `f` must not use the tape.
    ///
    /// # Panics
    /// If `f` records on or reads from this tape (it must only compute with the slice it is
    /// given).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.constant(&ndarray::array![1.0, 2.0, 3.0]);
    /// assert_eq!(t.with_values(|v| v.iter().sum::<f64>()), 6.0);
    /// ```
    pub fn with_values<R>(&self, f: impl FnOnce(&[f64]) -> R) -> R {
        let vals = std::mem::take(&mut self.tape.inner_reading(self.start, self.numel()).vals);
        let s = self.start as usize;
        let r = f(&vals[s..s + self.numel()]);
        let mut g = self.tape.inner_raw();
        let intruded = !g.vals.is_empty();
        g.vals = vals;
        drop(g);
        assert!(
            !intruded,
            "the closure passed to Tensor::with_values recorded on its own tape; it must only \
             compute with the values it is given"
        );
        r
    }

    /// The values as a flat `Vec` (row-major).
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.numel()];
        self.value_into(&mut v);
        v
    }

    /// ∂root/∂self after the last backward pass, shaped like `self` (zeros if none ran).
    pub fn grad(&self) -> ArrayD<f64> {
        let mut v = vec![0.0; self.numel()];
        self.grad_into(&mut v);
        ArrayD::from_shape_vec(IxDyn(self.dims()), v).expect("shape matches numel by construction")
    }

    /// Copies the gradient into `out` (row-major), without allocating.
    ///
    /// # Panics
    /// If `out.len() != self.numel()`.
    pub fn grad_into(&self, out: &mut [f64]) {
        assert_eq!(out.len(), self.numel(), "grad_into: wrong output length");
        let g = self.tape.inner_raw();
        let s = self.start as usize;
        let grads = g.grads();
        match grads.get(s..s + out.len()) {
            Some(adj) => out.copy_from_slice(adj),
            None => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = grads.get(s + i).copied().unwrap_or(0.0);
                }
            }
        }
    }

    /// The same values without gradient flow (no copy: an untracked view of the same slots).
    #[inline]
    pub fn detach(self) -> Tensor<'t> {
        Tensor {
            tracked: false,
            ..self
        }
    }

    /// Element `i` (row-major flat index) as a scalar variable (no copy, no node).
    ///
    /// # Errors
    /// [`AdError::IndexOutOfBounds`].
    #[inline]
    pub fn flat(self, i: usize) -> Result<Var<'t>, AdError> {
        if i >= self.numel() {
            return Err(AdError::IndexOutOfBounds {
                index: i,
                len: self.numel(),
            });
        }
        Ok(self.var_at(i))
    }

    #[inline]
    pub(crate) fn var_at(self, i: usize) -> Var<'t> {
        let idx = self.start + i as u32;
        Var {
            tape: self.tape,
            idx,
            val: self.tape.value_at(idx),
        }
    }

    /// The single element of a one-element tensor as a [`Var`].
    ///
    /// # Errors
    /// [`AdError::WrongRank`] when the tensor has more than one element.
    #[inline]
    pub fn item(self) -> Result<Var<'t>, AdError> {
        if self.numel() != 1 {
            return Err(AdError::wrong_rank("item", 0, self.shape));
        }
        Ok(self.var_at(0))
    }

    /// Broadcasts to `shape` (one gather node; no-op when the shape is already `shape`).
    ///
    /// # Errors
    /// [`AdError::ShapeMismatch`] when `self` does not broadcast to `shape`;
    /// [`AdError::TooManyElements`] when the result would not fit on the tape (slots are
    /// indexed by `u32`; see also [`Tape::set_max_slots`]); [`AdError::OutOfMemory`] when
    /// its memory is refused.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = t.broadcast_to(infer_ad::Shape::new(&[3, 2])?)?;
    /// assert_eq!(b.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn broadcast_to(self, shape: Shape) -> Result<Tensor<'t>, AdError> {
        if self.shape == shape {
            return Ok(self);
        }
        let b = self.shape.broadcast(&shape)?;
        if b != shape {
            return Err(AdError::mismatch("broadcast_to", self.shape, shape));
        }
        let mut g = self.tape.inner_mut();
        g.reserve(
            "broadcast_to",
            shape.numel(),
            0,
            shape.numel(),
            shape.dims(),
        )?;
        let idx = g.u.len() as u32;
        broadcast_indices(&self.shape, &shape, self.start, &mut g.u);
        Ok(gather_recorded(&mut g, self.tape, idx, shape, self.tracked))
    }
}

/// Records a gather node whose indices are `g.u[idx..]` (already pushed), producing `shape`.
pub(crate) fn gather_recorded<'t>(
    g: &mut Inner,
    tape: &'t Tape,
    idx: u32,
    shape: Shape,
    tracked: bool,
) -> Tensor<'t> {
    let out = g.next_slot();
    let n = shape.numel();
    for i in 0..n {
        let src = g.u[idx as usize + i] as usize;
        let v = g.vals[src];
        g.vals.push(v);
    }
    if tracked {
        g.push_node(Node::Gather {
            out,
            n: n as u32,
            idx,
        });
    } else {
        g.u.truncate(idx as usize);
    }
    Tensor::from_slot(tape, out, shape, tracked)
}
