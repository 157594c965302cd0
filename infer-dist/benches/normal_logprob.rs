//! Issue 3's performance target: the Normal log density summed over N = 100 000 values with
//! gradients for loc, scale and the values (tape: clear, leaves, `log_prob_sum`, backward)
//! against a plain f64 evaluation of the same log density in a loop (two baselines: with ln σ
//! hoisted out of the loop, and a per-observation scalar lpdf). Target ratio ≤ 1.5.
//!
//! Issue 14's target, in the same group on the same N values: `StudentT::log_prob_sum` with
//! scalar ν, μ, σ (value and gradient, as the Normal case) within 1.3× of the Normal's time;
//! both also on data (an untracked value: no partial per observation).
//!
//! Gamma with scalar α, β: `log_prob_sum` (ln Γ and ψ hoisted) against `log_prob(..).sum()`.
//!
//! Issue 14 item 4: Normal and StudentT over the same values as observed data, given as a
//! tape constant and as `&x` (read in place, not copied onto the tape).

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use infer_ad::scalar::LN_SQRT_2PI;
use infer_ad::{Tape, Var};
use infer_dist::{Gamma, Normal, StudentT};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

const N: usize = 100_000;

/// The value of `r`: a benchmark has no error to recover from.
fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The Normal(0.3, 1.2) log-likelihood of `x` on `tape` (`log_prob_sum`), with its loc and scale
/// leaves.
fn normal_lp<'t>(tape: &'t Tape, x: &ndarray::Array1<f64>) -> (Var<'t>, Var<'t>, Var<'t>) {
    let loc = tape.var(0.3);
    let scale = tape.var(1.2);
    let v = tape.tensor(x);
    (ok(ok(Normal::new(loc, scale)).log_prob_sum(v)), loc, scale)
}

fn plain(x: &[f64], loc: f64, scale: f64) -> f64 {
    let c = -scale.ln() - LN_SQRT_2PI;
    let r = 1.0 / scale;
    let mut s = 0.0;
    for &xi in x {
        let z = (xi - loc) * r;
        s += -0.5 * z * z + c;
    }
    s
}

/// The same log density written per observation, as a user loop calling a scalar lpdf would.
fn plain_naive(x: &[f64], loc: f64, scale: f64) -> f64 {
    x.iter()
        .map(|&xi| {
            let z = (xi - loc) / scale;
            -0.5 * z * z - scale.ln() - LN_SQRT_2PI
        })
        .sum()
}

/// The Student-t log density with ν, μ, σ hoisted (the lgamma terms once), as a plain f64
/// loop: the floor for the tape's figure, as `plain` is for the Normal's.
fn plain_studentt(x: &[f64], df: f64, loc: f64, scale: f64) -> f64 {
    let c = infer_ad::scalar::lgamma(0.5 * (df + 1.0))
        - infer_ad::scalar::lgamma(0.5 * df)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - scale.ln();
    let h = 0.5 * (df + 1.0);
    let k = 1.0 / (scale * scale * df);
    let mut s = 0.0;
    for &xi in x {
        let d = xi - loc;
        s += c - h * (d * d * k).ln_1p();
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let x: ndarray::Array1<f64> = (0..N).map(|_| rng.random::<f64>() * 4.0 - 2.0).collect();
    let xs = x.as_slice().unwrap_or(&[]).to_vec();
    let mut g = c.benchmark_group("normal_logprob_100k");
    g.bench_function("plain_f64", |b| {
        b.iter(|| black_box(plain(black_box(&xs), black_box(0.3), black_box(1.2))))
    });
    g.bench_function("plain_f64_per_observation_lpdf", |b| {
        b.iter(|| black_box(plain_naive(black_box(&xs), black_box(0.3), black_box(1.2))))
    });
    g.bench_function("studentt_plain_f64", |b| {
        b.iter(|| {
            black_box(plain_studentt(
                black_box(&xs),
                black_box(4.5),
                black_box(0.3),
                black_box(1.2),
            ))
        })
    });
    let mut tape = Tape::with_capacity(2 * N + 16);
    g.bench_function("tape_value_and_grad", |b| {
        b.iter(|| {
            tape.clear();
            let (lp, loc, scale) = normal_lp(&tape, &x);
            lp.backward();
            black_box((lp.value(), loc.grad(), scale.grad()))
        })
    });
    g.bench_function("studentt_tape_value_and_grad", |b| {
        b.iter(|| {
            tape.clear();
            let df = tape.var(4.5);
            let loc = tape.var(0.3);
            let scale = tape.var(1.2);
            let v = tape.tensor(&x);
            let lp = ok(ok(StudentT::new(df, loc, scale)).log_prob_sum(v));
            lp.backward();
            black_box((lp.value(), df.grad(), loc.grad(), scale.grad()))
        })
    });
    // The same two likelihoods on data (an untracked value, as a model's observations):
    // no per-observation partial for x is stored or read back.
    g.bench_function("tape_value_and_grad_data", |b| {
        b.iter(|| {
            tape.clear();
            let loc = tape.var(0.3);
            let scale = tape.var(1.2);
            let v = tape.constant(&x);
            let d = match Normal::new(loc, scale) {
                Ok(d) => d,
                Err(e) => panic!("{e}"),
            };
            let lp = match d.log_prob_sum(v) {
                Ok(lp) => lp,
                Err(e) => panic!("{e}"),
            };
            lp.backward();
            black_box((lp.value(), loc.grad(), scale.grad()))
        })
    });
    g.bench_function("studentt_tape_value_and_grad_data", |b| {
        b.iter(|| {
            tape.clear();
            let df = tape.var(4.5);
            let loc = tape.var(0.3);
            let scale = tape.var(1.2);
            let v = tape.constant(&x);
            let d = match StudentT::new(df, loc, scale) {
                Ok(d) => d,
                Err(e) => panic!("{e}"),
            };
            let lp = match d.log_prob_sum(v) {
                Ok(lp) => lp,
                Err(e) => panic!("{e}"),
            };
            lp.backward();
            black_box((lp.value(), df.grad(), loc.grad(), scale.grad()))
        })
    });
    // Robust regression's likelihood: μ a tracked tensor of N (as X·β), ν and σ scalars, on
    // data: `log_prob_sum` (ln Γ and ψ of ν once per call, the per-observation part fused)
    // against `log_prob(..).sum()` (the elementwise kernel, ln Γ and ψ per observation).
    let mu: ndarray::Array1<f64> = x.mapv(|v| 0.3 + 0.1 * v);
    for hoisted in [true, false] {
        let name = if hoisted {
            "studentt_vector_loc_tape_value_and_grad_data"
        } else {
            "studentt_vector_loc_elementwise_tape_value_and_grad_data"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                tape.clear();
                let df = tape.var(4.5);
                let loc = tape.tensor(&mu);
                let scale = tape.var(1.2);
                let v = tape.constant(&x);
                let d = match StudentT::new(df, loc, scale) {
                    Ok(d) => d,
                    Err(e) => panic!("{e}"),
                };
                let lp = if hoisted {
                    d.log_prob_sum(v)
                } else {
                    d.log_prob(v).map(|t| t.sum())
                };
                let lp = match lp {
                    Ok(lp) => lp,
                    Err(e) => panic!("{e}"),
                };
                lp.backward();
                black_box((lp.value(), df.grad(), scale.grad()))
            })
        });
    }
    // Observed data (no gradient for the values, as in a model's likelihood): given as a tape
    // constant (copied onto the tape each evaluation) and as `&x` (read in place since
    // issue 14 item 4; before that, copied onto the tape like the constant).
    for (family, by_ref) in [
        ("normal", false),
        ("normal", true),
        ("studentt", false),
        ("studentt", true),
    ] {
        let name = format!(
            "{family}_data_{}",
            if by_ref { "ref" } else { "tape_constant" }
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                tape.clear();
                let loc = tape.var(0.3);
                let scale = tape.var(1.2);
                let lp = if family == "normal" {
                    Normal::new(loc, scale).and_then(|d| {
                        if by_ref {
                            d.log_prob_sum(&x)
                        } else {
                            d.log_prob_sum(tape.constant(&x))
                        }
                    })
                } else {
                    StudentT::new(4.5, loc, scale).and_then(|d| {
                        if by_ref {
                            d.log_prob_sum(&x)
                        } else {
                            d.log_prob_sum(tape.constant(&x))
                        }
                    })
                };
                let lp = match lp {
                    Ok(lp) => lp,
                    Err(e) => panic!("{e}"),
                };
                lp.backward();
                black_box((lp.value(), loc.grad(), scale.grad()))
            })
        });
    }
    // A Gamma(2.5, 1.5) likelihood on |x| + 0.01: `log_prob_sum` with scalar parameters
    // (ln Γ(α) and ψ(α) once per call) against `log_prob(..).sum()`, the elementwise kernel
    // that computes them per observation, as `log_prob_sum` did before the hoisting.
    let xg: ndarray::Array1<f64> = x.mapv(|v| v.abs() + 0.01);
    for hoisted in [true, false] {
        let name = if hoisted {
            "gamma_tape_log_prob_sum"
        } else {
            "gamma_tape_log_prob_then_sum"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                tape.clear();
                let a = tape.var(2.5);
                let r = tape.var(1.5);
                let v = tape.tensor(&xg);
                let d = ok(Gamma::new(a, r));
                let lp = ok(if hoisted {
                    d.log_prob_sum(v)
                } else {
                    d.log_prob(v).map(|t| t.sum())
                });
                lp.backward();
                black_box((lp.value(), a.grad(), r.grad()))
            })
        });
    }
    // The split of the tape figure: the leaf copy alone, then the copy plus the forward pass.
    g.bench_function("tape_leaf_copy_only", |b| {
        b.iter(|| {
            tape.clear();
            let v = tape.tensor(&x);
            black_box(v.numel())
        })
    });
    g.bench_function("tape_forward_only", |b| {
        b.iter(|| {
            tape.clear();
            black_box(normal_lp(&tape, &x).0.value())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
