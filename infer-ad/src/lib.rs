//! # infer-ad: reverse-mode automatic differentiation on a flat tape
//!
//! The autodiff foundation of `infer`. A [`Tape`] records values and, for each operation, the
//! partial derivatives of its output computed during the forward pass; [`Tape::backward`]
//! walks the records once in reverse. Design (after Stan Math's arena and "matrix var"):
//!
//! * the tape is a flat list of small plain nodes; values, partials and adjoints live in
//!   `Vec<f64>`s that [`Tape::clear`] truncates without freeing, so a steady-state gradient
//!   allocates nothing;
//! * handles ([`Var`] for scalars, [`Tensor`] for n-d arrays) are `Copy`, so `a * b + c`
//!   reads like maths; `f64` constants are not recorded;
//! * a vector operation (an elementwise map, a sum, a matrix–vector product, a log density
//!   over N observations via [`Tape::fused_sum`]) is one fused node, not N scalar nodes.
//!
//! One tape per thread; there is no global state.
//!
//! ```
//! use infer_ad::Tape;
//! use ndarray::array;
//!
//! let tape = Tape::new();
//! let w = tape.tensor(&array![0.5, -0.25]);
//! let x = tape.constant(&array![[1.0, 2.0], [3.0, 4.0]]);
//! let y = tape.constant(&array![1.0, 0.0]);
//! // logistic regression log likelihood
//! let eta = x.matvec(w)?;
//! let ll = (y * eta).sum() - eta.softplus().sum();
//! ll.backward();
//! assert_eq!(w.grad().shape(), &[2]);
//! # Ok::<(), infer_ad::AdError>(())
//! ```

// Three audited exceptions, each documented with its safety argument: `Tape::inner_mut` in
// `tape/handle.rs` (the recording lives in an `UnsafeCell`; a `RefCell`'s flag cost ~12% of a
// recorded scalar operation), `push_within_capacity` in `tape/recording.rs`
// (`Vec::push_within_capacity` is not yet stable), and the call of a kernel instance compiled
// for the CPU's features in `with_target_features!` (`dispatch.rs`; expanded in
// `kernels/linalg.rs` here and in infer-dist's GLM kernel). Every other module is safe code.
#![deny(unsafe_code)]

mod cumsum;
mod dispatch;
mod error;
pub mod fastmath;
mod fused;
pub mod gradcheck;
mod index;
pub mod kernels;
mod linalg;
mod logsumexp;
pub mod ode;
mod operand;
pub mod optim;
mod param;
mod reduce;
pub mod scalar;
mod shape;
mod tape;
mod tensor;
mod unary;
mod var;

pub use error::AdError;
pub use fused::slice::PartialsOut;
pub use linalg::DataAffine;
pub use logsumexp::{LogMixArgs, SIMPLEX_TOLERANCE, log_mix, log_mix_weights, log_sum_exp};
pub use operand::{DataView, Operand};
pub use param::{Bound, ParamConstraint, ParamId, ParamStore, PositiveMap};
pub use shape::{MAX_NDIM, Shape};
pub use tape::{Tape, TapeCapacity, UNCLEARED_BINDS_WARNING, check_same_tape};
pub use tensor::Tensor;
pub use var::Var;
