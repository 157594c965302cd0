//! Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao & Gabry 2024): the
//! largest importance ratios are replaced by the expected order statistics of a generalized
//! Pareto distribution fitted to them, and the fit's shape k̂ says how far the estimates can
//! be trusted (k̂ < 0.7: usable; Vehtari et al. 2024, section 3).

use super::{ApproxError, check};
use crate::diagnostics::{DiagnosticsError, gpd_fit};

/// Pareto-smoothed log weights and the Pareto k̂ of their tail.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::psis;
///
/// // log ratios of a t₅ target to a N(0, 1) proposal on a grid of normal quantiles
/// let z: Vec<f64> = (1..=1000).map(|i| {
///     let p = (i as f64 - 0.5) / 1000.0;
///     // a rough normal quantile (logistic), enough for an example
///     (p / (1.0 - p)).ln() / 1.702
/// }).collect();
/// let log_ratios: Vec<f64> = z.iter().map(|x| -3.0 * (1.0 + x * x / 5.0).ln() + 0.5 * x * x).collect();
/// let s = psis(&log_ratios, 1.0)?;
/// assert_eq!(s.log_weights.len(), 1000);
/// let total: f64 = s.log_weights.iter().map(|w| w.exp()).sum();
/// assert!((total - 1.0).abs() < 1e-12);
/// assert!(s.pareto_k > 0.0);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Psis {
    /// The smoothed log weights, normalized (log-sum-exp 0), in the input's order.
    pub log_weights: Vec<f64>,
    /// The generalized Pareto shape k̂ of the tail; +∞ when the tail has fewer than 5 draws
    /// and NaN when its draws are all equal (no fit; the weights are then not smoothed).
    pub pareto_k: f64,
    /// The number of draws in the smoothed tail.
    pub tail_len: usize,
}

/// Pareto-smoothed importance sampling of `log_ratios` (log p − log q per draw, any
/// additive constant), as ArviZ's `psislw(log_ratios, reff=r_eff)`: with S draws the tail is
/// the draws above the M+1-th largest, M = ⌈min(S/5, 3 √(S / r_eff))⌉ (Vehtari et al. 2024,
/// section 3.2 and appendix H: at most S/5, else 3 √(S/r_eff)); a generalized Pareto
/// distribution is fitted to their exceedances of that cutoff in the weight scale
/// ([`gpd_fit`]: Zhang & Stephens 2009 with the weakly informative prior on k); the tail
/// weights are replaced by the fit's quantiles at (i − ½)/M, i = 1..M, in the tail's order,
/// truncated at the largest raw weight; and the log weights are normalized. Draws with log
/// ratio −∞ (log p = −∞) get weight 0.
///
/// # Errors
///
/// [`ApproxError::InvalidSetting`] for `r_eff` not finite and > 0, no draws, a NaN or +∞
/// log ratio (named `log_ratios`, the value given) or no finite one.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::psis;
///
/// // weights u^(−0.7) on a grid of u: a Pareto tail of shape 0.7 (1/0.7 moments finite)
/// let ratios: Vec<f64> = (0..500).map(|i| -0.7 * ((i as f64 + 0.5) / 500.0).ln()).collect();
/// let s = psis(&ratios, 1.0)?;
/// assert_eq!(s.tail_len, 68); // ⌈min(500 / 5, 3 √500)⌉ draws above the cutoff
/// assert!((0.5..0.9).contains(&s.pareto_k), "{}", s.pareto_k);
/// let total: f64 = s.log_weights.iter().map(|w| w.exp()).sum();
/// assert!((total - 1.0).abs() < 1e-12);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
///
/// # References
///
/// Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
/// importance sampling. *JMLR* 25(72), 1–58.
pub fn psis(log_ratios: &[f64], r_eff: f64) -> Result<Psis, ApproxError> {
    check(
        r_eff > 0.0 && r_eff.is_finite(),
        "r_eff",
        r_eff,
        "finite and > 0",
    )?;
    let n = log_ratios.len();
    check(n > 0, "log_ratios", 0.0, "at least one draw")?;
    if let Some(&bad) = log_ratios
        .iter()
        .find(|v| v.is_nan() || **v == f64::INFINITY)
    {
        return Err(ApproxError::InvalidSetting {
            name: "log_ratios",
            value: bad,
            expected: "finite or -inf (NaN and +inf are not log ratios)",
        });
    }
    let max = log_ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    check(
        max.is_finite(),
        "log_ratios",
        max,
        "at least one finite log ratio",
    )?;
    let mut x: Vec<f64> = log_ratios.iter().map(|v| v - max).collect();
    let nf = n as f64;
    let m = (nf / 5.0).min(3.0 * (nf / r_eff).sqrt()).ceil() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    // ArviZ's cutoff: the (M+1)-th largest, at least the log of the smallest normal f64
    let cutoff_min = f64::MIN_POSITIVE.ln();
    let cutoff = x[order[n.saturating_sub(m + 1)]].max(cutoff_min);
    let exp_cutoff = cutoff.exp();
    // the tail in ascending order
    let tail: Vec<usize> = order.iter().copied().filter(|&i| x[i] > cutoff).collect();
    let tail_len = tail.len();
    let mut pareto_k = f64::INFINITY;
    if tail_len > 4 {
        let exceedances: Vec<f64> = tail.iter().map(|&i| x[i].exp() - exp_cutoff).collect();
        match gpd_fit(&exceedances) {
            Ok(fit) => {
                pareto_k = fit.k;
                if fit.k.is_finite() && fit.sigma > 0.0 {
                    for (j, &i) in tail.iter().enumerate() {
                        let p = (j as f64 + 0.5) / tail_len as f64;
                        let q = gpd_quantile(p, fit.k, fit.sigma);
                        // truncated at the largest raw weight, 1 (log 0)
                        x[i] = (q + exp_cutoff).ln().min(0.0);
                    }
                }
            }
            Err(DiagnosticsError::Constant) => pareto_k = f64::NAN,
            Err(e) => {
                return Err(ApproxError::InvalidSetting {
                    name: "log_ratios",
                    value: f64::NAN,
                    expected: diagnostics_reason(&e),
                });
            }
        }
    }
    let lse = log_sum_exp(&x);
    x.iter_mut().for_each(|v| *v -= lse);
    Ok(Psis {
        log_weights: x,
        pareto_k,
        tail_len,
    })
}

/// Why a tail fit failed, for the error (the fit is given finite, sorted, positive values,
/// so this is not expected).
fn diagnostics_reason(e: &DiagnosticsError) -> &'static str {
    match e {
        DiagnosticsError::TooFewDraws { .. } => "a tail of at least 5 draws",
        _ => "a tail a generalized Pareto distribution can be fitted to",
    }
}

/// The generalized Pareto quantile σ ((1 − p)^(−k) − 1) / k (σ (−ln(1 − p)) as k → 0), in
/// the stable form σ expm1(−k ln1p(−p)) / k.
fn gpd_quantile(p: f64, k: f64, sigma: f64) -> f64 {
    if k.abs() < f64::EPSILON {
        -sigma * (-p).ln_1p()
    } else {
        sigma * (-k * (-p).ln_1p()).exp_m1() / k
    }
}

/// log Σ exp(xᵢ), stable (the largest term factored out; −∞ terms contribute 0).
pub(crate) fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_stay_equal() {
        let s = psis(&[2.0; 100], 1.0).unwrap();
        for w in &s.log_weights {
            assert!((w + 100f64.ln()).abs() < 1e-12);
        }
        // every draw ties with the cutoff: no tail
        assert_eq!(s.tail_len, 0);
        assert!(s.pareto_k.is_infinite());
    }

    #[test]
    fn zero_weights_and_bad_input() {
        let mut lr: Vec<f64> = (0..50).map(|i| -(i as f64) * 0.1).collect();
        lr[3] = f64::NEG_INFINITY;
        let s = psis(&lr, 1.0).unwrap();
        assert_eq!(s.log_weights[3], f64::NEG_INFINITY);
        assert!(matches!(
            psis(&[1.0, f64::NAN], 1.0),
            Err(ApproxError::InvalidSetting {
                name: "log_ratios",
                ..
            })
        ));
        assert!(psis(&[f64::NEG_INFINITY; 3], 1.0).is_err());
        assert!(psis(&[], 1.0).is_err());
        assert!(psis(&[1.0], 0.0).is_err());
    }

    #[test]
    fn quantile_is_the_inverse_cdf() {
        // F(x) = 1 − (1 + k x / σ)^(−1/k)
        for (k, sigma) in [(0.5, 2.0), (-0.2, 1.0), (0.0, 3.0)] {
            for p in [0.1, 0.5, 0.9] {
                let x = gpd_quantile(p, k, sigma);
                let cdf = if k == 0.0 {
                    1.0 - (-x / sigma).exp()
                } else {
                    1.0 - (1.0 + k * x / sigma).powf(-1.0 / k)
                };
                assert!((cdf - p).abs() < 1e-12, "k {k} p {p}");
            }
        }
    }
}
