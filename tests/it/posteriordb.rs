//! A fast subset of the posteriordb comparison (issue 15), through the same code as the
//! runner (`examples/posteriordb`): each posterior sampled with its reference settings, 4
//! chains × (1000 + 1000) draws with a fixed seed (the result does not depend on the thread
//! count), every reference mean, sd and R-hat compared with the runner's thresholds. The
//! subset is the posteriors that sample in about a second; the full run is
//! `cargo run --release --example posteriordb`.
//!
//! False-failure rate: for a correct sampler each |z| exceeds 4 with probability 6.3e-5; the
//! subset has fewer than 60 quantities (120 comparisons), about 0.8 % for a new seed — and with
//! this fixed seed the outcome is the same on every run.

use crate::runner;
use infer::mcmc::SamplerSettings;
use std::path::Path;

const FAST: &[&str] = &[
    "eight_schools-eight_schools_noncentered",
    "arK-arK",
    "arma-arma11",
    "garch-garch11",
    "low_dim_gauss_mix-low_dim_gauss_mix",
    "hmm_example-hmm_example",
];

/// Runs the fast subset with `base` settings and fails with every failing row.
fn check_fast_subset(base: &SamplerSettings) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/posteriordb");
    let mut failures = Vec::new();
    for name in FAST {
        let outcome = runner::run(&dir.join(name), base, None, None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{}", outcome.line(name));
        if !outcome.passed() {
            failures.push(format!(
                "{}\n{}",
                outcome.line(name),
                outcome.details().join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fast_posteriors_match_their_references() {
    check_fast_subset(&SamplerSettings {
        num_chains: 4,
        num_warmup: 1000,
        num_samples: 1000,
        seed: 20261203,
        ..SamplerSettings::default()
    });
}
