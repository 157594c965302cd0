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

/// Monte Carlo standard error of the posterior standard deviation, as ArviZ 0.23 computes
/// `mcse(method="sd")`: with c = (x − x̄)² over all draws, E = mean(c) (the variance),
/// Var(E) ≈ (mean(c²) − E²)/ESS(c), ESS(c) the split-chain ESS of the mean
/// ([`ess_mean`](super::ess_mean)) of c, and by the delta method
/// `mcse_sd = √(Var(E)/(4E))`.
///
/// For constant draws this is NaN in ArviZ (0/0); here an error.
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::diagnostics::mcse_sd;
///
/// let draws = Array2::from_shape_fn((2, 200), |(c, i)| ((i * 37 + c * 11) % 101) as f64);
/// let mcse = mcse_sd(draws.view())?;
/// assert!(mcse > 0.0 && mcse < 5.0);
/// # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// [`DiagnosticsError`] when the draws are empty, have fewer than 4 draws per chain, hold a
/// non-finite value, or are all equal.
///
/// # References
///
/// Kenney and Keeping (1951), p. 141 (the moments of the sample variance); ArviZ's
/// `_mcse_sd`.
pub fn mcse_sd(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    let n = chains.values().len() as f64;
    let mean = chains.values().iter().sum::<f64>() / n;
    let c2 = draws.mapv(|x| (x - mean) * (x - mean));
    let sq = Chains::from_view(c2.view())?;
    let ess = geyer_ess(&sq.split());
    let evar = sq.values().iter().sum::<f64>() / n;
    let evar2 = sq.values().iter().map(|c| c * c).sum::<f64>() / n;
    let varsd = (evar2 - evar * evar) / ess / evar / 4.0;
    if !varsd.is_finite() {
        return Err(DiagnosticsError::Constant);
    }
    Ok(varsd.sqrt())
}

#[cfg(test)]
mod sd_tests {
    use super::mcse_sd;
    use ndarray::Array2;

    /// Golden values from ArviZ 0.23.4, `az.mcse(x, method="sd")`, on the same deterministic
    /// draws (4 chains × 100): a smooth oscillation plus a scrambled sequence, and a periodic
    /// skewed one. Tolerance 1e-12 relative (floating-point summation order).
    #[test]
    fn matches_arviz() {
        let x = Array2::from_shape_fn((4, 100), |(c, i)| {
            let (i, cf) = (i as f64, c as f64);
            (i * 0.37 + cf).sin()
                + 0.3 * (i * i * 0.011 + 2.0 * cf).cos()
                + ((i as u64 * 7919 + c as u64 * 104_729) % 997) as f64 / 997.0
        });
        let y = Array2::from_shape_fn((4, 100), |(c, i)| {
            ((((i * 31 + c * 17) % 13) as f64) / 13.0).powi(3)
        });
        for (draws, want) in [(x, 0.029403578677269546), (y, 0.006134002181593407)] {
            let got = mcse_sd(draws.view()).unwrap();
            assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        }
    }

    #[test]
    fn constant_draws_are_an_error() {
        assert!(mcse_sd(Array2::from_elem((2, 10), 1.5).view()).is_err());
    }
}
