//! Shape manipulation: reshape, indexing and slicing, transpose, concatenate and stack,
//! selection by mask. Contiguous results are views (no node); the rest are single gather
//! nodes.

use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::{Tape, check_same_tape};
use crate::tensor::{Tensor, gather_recorded};
use crate::var::Var;

impl<'t> Tensor<'t> {
    /// Records a gather of the given slots into a new tensor of `shape` (operation `op`).
    pub(crate) fn gather_slots(
        self,
        op: &'static str,
        slots: &[u32],
        shape: Shape,
    ) -> Result<Tensor<'t>, AdError> {
        let mut g = self.tape.inner_mut();
        g.reserve(op, slots.len(), 0, slots.len(), shape.dims())?;
        let idx = g.u.len() as u32;
        g.u.extend_from_slice(slots);
        Ok(gather_recorded(&mut g, self.tape, idx, shape, self.tracked))
    }

    /// The same elements with another shape (a view: no copy, no node).
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when the number of elements differs; [`AdError::TooManyDims`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.reshape(&[2, 2])?.dims(), &[2, 2]);
    /// assert!(t.reshape(&[3]).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn reshape(self, dims: &[usize]) -> Result<Tensor<'t>, AdError> {
        let shape = Shape::new(dims)?;
        if shape.numel() != self.numel() {
            return Err(AdError::LengthMismatch {
                shape,
                len: self.numel(),
            });
        }
        Ok(Tensor { shape, ..self })
    }

    /// The element at a multi-index, as a [`Var`] (no copy, no node).
    ///
    /// # Errors
    /// [`AdError::WrongRank`] when the index length differs from the rank;
    /// [`AdError::IndexOutOfBounds`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.at(&[1, 0])?.value(), 3.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn at(self, index: &[usize]) -> Result<Var<'t>, AdError> {
        if index.len() != self.ndim() {
            return Err(AdError::wrong_rank("at", index.len(), self.shape));
        }
        let strides = self.shape.strides();
        let mut flat = 0;
        for (k, (&i, &d)) in index.iter().zip(self.dims()).enumerate() {
            if i >= d {
                return Err(AdError::IndexOutOfBounds { index: i, len: d });
            }
            flat += i * strides[k];
        }
        Ok(self.var_at(flat))
    }

    /// The sub-tensor at position `i` along `axis` (the axis is removed). Along axis 0 this is
    /// a view; otherwise one gather node.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`], [`AdError::IndexOutOfBounds`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.index_axis(0, 1)?.to_vec(), vec![3.0, 4.0]);
    /// assert_eq!(t.index_axis(1, 1)?.to_vec(), vec![2.0, 4.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn index_axis(self, axis: usize, i: usize) -> Result<Tensor<'t>, AdError> {
        let t = self.slice_axis(axis, i, i + 1)?;
        let shape = self.shape.remove_axis(axis);
        Ok(Tensor { shape, ..t })
    }

    /// Elements `start..end` along `axis`. Along axis 0 this is a view; otherwise one gather.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`], [`AdError::IndexOutOfBounds`] (also for `start > end`).
    #[inline]
    pub fn slice_axis(self, axis: usize, start: usize, end: usize) -> Result<Tensor<'t>, AdError> {
        if axis >= self.ndim() {
            return Err(AdError::AxisOutOfRange {
                axis,
                shape: self.shape,
            });
        }
        let d = self.dims();
        let len = d[axis];
        if end > len || start > end {
            return Err(AdError::IndexOutOfBounds { index: end, len });
        }
        let inner: usize = d[axis + 1..].iter().product();
        let outer: usize = d[..axis].iter().product();
        let shape = self.shape.with_axis(axis, end - start);
        if axis == 0 || outer == 1 {
            return Ok(Tensor {
                start: self.start + (start * inner) as u32,
                shape,
                ..self
            });
        }
        let mut idx = Vec::with_capacity(shape.numel());
        // (an empty result gathers nothing: no loop over the axes of an empty tensor, whose
        // other dimensions may be huge)
        for o in 0..if shape.numel() == 0 { 0 } else { outer } {
            for j in start..end {
                for i in 0..inner {
                    idx.push(self.start + ((o * len + j) * inner + i) as u32);
                }
            }
        }
        self.gather_slots("slice_axis", &idx, shape)
    }

    /// Transpose of a matrix (one gather node).
    ///
    /// # Errors
    /// [`AdError::WrongRank`] unless the tensor is 2-d.
    pub fn t(self) -> Result<Tensor<'t>, AdError> {
        if self.ndim() != 2 {
            return Err(AdError::wrong_rank("t", 2, self.shape));
        }
        self.permute(&[1, 0])
    }

    /// Permutes the axes: result axis `k` is input axis `axes[k]` (one gather node).
    ///
    /// # Errors
    /// [`AdError::WrongRank`] when `axes` is not a permutation of `0..ndim`.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.permute(&[1, 0])?.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn permute(self, axes: &[usize]) -> Result<Tensor<'t>, AdError> {
        let nd = self.ndim();
        let mut seen = [false; crate::MAX_NDIM];
        let valid = axes.len() == nd
            && axes.iter().all(|&a| {
                if a < nd && !seen[a] {
                    seen[a] = true;
                    true
                } else {
                    false
                }
            });
        if !valid {
            return Err(AdError::wrong_rank("permute", nd, self.shape));
        }
        let dims: Vec<usize> = axes.iter().map(|&a| self.dims()[a]).collect();
        let shape = Shape::new(&dims)?;
        let in_strides = self.shape.strides();
        let n = shape.numel();
        let mut idx = Vec::with_capacity(n);
        let mut counter = [0usize; crate::MAX_NDIM];
        for _ in 0..n {
            let mut off = 0;
            for k in 0..nd {
                off += counter[k] * in_strides[axes[k]];
            }
            idx.push(self.start + off as u32);
            let mut k = nd;
            while k > 0 {
                k -= 1;
                counter[k] += 1;
                if counter[k] < dims[k] {
                    break;
                }
                counter[k] = 0;
            }
        }
        self.gather_slots("permute", &idx, shape)
    }

    /// The elements where `mask` is true, in row-major order, as a 1-d tensor.
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when `mask.len() != self.numel()`.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// assert_eq!(t.select(&[true, false, true])?.to_vec(), vec![1.0, 3.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn select(self, mask: &[bool]) -> Result<Tensor<'t>, AdError> {
        if mask.len() != self.numel() {
            return Err(AdError::LengthMismatch {
                shape: self.shape,
                len: mask.len(),
            });
        }
        let idx: Vec<u32> = mask
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(i, _)| self.start + i as u32)
            .collect();
        let n = idx.len();
        self.gather_slots("select", &idx, Shape::vector(n))
    }

    /// Rows `indices` of the tensor along axis 0, in that order, repeats allowed: Stan's
    /// `a[group]`, NumPy's `a[indices]`. The result has shape `[indices.len(), rest…]`
    /// (`rest` the input's other dimensions). One gather node: the forward pass copies the
    /// rows, the backward pass adds each output adjoint to its source element in one O(n)
    /// sweep, so an index that appears several times accumulates the gradient of every
    /// appearance. This is the hot path of a hierarchical model (a group effect per
    /// observation), which it records in one node rather than one per observation.
    ///
    /// # Errors
    /// [`AdError::WrongRank`] for a 0-dimensional tensor; [`AdError::IndexOutOfBounds`]
    /// naming the first index that is not below the length of axis 0, and that length;
    /// [`AdError::TooManyElements`] when the result would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![10.0, 20.0, 30.0]);
    /// let group = [2, 0, 2, 2];
    /// let per_obs = a.gather(&group)?;
    /// assert_eq!(per_obs.to_vec(), vec![30.0, 10.0, 30.0, 30.0]);
    /// per_obs.sum().backward();
    /// assert_eq!(a.grad().iter().copied().collect::<Vec<_>>(), vec![1.0, 0.0, 3.0]);
    /// assert!(a.gather(&[3]).is_err());
    /// let m = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.gather(&[1, 1, 0])?.dims(), &[3, 2]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn gather(self, indices: &[usize]) -> Result<Tensor<'t>, AdError> {
        if self.ndim() == 0 {
            return Err(AdError::wrong_rank("gather", 1, self.shape));
        }
        let len = self.dims()[0];
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(AdError::IndexOutOfBounds { index, len });
        }
        let mut dims = self.dims().to_vec();
        dims[0] = indices.len();
        let inner: usize = dims[1..].iter().product();
        let shape = Shape::new(&dims)?;
        let mut g = self.tape.inner_mut();
        g.reserve("gather", shape.numel(), 0, shape.numel(), shape.dims())?;
        let at = g.u.len();
        let start = self.start as usize;
        if inner == 1 {
            g.u.extend(indices.iter().map(|&i| (start + i) as u32));
        } else if shape.numel() > 0 {
            for &i in indices {
                let row = start + i * inner;
                g.u.extend((row..row + inner).map(|s| s as u32));
            }
        }
        Ok(gather_recorded(
            &mut g,
            self.tape,
            at as u32,
            shape,
            self.tracked,
        ))
    }
}

impl Tape {
    /// Concatenates tensors along an existing `axis` (one gather node). All shapes must agree
    /// except along `axis`.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when a part lives on another tape; [`AdError::Empty`],
    /// [`AdError::AxisOutOfRange`], [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the result has too many elements.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[1.0], [2.0]]);
    /// let b = tape.tensor(&ndarray::array![[3.0], [4.0]]);
    /// let c = tape.concat(&[a, b], 1)?;
    /// assert_eq!(c.dims(), &[2, 2]);
    /// assert_eq!(c.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn concat<'t>(&'t self, parts: &[Tensor<'t>], axis: usize) -> Result<Tensor<'t>, AdError> {
        for p in parts {
            check_same_tape("concat", self, p.tape)?;
        }
        let first = *parts.first().ok_or(AdError::Empty { op: "concat" })?;
        if axis >= first.ndim() {
            return Err(AdError::AxisOutOfRange {
                axis,
                shape: first.shape,
            });
        }
        let mut total: usize = 0;
        for p in parts {
            if p.ndim() != first.ndim()
                || p.shape.with_axis(axis, 0) != first.shape.with_axis(axis, 0)
            {
                return Err(AdError::mismatch("concat", first.shape, p.shape));
            }
            total = total.checked_add(p.dims()[axis]).ok_or_else(|| {
                let mut dims = first.dims().to_vec();
                dims[axis] = usize::MAX;
                AdError::TooManyElements { dims }
            })?;
        }
        let mut dims = first.dims().to_vec();
        dims[axis] = total;
        let shape = Shape::new(&dims)?;
        let mut g = self.inner_mut();
        g.reserve("concat", shape.numel(), 0, shape.numel(), shape.dims())?;
        let outer: usize = first.dims()[..axis].iter().product();
        let inner: usize = first.dims()[axis + 1..].iter().product();
        let at = g.u.len() as u32;
        // (an empty result gathers nothing; see `slice_axis`)
        for o in 0..if shape.numel() == 0 { 0 } else { outer } {
            for p in parts {
                let len = p.dims()[axis];
                let base = p.start as usize + o * len * inner;
                g.u.extend((0..len * inner).map(|i| (base + i) as u32));
            }
        }
        let tracked = parts.iter().any(|p| p.tracked);
        Ok(gather_recorded(&mut g, self, at, shape, tracked))
    }

    /// Stacks tensors of equal shape along a new `axis` (one gather node).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when a part lives on another tape; [`AdError::Empty`],
    /// [`AdError::AxisOutOfRange`], [`AdError::ShapeMismatch`], [`AdError::TooManyDims`],
    /// [`AdError::TooManyElements`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.tensor(&ndarray::array![3.0, 4.0]);
    /// assert_eq!(tape.stack(&[a, b], 0)?.dims(), &[2, 2]);
    /// assert_eq!(tape.stack(&[a, b], 1)?.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn stack<'t>(&'t self, parts: &[Tensor<'t>], axis: usize) -> Result<Tensor<'t>, AdError> {
        for p in parts {
            check_same_tape("stack", self, p.tape)?;
        }
        let first = *parts.first().ok_or(AdError::Empty { op: "stack" })?;
        if axis > first.ndim() {
            return Err(AdError::AxisOutOfRange {
                axis,
                shape: first.shape,
            });
        }
        let mut dims: Vec<usize> = first.dims().to_vec();
        dims.insert(axis, 1);
        let mut expanded = Vec::with_capacity(parts.len());
        for p in parts {
            if p.shape != first.shape {
                return Err(AdError::mismatch("stack", first.shape, p.shape));
            }
            expanded.push(p.reshape(&dims)?);
        }
        self.concat(&expanded, axis)
    }
}
