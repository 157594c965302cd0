//! Speed of the convergence diagnostics on the size of the reference runs (4 chains × 25,000
//! draws). Run: `cargo bench -p infer-mcmc --bench diagnostics`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use infer_mcmc::diagnostics::Diagnostics;
use ndarray::Array2;
use std::hint::black_box;

/// AR(1) draws with φ = 0.9 from a 64-bit LCG.
fn draws(chains: usize, n: usize) -> Array2<f64> {
    let mut state: u64 = 13;
    let mut out = Array2::zeros((chains, n));
    for c in 0..chains {
        let mut y = 0.0;
        for i in 0..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            y = 0.9 * y + (u - 0.5);
            out[[c, i]] = y;
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let d = draws(4, 25_000);
    c.bench_function("diagnostics_4x25000", |b| {
        b.iter(|| black_box(Diagnostics::new(black_box(d.view())).map(|x| x.ess_bulk)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
