//! Monte Carlo standard error of the posterior mean.

use ndarray::ArrayView2;

use super::DiagnosticsError;
use super::chains::{Chains, variance};
use super::ess::geyer_ess;

/// Monte Carlo standard error of the mean: `sd / √ESS_mean`, with `sd` the standard deviation
/// of all draws pooled (divisor `S − 1`) and `ESS_mean` the split-chain ESS without rank
/// normalization ([`ess_mean`](super::ess_mean)).
///
/// For constant draws this is 0 (ArviZ gives the same).
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::diagnostics::mcse_mean;
///
/// let draws = Array2::from_shape_fn((2, 200), |(c, i)| ((i * 37 + c * 11) % 101) as f64);
/// let mcse = mcse_mean(draws.view())?;
/// assert!(mcse > 0.0 && mcse < 5.0);
/// # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// [`DiagnosticsError`] when the draws are empty, have fewer than 4 draws per chain or hold a
/// non-finite value.
///
/// # References
///
/// Vehtari et al. (2021), section 3.2; Geyer (1992).
pub fn mcse_mean(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    Ok(mean_error(&chains))
}

pub(crate) fn mean_error(chains: &Chains) -> f64 {
    let ess = geyer_ess(&chains.split());
    variance(chains.values(), 1).sqrt() / ess.sqrt()
}
