//! Reference models with hand-written exact gradients, used by the tests and benchmarks:
//! the four benchmark posteriors (Stan's figures for them are in BENCHMARKS.md).
//!
//! The models take their data as arrays; nothing is read from disk at run time.

mod corr_gauss;
mod eight_schools;
mod gauss;
mod logreg;

pub use corr_gauss::CorrGauss;
pub use eight_schools::EightSchools;
pub use gauss::Gauss;
pub use logreg::LogReg;

use crate::error::McmcError;

/// The rows of a matrix, each `width` long, one after the other (row-major).
///
/// # Errors
/// [`McmcError::DimensionMismatch`] named `name` for a row of another length.
fn flatten_rows(
    rows: &[Vec<f64>],
    width: usize,
    name: &'static str,
) -> Result<Vec<f64>, McmcError> {
    let mut flat = Vec::with_capacity(rows.len() * width);
    for r in rows {
        if r.len() != width {
            return Err(McmcError::DimensionMismatch {
                name,
                expected: width,
                found: r.len(),
            });
        }
        flat.extend_from_slice(r);
    }
    Ok(flat)
}
