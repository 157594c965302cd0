//! infer-ad integration tests (one binary).

mod algebra;
mod alloc;
mod backward_passes;
mod cholesky;
mod common;
mod constrained_params;
mod deferred;
mod fastmath;
mod gather_lse;
mod hostile_optim;
mod hostile_shapes;
mod hostile_tapes;
mod log_mix_elementwise;
mod matmul_kernel;
mod ode;
mod ops_values;
mod prop_ops;
mod scalar_with_gradients;
mod schedules;
mod tape_growth;
mod training;
