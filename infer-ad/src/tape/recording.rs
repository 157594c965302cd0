//! The recording: the value, record, node, partial and index buffers of a tape ([`Inner`]),
//! and how an operation appends to them — [`Inner::reserve`] first (the fallible growth and
//! the slot limit), then [`Inner::push1`] / [`Inner::push2`] for a scalar operation or
//! [`Inner::push_node`] for a tensor node.

use super::node::{MARK, Node, Rec, unpack};
use ndarray::Array2;
use std::sync::Arc;

/// Appends `x` to `v` without a reallocation path: panics if `v` has no spare capacity (the
/// callers check first). `Vec::push` carries a call to its growth routine, and a call on the
/// recording hot path makes the register allocator spill the operation's value to the stack,
/// which costs a chain of scalar operations a store–load round trip each (measured: ~30% of
/// the per-operation time). This is `Vec::push_within_capacity`, which is not yet stable.
#[allow(unsafe_code)]
#[inline(always)]
fn push_within_capacity<T>(v: &mut Vec<T>, x: T) {
    let len = v.len();
    // Bounds-checked: a full vector panics here (a call that does not return, so nothing is
    // spilled for it).
    v.spare_capacity_mut()[0].write(x);
    // SAFETY: the element at index `len` was initialized on the line above, and it lies within
    // the capacity (`spare_capacity_mut` is exactly `capacity - len` long and was non-empty).
    unsafe { v.set_len(len + 1) };
}

pub(crate) struct Inner {
    pub(crate) vals: Vec<f64>,
    pub(crate) recs: Vec<Rec>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) f: Vec<f64>,
    pub(crate) u: Vec<u32>,
    pub(crate) data: Vec<Arc<Array2<f64>>>,
    /// Adjoints. Its length only grows: a backward pass leaves stale entries from earlier
    /// passes alone until it needs them (see [`Inner::backward`]); `adj_valid` says how many
    /// entries belong to the current recording's last backward pass.
    pub(crate) adj: Vec<f64>,
    pub(crate) adj_valid: usize,
    /// One bit per block of [`BLK`](super::lazy::BLK) adjoints: set once the block holds adjoints of the
    /// current backward pass.
    pub(crate) live: Vec<u64>,
    pub(crate) scratch: Vec<f64>,
    /// At most this many value slots ([`crate::Tape::set_max_slots`]); at most `u32::MAX`, the
    /// slots' index space.
    pub(crate) max_slots: usize,
    /// Values recorded but not yet computed (see the `deferred` module).
    pub(crate) deferred: Option<super::deferred::Deferred>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            vals: Vec::new(),
            recs: Vec::new(),
            nodes: Vec::new(),
            f: Vec::new(),
            u: Vec::new(),
            data: Vec::new(),
            adj: Vec::new(),
            adj_valid: 0,
            live: Vec::new(),
            scratch: Vec::new(),
            max_slots: MAX_SLOTS,
            deferred: None,
        }
    }
}

/// The most value slots a tape can index (`u32` slot indices; [`MARK`] is not a slot).
pub(super) const MAX_SLOTS: usize = u32::MAX as usize;

/// Fallible growth of one buffer by `extra` elements: amortized (doubling) first, and if that
/// larger allocation is refused, exactly what is needed.
#[inline(never)]
pub(super) fn try_grow<T>(
    v: &mut Vec<T>,
    extra: usize,
) -> Result<(), std::collections::TryReserveError> {
    if v.capacity() - v.len() >= extra {
        return Ok(());
    }
    v.try_reserve(extra).or_else(|_| v.try_reserve_exact(extra))
}

impl Inner {
    /// Slot index of the next value pushed.
    #[inline]
    pub(crate) fn next_slot(&self) -> u32 {
        debug_assert!(self.vals.len() < u32::MAX as usize, "tape slot overflow");
        self.vals.len() as u32
    }

    /// Pushes the value of a new leaf (no node); its slot.
    #[inline]
    pub(crate) fn push_leaf(&mut self, x: f64) -> u32 {
        let slot = self.next_slot();
        self.vals.push(x);
        slot
    }

    /// Makes room for an operation `op` that appends `n` values (of shape `dims`), `nf`
    /// partials and `nu` indices: checks `n` against the tape's slot limit (at most
    /// `u32::MAX`, the slots' index space; see [`crate::Tape::set_max_slots`]), then reserves the
    /// three buffers fallibly, so that the operation's pushes never reallocate and a
    /// huge-but-legal output is a typed error rather than an abort in the allocator. The
    /// reservation also grows the adjoint vector's capacity to cover the new slots, so that
    /// the backward pass does not grow it (see [`Inner::backward`]). The common case — room
    /// enough — is one comparison per buffer.
    ///
    /// # Errors
    /// [`crate::AdError::TooManyElements`] naming `dims` when the slot limit would be
    /// exceeded; [`crate::AdError::OutOfMemory`] naming `op` and the element count when an
    /// allocation is refused (nothing is recorded either way).
    #[inline]
    pub(crate) fn reserve(
        &mut self,
        op: &'static str,
        n: usize,
        nf: usize,
        nu: usize,
        dims: &[usize],
    ) -> Result<(), crate::AdError> {
        if n > self.max_slots.saturating_sub(self.vals.len()) {
            return Err(crate::AdError::TooManyElements {
                dims: dims.to_vec(),
            });
        }
        if self.vals.capacity() - self.vals.len() >= n
            && self.f.capacity() - self.f.len() >= nf
            && self.u.capacity() - self.u.len() >= nu
            && self.adj.capacity() >= self.vals.len() + n
        {
            return Ok(());
        }
        self.reserve_cold(op, n, nf, nu)
    }

    #[cold]
    #[inline(never)]
    fn reserve_cold(
        &mut self,
        op: &'static str,
        n: usize,
        nf: usize,
        nu: usize,
    ) -> Result<(), crate::AdError> {
        let oom = |elements| crate::AdError::OutOfMemory { op, elements };
        try_grow(&mut self.vals, n).map_err(|_| oom(n))?;
        try_grow(&mut self.f, nf).map_err(|_| oom(nf))?;
        try_grow(&mut self.u, nu).map_err(|_| oom(nu))?;
        // the adjoints of every slot so far and of the new ones
        let want = self.vals.len() + n;
        if self.adj.capacity() < want {
            let len = self.adj.len();
            try_grow(&mut self.adj, want - len).map_err(|_| oom(want))?;
        }
        Ok(())
    }

    /// Records a one-input scalar operation; returns the output slot and the value.
    ///
    /// The hot path is a single capacity check followed by two pushes that cannot
    /// reallocate; growing is a separate cold call that takes the value and hands it back, so
    /// the value is never live across a call on the hot path (otherwise the register
    /// allocator spills it to the stack, and a chain of operations pays a store–load round
    /// trip per operation).
    #[inline(always)]
    pub(crate) fn push1(&mut self, v: f64, a: u32, da: f64) -> (u32, f64) {
        if self.vals.len() < self.vals.capacity() && self.recs.len() < self.recs.capacity() {
            let Inner { vals, recs, .. } = self;
            let out = vals.len() as u32;
            push_within_capacity(vals, v);
            push_within_capacity(recs, Rec::new(out, a, da));
            (out, v)
        } else {
            self.push1_cold(v, a, da)
        }
    }

    #[cold]
    #[inline(never)]
    fn push1_cold(&mut self, v: f64, a: u32, da: f64) -> (u32, f64) {
        let out = self.next_slot();
        self.vals.push(v);
        self.push_rec(out, a, da);
        (out, v)
    }

    /// Records a two-input scalar operation (two records with the same output); see
    /// [`Inner::push1`].
    #[inline(always)]
    pub(crate) fn push2(&mut self, v: f64, a: u32, b: u32, da: f64, db: f64) -> (u32, f64) {
        if self.vals.len() < self.vals.capacity() && self.recs.capacity() - self.recs.len() >= 2 {
            let Inner { vals, recs, .. } = self;
            let out = vals.len() as u32;
            push_within_capacity(vals, v);
            push_within_capacity(recs, Rec::new(out, a, da));
            push_within_capacity(recs, Rec::new(out, b, db));
            (out, v)
        } else {
            self.push2_cold(v, a, b, da, db)
        }
    }

    #[cold]
    #[inline(never)]
    fn push2_cold(&mut self, v: f64, a: u32, b: u32, da: f64, db: f64) -> (u32, f64) {
        let out = self.next_slot();
        self.vals.push(v);
        self.push_rec(out, a, da);
        self.push_rec(out, b, db);
        (out, v)
    }

    /// Records the scalar edge `adj[a] += adj[out] · d` (off the hot path: tensor operations
    /// that end in a scalar use it).
    #[inline]
    pub(crate) fn push_rec(&mut self, out: u32, a: u32, d: f64) {
        debug_assert!(out != MARK);
        self.recs.push(Rec::new(out, a, d));
    }

    /// Records a tensor node: the node goes to the side vector, a marker into the stream.
    #[inline]
    pub(crate) fn push_node(&mut self, node: Node) {
        let k = u32::try_from(self.nodes.len()).expect("infer-ad: more than 2^32 tensor nodes");
        self.nodes.push(node);
        self.recs.push(Rec::new(MARK, k, 0.0));
    }

    /// Records a reduction node `adj[a + i] += adj[out] · dᵢ` (i < `n`): the partials
    /// dᵢ = `d(vals, i)`, `vals` the values recorded so far, go to the partial buffer in order,
    /// then the node.
    #[inline]
    pub(crate) fn push_red(
        &mut self,
        out: u32,
        a: u32,
        n: usize,
        d: impl Fn(&[f64], usize) -> f64,
    ) {
        let p = self.f.len();
        self.f.reserve(n);
        for i in 0..n {
            let di = d(&self.vals, i);
            self.f.push(di);
        }
        self.push_node(Node::Red {
            out,
            a,
            n: n as u32,
            p: p as u32,
        });
    }

    /// The output slot of a record (of the node it marks, for a marker).
    #[inline]
    pub(super) fn rec_out(&self, r: &Rec) -> u32 {
        let (out, a) = unpack(r.oa);
        if out == MARK {
            self.nodes[a as usize].out()
        } else {
            out
        }
    }
}
