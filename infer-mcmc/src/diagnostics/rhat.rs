//! Rank-normalized split R-hat (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021).

use ndarray::ArrayView2;

use super::DiagnosticsError;
use super::chains::{Chains, mean, variance};
use super::rank::z_scale;

/// Rank-normalized split R̂: the larger of the bulk R̂ (split chains, rank-normalized) and the
/// tail R̂ (split chains folded around their median, then rank-normalized).
///
/// For `m` split chains of `n` draws with chain means `θ̄_j` and variances `s_j²`,
/// `B = n/(m−1) Σ (θ̄_j − θ̄)²`, `W = (1/m) Σ s_j²` and
/// `R̂ = √((n − 1)/n + B/(n W))`. Values above 1.01 signal that the chains have not mixed.
///
/// Behaviour at the edges follows ArviZ: with a single chain the result is `NaN` (ArviZ
/// requires two chains, although the split would give two halves); when every chain is
/// constant and equal, `W = B = 0` and the result is `NaN`; when the chains are constant
/// but differ, `W = 0 < B` and the result is `+∞`.
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::diagnostics::rhat;
///
/// // Two chains stuck in different places.
/// let draws = Array2::from_shape_fn((2, 100), |(c, i)| c as f64 * 10.0 + (i as f64).sin());
/// assert!(rhat(draws.view())? > 1.5);
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
pub fn rhat(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    Ok(rank_rhat(&chains))
}

/// R̂ of validated chains; `NaN` with fewer than two chains (as ArviZ).
pub(crate) fn rank_rhat(chains: &Chains) -> f64 {
    if chains.chains() < 2 {
        return f64::NAN;
    }
    let split = chains.split();
    from_split(&split, &z_scale(&split))
}

/// R̂ from the split chains and their rank normalization (shared with the bulk ESS).
pub(crate) fn from_split(split: &Chains, z_split: &Chains) -> f64 {
    if split.chains() < 4 {
        return f64::NAN;
    }
    let bulk = basic_rhat(z_split);
    let tail = basic_rhat(&z_scale(&split.fold()));
    // Python's `max(bulk, tail)`, as ArviZ takes it: `bulk` unless `tail` compares greater
    // (so a NaN bulk stays NaN, and an infinite bulk beats a NaN tail).
    if tail > bulk { tail } else { bulk }
}

/// The potential scale reduction factor of Gelman et al. (BDA3, eq. 11.4) of the chains as
/// given (no split, no normalization).
pub(crate) fn basic_rhat(chains: &Chains) -> f64 {
    let m = chains.chains();
    let n = chains.draws() as f64;
    let means: Vec<f64> = (0..m).map(|c| mean(chains.row(c))).collect();
    let within = (0..m).map(|c| variance(chains.row(c), 1)).sum::<f64>() / m as f64;
    let between = n * variance(&means, 1);
    ((between / within + n - 1.0) / n).sqrt()
}
