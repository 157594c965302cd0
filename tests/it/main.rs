//! Integration tests of the `infer` facade (one binary).

mod end_to_end;
mod posteriordb;
mod seed_api;

/// The posteriordb models and the runner's comparison, shared with `examples/posteriordb`.
#[path = "../../examples/posteriordb/models/mod.rs"]
mod models;
#[path = "../../examples/posteriordb/runner.rs"]
mod runner;
