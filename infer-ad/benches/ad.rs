//! infer-ad benchmarks: the logistic-regression gradient (tape ÷ hand-written) and the cost
//! per recorded scalar operation. Run: `cargo bench -p infer-ad --bench ad`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use infer_ad::kernels::dot;
use infer_ad::scalar::{sigmoid, softplus};
use infer_ad::{Tape, Var};
use ndarray::Array2;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

struct LogReg {
    x: Arc<Array2<f64>>,
    y: Vec<f64>,
}

fn load() -> LogReg {
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
    LogReg {
        x: Arc::new(Array2::from_shape_vec((n, d), flat).expect("rectangular")),
        y,
    }
}

/// Hand-written log density and gradient: lp = Σ yᵢηᵢ − softplus(ηᵢ) − ½‖β‖², ∇ = Xᵀ(y − σ(η)) − β.
fn hand(m: &LogReg, beta: &[f64], grad: &mut [f64]) -> f64 {
    let d = beta.len();
    let x = m.x.as_slice().expect("standard layout");
    let mut lp = 0.0;
    for (j, g) in grad.iter_mut().enumerate() {
        *g = -beta[j];
        lp -= 0.5 * beta[j] * beta[j];
    }
    for (i, &yi) in m.y.iter().enumerate() {
        let row = &x[i * d..(i + 1) * d];
        let eta = dot(row, beta);
        lp += yi * eta - softplus(eta);
        let r = yi - sigmoid(eta);
        for (g, xij) in grad.iter_mut().zip(row) {
            *g += r * xij;
        }
    }
    lp
}

/// The same on the tape: data matrix by reference, one fused likelihood node.
fn tape_grad(tape: &mut Tape, m: &LogReg, beta: &[f64], grad: &mut [f64]) -> f64 {
    tape.clear();
    let b = tape.tensor_from_slice(&[beta.len()], beta).expect("length");
    let eta = tape.data_matvec(&m.x, b).expect("shape");
    let y = &m.y;
    let ll = tape
        .fused_sum([eta], |i, [e]| {
            (y[i] * e - softplus(e), [y[i] - sigmoid(e)])
        })
        .expect("one operand");
    let lp = ll - 0.5 * b.square().sum();
    lp.backward();
    b.grad_into(grad);
    lp.value()
}

/// The same with generic tensor operations only (no custom fused node).
fn tape_ops(
    tape: &mut Tape,
    m: &LogReg,
    yv: &ndarray::Array1<f64>,
    beta: &[f64],
    grad: &mut [f64],
) -> f64 {
    tape.clear();
    let b = tape.tensor_from_slice(&[beta.len()], beta).expect("length");
    let eta = tape.data_matvec(&m.x, b).expect("shape");
    let y = tape.constant(yv);
    let lp = (y * eta).sum() - eta.softplus().sum() - 0.5 * b.square().sum();
    lp.backward();
    b.grad_into(grad);
    lp.value()
}

fn bench_logreg(c: &mut Criterion) {
    let m = load();
    let yv = ndarray::Array1::from(m.y.clone());
    let beta: Vec<f64> = (0..m.x.ncols())
        .map(|j| 0.1 * (j as f64 - 12.0) / 12.0)
        .collect();
    let mut g1 = vec![0.0; beta.len()];
    let mut g2 = vec![0.0; beta.len()];
    let mut tape = Tape::new();
    // same numbers
    let a = hand(&m, &beta, &mut g1);
    let b = tape_grad(&mut tape, &m, &beta, &mut g2);
    assert!((a - b).abs() < 1e-9 * a.abs());
    for (x, y) in g1.iter().zip(&g2) {
        assert!((x - y).abs() < 1e-9 * (1.0 + x.abs()));
    }
    let mut group = c.benchmark_group("logreg_grad");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("hand_written", |bn| {
        bn.iter(|| black_box(hand(&m, black_box(&beta), &mut g1)));
    });
    group.bench_function("tape_fused", |bn| {
        bn.iter(|| black_box(tape_grad(&mut tape, &m, black_box(&beta), &mut g2)));
    });
    group.bench_function("tape_generic_ops", |bn| {
        bn.iter(|| black_box(tape_ops(&mut tape, &m, &yv, black_box(&beta), &mut g2)));
    });
    group.finish();
}

const CHAIN: usize = 10_000;

/// Records the chain of [`CHAIN`] operations (v·a or v + 0.01, then − 0.001) on `tape`:
/// returns the leaf `a` and the result.
fn record_chain(tape: &Tape) -> (Var<'_>, Var<'_>) {
    let a = tape.var(1.0001);
    let mut v = tape.var(black_box(0.1));
    for k in 0..CHAIN / 2 {
        v = if k % 2 == 0 { v * a } else { v + 0.01 };
        v = v - 0.001;
    }
    (a, v)
}

fn bench_scalar_chain(c: &mut Criterion) {
    let mut tape = Tape::with_capacity(CHAIN + 8);
    let mut group = c.benchmark_group("scalar_chain_10k_ops");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    // each iteration records 10,000 binary/unary operations (v*a + b alternating with sin)
    group.bench_function("record", |bn| {
        bn.iter(|| {
            tape.clear();
            black_box(record_chain(&tape).1.value())
        });
    });
    group.bench_function("record_and_backward", |bn| {
        bn.iter(|| {
            tape.clear();
            let (a, v) = record_chain(&tape);
            v.backward();
            black_box(a.grad())
        });
    });
    group.bench_function("plain_f64", |bn| {
        bn.iter(|| {
            let a = black_box(1.0001);
            let mut v = black_box(0.1);
            for k in 0..CHAIN / 2 {
                v = if k % 2 == 0 { v * a } else { v + 0.01 };
                v -= 0.001;
            }
            black_box(v)
        });
    });
    // The same chain at 1,000 operations: the tape (40 bytes per operation) then stays in the
    // core's caches, which shows how much of the 10,000-operation figure is memory traffic.
    group.bench_function("record_1k_ops_x10", |bn| {
        bn.iter(|| {
            let mut last = 0.0;
            for _ in 0..10 {
                tape.clear();
                let a = tape.var(1.0001);
                let mut v = tape.var(black_box(0.1));
                for k in 0..CHAIN / 20 {
                    v = if k % 2 == 0 { v * a } else { v + 0.01 };
                    v = v - 0.001;
                }
                last = v.value();
            }
            black_box(last)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_logreg, bench_scalar_chain);
criterion_main!(benches);
