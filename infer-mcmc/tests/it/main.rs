//! Integration tests of infer-mcmc, one binary (run in release: `cargo test -p infer-mcmc --release`).

mod common;
mod csv;
mod diagnostics;
mod divergence;
mod models;
mod posteriors;
mod threads;
mod transitions;
