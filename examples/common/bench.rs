//! What the benchmark examples `nuts_benchmark` and `adaptation_benchmark` share: the data of
//! the four benchmark models, the command-line flags and the score of a chain.

use infer::mcmc::diagnostics::ess_bulk;
use ndarray::{Array2, Axis};
use serde_json::Value;
use std::error::Error;

/// The value after the command-line argument `name` (`--seeds 5`), if any.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
}

/// The JSON file `name` of `tests/data/bench`.
pub fn data(name: &str) -> Result<Value, Box<dyn Error>> {
    let path = format!("{}/tests/data/bench/{name}", env!("CARGO_MANIFEST_DIR"));
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// The smallest bulk ESS over the parameters (columns) of one chain's draws.
pub fn min_ess_bulk(draws: &Array2<f64>) -> Result<f64, Box<dyn Error>> {
    let mut min_ess = f64::INFINITY;
    for j in 0..draws.ncols() {
        let col = draws.column(j).to_owned().insert_axis(Axis(0));
        min_ess = min_ess.min(ess_bulk(col.view())?);
    }
    Ok(min_ess)
}
