//! infer-ad integration tests (one binary).

mod algebra;
mod alloc;
mod fastmath;
mod ops_values;
mod prop_ops;
mod training;
