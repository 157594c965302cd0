//! [`Operand`]: an input of the fused operations that is either a tensor on a tape or data
//! borrowed for the duration of one call ([`DataView`]), read where it is instead of being
//! copied onto the tape first.
//!
//! Observed data gets no gradient, and a fused reduction such as [`Tape::fused_sum_operands`]
//! stores partials only for its tracked operands: once the call has returned, nothing on the
//! tape refers to the data. So the data need live only for the call, and a log likelihood
//! over N observations held by the model (`&self.y`) costs no N-element copy per evaluation.
//!
//! Also here: how the fused operations (`fused.rs`) align their operands to one broadcast
//! shape and find each one's values.

use crate::error::AdError;
use crate::shape::{Shape, broadcast_indices};
use crate::tape::{Tape, check_same_tape};
use crate::tensor::{Tensor, fit};
use crate::var::Var;

/// Row-major `f64` data with a shape, borrowed (not on any tape): the data operand of
/// [`Operand::Data`]. Its length always matches its shape.
///
/// # Examples
/// ```
/// use infer_ad::DataView;
/// let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let v = DataView::new(&y, &[2, 3])?;
/// assert_eq!(v.shape().dims(), &[2, 3]);
/// assert!(DataView::new(&y, &[4]).is_err());
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DataView<'a> {
    values: &'a [f64],
    shape: Shape,
}

impl<'a> DataView<'a> {
    /// `values` (row-major) viewed with dimensions `dims`.
    ///
    /// # Errors
    /// [`AdError::TooManyDims`] or [`AdError::TooManyElements`] for an invalid shape;
    /// [`AdError::LengthMismatch`] when `values.len()` is not the product of `dims`.
    ///
    /// # Examples
    /// ```
    /// let v = infer_ad::DataView::new(&[0.5, 1.5], &[2])?;
    /// assert_eq!(v.values(), &[0.5, 1.5]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn new(values: &'a [f64], dims: &[usize]) -> Result<Self, AdError> {
        let shape = Shape::new(dims)?;
        if shape.numel() != values.len() {
            return Err(AdError::LengthMismatch {
                shape,
                len: values.len(),
            });
        }
        Ok(DataView { values, shape })
    }

    /// A vector view of `values` (shape `[len]`).
    ///
    /// # Examples
    /// ```
    /// let v = infer_ad::DataView::vector(&[1.0, 2.0, 3.0]);
    /// assert_eq!(v.shape().dims(), &[3]);
    /// ```
    #[inline]
    pub fn vector(values: &'a [f64]) -> Self {
        DataView {
            values,
            shape: Shape::vector(values.len()),
        }
    }

    /// The values, row-major.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infer_ad::DataView::vector(&[2.0]).values(), &[2.0]);
    /// ```
    #[inline]
    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// The shape.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infer_ad::DataView::vector(&[2.0, 3.0]).shape().numel(), 2);
    /// ```
    #[inline]
    pub fn shape(&self) -> Shape {
        self.shape
    }
}

/// An operand of the fused operations ([`Tape::fused_sum_operands`],
/// [`Tape::fused_map_operands`]): a [`Tensor`] on the tape, or [`DataView`] data borrowed for
/// the call, which is read in place, gets no gradient and is not referred to by anything the
/// call records. Data broadcast to a larger shape is expanded in a buffer of the call, not on
/// the tape.
///
/// # Examples
/// ```
/// use infer_ad::{DataView, Operand, Tape};
/// let tape = Tape::new();
/// let m = tape.var(0.5).as_tensor();
/// let y = vec![1.0, 2.0, 4.0];
/// let before = tape.len();
/// let (s, parts) = tape.fused_sum_operands(
///     [Operand::Data(DataView::vector(&y)), Operand::Tensor(m)],
///     |_, [x, m]| ((x - m) * (x - m), [0.0, -2.0 * (x - m)]),
/// )?;
/// assert_eq!(tape.len(), before + 1); // the sum only: the data was not copied
/// assert_eq!(s.value(), 0.25 + 2.25 + 12.25);
/// assert_eq!(parts[1], -2.0 * (0.5 + 1.5 + 3.5));
/// s.backward();
/// assert_eq!(m.grad().iter().copied().collect::<Vec<_>>(), vec![parts[1]]);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Operand<'a, 't> {
    /// A tensor on a tape.
    Tensor(Tensor<'t>),
    /// Data borrowed for the call.
    Data(DataView<'a>),
}

impl<'t> From<Tensor<'t>> for Operand<'_, 't> {
    #[inline]
    fn from(t: Tensor<'t>) -> Self {
        Operand::Tensor(t)
    }
}

impl<'a> From<DataView<'a>> for Operand<'a, '_> {
    #[inline]
    fn from(d: DataView<'a>) -> Self {
        Operand::Data(d)
    }
}

impl<'a, 't> Operand<'a, 't> {
    /// The shape.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// assert_eq!(Operand::Data(DataView::vector(&[1.0, 2.0])).shape().dims(), &[2]);
    /// ```
    #[inline]
    pub fn shape(&self) -> Shape {
        match self {
            Operand::Tensor(t) => t.shape(),
            Operand::Data(d) => d.shape,
        }
    }

    /// The number of elements.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// assert_eq!(Operand::Data(DataView::vector(&[1.0, 2.0])).numel(), 2);
    /// ```
    #[inline]
    pub fn numel(&self) -> usize {
        match self {
            Operand::Tensor(t) => t.numel(),
            Operand::Data(d) => d.values.len(),
        }
    }

    /// The tape of a tensor; `None` for data.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand, Tape};
    /// let tape = Tape::new();
    /// assert!(Operand::Tensor(tape.var(1.0).as_tensor()).tape().is_some());
    /// assert!(Operand::Data(DataView::vector(&[1.0])).tape().is_none());
    /// ```
    #[inline]
    pub fn tape(&self) -> Option<&'t Tape> {
        match self {
            Operand::Tensor(t) => Some(t.tape()),
            Operand::Data(_) => None,
        }
    }

    /// The tensor, if the operand is one.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// assert!(Operand::Data(DataView::vector(&[1.0])).as_tensor().is_none());
    /// ```
    #[inline]
    pub fn as_tensor(&self) -> Option<Tensor<'t>> {
        match self {
            Operand::Tensor(t) => Some(*t),
            Operand::Data(_) => None,
        }
    }

    /// Whether gradients flow to the operand (never for data).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{Operand, Tape};
    /// let tape = Tape::new();
    /// assert!(Operand::Tensor(tape.var(1.0).as_tensor()).is_tracked());
    /// assert!(!Operand::Tensor(tape.scalar(1.0)).is_tracked());
    /// ```
    #[inline]
    pub fn is_tracked(&self) -> bool {
        match self {
            Operand::Tensor(t) => t.is_tracked(),
            Operand::Data(_) => false,
        }
    }

    /// The operand without gradient: a tensor [`Tensor::detach`]ed, data as it is.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{Operand, Tape};
    /// let tape = Tape::new();
    /// assert!(!Operand::Tensor(tape.var(1.0).as_tensor()).detach().is_tracked());
    /// ```
    #[inline]
    pub fn detach(self) -> Self {
        match self {
            Operand::Tensor(t) => Operand::Tensor(t.detach()),
            data => data,
        }
    }

    /// Copies the values `offset .. offset + out.len()` (row-major) into `out`, as
    /// [`Tensor::value_range_into`].
    ///
    /// # Panics
    /// If `offset + out.len()` exceeds the number of elements.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// let mut out = [0.0; 2];
    /// Operand::Data(DataView::vector(&[1.0, 2.0, 3.0])).value_range_into(1, &mut out);
    /// assert_eq!(out, [2.0, 3.0]);
    /// ```
    #[inline]
    pub fn value_range_into(&self, offset: usize, out: &mut [f64]) {
        match self {
            Operand::Tensor(t) => t.value_range_into(offset, out),
            Operand::Data(d) => out.copy_from_slice(&d.values[offset..offset + out.len()]),
        }
    }

    /// `f` of the values (row-major), read in place, as [`Tensor::with_values`].
    ///
    /// # Panics
    /// For a tensor, if `f` records on or reads from its tape.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// let y = [1.0, 2.0];
    /// assert_eq!(Operand::Data(DataView::vector(&y)).with_values(|v| v.len()), 2);
    /// ```
    #[inline]
    pub fn with_values<R>(&self, f: impl FnOnce(&[f64]) -> R) -> R {
        match self {
            Operand::Tensor(t) => t.with_values(f),
            Operand::Data(d) => f(d.values),
        }
    }

    /// The values as a flat `Vec` (row-major).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand};
    /// assert_eq!(Operand::Data(DataView::vector(&[4.0])).to_vec(), vec![4.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            Operand::Tensor(t) => t.to_vec(),
            Operand::Data(d) => d.values.to_vec(),
        }
    }

    /// The operand as a tensor on `tape`: a tensor as it is (after checking its tape), data
    /// copied onto the tape as an untracked constant (as [`Tape::constant_from_slice`]).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] for a tensor on another tape; as
    /// [`Tape::constant_from_slice`] for data.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand, Tape};
    /// let tape = Tape::new();
    /// let t = Operand::Data(DataView::vector(&[1.0, 2.0])).on(&tape)?;
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn on(self, tape: &'t Tape) -> Result<Tensor<'t>, AdError> {
        match self {
            Operand::Tensor(t) => {
                check_same_tape("operand", tape, t.tape())?;
                Ok(t)
            }
            Operand::Data(d) => tape.constant_from_slice(d.shape.dims(), d.values),
        }
    }

    /// Σᵢ (xᵢ − m)² over all elements, as [`Tensor::sum_sq_dev`]; for data recorded on `m`'s
    /// tape as one value whose partial for `m` (−2 Σᵢ (xᵢ − m)) is kept from the forward
    /// pass, the data read in place (the same arithmetic as for an untracked tensor).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when a tensor and `m` live on different tapes.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand, Tape};
    /// let tape = Tape::new();
    /// let m = tape.var(2.0);
    /// let s = Operand::Data(DataView::vector(&[1.0, 2.0, 4.0])).sum_sq_dev(m)?;
    /// assert_eq!(s.value(), 5.0);
    /// s.backward();
    /// assert_eq!(m.grad(), -2.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn sum_sq_dev(self, m: Var<'t>) -> Result<Var<'t>, AdError> {
        match self {
            Operand::Tensor(t) => t.sum_sq_dev(m),
            Operand::Data(d) => {
                let (s1, s2) = crate::kernels::dev_moments(d.values, m.val);
                // as the untracked branch of `Tensor::sum_sq_dev` records it
                let mut g = m.tape.inner_raw();
                let out = g.next_slot();
                g.vals.push(s2);
                g.push_rec(out, m.idx, -2.0 * s1);
                Ok(Var {
                    tape: m.tape,
                    idx: out,
                    val: s2,
                })
            }
        }
    }
}

/// Checks that the K operands' tensors live on `tape` (before reading any of them) and aligns
/// them to one broadcast shape in place; afterwards each is either full-size or a single
/// element. Data operands that are neither are expanded into `owned` (a buffer of the call,
/// not the tape), and read from there. Returns the shape. Inlined: the operands stay in
/// registers or the caller's frame rather than travelling through a returned `Result` of K
/// operands.
#[inline(always)]
pub(crate) fn align_all<'a, 't, const K: usize>(
    tape: &'t Tape,
    ops: &mut [Operand<'a, 't>; K],
    owned: &mut [Vec<f64>; K],
    op: &'static str,
) -> Result<Shape, AdError> {
    for o in ops.iter() {
        if let Operand::Tensor(t) = o {
            check_same_tape(op, tape, t.tape)?;
        }
    }
    let mut shape = Shape::SCALAR;
    for o in ops.iter() {
        let s = o.shape();
        shape = match shape.broadcast(&s) {
            Ok(b) => b,
            Err(AdError::ShapeMismatch { .. }) => {
                return Err(AdError::mismatch(op, shape, s));
            }
            Err(e) => return Err(e),
        };
    }
    for (o, buf) in ops.iter_mut().zip(owned.iter_mut()) {
        match o {
            Operand::Tensor(t) => fit(t, shape)?,
            Operand::Data(d) => {
                let m = d.values().len();
                if m != shape.numel() && m != 1 {
                    *buf = broadcast_data(d.values(), d.shape(), shape);
                }
            }
        }
    }
    Ok(shape)
}

/// Row-major `src` of shape `from` broadcast to shape `to` (which `from` broadcasts to).
fn broadcast_data(src: &[f64], from: Shape, to: Shape) -> Vec<f64> {
    let mut idx = Vec::with_capacity(to.numel());
    broadcast_indices(&from, &to, 0, &mut idx);
    idx.into_iter().map(|j| src[j as usize]).collect()
}

/// The number of elements of each aligned operand: a data operand expanded into `owned` has
/// the expansion's.
#[inline(always)]
pub(crate) fn widths<const K: usize>(
    ops: &[Operand<'_, '_>; K],
    owned: &[Vec<f64>; K],
) -> [usize; K] {
    std::array::from_fn(|k| {
        if owned[k].is_empty() {
            ops[k].numel()
        } else {
            owned[k].len()
        }
    })
}

/// The values of each operand, once the tape's value buffer `vals` is in hand: a tensor's
/// slots (`len[k]` of them from its start), data in place (or its expansion in `owned`).
#[inline(always)]
pub(crate) fn sources<'s, const K: usize>(
    vals: &'s [f64],
    ops: &[Operand<'s, '_>; K],
    owned: &'s [Vec<f64>; K],
    len: [usize; K],
) -> [&'s [f64]; K] {
    std::array::from_fn(|k| match ops[k] {
        Operand::Tensor(t) => &vals[t.start as usize..t.start as usize + len[k]],
        Operand::Data(d) => {
            if owned[k].is_empty() {
                &d.values()[..len[k]]
            } else {
                &owned[k][..len[k]]
            }
        }
    })
}

/// Computes the tape's deferred values (see `tape/deferred.rs`) if an operand reads them:
/// the fused operations then take the recording without computing them otherwise, so that a
/// log density recorded after a fused likelihood of a deferred product (a prior on the
/// coefficients, say) does not compute the product after all.
pub(crate) fn compute_deferred_read(tape: &Tape, ops: &[Operand<'_, '_>]) {
    let mut g = tape.inner_raw();
    if let Some(p) = g.deferred
        && ops.iter().any(|o| match o {
            Operand::Tensor(t) => p.overlaps(t.start, t.numel()),
            Operand::Data(_) => false,
        })
    {
        g.flush_deferred();
    }
}
