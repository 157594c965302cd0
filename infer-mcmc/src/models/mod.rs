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
