//! Products with a constant data matrix held by reference (no copy: the tape keeps an `Arc`
//! until [`Tape::clear`]): [`Tape::data_matvec`], [`Tape::data_matmul`], and
//! [`Tape::data_affine_source`], which recognizes an affine data product on the tape.

use super::need_rank;
use crate::error::AdError;
use crate::kernels::{gemm_acc, matvec_rows};
use crate::shape::Shape;
use crate::tape::{Deferred, Node, Tape, check_same_tape};
use crate::tensor::Tensor;
use ndarray::Array2;
use std::sync::Arc;

/// How a tensor was computed from a constant data matrix: `t = data · x + c · offset`
/// (without the last term when `offset` is `None`), from [`Tape::data_affine_source`].
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// let x = Arc::new(ndarray::array![[1.0, 2.0]]);
/// let tape = infer_ad::Tape::new();
/// let beta = tape.tensor(&ndarray::array![1.0, 1.0]);
/// let eta = tape.data_matvec(&x, beta)? + 2.0; // an untracked offset: none recorded
/// let src: infer_ad::DataAffine<'_> = tape.data_affine_source(eta).expect("affine");
/// assert!(src.offset.is_none());
/// assert_eq!(src.x.numel(), 2);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataAffine<'t> {
    /// The data matrix (m × k, standard layout), shared with the tape.
    pub data: Arc<Array2<f64>>,
    /// The vector the data multiplies (k elements, tracked).
    pub x: Tensor<'t>,
    /// A tracked scalar added to every element, with its coefficient (1 for `+`, −1 for `−`).
    pub offset: Option<(Tensor<'t>, f64)>,
}

impl Tape {
    /// Registers a constant data matrix by reference (no copy: the tape keeps an `Arc` until
    /// [`Tape::clear`]) and returns `data · x` for a vector `x`. The gradient flows to `x` only.
    /// This is the fast path for design matrices (regression, first network layers).
    ///
    /// With a tracked `x`, the m values are computed when something first reads them (an
    /// operation on the result, [`Tensor::value`], …), not here: a likelihood that evaluates
    /// the product inside its own fused pass ([`Tape::deferred_affine`], the fast path of
    /// `infer_dist::Bernoulli::from_logits(..).log_prob_sum(..)`) then never computes it
    /// twice. The values are the same either way, bit for bit.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `x` lives on another tape;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m results would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let x = Arc::new(ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let beta = tape.tensor(&ndarray::array![1.0, -1.0]);
    /// let eta = tape.data_matvec(&x, beta)?;
    /// assert_eq!(eta.to_vec(), vec![-1.0, -1.0, -1.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_matvec<'t>(
        &'t self,
        data: &Arc<Array2<f64>>,
        x: Tensor<'t>,
    ) -> Result<Tensor<'t>, AdError> {
        check_same_tape("data_matvec", self, x.tape)?;
        need_rank(&x, "data_matvec", 1)?;
        let (m, k) = data.dim();
        if x.numel() != k {
            return Err(AdError::mismatch(
                "data_matvec",
                Shape::matrix(m, k)?,
                x.shape,
            ));
        }
        let data = standard(data);
        // a deferred product replaces an earlier one, whose values are computed first; an
        // eager one computes them only if it reads them
        let mut g = if x.tracked {
            self.inner_mut()
        } else {
            self.inner_reading(x.start, k)
        };
        g.reserve("data_matvec", m, 0, 0, &[m])?;
        let out = g.next_slot();
        let xs = x.start as usize;
        let o = out as usize;
        g.vals.resize(o + m, 0.0);
        if x.tracked {
            // the values are computed when something reads them (`tape/deferred.rs`)
            let d = g.data.len() as u32;
            g.data.push(data);
            g.push_node(Node::MatVecData { out, d, x: x.start });
            g.deferred = Some(Deferred {
                out,
                m: m as u32,
                d,
                x: x.start,
                offset: None,
            });
        } else {
            let slice = data.as_slice().expect("standard layout");
            let (inp, outp) = g.vals.split_at_mut(o);
            matvec_rows(slice, &inp[xs..xs + k], outp);
        }
        Ok(Tensor::from_slot(self, out, Shape::vector(m), x.tracked))
    }

    /// The affine data product behind `t`, when the tape recorded `t` as
    /// [`Tape::data_matvec`]`(data, x)`, possibly followed by the addition of a scalar offset
    /// (`eta + alpha`, `alpha + eta`, `eta - alpha`, `eta + 1.5`): so that a log density of
    /// `t` may compute its gradient with respect to `x` directly as `dataᵀ·(∂/∂t)` in its
    /// forward pass, instead of storing one partial per element and leaving the product to the
    /// backward pass — the peephole behind the GLM fast path of `infer_dist::Bernoulli`.
    ///
    /// The answer is read from the nodes that produced `t`'s slots (tensor nodes are kept in
    /// the order of their outputs, so this is a binary search): it describes exactly how
    /// `t`'s adjoint reaches the tape's leaves, whatever was recorded after `t`. Nothing is
    /// recorded or removed: a caller that records its own gradient to `x` and the offset
    /// leaves `t`'s nodes on the tape, so `t` may also be used elsewhere. `None` for any
    /// other `t` (an untracked product, a product scaled or added to a vector, a 0-d or
    /// multi-dimensional `t`, a view of part of the product).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let x = Arc::new(ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let (beta, alpha) = (tape.tensor(&ndarray::array![1.0, -1.0]), tape.var(0.5));
    /// let eta = tape.data_matvec(&x, beta)? + alpha;
    /// let src = tape.data_affine_source(eta).expect("an affine data product");
    /// assert!(Arc::ptr_eq(&src.data, &x));
    /// assert_eq!(src.x.start_index(), beta.start_index());
    /// let (offset, c) = src.offset.expect("a tracked offset");
    /// assert_eq!((offset.start_index(), c), (alpha.as_tensor().start_index(), 1.0));
    /// assert!(tape.data_affine_source(eta * 2.0).is_none());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_affine_source<'t>(&'t self, t: Tensor<'t>) -> Option<DataAffine<'t>> {
        if !std::ptr::eq(self, t.tape) || !t.tracked || t.ndim() != 1 {
            return None;
        }
        let n = t.numel();
        let g = self.inner_raw();
        let nodes = &g.nodes;
        // the nodes whose first output is `at` (contiguous: nodes are ordered by output)
        let producers = |at: u32| {
            let lo = nodes.partition_point(|nd| nd.out() < at);
            let hi = lo + nodes[lo..].partition_point(|nd| nd.out() == at);
            &nodes[lo..hi]
        };
        let matvec = |at: u32| match producers(at) {
            [Node::MatVecData { d, x, .. }] if g.data[*d as usize].nrows() == n => {
                let data = Arc::clone(&g.data[*d as usize]);
                let k = data.ncols();
                Some((data, *x, k))
            }
            _ => None,
        };
        let (data, x, k, offset) = if let Some((data, x, k)) = matvec(t.start) {
            (data, x, k, None)
        } else {
            // `t = eta + c·s`: one identity edge from the product, at most one from a scalar
            let (mut eta, mut offset) = (None, None);
            for nd in producers(t.start) {
                match *nd {
                    Node::Lin {
                        a, n: m, s: 1, c, ..
                    } if m as usize == n && c == 1.0 && eta.is_none() => {
                        eta = Some(a);
                    }
                    Node::Lin {
                        a, n: m, s: 0, c, ..
                    } if m as usize == n && offset.is_none() => {
                        offset = Some((a, c));
                    }
                    _ => return None,
                }
            }
            let (data, x, k) = matvec(eta?)?;
            (data, x, k, offset)
        };
        drop(g);
        let k_shape = Shape::vector(k);
        Some(DataAffine {
            data,
            x: Tensor::from_slot(self, x, k_shape, true),
            offset: offset.map(|(a, c)| (Tensor::from_slot(self, a, Shape::SCALAR, true), c)),
        })
    }

    /// The recipe of `t` when its values are still deferred (see [`Tape::data_matvec`]): `t`
    /// is exactly `data · x`, or `data · x + c · s` recorded as `product + s` / `product − s`
    /// for a scalar tensor `s` (tracked or not; `c` = ±1), and nothing has read its values
    /// yet. A caller that computes `t`'s function from the recipe (and records its gradient
    /// with respect to `x` and `s`, as [`Tape::data_affine_source`] explains) leaves the
    /// values uncomputed; reading them later computes them. `None` for any other `t`, or
    /// once the values were computed.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let x = Arc::new(ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let (beta, alpha) = (tape.tensor(&ndarray::array![1.0, -1.0]), tape.var(0.5));
    /// let eta = tape.data_matvec(&x, beta)? - alpha;
    /// let recipe = tape.deferred_affine(eta).expect("not read yet");
    /// assert!(Arc::ptr_eq(&recipe.data, &x));
    /// let (s, c) = recipe.offset.expect("an offset");
    /// assert_eq!((s.to_vec(), c), (vec![0.5], -1.0));
    /// assert_eq!(eta.to_vec(), vec![-1.5, -1.5, -1.5]); // computed now
    /// assert!(tape.deferred_affine(eta).is_none());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn deferred_affine<'t>(&'t self, t: Tensor<'t>) -> Option<DataAffine<'t>> {
        if !std::ptr::eq(self, t.tape) || t.ndim() != 1 {
            return None;
        }
        let g = self.inner_raw();
        let p = g.deferred?;
        let offset = match p.offset {
            None if t.start == p.out => None,
            Some(o) if t.start == o.sum => Some(o),
            _ => return None,
        };
        if t.numel() != p.m as usize {
            return None;
        }
        let data = Arc::clone(&g.data[p.d as usize]);
        let k = data.ncols();
        drop(g);
        Some(DataAffine {
            data,
            x: Tensor::from_slot(self, p.x, Shape::vector(k), true),
            offset: offset.map(|o| {
                let s = Tensor::from_slot(self, o.s, Shape::SCALAR, o.tracked);
                (s, o.sign)
            }),
        })
    }

    /// `data · b` for a constant data matrix (m×k, held by reference) and a tensor `b` (k×n).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `b` lives on another tape;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m×n product has too many elements or would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let d = Arc::new(ndarray::array![[1.0, 2.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let b = tape.tensor(&ndarray::array![[1.0], [1.0]]);
    /// assert_eq!(tape.data_matmul(&d, b)?.to_vec(), vec![3.0]);
    /// let other = infer_ad::Tape::new();
    /// assert!(other.data_matmul(&d, b).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_matmul<'t>(
        &'t self,
        data: &Arc<Array2<f64>>,
        b: Tensor<'t>,
    ) -> Result<Tensor<'t>, AdError> {
        check_same_tape("data_matmul", self, b.tape)?;
        need_rank(&b, "data_matmul", 2)?;
        let (m, k) = data.dim();
        let n = b.dims()[1];
        if b.dims()[0] != k {
            return Err(AdError::mismatch(
                "data_matmul",
                Shape::matrix(m, k)?,
                b.shape,
            ));
        }
        let shape = Shape::matrix(m, n)?;
        let data = standard(data);
        let slice = data.as_slice().expect("standard layout");
        let mut g = self.inner_mut();
        g.reserve("data_matmul", m * n, 0, 0, shape.dims())?;
        let out = g.next_slot() as usize;
        g.vals.resize(out + m * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        let b0 = b.start as usize;
        // An empty product computes nothing (m or n may be huge when the other is 0).
        if m * n != 0 {
            gemm_acc(
                [m, k, n],
                slice,
                false,
                &inp[b0..b0 + k * n],
                false,
                &mut outp[..m * n],
            );
        }
        if b.tracked {
            let d = g.data.len() as u32;
            g.data.push(data);
            g.push_node(Node::MatMulData {
                out: out as u32,
                d,
                b: b.start,
                n: n as u32,
            });
        }
        Ok(Tensor::from_slot(self, out as u32, shape, b.tracked))
    }
}

fn standard(data: &Arc<Array2<f64>>) -> Arc<Array2<f64>> {
    if data.is_standard_layout() {
        Arc::clone(data)
    } else {
        Arc::new(data.as_standard_layout().into_owned())
    }
}
