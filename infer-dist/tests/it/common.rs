//! Shared helpers for the tests: the Kolmogorov–Smirnov statistic and its asymptotic p-value,
//! Pearson's chi-square test, a numeric cdf by quadrature of the density, a tolerance, the
//! different-tapes error, and a strategy of hostile values.

use infer_ad::AdError;
use infer_dist::DistError;
use infer_dist::special::gamma_q;
use proptest::prelude::*;

/// `a` within `tol` of `b`, relative to 1 + |b|.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Whether `r` is the typed error of handles from two tapes.
pub fn is_different_tapes<T: std::fmt::Debug>(r: Result<T, DistError>) -> bool {
    matches!(r, Err(DistError::Ad(AdError::DifferentTapes { .. })))
}

/// A value drawn mostly from `extremes`, else from [−50, 50) or any f64.
pub fn extreme_or_any(extremes: &'static [f64]) -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop::sample::select(extremes),
        1 => -50.0..50.0f64,
        1 => any::<f64>(),
    ]
}

/// The KS statistic D = sup |F_n(x) − F(x)| given the cdf values at the *sorted* draws.
pub fn ks_statistic(cdf_sorted: &[f64]) -> f64 {
    let n = cdf_sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &c) in cdf_sorted.iter().enumerate() {
        d = d.max((i as f64 + 1.0) / n - c).max(c - i as f64 / n);
    }
    d
}

/// The asymptotic p-value P(K > √n D) of the Kolmogorov distribution,
/// 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²t²} (Marsaglia, Tsang & Wang 2003 use the exact form; the
/// asymptotic one is accurate to ~1e-3 for n ≥ 1000, ample for a 1e-4 threshold).
pub fn ks_pvalue(d: f64, n: usize) -> f64 {
    let t = d * (n as f64).sqrt();
    if t < 0.2 {
        return 1.0;
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let k = k as f64;
        let term = (-2.0 * k * k * t * t).exp();
        s += if k as i64 % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// The p-value of Pearson's chi-square statistic with `df` degrees of freedom.
pub fn chi2_pvalue(stat: f64, df: usize) -> f64 {
    gamma_q(df as f64 / 2.0, stat / 2.0)
}

/// Pearson's chi-square test of integer draws against a pmf: cells with expected count < 5 are
/// pooled into a tail cell. Returns (statistic, degrees of freedom).
pub fn chi2_test(xs: &[f64], pmf: impl Fn(u64) -> f64, max_k: u64) -> (f64, usize) {
    let n = xs.len() as f64;
    let mut obs = vec![0.0; max_k as usize + 2];
    for &x in xs {
        let k = (x as u64).min(max_k + 1) as usize;
        obs[k] += 1.0;
    }
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let (mut o_acc, mut e_acc, mut p_used) = (0.0, 0.0, 0.0);
    for k in 0..=max_k {
        let p = pmf(k);
        p_used += p;
        o_acc += obs[k as usize];
        e_acc += n * p;
        if e_acc >= 5.0 {
            cells.push((o_acc, e_acc));
            o_acc = 0.0;
            e_acc = 0.0;
        }
    }
    // tail: everything beyond max_k plus any leftover
    o_acc += obs[max_k as usize + 1];
    e_acc += n * (1.0 - p_used).max(0.0);
    if e_acc >= 5.0 || cells.is_empty() {
        cells.push((o_acc, e_acc));
    } else if let Some(last) = cells.last_mut() {
        last.0 += o_acc;
        last.1 += e_acc;
    }
    let stat = cells.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    (stat, cells.len().saturating_sub(1).max(1))
}

/// A numeric cdf: ∫_{lo}^{x} exp(logpdf) by composite Gauss–Legendre over a fine grid,
/// tabulated once on [lo, hi] and interpolated linearly.
pub struct NumericCdf {
    lo: f64,
    step: f64,
    table: Vec<f64>,
}

impl NumericCdf {
    /// Tabulates the cdf of the density `exp(logpdf)` on [lo, hi] with `cells` cells;
    /// `logpdf` is evaluated on all quadrature nodes at once.
    pub fn new(logpdf: impl Fn(&[f64]) -> Vec<f64>, lo: f64, hi: f64, cells: usize) -> Self {
        // 5-point Gauss–Legendre nodes and weights on [-1, 1]
        const NODES: [f64; 5] = [
            0.0,
            -0.538_469_310_105_683_1,
            0.538_469_310_105_683_1,
            -0.906_179_845_938_664,
            0.906_179_845_938_664,
        ];
        const WEIGHTS: [f64; 5] = [
            0.568_888_888_888_888_9,
            0.478_628_670_499_366_5,
            0.478_628_670_499_366_5,
            0.236_926_885_056_189_1,
            0.236_926_885_056_189_1,
        ];
        let step = (hi - lo) / cells as f64;
        let mut nodes = Vec::with_capacity(cells * 5);
        for c in 0..cells {
            let mid = lo + (c as f64 + 0.5) * step;
            nodes.extend(NODES.iter().map(|t| mid + 0.5 * step * t));
        }
        let lp = logpdf(&nodes);
        let mut table = Vec::with_capacity(cells + 1);
        let mut acc = 0.0;
        table.push(0.0);
        for c in 0..cells {
            let mut s = 0.0;
            for (k, w) in WEIGHTS.iter().enumerate() {
                let v = lp[c * 5 + k].exp();
                if v.is_finite() {
                    s += w * v;
                }
            }
            acc += 0.5 * step * s;
            table.push(acc);
        }
        NumericCdf { lo, step, table }
    }

    /// The cdf at x (clamped to the tabulated range).
    pub fn cdf(&self, x: f64) -> f64 {
        let t = (x - self.lo) / self.step;
        if t <= 0.0 {
            return 0.0;
        }
        let i = t.floor() as usize;
        if i + 1 >= self.table.len() {
            return *self.table.last().unwrap_or(&1.0);
        }
        let f = t - i as f64;
        self.table[i] * (1.0 - f) + self.table[i + 1] * f
    }
}
