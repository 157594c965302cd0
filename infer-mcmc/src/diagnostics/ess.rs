//! Effective sample size by Geyer's initial monotone sequence over split chains, and its bulk
//! (rank-normalized) and tail (quantile-indicator) variants (Vehtari et al. 2021).

use ndarray::ArrayView2;

use super::DiagnosticsError;
use super::autocov::{mean_autocovariance, mean_autocovariance_prefix};
use super::chains::{Chains, mean, variance};
use super::quantile::{check_prob, sorted, sorted_quantile};
use super::rank::z_scale;

/// Bulk effective sample size: the ESS of the rank-normalized split chains. It measures how
/// well the centre of the distribution is explored, and is defined even without finite moments.
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::diagnostics::ess_bulk;
///
/// // Four chains of an AR(1) process with strong positive autocorrelation.
/// let mut draws = Array2::zeros((4, 1000));
/// let mut state = 0.1_f64;
/// for c in 0..4 {
///     let mut x = 0.0;
///     for i in 0..1000 {
///         state = (state * 3.7 * (1.0 - state)).clamp(1e-9, 1.0 - 1e-9); // a chaotic "noise"
///         x = 0.9 * x + (state - 0.5);
///         draws[[c, i]] = x;
///     }
/// }
/// let ess = ess_bulk(draws.view())?;
/// assert!(ess > 10.0 && ess < 4000.0);
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
/// Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021).
/// Rank-normalization, folding, and localization: an improved R̂ for assessing convergence of
/// MCMC. *Bayesian Analysis* 16(2), 667–718.
pub fn ess_bulk(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    Ok(bulk(&chains))
}

/// Tail effective sample size: the smaller of the ESS of the 5% and the 95% quantiles, each the
/// ESS of the split chains of the indicator `θ ≤ q` (with `q` the pooled type-7 quantile).
///
/// # Errors
///
/// As [`ess_bulk`].
///
/// # References
///
/// Vehtari et al. (2021), section 4.3.
pub fn ess_tail(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    let sorted = sorted(chains.values());
    Ok(tail(&chains, &sorted))
}

/// Effective sample size of the `prob` quantile: the ESS of the split chains of the indicator
/// `θ ≤ q_prob`.
///
/// # Errors
///
/// [`DiagnosticsError::InvalidProbability`] when `prob` is not in `[0, 1]`, and the errors of
/// [`ess_bulk`].
pub fn ess_quantile(draws: ArrayView2<'_, f64>, prob: f64) -> Result<f64, DiagnosticsError> {
    check_prob(prob)?;
    let chains = Chains::from_view(draws)?;
    let sorted = sorted(chains.values());
    Ok(quantile_ess(&chains, &sorted, prob))
}

/// The classic effective sample size of the mean: the ESS of the split chains, without rank
/// normalization (it assumes a finite variance). This is the ESS used by
/// [`mcse_mean`](super::mcse_mean).
///
/// # Errors
///
/// As [`ess_bulk`].
pub fn ess_mean(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    Ok(geyer_ess(&chains.split()))
}

pub(crate) fn bulk(chains: &Chains) -> f64 {
    geyer_ess(&z_scale(&chains.split()))
}

pub(crate) fn tail(chains: &Chains, sorted: &[f64]) -> f64 {
    let low = quantile_ess(chains, sorted, 0.05);
    let high = quantile_ess(chains, sorted, 0.95);
    // Python's `min(low, high)`, as ArviZ takes it.
    if high < low { high } else { low }
}

pub(crate) fn quantile_ess(chains: &Chains, sorted: &[f64], prob: f64) -> f64 {
    let q = sorted_quantile(sorted, prob);
    let indicator = chains.map(|x| if x <= q { 1.0 } else { 0.0 });
    geyer_ess(&indicator.split())
}

/// Lags computed by direct summation before switching to the FFT.
const DIRECT_LAGS: usize = 16;

/// Effective sample size of chains as given (no split, no normalization), with the
/// autocorrelations combined across chains as Stan and ArviZ do and truncated by Geyer's
/// initial monotone sequence estimator.
///
/// With `m` chains of `n` draws, mean within-chain autocovariance `γ̂_t` (biased, FFT),
/// `W = γ̂₀ n/(n−1)` and `var⁺ = W (n−1)/n + B/n` (`B/n` the variance of the chain means, 0
/// for one chain), the autocorrelation estimate is `ρ̂_t = 1 − (W − γ̂_t)/var⁺`. Sums of
/// adjacent pairs `P_k = ρ̂_{2k} + ρ̂_{2k+1}` are kept while positive (Geyer's initial
/// positive sequence) and then made non-increasing (initial monotone sequence);
/// `τ̂ = −1 + 2 Σ ρ̂_t` (plus the last positive even term) is bounded below by `1/log₁₀(mn)`,
/// and `ESS = mn / τ̂`. A sample whose range is below `f64` resolution (1e-15) has
/// `ESS = mn`, as in ArviZ.
///
/// # References
///
/// Geyer, C. J. (1992). Practical Markov chain Monte Carlo. *Statistical Science* 7(4),
/// 473–483. Vehtari et al. (2021), section 3.2.
pub(crate) fn geyer_ess(chains: &Chains) -> f64 {
    let m = chains.chains();
    let n = chains.draws();
    let size = (m * n) as f64;
    let values = chains.values();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    // NumPy's `finfo(float).resolution`.
    if hi - lo < 1e-15 {
        return size;
    }
    if n < 2 {
        return f64::NAN;
    }
    // Lags are summed directly while Geyer's sequence is short, by FFT once it runs longer.
    let mut acov = mean_autocovariance_prefix(chains, DIRECT_LAGS);
    let nf = n as f64;
    let mean_var = acov[0] * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        let means: Vec<f64> = (0..m).map(|c| mean(chains.row(c))).collect();
        var_plus += variance(&means, 1);
    }
    let rho = |acov: &[f64], t: usize| 1.0 - (mean_var - acov[t]) / var_plus;

    let mut rho_hat = vec![0.0; n];
    let mut even = 1.0;
    let mut odd = rho(&acov, 1);
    rho_hat[0] = even;
    rho_hat[1] = odd;

    // Geyer's initial positive sequence.
    let mut t = 1;
    while t + 3 < n && even + odd > 0.0 {
        if t + 2 >= acov.len() {
            acov = mean_autocovariance(chains);
        }
        even = rho(&acov, t + 1);
        odd = rho(&acov, t + 2);
        if even + odd >= 0.0 {
            rho_hat[t + 1] = even;
            rho_hat[t + 2] = odd;
        }
        t += 2;
    }
    // `max_t = t − 2` may be −1 (no pair accepted); work with `max_t + 1 = t − 1 ≥ 0`.
    let last = t - 1;
    if even > 0.0 {
        rho_hat[last] = even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1;
    while t + 3 <= last {
        let previous = rho_hat[t - 1] + rho_hat[t];
        if rho_hat[t + 1] + rho_hat[t + 2] > previous {
            rho_hat[t + 1] = previous / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let tau = -1.0 + 2.0 * rho_hat[..last].iter().sum::<f64>() + rho_hat[last];
    let tau = tau.max(1.0 / size.log10());
    if rho_hat.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_draws_have_ess_near_their_count() {
        // A deterministic low-discrepancy sequence: nearly independent, near-uniform.
        let data: Vec<f64> = (0..4000)
            .map(|i| (i as f64 * 0.618_033_988_749_895).fract())
            .collect();
        let chains = Chains::from_parts(data, 4, 1000);
        let ess = bulk(&chains);
        assert!(ess > 1000.0, "{ess}");
    }

    #[test]
    fn constant_draws_have_full_ess() {
        let chains = Chains::from_parts(vec![2.5; 40], 2, 20);
        assert_eq!(geyer_ess(&chains.split()), 40.0);
    }
}
