//! The tape: a flat, index-based Wengert list with one adjoint vector.
//!
//! Every scalar value recorded on the tape owns one *slot* (an index into `vals`). An operation
//! pushes its output slot(s) and describes how the output's adjoint flows back to its inputs.
//! Scalar edges — `adj[a] += adj[out] · d` — are 16-byte [`Rec`](node::Rec)ords in one stream (`recs`); a
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
//!
//! # Layout
//!
//! * `node.rs` — the node layout: the scalar records ([`Rec`](node::Rec)) and the tensor nodes
//!   ([`Node`]), each variant documenting its backward rule;
//! * `recording.rs` — the recording ([`Inner`]): its buffers and how an operation appends to
//!   them;
//! * `sweep.rs` — the backward sweep, and each node's backward step (`Node::backward`);
//! * `lazy.rs` — the lazy initialization of the adjoints during a sweep;
//! * `deferred.rs` — a data product whose values are computed only when read;
//! * `handle.rs` — the public [`Tape`] handle.
//!
//! The arithmetic of the backward steps (and of most forward values) is in
//! [`crate::kernels`], on plain slices; these modules import no operation module, and the
//! operations (`tensor/`, `linalg/`, `reduce.rs`, …) import this one.
//!
//! # To add an op
//!
//! 1. Write its plain-slice arithmetic (forward values, and the backward loop if no existing
//!    node has the right backward rule) in [`crate::kernels`], with a test there.
//! 2. If it needs a new backward rule: add a variant to `Node` in `node.rs`, its first field
//!    `out: u32` (the first output slot; `Node::out` is generated from it), documenting the
//!    rule; then add its arm to `Node::backward` in `sweep.rs` — the compiler's
//!    exhaustiveness check points there — which touches the slots it reads and writes and
//!    calls the kernel. Nothing else in the tape changes. A one-input or two-input scalar
//!    operation needs no node: it is [`Inner::push1`] / [`Inner::push2`] (see
//!    `Var::unary`).
//! 3. Record it from a method on the handle types (in the module of its family of
//!    operations, beside `Tensor`'s other methods): check the operands' tapes
//!    ([`check_same_tape`]) and shapes, [`Inner::reserve`] the output slots, partials and
//!    indices it appends, push the values, then [`Inner::push_node`] the node if an operand
//!    is tracked; return the output handle (`Tensor::from_slot`).
//! 4. Test its gradient with [`crate::gradcheck`].

mod deferred;
mod handle;
mod lazy;
mod node;
mod recording;
mod sweep;

pub(crate) use deferred::{Deferred, Offset};
pub use handle::{Tape, TapeCapacity, UNCLEARED_BINDS_WARNING, check_same_tape};
pub(crate) use node::{NONE, Node};
pub(crate) use recording::Inner;
