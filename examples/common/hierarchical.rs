//! The simulated data of the varying-intercept regression shared by the examples
//! `hierarchical` and `advi` (each writes the model itself).

use ndarray::Array1;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::Distribution as _;

/// Group index (0-based) and covariate of each observation, and the outcomes.
pub struct Hierarchical {
    pub j: usize,
    pub g: Vec<usize>,
    pub x: Array1<f64>,
    pub y: Array1<f64>,
}

/// J = 8 groups, N = 80 observations from μ_a = 1, σ_a = 0.8, b = 0.5, σ_y = 0.6 (fixed seed).
pub fn simulate() -> Hierarchical {
    let (j, n) = (8, 80);
    let mut rng = StdRng::seed_from_u64(20261202);
    let std = rand_distr::StandardNormal;
    let a: Vec<f64> = (0..j)
        .map(|_| {
            let z: f64 = std.sample(&mut rng);
            1.0 + 0.8 * z
        })
        .collect();
    let g: Vec<usize> = (0..n).map(|i| i % j).collect();
    let x: Vec<f64> = (0..n).map(|_| std.sample(&mut rng)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let e: f64 = std.sample(&mut rng);
            a[g[i]] + 0.5 * x[i] + 0.6 * e
        })
        .collect();
    Hierarchical {
        j,
        g,
        x: Array1::from(x),
        y: Array1::from(y),
    }
}
