//! Quickstart: gradients on the tape and a real fit.
//!
//! Fits a Bayesian logistic regression (β ~ N(0, I), yᵢ ~ Bernoulli(logit = xᵢ·β); N = 1000,
//! D = 25, the data of `tests/data/bench/logreg.json`) by maximum a posteriori with Adam, and
//! compares the estimate with the posterior means of a long Stan run.
//!
//! Run: `cargo run --release --example quickstart`

use infer::ad::scalar::{sigmoid, softplus};
use infer::prelude::*;
use ndarray::{Array1, Array2};
use std::error::Error;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn Error>> {
    // 1. A gradient.
    let tape = Tape::new();
    let x = tape.var(0.5);
    let y = (x * x + 1.0).ln() * x.sin();
    y.backward();
    println!("d/dx [ln(x² + 1)·sin x] at x = 0.5: {:.6}", x.grad());

    // 2. A real fit.
    let root = env!("CARGO_MANIFEST_DIR");
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/tests/data/bench/logreg.json"
    ))?)?;
    let rows: Vec<Vec<f64>> = serde_json::from_value(data["x"].clone())?;
    let yv: Vec<f64> = serde_json::from_value(data["y"].clone())?;
    let (n, d) = (rows.len(), rows[0].len());
    let xm = Arc::new(Array2::from_shape_vec(
        (n, d),
        rows.into_iter().flatten().collect(),
    )?);

    let mut store = ParamStore::new();
    let beta = store.add("beta", Array1::<f64>::zeros(d))?;
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::default()
    })?;
    let mut tape = Tape::new();
    let mut last = 0.0;
    for step in 0..1500 {
        tape.clear();
        let p = store.bind(&tape);
        let b = p[beta];
        let eta = tape.data_matvec(&xm, b)?;
        // log likelihood as one fused node, then the N(0, I) prior
        let ll = tape.fused_sum([eta], |i, [e]| {
            (yv[i] * e - softplus(e), [yv[i] - sigmoid(e)])
        })?;
        let neg_log_post = -(ll - 0.5 * b.square().sum());
        neg_log_post.backward();
        store.zero_grads();
        store.accumulate_grads(&p);
        adam.step(&mut store);
        last = neg_log_post.value();
        if step % 500 == 0 {
            println!("step {step:>4}: −log posterior = {last:.4}");
        }
    }
    println!("final −log posterior = {last:.4}");

    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/tests/data/bench/reference_posteriors.json"
    ))?)?;
    println!("\n{:<9} {:>10} {:>16}", "param", "MAP", "Stan post. mean");
    let est = store.value(beta);
    for j in 0..5 {
        let name = format!("beta[{}]", j + 1);
        let stan = reference["logreg"][&name]["mean"]
            .as_f64()
            .unwrap_or(f64::NAN);
        println!("{name:<9} {:>10.4} {stan:>16.4}", est[j]);
    }
    Ok(())
}
