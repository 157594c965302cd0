//! Integration tests of infer-mcmc, one binary (run in release: `cargo test -p infer-mcmc --release`).

mod common;
mod csv;
mod diagnostics;
mod divergence;
mod model;
mod models;
mod output;
mod posteriors;
mod sbc;
mod threads;
mod transitions;
