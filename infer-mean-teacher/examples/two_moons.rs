//! Semi-supervised two moons: supervised-only training vs mean teacher (Tarvainen & Valpola
//! 2017) over 5 seeds, 20 labelled points, 2000 unlabelled, 1000 test points, a 2-32-32-2 tanh
//! MLP trained with Adam and Gaussian input noise as augmentation.
//!
//! Run: `cargo run --release -p infer-mean-teacher --example two_moons`
//! Settings can be overridden as `key=value` arguments (steps, lr, batch, noise, consistency,
//! rampup, alpha, alpha_late, lr_rampdown, kl, moon_noise, seeds, first_seed, labels), e.g. `-- steps=1000 consistency=20`.

#[path = "common/moons.rs"]
mod moons;

use moons::{Moons, TrainConfig, mean_sd, train};
use std::error::Error;
use std::time::Instant;

fn main() -> Result<(), Box<dyn Error>> {
    let mut cfg = TrainConfig {
        steps: 2000,
        lr: 0.01,
        unlabelled_batch: 100,
        input_noise: 0.15,
        consistency: 10.0,
        rampup: 600,
        alpha_max: 0.99,
        alpha_max_late: 0.99,
        lr_rampdown: true,
        kl: false,
    };
    let mut moon_noise = 0.2;
    let mut seeds = 5u64;
    let mut first_seed = 0u64;
    let mut labels = 20usize;
    for arg in std::env::args().skip(1) {
        let (k, v) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {arg:?}"))?;
        match k {
            "steps" => cfg.steps = v.parse()?,
            "lr" => cfg.lr = v.parse()?,
            "batch" => cfg.unlabelled_batch = v.parse()?,
            "noise" => cfg.input_noise = v.parse()?,
            "consistency" => cfg.consistency = v.parse()?,
            "rampup" => cfg.rampup = v.parse()?,
            "alpha" => cfg.alpha_max = v.parse()?,
            "alpha_late" => cfg.alpha_max_late = v.parse()?,
            "lr_rampdown" => cfg.lr_rampdown = v.parse()?,
            "kl" => cfg.kl = v.parse()?,
            "moon_noise" => moon_noise = v.parse()?,
            "seeds" => seeds = v.parse()?,
            "first_seed" => first_seed = v.parse()?,
            "labels" => labels = v.parse()?,
            _ => return Err(format!("unknown setting {k:?}").into()),
        }
    }
    let supervised = TrainConfig {
        consistency: 0.0,
        ..cfg
    };
    let plain = TrainConfig {
        input_noise: 0.0,
        ..supervised
    };
    println!(
        "two moons (noise sd {moon_noise}): {labels} labelled, 2000 unlabelled, 1000 test points"
    );
    println!("{cfg:?}");
    println!();
    println!(
        "| seed | supervised, no augmentation | supervised + input noise | mean teacher: student | mean teacher: teacher |"
    );
    println!("|---|---|---|---|---|");
    let start = Instant::now();
    let mut cols: [Vec<f64>; 4] = Default::default();
    for seed in first_seed..first_seed + seeds {
        let data = Moons::generate(labels, 2000, 1000, moon_noise, 1000 + seed);
        let a = train(&data, &plain, seed)?;
        let b = train(&data, &supervised, seed)?;
        let c = train(&data, &cfg, seed)?;
        let row = [a.student, b.student, c.student, c.teacher].map(|x| 100.0 * x);
        println!(
            "| {seed} | {:.1}% | {:.1}% | {:.1}% | {:.1}% |",
            row[0], row[1], row[2], row[3]
        );
        for (col, x) in cols.iter_mut().zip(row) {
            col.push(x);
        }
    }
    let fmt = |xs: &[f64]| {
        let (m, sd) = mean_sd(xs);
        format!("{m:.1} ± {sd:.1}%")
    };
    println!(
        "| mean ± sd | {} | {} | {} | {} |",
        fmt(&cols[0]),
        fmt(&cols[1]),
        fmt(&cols[2]),
        fmt(&cols[3])
    );
    let mean = |i: usize| mean_sd(&cols[i]).0;
    println!();
    println!(
        "mean teacher (teacher) vs supervised + the same input noise: {:+.1} percentage points",
        mean(3) - mean(1)
    );
    println!(
        "mean teacher (teacher) vs supervised without augmentation: {:+.1} percentage points",
        mean(3) - mean(0)
    );
    println!("({:.1} s)", start.elapsed().as_secs_f64());
    Ok(())
}
