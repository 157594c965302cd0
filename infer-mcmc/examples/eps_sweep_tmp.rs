use infer_mcmc::diagnostics::ess_bulk;
use infer_mcmc::models::Gauss;
use infer_mcmc::{Metric, MetricKind, Nuts, NutsOptions, Position};
use rand::SeedableRng;
fn main() {
    for eps in [0.40, 0.45, 0.50, 0.55, 0.60] {
        let mut tot = 0.0; let mut acc = 0.0;
        let seeds = 8;
        for seed in 0..seeds {
            let mut m = Gauss::new(100);
            let mut nuts = Nuts::new(Metric::identity(100, MetricKind::Diagonal), eps, NutsOptions::default()).unwrap();
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let q: Vec<f64> = (0..100).map(|i| ((i * 37 % 100) as f64 / 50.0 - 1.0)).collect();
            let mut pos = Position::new(&mut m, q).unwrap();
            for _ in 0..200 { nuts.transition(&mut m, &mut pos, &mut rng).unwrap(); }
            let mut draws = ndarray::Array2::zeros((1000, 100));
            let mut lf = 0;
            for i in 0..1000 { let t = nuts.transition(&mut m, &mut pos, &mut rng).unwrap(); lf += t.n_leapfrog; acc += t.accept_stat; for j in 0..100 { draws[[i, j]] = pos.q()[j]; } }
            let mut mn = f64::INFINITY;
            for j in 0..100 { let c = draws.column(j).insert_axis(ndarray::Axis(0)).to_owned(); mn = mn.min(ess_bulk(c.view()).unwrap()); }
            tot += mn / lf as f64;
        }
        println!("eps {eps}: ESS/grad {:.3} accept {:.3}", tot / seeds as f64, acc / (1000.0 * seeds as f64));
    }
}
