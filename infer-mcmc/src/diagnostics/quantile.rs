//! Empirical quantiles of pooled draws (Hyndman and Fan's type 7, the default of R, NumPy and
//! ArviZ).

use ndarray::ArrayView2;

use super::DiagnosticsError;
use super::chains::Chains;

/// The `prob` quantile of all draws of all chains pooled, by linear interpolation between
/// order statistics (Hyndman & Fan type 7): with the `S` draws sorted, `h = (S − 1) p` and
/// `q = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎)` (0-based order statistics).
///
/// # Examples
///
/// ```
/// use ndarray::array;
/// use infer_mcmc::diagnostics::quantile;
///
/// let draws = array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]];
/// assert_eq!(quantile(draws.view(), 0.5)?, 4.5);
/// # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// [`DiagnosticsError::InvalidProbability`] when `prob` is not in `[0, 1]`, and the input errors
/// of [`DiagnosticsError`] (empty, fewer than 4 draws per chain, non-finite draws).
pub fn quantile(draws: ArrayView2<'_, f64>, prob: f64) -> Result<f64, DiagnosticsError> {
    check_prob(prob)?;
    let chains = Chains::from_view(draws)?;
    Ok(sorted_quantile(&sorted(chains.values()), prob))
}

/// Several quantiles of the pooled draws at once (one sort); see [`quantile`].
///
/// # Errors
///
/// As [`quantile`], for the first invalid probability.
pub fn quantiles(draws: ArrayView2<'_, f64>, probs: &[f64]) -> Result<Vec<f64>, DiagnosticsError> {
    for &p in probs {
        check_prob(p)?;
    }
    let chains = Chains::from_view(draws)?;
    let sorted = sorted(chains.values());
    Ok(probs.iter().map(|&p| sorted_quantile(&sorted, p)).collect())
}

pub(crate) fn check_prob(prob: f64) -> Result<(), DiagnosticsError> {
    if !(0.0..=1.0).contains(&prob) {
        return Err(DiagnosticsError::InvalidProbability { prob });
    }
    Ok(())
}

pub(crate) fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// Type-7 quantile of already sorted, non-empty values. Written as SciPy's `mquantiles` with
/// `alphap = betap = 1` computes it (`(1 − γ) x₍ₖ₋₁₎ + γ x₍ₖ₎`), so that the result — and so
/// which draws lie at or below it in the tail ESS — agrees with ArviZ to the last bit.
pub(crate) fn sorted_quantile(sorted: &[f64], prob: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let aleph = n as f64 * prob + (1.0 - prob);
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn type_seven_values() {
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        // numpy.quantile(s, p)
        assert_eq!(sorted_quantile(&s, 0.0), 1.0);
        assert_eq!(sorted_quantile(&s, 1.0), 10.0);
        assert_eq!(sorted_quantile(&s, 0.5), 3.0);
        assert!((sorted_quantile(&s, 0.9) - 7.6).abs() < 1e-12);
        assert!((sorted_quantile(&s, 0.05) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_probabilities() {
        let a = array![[1.0, 2.0, 3.0, 4.0]];
        assert!(matches!(
            quantile(a.view(), f64::NAN),
            Err(DiagnosticsError::InvalidProbability { .. })
        ));
        assert!(quantiles(a.view(), &[0.5, 1.5]).is_err());
    }
}
