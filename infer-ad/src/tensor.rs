//! Tensors: contiguous slot ranges on a [`Tape`] with a shape, and their elementwise
//! operations with NumPy broadcasting.

use crate::error::{AdError, check_same_tape};
use crate::scalar as s;
use crate::shape::{Shape, broadcast_indices};
use crate::tape::{Inner, Node, Tape};
use crate::var::Var;
use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

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
        let mut g = self.inner_mut();
        let start = g.next_slot();
        g.vals.push(x);
        Tensor {
            tape: self,
            start,
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
        let mut g = self.inner_mut();
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
        let mut g = self.inner_mut();
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
        let g = self.tape.inner_mut();
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
        let g = self.tape.inner_mut();
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
        let g = self.tape.inner_mut();
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
        let g = self.tape.inner_mut();
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
        let g = self.tape.inner_mut();
        let s = self.start as usize;
        g.vals[s..s + self.numel()]
            .iter()
            .enumerate()
            .find(|&(i, &v)| pred(i, v))
            .map(|(i, &v)| (i, v))
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
        let g = self.tape.inner_mut();
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
            return Err(AdError::WrongRank {
                op: "item",
                expected: 0,
                shape: self.shape,
            });
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
            return Err(AdError::ShapeMismatch {
                op: "broadcast_to",
                left: self.shape,
                right: shape,
            });
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

    /// Applies `f` elementwise, where `f` returns `(value, derivative)`: one fused node.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let cube = t.map_with_derivative(|x| (x * x * x, 3.0 * x * x));
    /// cube.sum().backward();
    /// assert_eq!(t.grad().as_slice().unwrap(), &[3.0, 12.0]);
    /// ```
    pub fn map_with_derivative(self, f: impl Fn(f64) -> (f64, f64)) -> Tensor<'t> {
        // `f` is user code: run it on the recording moved out of the tape.
        self.map_impl(f, true)
    }

    /// [`Tensor::map_with_derivative`] for a crate-internal derivative function (which never
    /// touches a tape, so it may run while the recording is borrowed).
    #[inline]
    pub(crate) fn map_internal(self, f: impl Fn(f64) -> (f64, f64)) -> Tensor<'t> {
        self.map_impl(f, false)
    }

    #[inline(always)]
    fn map_impl(self, f: impl Fn(f64) -> (f64, f64), user: bool) -> Tensor<'t> {
        let n = self.numel();
        let tape = self.tape;
        let body = |g: &mut Inner| {
            let out = g.next_slot();
            let a = self.start as usize;
            if !self.tracked {
                for i in 0..n {
                    let v = f(g.vals[a + i]).0;
                    g.vals.push(v);
                }
                return Tensor::from_slot(tape, out, self.shape, false);
            }
            let p = g.f.len();
            g.f.resize(p + n, 0.0);
            g.vals.resize(out as usize + n, 0.0);
            {
                let Inner { vals, f: parts, .. } = &mut *g;
                let (inp, outp) = vals.split_at_mut(out as usize);
                let inp = &inp[a..a + n];
                let parts = &mut parts[p..p + n];
                for i in 0..n {
                    let (v, d) = f(inp[i]);
                    outp[i] = v;
                    parts[i] = d;
                }
            }
            g.push_node(Node::Elem {
                out,
                a: self.start,
                n: n as u32,
                p: p as u32,
                s: 1,
            });
            Tensor::from_slot(tape, out, self.shape, true)
        };
        if user {
            tape.with_detached(body)
        } else {
            body(&mut tape.inner_mut())
        }
    }

    /// Elementwise `f(self, other)` with broadcasting, where `f` returns
    /// `(value, ∂/∂self, ∂/∂other)`: the building block for custom binary functions.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the broadcast result.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.tensor(&ndarray::array![3.0, 4.0]);
    /// let p = a.zip_with_derivative(b, |x, y| (x * y, y, x))?;
    /// assert_eq!(p.to_vec(), vec![3.0, 8.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn zip_with_derivative(
        self,
        other: Tensor<'t>,
        f: impl Fn(f64, f64) -> (f64, f64, f64),
    ) -> Result<Tensor<'t>, AdError> {
        binary_user(self, other, "zip_with_derivative", f)
    }

    /// Elementwise `self ⊕ c` for a linear op with constant partial `c` on `self`.
    fn linear(self, value: impl Fn(f64) -> f64, c: f64) -> Tensor<'t> {
        let n = self.numel();
        let mut g = self.tape.inner_mut();
        let out = g.next_slot();
        let a = self.start as usize;
        for i in 0..n {
            let v = value(g.vals[a + i]);
            g.vals.push(v);
        }
        if self.tracked {
            g.push_node(Node::Lin {
                out,
                a: self.start,
                n: n as u32,
                s: 1,
                c,
            });
        }
        Tensor::from_slot(self.tape, out, self.shape, self.tracked)
    }

    /// Adds a constant.
    pub fn add_scalar(self, c: f64) -> Tensor<'t> {
        self.linear(|x| x + c, 1.0)
    }

    /// Multiplies by a constant.
    pub fn scale(self, c: f64) -> Tensor<'t> {
        self.linear(|x| x * c, c)
    }

    /// xⁿ elementwise.
    pub fn powi(self, n: i32) -> Tensor<'t> {
        self.map_internal(|x| s::d_powi(x, n))
    }

    /// xᵖ elementwise for a constant p.
    pub fn powf(self, p: f64) -> Tensor<'t> {
        self.map_internal(|x| s::d_powf(x, p))
    }

    /// Clamps elementwise to `[lo, hi]`; zero gradient outside.
    pub fn clamp(self, lo: f64, hi: f64) -> Tensor<'t> {
        self.map_internal(|x| s::d_clamp(x, lo, hi))
    }

    /// Elementwise xʸ with broadcasting.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn pow(self, y: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, y, "pow", s::d_pow)
    }

    /// Elementwise minimum with broadcasting (ties: gradient to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn minimum(self, o: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, o, "minimum", s::d_min)
    }

    /// Elementwise maximum with broadcasting (ties: gradient to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn maximum(self, o: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, o, "maximum", s::d_max)
    }
}

macro_rules! tensor_unary {
    ($($(#[$doc:meta])* $name:ident => $d:path;)*) => {
        impl<'t> Tensor<'t> {
            $(
                $(#[$doc])*
                pub fn $name(self) -> Tensor<'t> {
                    self.map_internal($d)
                }
            )*
        }
    };
}

tensor_unary! {
    /// eˣ elementwise.
    exp => s::d_exp;
    /// Natural logarithm elementwise.
    ln => s::d_ln;
    /// ln(1 + x) elementwise.
    ln_1p => s::d_ln_1p;
    /// eˣ − 1 elementwise.
    exp_m1 => s::d_exp_m1;
    /// Square root elementwise.
    sqrt => s::d_sqrt;
    /// Sine elementwise.
    sin => s::d_sin;
    /// Cosine elementwise.
    cos => s::d_cos;
    /// tanh elementwise.
    tanh => s::d_tanh;
    /// Logistic sigmoid elementwise.
    sigmoid => s::d_sigmoid;
    /// ln(1 + eˣ) elementwise.
    softplus => s::d_softplus;
    /// ln σ(x) elementwise.
    log_sigmoid => s::d_log_sigmoid;
    /// |x| elementwise (derivative 0 at 0).
    abs => s::d_abs;
    /// 1/x elementwise.
    recip => s::d_recip;
    /// x² elementwise.
    square => s::d_square;
    /// ln Γ(x) elementwise.
    lgamma => s::d_lgamma;
    /// Digamma elementwise.
    digamma => s::d_digamma;
    /// erf elementwise.
    erf => s::d_erf;
    /// erfc elementwise.
    erfc => s::d_erfc;
    /// ln Φ(x) elementwise.
    log_normal_cdf => s::d_log_normal_cdf;
}

/// Records a gather node whose indices are `g.u[idx..]` (already pushed), producing `shape`.
pub(crate) fn gather_recorded<'t>(
    g: &mut crate::tape::Inner,
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

/// Checks that `a` and `b` share a tape and broadcasts them to a common shape in place;
/// afterwards each is either the full shape or a single element (stride 0). Returns the
/// shape. In place rather than returning the two tensors, which the compiler copies field by
/// field on every operation.
#[inline(always)]
pub(crate) fn align<'t>(
    a: &mut Tensor<'t>,
    b: &mut Tensor<'t>,
    op: &'static str,
) -> Result<Shape, AdError> {
    check_same_tape(op, a.tape, b.tape)?;
    let shape = match a.shape.broadcast(&b.shape) {
        Ok(s) => s,
        Err(AdError::ShapeMismatch { .. }) => return Err(mismatch(op, a.shape, b.shape)),
        Err(e) => return Err(e),
    };
    fit(a, shape)?;
    fit(b, shape)?;
    Ok(shape)
}

/// Broadcasts `t` to `shape` (to which it broadcasts) unless it already has `shape`'s size or
/// is a single element, which the kernels read with stride 0.
#[inline(always)]
pub(crate) fn fit(t: &mut Tensor<'_>, shape: Shape) -> Result<(), AdError> {
    let m = t.numel();
    if m != shape.numel() && m != 1 {
        *t = t.broadcast_to(shape)?;
    }
    Ok(())
}

#[cold]
#[inline(never)]
pub(crate) fn mismatch(op: &'static str, left: Shape, right: Shape) -> AdError {
    AdError::ShapeMismatch { op, left, right }
}

/// Elementwise binary operation with a crate-internal derivative function (which never touches
/// a tape, so it may run while the recording is borrowed).
pub(crate) fn binary<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    op: &'static str,
    f: impl Fn(f64, f64) -> (f64, f64, f64),
) -> Result<Tensor<'t>, AdError> {
    binary_impl(a, b, op, f, false)
}

/// [`binary`] for a user-supplied `f`: it runs on the recording moved out of the tape.
fn binary_user<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    op: &'static str,
    f: impl Fn(f64, f64) -> (f64, f64, f64),
) -> Result<Tensor<'t>, AdError> {
    binary_impl(a, b, op, f, true)
}

#[inline(always)]
fn binary_impl<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    op: &'static str,
    f: impl Fn(f64, f64) -> (f64, f64, f64),
    user: bool,
) -> Result<Tensor<'t>, AdError> {
    let (mut a, mut b) = (a, b);
    let shape = align(&mut a, &mut b, op)?;
    let n = shape.numel();
    let sa = usize::from(a.numel() == n);
    let sb = usize::from(b.numel() == n);
    let tape = a.tape;
    let body = |g: &mut Inner| {
        let tracked = a.tracked || b.tracked;
        let parts = (usize::from(a.tracked) + usize::from(b.tracked)) * n;
        g.reserve(op, n, parts, 0, shape.dims())?;
        let out = g.next_slot();
        let (ia, ib) = (a.start as usize, b.start as usize);
        if !tracked {
            for i in 0..n {
                let v = f(g.vals[ia + i * sa], g.vals[ib + i * sb]).0;
                g.vals.push(v);
            }
            return Ok(Tensor::from_slot(tape, out, shape, false));
        }
        let pa = g.f.len();
        let pb = pa + if a.tracked { n } else { 0 };
        let pend = pb + if b.tracked { n } else { 0 };
        g.f.resize(pend, 0.0);
        for i in 0..n {
            let (v, da, db) = f(g.vals[ia + i * sa], g.vals[ib + i * sb]);
            g.vals.push(v);
            if a.tracked {
                g.f[pa + i] = da;
            }
            if b.tracked {
                g.f[pb + i] = db;
            }
        }
        if a.tracked {
            g.push_node(Node::Elem {
                out,
                a: a.start,
                n: n as u32,
                p: pa as u32,
                s: sa as u32,
            });
        }
        if b.tracked {
            g.push_node(Node::Elem {
                out,
                a: b.start,
                n: n as u32,
                p: pb as u32,
                s: sb as u32,
            });
        }
        Ok(Tensor::from_slot(tape, out, shape, true))
    };
    if user {
        tape.with_detached(body)
    } else {
        body(&mut tape.inner_mut())
    }
}

/// Addition or subtraction (`sign` = ±1 on `b`) without a partials arena.
///
/// # Panics
/// As the operators: different tapes, shapes that do not broadcast, or a broadcast result the
/// tape cannot hold.
#[track_caller]
fn add_sub<'t>(a: Tensor<'t>, b: Tensor<'t>, sign: f64, op: &'static str) -> Tensor<'t> {
    let (mut a, mut b) = (a, b);
    let shape = match align(&mut a, &mut b, op) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    let n = shape.numel();
    let sa = usize::from(a.numel() == n);
    let sb = usize::from(b.numel() == n);
    let tape = a.tape;
    let mut g = tape.inner_mut();
    if let Err(e) = g.reserve(op, n, 0, 0, shape.dims()) {
        panic!("{e}");
    }
    let out = g.next_slot();
    let (ia, ib) = (a.start as usize, b.start as usize);
    // the outputs written into a resized buffer, with the strides constant in each loop, so
    // that the loops vectorize (the same additions as one push per element)
    let o = out as usize;
    g.vals.resize(o + n, 0.0);
    let (src, dst) = g.vals.split_at_mut(o);
    match (sa, sb) {
        (1, 1) => {
            for ((d, &x), &y) in dst.iter_mut().zip(&src[ia..ia + n]).zip(&src[ib..ib + n]) {
                *d = x + sign * y;
            }
        }
        (1, _) => {
            let y = sign * src[ib];
            for (d, &x) in dst.iter_mut().zip(&src[ia..ia + n]) {
                *d = x + y;
            }
        }
        (_, 1) => {
            let x = src[ia];
            for (d, &y) in dst.iter_mut().zip(&src[ib..ib + n]) {
                *d = x + sign * y;
            }
        }
        _ => {
            for d in dst.iter_mut() {
                *d = src[ia] + sign * src[ib];
            }
        }
    }
    if a.tracked {
        g.push_node(Node::Lin {
            out,
            a: a.start,
            n: n as u32,
            s: sa as u32,
            c: 1.0,
        });
    }
    if b.tracked {
        g.push_node(Node::Lin {
            out,
            a: b.start,
            n: n as u32,
            s: sb as u32,
            c: sign,
        });
    }
    Tensor::from_slot(tape, out, shape, a.tracked || b.tracked)
}

/// The operators' panic on an error of the operation (different tapes, shapes that do not
/// broadcast), reported at the caller's line.
#[track_caller]
fn expect_ok<T>(r: Result<T, AdError>) -> T {
    match r {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    }
}

impl<'t> Add for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn add(self, o: Tensor<'t>) -> Tensor<'t> {
        add_sub(self, o, 1.0, "add")
    }
}
impl<'t> Sub for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn sub(self, o: Tensor<'t>) -> Tensor<'t> {
        add_sub(self, o, -1.0, "sub")
    }
}
impl<'t> Mul for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn mul(self, o: Tensor<'t>) -> Tensor<'t> {
        expect_ok(binary(self, o, "mul", s::d_mul))
    }
}
impl<'t> Div for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn div(self, o: Tensor<'t>) -> Tensor<'t> {
        expect_ok(binary(self, o, "div", s::d_div))
    }
}
impl<'t> Neg for Tensor<'t> {
    type Output = Tensor<'t>;
    fn neg(self) -> Tensor<'t> {
        self.scale(-1.0)
    }
}

macro_rules! tensor_scalar_ops {
    ($tr:ident, $m:ident, $tc:expr, $ct:expr) => {
        impl<'t> $tr<Var<'t>> for Tensor<'t> {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, v: Var<'t>) -> Tensor<'t> {
                $tr::$m(self, v.as_tensor())
            }
        }
        impl<'t> $tr<Tensor<'t>> for Var<'t> {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                $tr::$m(self.as_tensor(), t)
            }
        }
        impl<'t> $tr<f64> for Tensor<'t> {
            type Output = Tensor<'t>;
            fn $m(self, c: f64) -> Tensor<'t> {
                let f: fn(Tensor<'t>, f64) -> Tensor<'t> = $tc;
                f(self, c)
            }
        }
        impl<'t> $tr<Tensor<'t>> for f64 {
            type Output = Tensor<'t>;
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                let f: fn(f64, Tensor<'t>) -> Tensor<'t> = $ct;
                f(self, t)
            }
        }
    };
}

tensor_scalar_ops!(Add, add, |t, c| t.add_scalar(c), |c, t| t.add_scalar(c));
tensor_scalar_ops!(Sub, sub, |t, c| t.add_scalar(-c), |c, t| t
    .scale(-1.0)
    .add_scalar(c));
tensor_scalar_ops!(Mul, mul, |t, c| t.scale(c), |c, t| t.scale(c));
tensor_scalar_ops!(Div, div, |t, c| t.scale(1.0 / c), |c, t| t.map_internal(
    |x| {
        let r = 1.0 / x;
        (c * r, -c * r * r)
    }
));

/// Operators between a tape handle and a data array (`b * &x`, `&y - mu`): the array is
/// recorded as an untracked constant on the handle's tape, and the operation broadcasts as
/// between two tensors.
macro_rules! tensor_data_ops {
    ($tr:ident, $m:ident) => {
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<&ArrayBase<S, D>> for Tensor<'t> {
            type Output = Tensor<'t>;
            /// # Panics
            /// When the shapes do not broadcast (both shapes are named).
            #[track_caller]
            fn $m(self, a: &ArrayBase<S, D>) -> Tensor<'t> {
                $tr::$m(self, self.tape.constant(a))
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<Tensor<'t>> for &ArrayBase<S, D> {
            type Output = Tensor<'t>;
            /// # Panics
            /// When the shapes do not broadcast (both shapes are named).
            #[track_caller]
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                $tr::$m(t.tape.constant(self), t)
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<&ArrayBase<S, D>> for Var<'t> {
            type Output = Tensor<'t>;
            /// # Panics
            /// Never for a scalar and an array (a scalar broadcasts to every shape).
            #[track_caller]
            fn $m(self, a: &ArrayBase<S, D>) -> Tensor<'t> {
                $tr::$m(self.as_tensor(), a)
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<Var<'t>> for &ArrayBase<S, D> {
            type Output = Tensor<'t>;
            /// # Panics
            /// Never for a scalar and an array (a scalar broadcasts to every shape).
            #[track_caller]
            fn $m(self, v: Var<'t>) -> Tensor<'t> {
                $tr::$m(self, v.as_tensor())
            }
        }
    };
}

tensor_data_ops!(Add, add);
tensor_data_ops!(Sub, sub);
tensor_data_ops!(Mul, mul);
tensor_data_ops!(Div, div);
