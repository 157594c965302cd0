use infer_mcmc::LogDensity;
use infer_mcmc::models::LogReg;
use serde_json::Value;
use std::time::Instant;
fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/bench/logreg.json"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows: Vec<Vec<f64>> = v["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y: Vec<f64> = v["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let mut m = LogReg::from_rows(&rows, y).unwrap();
    let beta = vec![0.1; 25];
    let mut g = vec![0.0; 25];
    let n = 20000;
    let t = Instant::now();
    let mut s = 0.0;
    for _ in 0..n {
        s += m.logp_and_grad(&beta, &mut g).unwrap();
    }
    println!(
        "{:.2} us per grad ({s})",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
}
