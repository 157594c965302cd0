//! The seed document's NUTS loop, in Rust: three parameters, a closure returning the negative
//! log density, `find_reasonable_epsilon`, then `nuts_step` with `dual_averaging` during the
//! first half.
//!
//! Run: `cargo run --release --example nuts_loop`

use infer::ad::{AdError, Bound, ParamStore, Tape};
use infer::mcmc::seed::{NutsStepOptions, closure, find_reasonable_epsilon, nuts_step};
use infer::mcmc::{DualAveragingOptions, dual_averaging};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut parameters = ParamStore::new();
    let ids = (0..3)
        .map(|i| parameters.add(format!("p{i}"), ndarray::arr1(&[1.0])))
        .collect::<Result<Vec<_>, _>>()?;
    // closure(): −Σ −p², the negative log density of three N(0, ½) coordinates
    let nll = closure(|_: &Tape, p: &Bound<'_>| {
        let mut total = p[ids[0]].square().sum();
        for &id in &ids[1..] {
            total = total + p[id].square().sum();
        }
        Ok::<_, AdError>(total)
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (initial_epsilon, mut epsilon_bar, mut h_bar) =
        find_reasonable_epsilon(&mut parameters, nll, &mut rng)?;
    println!("initial epsilon: {initial_epsilon}");
    let mut epsilon = initial_epsilon;
    let iterations = 2000;
    let mut param_value = Vec::with_capacity(iterations);
    for i in 1..iterations {
        let accept_prob = nuts_step(
            epsilon,
            &mut parameters,
            nll,
            NutsStepOptions::default(),
            &mut rng,
        )?;
        if i < iterations / 2 {
            (epsilon, epsilon_bar, h_bar) = dual_averaging(
                accept_prob,
                i,
                initial_epsilon,
                epsilon_bar,
                h_bar,
                DualAveragingOptions::default(),
            );
        } else {
            epsilon = epsilon_bar;
            param_value.push(parameters.to_flat());
        }
    }
    println!("adapted epsilon: {epsilon:.4}");
    let n = param_value.len() as f64;
    for j in 0..3 {
        let mean = param_value.iter().map(|v| v[j]).sum::<f64>() / n;
        let var = param_value
            .iter()
            .map(|v| (v[j] - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        println!("p{j}: mean {mean:+.3} (exact 0), variance {var:.3} (exact 0.5)");
    }
    Ok(())
}
