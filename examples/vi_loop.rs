//! The seed's variational-inference training loop, in Rust.
//!
//! K Cauchy(0, 1) priors, K approximations q_i = Normal(params[2i], params[2i+1]) (the raw
//! parameter is the scale, as in the seed), values drawn with `rsample`, `vi_loss`, backward,
//! one Adam step; the tape is cleared and reused between steps. Then the same model with the
//! K q's vectorized into one Normal with K-element loc and scale tensors, and the speed of
//! both layouts with K = 100.
//!
//! Run: `cargo run --release --example vi_loop`

use infer::ad::optim::{Adam, AdamConfig, Optimizer};
use infer::ad::{ParamStore, Tape};
use infer::dist::{Cauchy, Distribution, Normal, Reparameterizable};
use infer::loss::vi_loss;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::error::Error;
use std::time::Instant;

/// Runs `steps` steps of the seed's loop with `k` latent scalars; returns the parameters
/// and the last loss.
fn seed_loop(k: usize, steps: usize, lr: f64) -> Result<(Vec<f64>, f64), Box<dyn Error>> {
    let mut store = ParamStore::new();
    let params: Vec<_> = (0..2 * k)
        .map(|i| store.add(format!("param{i}"), ndarray::arr1(&[1.0])))
        .collect::<Result<_, _>>()?;
    let mut opt = Adam::new(AdamConfig {
        lr,
        ..AdamConfig::default()
    })?;
    let mut rng = StdRng::seed_from_u64(0);
    let observed = vec![false; k];
    let mut tape = Tape::new();
    let mut last = f64::NAN;
    for _ in 0..steps {
        tape.clear();
        let bound = store.bind(&tape);
        let prior = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
        let q_dists = (0..k)
            .map(|i| Normal::new(bound[params[2 * i]], bound[params[2 * i + 1]]))
            .collect::<Result<Vec<_>, _>>()?;
        let values = q_dists
            .iter()
            .map(|q| q.rsample(&mut rng))
            .collect::<Result<Vec<_>, _>>()?;
        let p_dists: Vec<&dyn Distribution> = vec![&prior; k];
        let q_refs: Vec<&dyn Distribution> = q_dists.iter().map(|q| q as _).collect();
        let loss = vi_loss(&p_dists, &q_refs, &values, &observed, 1.0)?;
        last = loss.value();
        loss.backward();
        store.zero_grads();
        store.accumulate_grads(&bound)?;
        opt.step(&mut store)?;
    }
    Ok((store.to_flat(), last))
}

/// The same model with one K-element Normal q.
fn batched_loop(k: usize, steps: usize, lr: f64) -> Result<(Vec<f64>, f64), Box<dyn Error>> {
    let mut store = ParamStore::new();
    let loc = store.add("loc", ndarray::Array1::from_elem(k, 1.0))?;
    let scale = store.add("scale", ndarray::Array1::from_elem(k, 1.0))?;
    let mut opt = Adam::new(AdamConfig {
        lr,
        ..AdamConfig::default()
    })?;
    let mut rng = StdRng::seed_from_u64(0);
    let mut tape = Tape::new();
    let mut last = f64::NAN;
    for _ in 0..steps {
        tape.clear();
        let bound = store.bind(&tape);
        let prior = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
        let q = Normal::new(bound[loc], bound[scale])?;
        let x = q.rsample(&mut rng)?;
        let loss = vi_loss(&[&prior], &[&q], &[x], &[false], 1.0)?;
        last = loss.value();
        loss.backward();
        store.zero_grads();
        store.accumulate_grads(&bound)?;
        opt.step(&mut store)?;
    }
    Ok((store.to_flat(), last))
}

fn main() -> Result<(), Box<dyn Error>> {
    // The seed's example: K = 5, two iterations, Adam's default learning rate.
    let (params, loss) = seed_loop(5, 2, 1e-3)?;
    println!("seed example (K = 5, 2 steps): loss {loss:.4}, params {params:.4?}");

    // Trained for longer: each q approaches the Normal closest to Cauchy(0, 1) in
    // KL(q ‖ p): loc 0, scale ≈ 1.63.
    let (params, _) = seed_loop(5, 5000, 0.01)?;
    let locs: Vec<f64> = params.iter().step_by(2).copied().collect();
    let scales: Vec<f64> = params.iter().skip(1).step_by(2).copied().collect();
    println!("after 5000 steps: locs {locs:.2?}, scales {scales:.2?}");

    // Speed with K = 100 latent scalars: wall-clock steps/s, and steps per second of this
    // thread's CPU time where Linux reports it (a fairer figure on a loaded machine).
    let steps = 5000;
    for (name, run) in [
        (
            "seed layout (100 scalar q's)",
            seed_loop as fn(usize, usize, f64) -> _,
        ),
        ("vectorized (one 100-element q)", batched_loop),
    ] {
        let (t, cpu) = (Instant::now(), thread_cpu_seconds());
        run(100, steps, 1e-3)?;
        let wall = t.elapsed().as_secs_f64();
        let per_cpu = match (cpu, thread_cpu_seconds()) {
            (Some(a), Some(b)) if b > a => {
                format!(", {:.0} steps per CPU-second", steps as f64 / (b - a))
            }
            _ => String::new(),
        };
        println!("{name}: {:.0} steps/s{per_cpu}", steps as f64 / wall);
    }
    Ok(())
}

/// CPU time of the calling thread in seconds (Linux: `/proc/thread-self/schedstat`).
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}
