//! A data product whose values are computed only when something reads them.
//!
//! [`crate::Tape::data_matvec`] records its node at once but leaves its m values (and those of
//! one following `+ scalar`) to be computed later, by [`Inner::flush_deferred`]. A likelihood
//! that recognizes the affine product ([`crate::Tape::data_affine_source`]) and evaluates
//! `X·β + α` inside its own fused pass (the GLM fast path of `infer_dist::Bernoulli`) then
//! never pays for the product a second time — the plain spelling of a logistic regression
//! costs what the fused GLM node costs.
//!
//! **When the values are computed.** Every access to the recording goes through
//! [`crate::Tape::inner_mut`], which computes deferred values first, except the accesses
//! that provably do not read them: recording a leaf, a scalar operation on [`crate::Var`]s
//! (which carry their own values), `+ scalar` on the deferred product itself, a
//! [`crate::Tape::scalar_with_gradients`] node, an elementwise operation, a sum or a fused sum
//! or map whose operands do not overlap the deferred slots, reading values outside them, reading gradients, and the
//! backward pass (no node recorded while values were deferred reads them in its backward
//! step: the product's and the addition's backward steps read only adjoints and the data).
//! The values computed then are the ones an eager evaluation computes, bit for bit (the same
//! kernel on the same inputs: tape values never change once recorded).

use super::recording::Inner;
use crate::kernels::matvec_rows;

/// The deferred values: the product `data[d] · x` into slots `out .. out + m`, and optionally
/// `product + sign · vals[s]` into slots `sum .. sum + m` (the `+ scalar` recorded on it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Deferred {
    /// First output slot of the product.
    pub(crate) out: u32,
    /// Number of rows (outputs).
    pub(crate) m: u32,
    /// Index of the data matrix in the tape's data list.
    pub(crate) d: u32,
    /// First slot of the vector the data multiplies.
    pub(crate) x: u32,
    /// The scalar offset recorded on the product, if any.
    pub(crate) offset: Option<Offset>,
}

/// `product + sign · vals[s]` into slots `sum .. sum + m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Offset {
    /// First output slot of the sum.
    pub(crate) sum: u32,
    /// The scalar's slot.
    pub(crate) s: u32,
    /// +1 for `product + s`, −1 for `product − s`.
    pub(crate) sign: f64,
    /// Whether the scalar is tracked (its adjoint is wanted).
    pub(crate) tracked: bool,
}

impl Deferred {
    /// Whether slots `start .. start + len` overlap the deferred values.
    #[inline]
    pub(crate) fn overlaps(&self, start: u32, len: usize) -> bool {
        let hit = |lo: u32| {
            let (lo, hi) = (lo as usize, lo as usize + self.m as usize);
            (start as usize) < hi && lo < start as usize + len
        };
        hit(self.out) || self.offset.is_some_and(|o| hit(o.sum))
    }
}

impl Inner {
    /// Computes the deferred values, if any (see the module documentation): the same
    /// operations as the eager product (`matvec_rows`) and the eager `+ scalar`
    /// (`x + sign · s`, the sign applied to the scalar first).
    #[cold]
    #[inline(never)]
    pub(crate) fn flush_deferred(&mut self) {
        let Some(p) = self.deferred.take() else {
            return;
        };
        let (o, m) = (p.out as usize, p.m as usize);
        let data = std::sync::Arc::clone(&self.data[p.d as usize]);
        let k = data.ncols();
        let slice = data
            .as_slice()
            .expect("data matrices are stored in standard layout");
        let xs = p.x as usize;
        let (inp, outp) = self.vals.split_at_mut(o);
        matvec_rows(slice, &inp[xs..xs + k], &mut outp[..m]);
        if let Some(Offset { sum, s, sign, .. }) = p.offset {
            let (lo, hi) = self.vals.split_at_mut(sum as usize);
            let y = sign * lo[s as usize];
            for (d, &x) in hi[..m].iter_mut().zip(&lo[o..o + m]) {
                *d = x + y;
            }
        }
    }
}
