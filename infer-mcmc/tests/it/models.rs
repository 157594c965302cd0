//! The benchmark models' hand-written gradients against central differences.

use infer_mcmc::LogDensity;
use infer_mcmc::models::Gauss;

use crate::common::{corr_gauss, eight_schools, logreg};

/// Max relative error between the gradient and a central difference with step h.
fn check_grad<M: LogDensity>(model: &mut M, x: &[f64]) -> f64 {
    let n = model.dim();
    let mut g = vec![0.0; n];
    let mut scratch = vec![0.0; n];
    model.logp_and_grad(x, &mut g).unwrap();
    let mut worst = 0.0f64;
    for i in 0..n {
        let h = 1e-5 * x[i].abs().max(1.0);
        let mut xp = x.to_vec();
        xp[i] += h;
        let fp = model.logp_and_grad(&xp, &mut scratch).unwrap();
        xp[i] -= 2.0 * h;
        let fm = model.logp_and_grad(&xp, &mut scratch).unwrap();
        let fd = (fp - fm) / (2.0 * h);
        worst = worst.max((fd - g[i]).abs() / g[i].abs().max(1.0));
    }
    worst
}

fn point(n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| scale * ((i * 7 % 11) as f64 / 5.5 - 1.0))
        .collect()
}

#[test]
fn gradients_match_central_differences() {
    // Central differences with h = 1e-5 have truncation error O(h²·f''') and rounding error
    // O(ε·|f|/h): ≈ 1e-6 relative for these log densities; bound 1e-5.
    assert!(check_grad(&mut Gauss::new(7), &point(7, 1.3)) < 1e-5);
    assert!(check_grad(&mut corr_gauss(), &point(50, 2.0)) < 1e-5);
    assert!(check_grad(&mut logreg(), &point(25, 0.3)) < 1e-5);
    let mut es = eight_schools();
    for x in [point(10, 1.0), point(10, -2.0), point(10, 0.1)] {
        assert!(check_grad(&mut es, &x) < 1e-5);
    }
}

#[test]
fn logreg_log_density_matches_direct_formula() {
    // The product-of-factors trick and the vectorized exp against log1p/exp of std, at a point
    // where |η| spans [0, 30]: agreement to 1e-10 absolute on a log density of magnitude 1e3.
    let mut m = logreg();
    let data = crate::common::read_json("bench/logreg.json");
    let rows: Vec<Vec<f64>> = data["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y: Vec<f64> = data["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for scale in [0.0, 0.5, 3.0] {
        let beta = point(25, scale);
        let mut g = vec![0.0; 25];
        let lp = m.logp_and_grad(&beta, &mut g).unwrap();
        let mut want = -0.5 * beta.iter().map(|b| b * b).sum::<f64>();
        let mut want_g: Vec<f64> = beta.iter().map(|b| -b).collect();
        for (row, &yi) in rows.iter().zip(&y) {
            let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let softplus = eta.max(0.0) + (-eta.abs()).exp().ln_1p();
            want += yi * eta - softplus;
            let sigma = 1.0 / (1.0 + (-eta).exp());
            for j in 0..25 {
                want_g[j] += (yi - sigma) * row[j];
            }
        }
        assert!(
            (lp - want).abs() < 1e-10 * want.abs().max(1.0),
            "{lp} vs {want}"
        );
        for j in 0..25 {
            assert!((g[j] - want_g[j]).abs() < 1e-10 * want_g[j].abs().max(1.0));
        }
    }
}
