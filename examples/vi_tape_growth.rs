//! What forgetting `tape.clear()` costs, and the step helper that makes it impossible.
//!
//! The same VI fit of a logistic regression (N = 200, three coefficients, a mean-field
//! Normal guide with positive scales, Adam) is run for 4000 steps twice: as a hand-written
//! loop that binds the parameters to one tape every step and never clears it, and through
//! `infer_loss::Svi`, which clears and reuses its tape. Every backward pass walks the whole
//! recording, so the first loop's steps grow slower with the recording's length. The
//! example prints the mean time per step over the ten steps up to steps 10, 100, 1000 and
//! 4000 of each, and the tape's size at the end. A debug build also prints the tape's
//! one-time warning.
//!
//! Run: `cargo run --release --example vi_tape_growth`

use infer::ad::optim::{Adam, AdamConfig, Optimizer};
use infer::ad::{ParamConstraint, ParamId, ParamStore, Tape};
use infer::loss::Svi;
use ndarray::Array1;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::error::Error;
use std::time::Instant;

#[path = "common/logistic.rs"]
mod logistic;

use logistic::{D, data, loss};

const N: usize = 200;
const STEPS: usize = 4000;
const WINDOW: usize = 10;

fn guide() -> Result<(ParamStore, ParamId, ParamId), Box<dyn Error>> {
    let mut store = ParamStore::new();
    let loc = store.add("loc", Array1::zeros(D))?;
    let scale = store.add_constrained(
        "scale",
        Array1::from_elem(D, 0.5),
        ParamConstraint::positive(),
    )?;
    Ok((store, loc, scale))
}

fn adam() -> Result<Adam, Box<dyn Error>> {
    Ok(Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    })?)
}

/// Mean time per step over windows of `WINDOW` steps ending at steps 10, 100, 1000 and
/// 4000.
fn report(name: &str, times: &[f64], tape: &Tape) {
    let windows: Vec<String> = [10, 100, 1000, STEPS]
        .iter()
        .map(|&end| {
            let w = &times[end - WINDOW..end];
            let mean = w.iter().sum::<f64>() / WINDOW as f64;
            format!("steps {}–{end}: {:.1} µs", end - WINDOW + 1, mean * 1e6)
        })
        .collect();
    println!(
        "{name}: per step {}; tape at the end: {} value slots, {} bindings since clear",
        windows.join(", "),
        tape.len(),
        tape.binds_since_clear()
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let (x, y) = data(N);

    // The hand-written loop without `tape.clear()`.
    let (mut store, loc, scale) = guide()?;
    let mut opt = adam()?;
    let mut rng = StdRng::seed_from_u64(1);
    let tape = Tape::new();
    let mut times = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        let t = Instant::now();
        let b = store.bind(&tape);
        let l = loss(&tape, b[loc], b[scale], &x, &y, &mut rng)?;
        l.backward();
        store.zero_grads();
        store.accumulate_grads(&b)?;
        opt.step(&mut store)?;
        times.push(t.elapsed().as_secs_f64());
    }
    report("forgotten tape.clear()", &times, &tape);
    let forgotten = store.to_flat();

    // The same fit through the step helper.
    let (mut store, loc, scale) = guide()?;
    let mut svi = Svi::new(adam()?);
    let mut rng = StdRng::seed_from_u64(1);
    let mut times = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        let t = Instant::now();
        svi.step(&mut store, |tape, p| {
            loss(tape, p[loc], p[scale], &x, &y, &mut rng)
        })?;
        times.push(t.elapsed().as_secs_f64());
    }
    report("Svi::step (cleared, reused)", &times, svi.tape());
    // The old recordings are dead weight only: both loops compute the same fit.
    println!(
        "same parameters after {STEPS} steps: {}",
        forgotten == store.to_flat()
    );
    Ok(())
}
