//! Integration tests of infer-mcmc, one binary (run in release: `cargo test -p infer-mcmc --release`).

mod checkpoint;
mod common;
mod csv;
mod csv_hostile;
mod diagnostics;
mod divergence;
mod extend;
mod fisher;
mod hostile;
mod hostile_props;
mod low_rank;
mod model;
mod models;
mod output;
mod panics;
mod posteriors;
mod sbc;
mod seed_details;
mod seed_session;
mod stansummary;
mod threads;
mod transitions;
mod until;
