//! The seed's step API in a loop: the free function `nuts_step_details` against a
//! `StepSession`, on a 10-dimensional standard normal, at the step size the seed's loop
//! adapts (dual averaging toward 0.8). Prints the gradients and the time per step of each
//! and their ratio; both make the same draws (checked).
//!
//! Run: `cargo bench -p infer-mcmc --bench seed_step`

use std::cell::Cell;
use std::time::Instant;

use infer_ad::{AdError, Bound, ParamStore, Tape, Var};
use infer_mcmc::NutsOptions;
use infer_mcmc::step::{StepSession, closure, nuts_step_details};
use infer_mcmc::{DualAveragingOptions, dual_averaging};
use rand::SeedableRng;
use rand::rngs::StdRng;

const DIM: usize = 10;
const STEPS: usize = 20_000;
const ROUNDS: usize = 5;

/// ½ |x|², counting its evaluations.
fn nll(
    count: &Cell<usize>,
) -> impl for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, AdError> + Copy {
    closure(move |_: &Tape, p: &Bound<'_>| {
        count.set(count.get() + 1);
        Ok(p.leaves()[0].square().sum() * 0.5)
    })
}

fn start() -> ParamStore {
    let mut p = ParamStore::new();
    p.add("x", ndarray::Array1::from_elem(DIM, 0.5))
        .expect("a fresh store");
    p
}

/// The step size the seed's loop adapts in 1000 iterations.
fn adapted_step_size() -> Result<f64, Box<dyn std::error::Error>> {
    let count = Cell::new(0);
    let mut session = StepSession::new(nll(&count));
    let mut params = start();
    let mut rng = StdRng::seed_from_u64(1);
    let (eps0, mut eps_bar, mut h_bar) = session.find_reasonable_epsilon(&mut params, &mut rng)?;
    let mut eps = eps0;
    for i in 1..=1000 {
        let a = session.nuts_step(eps, &mut params, NutsOptions::default(), &mut rng)?;
        (eps, eps_bar, h_bar) =
            dual_averaging(a, i, eps0, eps_bar, h_bar, DualAveragingOptions::default())?;
    }
    Ok(eps_bar)
}

/// What `STEPS` steps took.
struct Run {
    seconds: f64,
    gradients: usize,
    leapfrog: usize,
    last_draw: Vec<f64>,
}

/// `STEPS` steps with a session or with the free function.
fn run(session: bool, eps: f64) -> Result<Run, Box<dyn std::error::Error>> {
    let count = Cell::new(0);
    let f = nll(&count);
    let mut s = StepSession::new(f);
    let mut params = start();
    let mut rng = StdRng::seed_from_u64(2);
    let opts = NutsOptions::default();
    let mut leapfrog = 0;
    let t0 = Instant::now();
    for _ in 0..STEPS {
        let t = if session {
            s.nuts_step_details(eps, &mut params, opts, &mut rng)?
        } else {
            nuts_step_details(eps, &mut params, f, opts, &mut rng)?
        };
        leapfrog += t.n_leapfrog;
    }
    Ok(Run {
        seconds: t0.elapsed().as_secs_f64(),
        gradients: count.get(),
        leapfrog,
        last_draw: params.to_flat(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let eps = adapted_step_size()?;
    let (mut free_t, mut session_t) = (Vec::new(), Vec::new());
    let mut counts = None;
    for _ in 0..ROUNDS {
        let (f, s) = (run(false, eps)?, run(true, eps)?);
        assert_eq!(f.last_draw, s.last_draw, "the same draws");
        assert_eq!(f.leapfrog, s.leapfrog);
        assert_eq!(
            (f.gradients, s.gradients),
            (f.leapfrog + STEPS, s.leapfrog + 1)
        );
        free_t.push(f.seconds);
        session_t.push(s.seconds);
        counts = Some((f.gradients, s.gradients, f.leapfrog));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (tf, ts) = (median(&mut free_t), median(&mut session_t));
    let (gf, gs, lf) = counts.expect("ROUNDS > 0");
    let per = |x: usize| x as f64 / STEPS as f64;
    println!(
        "{DIM}-d standard normal, NUTS at the adapted step size {eps:.3}, {STEPS} steps, median of {ROUNDS} rounds"
    );
    println!("leapfrog steps per step: {:.3}", per(lf));
    println!(
        "free nuts_step_details: {:.3} gradients/step, {:.2} µs/step",
        per(gf),
        tf / STEPS as f64 * 1e6
    );
    println!(
        "StepSession:            {:.3} gradients/step, {:.2} µs/step",
        per(gs),
        ts / STEPS as f64 * 1e6
    );
    println!(
        "free / session: gradients {:.3}, time {:.3}",
        gf as f64 / gs as f64,
        tf / ts
    );
    Ok(())
}
