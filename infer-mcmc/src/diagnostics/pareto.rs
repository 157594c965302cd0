//! The Pareto k̂ tail diagnostic of MCMC draws (Vehtari, Simpson, Gelman, Yao & Gabry 2024):
//! the shape of a generalized Pareto distribution fitted to each tail, which tells how many
//! moments the draws' distribution has: 1/k̂ of them are finite. A mean has a Monte Carlo
//! standard error only when k̂ < 1/2 (finite variance); a standard deviation's error (the
//! variance of x²) only when k̂ < 1/4 (finite fourth moment).

use ndarray::ArrayView2;

use super::DiagnosticsError;
use super::chains::Chains;
use super::ess;
use super::quantile::sorted;

/// Grid points beyond √n in the fit's quadrature (Zhang & Stephens 2009: 30 + ⌊√n⌋).
const MIN_GRID_POINTS: usize = 30;
/// Scale of the prior on θ in the fit's grid (Zhang & Stephens 2009).
const PRIOR_THETA: f64 = 3.0;
/// Prior weight and location of the weakly informative prior that shrinks k̂ toward 1/2
/// (Vehtari et al. 2024, appendix C): k̂ ← (n k̂ + 10 · ½) / (n + 10).
const PRIOR_K_WEIGHT: f64 = 10.0;

/// The fit of a generalized Pareto distribution to positive exceedances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpdFit {
    /// Shape k (shrunk by the weakly informative prior).
    pub k: f64,
    /// Scale σ.
    pub sigma: f64,
}

/// Fits a generalized Pareto distribution to `x`, positive exceedances over a threshold sorted
/// ascending, by the quadrature estimator of Zhang & Stephens (2009): a grid of θ = −k/σ
/// around the sample's scale, each weighted by its profile likelihood; k from the posterior
/// mean of θ; then k shrunk toward ½ as in Vehtari et al. (2024).
///
/// # Examples
///
/// ```
/// use infer_mcmc::diagnostics::gpd_fit;
///
/// // Exceedances of a Pareto tail with k = 1/2: x = (1 − u)^(−k) − 1 on a grid of u.
/// let x: Vec<f64> = (1..=400).map(|i| (1.0 - i as f64 / 401.0).powf(-0.5) - 1.0).collect();
/// let fit = gpd_fit(&x)?;
/// assert!((fit.k - 0.5).abs() < 0.05);
/// # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// [`DiagnosticsError::TooFewDraws`] for fewer than 5 values;
/// [`DiagnosticsError::NonFinite`] for a value that is not finite (its index as `draw`);
/// [`DiagnosticsError::Constant`] when the values are all equal or not positive and
/// ascending.
///
/// # References
///
/// - Zhang, J. & Stephens, M. A. (2009). A new and efficient estimation method for the
///   generalized Pareto distribution. *Technometrics* 51(3), 316–325.
/// - Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
///   importance sampling. *JMLR* 25(72), 1–58.
pub fn gpd_fit(x: &[f64]) -> Result<GpdFit, DiagnosticsError> {
    let n = x.len();
    if n < 5 {
        return Err(DiagnosticsError::TooFewDraws { draws: n });
    }
    if let Some((i, &v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(DiagnosticsError::NonFinite {
            chain: 0,
            draw: i,
            value: v,
        });
    }
    let max = x[n - 1];
    // the first quartile: the grid's scale
    let quartile = x[((n as f64) / 4.0 + 0.5).floor() as usize - 1];
    if !(x[0] >= 0.0 && quartile > 0.0 && max > 0.0) || x.windows(2).any(|w| w[1] < w[0]) {
        return Err(DiagnosticsError::Constant);
    }
    let nf = n as f64;
    let m = MIN_GRID_POINTS + nf.sqrt().floor() as usize;
    let mean_log1p = |theta: f64| x.iter().map(|&v| (-theta * v).ln_1p()).sum::<f64>() / nf;
    let thetas: Vec<f64> = (1..=m)
        .map(|j| 1.0 / max + (1.0 - (m as f64 / (j as f64 - 0.5)).sqrt()) / PRIOR_THETA / quartile)
        .collect();
    // profile log-likelihood n (ln(−θ/k) − k − 1) with k = mean ln(1 − θx)
    let loglik: Vec<f64> = thetas
        .iter()
        .map(|&t| {
            let k = mean_log1p(t);
            nf * ((-t / k).ln() - k - 1.0)
        })
        .collect();
    let top = loglik.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = loglik.iter().map(|&l| (l - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    let theta: f64 = thetas.iter().zip(&weights).map(|(t, w)| t * w).sum::<f64>() / total;
    let k = mean_log1p(theta);
    let sigma = -k / theta;
    let k = (nf * k + PRIOR_K_WEIGHT * 0.5) / (nf + PRIOR_K_WEIGHT);
    if !(k.is_finite() && sigma.is_finite()) {
        return Err(DiagnosticsError::Constant);
    }
    Ok(GpdFit { k, sigma })
}

/// The number of draws in each tail for `n` draws with relative efficiency `r_eff`:
/// ⌈3 √(n / r_eff)⌉ above 225 draws, n/5 otherwise (Vehtari et al. 2024, appendix H), at
/// most half the draws.
fn tail_length(n: usize, r_eff: f64) -> usize {
    let m = if n > 225 {
        (3.0 * (n as f64 / r_eff).sqrt()).ceil() as usize
    } else {
        n / 5
    };
    m.min(n / 2)
}

/// The Pareto k̂ of the draws (chains × draws): the larger of the generalized Pareto shapes
/// fitted to the upper and to the lower tail, each tail's largest M = ⌈3 √(S / r_eff)⌉ draws
/// as exceedances over the next draw (S draws, r_eff = tail ESS / S), as the R package
/// `posterior`'s `pareto_khat(tail = "both")` defines it. 1/k̂ moments are finite: the
/// Monte Carlo error of a mean is trustworthy for k̂ < ½, that of a variance or standard
/// deviation for k̂ < ¼. A tail whose M draws are all equal has no shape and is left out.
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::diagnostics::pareto_khat;
///
/// // Deterministic "draws" in a fixed shuffled order: logistic quantiles (exponential tails,
/// // every moment finite) and Cauchy quantiles (k = 1: not even a mean).
/// let p = |c: usize, i: usize| (((c * 1000 + i) * 2_654_435_761) % 4000) as f64 / 4000.0 + 1.25e-4;
/// let logistic = Array2::from_shape_fn((4, 1000), |(c, i)| (p(c, i) / (1.0 - p(c, i))).ln());
/// let cauchy = Array2::from_shape_fn((4, 1000), |(c, i)| (std::f64::consts::PI * (p(c, i) - 0.5)).tan());
/// assert!(pareto_khat(logistic.view())? < 0.25);
/// assert!(pareto_khat(cauchy.view())? > 0.7);
/// # Ok::<(), infer_mcmc::diagnostics::DiagnosticsError>(())
/// ```
///
/// # Errors
///
/// As [`ess_tail`](super::ess_tail) for the draws; [`DiagnosticsError::Constant`] when
/// both tails are constant; [`DiagnosticsError::TooFewDraws`] for fewer than 10 draws in all.
///
/// # References
///
/// Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
/// importance sampling. *JMLR* 25(72), 1–58 (sections 3.2 and appendix H).
pub fn pareto_khat(draws: ArrayView2<'_, f64>) -> Result<f64, DiagnosticsError> {
    let chains = Chains::from_view(draws)?;
    let all = sorted(chains.values());
    let n = all.len();
    let r_eff = ess::tail(&chains, &all) / n as f64;
    let m = tail_length(n, r_eff).max(5);
    if 2 * m > n {
        return Err(DiagnosticsError::TooFewDraws { draws: n });
    }
    let upper: Vec<f64> = all[n - m..].iter().map(|&v| v - all[n - m - 1]).collect();
    let lower: Vec<f64> = all[..m].iter().rev().map(|&v| all[m] - v).collect();
    let fit = |x: &[f64]| match gpd_fit(x) {
        Ok(f) => Ok(Some(f.k)),
        Err(DiagnosticsError::Constant) => Ok(None),
        Err(e) => Err(e),
    };
    match (fit(&upper)?, fit(&lower)?) {
        (Some(a), Some(b)) => Ok(a.max(b)),
        (Some(a), None) | (None, Some(a)) => Ok(a),
        (None, None) => Err(DiagnosticsError::Constant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exceedances of a deterministic tail, shape `k`: (1 − u)^(−k) − 1 / k on a grid of u.
    fn tail(n: usize, k: f64) -> Vec<f64> {
        (1..=n)
            .map(|i| ((1.0 - i as f64 / (n + 1) as f64).powf(-k) - 1.0) / k)
            .collect()
    }

    /// Golden values from ArviZ 0.23.4's `arviz.stats.stats._gpdfit` (the same estimator and
    /// prior), computed with
    /// `python -c "import numpy as np; from arviz.stats.stats import _gpdfit;
    /// n=200; u=np.arange(1,n+1)/(n+1); print(_gpdfit(((1-u)**-k-1)/k))"` for k = 0.2, 0.7.
    #[test]
    fn gpd_fit_matches_arviz() {
        for (k, want_k, want_sigma) in [
            (0.2, 0.188_688_941_243_135_57, 1.010_958_622_209_319_6),
            (0.7, 0.650_210_675_824_601_1, 1.020_225_940_508_076_2),
        ] {
            let f = gpd_fit(&tail(200, k)).unwrap();
            assert!((f.k - want_k).abs() < 1e-12, "k {k}: {} vs {want_k}", f.k);
            assert!(
                (f.sigma - want_sigma).abs() < 1e-12,
                "k {k}: σ {} vs {want_sigma}",
                f.sigma
            );
        }
    }

    /// Golden values of the whole recipe (r_eff from ArviZ's tail ESS, M = 180 tail draws of
    /// 4000, `_gpdfit` on each tail's exceedances, the larger k̂), computed in Python with
    /// ArviZ 0.23.4 on the same deterministic draws: p = ((1000c + i)·2654435761 mod 4000)/4000
    /// + 1/8000, then the logistic, Cauchy and √|Cauchy| (k = ½) quantiles of p.
    #[test]
    fn pareto_khat_matches_the_recipe_in_arviz_terms() {
        let p =
            |c: usize, i: usize| ((c * 1000 + i) * 2_654_435_761 % 4000) as f64 / 4000.0 + 1.25e-4;
        fn cauchy(q: f64) -> f64 {
            (std::f64::consts::PI * (q - 0.5)).tan()
        }
        type Quantile = fn(f64) -> f64;
        let cases: [(Quantile, f64); 3] = [
            (|q| (q / (1.0 - q)).ln(), 0.023_852_812_952_428_797),
            (cauchy, 0.959_639_014_631_984_4),
            (
                |q| cauchy(q).signum() * cauchy(q).abs().sqrt(),
                0.495_766_125_237_634_4,
            ),
        ];
        for (f, want) in cases {
            let x = ndarray::Array2::from_shape_fn((4, 1000), |(c, i)| f(p(c, i)));
            let k = pareto_khat(x.view()).unwrap();
            assert!((k - want).abs() < 1e-9, "{k} vs {want}");
        }
        let constant = ndarray::Array2::from_elem((4, 1000), 2.5);
        assert!(pareto_khat(constant.view()).is_err());
    }

    #[test]
    fn gpd_fit_rejects_bad_input() {
        assert!(matches!(
            gpd_fit(&[1.0, 2.0]),
            Err(DiagnosticsError::TooFewDraws { draws: 2 })
        ));
        assert!(matches!(
            gpd_fit(&[0.0; 10]),
            Err(DiagnosticsError::Constant)
        ));
        assert!(matches!(
            gpd_fit(&[1.0, 2.0, 3.0, f64::NAN, 5.0]),
            Err(DiagnosticsError::NonFinite { draw: 3, .. })
        ));
    }
}
