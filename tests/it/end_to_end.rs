//! The facade's re-exports work together.

use infer::prelude::*;

/// Maximum-likelihood fit of a Normal's mean and log-scale to data with Adam, through the
/// facade's prelude.
#[test]
fn fit_normal_by_maximum_likelihood() {
    let data =
        ndarray::Array1::from_iter((0..200).map(|i| 2.0 + ((i * 37) % 101) as f64 / 50.0 - 1.0));
    let n = data.len() as f64;
    let mean = data.sum() / n;
    let sd = (data.mapv(|x| (x - mean).powi(2)).sum() / n).sqrt();
    let mut store = ParamStore::new();
    let mu = store.add("mu", ndarray::arr0(0.0)).unwrap();
    let log_s = store.add("log_s", ndarray::arr0(0.0)).unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut tape = Tape::new();
    for _ in 0..3000 {
        tape.clear();
        let p = store.bind(&tape);
        let x = tape.constant(&data);
        let s = p[log_s].exp();
        let z = (x - p[mu]) / s;
        let nll = (z.square() * 0.5).sum() + p[log_s].sum() * n;
        nll.backward();
        store.zero_grads();
        store.accumulate_grads(&p).unwrap();
        adam.step(&mut store).unwrap();
    }
    assert!((store.value(mu)[[]] - mean).abs() < 1e-4);
    assert!((store.value(log_s)[[]].exp() - sd).abs() < 1e-4);
}
