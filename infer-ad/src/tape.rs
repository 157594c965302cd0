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
    fn out(&self) -> u32 {
        match *self {
            Node::Elem { out, .. }
            | Node::Lin { out, .. }
            | Node::Red { out, .. }
            | Node::Sum { out, .. }
            | Node::SqDev { out, .. }
            | Node::Gather { out, .. }
            | Node::Group { out, .. }
            | Node::Dot { out, .. }
            | Node::MatVec { out, .. }
            | Node::MatVecData { out, .. }
            | Node::MatMul { out, .. }
            | Node::MatMulData { out, .. }
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

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) vals: Vec<f64>,
    pub(crate) recs: Vec<Rec>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) f: Vec<f64>,
    pub(crate) u: Vec<u32>,
    pub(crate) data: Vec<Arc<Array2<f64>>>,
    pub(crate) adj: Vec<f64>,
    pub(crate) scratch: Vec<f64>,
}

impl Inner {
    /// Slot index of the next value pushed.
    #[inline]
    pub(crate) fn next_slot(&self) -> u32 {
        debug_assert!(self.vals.len() < u32::MAX as usize, "tape slot overflow");
        self.vals.len() as u32
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
            push_within_capacity(
                recs,
                Rec {
                    oa: pack(out, a),
                    d: da,
                },
            );
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
            push_within_capacity(
                recs,
                Rec {
                    oa: pack(out, a),
                    d: da,
                },
            );
            push_within_capacity(
                recs,
                Rec {
                    oa: pack(out, b),
                    d: db,
                },
            );
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
        self.recs.push(Rec {
            oa: pack(out, a),
            d,
        });
    }

    /// Records a tensor node: the node goes to the side vector, a marker into the stream.
    #[inline]
    pub(crate) fn push_node(&mut self, node: Node) {
        let k = u32::try_from(self.nodes.len()).expect("infer-ad: more than 2^32 tensor nodes");
        self.nodes.push(node);
        self.recs.push(Rec {
            oa: pack(MARK, k),
            d: 0.0,
        });
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

    fn backward(&mut self, root: u32) {
        let end = self.recs.partition_point(|r| self.rec_out(r) <= root);
        let Inner {
            vals,
            recs,
            nodes,
            f,
            u,
            data,
            adj,
            scratch,
        } = self;
        adj.clear();
        adj.resize(vals.len(), 0.0);
        adj[root as usize] = 1.0;
        for r in recs[..end].iter().rev() {
            let (out, a) = unpack(r.oa);
            if out != MARK {
                let g = adj[out as usize];
                if g != 0.0 {
                    adj[a as usize] += g * r.d;
                }
                continue;
            }
            match nodes[a as usize] {
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
                    let g = adj[out as usize];
                    if g != 0.0 {
                        let (a, n, p) = (a as usize, n as usize, p as usize);
                        for (x, d) in adj[a..a + n].iter_mut().zip(&f[p..p + n]) {
                            *x += g * d;
                        }
                    }
                }
                Node::Sum { out, a, n, c } => {
                    let g = adj[out as usize] * c;
                    if g != 0.0 {
                        for x in &mut adj[a as usize..(a + n) as usize] {
                            *x += g;
                        }
                    }
                }
                Node::SqDev { out, a, n, m, mv } => {
                    let g = adj[out as usize];
                    if g != 0.0 {
                        let (a, n) = (a as usize, n as usize);
                        let g2 = 2.0 * g;
                        let s1 = crate::reduce::sq_dev_backward(
                            &mut adj[a..a + n],
                            &vals[a..a + n],
                            mv,
                            g2,
                        );
                        adj[m as usize] -= g2 * s1;
                    }
                }
                Node::Gather { out, n, idx } => {
                    let (out, n, idx) = (out as usize, n as usize, idx as usize);
                    for i in 0..n {
                        let g = adj[out + i];
                        adj[u[idx + i] as usize] += g;
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
                Node::Dot { out, a, b, n } => {
                    let g = adj[out as usize];
                    if g != 0.0 {
                        let (a, b, n) = (a as usize, b as usize, n as usize);
                        for i in 0..n {
                            adj[a + i] += g * vals[b + i];
                            adj[b + i] += g * vals[a + i];
                        }
                    }
                }
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
    /// backward records) before it reallocates.
    pub fn with_capacity(slots: usize) -> Self {
        let mut t = Tape::default();
        {
            let g = t.inner.get_mut();
            g.vals.reserve(slots);
            g.recs.reserve(slots.saturating_mul(2));
            g.adj.reserve(slots);
        }
        t
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
    /// another root replaces the gradients.
    ///
    /// # Panics
    /// If `root` belongs to another tape.
    pub fn backward(&self, root: Var<'_>) {
        assert!(
            std::ptr::eq(self, root.tape),
            "Tape::backward: root belongs to another tape"
        );
        self.inner_mut().backward(root.idx);
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
        g.adj.clear();
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
            .adj
            .get(idx as usize)
            .copied()
            .unwrap_or(0.0)
    }
}
