//! The seed document's `hmc_step` example as a loop: HMC with 10 leapfrog steps on three
//! parameters, with the step size adapted by dual averaging during the first half.
//!
//! Run: `cargo run --release --example hmc_loop`

use infer::ad::{AdError, Bound, ParamStore, Tape};
use infer::mcmc::step::{closure, find_reasonable_epsilon, hmc_step};
use infer::mcmc::{DualAveragingOptions, dual_averaging};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut parameters = ParamStore::new();
    let x = parameters.add("x", ndarray::arr1(&[1.0, 1.0, 1.0]))?;
    // −Σ −x²: three N(0, ½) coordinates
    let nll = closure(|_: &Tape, p: &Bound<'_>| Ok::<_, AdError>(p[x].square().sum()));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    println!(
        "one step at ε = 0.1, L = 10: acceptance {}",
        hmc_step(0.1, 10, &mut parameters, nll, &mut rng)?
    );

    let (eps0, mut eps_bar, mut h_bar) = find_reasonable_epsilon(&mut parameters, nll, &mut rng)?;
    let mut eps = eps0;
    let iterations = 4000;
    let mut sum = [0.0; 3];
    let mut sum_sq = [0.0; 3];
    let mut kept = 0.0;
    for i in 1..iterations {
        let a = hmc_step(eps, 10, &mut parameters, nll, &mut rng)?;
        if i < iterations / 2 {
            (eps, eps_bar, h_bar) =
                dual_averaging(a, i, eps0, eps_bar, h_bar, DualAveragingOptions::default())?;
        } else {
            eps = eps_bar;
            for (j, v) in parameters.value(x).iter().enumerate() {
                sum[j] += v;
                sum_sq[j] += v * v;
            }
            kept += 1.0;
        }
    }
    println!("adapted ε = {eps:.4}");
    for j in 0..3 {
        let m = sum[j] / kept;
        println!(
            "x[{j}]: mean {m:+.3} (exact 0), E[x²] {:.3} (exact 0.5)",
            sum_sq[j] / kept
        );
    }
    Ok(())
}
