//! Tensor shapes and NumPy broadcasting.

use crate::error::AdError;
use std::fmt;

/// The largest number of dimensions a [`Shape`] holds.
pub const MAX_NDIM: usize = 6;

/// A tensor shape of up to [`MAX_NDIM`] dimensions; `Copy`, so tensor handles stay `Copy`.
///
/// # Examples
/// ```
/// use infer_ad::Shape;
/// let s = Shape::new(&[2, 3])?;
/// assert_eq!(s.dims(), &[2, 3]);
/// assert_eq!(s.numel(), 6);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
// Invariants (every constructor keeps them):
// * `dims[ndim..]` is all zeros, which the `PartialEq` below relies on;
// * the product of the non-zero dimensions is at most `isize::MAX` (see `extent`), so that the
//   element count, every stride and every sub-shape's element count are exact (never wrap),
//   and an ndarray array of the shape can always be built (ndarray has the same bound).
#[derive(Clone, Copy, Eq)]
pub struct Shape {
    dims: [usize; MAX_NDIM],
    ndim: u8,
}

impl PartialEq for Shape {
    /// Equal ranks and equal dimensions.
    #[inline]
    fn eq(&self, other: &Shape) -> bool {
        // Unused entries are zero (the invariant above), so all of them can be compared: a
        // branch-free fold, where a slice comparison would call `memcmp`.
        let mut diff = 0;
        for k in 0..MAX_NDIM {
            diff |= self.dims[k] ^ other.dims[k];
        }
        diff == 0 && self.ndim == other.ndim
    }
}

impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The slice's length is the rank: equal shapes hash equally.
        self.dims().hash(state);
    }
}

impl Shape {
    /// The shape of a scalar (no dimensions, one element).
    pub const SCALAR: Shape = Shape {
        dims: [0; MAX_NDIM],
        ndim: 0,
    };

    /// A shape with the given dimensions.
    ///
    /// # Errors
    /// [`AdError::TooManyDims`] when `dims.len() > MAX_NDIM`; [`AdError::TooManyElements`]
    /// when the product of the non-zero dimensions exceeds `isize::MAX` (the element count
    /// would not fit in memory, or would wrap around).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{AdError, Shape};
    /// assert_eq!(Shape::new(&[2, 0, 3])?.numel(), 0);
    /// assert_eq!(
    ///     Shape::new(&[1 << 32, 1 << 32]),
    ///     Err(AdError::TooManyElements { dims: vec![1 << 32, 1 << 32] })
    /// );
    /// # Ok::<(), AdError>(())
    /// ```
    #[inline]
    pub fn new(dims: &[usize]) -> Result<Self, AdError> {
        if dims.len() > MAX_NDIM {
            return Err(AdError::TooManyDims {
                ndim: dims.len(),
                max: MAX_NDIM,
            });
        }
        check_extent(dims)?;
        // An element loop rather than `copy_from_slice`, which calls `memcpy` for a few words.
        let mut d = [0; MAX_NDIM];
        for (x, &v) in d.iter_mut().zip(dims) {
            *x = v;
        }
        Ok(Shape {
            dims: d,
            ndim: dims.len() as u8,
        })
    }

    /// A one-dimensional shape of length `n` (a length of existing data; one dimension has
    /// no product that could overflow).
    #[inline]
    pub fn vector(n: usize) -> Self {
        let mut d = [0; MAX_NDIM];
        d[0] = n;
        Shape { dims: d, ndim: 1 }
    }

    /// A two-dimensional shape.
    ///
    /// # Errors
    /// [`AdError::TooManyElements`] when the product of the non-zero dimensions exceeds
    /// `isize::MAX`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Shape;
    /// assert_eq!(Shape::matrix(2, 3)?.numel(), 6);
    /// assert!(Shape::matrix(usize::MAX, 2).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn matrix(rows: usize, cols: usize) -> Result<Self, AdError> {
        check_extent(&[rows, cols])?;
        let mut d = [0; MAX_NDIM];
        d[0] = rows;
        d[1] = cols;
        Ok(Shape { dims: d, ndim: 2 })
    }

    /// The dimensions.
    #[inline]
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.ndim as usize]
    }

    /// Number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.ndim as usize
    }

    /// Number of elements (1 for a scalar). Exact: no shape has an element count that
    /// overflows (see [`Shape::new`]).
    #[inline]
    pub fn numel(&self) -> usize {
        self.dims().iter().product()
    }

    /// Row-major strides, in elements.
    #[inline]
    pub fn strides(&self) -> [usize; MAX_NDIM] {
        let mut s = [0; MAX_NDIM];
        let mut acc = 1;
        for k in (0..self.ndim()).rev() {
            s[k] = acc;
            acc *= self.dims[k];
        }
        s
    }

    /// The shape with `axis` removed.
    pub(crate) fn remove_axis(&self, axis: usize) -> Shape {
        let mut d = [0; MAX_NDIM];
        let mut j = 0;
        for (k, &n) in self.dims().iter().enumerate() {
            if k != axis {
                d[j] = n;
                j += 1;
            }
        }
        Shape {
            dims: d,
            ndim: self.ndim - 1,
        }
    }

    /// The shape with `axis` set to `n`.
    #[inline]
    pub(crate) fn with_axis(&self, axis: usize, n: usize) -> Shape {
        debug_assert!(axis < self.ndim(), "with_axis: axis out of range");
        let mut s = *self;
        s.dims[axis] = n;
        s
    }

    /// NumPy broadcasting of two shapes: trailing dimensions are aligned and must be equal or 1.
    ///
    /// # Errors
    /// [`AdError::ShapeMismatch`] naming both shapes when they do not broadcast;
    /// [`AdError::TooManyElements`] when the broadcast shape has too many elements (as
    /// `[2⁴⁰, 1]` with `[1, 2⁴⁰]`).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Shape;
    /// let a = Shape::new(&[4, 1, 3])?;
    /// let b = Shape::new(&[5, 1])?;
    /// assert_eq!(a.broadcast(&b)?.dims(), &[4, 5, 3]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn broadcast(&self, other: &Shape) -> Result<Shape, AdError> {
        // fast paths: a scalar on either side, or equal shapes
        if other.ndim == 0 {
            return Ok(*self);
        }
        if self.ndim == 0 || self == other {
            return Ok(*other);
        }
        self.broadcast_general(other)
    }

    #[inline(never)]
    fn broadcast_general(&self, other: &Shape) -> Result<Shape, AdError> {
        let n = self.ndim().max(other.ndim());
        let mut d = [0; MAX_NDIM];
        for k in 0..n {
            let a = if k < self.ndim() {
                self.dims[self.ndim() - 1 - k]
            } else {
                1
            };
            let b = if k < other.ndim() {
                other.dims[other.ndim() - 1 - k]
            } else {
                1
            };
            d[n - 1 - k] = if a == b || b == 1 {
                a
            } else if a == 1 {
                b
            } else {
                return Err(AdError::mismatch("broadcast", *self, *other));
            };
        }
        check_extent(&d[..n])?;
        Ok(Shape {
            dims: d,
            ndim: n as u8,
        })
    }
}

/// Checks the shape invariant: the product of the non-zero dimensions is at most
/// `isize::MAX` (checked multiplication, so it cannot wrap).
#[inline]
fn check_extent(dims: &[usize]) -> Result<(), AdError> {
    let mut acc: usize = 1;
    for &d in dims {
        match acc.checked_mul(d.max(1)) {
            Some(p) if p <= isize::MAX as usize => acc = p,
            _ => return Err(too_many_elements(dims)),
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn too_many_elements(dims: &[usize]) -> AdError {
    AdError::TooManyElements {
        dims: dims.to_vec(),
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (k, d) in self.dims().iter().enumerate() {
            if k > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// For each element of `out` (row-major), the flat index of the element of `src` that
/// broadcasts onto it. `src` must broadcast to `out`.
pub(crate) fn broadcast_indices(src: &Shape, out: &Shape, start: u32, idx: &mut Vec<u32>) {
    let n = out.numel();
    let nd = out.ndim();
    let off = nd - src.ndim();
    let ss = src.strides();
    // effective stride of src along each output axis (0 where broadcast)
    let mut eff = [0usize; MAX_NDIM];
    for k in 0..nd {
        if k >= off && src.dims()[k - off] != 1 {
            eff[k] = ss[k - off];
        }
    }
    let mut counter = [0usize; MAX_NDIM];
    let mut pos = 0usize;
    for _ in 0..n {
        idx.push(start + pos as u32);
        // increment the multi-index
        let mut k = nd;
        while k > 0 {
            k -= 1;
            counter[k] += 1;
            pos += eff[k];
            if counter[k] < out.dims()[k] {
                break;
            }
            pos -= eff[k] * counter[k];
            counter[k] = 0;
        }
    }
}
