//! The fused logistic-regression likelihood (`BernoulliLogitGlm`, N = 1000, k = 25: the
//! logreg benchmark model's data) against a plain-f64 hand-written gradient, the row-by-row
//! loop a user would write (`η = xᵢ·β`, std `exp`/`ln_1p`, `g += (yᵢ − σ(ηᵢ))·xᵢ`), and as a
//! tape node (clear, leaf, node, backward); with an intercept, against the same likelihood
//! as a `BernoulliLogitGlmDist`, the plain spelling
//! `Bernoulli::from_logits(data_matvec(x, β) + α).log_prob_sum(y)` (its fast path) and the
//! elementwise `log_prob(y).sum()` (one partial per observation, no fast path).
//! Run: `cargo bench -p infer-dist --bench glm`.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use infer_ad::{Tape, Tensor, Var};
use infer_dist::{Bernoulli, BernoulliLogitGlm, BernoulliLogitGlmDist, GlmDesign};
use ndarray::Array2;
use std::hint::black_box;
use std::sync::Arc;

fn load() -> (Arc<Array2<f64>>, Vec<f64>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/bench/logreg.json"
    );
    let text = std::fs::read_to_string(path).expect("logreg.json is in the repository");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let rows: Vec<Vec<f64>> = serde_json::from_value(v["x"].clone()).expect("x is a matrix");
    let y: Vec<f64> = serde_json::from_value(v["y"].clone()).expect("y is a vector");
    let (n, d) = (rows.len(), rows[0].len());
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    let x = Array2::from_shape_vec((n, d), flat).expect("rectangular");
    (Arc::new(x), y)
}

/// Σ yᵢηᵢ − ln(1 + e^ηᵢ) and its gradient, row by row in plain f64.
fn plain(x: &[f64], y: &[f64], beta: &[f64], g: &mut [f64]) -> f64 {
    let k = beta.len();
    g.fill(0.0);
    let mut lp = 0.0;
    for (row, &yi) in x.chunks_exact(k).zip(y) {
        let h: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
        let e = (-h.abs()).exp();
        lp += yi * h - h.max(0.0) - e.ln_1p();
        let s = if h >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        for (gj, xj) in g.iter_mut().zip(row) {
            *gj += (yi - s) * xj;
        }
    }
    lp
}

/// One evaluation as the benchmarks with an intercept time it: β and α = 0.1 as leaves on the
/// cleared tape, the log likelihood `lp(tape, β, α)`, the backward sweep and β's gradient read
/// into `gb`; returns ∂/∂β₀ + ∂/∂α.
fn alpha_value_and_grad(
    tape: &mut Tape,
    bv: &ndarray::Array1<f64>,
    gb: &mut [f64],
    lp: impl for<'t> Fn(&'t Tape, Tensor<'t>, Var<'t>) -> Var<'t>,
) -> f64 {
    tape.clear();
    let t = tape.tensor(bv);
    let a = tape.var(0.1);
    let lp = lp(tape, t, a);
    lp.backward();
    t.grad_into(gb);
    black_box(gb[0] + a.grad())
}

fn bench(c: &mut Criterion) {
    let (x, y) = load();
    let k = x.ncols();
    let glm = BernoulliLogitGlm::new(x.clone(), &y).expect("valid data");
    let beta: Vec<f64> = (0..k).map(|j| 0.3 - 0.02 * j as f64).collect();
    let xs = x.as_slice().expect("standard layout").to_vec();
    let mut g = vec![0.0; k];
    let mut grp = c.benchmark_group("logreg_glm_1000x25");
    grp.bench_function("plain_f64_rows", |b| {
        b.iter(|| black_box(plain(black_box(&xs), &y, black_box(&beta), &mut g)))
    });
    grp.bench_function("kernel_value_and_grad", |b| {
        b.iter(|| {
            black_box(
                glm.log_prob_and_grad(black_box(&beta), 0.0, &mut g)
                    .expect("shapes match"),
            )
        })
    });
    let mut tape = Tape::new();
    let mut gb = vec![0.0; k];
    let bv = ndarray::Array1::from(beta.clone());
    grp.bench_function("tape_node_value_and_grad", |b| {
        b.iter(|| {
            tape.clear();
            let t = tape.tensor(&bv);
            let lp = glm.log_prob(t, None).expect("shapes match");
            lp.backward();
            t.grad_into(&mut gb);
            black_box(gb[0])
        })
    });
    let yt = ndarray::Array1::from(y.clone());
    grp.bench_function("tape_node_alpha_value_and_grad", |b| {
        b.iter(|| {
            alpha_value_and_grad(&mut tape, &bv, &mut gb, |_, t, a| {
                glm.log_prob(t, Some(a)).expect("shapes match")
            })
        })
    });
    grp.bench_function("plain_spelling_alpha_value_and_grad", |b| {
        b.iter(|| {
            alpha_value_and_grad(&mut tape, &bv, &mut gb, |tape, t, a| {
                let eta = tape.data_matvec(&x, t).expect("shapes match") + a;
                Bernoulli::from_logits(eta)
                    .and_then(|d| d.log_prob_sum(tape.constant(&yt)))
                    .expect("valid")
            })
        })
    });
    let design = GlmDesign::new(x.clone()).expect("valid data");
    grp.bench_function("glm_dist_alpha_value_and_grad", |b| {
        b.iter(|| {
            alpha_value_and_grad(&mut tape, &bv, &mut gb, |tape, t, a| {
                BernoulliLogitGlmDist::new(&design, Some(a.as_tensor()), t)
                    .and_then(|d| d.log_prob_sum(tape.constant(&yt)))
                    .expect("valid")
            })
        })
    });
    grp.bench_function("elementwise_sum_alpha_value_and_grad", |b| {
        b.iter(|| {
            alpha_value_and_grad(&mut tape, &bv, &mut gb, |tape, t, a| {
                let eta = tape.data_matvec(&x, t).expect("shapes match") + a;
                Bernoulli::from_logits(eta)
                    .and_then(|d| d.log_prob(tape.constant(&yt)))
                    .expect("valid")
                    .sum()
            })
        })
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
