//! infer-ad integration tests (one binary).

mod algebra;
mod alloc;
mod backward_passes;
mod fastmath;
mod hostile_optim;
mod hostile_shapes;
mod hostile_tapes;
mod matmul_kernel;
mod ops_values;
mod prop_ops;
mod training;
