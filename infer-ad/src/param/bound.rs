//! [`Bound`]: a store's parameters bound to one tape.

use super::ParamId;
#[cfg(doc)]
use super::ParamStore;
use crate::tensor::Tensor;

/// The parameters of a [`ParamStore`] bound to one tape as tracked leaves; index it with a
/// [`ParamId`].
///
/// Indexing gives a parameter's value on its declared scale: the leaf itself for a parameter
/// added with [`ParamStore::add`], the constrained value computed from the (unconstrained)
/// leaf for one added with [`ParamStore::add_constrained`]. [`Bound::leaves`] and the
/// gradients are always the leaves'.
#[derive(Debug, Clone)]
pub struct Bound<'t> {
    /// The identity of the store that made it.
    pub(super) store: u64,
    pub(super) leaves: Vec<Tensor<'t>>,
    /// The constrained values, one per parameter; empty when the store declares no
    /// constraint (then the leaves are the values, and binding allocates nothing more).
    pub(super) views: Vec<Tensor<'t>>,
}

impl<'t> Bound<'t> {
    /// A parameter's value on its declared scale (the same as indexing).
    ///
    /// # Panics
    /// If `id` is not from the store that made this binding.
    pub fn get(&self, id: ParamId) -> Tensor<'t> {
        self[id]
    }

    /// A parameter's tracked leaf: its unconstrained value (for a parameter without a
    /// constraint, its value).
    ///
    /// # Panics
    /// If `id` is not from the store that made this binding.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamConstraint, ParamStore, Tape};
    /// let mut s = ParamStore::new();
    /// let sd = s.add_constrained("sd", ndarray::arr0(1.0), ParamConstraint::positive_exp())?;
    /// let tape = Tape::new();
    /// let b = s.bind(&tape);
    /// assert_eq!(b.leaf(sd).to_vec(), vec![0.0]); // ln 1
    /// assert_eq!(b[sd].to_vec(), vec![1.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn leaf(&self, id: ParamId) -> Tensor<'t> {
        self.leaves[id.0]
    }

    /// The gradients of the last backward pass for all leaves, concatenated in store order,
    /// written into `out` without allocating.
    ///
    /// # Panics
    /// If `out.len()` differs from the total number of elements.
    pub fn grad_into_flat(&self, out: &mut [f64]) {
        let total: usize = self.leaves.iter().map(Tensor::numel).sum();
        assert_eq!(out.len(), total, "grad_into_flat: wrong output length");
        let mut at = 0;
        for leaf in &self.leaves {
            let n = leaf.numel();
            leaf.grad_into(&mut out[at..at + n]);
            at += n;
        }
    }

    /// All leaves (the unconstrained values), in the store's order.
    pub fn leaves(&self) -> &[Tensor<'t>] {
        &self.leaves
    }
}

impl<'t> std::ops::Index<ParamId> for Bound<'t> {
    type Output = Tensor<'t>;
    fn index(&self, id: ParamId) -> &Tensor<'t> {
        if self.views.is_empty() {
            &self.leaves[id.0]
        } else {
            &self.views[id.0]
        }
    }
}
