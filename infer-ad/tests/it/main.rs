//! infer-ad integration tests (one binary).

mod algebra;
mod alloc;
mod backward_passes;
mod fastmath;
mod ops_values;
mod prop_ops;
mod training;
