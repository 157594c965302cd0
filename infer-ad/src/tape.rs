//! The tape: a flat, index-based Wengert list with one adjoint vector.
//!
//! Every scalar value recorded on the tape owns one *slot* (an index into `vals`). An operation
//! pushes its output slot(s) and describes how the output's adjoint flows back to its inputs.
//! Scalar edges — `adj[a] += adj[out] · d` — are 16-byte [`Rec`]ords in one stream (`recs`); a
//! one-input scalar operation writes one record, a two-input one two records with the same
//! `out`. Everything else (tensor operations) is a [`Node`] in a side vector, with a *marker*
//! record in the stream at the point where it was recorded, so the stream keeps the recording
//! order. Partial derivatives of tensor nodes are computed in the forward pass and kept in a flat
//! arena (`f`), index lists in another (`u`). Several records may share an output. The backward
//! pass walks the stream once in reverse. Nothing is boxed and no per-node allocation happens;
//! [`Tape::clear`] truncates every buffer and keeps its capacity.
//!
//! Why two streams: a chain of scalar operations is bound by the bytes it writes per operation.
//! With one 32-byte enum for every node a scalar operation wrote 40 bytes (value and node); with
//! 16-byte records it writes 24 (one input) or 40 (two inputs).
//!
//! The backward pass initializes the adjoints lazily, one block of 64 at a time (`Lazy`): no
//! zero-fill pass over the whole adjoint vector, and a reduction over a range that nothing else
//! reached (a data leaf's log density) writes its adjoints instead of adding to zeros.

use crate::linalg;
use crate::var::Var;
use ndarray::Array2;
use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;

/// One group of backward edges. `out`, `a`, `b`, `l` are slot indices; `p` an offset into the
/// partials arena, `idx` an offset into the index arena.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    /// Elementwise: `adj[a + i*s] += adj[out + i] * f[p + i]` for `i < n` (`s` is 0 or 1).
    Elem {
        out: u32,
        a: u32,
        n: u32,
        p: u32,
        s: u32,
    },
    /// Linear elementwise: `adj[a + i*s] += c * adj[out + i]`.
    Lin {
        out: u32,
        a: u32,
        n: u32,
        s: u32,
        c: f64,
    },
    /// Reduction to one slot: `adj[a + i] += adj[out] * f[p + i]`.
    Red { out: u32, a: u32, n: u32, p: u32 },
    /// Scaled sum to one slot: `adj[a + i] += c * adj[out]`.
    Sum { out: u32, a: u32, n: u32, c: f64 },
    /// Sum of squared deviations `Σ (x[a + i] − mv)²` of a tracked range from a centre slot
    /// `m` with value `mv` (nothing stored per element): `adj[a + i] += 2 g (x − mv)` and
    /// `adj[m] −= 2 g Σ (x − mv)`, in one pass.
    SqDev {
        out: u32,
        a: u32,
        n: u32,
        m: u32,
        mv: f64,
    },
    /// Gather: `adj[u[idx + i]] += adj[out + i]`.
    Gather { out: u32, n: u32, idx: u32 },
    /// Grouped reduction: `adj[a + k] += adj[out + u[idx + k]] * (f[p + k] or 1 if p == NONE)`.
    Group {
        out: u32,
        a: u32,
        n: u32,
        p: u32,
        idx: u32,
    },
    /// Cumulative sum along axis 0 of an `n × inner` range:
    /// `adj[a + k·inner + j] += Σ_{i ≥ k} adj[out + i·inner + j]`.
    CumSum {
        out: u32,
        a: u32,
        n: u32,
        inner: u32,
    },
    /// Inner product of two slot ranges of length n.
    Dot { out: u32, a: u32, b: u32, n: u32 },
    /// `out (m) = A (m×k, slots a) · x (k, slots x)`; `ta`/`tx` say which inputs are tracked.
    MatVec {
        out: u32,
        a: u32,
        x: u32,
        m: u32,
        k: u32,
        ta: bool,
        tx: bool,
    },
    /// `out (m) = D · x` with `D = data[d]` (m×k) a constant matrix held by reference.
    MatVecData { out: u32, d: u32, x: u32 },
    /// `out (m×n) = A (m×k) · B (k×n)`.
    MatMul {
        out: u32,
        a: u32,
        b: u32,
        m: u32,
        k: u32,
        n: u32,
        ta: bool,
        tb: bool,
    },
    /// `out (m×n) = D · B` with `D = data[d]` (m×k) constant.
    MatMulData { out: u32, d: u32, b: u32, n: u32 },
    /// Cholesky factor `out (n×n, lower) = chol(sym(A))` of the symmetric part of `a` (n×n).
    Cholesky { out: u32, a: u32, n: u32 },
    /// Triangular solve `out (n×m) = L⁻¹ B` (lower) or `U⁻¹ B` (upper).
    TriSolve {
        out: u32,
        l: u32,
        b: u32,
        n: u32,
        m: u32,
        lower: bool,
        tl: bool,
        tb: bool,
    },
}

/// One scalar backward edge, `adj[a] += adj[out] · d`, with `out` in the low and `a` in the high
/// half of `oa` (see [`pack`]). A record whose `out` is [`MARK`] stands for the tensor node
/// `nodes[a]` instead (then `d` is unused).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    oa: u64,
    d: f64,
}

impl Rec {
    #[inline(always)]
    fn new(out: u32, a: u32, d: f64) -> Self {
        Rec {
            oa: pack(out, a),
            d,
        }
    }
}

/// The `out` of a marker record. No value slot has this index: slots are counted in `u32` and
/// a tape would need 32 GiB of values to reach it.
const MARK: u32 = u32::MAX;

/// `out` in the low and `a` in the high half of one word (the operands of a [`Rec`]).
#[inline(always)]
pub(crate) fn pack(out: u32, a: u32) -> u64 {
    u64::from(out) | (u64::from(a) << 32)
}

/// The inverse of [`pack`].
#[inline(always)]
fn unpack(oa: u64) -> (u32, u32) {
    (oa as u32, (oa >> 32) as u32)
}

/// Marker for "no partials: use 1".
pub(crate) const NONE: u32 = u32::MAX;

impl Node {
    /// First output slot (nodes are recorded in non-decreasing order of this).
    #[inline]
    pub(crate) fn out(&self) -> u32 {
        match *self {
            Node::Elem { out, .. }
            | Node::Lin { out, .. }
            | Node::Red { out, .. }
            | Node::Sum { out, .. }
            | Node::SqDev { out, .. }
            | Node::Gather { out, .. }
            | Node::Group { out, .. }
            | Node::CumSum { out, .. }
            | Node::Dot { out, .. }
            | Node::MatVec { out, .. }
            | Node::MatVecData { out, .. }
            | Node::MatMul { out, .. }
            | Node::MatMulData { out, .. }
            | Node::Cholesky { out, .. }
            | Node::TriSolve { out, .. } => out,
        }
    }
}

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
    /// One bit per block of [`BLK`] adjoints: set once the block holds adjoints of the
    /// current backward pass.
    pub(crate) live: Vec<u64>,
    pub(crate) scratch: Vec<f64>,
    /// At most this many value slots ([`Tape::set_max_slots`]); at most `u32::MAX`, the
    /// slots' index space.
    pub(crate) max_slots: usize,
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
        }
    }
}

/// The most value slots a tape can index (`u32` slot indices; [`MARK`] is not a slot).
const MAX_SLOTS: usize = u32::MAX as usize;

/// Fallible growth of one buffer by `extra` elements: amortized (doubling) first, and if that
/// larger allocation is refused, exactly what is needed.
#[inline(never)]
fn try_grow<T>(v: &mut Vec<T>, extra: usize) -> Result<(), std::collections::TryReserveError> {
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

    /// Makes room for an operation `op` that appends `n` values (of shape `dims`), `nf`
    /// partials and `nu` indices: checks `n` against the tape's slot limit (at most
    /// `u32::MAX`, the slots' index space; see [`Tape::set_max_slots`]), then reserves the
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

    /// The output slot of a record (of the node it marks, for a marker).
    #[inline]
    fn rec_out(&self, r: &Rec) -> u32 {
        let (out, a) = unpack(r.oa);
        if out == MARK {
            self.nodes[a as usize].out()
        } else {
            out
        }
    }

    /// The backward pass from `root`.
    ///
    /// The adjoint vector (one `f64` per slot) and the block bits are the only buffers this
    /// grows. Operations whose output size comes from shapes reserve the adjoints' capacity
    /// when they record (see [`Inner::reserve`]), so that growth here is a resize within
    /// capacity; any remaining growth (slots recorded by scalar operations) is reserved
    /// fallibly before anything is written.
    ///
    /// # Errors
    /// [`crate::AdError::OutOfMemory`] (operation `"backward"`, the number of slots) when the
    /// adjoints cannot be allocated; no gradient is changed then.
    fn backward(&mut self, root: u32) -> Result<(), crate::AdError> {
        let len = self.vals.len();
        if self.adj.len() < len {
            let extra = len - self.adj.len();
            try_grow(&mut self.adj, extra).map_err(|_| crate::AdError::OutOfMemory {
                op: "backward",
                elements: len,
            })?;
        }
        let words = len.div_ceil(BLK).div_ceil(64);
        if len > EAGER && self.live.len() < words {
            let extra = words - self.live.len();
            try_grow(&mut self.live, extra).map_err(|_| crate::AdError::OutOfMemory {
                op: "backward",
                elements: len,
            })?;
        }
        let end = self.recs.partition_point(|r| self.rec_out(r) <= root);
        let Inner {
            vals,
            recs,
            nodes,
            f,
            u,
            data,
            adj,
            adj_valid,
            live,
            scratch,
            max_slots: _,
        } = self;
        // Adjoints are initialized lazily, a block of BLK at a time: a block no contribution
        // reaches is never zeroed before the end of the pass, and a block that a node covers
        // entirely on its first contribution (a data leaf under a reduction) is *written* by
        // that node instead of being zero-filled and then added to — which saves a pass over
        // the largest ranges. A block whose bit is clear holds stale values and stands for
        // zeros.
        let len = vals.len();
        if adj.len() < len {
            // within the capacity reserved above
            adj.resize(len, 0.0);
        }
        let adj = &mut adj[..len];
        let root = root as usize;
        let recs = &recs[..end];
        let parts = Parts {
            vals,
            nodes,
            f,
            u,
            data,
            scratch,
        };
        if len <= EAGER {
            // A small tape: one zero-fill is cheaper than the bookkeeping.
            adj.fill(0.0);
            sweep(Lazy::<false> { adj, live, top: 0 }, root, recs, parts);
        } else {
            live.clear();
            // within the capacity reserved above
            live.resize(words, 0);
            sweep(
                Lazy::<true> {
                    adj,
                    live,
                    top: len,
                },
                root,
                recs,
                parts,
            );
        }
        *adj_valid = len;
        Ok(())
    }

    /// The adjoints of the last backward pass (empty before the first one after a clear).
    #[inline]
    pub(crate) fn grads(&self) -> &[f64] {
        &self.adj[..self.adj_valid]
    }
}

/// The parts of a recording the backward sweep reads.
struct Parts<'a> {
    vals: &'a [f64],
    nodes: &'a [Node],
    f: &'a [f64],
    u: &'a [u32],
    data: &'a [Arc<Array2<f64>>],
    scratch: &'a mut Vec<f64>,
}

/// The backward sweep of [`Inner::backward`] over `recs` (newest first) from `root`; `LAZY`
/// says whether the adjoints are initialized lazily (see [`Lazy`]) or were zero-filled.
fn sweep<const LAZY: bool>(mut lz: Lazy<'_, LAZY>, root: usize, recs: &[Rec], parts: Parts<'_>) {
    let Parts {
        vals,
        nodes,
        f,
        u,
        data,
        scratch,
    } = parts;
    lz.touch(root);
    lz.adj[root] = 1.0;
    for r in recs.iter().rev() {
        let (out, a) = unpack(r.oa);
        if out != MARK {
            let out = out as usize;
            if !lz.is_live(out) {
                continue;
            }
            let g = lz.adj[out];
            if g != 0.0 {
                let a = a as usize;
                lz.touch(a);
                lz.adj[a] += g * r.d;
            }
            continue;
        }
        let node = nodes[a as usize];
        match node {
            // a linear node no adjoint reached contributes nothing (all its output adjoints
            // are zero): skipped without touching its ranges — the product and offset behind
            // a likelihood that took its gradient directly (`Tape::data_affine_source`)
            Node::MatVecData { out, d, .. }
                if !lz.any_live(out as usize, data[d as usize].nrows()) =>
            {
                continue;
            }
            Node::Lin { out, n, c, .. }
                if c.is_finite() && !lz.any_live(out as usize, n as usize) =>
            {
                continue;
            }
            Node::Red { out, .. }
            | Node::Sum { out, .. }
            | Node::SqDev { out, .. }
            | Node::Dot { out, .. }
                if !lz.is_live(out as usize) =>
            {
                continue;
            }
            Node::Red { .. }
            | Node::Sum { .. }
            | Node::SqDev { .. }
            | Node::Dot { .. }
            | Node::Gather { .. } => {}
            _ => node.touch_all(&mut lz, u, data),
        }
        let adj = &mut *lz.adj;
        match node {
            Node::Elem { out, a, n, p, s } => {
                let (out, a, n, p) = (out as usize, a as usize, n as usize, p as usize);
                if s == 1 {
                    for i in 0..n {
                        let g = adj[out + i];
                        if g != 0.0 {
                            adj[a + i] += g * f[p + i];
                        }
                    }
                } else {
                    let mut acc = 0.0;
                    for i in 0..n {
                        let g = adj[out + i];
                        if g != 0.0 {
                            acc += g * f[p + i];
                        }
                    }
                    adj[a] += acc;
                }
            }
            Node::Lin { out, a, n, s, c } => {
                let (out, a, n) = (out as usize, a as usize, n as usize);
                if s == 1 {
                    for i in 0..n {
                        adj[a + i] += c * adj[out + i];
                    }
                } else {
                    let acc: f64 = adj[out..out + n].iter().sum();
                    adj[a] += c * acc;
                }
            }
            Node::Red { out, a, n, p } => {
                let g = lz.adj[out as usize];
                if g != 0.0 {
                    let (a, n, p) = (a as usize, n as usize, p as usize);
                    lz.claim(a, n, |adj, lo, hi, fresh| {
                        let d = &f[p + lo - a..p + hi - a];
                        if fresh {
                            for (x, d) in adj[lo..hi].iter_mut().zip(d) {
                                *x = g * d;
                            }
                        } else {
                            for (x, d) in adj[lo..hi].iter_mut().zip(d) {
                                *x += g * d;
                            }
                        }
                    });
                }
            }
            Node::Sum { out, a, n, c } => {
                let g = lz.adj[out as usize] * c;
                if g != 0.0 {
                    lz.claim(a as usize, n as usize, |adj, lo, hi, fresh| {
                        if fresh {
                            adj[lo..hi].fill(g);
                        } else {
                            for x in &mut adj[lo..hi] {
                                *x += g;
                            }
                        }
                    });
                }
            }
            Node::SqDev { out, a, n, m, mv } => {
                let g = lz.adj[out as usize];
                if g != 0.0 {
                    let g2 = 2.0 * g;
                    let mut s1 = 0.0;
                    lz.claim(a as usize, n as usize, |adj, lo, hi, fresh| {
                        s1 += if fresh {
                            crate::reduce::sq_dev_backward::<true>(
                                &mut adj[lo..hi],
                                &vals[lo..hi],
                                mv,
                                g2,
                            )
                        } else {
                            crate::reduce::sq_dev_backward::<false>(
                                &mut adj[lo..hi],
                                &vals[lo..hi],
                                mv,
                                g2,
                            )
                        };
                    });
                    let m = m as usize;
                    lz.touch(m);
                    lz.adj[m] -= g2 * s1;
                }
            }
            Node::Dot { out, a, b, n } => {
                let g = lz.adj[out as usize];
                if g != 0.0 {
                    let (a, b, n) = (a as usize, b as usize, n as usize);
                    lz.touch_range(a, n);
                    lz.touch_range(b, n);
                    for i in 0..n {
                        lz.adj[a + i] += g * vals[b + i];
                        lz.adj[b + i] += g * vals[a + i];
                    }
                }
            }
            Node::Gather { out, n, idx } => {
                let (out, n, idx) = (out as usize, n as usize, idx as usize);
                lz.touch_range(out, n);
                for i in 0..n {
                    let t = u[idx + i] as usize;
                    lz.touch(t);
                    let g = lz.adj[out + i];
                    lz.adj[t] += g;
                }
            }
            Node::Group { out, a, n, p, idx } => {
                let (out, a, n, idx) = (out as usize, a as usize, n as usize, idx as usize);
                if p == NONE {
                    for k in 0..n {
                        adj[a + k] += adj[out + u[idx + k] as usize];
                    }
                } else {
                    let p = p as usize;
                    for k in 0..n {
                        adj[a + k] += adj[out + u[idx + k] as usize] * f[p + k];
                    }
                }
            }
            Node::CumSum { out, a, n, inner } => crate::cumsum::cumsum_backward(
                adj,
                scratch,
                out as usize,
                a as usize,
                n as usize,
                inner as usize,
            ),
            Node::MatVec {
                out,
                a,
                x,
                m,
                k,
                ta,
                tx,
            } => linalg::matvec_backward(
                vals,
                adj,
                [out, a, x].map(|v| v as usize),
                m as usize,
                k as usize,
                ta,
                tx,
            ),
            Node::MatVecData { out, d, x } => {
                let mat = &data[d as usize];
                linalg::matvec_data_backward(mat, adj, out as usize, x as usize);
            }
            Node::MatMul {
                out,
                a,
                b,
                m,
                k,
                n,
                ta,
                tb,
            } => linalg::matmul_backward(
                vals,
                adj,
                [out, a, b].map(|v| v as usize),
                [m, k, n].map(|v| v as usize),
                ta,
                tb,
            ),
            Node::MatMulData { out, d, b, n } => {
                let mat = &data[d as usize];
                linalg::matmul_data_backward(mat, adj, out as usize, b as usize, n as usize);
            }
            Node::Cholesky { out, a, n } => {
                let [out, a, n] = [out, a, n].map(|v| v as usize);
                linalg::cholesky_backward(vals, adj, scratch, out, a, n);
            }
            Node::TriSolve {
                out,
                l,
                b,
                n,
                m,
                lower,
                tl,
                tb,
            } => linalg::trisolve_backward(
                vals,
                adj,
                scratch,
                [out, l, b].map(|v| v as usize),
                n as usize,
                m as usize,
                lower,
                tl,
                tb,
            ),
        }
    }
    lz.finish();
}

/// Adjoints per block of the backward pass's lazy initialization (512 bytes).
const BLK: usize = 64;

/// Tapes with at most this many slots zero-fill their adjoints up front (16 kB).
const EAGER: usize = 2048;

/// The adjoint vector of one backward pass with its block bits (see [`Inner::backward`]).
struct Lazy<'a, const LAZY: bool> {
    adj: &'a mut [f64],
    live: &'a mut [u64],
    /// Every slot from `top` up holds an adjoint of this pass (the blocks above it are all
    /// live): the common case — a sweep descending through the tape — needs no bit test.
    top: usize,
}

impl<const LAZY: bool> Lazy<'_, LAZY> {
    #[inline(always)]
    fn block_live(&self, b: usize) -> bool {
        (self.live[b / 64] >> (b % 64)) & 1 != 0
    }

    #[inline(always)]
    fn set_live(&mut self, b: usize) {
        self.live[b / 64] |= 1 << (b % 64);
        while self.top > 0 && self.block_live((self.top - 1) / BLK) {
            self.top = (self.top - 1) / BLK * BLK;
        }
    }

    /// The slots of block `b` (the last block may be short).
    #[inline(always)]
    fn block_range(&self, b: usize) -> (usize, usize) {
        let lo = b * BLK;
        (lo, (lo + BLK).min(self.adj.len()))
    }

    /// Whether slot `s` holds an adjoint of this pass (otherwise its adjoint is zero).
    #[inline(always)]
    fn is_live(&self, s: usize) -> bool {
        !LAZY || s >= self.top || self.block_live(s / BLK)
    }

    /// Whether any slot of `[a, a + n)` may hold a non-zero adjoint: always when not lazy,
    /// else whether a live block holds a non-zero (or NaN) adjoint within the range.
    #[inline(always)]
    fn any_live(&self, a: usize, n: usize) -> bool {
        if !LAZY || a + n > self.top {
            return true;
        }
        n > 0
            && (a / BLK..=(a + n - 1) / BLK).any(|b| {
                let (lo, hi) = self.block_range(b);
                self.block_live(b) && self.adj[lo.max(a)..hi.min(a + n)].iter().any(|&v| v != 0.0)
            })
    }

    /// Makes slot `s` hold an adjoint (zeroing its block on first use).
    #[inline(always)]
    fn touch(&mut self, s: usize) {
        if LAZY && s < self.top && !self.block_live(s / BLK) {
            self.touch_block(s / BLK);
        }
    }

    #[cold]
    #[inline(never)]
    fn touch_block(&mut self, b: usize) {
        let (lo, hi) = self.block_range(b);
        self.adj[lo..hi].fill(0.0);
        self.set_live(b);
    }

    /// Makes every slot of `[a, a + n)` hold an adjoint.
    fn touch_range(&mut self, a: usize, n: usize) {
        if !LAZY || n == 0 || a >= self.top {
            return;
        }
        for b in a / BLK..=(a + n - 1) / BLK {
            if !self.block_live(b) {
                self.touch_block(b);
            }
        }
    }

    /// Prepares `[a, a + n)` for one contribution to every slot: calls `f(adj, lo, hi, fresh)`
    /// over consecutive runs covering the range in order, where a *fresh* run consists of
    /// whole blocks that held nothing yet (the caller must write every slot of it) and any
    /// other run holds adjoints (the caller adds to them).
    fn claim(&mut self, a: usize, n: usize, mut f: impl FnMut(&mut [f64], usize, usize, bool)) {
        let end = a + n;
        if !LAZY || a >= self.top {
            f(self.adj, a, end, false);
            return;
        }
        let (mut s, mut run_lo) = (a, a);
        let mut run: Option<bool> = None;
        while s < end {
            let b = s / BLK;
            let (lo, hi) = self.block_range(b);
            let seg_hi = hi.min(end);
            let fresh = !self.block_live(b) && s == lo && seg_hi == hi;
            if fresh {
                self.set_live(b);
            } else if !self.block_live(b) {
                self.touch_block(b);
            }
            if let Some(prev) = run
                && prev != fresh
            {
                f(self.adj, run_lo, s, prev);
                run_lo = s;
            }
            run = Some(fresh);
            s = seg_hi;
        }
        if let Some(prev) = run {
            f(self.adj, run_lo, end, prev);
        }
    }

    /// Zeroes every block no contribution reached, so that all adjoints can be read.
    fn finish(&mut self) {
        if !LAZY {
            return;
        }
        for b in 0..self.top.div_ceil(BLK) {
            if !self.block_live(b) {
                let (lo, hi) = self.block_range(b);
                self.adj[lo..hi].fill(0.0);
            }
        }
    }
}

impl Node {
    /// Makes the adjoints of every slot this node reads or writes in the backward pass hold
    /// adjoints of the current pass (the output range and every input range).
    fn touch_all<const LAZY: bool>(
        &self,
        lz: &mut Lazy<'_, LAZY>,
        u: &[u32],
        data: &[Arc<Array2<f64>>],
    ) {
        if !LAZY {
            return;
        }
        let us = |v: u32| v as usize;
        match *self {
            Node::Elem { out, a, n, s, .. } | Node::Lin { out, a, n, s, .. } => {
                lz.touch_range(us(out), us(n));
                lz.touch_range(us(a), if s == 1 { us(n) } else { 1 });
            }
            Node::Red { out, a, n, .. } | Node::Sum { out, a, n, .. } => {
                lz.touch(us(out));
                lz.touch_range(us(a), us(n));
            }
            Node::SqDev { out, a, n, m, .. } => {
                lz.touch(us(out));
                lz.touch_range(us(a), us(n));
                lz.touch(us(m));
            }
            Node::Gather { out, n, idx } => {
                lz.touch_range(us(out), us(n));
                for &t in &u[us(idx)..us(idx) + us(n)] {
                    lz.touch(us(t));
                }
            }
            Node::Group { out, a, n, idx, .. } => {
                let groups = u[us(idx)..us(idx) + us(n)]
                    .iter()
                    .max()
                    .map_or(0, |&g| us(g) + 1);
                lz.touch_range(us(out), groups);
                lz.touch_range(us(a), us(n));
            }
            Node::CumSum { out, a, n, inner } => {
                lz.touch_range(us(out), us(n) * us(inner));
                lz.touch_range(us(a), us(n) * us(inner));
            }
            Node::Dot { out, a, b, n } => {
                lz.touch(us(out));
                lz.touch_range(us(a), us(n));
                lz.touch_range(us(b), us(n));
            }
            Node::MatVec {
                out, a, x, m, k, ..
            } => {
                lz.touch_range(us(out), us(m));
                lz.touch_range(us(a), us(m) * us(k));
                lz.touch_range(us(x), us(k));
            }
            Node::MatVecData { out, d, x } => {
                let (m, k) = data[us(d)].dim();
                lz.touch_range(us(out), m);
                lz.touch_range(us(x), k);
            }
            Node::MatMul {
                out, a, b, m, k, n, ..
            } => {
                lz.touch_range(us(out), us(m) * us(n));
                lz.touch_range(us(a), us(m) * us(k));
                lz.touch_range(us(b), us(k) * us(n));
            }
            Node::MatMulData { out, d, b, n } => {
                let (m, k) = data[us(d)].dim();
                lz.touch_range(us(out), m * us(n));
                lz.touch_range(us(b), k * us(n));
            }
            Node::Cholesky { out, a, n } => {
                lz.touch_range(us(out), us(n) * us(n));
                lz.touch_range(us(a), us(n) * us(n));
            }
            Node::TriSolve {
                out, l, b, n, m, ..
            } => {
                lz.touch_range(us(out), us(n) * us(m));
                lz.touch_range(us(l), us(n) * us(n));
                lz.touch_range(us(b), us(n) * us(m));
            }
        }
    }
}

/// A reverse-mode autodiff tape.
///
/// Record a computation with [`Tape::var`] / [`Tape::tensor`] leaves and the operations on
/// [`Var`] and [`crate::Tensor`] handles, then call [`Tape::backward`] (or [`Var::backward`])
/// and read gradients with [`Var::grad`] / [`crate::Tensor::grad`]. One tape per thread (it is
/// `Send` but not `Sync`); no global state. [`Tape::clear`] empties it for the next evaluation
/// and keeps every buffer's capacity, so a steady-state gradient allocates nothing.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// let tape = Tape::new();
/// let x = tape.var(2.0);
/// let y = tape.var(3.0);
/// let z = x * y + x.sin();
/// z.backward();
/// assert_eq!(z.value(), 6.0 + 2.0f64.sin());
/// assert_eq!(x.grad(), 3.0 + 2.0f64.cos());
/// assert_eq!(y.grad(), 2.0);
/// ```
#[derive(Default)]
pub struct Tape {
    /// The recording. Accessed only through [`Tape::inner_mut`] (see the safety argument
    /// there); an `UnsafeCell` rather than a `RefCell` because the borrow flag's check, set
    /// and reset cost ~12% of a recorded scalar operation (measured: 5.1 → 4.5 ns).
    inner: UnsafeCell<Inner>,
    /// Debug builds check that no two [`InnerMut`] guards are ever alive at once.
    #[cfg(debug_assertions)]
    busy: std::cell::Cell<bool>,
}

/// Exclusive access to a tape's recording, from [`Tape::inner_mut`]. Crate-internal: it is
/// held only for the duration of one operation, never while user code runs.
pub(crate) struct InnerMut<'a> {
    inner: &'a mut Inner,
    #[cfg(debug_assertions)]
    busy: &'a std::cell::Cell<bool>,
}

impl std::ops::Deref for InnerMut<'_> {
    type Target = Inner;
    #[inline(always)]
    fn deref(&self) -> &Inner {
        self.inner
    }
}

impl std::ops::DerefMut for InnerMut<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Inner {
        self.inner
    }
}

#[cfg(debug_assertions)]
impl Drop for InnerMut<'_> {
    fn drop(&mut self) {
        self.busy.set(false);
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.inner_mut();
        f.debug_struct("Tape")
            .field("slots", &g.vals.len())
            .field("records", &g.recs.len())
            .field("nodes", &g.nodes.len())
            .field("partials", &g.f.len())
            .finish()
    }
}

/// Capacities of a tape's buffers, for checking that reuse does not reallocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapeCapacity {
    /// Value slots.
    pub slots: usize,
    /// Backward records (scalar edges and tensor-node markers).
    pub records: usize,
    /// Tensor nodes.
    pub nodes: usize,
    /// Partial-derivative arena.
    pub partials: usize,
    /// Index arena.
    pub indices: usize,
}

impl Tape {
    /// Exclusive access to the recording for the duration of one crate-internal operation.
    ///
    /// Soundness: `Tape` is `!Sync` (it holds an `UnsafeCell`), so only the owning thread can
    /// reach the cell, and within that thread at most one guard is alive at any time, because
    /// (1) every caller in this crate drops its guard before calling anything that takes
    /// another one (checked at run time in debug builds, where the test suite also runs), and
    /// (2) user code never runs while a guard is alive: operations that call a user closure
    /// move what the closure reads out of the cell first and drop their guard —
    /// `map_with_derivative` and `zip_with_derivative` the whole recording
    /// ([`Tape::with_detached`]), [`Tape::fused_sum`] and [`Tape::fused_map`] the value and
    /// partial buffers (`with_values_detached` in `fused.rs`) — so a closure that touches the
    /// tape meets an empty recording and not an aliased one.
    #[allow(unsafe_code)]
    #[inline(always)]
    pub(crate) fn inner_mut(&self) -> InnerMut<'_> {
        #[cfg(debug_assertions)]
        assert!(
            !self.busy.replace(true),
            "infer-ad internal error: tape recording accessed re-entrantly"
        );
        InnerMut {
            // SAFETY: see above — this is the only live reference into the cell.
            inner: unsafe { &mut *self.inner.get() },
            #[cfg(debug_assertions)]
            busy: &self.busy,
        }
    }

    /// Runs `f` on the recording moved out of the cell, so that `f` may call user code. If
    /// that user code records on this tape (which it must not: fused and mapped closures
    /// compute with the `f64` values they are given), the stray recording is discarded and
    /// this panics once the recording is back in place.
    ///
    /// # Panics
    /// If the tape was recorded on while `f` ran.
    pub(crate) fn with_detached<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut local = std::mem::take(&mut *self.inner_mut());
        let r = f(&mut local);
        let mut g = self.inner_mut();
        let intruded = !(g.vals.is_empty() && g.recs.is_empty() && g.f.is_empty());
        *g = local;
        drop(g);
        assert!(
            !intruded,
            "a closure passed to a fused or mapped operation recorded on its own tape; it must \
             only compute with the f64 values it is given"
        );
        r
    }

    /// An empty tape.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tape with room for `slots` scalar operations of two inputs (values and
    /// backward records) before it reallocates. The capacity is a hint: when it cannot be
    /// reserved (as for `usize::MAX`), the tape starts smaller and grows as it records.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::with_capacity(1000);
    /// assert!(tape.capacity().slots >= 1000);
    /// assert!(infer_ad::Tape::with_capacity(usize::MAX).is_empty());
    /// ```
    pub fn with_capacity(slots: usize) -> Self {
        let mut t = Tape::default();
        {
            let g = t.inner.get_mut();
            // A failed reservation leaves the vector as it was (empty): fine for a hint.
            let ok = g.vals.try_reserve(slots).is_ok()
                && g.recs.try_reserve(slots.saturating_mul(2)).is_ok()
                && g.adj.try_reserve(slots).is_ok();
            if !ok {
                *g = Inner::default();
            }
        }
        t
    }

    /// Limits the tape to `max` value slots (capped at `u32::MAX`, the default: the slots'
    /// index space). An operation whose output size is computed from its operands' shapes (a
    /// broadcast, a matrix product, a fused map, a gather, a concatenation), or a leaf made
    /// from a slice, that would take the tape past the limit returns
    /// [`crate::AdError::TooManyElements`] and records nothing.
    ///
    /// Every such operation also reserves its memory fallibly and returns
    /// [`crate::AdError::OutOfMemory`] when an allocation is refused. Under Linux's
    /// overcommit, however, a large reservation may succeed and fail only when its pages are
    /// written (then the kernel kills the process, which no allocation check can catch); a
    /// slot limit below the memory the process may use (8 bytes per value, up to 8 more per
    /// partial and index, and 8 per adjoint) bounds a tape that records untrusted shapes.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{AdError, Shape, Tape};
    /// let mut tape = Tape::new();
    /// tape.set_max_slots(1000);
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// assert!(x.broadcast_to(Shape::new(&[400, 2])?).is_ok());
    /// assert_eq!(
    ///     x.broadcast_to(Shape::new(&[1000, 2])?).unwrap_err(),
    ///     AdError::TooManyElements { dims: vec![1000, 2] }
    /// );
    /// # Ok::<(), AdError>(())
    /// ```
    pub fn set_max_slots(&mut self, max: usize) {
        self.inner.get_mut().max_slots = max.min(MAX_SLOTS);
    }

    /// The slot limit (see [`Tape::set_max_slots`]).
    pub fn max_slots(&self) -> usize {
        self.inner_mut().max_slots
    }

    /// A new scalar leaf with value `x`.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(1.5);
    /// assert_eq!(x.value(), 1.5);
    /// ```
    #[inline]
    pub fn var(&self, x: f64) -> Var<'_> {
        let mut g = self.inner_mut();
        let idx = g.next_slot();
        g.vals.push(x);
        Var {
            tape: self,
            idx,
            val: x,
        }
    }

    /// Runs the backward pass from `root`: afterwards [`Var::grad`] and [`crate::Tensor::grad`]
    /// return ∂root/∂(that value) for every value recorded before `root`. A later call with
    /// another root replaces the gradients. [`Var::backward`] is the same without the check
    /// (a variable's own tape).
    ///
    /// # Errors
    /// [`crate::AdError::DifferentTapes`] when `root` belongs to another tape;
    /// [`crate::AdError::OutOfMemory`] when the adjoint vector (one `f64` per slot) cannot be
    /// allocated. Tensor operations reserve the adjoints' capacity as they record, so this
    /// can only happen on a tape grown by scalar operations to near the memory's size.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.var(3.0);
    /// tape.backward(x * x)?;
    /// assert_eq!(x.grad(), 6.0);
    /// let other = infer_ad::Tape::new();
    /// assert!(other.backward(x).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn backward(&self, root: Var<'_>) -> Result<(), crate::AdError> {
        crate::check_same_tape("backward", self, root.tape)?;
        self.inner_mut().backward(root.idx)
    }

    /// The backward pass from a root known to live on this tape.
    ///
    /// # Panics
    /// When the adjoints cannot be allocated (see [`Var::backward`]).
    pub(crate) fn backward_own(&self, root: Var<'_>) {
        debug_assert!(std::ptr::eq(self, root.tape));
        let r = self.inner_mut().backward(root.idx);
        if let Err(e) = r {
            panic!("{e}");
        }
    }

    /// Forgets every recorded value and node, keeping the buffers' capacity. Takes `&mut self`
    /// so that no handle into the old recording can outlive it.
    pub fn clear(&mut self) {
        let g = self.inner.get_mut();
        g.vals.clear();
        g.recs.clear();
        g.nodes.clear();
        g.f.clear();
        g.u.clear();
        g.data.clear();
        g.adj_valid = 0;
    }

    /// Number of value slots recorded.
    pub fn len(&self) -> usize {
        self.inner_mut().vals.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of backward records: one per scalar edge (a one-input scalar operation records
    /// one, a two-input operation two) and one per tensor operation. Operations on constants
    /// record none.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let (x, y) = (tape.var(1.0), tape.var(2.0));
    /// let _ = x.exp();
    /// assert_eq!(tape.num_nodes(), 1);
    /// let _ = x * y;
    /// assert_eq!(tape.num_nodes(), 3);
    /// ```
    pub fn num_nodes(&self) -> usize {
        self.inner_mut().recs.len()
    }

    /// Current capacities of the tape's buffers.
    pub fn capacity(&self) -> TapeCapacity {
        let g = self.inner_mut();
        TapeCapacity {
            slots: g.vals.capacity(),
            records: g.recs.capacity(),
            nodes: g.nodes.capacity(),
            partials: g.f.capacity(),
            indices: g.u.capacity(),
        }
    }

    #[inline]
    pub(crate) fn value_at(&self, idx: u32) -> f64 {
        self.inner_mut().vals[idx as usize]
    }

    #[inline]
    pub(crate) fn grad_at(&self, idx: u32) -> f64 {
        self.inner_mut()
            .grads()
            .get(idx as usize)
            .copied()
            .unwrap_or(0.0)
    }
}
