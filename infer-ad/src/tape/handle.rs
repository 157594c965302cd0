//! The `Tape` handle: the public type that owns a recording, its capacity and limits, and
//! the exclusive access to the recording that every operation takes for its duration.

use super::recording::{Inner, MAX_SLOTS};
use crate::error::AdError;
use std::cell::UnsafeCell;
use std::fmt;

/// A reverse-mode autodiff tape.
///
/// Record a computation with [`Tape::var`] / [`Tape::tensor`] leaves and the operations on
/// [`crate::Var`] and [`crate::Tensor`] handles, then call [`Tape::backward`] (or
/// [`crate::Var::backward`]) and read gradients with [`crate::Var::grad`] / [`crate::Tensor::grad`]. One tape per thread (it is
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
    /// [`crate::ParamStore`] bindings since the last [`Tape::clear`]
    /// ([`Tape::binds_since_clear`]).
    binds: std::cell::Cell<u64>,
}

/// The number of [`crate::ParamStore`] bindings without a [`Tape::clear`] at which a debug
/// build warns (once per process) that the tape is probably never cleared.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, UNCLEARED_BINDS_WARNING};
/// let mut store = ParamStore::new();
/// store.add("w", ndarray::arr1(&[1.0]))?;
/// let tape = Tape::new();
/// for _ in 0..UNCLEARED_BINDS_WARNING {
///     let _ = store.bind(&tape); // a debug build warns at the last of these
/// }
/// assert_eq!(tape.binds_since_clear(), UNCLEARED_BINDS_WARNING);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub const UNCLEARED_BINDS_WARNING: u64 = 100;

/// Whether the warning of [`Tape::binds_since_clear`] was printed (once per process).
static WARNED_UNCLEARED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
        let g = self.inner_raw();
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
    ///
    /// Computes deferred values first (see the `deferred` module): an operation that may read
    /// any slot takes this guard; the few that provably do not read deferred slots take
    /// [`Tape::inner_raw`] or [`Tape::inner_reading`].
    #[inline(always)]
    pub(crate) fn inner_mut(&self) -> InnerMut<'_> {
        let mut g = self.inner_raw();
        if g.deferred.is_some() {
            g.flush_deferred();
        }
        g
    }

    /// [`Tape::inner_mut`] computing deferred values only when slots `start .. start + len`
    /// overlap them: for an operation that reads only those slots of the recording.
    #[inline(always)]
    pub(crate) fn inner_reading(&self, start: u32, len: usize) -> InnerMut<'_> {
        let mut g = self.inner_raw();
        if g.deferred.is_some_and(|p| p.overlaps(start, len)) {
            g.flush_deferred();
        }
        g
    }

    /// [`Tape::inner_reading`] for an operation that reads two ranges of slots.
    #[inline(always)]
    pub(crate) fn inner_reading_both(&self, a: (u32, usize), b: (u32, usize)) -> InnerMut<'_> {
        let mut g = self.inner_raw();
        if g.deferred
            .is_some_and(|p| p.overlaps(a.0, a.1) || p.overlaps(b.0, b.1))
        {
            g.flush_deferred();
        }
        g
    }

    /// [`Tape::inner_mut`] without computing deferred values: only for operations that read
    /// no value slot they were not given as a scalar (leaves, scalar operations on `Var`s,
    /// gradients, the backward pass; see the `deferred` module).
    #[allow(unsafe_code)]
    #[inline(always)]
    pub(crate) fn inner_raw(&self) -> InnerMut<'_> {
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

    /// Forgets every recorded value and node, keeping the buffers' capacity. Takes `&mut self`
    /// so that no handle into the old recording can outlive it. Resets
    /// [`Tape::binds_since_clear`].
    pub fn clear(&mut self) {
        self.binds.set(0);
        let g = self.inner.get_mut();
        g.vals.clear();
        g.recs.clear();
        g.nodes.clear();
        g.f.clear();
        g.u.clear();
        g.data.clear();
        g.deferred = None;
        g.adj_valid = 0;
    }

    /// How many times [`crate::ParamStore::bind`] (or `bind_flat`) bound parameters to this
    /// tape since it was made or last cleared.
    ///
    /// A training step binds the parameters once; a loop that forgets [`Tape::clear`] keeps
    /// every earlier step's recording, and since each backward pass walks the whole
    /// recording, every step is slower than the last (a VI fit of a logistic regression with
    /// 200 observations: 6–13 ms per step after 4000 steps instead of 6 µs; see the
    /// workspace's `examples/vi_tape_growth.rs`). When this count reaches [`UNCLEARED_BINDS_WARNING`], a
    /// debug build prints a warning to standard error, once per process; release builds
    /// only count.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// let mut store = ParamStore::new();
    /// store.add("w", ndarray::arr1(&[1.0]))?;
    /// let mut tape = Tape::new();
    /// let _ = store.bind(&tape);
    /// let _ = store.bind(&tape);
    /// assert_eq!(tape.binds_since_clear(), 2);
    /// tape.clear();
    /// assert_eq!(tape.binds_since_clear(), 0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn binds_since_clear(&self) -> u64 {
        self.binds.get()
    }

    /// Counts one binding (see [`Tape::binds_since_clear`]).
    pub(crate) fn note_bind(&self) {
        let n = self.binds.get().saturating_add(1);
        self.binds.set(n);
        if cfg!(debug_assertions)
            && n == UNCLEARED_BINDS_WARNING
            && !WARNED_UNCLEARED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!(
                "infer-ad warning: parameters were bound to one Tape {n} times without \
                 Tape::clear ({} value slots recorded); a training loop that does not clear \
                 its tape keeps every step's recording and slows down with each step. Call \
                 tape.clear() before binding (infer_loss::Svi does it for you). This warning \
                 is printed once, in debug builds only.",
                self.len()
            );
        }
    }

    /// Number of value slots recorded.
    pub fn len(&self) -> usize {
        self.inner_raw().vals.len()
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
        self.inner_raw().recs.len()
    }

    /// Current capacities of the tape's buffers.
    pub fn capacity(&self) -> TapeCapacity {
        let g = self.inner_raw();
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
        self.inner_reading(idx, 1).vals[idx as usize]
    }

    #[inline]
    pub(crate) fn grad_at(&self, idx: u32) -> f64 {
        self.inner_raw()
            .grads()
            .get(idx as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// Checks that two tapes are the same tape, for an operation that combines handles.
///
/// Every operation of this workspace that takes two or more handles ([`crate::Var`],
/// [`crate::Tensor`]) calls this before reading either operand: a handle indexes slots of its
/// own tape, so reading it through another tape would silently use the wrong values and send
/// gradients to the wrong slots.
///
/// # Examples
///
/// ```
/// use infer_ad::{AdError, Tape, check_same_tape};
///
/// let (t1, t2) = (Tape::new(), Tape::new());
/// assert!(check_same_tape("dot", &t1, &t1).is_ok());
/// assert_eq!(check_same_tape("dot", &t1, &t2), Err(AdError::DifferentTapes { op: "dot" }));
/// ```
///
/// # Errors
///
/// [`AdError::DifferentTapes`] naming `op` when `a` and `b` are different tapes.
#[inline]
pub fn check_same_tape(op: &'static str, a: &Tape, b: &Tape) -> Result<(), AdError> {
    if std::ptr::eq(a, b) {
        Ok(())
    } else {
        Err(AdError::DifferentTapes { op })
    }
}
