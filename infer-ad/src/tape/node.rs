//! The node layout: the records of the scalar stream ([`Rec`]) and the tensor nodes
//! ([`Node`]) of the side vector, each variant documenting its backward rule. The backward
//! step of each variant is in `sweep.rs` (`Node::backward`); see the [module docs](super)
//! for how to add an operation.

/// Declares [`Node`] and [`Node::out`]: every variant's first field is its first output slot
/// `out`, so adding a variant needs no other edit here.
macro_rules! nodes {
    ($($(#[$doc:meta])* $v:ident { out: u32 $(, $f:ident: $t:ty)* $(,)? },)*) => {
        /// One group of backward edges. `out`, `a`, `b`, `l` are slot indices; `p` an offset
        /// into the partials arena, `idx` an offset into the index arena.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum Node {
            $($(#[$doc])* $v { out: u32, $($f: $t),* },)*
        }

        impl Node {
            /// First output slot (nodes are recorded in non-decreasing order of this).
            #[inline]
            pub(crate) fn out(&self) -> u32 {
                match *self {
                    $(Node::$v { out, .. })|* => out,
                }
            }
        }
    };
}

nodes! {
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
    pub(super) oa: u64,
    pub(super) d: f64,
}

impl Rec {
    #[inline(always)]
    pub(super) fn new(out: u32, a: u32, d: f64) -> Self {
        Rec {
            oa: pack(out, a),
            d,
        }
    }
}

/// The `out` of a marker record. No value slot has this index: slots are counted in `u32` and
/// a tape would need 32 GiB of values to reach it.
pub(super) const MARK: u32 = u32::MAX;

/// `out` in the low and `a` in the high half of one word (the operands of a [`Rec`]).
#[inline(always)]
pub(crate) fn pack(out: u32, a: u32) -> u64 {
    u64::from(out) | (u64::from(a) << 32)
}

/// The inverse of [`pack`].
#[inline(always)]
pub(super) fn unpack(oa: u64) -> (u32, u32) {
    (oa as u32, (oa >> 32) as u32)
}

/// Marker for "no partials: use 1".
pub(crate) const NONE: u32 = u32::MAX;
