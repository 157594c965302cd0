//! Semi-supervised two moons with 10 labels: supervised only (with and without input noise),
//! mean teacher (Tarvainen & Valpola 2017) with input noise or the virtual adversarial
//! perturbation (Miyato et al. 2018), and VAT without a teacher, over 10 seeds. Moon noise
//! 0.1, 10 labelled points (5 per class), 1000 unlabelled and 1000 test points drawn afresh
//! for every seed; the same 2-32-32-2 tanh MLP and Adam for every method.
//!
//! Run: `cargo run --release -p infer-mean-teacher --example two_moons`
//! Settings can be overridden as `key=value` arguments (steps, lr, batch, noise, consistency,
//! rampup, alpha, xi, eps, seeds, first_seed), e.g. `-- first_seed=100 seeds=5` for tuning.

#[path = "common/moons.rs"]
mod moons;

use moons::{Method, Moons, TrainConfig, Trained, mean_sd, run, train};
use plotters::prelude::*;
use std::error::Error;
use std::time::Instant;

/// Decision regions of the trained networks (one panel each) over the data of one seed,
/// written as SVG (runs of equal class per grid row are merged, to keep the file small).
fn plot(path: &str, data: &Moons, panels: &[(&str, &Trained)]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 380)).into_drawing_area();
    root.fill(&WHITE)?;
    let (x_range, y_range) = ((-1.5, 2.5), (-1.0, 1.5));
    let (nx, ny) = (160, 100);
    let (dx, dy) = (
        (x_range.1 - x_range.0) / nx as f64,
        (y_range.1 - y_range.0) / ny as f64,
    );
    let grid = ndarray::Array2::from_shape_fn((nx * ny, 2), |(k, c)| {
        let (i, j) = (k % nx, k / nx);
        if c == 0 {
            x_range.0 + (i as f64 + 0.5) * dx
        } else {
            y_range.0 + (j as f64 + 0.5) * dy
        }
    });
    let shade = [RGBColor(198, 219, 239), RGBColor(253, 208, 162)];
    let ink = [RGBColor(33, 113, 181), RGBColor(217, 72, 1)];
    for (area, (title, t)) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        let z = t.mlp.predict(&t.weights, &grid)?;
        let class = |k: usize| usize::from(z[[k, 1]] > z[[k, 0]]);
        let mut chart = ChartBuilder::on(area)
            .caption(*title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(30)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        chart.configure_mesh().disable_mesh().draw()?;
        let mut rects = Vec::new();
        for j in 0..ny {
            let mut start = 0;
            for i in 1..=nx {
                if i == nx || class(j * nx + i) != class(j * nx + start) {
                    let (x0, y0) = (x_range.0 + start as f64 * dx, y_range.0 + j as f64 * dy);
                    let c = shade[class(j * nx + start)];
                    rects.push(Rectangle::new(
                        [(x0, y0), (x_range.0 + i as f64 * dx, y0 + dy)],
                        c.filled(),
                    ));
                    start = i;
                }
            }
        }
        chart.draw_series(rects)?;
        let unl = data.x_unl.rows().into_iter().step_by(4);
        chart.draw_series(unl.map(|r| Circle::new((r[0], r[1]), 1, BLACK.mix(0.35).filled())))?;
        let lab = data.x_lab.rows().into_iter().zip(&data.y_lab);
        chart.draw_series(lab.map(|(r, &y)| Circle::new((r[0], r[1]), 5, ink[y].filled())))?;
    }
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut cfg = TrainConfig::default();
    let (mut seeds, mut first_seed) = (10u64, 0u64);
    for arg in std::env::args().skip(1) {
        let (k, v) = arg.split_once('=').ok_or("expected key=value")?;
        match k {
            "steps" => cfg.steps = v.parse()?,
            "lr" => cfg.lr = v.parse()?,
            "batch" => cfg.batch = v.parse()?,
            "noise" => cfg.input_noise = v.parse()?,
            "consistency" => cfg.consistency = v.parse()?,
            "rampup" => cfg.rampup = v.parse()?,
            "alpha" => cfg.alpha_max = v.parse()?,
            "xi" => cfg.xi = v.parse()?,
            "eps" => cfg.eps = v.parse()?,
            "seeds" => seeds = v.parse()?,
            "first_seed" => first_seed = v.parse()?,
            _ => return Err(format!("unknown setting {k:?}").into()),
        }
    }
    println!("two moons (noise 0.1): 10 labelled, 1000 unlabelled, 1000 test points");
    println!("{cfg:?}\n");
    let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
    println!("| seed | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let start = Instant::now();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); Method::ALL.len()];
    for seed in first_seed..first_seed + seeds {
        let data = Moons::generate(10, 1000, 1000, 0.1, 1000 + seed);
        let mut row = Vec::new();
        for (col, &method) in cols.iter_mut().zip(&Method::ALL) {
            let acc = 100.0 * run(&data, method, &cfg, seed)?;
            col.push(acc);
            row.push(format!("{acc:.1}%"));
        }
        println!("| {seed} | {} |", row.join(" | "));
    }
    let stats: Vec<(f64, f64)> = cols.iter().map(|c| mean_sd(c)).collect();
    let cells: Vec<String> = stats
        .iter()
        .map(|(m, s)| format!("{m:.1} ± {s:.1}%"))
        .collect();
    println!("| mean ± sd | {} |", cells.join(" | "));
    println!("\n({:.1} s)", start.elapsed().as_secs_f64());
    let best_mt = stats[2].0.max(stats[3].0);
    let mt_method = if stats[2].0 >= stats[3].0 {
        Method::ALL[2]
    } else {
        Method::ALL[3]
    };
    let data = Moons::generate(10, 1000, 1000, 0.1, 1000 + first_seed);
    let (sup, mt) = (
        train(&data, Method::SupervisedNoise, &cfg, first_seed)?,
        train(&data, mt_method, &cfg, first_seed)?,
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/two_moons_boundaries.svg");
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/docs"))?;
    let titles = [
        format!("{} (seed {first_seed})", Method::SupervisedNoise.name()),
        format!("{} (seed {first_seed})", mt_method.name()),
    ];
    plot(
        path,
        &data,
        &[(titles[0].as_str(), &sup), (titles[1].as_str(), &mt)],
    )?;
    println!("decision boundaries written to {path}");
    println!(
        "mean teacher gain over augmented supervised: {:+.1} points",
        best_mt - stats[1].0
    );
    Ok(())
}
