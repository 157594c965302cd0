//! Integration tests of infer-mcmc, one binary (run in release: `cargo test -p infer-mcmc --release`).

mod common;
mod conformance;
mod divergence;
mod posteriors;
mod threads;
mod transitions;
